package dev.churn.models;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.FeatureBuilder;
import dev.churn.features.FeatureCatalogue;
import dev.churn.features.Labels;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.functions;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Trains the churn model: a Spark ML pipeline (log(1 + x) of counts, median imputation, one-hot categoricals,
 * standard scaling,
 * class-weighted logistic regression) fitted on the training snapshots, with regularisation (regParam x
 * elasticNetParam) chosen on the out-of-time validation snapshot by PR-AUC, then refitted on the training and
 * validation snapshots (every label window closing by the test date, as docs/domain.md's yardsticks were) and
 * reported on the test snapshot one horizon later, which neither tuning nor fitting saw ({@link TimeSplit}). The
 * registered model is the one the reported metrics describe, and its thresholds come from its own scores. Class
 * weights help ranking but inflate probabilities; the weights' prior shift, log(w_pos / w_neg), is subtracted
 * from the logit so the stored probabilities are calibrated.
 *
 * <p>Defaults: regParam in {0.001, 0.01, 0.05}, elasticNetParam in {0, 0.5} ({@code --reg-params},
 * {@code --elastic-net-params}), 50 iterations, seed 7.
 */
public final class ChurnTrainer {
  private ChurnTrainer() {}

  public static final String ASSEMBLED = "_assembled";
  public static final String SCALED = "_scaled";
  public static final String WEIGHT = "_weight";
  public static final String RAW_PROBABILITY = "_raw_probability";
  public static final String PROBABILITY = "churn_probability";

  /**
   * The regularisation grid, iterations, seed, and the share of the customers whose score sets the high-risk
   * threshold, on the as-of date (the test snapshot's when none is given; 0.10: the top decile is "high").
   */
  public record Config(List<Double> regParams, List<Double> elasticNetParams, int maxIter, long seed,
      double highRiskShare) {
    public static final double DEFAULT_HIGH_RISK_SHARE = 0.10;
    /** The seed recorded with a model unless another is given. */
    public static final long DEFAULT_SEED = 7;

    public Config(List<Double> regParams, List<Double> elasticNetParams, int maxIter, long seed) {
      this(regParams, elasticNetParams, maxIter, seed, DEFAULT_HIGH_RISK_SHARE);
    }

    /** The default grid, regParam x elasticNetParam, as the command line writes it. */
    public static final String DEFAULT_REG_PARAMS = "0.001,0.01,0.05";
    public static final String DEFAULT_ELASTIC_NET_PARAMS = "0,0.5";

    public Config {
      if (!(highRiskShare > 0 && highRiskShare < 1)) {
        throw new IllegalArgumentException("the high-risk share must be between 0 and 1, not " + highRiskShare);
      }
      regParams = List.copyOf(regParams);
      elasticNetParams = List.copyOf(elasticNetParams);
      if (regParams.isEmpty() || regParams.stream().anyMatch(r -> !(r >= 0 && r < Double.POSITIVE_INFINITY))) {
        throw new IllegalArgumentException("regParam values must be zero or more, not " + regParams);
      }
      if (elasticNetParams.isEmpty() || elasticNetParams.stream().anyMatch(e -> !(e >= 0 && e <= 1))) {
        throw new IllegalArgumentException("elasticNetParam values must be between 0 and 1, not " + elasticNetParams);
      }
    }

    public static Config defaults() {
      return new Config(values(DEFAULT_REG_PARAMS), values(DEFAULT_ELASTIC_NET_PARAMS), 50, DEFAULT_SEED);
    }

    private static List<Double> values(String commaSeparated) {
      return java.util.Arrays.stream(commaSeparated.split(",")).map(Double::valueOf).toList();
    }

    public Config withSeedAndShare(long newSeed, double share) {
      return new Config(regParams, elasticNetParams, maxIter, newSeed, share);
    }

    /** The same settings with another grid. */
    public Config withGrid(List<Double> newRegParams, List<Double> newElasticNetParams) {
      return new Config(newRegParams, newElasticNetParams, maxIter, seed, highRiskShare);
    }
  }

  /** The refitted pipeline and its spec (version 0 until registered). */
  public record Outcome(PipelineModel model, ModelSpec spec) {}

  static LogisticRegression logisticRegression(double regParam, double elasticNet, Config config) {
    return new LogisticRegression().setFeaturesCol(SCALED).setLabelCol(Labels.LABEL).setWeightCol(WEIGHT)
        .setRegParam(regParam).setElasticNetParam(elasticNet).setMaxIter(config.maxIter()).setStandardization(false)
        .setFamily("binomial").setProbabilityCol("_probability").setRawPredictionCol("_raw")
        .setPredictionCol("_prediction");
  }

  /**
   * Training rows per partition of the vectors MLlib's optimiser iterates over (500,000). It runs one Spark job per
   * iteration, some 500 for the default grid, and sums each gradient with a tree aggregation finished on an
   * executor: over vectors in several partitions every job is two stages and a shuffle, over one partition a
   * single task. A partition of this many rows still sums in a fraction of a job's fixed cost; larger training
   * sets spread over more partitions, never more than they came in. Measured with one partition instead of two:
   * {@code churn train} on the demo's warehouse (8,150 rows, six grid points, a JVM of its own) 58.8 / 64.4 ->
   * 42.3 / 43.0 s, its CPU 139 / 151 -> 109 / 113 s (inside {@code churn demo}, in a JVM the ingest warmed, 42.7 ->
   * 40.0 s), the same figures to the digits it prints (the sums come in another order, so the optimiser stops
   * at another point within its tolerance: test ROC-AUC 0.737781 -> 0.737764, PR-AUC 0.0534 -> 0.0528); CDNOW's
   * yardstick training (170,000 training rows) 115 -> 113 s, CPU 282 -> 256 s, every figure the same to the last
   * digit.
   */
  static final long ROWS_PER_PARTITION = 500_000;

  /**
   * Prepared rows as MLlib's optimiser reads them, in at most {@code partitions} partitions. Checkpointed, not just
   * persisted: every optimiser iteration is a job that serialises its RDD's lineage, and persisted vectors carry the
   * whole preparation plan (hundreds of expressions) into each of some 450 task binaries; a demo training measured
   * 55-61 -> 48-50 s, the same model to the last digit. Local checkpoints live in the executors' block stores: an
   * executor lost mid-training fails the training (rerun it) instead of recomputing, as FeaturesJob's window state
   * already accepts. Coalesced, not repartitioned: the preparation runs in as many tasks as the vectors get.
   */
  static Dataset<Row> optimiserInput(Dataset<Row> prepared, int partitions) {
    return prepared.coalesce(partitions).localCheckpoint(true, StorageLevel.MEMORY_AND_DISK());
  }

  /** Labelled rows and the churners among them (one pass): the class weight and the vectors' partitions. */
  record Classes(long rows, long positives) {
    Classes {
      if (positives <= 0 || positives >= rows) {
        throw new IllegalArgumentException("the training snapshots hold " + positives + " churners among " + rows
            + " customers: both classes are needed");
      }
    }

    static Classes of(Dataset<Row> labelled) {
      Row r = labelled.agg(sum(col(Labels.LABEL)), count(lit(1))).first();
      return new Classes(r.getLong(1), r.isNullAt(0) ? 0 : r.getLong(0));
    }

    /** Positive-class weight n_neg / n_pos (negatives weigh 1), so both classes weigh the same in total. */
    double positiveWeight() {
      return (double) (rows - positives) / positives;
    }

    /** The partitions the optimiser's vectors get: one per {@link #ROWS_PER_PARTITION} rows begun. */
    int partitions() {
      return (int) Math.max(1, (rows + ROWS_PER_PARTITION - 1) / ROWS_PER_PARTITION);
    }
  }

  static Dataset<Row> weighted(Dataset<Row> labelled, double positiveWeight) {
    return labelled.withColumn(WEIGHT, when(col(Labels.LABEL).equalTo(1), lit(positiveWeight)).otherwise(lit(1.0)));
  }

  /** Calibrated probability from the pipeline's weighted output: sigmoid(logit(p) - offset). */
  public static Column calibrated(double offset) {
    Column p = least(greatest(functions.vector_to_array(col("_probability"), "float64").getItem(1), lit(1e-12)),
        lit(1 - 1e-12));
    Column logit = log(p.divide(lit(1.0).minus(p)));
    return lit(1.0).divide(lit(1.0).plus(exp(negate(logit.minus(lit(offset))))));
  }

  /** The smallest contribution to the logit a reason is given for (odds x 1.1). */
  public static final double REASON_FLOOR = 0.1;

  /**
   * Tunes on the validation snapshot, fits the registered model on {@link TimeSplit#fitDates}, and reports that
   * model on the test snapshot, where its decision threshold is also set; the high-risk cut is the
   * {@code 1 - highRiskShare} quantile of its scores on {@code newest} (the snapshot of the as-of date, the one
   * it will score first; the test snapshot when null), so the high tier holds that share of customers.
   *
   * @param snapshots snapshots of every date in {@code split.allDates()}: features plus {@link Labels#LABEL};
   *     cached by the caller (it is read many times: once per preparation stage, twice per fit)
   * @param newestSnapshot the features of the as-of date (unlabelled), or null
   * @param history the warehouse's history, which sets the model's inputs ({@link ObservedHistory})
   */
  public static Outcome train(Dataset<Row> snapshots, Dataset<Row> newestSnapshot, TimeSplit split,
      ObservedHistory history, Config config) {
    List<String> numeric = history.numeric(java.util.Collections.min(split.trainDates()));
    List<String> categorical = FeatureCatalogue.categorical();
    List<String> scaled = ObservedHistory.scaled(numeric);
    Dataset<Row> labelled = history.inputs(snapshots, scaled);
    Dataset<Row> newest = newestSnapshot == null ? null : history.inputs(newestSnapshot, scaled);
    // Not cached again: slices of labelled, which callers cache (a cached scan skips the other dates' batches).
    // Building columnar caches was a third of the CPU samples of a profiled CDNOW training; these were copies.
    Dataset<Row> train = on(labelled, split.trainDates());
    Dataset<Row> validation = on(labelled, List.of(split.validationDate()));
    Classes trainClasses = Classes.of(train);
    Dataset<Row> weightedTrain = weighted(train, trainClasses.positiveWeight());
    double offset = Math.log(trainClasses.positiveWeight());

    Tuning.Choice chosen = Tuning.choose(weightedTrain, validation, offset, trainClasses.partitions(), config, numeric,
        categorical);
    double bestReg = chosen.regParam();
    double bestEn = chosen.elasticNetParam();

    // The registered model: the chosen regularisation fitted on every snapshot whose labels close by the test
    // date (training plus validation; training only in the two-date fallback, where it is the tuned model).
    Dataset<Row> fit = on(labelled, split.fitDates());
    Classes fitClasses = Classes.of(fit);
    Dataset<Row> weightedFit = weighted(fit, fitClasses.positiveWeight());
    PipelineModel finalModel = refit(weightedFit, fitClasses.partitions(), bestReg, bestEn, config, numeric,
        categorical);
    double finalOffset = Math.log(fitClasses.positiveWeight());
    Drift.Reference reference = Drift.reference(fit, numeric);
    ModelSpec.Explanation explanation = explanation(finalModel, weightedFit, numeric);

    // Reported on the test snapshot, which neither tuning nor fitting saw; thresholds from the same scores.
    Evaluation e = evaluate(finalModel, finalOffset, on(labelled, List.of(split.testDate())), newest, split, config,
        numeric, categorical);
    ModelSpec spec = new ModelSpec(0,
        new ModelSpec.Split(split.testDate().plusDays(split.horizonDays()).toString(), split.horizonDays(),
            split.trainDates().stream().map(LocalDate::toString).toList(), split.validationDate().toString(),
            split.testDate().toString(), split.evaluation()),
        new ModelSpec.Inputs(numeric, categorical, ModelSpec.fingerprint(snapshots.schema(), numeric, categorical),
            e.slots(), scaled),
        new ModelSpec.Fit(bestReg, bestEn, config.seed(), chosen.table(), finalOffset),
        new ModelSpec.Tiers(e.high(), e.medium(), e.decision(), "high: the top "
            + Math.round(100 * config.highRiskShare()) + "% of this model's scores on " + e.cutDate()
            + "; medium: at or above the churn rate of the test snapshot " + split.testDate()
            + "; decision threshold: maximal F1 on the test snapshot"),
        new ModelSpec.Quality(chosen.metrics(), new LinkedHashMap<>(e.quality().metrics()), e.baseline().metrics(),
            e.quality().calibration(), e.roc()), reference, Map.of(), explanation);
    return new Outcome(finalModel, spec);
  }

  /**
   * The pipeline of the chosen regularisation fitted on {@code weightedFit}: the preparation fitted on it as it
   * comes (its medians and scales are aggregates whose approximation depends on how the rows are partitioned), the
   * regression on its vectors in {@code partitions} partitions ({@link #ROWS_PER_PARTITION}); one pipeline of
   * both, with the stages a fit of the whole pipeline gives. The regression's training summary refers to those
   * checkpointed vectors, so their blocks stay in the block store while the model is referenced (a command's
   * life).
   */
  static PipelineModel refit(Dataset<Row> weightedFit, int partitions, double regParam, double elasticNet,
      Config config, List<String> numeric, List<String> categorical) {
    PipelineModel prep = Preparation.fit(weightedFit, numeric, categorical);
    Dataset<Row> vectors = optimiserInput(prep.transform(weightedFit).select(SCALED, Labels.LABEL, WEIGHT), partitions);
    List<PipelineStage> stages = new ArrayList<>(List.of(prep.stages()));
    stages.add(logisticRegression(regParam, elasticNet, config).fit(vectors));
    // A pipeline of fitted stages only: its fit assembles them without reading the data.
    return new Pipeline().setStages(stages.toArray(PipelineStage[]::new)).fit(weightedFit);
  }

  /** The registered model's figures on the test snapshot, its input slots, and its thresholds. */
  private record Evaluation(BinaryMetrics.Result quality, BinaryMetrics.Result baseline, List<double[]> roc,
      double decision, double high, double medium, String cutDate, List<String> slots) {}

  /**
   * Scores {@code test} with the registered model: its metrics, the recency baseline's, the ROC curve, the F1
   * decision threshold, and the high-risk cut on {@code newest} (on the test snapshot when null).
   */
  private static Evaluation evaluate(PipelineModel finalModel, double finalOffset, Dataset<Row> test,
      Dataset<Row> newest, TimeSplit split, Config config, List<String> numeric, List<String> categorical) {
    Dataset<Row> scoredTest = finalModel.transform(test).withColumn(PROBABILITY, calibrated(finalOffset))
        .persist(StorageLevel.MEMORY_AND_DISK());
    BinaryMetrics.Counts counts = BinaryMetrics.Counts.of(scoredTest, PROBABILITY, Labels.LABEL);
    BinaryMetrics.Result quality = BinaryMetrics.compute(counts, true);
    BinaryMetrics.Result baseline = BinaryMetrics.compute(test, "days_since_last_activity", Labels.LABEL, false);
    List<double[]> roc = new ArrayList<>();
    double decision = BinaryMetrics.f1Threshold(counts, roc);
    List<String> slots = Preparation.slotFeatures(scoredTest, numeric, categorical);
    scoredTest.unpersist();
    BinaryMetrics.Counts cutOn = counts;
    String cutDate = split.testDate().toString();
    if (newest != null) {
      cutOn = BinaryMetrics.Counts.of(finalModel.transform(newest).withColumn(PROBABILITY, calibrated(finalOffset))
          .withColumn(Labels.LABEL, lit(0)), PROBABILITY, Labels.LABEL);
      cutDate = split.testDate().plusDays(split.horizonDays()).toString();
    }
    double high = cutOn.quantile(1 - config.highRiskShare());
    double medium = Math.min(quality.metrics().get("base_rate"), high);
    return new Evaluation(quality, baseline, roc, decision, high, medium, cutDate, slots);
  }

  /** The rows of {@code snapshots} dated on one of {@code dates}. */
  public static Dataset<Row> on(Dataset<Row> snapshots, List<LocalDate> dates) {
    return snapshots.where(col(FeatureBuilder.AS_OF_DATE).isin(dates.stream().map(java.sql.Date::valueOf).toArray()));
  }

  /**
   * Per input slot, the sign of its mean standardised value among churners minus among stayers in {@code fit};
   * per numeric feature, its median there (the imputer's, back from log(1 + x) where the model takes it).
   */
  private static ModelSpec.Explanation explanation(PipelineModel model, Dataset<Row> fit, List<String> numeric) {
    List<Row> means = model.transform(fit).groupBy(col(Labels.LABEL))
        .agg(org.apache.spark.ml.stat.Summarizer.mean(col(SCALED)).as("m")).collectAsList();
    double[] churners = null;
    double[] stayers = null;
    for (Row r : means) {
      double[] m = ((org.apache.spark.ml.linalg.Vector) r.getAs("m")).toArray();
      if (((Number) r.getAs(Labels.LABEL)).intValue() == 1) {
        churners = m;
      } else {
        stayers = m;
      }
    }
    List<Double> directions = new ArrayList<>();
    for (int i = 0; i < churners.length; i++) {
      directions.add(Math.signum(churners[i] - stayers[i]));
    }
    Map<String, Double> typical = new LinkedHashMap<>();
    for (org.apache.spark.ml.Transformer stage : model.stages()) {
      if (stage instanceof org.apache.spark.ml.feature.ImputerModel imputer) {
        Row medians = imputer.surrogateDF().first();
        for (String f : numeric) {
          double t = ((Number) medians.getAs("t__" + f)).doubleValue();
          typical.put(f, Preparation.logged(f) ? Math.expm1(t) : t);
        }
      }
    }
    return new ModelSpec.Explanation(directions, typical, REASON_FLOOR);
  }
}
