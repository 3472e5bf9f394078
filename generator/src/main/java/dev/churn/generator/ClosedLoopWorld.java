package dev.churn.generator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The synthetic business of {@link GenerateJob} with a retention team at work, simulated in the driver so that the
 * team can act on each night's list before the days after it are simulated: {@link #contact} records a contact,
 * whose play lowers the customer's churn hazard by its {@link #TRUE_EFFECTS true effect} from the contact's day
 * on; {@link #writeEvents} writes the raw log of a span of days as the customers live it, contacts included. The
 * same customers, days and draws as {@code generate} with the same seed, start and days (at a hazard scale of 1): a
 * customer's days before its first contact are identical, and a contacted customer differs only in churning later
 * or not at all. Danger:
 * each call simulates every customer from the start (about a second per 5,000 customers and year on one core),
 * which is what keeps it exact; it is meant for demos and tests, not for a large sample.
 */
public final class ClosedLoopWorld {
  /**
   * The true effect of each play of the default playbook: the share by which a contact lowers the customer's daily
   * churn hazard from the contact on. Made up, different per play, so that a measurement that cannot tell the
   * plays apart shows it.
   */
  public static final Map<String, Double> TRUE_EFFECTS;

  static {
    Map<String, Double> effects = new LinkedHashMap<>();
    effects.put("resolve", 0.6);
    effects.put("rescue_payment", 0.7);
    effects.put("onboard", 0.5);
    effects.put("educate", 0.45);
    effects.put("re_engage", 0.5);
    effects.put("check_in", 0.3);
    TRUE_EFFECTS = Collections.unmodifiableMap(effects);
  }

  private final long seed;
  private final int customers;
  private final LocalDate start;
  private final int days;
  private final double badFraction;
  private final double hazardScale;
  private final Map<String, NavigableMap<LocalDate, Double>> contacts = new HashMap<>();

  /**
   * The business of {@code generate}'s options (its output folder is not used), every churn hazard multiplied by
   * {@code hazardScale} (1: {@code generate}'s business; more, a business that loses more customers, so that a
   * small sample holds enough churners to measure a play by).
   */
  public ClosedLoopWorld(GenerateJob.Options options, double hazardScale) {
    if (!(hazardScale > 0 && hazardScale <= 10)) {
      throw new IllegalArgumentException("the hazard scale must be in (0, 10], not " + hazardScale);
    }
    this.hazardScale = hazardScale;
    this.seed = options.seed();
    this.customers = options.customers();
    this.start = options.start();
    this.days = options.days();
    this.badFraction = options.badFraction();
  }

  /**
   * The team contacted {@code customerId} on {@code day} with {@code play}: from that day on its hazard is lowered
   * by the play's true effect (a later contact's replaces it).
   *
   * @throws IllegalArgumentException for a play with no true effect
   */
  public void contact(String customerId, LocalDate day, String play) {
    Double effect = TRUE_EFFECTS.get(play);
    if (effect == null) {
      throw new IllegalArgumentException("no true effect for play " + play);
    }
    contacts.computeIfAbsent(customerId, k -> new TreeMap<>()).put(day, effect);
  }

  /**
   * Writes the customers ({@code generate}'s CSV with its header) who signed up after {@code after} (null: from the
   * first) and by {@code through} to {@code file}; returns how many.
   */
  public long writeCustomers(Path file, LocalDate after, LocalDate through) {
    long n = 0;
    try {
      Files.createDirectories(file.getParent());
      try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
        w.write(GenerateJob.CUSTOMERS_HEADER + "\n");
        for (long i = 0; i < customers; i++) {
          SyntheticCustomer c = new SyntheticCustomer(seed, i, start, days);
          if ((after == null || c.signup.isAfter(after)) && !c.signup.isAfter(through)) {
            w.write(c.customerCsv());
            w.write('\n');
            n++;
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
    return n;
  }

  /**
   * Simulates every customer, with the contacts so far, through {@code through} and writes the raw lines filed under
   * the days after {@code after} and up to {@code through} (a late event is filed under a later day, as
   * {@code generate} files it) to {@code root/event_date=D/part-00000.jsonl}. Returns the lines written.
   */
  public long writeEvents(Path root, LocalDate after, LocalDate through) {
    Map<LocalDate, Writer> files = new TreeMap<>();
    long[] lines = {0};
    SyntheticCustomer.Sink sink = new SyntheticCustomer.Sink() {
      @Override
      public void event(LocalDate folder, String line) {
        if (folder.isAfter(after) && !folder.isAfter(through)) {
          try {
            Writer w = files.get(folder);
            if (w == null) {
              Path file = root.resolve("event_date=" + folder).resolve("part-00000.jsonl");
              Files.createDirectories(file.getParent());
              w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
              files.put(folder, w);
            }
            w.write(line);
            w.write('\n');
            lines[0]++;
          } catch (IOException e) {
            throw new UncheckedIOException("cannot write events under " + root + ": " + e.getMessage(), e);
          }
        }
      }

      @Override
      public void truth(String customerId, LocalDate d, double hazard, double engagement) {}

      @Override
      public void bad(String eventId, LocalDate folder, String reason) {}
    };
    int span = (int) Math.min(days, through.toEpochDay() - start.toEpochDay() + 1);
    try {
      for (long i = 0; i < customers; i++) {
        SyntheticCustomer c = new SyntheticCustomer(seed, i, start, days);
        c.simulate(start, span, badFraction, sink, contacts.get(c.id()), hazardScale, null);
      }
    } finally {
      for (Writer w : files.values()) {
        try {
          w.close();
        } catch (IOException e) {
          throw new UncheckedIOException("cannot write events under " + root + ": " + e.getMessage(), e);
        }
      }
    }
    return lines[0];
  }
}
