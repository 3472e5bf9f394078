package dev.churn.features;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the catalogue's features say about a customer, read from their names and windows: which measure a feature
 * counts, how far back it reaches, and when two features' values state one fact. The reasons (one fact once) and
 * drift (a window longer than the log the model learned on) use it; it follows {@link FeatureCatalogue}'s naming
 * (measure_&lt;N&gt;d, measure_all, days_since_last_&lt;what&gt;) and its window texts ("90 days", "7 vs 28 days",
 * "all history").
 */
public final class FeatureFacts {
  private FeatureFacts() {}

  /**
   * What a feature measures, without its window: {@code active_days_30d}, {@code active_days_365d} and
   * {@code active_days_all} all measure {@code active_days}. The windowed features are named measure_&lt;N&gt;d or
   * measure_all (FeatureCatalogue's build()); any other name is its own measure.
   */
  public static String measure(String feature) {
    return feature.replaceFirst("_(\\d+d|all)$", "");
  }

  /** A window in days: "90 days", or "7 vs 28 days" for a trend. */
  private static final Pattern WINDOW_SPAN = Pattern.compile("(\\d+)(?: vs (\\d+))? days");

  /**
   * How many days back from the as-of date a feature's value can reach: its window ("90 days", "7 vs 28 days": 35),
   * {@link Integer#MAX_VALUE} over all history, 0 for a value of the as-of date or a static one. A feature whose
   * reach is longer than the history a snapshot sees grows with the log, not with the customer (Drift.cause).
   */
  public static int reach(String feature) {
    FeatureCatalogue.Feature f = FeatureCatalogue.named(feature);
    if (f == null) {
      return 0;
    }
    if (f.window().equals("all history")) {
      return Integer.MAX_VALUE;
    }
    Matcher m = WINDOW_SPAN.matcher(f.window());
    return !m.matches() ? 0 : Integer.parseInt(m.group(1)) + (m.group(2) == null ? 0 : Integer.parseInt(m.group(2)));
  }

  /**
   * How the model takes a feature whose window reaches back further than the history a snapshot sees (the
   * catalogue declares it with the feature: {@link FeatureCatalogue#shortHistory}).
   */
  public enum ShortHistory {
    /** Taken as it is: a value of the as-of date, a static one, or a window every training snapshot fills. */
    AS_IS,
    /**
     * Scaled to a full window: the count times the customer's window (the feature's, or its life since signup when
     * shorter; all history: its life) over the days of it the log covers, so it does not grow with the log's age.
     */
    SCALED,
    /** Left out of a model whose earliest training snapshot saw less history than the window. */
    LEFT_OUT
  }

  /**
   * The measures a recency feature's silence empties: "no payment for 40 days" says there were no payments and no
   * amount paid in any window of 40 days or less.
   */
  private static final Map<String, List<String>> SILENCED = Map.of(
      "days_since_last_login", List.of("logins"),
      "days_since_last_activity", List.of("events", "active_days"),
      "days_since_last_ticket", List.of("tickets"),
      "days_since_last_payment", List.of("payments", "payment_amount"));

  /**
   * Whether two features' values state one fact about a customer: one measure over two windows with the same value
   * ("1 day with any event over all history" and "... in the last 365 days"), or a silence and a window within it
   * holding none ("no payment for 40 days" and "amount paid in the last 30 days: 0.00").
   */
  public static boolean sameFact(String a, String valueA, String b, String valueB) {
    FeatureCatalogue.Feature fa = FeatureCatalogue.named(a);
    FeatureCatalogue.Feature fb = FeatureCatalogue.named(b);
    if (fa == null || fb == null || fa.categorical() || fb.categorical() || valueA == null || valueB == null) {
      return false;
    }
    double x = Double.parseDouble(valueA);
    double y = Double.parseDouble(valueB);
    return measure(a).equals(measure(b)) && Double.compare(x, y) == 0 || silences(a, x, b, y) || silences(b, y, a, x);
  }

  /** Whether recency feature {@code r} at {@code days} says that {@code windowed} holds nothing ({@code value} 0). */
  private static boolean silences(String r, double days, String windowed, double value) {
    return value == 0 && reach(windowed) <= days && SILENCED.getOrDefault(r, List.of()).contains(measure(windowed));
  }
}
