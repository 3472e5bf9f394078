package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleFunction;
import java.util.function.Function;
import org.apache.spark.sql.Column;

/**
 * The feature catalogue: every feature of the snapshot declared once, with what it means, its window and unit,
 * how it is computed, whether the model takes its logarithm, and how a reason names it. The snapshot
 * ({@link FeatureBuilder}), the model's preprocessing, the reasons and {@code docs/features.md} all read it.
 */
public final class FeatureCatalogue {
  private FeatureCatalogue() {}

  public static final int[] WINDOWS = {7, 30, 90};
  /** The customer's days since signup on the as-of date. */
  public static final String TENURE_DAYS = "tenure_days";

  /** Signals counted over 7, 30 and 90 days. */
  private static final DailyActivity.Signal[] WINDOWED = {
      DailyActivity.Signal.EVENTS, DailyActivity.Signal.LOGINS, DailyActivity.Signal.SESSIONS,
      DailyActivity.Signal.FEATURE_USES, DailyActivity.Signal.EMAIL_OPENS, DailyActivity.Signal.EMAIL_CLICKS,
      DailyActivity.Signal.UNSUBSCRIBES, DailyActivity.Signal.TICKETS, DailyActivity.Signal.TICKETS_HIGH,
      DailyActivity.Signal.PAYMENTS, DailyActivity.Signal.PAYMENT_AMOUNT, DailyActivity.Signal.FAILED_PAYMENTS,
      DailyActivity.Signal.UPGRADES, DailyActivity.Signal.DOWNGRADES};
  /** Signals whose trend is reported. */
  private static final String[] TRENDED = {"events", "logins", "sessions", "feature_uses", "active_days"};

  /**
   * What a feature's expressions see: the as-of date, each rollup row's age in days on it, and whether the row's
   * day had any event. Aggregates are over {@code daily_activity} rows; values over the aggregated row joined
   * to the customer's row.
   */
  public record Inputs(Column asOf, Column age, Column activeDay) {}

  /**
   * One feature. {@code aggregates} are the per-customer aggregations over the lookback it needs (by column name;
   * features may share one), each of a kind {@link WindowState} can keep running from night to night;
   * {@code value} computes it from them and the customer's row; a categorical feature's value is text. {@code logScaled}: the model sees log(1 + x), as for non-negative counts, days and money whose
   * effect on the odds is far from linear. {@code phrase} words a numeric value in a reason.
   */
  public record Feature(String name, String meaning, String window, String unit, boolean categorical,
      boolean logScaled, Map<String, WindowState.Aggregate> aggregates, Function<Inputs, Column> value,
      DoubleFunction<String> phrase) {}

  private static final List<Feature> FEATURES = build();

  /** Every feature of the snapshot, in column order after customer_id and as_of_date. */
  public static List<Feature> features() {
    return FEATURES;
  }

  /** The features by name: a reason looks its feature up several times per scored row. */
  private static final Map<String, Feature> BY_NAME = FEATURES.stream()
      .collect(java.util.stream.Collectors.toUnmodifiableMap(Feature::name, f -> f));

  /** The feature called {@code name}, or null. */
  public static Feature named(String name) {
    return name == null ? null : BY_NAME.get(name);
  }

  /** The numeric features (the model's inputs besides the categoricals). */
  public static List<String> numeric() {
    return FEATURES.stream().filter(f -> !f.categorical()).map(Feature::name).toList();
  }

  public static List<String> categorical() {
    return FEATURES.stream().filter(Feature::categorical).map(Feature::name).toList();
  }

  /** A short hash of the catalogue (names, units, windows): changes whenever the feature code's output does. */
  public static String featureSet() {
    StringBuilder sb = new StringBuilder();
    FEATURES.forEach(f -> sb.append(f.name()).append('|').append(f.unit()).append('|').append(f.window()).append(';'));
    return Integer.toHexString(sb.toString().hashCode());
  }

  /**
   * How the model takes {@code feature} when its window reaches back further than the history a snapshot sees
   * (a young warehouse). Windows of 90 days or less are full on every training snapshot (training starts 90 days
   * into the log) and taken as they are; so are values of the as-of date, the recencies (a silence that began
   * before the log reads as long as the log on a young one: no scaling can tell how long it really is) and
   * silence_vs_rhythm (a ratio: its active days over all history are divided by the days since signup, which a
   * young log shortens on both sides only for customers inside it). Counts over 365 days and over all history are
   * scaled to their full window for customers older than the log ({@code ObservedHistory} in the models module),
   * except two declared here: successful payments over 365 days are left out while the log is younger (monthly
   * billing puts them on a lattice of a few counts, which scaling moves from one point to the next as the log
   * grows; the amount paid and the 90-day count carry them), and newsletter unsubscribes are taken as they are
   * (one lasting event, which scaling would multiply).
   */
  public static FeatureFacts.ShortHistory shortHistory(String feature) {
    int reach = FeatureFacts.reach(feature);
    if (feature.equals(DailyActivity.Signal.PAYMENTS.column() + "_365d")) {
      return FeatureFacts.ShortHistory.LEFT_OUT;
    }
    if (reach <= WINDOWS[WINDOWS.length - 1] || feature.equals(DailyActivity.Signal.UNSUBSCRIBES.column() + "_365d")
        || !feature.equals(FeatureFacts.measure(feature) + (reach == Integer.MAX_VALUE ? "_all" : "_" + reach + "d"))) {
      return FeatureFacts.ShortHistory.AS_IS;
    }
    return FeatureFacts.ShortHistory.SCALED;
  }

  /** A feature's {@link #shortHistory} in the catalogue's words. */
  static String shortHistoryWords(String feature) {
    return switch (shortHistory(feature)) {
      case AS_IS -> "as is";
      case SCALED -> "scaled to its full window for a customer older than the log (x window / days of it the log "
          + "covers; " + (FeatureFacts.reach(feature) == Integer.MAX_VALUE ? "the window is the customer's life"
          : "the window is the customer's life when shorter") + ")";
      case LEFT_OUT -> "left out while the log is younger than the window";
    };
  }

  /** The catalogue as a Markdown table (docs/features.md is generated from this). */
  public static String markdown() {
    StringBuilder sb = new StringBuilder("# Feature catalogue\n\nGenerated from `FeatureCatalogue.features()`; "
        + "do not edit by hand. Every feature is computed from `daily_activity` and `customers` dated on or before "
        + "the as-of date. *Short history*: how the model takes the feature when its window reaches back further "
        + "than the log a snapshot sees (a warehouse younger than the window; the feature table keeps the value as "
        + "counted).\n\n| feature | meaning | window | unit | short history |\n|---|---|---|---|---|\n");
    for (Feature f : FEATURES) {
      sb.append("| `").append(f.name()).append("` | ").append(f.meaning()).append(" | ").append(f.window())
          .append(" | ").append(f.unit()).append(" | ").append(shortHistoryWords(f.name())).append(" |\n");
    }
    return sb.toString();
  }

  private static List<Feature> build() {
    List<Feature> out = new ArrayList<>();
    for (int w : WINDOWS) {
      for (DailyActivity.Signal s : WINDOWED) {
        String name = s.column() + "_" + w + "d";
        out.add(aggregate(name, s.meaning() + " in the last " + w + " days", w + " days",
            s.money() ? "currency" : "count", signalSum(s, 0, w)));
      }
      if (w >= 30) { // refunds are rare: a week says nothing
        for (DailyActivity.Signal s : new DailyActivity.Signal[] {DailyActivity.Signal.REFUNDS,
            DailyActivity.Signal.REFUND_AMOUNT}) {
          out.add(aggregate(s.column() + "_" + w + "d", s.meaning() + " in the last " + w + " days", w + " days",
              s.money() ? "currency" : "count", signalSum(s, 0, w)));
        }
      }
      out.add(aggregate("active_days_" + w + "d", "days with any event in the last " + w + " days", w + " days",
          "days", activeDays(0, w)));
      String seats = "seats_max_" + w + "d";
      String last = " in the last " + w + " days";
      out.add(new Feature(seats, "most distinct active users (seats) on one day" + last, w + " days", "users", false,
          true, Map.of(seats, new WindowState.Max(DailyActivity.Signal.ACTIVE_USERS.column(), w)),
          in -> coalesce(col(seats), lit(0)), x -> x == 0 ? "no active user" + last
              : String.format(Locale.ROOT, "at most %.0f active user%s (seats) a day", x, x == 1 ? "" : "s") + last));
    }
    for (String t : TRENDED) {
      out.add(trend(t, 7, 28, "the previous 4 weeks", t.replace('_', ' ') + ": daily rate of the last 7 days "
          + "against the 28 before, as (recent - prior) / (recent + prior); -1 = stopped, 0 = flat or none, +1 = new"));
      out.add(trend(t, 30, 60, "the previous 2 months", t.replace('_', ' ') + ": daily rate of the last 30 days "
          + "against the 60 before, same scale"));
    }
    out.add(aggregate("active_days_365d", "days with any event in the last 365 days", "365 days", "days",
        activeDays(0, FeatureBuilder.LOOKBACK_DAYS)));
    for (DailyActivity.Signal s : new DailyActivity.Signal[] {DailyActivity.Signal.PAYMENTS,
        DailyActivity.Signal.PAYMENT_AMOUNT, DailyActivity.Signal.UNSUBSCRIBES}) {
      String meaning = switch (s) {
        case PAYMENTS -> "successful payments in the last 365 days";
        case PAYMENT_AMOUNT -> "amount paid in the last 365 days";
        default -> "newsletter unsubscribes in the last 365 days (an unsubscribe is lasting)";
      };
      out.add(aggregate(s.column() + "_365d", meaning, "365 days",
          s.money() ? "currency" : "count", signalSum(s, 0, FeatureBuilder.LOOKBACK_DAYS)));
    }
    for (String[] r : new String[][] {{"login", "logins"}, {"activity", "events"}, {"ticket", "tickets"},
        {"payment", "payments"}}) {
      out.add(recency(r[0], r[1]));
    }
    addRhythm(out);
    addAccountFeatures(out);
    return List.copyOf(out);
  }

  /**
   * Frequency over all history and silence against the customer's own rhythm: on purchase logs (CDNOW) they
   * lift the test ROC-AUC over recency, windowed counts and tenure (see docs/model.md, "Measured quality").
   */
  private static void addRhythm(List<Feature> out) {
    WindowState.Sum everActive = activeDays(0, WindowState.ALL_HISTORY);
    out.add(aggregate("active_days_all", "days with any event over all history", "all history", "days", everActive));
    Map<String, WindowState.Aggregate> aggs = new LinkedHashMap<>();
    aggs.put("active_days_all", everActive);
    aggs.put("_last_activity", recencyOf("activity", "events"));
    out.add(new Feature("silence_vs_rhythm", "days since the last activity divided by the customer's usual spacing "
        + "of active days (days since signup / active days over all history); 0 with no activity yet",
        "all history", "ratio", false, true, aggs, in -> {
          Column tenure = greatest(datediff(in.asOf(), col(Customers.SIGNUP_DATE)), lit(1));
          Column silence = coalesce(datediff(in.asOf(), col("_last_activity")), lit(0));
          return silence.multiply(coalesce(col("active_days_all"), lit(0))).divide(tenure);
        }, x -> String.format(Locale.ROOT, "silent for %.1f times its usual gap between active days", x)));
  }

  /** Plan, money, trial and tenure from the customer's row and the rollup's plan changes; then the categories. */
  private static void addAccountFeatures(List<Feature> out) {
    Map<String, WindowState.Aggregate> mrrNow = Map.of("_mrr_now", new WindowState.LastChange(DailyActivity.MRR_END, 0));
    Column signupMrr = coalesce(col(Customers.SIGNUP_MRR), lit(0.0));
    Map<String, WindowState.Aggregate> mrrThen = new LinkedHashMap<>(mrrNow);
    mrrThen.put("_mrr_90", new WindowState.LastChange(DailyActivity.MRR_END, 90));
    out.add(new Feature("mrr", "monthly recurring revenue on the as-of date", "as of", "currency", false, true, mrrNow,
        in -> coalesce(col("_mrr_now"), signupMrr), x -> String.format(Locale.ROOT, "MRR %.0f", x)));
    out.add(new Feature("mrr_change_90d", "MRR on the as-of date minus MRR 90 days earlier", "90 days", "currency",
        false, false, mrrThen, in -> coalesce(col("_mrr_now"), signupMrr).minus(coalesce(col("_mrr_90"), signupMrr)),
        x -> String.format(Locale.ROOT, "MRR %s by %.0f in 90 days", x < 0 ? "down" : "up", Math.abs(x))));
    Column trialEnd = col(Customers.TRIAL_END_DATE);
    out.add(new Feature("in_trial", "1 when a free trial is running on the as-of date", "as of", "flag", false, false,
        Map.of(), in -> when(trialEnd.gt(in.asOf()), lit(1)).otherwise(lit(0)),
        x -> x > 0 ? "in a free trial" : "not in a trial"));
    out.add(new Feature("days_to_trial_end", "days until the trial ends (0 when not in trial)", "as of", "days", false,
        false, Map.of(), in -> when(trialEnd.gt(in.asOf()), datediff(trialEnd, in.asOf())).otherwise(lit(0)),
        x -> "trial ends in " + days(x)));
    out.add(new Feature(TENURE_DAYS, "days since signup", "as of", "days", false, true, Map.of(),
        in -> datediff(in.asOf(), col(Customers.SIGNUP_DATE)), x -> "customer for " + days(x)));
    out.add(category("plan", "plan on the as-of date", "as of",
        Map.of("_plan_now", new WindowState.LastChange(DailyActivity.PLAN_END, 0)),
        in -> coalesce(col("_plan_now"), col(Customers.SIGNUP_PLAN), lit(Customers.UNKNOWN))));
    out.add(category("segment", "customer segment (company size)", "static", Map.of(),
        in -> coalesce(col(Customers.SEGMENT), lit(Customers.UNKNOWN))));
    out.add(category("industry", "customer industry", "static", Map.of(),
        in -> coalesce(col(Customers.INDUSTRY), lit(Customers.UNKNOWN))));
    // Computed from other features once they exist (FeatureBuilder.lifecycleStage).
    out.add(category(FeatureBuilder.LIFECYCLE_STAGE, "new / active / declining / lapsed, see the lifecycle rules",
        "as of", Map.of(), in -> lit(null).cast("string")));
  }

  /** A count, sum or maximum over the window; 0 for a customer with no row in it. */
  private static Feature aggregate(String name, String meaning, String window, String unit,
      WindowState.Aggregate agg) {
    return new Feature(name, meaning, window, unit, false, true, Map.of(name, agg),
        in -> coalesce(col(name), lit(0)), x -> {
          String value = x == Math.rint(x) && !unit.equals("currency") ? String.format(Locale.ROOT, "%.0f", x)
              : String.format(Locale.ROOT, "%.2f", x);
          return unit.equals("currency") ? meaning + ": " + value
              : value + " " + (x == 1 ? singular(meaning) : meaning);
        });
  }

  /** A number of days as a reason says it, whole: "1 day", "0 days", "12 days". */
  public static String days(double x) {
    String n = String.format(Locale.ROOT, "%.0f", x);
    return n + (n.equals("1") || n.equals("-1") ? " day" : " days");
  }

  /** A count's meaning for one: its first plural word singular ("1 support ticket in the last 30 days"). */
  public static String singular(String meaning) {
    return meaning.replaceFirst("\\b(\\w+)s\\b", "$1");
  }

  /** (recent - prior) / (recent + prior) on daily rates over the last {@code recent} and the {@code prior} before. */
  private static Feature trend(String signal, int recent, int prior, String span, String meaning) {
    String r = "_" + signal + "_r" + recent;
    String p = "_" + signal + "_p" + prior;
    Map<String, WindowState.Aggregate> aggs = new LinkedHashMap<>();
    aggs.put(r, signal.equals("active_days") ? activeDays(0, recent) : signalSum(signal, 0, recent));
    aggs.put(p, signal.equals("active_days") ? activeDays(recent, recent + prior) : signalSum(signal, recent, recent + prior));
    String words = signal.replace('_', ' ');
    return new Feature(signal + "_trend_" + recent + "v" + prior, meaning, recent + " vs " + prior + " days",
        "ratio in [-1, 1]", false, false, aggs, in -> {
          Column rate = coalesce(col(r), lit(0)).divide((double) recent);
          Column before = coalesce(col(p), lit(0)).divide((double) prior);
          return when(rate.plus(before).equalTo(0), lit(0.0)).otherwise(rate.minus(before).divide(rate.plus(before)));
        }, x -> {
          if (x <= -1) {
            return words + " stopped vs " + span;
          }
          if (x >= 1) {
            return words + " started vs " + span;
          }
          double change = (1 + x) / (1 - x) - 1; // rate ratio recent / prior, from (r - p) / (r + p)
          return String.format(Locale.ROOT, "%s %s %.0f%% vs %s", words, change < 0 ? "down" : "up",
              Math.abs(change) * 100, span);
        });
  }

  /** Days since the last day with {@code signal} over all history (since signup when none). */
  private static Feature recency(String what, String signal) {
    String last = "_last_" + what;
    return new Feature("days_since_last_" + what, "days since the last " + what + ", over all history (days since "
        + "signup when none yet)", "all history", "days", false, true,
        Map.of(last, recencyOf(what, signal)),
        in -> coalesce(datediff(in.asOf(), col(last)), datediff(in.asOf(), col(Customers.SIGNUP_DATE))),
        x -> "no " + what + " for " + days(x));
  }

  private static WindowState.Latest recencyOf(String what, String signal) {
    return new WindowState.Latest(what, in -> what.equals("activity") ? in.activeDay() : col(signal).gt(0));
  }

  private static Feature category(String name, String meaning, String window,
      Map<String, WindowState.Aggregate> aggs, Function<Inputs, Column> value) {
    return new Feature(name, meaning, window, "category", true, false, aggs, value, null);
  }

  /** The sum of a rollup signal over the rows {@code from} to {@code to - 1} days old (money as an exact decimal). */
  private static WindowState.Sum signalSum(DailyActivity.Signal s, int from, int to) {
    return signalSum(s.column(), from, to);
  }

  private static WindowState.Sum signalSum(String column, int from, int to) {
    return new WindowState.Sum(column, in -> col(column), from, to,
        column.equals(DailyActivity.Signal.PAYMENT_AMOUNT.column())
            || column.equals(DailyActivity.Signal.REFUND_AMOUNT.column()));
  }

  /** Days with any event among the rows {@code from} to {@code to - 1} days old. */
  private static WindowState.Sum activeDays(int from, int to) {
    return new WindowState.Sum("active_days", in -> when(in.activeDay(), lit(1)).otherwise(lit(0)), from, to, false);
  }
}
