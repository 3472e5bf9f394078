package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;

import dev.churn.features.ChurnDefinition;
import dev.churn.features.DailyActivity;
import dev.churn.features.FeatureBuilder;
import dev.churn.features.FeatureCatalogue;
import dev.churn.features.WindowState;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Settings;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import java.sql.Date;
import java.time.LocalDate;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Writes the {@code customer_features} snapshot of one as-of date (customer x as_of_date, partitioned by
 * as_of_date) from {@code daily_activity} and {@code customers}, through the running window state
 * ({@code feature_state}, one row per customer with activity in the lookback, per as-of date).
 *
 * <p>The state of the date is the latest stored state of the {@link #MAX_ADVANCE} days before it, advanced one day
 * at a time with the rollup day entering the windows and the days leaving them ({@link WindowState#advance});
 * with none, it is built from the {@link FeatureBuilder#LOOKBACK_DAYS} of rollup up to the date. So a night's
 * snapshot costs the customers with activity in the lookback plus a handful of rollup days, not the lookback. Every
 * state advanced through is stored, and an ingest drops the states its new days make stale.
 * Idempotent: a rerun replaces that date's state and snapshot and nothing else.
 */
public final class FeaturesJob {
  /** The most days a stored state is advanced through; an older state is ignored and the state rebuilt. */
  public static final int MAX_ADVANCE = 3;

  private final StageContext ctx;
  private final LocalDate asOf;

  public FeaturesJob(StageContext ctx, LocalDate asOf) {
    this.ctx = ctx;
    this.asOf = asOf;
  }

  /** Whether the snapshot of {@code day} exists and was built by the current feature code. */
  public static boolean current(Warehouse warehouse, LocalDate day) {
    if (!warehouse.exists(Table.CUSTOMER_FEATURES)) {
      return false;
    }
    Dataset<Row> t = warehouse.read(Table.CUSTOMER_FEATURES);
    return List.of(t.columns()).contains(FeatureBuilder.FEATURE_SET) && !t.where(col(FeatureBuilder.AS_OF_DATE)
        .equalTo(lit(Date.valueOf(day))).and(col(FeatureBuilder.FEATURE_SET).equalTo(FeatureCatalogue.featureSet()))).isEmpty();
  }

  /** Builds and writes the snapshot; returns the customers in it. */
  public long run() {
    Warehouse warehouse = ctx.warehouse();
    ChurnDefinition churn = Settings.churn(warehouse);
    FeatureBuilder.LifecycleRules rules = FeatureBuilder.LifecycleRules.defaults(churn);
    RunLog.StageResult written = ctx.runLog().stage("features " + asOf, () -> {
      Dataset<Row> features;
      String how;
      if (FeatureBuilder.stateKnowsActive(churn)) {
        how = state();
        features = FeatureBuilder.fromState(stateOf(asOf), warehouse.read(Table.CUSTOMERS), asOf, churn, rules);
      } else {
        how = "from the lookback (inactivity churn longer than it)";
        features = FeatureBuilder.engagementFeatures(rollup(asOf.minusDays(FeatureBuilder.LOOKBACK_DAYS), asOf),
            warehouse.read(Table.CUSTOMERS), asOf, churn, rules);
      }
      long n = warehouse.replaceDates(Table.CUSTOMER_FEATURES, features, List.of(asOf));
      return new RunLog.StageResult(n, n, 0, "window state " + how);
    });
    warehouse.registerAll();
    return written.rowsOut();
  }

  /** Writes the state of {@code asOf} (and of the days it was advanced through); says how it was obtained. */
  private String state() {
    Warehouse warehouse = ctx.warehouse();
    LocalDate base = latestState();
    if (base == null) {
      warehouse.replaceDates(Table.FEATURE_STATE,
          WindowState.fromScratch(rollup(asOf.minusDays(FeatureBuilder.LOOKBACK_DAYS), asOf), asOf), List.of(asOf));
      return "built from the lookback";
    }
    for (LocalDate d = base.plusDays(1); !d.isAfter(asOf); d = d.plusDays(1)) {
      // Only the days entering and leaving the windows: a handful of rollup partitions.
      Dataset<Row> daily = ctx.warehouse().read(Table.DAILY_ACTIVITY).where(
          col(DailyActivity.ACTIVITY_DATE).isin(WindowState.daysRead(d).stream().map(Date::valueOf).toArray()));
      warehouse.replaceDates(Table.FEATURE_STATE, WindowState.advance(stateOf(d.minusDays(1)), daily, d), List.of(d));
    }
    return "advanced from " + base;
  }

  /** The latest as-of date before asOf, within {@link #MAX_ADVANCE} days, with a state of the current features. */
  private LocalDate latestState() {
    Warehouse warehouse = ctx.warehouse();
    if (!warehouse.exists(Table.FEATURE_STATE)) {
      return null;
    }
    Row r = warehouse.read(Table.FEATURE_STATE)
        .where(col(FeatureBuilder.AS_OF_DATE).lt(lit(Date.valueOf(asOf)))
            .and(col(FeatureBuilder.AS_OF_DATE).geq(lit(Date.valueOf(asOf.minusDays(MAX_ADVANCE)))))
            .and(col(FeatureBuilder.FEATURE_SET).equalTo(FeatureCatalogue.featureSet())))
        .agg(max(FeatureBuilder.AS_OF_DATE)).first();
    return r.isNullAt(0) ? null : r.getDate(0).toLocalDate();
  }

  private Dataset<Row> stateOf(LocalDate day) {
    return ctx.warehouse().read(Table.FEATURE_STATE).where(col(FeatureBuilder.AS_OF_DATE).equalTo(lit(Date.valueOf(day))));
  }

  /** daily_activity rows dated in (from, to]. */
  private Dataset<Row> rollup(LocalDate from, LocalDate to) {
    return ctx.warehouse().read(Table.DAILY_ACTIVITY)
        .where(col(DailyActivity.ACTIVITY_DATE).leq(lit(Date.valueOf(to)))
            .and(col(DailyActivity.ACTIVITY_DATE).gt(lit(Date.valueOf(from)))));
  }
}
