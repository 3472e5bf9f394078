package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The engagement feature snapshot: one row per customer active on the as-of date, computed from
 * {@code daily_activity} and {@code customers} only, with no look-ahead: every input row is dated on or before
 * the as-of date, and attributes that change over time (plan, MRR) are taken from the rollup as of that date,
 * never from the customer's current values. One aggregation pass over the lookback window (conditional sums),
 * not one join per feature. The feature list is {@link #catalogue()}, from which the feature documentation is
 * generated.
 */
public final class FeatureBuilder {
  private FeatureBuilder() {}

  public static final String AS_OF_DATE = "as_of_date";
  public static final String LIFECYCLE_STAGE = "lifecycle_stage";
  /** Identifies the feature code a snapshot was built with, so stale snapshots are rebuilt, not mixed. */
  public static final String FEATURE_SET = "feature_set";
  /** Days of rollup read for recency and yearly totals; older activity counts as "none in the lookback". */
  public static final int LOOKBACK_DAYS = 365;
  public static final int[] WINDOWS = {7, 30, 90};

  /** Signals counted over 7, 30 and 90 days. */
  private static final DailyActivity.Signal[] WINDOWED = {
      DailyActivity.Signal.EVENTS, DailyActivity.Signal.LOGINS, DailyActivity.Signal.SESSIONS,
      DailyActivity.Signal.FEATURE_USES, DailyActivity.Signal.EMAIL_OPENS, DailyActivity.Signal.EMAIL_CLICKS,
      DailyActivity.Signal.UNSUBSCRIBES, DailyActivity.Signal.TICKETS, DailyActivity.Signal.TICKETS_HIGH,
      DailyActivity.Signal.PAYMENTS, DailyActivity.Signal.PAYMENT_AMOUNT, DailyActivity.Signal.FAILED_PAYMENTS,
      DailyActivity.Signal.UPGRADES, DailyActivity.Signal.DOWNGRADES};
  /** Signals whose trend is reported. */
  private static final String[] TRENDED = {"events", "logins", "sessions", "feature_uses", "active_days"};

  /** A documented feature: its column, what it means, its window and unit. */
  public record Feature(String name, String meaning, String window, String unit, boolean categorical) {}

  /** Thresholds of the lifecycle stage (see {@link #lifecycleStage}). */
  public record LifecycleRules(int newTenureDays, int lapsedAfterDays, double decliningTrend) {
    /** Defaults: new under 30 days of tenure; lapsed after 14 silent days (a third of N under inactivity churn). */
    public static LifecycleRules defaults(ChurnDefinition churn) {
      return new LifecycleRules(30, churn.byInactivity() ? Math.max(14, churn.inactivityDays() / 3) : 14, -0.33);
    }
  }

  /** Every feature of the snapshot, in column order after customer_id and as_of_date. */
  public static List<Feature> catalogue() {
    List<Feature> out = new ArrayList<>();
    for (int w : WINDOWS) {
      for (DailyActivity.Signal s : WINDOWED) {
        out.add(new Feature(s.column() + "_" + w + "d", s.meaning() + " in the last " + w + " days", w + " days",
            s == DailyActivity.Signal.PAYMENT_AMOUNT ? "currency" : "count", false));
      }
      out.add(new Feature("active_days_" + w + "d", "days with any event in the last " + w + " days", w + " days",
          "days", false));
      out.add(new Feature("seats_max_" + w + "d", "most distinct active users (seats) on one day in the last " + w
          + " days", w + " days", "users", false));
    }
    for (String t : TRENDED) {
      out.add(new Feature(t + "_trend_7v28", t.replace('_', ' ') + ": daily rate of the last 7 days against the 28 "
          + "before, as (recent - prior) / (recent + prior); -1 = stopped, 0 = flat or none, +1 = new", "7 vs 28 days",
          "ratio in [-1, 1]", false));
      out.add(new Feature(t + "_trend_30v60", t.replace('_', ' ') + ": daily rate of the last 30 days against the 60 "
          + "before, same scale", "30 vs 60 days", "ratio in [-1, 1]", false));
    }
    out.add(new Feature("active_days_365d", "days with any event in the last 365 days", "365 days", "days", false));
    out.add(new Feature("payments_365d", "successful payments in the last 365 days", "365 days", "count", false));
    out.add(new Feature("payment_amount_365d", "amount paid in the last 365 days", "365 days", "currency", false));
    out.add(new Feature("unsubscribes_365d", "newsletter unsubscribes in the last 365 days (an unsubscribe is lasting)",
        "365 days", "count", false));
    for (String[] r : new String[][] {{"login", "logins"}, {"activity", "events"}, {"ticket", "tickets"},
        {"payment", "payments"}}) {
      out.add(new Feature("days_since_last_" + r[0], "days since the last " + r[0] + " (365 when none in the lookback)",
          "365 days", "days", false));
    }
    out.add(new Feature("mrr", "monthly recurring revenue on the as-of date", "as of", "currency", false));
    out.add(new Feature("mrr_change_90d", "MRR on the as-of date minus MRR 90 days earlier", "90 days", "currency",
        false));
    out.add(new Feature("in_trial", "1 when a free trial is running on the as-of date", "as of", "flag", false));
    out.add(new Feature("days_to_trial_end", "days until the trial ends (0 when not in trial)", "as of", "days", false));
    out.add(new Feature("tenure_days", "days since signup", "as of", "days", false));
    out.add(new Feature("plan", "plan on the as-of date", "as of", "category", true));
    out.add(new Feature("segment", "customer segment (company size)", "static", "category", true));
    out.add(new Feature("industry", "customer industry", "static", "category", true));
    out.add(new Feature(LIFECYCLE_STAGE, "new / active / declining / lapsed, see the lifecycle rules", "as of",
        "category", true));
    return out;
  }

  /** A short hash of the catalogue (names, units, windows): changes whenever the feature code's output does. */
  public static String featureSet() {
    StringBuilder sb = new StringBuilder();
    catalogue().forEach(f -> sb.append(f.name()).append('|').append(f.unit()).append('|').append(f.window()).append(';'));
    return Integer.toHexString(sb.toString().hashCode());
  }

  /** The numeric features (the model's inputs besides the categoricals). */
  public static List<String> numericFeatures() {
    return catalogue().stream().filter(f -> !f.categorical()).map(Feature::name).toList();
  }

  public static List<String> categoricalFeatures() {
    return catalogue().stream().filter(Feature::categorical).map(Feature::name).toList();
  }

  /**
   * Customers active on {@code asOf}: under cancellation churn, signed up on or before it and not churned on or
   * before it; under inactivity churn, also with any activity in the {@code N} days up to it (with
   * {@link ChurnDefinition#everActive()}: every customer whose first activity is on or before it).
   *
   * @param daily {@code daily_activity} rows (any range; only those in the activity window are used)
   */
  public static Dataset<Row> activeCustomers(Dataset<Row> customers, Dataset<Row> daily, LocalDate asOf,
      ChurnDefinition churn) {
    Column d = lit(Date.valueOf(asOf));
    Dataset<Row> signedUp = customers.where(col(Customers.SIGNUP_DATE).leq(d));
    if (!churn.byInactivity()) {
      return signedUp.where(col(Customers.CANCELLED_ON).isNull().or(col(Customers.CANCELLED_ON).gt(d)));
    }
    if (churn.everActive()) {
      return signedUp; // the first activity is the signup: everyone seen on or before the date
    }
    Dataset<Row> recent = daily.where(col(DailyActivity.ACTIVITY_DATE).leq(d)
            .and(col(DailyActivity.ACTIVITY_DATE).gt(date_sub(d, churn.inactivityDays()))))
        .select(col(DailyActivity.CUSTOMER_ID)).distinct();
    return signedUp.join(recent, Customers.CUSTOMER_ID);
  }

  /**
   * The snapshot on {@code asOf}: customer_id, as_of_date, the {@link #catalogue()} columns, then
   * {@link #FEATURE_SET}.
   *
   * @param customers rows of the customers table (all; the active ones are selected here)
   * @param daily rows of daily_activity (all, or at least the {@link #LOOKBACK_DAYS} up to asOf)
   */
  public static Dataset<Row> engagementFeatures(Dataset<Row> daily, Dataset<Row> customers, LocalDate asOf,
      ChurnDefinition churn, LifecycleRules rules) {
    Column asOfLit = lit(Date.valueOf(asOf));
    Dataset<Row> window = daily.where(col(DailyActivity.ACTIVITY_DATE).leq(asOfLit)
        .and(col(DailyActivity.ACTIVITY_DATE).gt(date_sub(asOfLit, LOOKBACK_DAYS))));
    Column age = datediff(asOfLit, col(DailyActivity.ACTIVITY_DATE));
    Column activeDay = col(DailyActivity.Signal.EVENTS.column()).gt(0);

    Map<String, Column> aggs = new LinkedHashMap<>();
    for (int w : WINDOWS) {
      for (DailyActivity.Signal s : WINDOWED) {
        aggs.put(s.column() + "_" + w + "d", sum(when(age.lt(w), col(s.column()))));
      }
      aggs.put("active_days_" + w + "d", count(when(age.lt(w).and(activeDay), lit(1))));
      aggs.put("seats_max_" + w + "d", max(when(age.lt(w), col(DailyActivity.Signal.ACTIVE_USERS.column()))));
    }
    for (String t : TRENDED) {
      Column value = t.equals("active_days") ? when(activeDay, lit(1)).otherwise(lit(0)) : col(t);
      aggs.put("_" + t + "_r7", sum(when(age.lt(7), value)));
      aggs.put("_" + t + "_p28", sum(when(age.geq(7).and(age.lt(35)), value)));
      aggs.put("_" + t + "_r30", sum(when(age.lt(30), value)));
      aggs.put("_" + t + "_p60", sum(when(age.geq(30).and(age.lt(90)), value)));
    }
    aggs.put("active_days_365d", count(when(activeDay, lit(1))));
    aggs.put("payments_365d", sum(col(DailyActivity.Signal.PAYMENTS.column())));
    aggs.put("payment_amount_365d", sum(col(DailyActivity.Signal.PAYMENT_AMOUNT.column())));
    aggs.put("unsubscribes_365d", sum(col(DailyActivity.Signal.UNSUBSCRIBES.column())));
    aggs.put("_last_login", max(when(col("logins").gt(0), col(DailyActivity.ACTIVITY_DATE))));
    aggs.put("_last_activity", max(when(activeDay, col(DailyActivity.ACTIVITY_DATE))));
    aggs.put("_last_ticket", max(when(col("tickets").gt(0), col(DailyActivity.ACTIVITY_DATE))));
    aggs.put("_last_payment", max(when(col("payments").gt(0), col(DailyActivity.ACTIVITY_DATE))));
    Column changed = col(DailyActivity.MRR_END).isNotNull();
    aggs.put("_mrr_now", max_by(when(changed, col(DailyActivity.MRR_END)), when(changed, col(DailyActivity.ACTIVITY_DATE))));
    aggs.put("_plan_now", max_by(when(changed, col(DailyActivity.PLAN_END)), when(changed, col(DailyActivity.ACTIVITY_DATE))));
    Column changedBefore = changed.and(age.geq(90));
    aggs.put("_mrr_90", max_by(when(changedBefore, col(DailyActivity.MRR_END)),
        when(changedBefore, col(DailyActivity.ACTIVITY_DATE))));
    List<Column> aggList = new ArrayList<>();
    aggs.forEach((name, c) -> aggList.add(c.as(name)));
    Dataset<Row> agg = window.groupBy(col(DailyActivity.CUSTOMER_ID).as("_cid"))
        .agg(aggList.get(0), aggList.subList(1, aggList.size()).toArray(Column[]::new));

    Dataset<Row> active = activeCustomers(customers, daily, asOf, churn);
    // Both sides derive from daily_activity under inactivity churn: join on a renamed key, never on col refs.
    Dataset<Row> joined = active.join(agg, col(Customers.CUSTOMER_ID).equalTo(col("_cid")), "left").drop("_cid");

    List<Column> out = new ArrayList<>();
    out.add(col(Customers.CUSTOMER_ID));
    out.add(asOfLit.as(AS_OF_DATE));
    Column signupMrr = coalesce(col(Customers.SIGNUP_MRR), lit(0.0));
    for (Feature f : catalogue()) {
      Column c = switch (f.name()) {
        case "mrr" -> coalesce(col("_mrr_now"), signupMrr);
        case "mrr_change_90d" -> coalesce(col("_mrr_now"), signupMrr).minus(coalesce(col("_mrr_90"), signupMrr));
        case "in_trial" -> when(col(Customers.TRIAL_END_DATE).gt(asOfLit), lit(1)).otherwise(lit(0));
        case "days_to_trial_end" -> when(col(Customers.TRIAL_END_DATE).gt(asOfLit),
            datediff(col(Customers.TRIAL_END_DATE), asOfLit)).otherwise(lit(0));
        case "tenure_days" -> datediff(asOfLit, col(Customers.SIGNUP_DATE));
        case "plan" -> coalesce(col("_plan_now"), col(Customers.SIGNUP_PLAN), lit(Customers.UNKNOWN));
        case "segment", "industry" -> coalesce(col(f.name()), lit(Customers.UNKNOWN));
        case "days_since_last_login" -> recency("_last_login", asOfLit);
        case "days_since_last_activity" -> recency("_last_activity", asOfLit);
        case "days_since_last_ticket" -> recency("_last_ticket", asOfLit);
        case "days_since_last_payment" -> recency("_last_payment", asOfLit);
        case LIFECYCLE_STAGE -> lit(null).cast("string");
        default -> f.name().contains("_trend_") ? trend(f.name()) : coalesce(col(f.name()), lit(0));
      };
      out.add(f.categorical() ? c.cast("string").as(f.name()) : c.cast("double").as(f.name()));
    }
    Dataset<Row> features = joined.select(out.toArray(Column[]::new));
    return features.withColumn(LIFECYCLE_STAGE, lifecycleStage(rules)).withColumn(FEATURE_SET, lit(featureSet()));
  }

  private static Column recency(String lastDate, Column asOf) {
    return coalesce(datediff(asOf, col(lastDate)), lit(LOOKBACK_DAYS));
  }

  /** (recent - prior) / (recent + prior) on daily rates; 0 when both are zero. */
  private static Column trend(String name) {
    String t = name.substring(0, name.indexOf("_trend_"));
    boolean short7 = name.endsWith("7v28");
    Column recent = coalesce(col("_" + t + (short7 ? "_r7" : "_r30")), lit(0)).divide(short7 ? 7.0 : 30.0);
    Column prior = coalesce(col("_" + t + (short7 ? "_p28" : "_p60")), lit(0)).divide(short7 ? 28.0 : 60.0);
    return when(recent.plus(prior).equalTo(0), lit(0.0)).otherwise(recent.minus(prior).divide(recent.plus(prior)));
  }

  /**
   * Lifecycle stage rules, in order: {@code lapsed} when silent for {@code lapsedAfterDays} or more;
   * {@code new} when tenure is under {@code newTenureDays}; {@code declining} when the 7-vs-28-day or the
   * 30-vs-60-day activity trend is at or below {@code decliningTrend}; otherwise {@code active}.
   */
  public static Column lifecycleStage(LifecycleRules rules) {
    return when(col("days_since_last_activity").geq(rules.lapsedAfterDays()), lit("lapsed"))
        .when(col("tenure_days").lt(rules.newTenureDays()), lit("new"))
        .when(col("events_trend_7v28").leq(rules.decliningTrend()).or(col("events_trend_30v60").leq(rules.decliningTrend())),
            lit("declining"))
        .otherwise(lit("active"));
  }

  /** The feature catalogue as a Markdown table (docs/features.md is generated from this). */
  public static String catalogueMarkdown() {
    StringBuilder sb = new StringBuilder("# Feature catalogue\n\nGenerated from `FeatureBuilder.catalogue()`; "
        + "do not edit by hand. Every feature is computed from `daily_activity` and `customers` dated on or before "
        + "the as-of date.\n\n| feature | meaning | window | unit |\n|---|---|---|---|\n");
    for (Feature f : catalogue()) {
      sb.append("| `").append(f.name()).append("` | ").append(f.meaning()).append(" | ").append(f.window())
          .append(" | ").append(f.unit()).append(" |\n");
    }
    return sb.toString();
  }
}
