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
 * not one join per feature. The features and how each is computed are {@link FeatureCatalogue}.
 */
public final class FeatureBuilder {
  private FeatureBuilder() {}

  public static final String AS_OF_DATE = "as_of_date";
  public static final String LIFECYCLE_STAGE = "lifecycle_stage";
  /** Identifies the feature code a snapshot was built with, so stale snapshots are rebuilt, not mixed. */
  public static final String FEATURE_SET = "feature_set";
  /** The longest sum window (yearly totals); recency and plan changes are over all history. */
  public static final int LOOKBACK_DAYS = 365;

  /** Thresholds of the lifecycle stage (see {@link #lifecycleStage}). */
  public record LifecycleRules(int newTenureDays, int lapsedAfterDays, double decliningTrend) {
    /** Defaults: new under 30 days of tenure; lapsed after 14 silent days (a third of N under inactivity churn). */
    public static LifecycleRules defaults(ChurnDefinition churn) {
      return new LifecycleRules(30, churn.byInactivity() ? Math.max(14, churn.inactivityDays() / 3) : 14, -0.33);
    }
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
   * The snapshot on {@code asOf}: customer_id, as_of_date, the {@link FeatureCatalogue} columns, then
   * {@link #FEATURE_SET}.
   *
   * @param customers rows of the customers table (all; the active ones are selected here)
   * @param daily rows of daily_activity (all: recency and plan changes reach back to the first day)
   */
  public static Dataset<Row> engagementFeatures(Dataset<Row> daily, Dataset<Row> customers, LocalDate asOf,
      ChurnDefinition churn, LifecycleRules rules) {
    Column asOfLit = lit(Date.valueOf(asOf));
    Dataset<Row> window = daily.where(col(DailyActivity.ACTIVITY_DATE).leq(asOfLit));
    FeatureCatalogue.Inputs in = inputs(asOf);
    Map<String, Column> aggs = new LinkedHashMap<>();
    for (FeatureCatalogue.Feature f : FeatureCatalogue.features()) {
      f.aggregates().forEach((name, agg) -> aggs.putIfAbsent(name, agg.scratch(in)));
    }
    List<Column> aggList = new ArrayList<>();
    aggs.forEach((name, c) -> aggList.add(c.as(name)));
    Dataset<Row> agg = window.groupBy(col(DailyActivity.CUSTOMER_ID).as("_cid"))
        .agg(aggList.get(0), aggList.subList(1, aggList.size()).toArray(Column[]::new));
    return snapshot(activeCustomers(customers, daily, asOf, churn), agg, asOf, rules);
  }

  /**
   * The snapshot on {@code asOf} from the running {@link WindowState} of that date: equal, column for column, to
   * {@link #engagementFeatures} on the rollup the state was built from.
   *
   * @param state the rows of {@code feature_state} of asOf
   */
  public static Dataset<Row> fromState(Dataset<Row> state, Dataset<Row> customers, LocalDate asOf,
      ChurnDefinition churn, LifecycleRules rules) {
    Column d = lit(Date.valueOf(asOf));
    Dataset<Row> agg = WindowState.aggregates(state);
    Dataset<Row> active;
    if (churn.byInactivity() && !churn.everActive()) {
      // Active: a day with any event in the N days up to asOf, the state's latest active day.
      Dataset<Row> recent = agg.where(col("_last_activity").gt(date_sub(d, churn.inactivityDays())))
          .select(col("_cid").as(Customers.CUSTOMER_ID));
      active = customers.where(col(Customers.SIGNUP_DATE).leq(d)).join(recent, Customers.CUSTOMER_ID);
    } else {
      active = activeCustomers(customers, null, asOf, churn);
    }
    return snapshot(active, agg, asOf, rules);
  }

  /** What the catalogue's expressions see on {@code asOf}, over daily_activity rows. */
  static FeatureCatalogue.Inputs inputs(LocalDate asOf) {
    Column asOfLit = lit(Date.valueOf(asOf));
    return new FeatureCatalogue.Inputs(asOfLit, datediff(asOfLit, col(DailyActivity.ACTIVITY_DATE)),
        col(DailyActivity.Signal.EVENTS.column()).gt(0));
  }

  /** The active customers joined to their aggregates ({@code _cid} and one column per aggregate), as features. */
  private static Dataset<Row> snapshot(Dataset<Row> active, Dataset<Row> agg, LocalDate asOf, LifecycleRules rules) {
    FeatureCatalogue.Inputs in = inputs(asOf);
    // Both sides derive from daily_activity under inactivity churn: join on a renamed key, never on col refs.
    Dataset<Row> joined = active.join(agg, col(Customers.CUSTOMER_ID).equalTo(col("_cid")), "left").drop("_cid");

    List<Column> out = new ArrayList<>();
    out.add(col(Customers.CUSTOMER_ID));
    out.add(in.asOf().as(AS_OF_DATE));
    for (FeatureCatalogue.Feature f : FeatureCatalogue.features()) {
      Column c = f.value().apply(in);
      out.add(f.categorical() ? c.cast("string").as(f.name()) : c.cast("double").as(f.name()));
    }
    Dataset<Row> features = joined.select(out.toArray(Column[]::new));
    return features.withColumn(LIFECYCLE_STAGE, lifecycleStage(rules)).withColumn(FEATURE_SET, lit(FeatureCatalogue.featureSet()));
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
}
