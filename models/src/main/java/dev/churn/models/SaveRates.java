package dev.churn.models;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * The save rate the action list values a play's contact with: the assumed one ({@code --save-rate}) until the
 * play's contacts have been measured against the control group, then the measurement shrunk toward the assumed
 * rate by its uncertainty. The rule, a normal approximation of a Bayesian update: the assumed rate s0 is a prior
 * with standard deviation {@link #PRIOR_SD} (0.15: a guessed 0.25 is plausibly anywhere from about 0 to 0.55);
 * the measured rate s, pooled over every listed customer whose horizon has ended (intention to treat, all
 * segments, at least {@link #MIN_HELD_OUT} held-out churners and as many kept), has a standard deviation taken from
 * its 95 % interval (width / 3.92); the rate used is s0 + k (s - s0) with k = PRIOR_SD^2 / (PRIOR_SD^2 + sd^2), kept
 * within [0, 1]. A play without that evidence keeps s0. Dangers: a play measured as useless is valued near 0, so
 * the list stops calling its customers and its measurement stops growing; a customer listed in consecutive months
 * counts in each, so the pooled interval is narrower than the evidence (see {@link Effects}).
 */
public final class SaveRates {
  private SaveRates() {}

  /** The prior's standard deviation around the assumed save rate. */
  public static final double PRIOR_SD = 0.15;
  /** {@code save_rate_source} of a row valued with the assumed rate. */
  public static final String ASSUMED = "assumed";
  /** {@code save_rate_source} of a row valued with a measured rate (shrunk toward the assumed one). */
  public static final String MEASURED = "measured";

  /** A play's pooled measurement: the save rate and its 95 % interval. */
  public record Measured(double saveRate, double low, double high) {
    /** The standard deviation the interval implies. */
    double sd() {
      return (high - low) / (2 * Effects.Z);
    }
  }

  /** The evidence a play needs before its measurement counts: this many held-out churners, and as many kept. */
  public static final int MIN_HELD_OUT = 5;

  /**
   * Each play's save rate pooled over the measured customers of {@code effects} (intervention_effects rows with
   * segment ALL and a real play): the counts summed, then {@link Effects#saveRate}; a play whose held-out group has
   * fewer than {@link #MIN_HELD_OUT} churners or fewer than that many kept is absent (a handful of held-out
   * customers says nothing, and the normal approximation behind the rule needs counts).
   */
  public static Map<String, Measured> pooled(List<Row> effects) {
    Map<String, long[]> counts = new LinkedHashMap<>();
    for (Row r : effects) {
      String play = r.getAs("play");
      if (!"ALL".equals(r.getAs("segment")) || "ALL".equals(play)) {
        continue;
      }
      long[] c = counts.computeIfAbsent(play, p -> new long[4]);
      c[0] += r.<Long>getAs("churned_contact");
      c[1] += r.<Long>getAs("measured_contact");
      c[2] += r.<Long>getAs("churned_holdout");
      c[3] += r.<Long>getAs("measured_holdout");
    }
    Map<String, Measured> out = new LinkedHashMap<>();
    counts.forEach((play, c) -> {
      if (c[1] > 0 && c[2] >= MIN_HELD_OUT && c[3] - c[2] >= MIN_HELD_OUT) {
        double[] s = Effects.saveRate(c[0], c[1], c[2], c[3]);
        out.put(play, new Measured(s[0], s[1], s[2]));
      }
    });
    return out;
  }

  /** The rate a play's contacts are valued with: {@code assumed} shrunk toward {@code measured} (see the class). */
  public static double used(double assumed, Measured measured) {
    if (measured == null) {
      return assumed;
    }
    double sd = measured.sd();
    double k = PRIOR_SD * PRIOR_SD / (PRIOR_SD * PRIOR_SD + sd * sd);
    return Math.max(0, Math.min(1, assumed + k * (measured.saveRate() - assumed)));
  }
}
