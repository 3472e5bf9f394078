package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

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
   * Customers active on each date of {@code asOfs}, as customer rows with the date in {@link #AS_OF_DATE}: under
   * cancellation churn, signed up on or before it and not churned on or before it; under inactivity churn, also
   * with any activity in the {@code N} days up to it (with {@link ChurnDefinition#everActive()}: every customer
   * whose first activity is on or before it).
   *
   * @param recent under inactivity churn (not ever-active), the (customer_id, as_of_date) pairs with activity in
   *     the N days up to the date; unused otherwise
   */
  static Dataset<Row> activeCustomers(Dataset<Row> customers, Collection<LocalDate> asOfs, Dataset<Row> recent,
      ChurnDefinition churn) {
    Column d = col(AS_OF_DATE);
    Dataset<Row> onDates = churn.byInactivity() && !churn.everActive()
        ? customers.join(recent, Customers.CUSTOMER_ID)
        // the first activity is the signup under ever-active churn: everyone seen on or before the date
        : customers.crossJoin(broadcast(asOfDates(customers.sparkSession(), asOfs)));
    Dataset<Row> signedUp = onDates.where(col(Customers.SIGNUP_DATE).leq(d));
    return churn.byInactivity() ? signedUp
        : signedUp.where(col(Customers.CANCELLED_ON).isNull().or(col(Customers.CANCELLED_ON).gt(d)));
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
    FeatureCatalogue.Inputs in = inputs(asOfLit);
    Map<String, Column> aggs = new LinkedHashMap<>();
    for (FeatureCatalogue.Feature f : FeatureCatalogue.features()) {
      f.aggregates().forEach((name, agg) -> aggs.putIfAbsent(name, agg.scratch(in)));
    }
    List<Column> aggList = new ArrayList<>();
    aggs.forEach((name, c) -> aggList.add(c.as(name)));
    Dataset<Row> agg = window.groupBy(col(DailyActivity.CUSTOMER_ID).as("_cid"), asOfLit.as("_asof"))
        .agg(aggList.get(0), aggList.subList(1, aggList.size()).toArray(Column[]::new));
    Dataset<Row> recent = daily.where(col(DailyActivity.ACTIVITY_DATE).leq(asOfLit)
            .and(col(DailyActivity.ACTIVITY_DATE).gt(date_sub(asOfLit, churn.inactivityDays()))))
        .select(col(DailyActivity.CUSTOMER_ID).as(Customers.CUSTOMER_ID)).distinct().withColumn(AS_OF_DATE, asOfLit);
    return snapshot(activeCustomers(customers, List.of(asOf), recent, churn), agg, rules);
  }

  /**
   * The snapshots of {@code asOfs} from the running {@link WindowState}s of those dates, in one plan: equal, column
   * for column, to {@link #engagementFeatures} of each date on the rollup the states were built from.
   *
   * @param states the rows of {@code feature_state} of the dates (rows of other dates are ignored)
   * @param asOfs the dates to snapshot (each with its state in {@code states})
   */
  public static Dataset<Row> fromState(Dataset<Row> states, Dataset<Row> customers, Collection<LocalDate> asOfs,
      ChurnDefinition churn, LifecycleRules rules) {
    Column d = col(AS_OF_DATE);
    Dataset<Row> agg = WindowState.aggregates(states.where(d.isin(asOfs.stream().map(Date::valueOf).toArray())));
    // Active under inactivity churn: a day with any event in the N days up to the date, the state's latest one.
    Dataset<Row> recent = agg.where(col("_last_activity").gt(date_sub(col("_asof"), churn.inactivityDays())))
        .select(col("_cid").as(Customers.CUSTOMER_ID), col("_asof").as(AS_OF_DATE));
    return snapshot(activeCustomers(customers, asOfs, recent, churn), agg, rules);
  }

  /** The snapshot of one date from its state (see {@link #fromState(Dataset, Dataset, Collection, ChurnDefinition, LifecycleRules)}). */
  public static Dataset<Row> fromState(Dataset<Row> state, Dataset<Row> customers, LocalDate asOf,
      ChurnDefinition churn, LifecycleRules rules) {
    return fromState(state, customers, List.of(asOf), churn, rules);
  }

  /** One row per date, in column {@link #AS_OF_DATE}: what rows are paired with to be computed for several dates at once. */
  static Dataset<Row> asOfDates(SparkSession spark, Collection<LocalDate> asOfs) {
    List<Row> rows = asOfs.stream().distinct().map(d -> RowFactory.create(Date.valueOf(d))).toList();
    return spark.createDataFrame(rows, new StructType().add(AS_OF_DATE, DataTypes.DateType, false));
  }

  /** What the catalogue's expressions see on the date {@code asOf} holds, over daily_activity rows. */
  static FeatureCatalogue.Inputs inputs(Column asOf) {
    return new FeatureCatalogue.Inputs(asOf, datediff(asOf, col(DailyActivity.ACTIVITY_DATE)),
        col(DailyActivity.Signal.EVENTS.column()).gt(0));
  }

  /**
   * The active customers (customer rows with their {@link #AS_OF_DATE}) joined to their aggregates of that date
   * ({@code _cid}, {@code _asof} and one column per aggregate), as features.
   */
  private static Dataset<Row> snapshot(Dataset<Row> active, Dataset<Row> agg, LifecycleRules rules) {
    FeatureCatalogue.Inputs in = inputs(col(AS_OF_DATE));
    // Both sides derive from daily_activity under inactivity churn: join on renamed keys, never on col refs.
    Dataset<Row> joined = active.join(agg, col(Customers.CUSTOMER_ID).equalTo(col("_cid"))
        .and(col(AS_OF_DATE).equalTo(col("_asof"))), "left").drop("_cid", "_asof");

    List<Column> out = new ArrayList<>();
    out.add(col(Customers.CUSTOMER_ID));
    out.add(col(AS_OF_DATE));
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
        .when(col(FeatureCatalogue.TENURE_DAYS).lt(rules.newTenureDays()), lit("new"))
        .when(col("events_trend_7v28").leq(rules.decliningTrend()).or(col("events_trend_30v60").leq(rules.decliningTrend())),
            lit("declining"))
        .otherwise(lit("active"));
  }
}
