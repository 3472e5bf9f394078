package dev.churn.features;

import java.io.Serializable;
import java.util.List;

/**
 * How churn is recognised in a log: a cancellation event (of the given types), or {@code inactivityDays}
 * days without any activity. Stored with the warehouse so every later stage uses the same definition.
 *
 * <p>Under inactivity churn, {@code everActive} widens the population a snapshot scores from customers active in
 * the last N days to every customer with any activity on or before the date (the "will they buy again?" question
 * of a retailer's log, and the population of docs/domain.md's CDNOW yardstick).
 */
public record ChurnDefinition(List<String> cancellationEventTypes, int inactivityDays, boolean everActive)
    implements Serializable {

  public static ChurnDefinition cancellation(List<String> types) {
    if (types.isEmpty()) {
      throw new IllegalArgumentException("churn by cancellation needs at least one event type");
    }
    return new ChurnDefinition(List.copyOf(types), 0, false);
  }

  public static ChurnDefinition inactivity(int days) {
    return new ChurnDefinition(List.of(), days, false);
  }

  /** Inactivity churn scored over every customer seen so far, lapsed or not. */
  public static ChurnDefinition inactivityEverActive(int days) {
    return new ChurnDefinition(List.of(), days, true);
  }

  public boolean byInactivity() {
    return inactivityDays > 0;
  }

  /**
   * Text form stored in the warehouse settings: {@code cancellation:a,b}, {@code inactivity:90}, or
   * {@code inactivity:90:ever_active}.
   */
  public String encode() {
    return byInactivity() ? "inactivity:" + inactivityDays + (everActive ? ":" + EVER_ACTIVE : "")
        : "cancellation:" + String.join(",", cancellationEventTypes);
  }

  /** The population name of {@link #everActive}, in mappings and in the stored form. */
  public static final String EVER_ACTIVE = "ever_active";

  public static ChurnDefinition decode(String text) {
    if (text.startsWith("inactivity:")) {
      String[] parts = text.substring("inactivity:".length()).split(":");
      int days = Integer.parseInt(parts[0]);
      return parts.length > 1 && parts[1].equals(EVER_ACTIVE) ? inactivityEverActive(days) : inactivity(days);
    }
    if (text.startsWith("cancellation:")) {
      return cancellation(List.of(text.substring("cancellation:".length()).split(",")));
    }
    throw new IllegalArgumentException("unknown churn definition '" + text + "'");
  }

  @Override
  public String toString() {
    return byInactivity() ? "no activity for " + inactivityDays + " days" + (everActive ? " (population: every "
        + "customer seen so far)" : "") : "cancellation event " + cancellationEventTypes;
  }
}
