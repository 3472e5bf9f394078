package dev.churn.generator;

import dev.churn.features.Events;
import dev.churn.features.RejectReason;
import java.time.LocalDate;
import java.util.List;
import java.util.SplittableRandom;

/** Writes generated events as JSON lines with the canonical field names ({@link Events}), some made bad on purpose. */
final class EventLines {
  private EventLines() {}

  /** The truth's mark of a late event: accepted by ingest, dated by its own time. */
  static final String LATE = "late";

  /** The fields of a generated event, in the order of its values array. */
  static final String[] KEYS = {Events.EVENT_ID, Events.CUSTOMER_ID, Events.EVENT_TIME, Events.EVENT_TYPE,
      Events.USER_ID, Events.AMOUNT, Events.SEVERITY, Events.PLAN, Events.MRR};
  private static final boolean[] NUMERIC = {false, false, false, false, false, true, false, false, true};

  /** The JSON line of {@code values} (null values left out, except a null customer_id, written as null). */
  static String line(String[] values) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < KEYS.length; i++) {
      if (values[i] == null && i != 1) {
        continue;
      }
      if (sb.length() > 1) {
        sb.append(',');
      }
      sb.append('"').append(KEYS[i]).append("\":");
      if (values[i] == null) {
        sb.append("null");
      } else if (NUMERIC[i]) {
        sb.append(values[i]);
      } else {
        sb.append('"').append(values[i]).append('"');
      }
    }
    return sb.append('}').toString();
  }

  /**
   * Adds the lines of event {@code e} (its id set) on day {@code d}: as it is, or, with probability
   * {@code badFraction}, made bad in one of eight ways (a late event is good but filed under a later day), with
   * the reason ingest must give it in a {@code bad} truth line.
   */
  static void emit(SyntheticCustomer.Sink out, SplittableRandom rng, LocalDate d, String[] e, double badFraction) {
    LocalDate folder = d;
    if (badFraction > 0 && rng.nextDouble() < badFraction) {
      int kind = rng.nextInt(8);
      String reason = switch (kind) {
        case 0 -> RejectReason.MALFORMED.code();
        case 1 -> RejectReason.MISSING_CUSTOMER_ID.code();
        case 2 -> RejectReason.BAD_TIMESTAMP.code();
        case 3 -> RejectReason.FUTURE_TIMESTAMP.code();
        case 4 -> RejectReason.UNKNOWN_EVENT_TYPE.code();
        case 5 -> RejectReason.NEGATIVE_AMOUNT.code();
        case 6 -> RejectReason.DUPLICATE.code();
        default -> LATE;
      };
      String[] bad = e.clone();
      switch (kind) {
        case 1 -> bad[1] = rng.nextBoolean() ? "" : null;
        case 2 -> bad[2] = rng.nextBoolean() ? "yesterday" : d + "T25:61:00Z";
        case 3 -> bad[2] = "2099" + e[2].substring(4);
        case 4 -> bad[3] = "teleport";
        case 5 -> bad[5] = "-" + (1 + rng.nextInt(500)) + ".0";
        case 7 -> folder = d.plusDays(1 + rng.nextInt(3));
        default -> { }
      }
      String text = line(bad);
      if (kind == 0) {
        text = text.substring(0, text.length() / 2);
      }
      if (kind == 6) {
        out.event(folder, line(e));
      }
      out.event(folder, text);
      out.bad(e[0], folder, reason);
      return;
    }
    out.event(folder, line(e));
  }
}
