package dev.churn.models;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.FeatureBuilder;
import dev.churn.features.Labels;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.feature.Imputer;
import org.apache.spark.ml.feature.OneHotEncoder;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.functions;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Trains the churn model: a Spark ML pipeline (log(1 + x) of counts, median imputation, one-hot categoricals,
 * standard scaling,
 * class-weighted logistic regression) fitted on labelled snapshots before the validation date, with
 * regularisation (regParam x elasticNetParam) chosen on the out-of-time validation snapshot by PR-AUC, then
 * refitted on every labelled snapshot. Class weights help ranking but inflate probabilities; the weights' prior
 * shift, log(w_pos / w_neg), is subtracted from the logit so the stored probabilities are calibrated.
 *
 * <p>Defaults: regParam in {0.001, 0.01, 0.05}, elasticNetParam in {0, 0.5}, 50 iterations, seed 7.
 */
public final class ChurnTrainer {
  private ChurnTrainer() {}

  public static final String ASSEMBLED = "_assembled";
  public static final String SCALED = "_scaled";
  public static final String WEIGHT = "_weight";
  public static final String RAW_PROBABILITY = "_raw_probability";
  public static final String PROBABILITY = "churn_probability";

  /**
   * The regularisation grid, iterations, seed, and the share of the validation snapshot's customers whose score
   * sets the high-risk threshold (0.10: the top decile is "high").
   */
  public record Config(List<Double> regParams, List<Double> elasticNetParams, int maxIter, long seed,
      double highRiskShare) {
    public static final double DEFAULT_HIGH_RISK_SHARE = 0.10;
    /** The seed recorded with a model unless another is given. */
    public static final long DEFAULT_SEED = 7;

    public Config(List<Double> regParams, List<Double> elasticNetParams, int maxIter, long seed) {
      this(regParams, elasticNetParams, maxIter, seed, DEFAULT_HIGH_RISK_SHARE);
    }

    public Config {
      if (!(highRiskShare > 0 && highRiskShare < 1)) {
        throw new IllegalArgumentException("the high-risk share must be between 0 and 1, not " + highRiskShare);
      }
    }

    public static Config defaults() {
      return new Config(List.of(0.001, 0.01, 0.05), List.of(0.0, 0.5), 50, DEFAULT_SEED);
    }

    public Config withSeedAndShare(long newSeed, double share) {
      return new Config(regParams, elasticNetParams, maxIter, newSeed, share);
    }
  }

  /** The refitted pipeline and its spec (version 0 until registered). */
  public record Outcome(PipelineModel model, ModelSpec spec) {}

  /**
   * Non-negative counts, days, seats and money enter the model as log(1 + x): their effect on the churn odds is
   * far from linear (the first silent week matters more than the tenth), and heavy tails would dominate a
   * linear term. Trends, flags and signed changes stay as they are.
   */
  static boolean logged(String feature) {
    return FeatureBuilder.catalogue().stream().anyMatch(f -> f.name().equals(feature) && !f.categorical()
        && List.of("count", "days", "users", "currency").contains(f.unit()) && !feature.equals("mrr_change_90d")
        && !feature.equals("days_to_trial_end"));
  }

  /** Log transform, imputation, encoding, assembly and scaling: fitted once per training set. */
  static List<PipelineStage> preparation(List<String> numeric, List<String> categorical) {
    List<PipelineStage> stages = new ArrayList<>();
    StringBuilder select = new StringBuilder("SELECT *");
    for (String f : numeric) {
      select.append(", ").append(logged(f) ? "log1p(greatest(`" + f + "`, 0D))" : "`" + f + "`").append(" AS `t__")
          .append(f).append('`');
    }
    stages.add(new SQLTransformer().setStatement(select + " FROM __THIS__"));
    String[] idx = categorical.stream().map(c -> "i__" + c).toArray(String[]::new);
    String[] hot = categorical.stream().map(c -> "c__" + c).toArray(String[]::new);
    String[] imputed = numeric.stream().map(c -> "f__" + c).toArray(String[]::new);
    stages.add(new StringIndexer().setInputCols(categorical.toArray(String[]::new)).setOutputCols(idx)
        .setHandleInvalid("keep").setStringOrderType("alphabetAsc"));
    stages.add(new OneHotEncoder().setInputCols(idx).setOutputCols(hot).setHandleInvalid("keep").setDropLast(false));
    stages.add(new Imputer().setInputCols(numeric.stream().map(c -> "t__" + c).toArray(String[]::new))
        .setOutputCols(imputed).setStrategy("median"));
    List<String> assembled = new ArrayList<>(List.of(imputed));
    assembled.addAll(List.of(hot));
    stages.add(new VectorAssembler().setInputCols(assembled.toArray(String[]::new)).setOutputCol(ASSEMBLED)
        .setHandleInvalid("keep"));
    stages.add(new StandardScaler().setInputCol(ASSEMBLED).setOutputCol(SCALED).setWithMean(true).setWithStd(true));
    return stages;
  }

  static LogisticRegression logisticRegression(double regParam, double elasticNet, Config config) {
    return new LogisticRegression().setFeaturesCol(SCALED).setLabelCol(Labels.LABEL).setWeightCol(WEIGHT)
        .setRegParam(regParam).setElasticNetParam(elasticNet).setMaxIter(config.maxIter()).setStandardization(false)
        .setFamily("binomial").setProbabilityCol("_probability").setRawPredictionCol("_raw")
        .setPredictionCol("_prediction");
  }

  static Pipeline pipeline(List<String> numeric, List<String> categorical, double regParam, double elasticNet,
      Config config) {
    List<PipelineStage> stages = preparation(numeric, categorical);
    stages.add(logisticRegression(regParam, elasticNet, config));
    return new Pipeline().setStages(stages.toArray(PipelineStage[]::new));
  }

  /** Positive-class weight n_neg / n_pos (negatives weigh 1), so both classes weigh the same in total. */
  static double positiveWeight(Dataset<Row> labelled) {
    Row r = labelled.agg(sum(col(Labels.LABEL)), count(lit(1))).first();
    long pos = r.isNullAt(0) ? 0 : r.getLong(0);
    long n = r.getLong(1);
    if (pos == 0 || pos == n) {
      throw new IllegalArgumentException("the training snapshots hold " + pos + " churners among " + n
          + " customers: both classes are needed");
    }
    return (double) (n - pos) / pos;
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

  /**
   * @param labelled snapshots of every date in {@code split.allDates()}: features plus {@link Labels#LABEL}
   */
  public static Outcome train(Dataset<Row> labelled, TimeSplit split, Config config) {
    List<String> numeric = FeatureBuilder.numericFeatures();
    List<String> categorical = FeatureBuilder.categoricalFeatures();
    Column asOf = col(FeatureBuilder.AS_OF_DATE);
    Column inTrain = asOf.isin(split.trainDates().stream().map(java.sql.Date::valueOf).toArray());
    Dataset<Row> train = labelled.where(inTrain).persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> validation = labelled.where(asOf.equalTo(lit(java.sql.Date.valueOf(split.validationDate()))))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      double trainWeight = positiveWeight(train);
      Dataset<Row> weightedTrain = weighted(train, trainWeight);
      double offset = Math.log(trainWeight);

      // Regularisation chosen on the out-of-time snapshot by PR-AUC; the preparation stages do not depend on
      // it, so they are fitted once and every grid point reads the same cached vectors.
      PipelineModel prep = new Pipeline().setStages(preparation(numeric, categorical).toArray(PipelineStage[]::new))
          .fit(weightedTrain);
      Dataset<Row> trainVectors = prep.transform(weightedTrain).select(SCALED, Labels.LABEL, WEIGHT)
          .persist(StorageLevel.MEMORY_AND_DISK());
      Dataset<Row> validationVectors = prep.transform(validation).persist(StorageLevel.MEMORY_AND_DISK());
      List<Map<String, Double>> tuning = new ArrayList<>();
      double bestPr = -1;
      double bestReg = 0;
      double bestEn = 0;
      LogisticRegressionModel bestModel = null;
      for (double reg : config.regParams()) {
        for (double en : config.elasticNetParams()) {
          LogisticRegressionModel m = logisticRegression(reg, en, config).fit(trainVectors);
          Dataset<Row> scored = m.transform(validationVectors).withColumn(PROBABILITY, calibrated(offset));
          BinaryMetrics.Result r = BinaryMetrics.compute(scored, PROBABILITY, Labels.LABEL, false);
          Map<String, Double> row = new LinkedHashMap<>();
          row.put("reg_param", reg);
          row.put("elastic_net_param", en);
          row.put("pr_auc", r.metrics().get("pr_auc"));
          row.put("roc_auc", r.metrics().get("roc_auc"));
          tuning.add(row);
          if (r.metrics().get("pr_auc") > bestPr) {
            bestPr = r.metrics().get("pr_auc");
            bestReg = reg;
            bestEn = en;
            bestModel = m;
          }
        }
      }
      Dataset<Row> scoredValidation = bestModel.transform(validationVectors)
          .withColumn(PROBABILITY, calibrated(offset)).persist(StorageLevel.MEMORY_AND_DISK());
      trainVectors.unpersist();
      BinaryMetrics.Result quality = BinaryMetrics.compute(scoredValidation, PROBABILITY, Labels.LABEL, true);
      BinaryMetrics.Result baseline = BinaryMetrics.compute(validation, "days_since_last_activity", Labels.LABEL, false);
      double[] tiers = scoredValidation.stat().approxQuantile(PROBABILITY,
          new double[] {1 - config.highRiskShare()}, 0.001);
      List<double[]> roc = new ArrayList<>();
      double decision = f1Threshold(scoredValidation, roc);
      List<String> slots = slotFeatures(scoredValidation, numeric, categorical);
      scoredValidation.unpersist();
      validationVectors.unpersist();

      // Refit on every labelled snapshot with the chosen regularisation.
      double allWeight = positiveWeight(labelled);
      PipelineModel finalModel = pipeline(numeric, categorical, bestReg, bestEn, config)
          .fit(weighted(labelled, allWeight));
      Drift.Reference reference = Drift.reference(labelled, numeric);

      Map<String, Double> metrics = new LinkedHashMap<>(quality.metrics());
      double high = tiers[0];
      double medium = Math.min(quality.metrics().get("base_rate"), high);
      ModelSpec spec = new ModelSpec(0, split.validationDate().plusDays(split.horizonDays()).toString(),
          split.horizonDays(), split.trainDates().stream().map(LocalDate::toString).toList(),
          split.validationDate().toString(), numeric, categorical,
          ModelSpec.fingerprint(labelled.schema(), numeric, categorical), slots, Math.log(allWeight), high, medium,
          decision, "high: the top " + Math.round(100 * config.highRiskShare()) + "% of the validation's scores; medium: at or above the validation "
              + "churn rate; decision threshold: maximal F1 on the validation snapshot",
          bestReg, bestEn, config.seed(), metrics, baseline.metrics(), quality.calibration(), roc, tuning,
          reference.edges(), reference.shares(), Map.of());
      return new Outcome(finalModel, spec);
    } finally {
      train.unpersist();
      validation.unpersist();
    }
  }

  /**
   * The probability cut (among the score's percentiles) with the best F1 on the validation snapshot; fills
   * {@code roc} with the (FPR, TPR) point of every cut, from (0, 0) to (1, 1).
   */
  static double f1Threshold(Dataset<Row> scored, List<double[]> roc) {
    double[] probs = new double[99];
    for (int i = 0; i < probs.length; i++) {
      probs[i] = (i + 1) / 100.0;
    }
    double[] cuts = scored.stat().approxQuantile(PROBABILITY, probs, 0.001);
    List<Column> aggs = new ArrayList<>();
    for (double c : cuts) {
      Column predicted = col(PROBABILITY).geq(c);
      aggs.add(sum(when(predicted.and(col(Labels.LABEL).equalTo(1)), 1).otherwise(0)));
      aggs.add(sum(when(predicted, 1).otherwise(0)));
    }
    aggs.add(sum(col(Labels.LABEL)));
    aggs.add(count(lit(1)));
    Row r = scored.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(Column[]::new)).first();
    long positives = r.getLong(aggs.size() - 2);
    long negatives = r.getLong(aggs.size() - 1) - positives;
    roc.add(new double[] {0, 0});
    double best = -1;
    double bestCut = 0.5;
    for (int i = 0; i < cuts.length; i++) {
      long tp = r.getLong(2 * i);
      long predicted = r.getLong(2 * i + 1);
      double f1 = predicted + positives == 0 ? 0 : 2.0 * tp / (predicted + positives);
      roc.add(new double[] {negatives == 0 ? 0 : (double) (predicted - tp) / negatives,
          positives == 0 ? 0 : (double) tp / positives});
      if (f1 > best) {
        best = f1;
        bestCut = cuts[i];
      }
    }
    roc.add(new double[] {1, 1});
    roc.sort(java.util.Comparator.<double[]>comparingDouble(p -> p[0]).thenComparingDouble(p -> p[1]));
    return bestCut;
  }

  /** For each slot of the model's input vector, the feature it belongs to (a categorical has one slot per value). */
  static List<String> slotFeatures(Dataset<Row> transformed, List<String> numeric, List<String> categorical) {
    AttributeGroup group = AttributeGroup.fromStructField(transformed.schema().apply(ASSEMBLED));
    Attribute[] attrs = group.attributes().get();
    List<String> out = new ArrayList<>();
    for (Attribute a : attrs) {
      String name = a.name().get();
      String feature = null;
      if (name.startsWith("f__")) {
        feature = name.substring(3);
      } else if (name.startsWith("c__")) {
        for (String c : categorical) {
          if (name.startsWith("c__" + c + "_") && (feature == null || c.length() > feature.length())) {
            feature = c;
          }
        }
      }
      if (feature == null || !(numeric.contains(feature) || categorical.contains(feature))) {
        throw new IllegalStateException("cannot map model input slot '" + name + "' to a feature");
      }
      out.add(feature);
    }
    return out;
  }
}
