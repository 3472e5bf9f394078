package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.churn.features.ChurnDefinition;
import dev.churn.features.DailyActivity;
import dev.churn.features.FeatureBuilder;
import dev.churn.features.FeatureCatalogue;
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
 * as_of_date) from {@code daily_activity} and {@code customers}. Reads only the {@link FeatureBuilder#LOOKBACK_DAYS}
 * of rollup up to the date, so its cost grows with customers x window, not with the length of history.
 * Idempotent: a rerun replaces that date's partition and nothing else.
 */
public final class FeaturesJob {
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
    long rows = ctx.runLog().stage("features " + asOf, () -> {
      Dataset<Row> daily = warehouse.read(Table.DAILY_ACTIVITY)
          .where(col(DailyActivity.ACTIVITY_DATE).leq(lit(Date.valueOf(asOf)))
              .and(col(DailyActivity.ACTIVITY_DATE).gt(lit(Date.valueOf(asOf.minusDays(FeatureBuilder.LOOKBACK_DAYS))))));
      Dataset<Row> features = FeatureBuilder.engagementFeatures(daily, warehouse.read(Table.CUSTOMERS), asOf, churn,
          FeatureBuilder.LifecycleRules.defaults(churn));
      return warehouse.replaceDates(Table.CUSTOMER_FEATURES, features, List.of(asOf));
    }, n -> RunLog.StageResult.of(n, n));
    warehouse.registerAll();
    return rows;
  }
}
