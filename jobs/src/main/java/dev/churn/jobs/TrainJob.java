package dev.churn.jobs;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.ChurnDefinition;
import dev.churn.features.DailyActivity;
import dev.churn.features.FeatureBuilder;
import dev.churn.features.Labels;
import dev.churn.models.BinaryMetrics;
import dev.churn.models.ChurnTrainer;
import dev.churn.models.ModelSpec;
import dev.churn.models.TimeSplit;
import java.sql.Date;
import java.time.Instant;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Trains and registers a churn model as of a date: builds any missing feature snapshot of the out-of-time split
 * ({@link TimeSplit}: monthly training snapshots, validation at date - H, a one-horizon gap between them), labels
 * them, fits and tunes ({@link ChurnTrainer}), and registers the refitted model as a new version. With the
 * generator's ground truth, also records the oracle ROC-AUC (ranking by the true hazard over the validation
 * horizon) as an evaluation only: ground truth never reaches the features.
 */
public final class TrainJob {
  /** Days of data before the first usable snapshot: the longest activity window (90 days). */
  public static final int WARM_UP_DAYS = 90;

  public record Options(LocalDate asOf, int horizonDays, String truthPath, ChurnTrainer.Config config,
      int snapshotStepDays, int snapshots) {
    public Options(LocalDate asOf, int horizonDays, String truthPath, ChurnTrainer.Config config) {
      this(asOf, horizonDays, truthPath, config, TimeSplit.DEFAULT_STEP_DAYS, TimeSplit.DEFAULT_SNAPSHOTS);
    }
  }

  private final Warehouse warehouse;
  private final RunLog runLog;
  private final Options options;

  public TrainJob(Warehouse warehouse, RunLog runLog, Options options) {
    this.warehouse = warehouse;
    this.runLog = runLog;
    this.options = options;
  }

  public ModelSpec run() {
    ChurnDefinition churn = Settings.churn(warehouse);
    int horizon = Labels.horizon(churn, options.horizonDays());
    Row range = warehouse.read(Table.DAILY_ACTIVITY).agg(min(DailyActivity.ACTIVITY_DATE), max(DailyActivity.ACTIVITY_DATE)).first();
    LocalDate dataStart = range.getDate(0).toLocalDate();
    LocalDate dataEnd = range.getDate(1).toLocalDate();
    if (options.asOf().isAfter(dataEnd)) {
      throw ChurnException.usage("training as of " + options.asOf() + " needs labels through that date, but the data "
          + "ends on " + dataEnd + ": use --as-of " + dataEnd + " or earlier");
    }
    TimeSplit split;
    try {
      // No snapshot before the longest feature window has filled: earlier ones see truncated history.
      split = TimeSplit.plan(options.asOf(), horizon, dataStart.plusDays(WARM_UP_DAYS), options.snapshotStepDays(),
          options.snapshots());
    } catch (IllegalArgumentException e) {
      throw ChurnException.usage(e.getMessage());
    }
    runLog.stage("snapshots", () -> {
      long built = 0;
      for (LocalDate d : split.allDates()) {
        if (!FeaturesJob.current(warehouse, d)) {
          new FeaturesJob(warehouse, runLog, d).run();
          built++;
        }
      }
      return RunLog.StageResult.of(split.allDates().size(), built);
    });
    ModelSpec[] result = new ModelSpec[1];
    runLog.stage("train", () -> {
      Dataset<Row> snapshots = warehouse.read(Table.CUSTOMER_FEATURES).where(col(FeatureBuilder.AS_OF_DATE)
          .isin(split.allDates().stream().map(Date::valueOf).toArray()));
      Dataset<Row> labelled = Labels.label(snapshots, warehouse.read(Table.CUSTOMERS),
          warehouse.read(Table.DAILY_ACTIVITY), churn, horizon).persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
      ChurnTrainer.Outcome outcome;
      try {
        outcome = ChurnTrainer.train(labelled, split, options.config());
      } catch (IllegalArgumentException e) {
        throw ChurnException.badData("cannot train: " + e.getMessage());
      }
      Map<String, Double> metrics = new LinkedHashMap<>(outcome.spec().validationMetrics());
      if (options.truthPath() != null) {
        metrics.put("oracle_roc_auc", oracleAuc(labelled, split));
      }
      Map<String, String> env = Map.of("spark", warehouse.spark().version(), "churn_definition", churn.encode());
      result[0] = new ModelRegistry(warehouse).register(outcome.model(), outcome.spec().withMetrics(metrics, env),
          Instant.now());
      long rows = labelled.count();
      labelled.unpersist();
      return new RunLog.StageResult(rows, 1, 0, "model v" + result[0].version());
    });
    warehouse.registerAll();
    return result[0];
  }

  /**
   * ROC-AUC of ranking validation customers by their true churn probability over (D, D + H]: 1 - (1 - h)^H with h
   * the mean true daily hazard over the days the customer was still a customer (a churner's window ends at its
   * cancellation, so a sum over the window would understate exactly the customers who left).
   */
  private double oracleAuc(Dataset<Row> labelled, TimeSplit split) {
    Date from = Date.valueOf(split.validationDate());
    Date to = Date.valueOf(split.validationDate().plusDays(split.horizonDays()));
    Dataset<Row> hazard = warehouse.spark().read().parquet(options.truthPath() + "/hazard")
        .where(col("date").gt(lit(from)).and(col("date").leq(lit(to))))
        .groupBy("customer_id").agg(avg(col("hazard")).as("mean_hazard"));
    Dataset<Row> validation = labelled.where(col(FeatureBuilder.AS_OF_DATE).equalTo(lit(from)))
        .select("customer_id", Labels.LABEL)
        .join(hazard, "customer_id")
        .withColumn("oracle", lit(1.0).minus(pow(lit(1.0).minus(col("mean_hazard")), split.horizonDays())));
    return BinaryMetrics.compute(validation, "oracle", Labels.LABEL, false).metrics().get("roc_auc");
  }
}
