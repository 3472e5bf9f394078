package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.col;

import dev.churn.features.ChurnDefinition;
import dev.churn.features.Labels;
import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.KillPoints;
import dev.churn.jobs.warehouse.ModelRegistry;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Settings;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.BinaryMetrics;
import dev.churn.models.Challenger;
import dev.churn.models.ChurnScorer;
import dev.churn.models.ChurnTrainer;
import dev.churn.models.ModelSpec;
import dev.churn.models.ObservedHistory;
import dev.churn.models.Reasons;
import dev.churn.models.TimeSplit;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Trains and registers a churn model as of a date: builds any missing feature snapshot of the out-of-time split
 * ({@link TimeSplit}: test at date - H, validation at date - 2H, training snapshots every {@code snapshotStepDays}
 * days, 14 by default, from date - 3H back) and the as-of date's (for the high-risk cut), labels them, tunes, fits
 * and tests ({@link ChurnTrainer}), and registers the fitted model as a new version. With an incumbent, the {@link Challenger} decides whether the new version is accepted.
 * With the generator's ground truth, also records the oracle ROC-AUC ({@link BinaryMetrics#oracleRocAuc}) as an
 * evaluation only: ground truth never reaches the features.
 */
public final class TrainJob {
  /** Days of data before the first usable snapshot: the longest activity window (90 days). */
  public static final int WARM_UP_DAYS = 90;

  /**
   * What to train. With {@code incumbent} (a registered version), the new model is registered as accepted only
   * when the {@link Challenger} accepts it with {@code tolerance}; otherwise it is registered as rejected and the
   * incumbent stays in use. {@code truthPath}: the generator's truth folder, or null.
   */
  public record Options(LocalDate asOf, Training training, String truthPath, Integer incumbent, double tolerance) {
    public Options {
      if (asOf == null || training == null) {
        throw new IllegalArgumentException("training needs an as-of date and its settings");
      }
      if (tolerance < 0) {
        throw new IllegalArgumentException("--retrain-tolerance must not be negative");
      }
    }

    /** A first model: no incumbent to challenge. */
    public static Options first(LocalDate asOf, Training training, String truthPath) {
      return new Options(asOf, training, truthPath, null, 0);
    }
  }

  /** A registered model, whether it is the one now in use and why, and the labelled rows it learnt and validated on. */
  public record Trained(ModelSpec spec, boolean accepted, String decision, long labelledRows) {}

  private final StageContext ctx;
  private final Options options;

  public TrainJob(StageContext ctx, Options options) {
    this.ctx = ctx;
    this.options = options;
  }

  /** Trains, challenges the incumbent when there is one, and registers the result with its status. */
  public Trained run() {
    Warehouse warehouse = ctx.warehouse();
    RunLog log = ctx.runLog();
    ChurnDefinition churn = Settings.churn(warehouse);
    int horizon = options.training().horizon(churn);
    Warehouse.DataRange data = warehouse.dataRange();
    if (data == null) {
      throw new ChurnException(ChurnException.FAILURE, "the warehouse " + warehouse.root()
          + " holds no activity yet: run ingest first");
    }
    if (options.asOf().isAfter(data.last())) {
      throw ChurnException.usage("training as of " + options.asOf() + " needs labels through that date, but the data "
          + "ends on " + data.last() + ": use --as-of " + data.last() + " or earlier");
    }
    // No snapshot before the longest feature window has filled: earlier ones see truncated history.
    LocalDate firstSnapshot = data.first().plusDays(WARM_UP_DAYS);
    LocalDate firstTrainable = firstSnapshot.plusDays(2L * horizon);
    if (options.asOf().isBefore(firstTrainable)) {
      throw ChurnException.usage("not enough history to train as of " + options.asOf() + ": the data starts on "
          + data.first() + ", a training snapshot needs " + WARM_UP_DAYS + " days of history before it and two "
          + horizon + "-day horizons after it (its labels, then the validation's), so the first date a model can be "
          + "trained as of is " + firstTrainable + (churn.byInactivity() ? "" : "; a shorter --horizon-days trains sooner"));
    }
    TimeSplit split;
    try {
      split = TimeSplit.plan(options.asOf(), horizon, firstSnapshot,
          options.training().snapshotStepDays(), options.training().snapshots());
    } catch (IllegalArgumentException e) {
      throw ChurnException.usage(e.getMessage());
    }
    if (!split.heldOutTest()) {
      ctx.console().printf("[train] history too short for a held-out test snapshot: training, validation and test "
          + "snapshots %d days apart need data from %s, and it starts on %s; the reported metrics are the validation "
          + "snapshot's (%s), which also chose the regularisation, so they flatter the model; the registry records "
          + "this as evaluation '%s'%n", horizon, options.asOf().minusDays(3L * horizon + WARM_UP_DAYS), data.first(),
          split.validationDate(), split.evaluation());
    }
    List<LocalDate> dates = new ArrayList<>(split.allDates());
    dates.add(options.asOf());
    log.stage("snapshots", () -> {
      List<LocalDate> missing = FeaturesJob.stale(warehouse, dates);
      if (!missing.isEmpty()) {
        new FeaturesJob(ctx, missing).run();
      }
      return RunLog.StageResult.of(dates.size(), missing.size());
    });
    KillPoints.reached(KillPoints.TRAINING_SNAPSHOTS_BUILT);
    // Rows read: at most every customer on every training, validation and test date, once per grid point (each
    // point's fit is scored on the validation and test snapshots; CodeGeneration gives the timings behind it).
    ChurnTrainer.Config grid = options.training().trainer();
    long rows = warehouse.rows(Table.CUSTOMERS) * split.allDates().size()
        * grid.regParams().size() * grid.elasticNetParams().size();
    Trained trained = log.stage("train", () -> CodeGeneration.forRows(warehouse.spark(), rows, () -> {
      // In an order fixed by the tables' content: the fitted model's last digits follow the order rows come in.
      Dataset<Row> features = warehouse.readInContentOrder(Table.CUSTOMER_FEATURES);
      Dataset<Row> labelled = Labels.label(ChurnTrainer.on(features, split.allDates()),
          warehouse.readInContentOrder(Table.CUSTOMERS), warehouse.readInContentOrder(Table.DAILY_ACTIVITY), churn,
          horizon).persist(StorageLevel.MEMORY_AND_DISK());
      try {
        return trainAndRegister(labelled, ChurnTrainer.on(features, List.of(options.asOf())), split, churn,
            new ObservedHistory(data.first()));
      } finally {
        labelled.unpersist();
      }
    }), t -> new RunLog.StageResult(t.labelledRows(), 1, 0, "model v" + t.spec().version() + " " + t.decision()));
    warehouse.refreshNames();
    return trained;
  }

  private Trained trainAndRegister(Dataset<Row> labelled, Dataset<Row> newest, TimeSplit split,
      ChurnDefinition churn, ObservedHistory history) {
    ChurnTrainer.Outcome outcome;
    try {
      outcome = ChurnTrainer.train(labelled, newest, split, history, options.training().trainer());
    } catch (IllegalArgumentException e) {
      throw ChurnException.badData("cannot train: " + e.getMessage());
    }
    Map<String, Double> metrics = new LinkedHashMap<>(outcome.spec().quality().test());
    Dataset<Row> test = ChurnTrainer.on(labelled, List.of(split.testDate()));
    if (options.truthPath() != null) {
      metrics.put("oracle_roc_auc", BinaryMetrics.oracleRocAuc(test, Labels.LABEL,
          ctx.warehouse().spark().read().parquet(options.truthPath() + "/hazard"), split.testDate(),
          split.horizonDays()));
    }
    Challenger.Decision decision = Challenger.unopposed();
    if (options.incumbent() != null) {
      Double incumbentAuc = incumbentAuc(test, options.incumbent(), history);
      if (incumbentAuc != null) {
        metrics.put("incumbent_roc_auc", incumbentAuc);
      }
      decision = Challenger.decide(metrics.get("roc_auc"), incumbentAuc, options.incumbent(), split.testDate(),
          options.tolerance());
    }
    // Sorted: Map.of iterates in an order that differs between JVMs, and the spec is stored as text.
    String vocabulary = ctx.warehouse().setting(Settings.VOCABULARY);
    Map<String, String> env = new java.util.TreeMap<>(Map.of("spark", ctx.warehouse().spark().version(),
        "churn_definition", churn.encode(), Reasons.VOCABULARY, vocabulary == null ? "" : vocabulary));
    ModelSpec spec = ctx.registry().register(outcome.model(), outcome.spec().withMetrics(metrics, env), Instant.now(),
        decision.accepted() ? ModelRegistry.ACCEPTED : ModelRegistry.REJECTED, decision.text(), ctx.console());
    return new Trained(spec, decision.accepted(), decision.text(), labelled.count());
  }

  /**
   * The incumbent's ROC-AUC on the candidate's test snapshot, which lies after every label the incumbent was
   * fitted on (it was trained as of an earlier date); null when the incumbent does not fit the features.
   */
  private Double incumbentAuc(Dataset<Row> test, int version, ObservedHistory history) {
    ModelRegistry.Loaded incumbent = ctx.registry().load(version);
    Dataset<Row> scored;
    try {
      scored = ChurnScorer.score(test, incumbent.model(), incumbent.spec(), history, false);
    } catch (ChurnScorer.FeatureMismatch e) {
      return null;
    }
    Dataset<Row> joined = scored.select(col("customer_id"), col(ChurnTrainer.PROBABILITY))
        .join(test.select(col("customer_id"), col(Labels.LABEL)), "customer_id");
    return BinaryMetrics.compute(joined, ChurnTrainer.PROBABILITY, Labels.LABEL, true).metrics().get("roc_auc");
  }
}
