package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.ChurnDefinition;
import dev.churn.features.DailyActivity;
import dev.churn.features.FeatureBuilder;
import dev.churn.features.Labels;
import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.ModelRegistry;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Settings;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.BinaryMetrics;
import dev.churn.models.ChurnScorer;
import dev.churn.models.ChurnTrainer;
import dev.churn.models.ModelSpec;
import dev.churn.models.TimeSplit;
import java.sql.Date;
import java.time.Instant;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.Locale;
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

  /**
   * What to train. With {@code incumbent} (a registered version), the new model is registered as accepted only
   * when its out-of-time validation ROC-AUC is at least the incumbent's on the same snapshot minus
   * {@code tolerance}; otherwise it is registered as rejected and the incumbent stays in use.
   */
  public record Options(LocalDate asOf, int horizonDays, String truthPath, ChurnTrainer.Config config,
      int snapshotStepDays, int snapshots, Integer incumbent, double tolerance) {
    public Options(LocalDate asOf, int horizonDays, String truthPath, ChurnTrainer.Config config) {
      this(asOf, horizonDays, truthPath, config, TimeSplit.DEFAULT_STEP_DAYS, TimeSplit.DEFAULT_SNAPSHOTS);
    }

    public Options(LocalDate asOf, int horizonDays, String truthPath, ChurnTrainer.Config config,
        int snapshotStepDays, int snapshots) {
      this(asOf, horizonDays, truthPath, config, snapshotStepDays, snapshots, null, 0);
    }
  }

  /** A registered model and whether it is the one now in use. */
  public record Trained(ModelSpec spec, boolean accepted, String decision) {}

  private final Warehouse warehouse;
  private final RunLog runLog;
  private final Options options;

  public TrainJob(Warehouse warehouse, RunLog runLog, Options options) {
    this.warehouse = warehouse;
    this.runLog = runLog;
    this.options = options;
  }

  public ModelSpec run() {
    return train().spec();
  }

  /** Trains, challenges the incumbent when there is one, and registers the result with its status. */
  public Trained train() {
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
    Trained[] result = new Trained[1];
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
      boolean accepted = true;
      String decision = "accepted: no model to compare with";
      if (options.incumbent() != null) {
        Double incumbentAuc = incumbentAuc(labelled, split.validationDate(), options.incumbent());
        double candidate = metrics.get("roc_auc");
        if (incumbentAuc == null) {
          decision = "accepted: model v" + options.incumbent() + " does not fit the current features";
        } else {
          metrics.put("incumbent_roc_auc", incumbentAuc);
          accepted = candidate >= incumbentAuc - options.tolerance();
          decision = String.format(Locale.ROOT, "%s: validation ROC-AUC %.4f against %.4f for model v%d on the same "
              + "out-of-time snapshot %s (tolerance %.3f)", accepted ? "accepted" : "rejected", candidate, incumbentAuc,
              options.incumbent(), split.validationDate(), options.tolerance());
        }
      }
      Map<String, String> env = Map.of("spark", warehouse.spark().version(), "churn_definition", churn.encode());
      ModelSpec spec = new ModelRegistry(warehouse).register(outcome.model(), outcome.spec().withMetrics(metrics, env),
          Instant.now(), accepted ? ModelRegistry.ACCEPTED : ModelRegistry.REJECTED, decision);
      result[0] = new Trained(spec, accepted, decision);
      long rows = labelled.count();
      labelled.unpersist();
      return new RunLog.StageResult(rows, 1, 0, "model v" + spec.version() + " " + decision);
    });
    warehouse.registerAll();
    return result[0];
  }

  /**
   * The incumbent's ROC-AUC on the candidate's validation snapshot, which lies after every label the incumbent
   * was trained on (it was trained as of an earlier date); null when the incumbent does not fit the features.
   */
  private Double incumbentAuc(Dataset<Row> labelled, LocalDate validationDate, int version) {
    ModelRegistry.Loaded incumbent = new ModelRegistry(warehouse).load(version);
    Dataset<Row> validation = labelled.where(col(FeatureBuilder.AS_OF_DATE).equalTo(lit(Date.valueOf(validationDate))));
    Dataset<Row> scored;
    try {
      scored = ChurnScorer.score(validation, incumbent.model(), incumbent.spec(), false);
    } catch (ChurnScorer.FeatureMismatch e) {
      return null;
    }
    Dataset<Row> joined = scored.select(col("customer_id"), col(ChurnTrainer.PROBABILITY))
        .join(validation.select(col("customer_id"), col(Labels.LABEL)), "customer_id");
    return BinaryMetrics.compute(joined, ChurnTrainer.PROBABILITY, Labels.LABEL, true).metrics().get("roc_auc");
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
