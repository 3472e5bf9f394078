package dev.churn.models;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.FeatureBuilder;
import dev.churn.features.FeatureFacts;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Scores a feature snapshot with a fitted model: calibrated churn probability, risk tier, lifecycle stage and
 * the top reasons. A reason is a feature's contribution to the logit, coefficient x standardised value summed
 * over the feature's input slots; the intercept plus every feature's contribution is the model's raw logit, so
 * the reasons add up with the score. The three largest positive contributions are reported, each with the
 * feature, its value, its contribution and a readable phrase, when they are reasons ({@link TopReasons}); a
 * customer without any gets one row without a feature whose phrase is {@link Reasons#NO_SIGNAL}.
 */
public final class ChurnScorer {
  private ChurnScorer() {}

  public static final String RISK_TIER = "risk_tier";
  public static final String TOP_REASONS = "top_reasons";
  public static final String MODEL_VERSION = "model_version";
  public static final String CONTRIBUTIONS = "_contributions";

  public static final StructType REASON = new StructType()
      .add("feature", DataTypes.StringType)
      .add("value", DataTypes.StringType)
      .add("contribution", DataTypes.DoubleType)
      .add("phrase", DataTypes.StringType);

  /** Thrown when a snapshot does not carry the model's features; the jobs map it to exit code 3. */
  public static final class FeatureMismatch extends IllegalStateException {
    public FeatureMismatch(String message) {
      super(message);
    }
  }

  public static double intercept(PipelineModel model) {
    return lr(model).intercept();
  }

  private static LogisticRegressionModel lr(PipelineModel model) {
    return (LogisticRegressionModel) model.stages()[model.stages().length - 1];
  }

  /**
   * Rows of {@code churn_scores}: customer_id, as_of_date, churn_probability, risk_tier, lifecycle_stage,
   * top_reasons, model_version; with {@code withContributions}, also every feature's contribution (a map).
   */
  public static Dataset<Row> score(Dataset<Row> snapshot, PipelineModel model, ModelSpec spec, ObservedHistory history,
      boolean withContributions) {
    String mismatch = spec.mismatch(snapshot.schema());
    if (mismatch != null) {
      throw new FeatureMismatch("the features do not match model v" + spec.version() + " (" + mismatch
          + "): rebuild them with this version's feature code, or retrain");
    }
    Dataset<Row> features = history.inputs(snapshot, spec);
    double[] coefficients = lr(model).coefficients().toArray();
    String[] slots = spec.inputs().slots().toArray(String[]::new);
    List<String> inputs = spec.inputs().all();
    // Each input's value as text, in the order of inputs (what a reason shows): an array, not a map, since a map
    // built and converted for every row was a fifth of a scoring's task time (15,581 customers, JFR).
    Column values = array(inputs.stream().map(f -> col(f).cast("string")).toArray(Column[]::new));
    UserDefinedFunction reasons = udf(new TopReasons(coefficients, slots, inputs, spec.explanation(),
        Reasons.vocabulary(spec.environment()), spec.inputs().scaled()), DataTypes.createArrayType(REASON));
    Dataset<Row> scored = model.transform(features)
        .withColumn(ChurnTrainer.PROBABILITY, ChurnTrainer.calibrated(spec.fit().calibrationOffset()));
    List<Column> out = new ArrayList<>(List.of(
        col("customer_id"),
        col(FeatureBuilder.AS_OF_DATE),
        col(ChurnTrainer.PROBABILITY),
        when(col(ChurnTrainer.PROBABILITY).geq(spec.tiers().high()), lit("high"))
            .when(col(ChurnTrainer.PROBABILITY).geq(spec.tiers().medium()), lit("medium"))
            .otherwise(lit("low")).as(RISK_TIER),
        col(FeatureBuilder.LIFECYCLE_STAGE),
        reasons.apply(col(ChurnTrainer.SCALED), values).as(TOP_REASONS),
        lit(spec.version()).as(MODEL_VERSION)));
    if (withContributions) {
      out.add(udf((UDF1<Vector, Map<String, Double>>) v -> contributions(coefficients, slots, v),
          DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType)).apply(col(ChurnTrainer.SCALED))
          .as(CONTRIBUTIONS));
    }
    return scored.select(out.toArray(Column[]::new));
  }

  /** Per feature, in slot order: the sum over its slots of coefficient x standardised value. */
  static Map<String, Double> contributions(double[] coefficients, String[] slots, Vector scaled) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (int i = 0; i < slots.length; i++) {
      out.merge(slots[i], coefficients[i] * scaled.apply(i), Double::sum);
    }
    return out;
  }

  /**
   * The three largest contributions that are reasons: above the model's floor, and on the risky side of the
   * population on their own (a numeric value beyond the training median in the direction churners lie; a
   * category whose customers churn more than the rest), so no reason says the customer is healthy. Specs without
   * an {@link ModelSpec.Explanation} (older models) keep every positive contribution.
   */
  static final class TopReasons implements UDF2<Vector, scala.collection.Seq<String>, List<Row>>, Serializable {
    private final double[] coefficients;
    private final String[] slots;
    /** Each input's position in the values a row gives. */
    private final Map<String, Integer> position = new java.util.HashMap<>();
    private final ModelSpec.Explanation explanation;
    private final Map<String, String> vocabulary;
    private final List<String> scaledInputs;

    TopReasons(double[] coefficients, String[] slots, List<String> inputs, ModelSpec.Explanation explanation,
        Map<String, String> vocabulary, List<String> scaled) {
      this.coefficients = coefficients;
      this.slots = slots;
      for (int i = 0; i < inputs.size(); i++) {
        position.put(inputs.get(i), i);
      }
      this.explanation = explanation;
      this.vocabulary = vocabulary;
      this.scaledInputs = List.copyOf(scaled);
    }

    @Override
    public List<Row> call(Vector scaled, scala.collection.Seq<String> values) {
      Map<String, Double> c = contributions(coefficients, slots, scaled);
      java.util.function.Function<String, String> v = f -> {
        Integer i = position.get(f);
        return i == null ? null : values.apply(i);
      };
      List<Map.Entry<String, Double>> sorted = new ArrayList<>(c.entrySet());
      sorted.sort(Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder()));
      double floor = explanation == null ? 0 : explanation.floor();
      List<Row> out = new ArrayList<>();
      for (Map.Entry<String, Double> e : sorted) {
        if (out.size() == 3 || e.getValue() <= floor) {
          break;
        }
        String feature = e.getKey();
        String value = v.apply(feature);
        if ((explanation == null || risky(feature, value, scaled)) && !shownAlready(feature, value, out)) {
          Double typical = explanation == null ? null : explanation.typical().get(feature);
          out.add(RowFactory.create(feature, value, e.getValue(),
              Reasons.phrase(feature, value, typical, vocabulary, scaledInputs.contains(feature))));
        }
      }
      if (out.isEmpty() && explanation != null) {
        out.add(RowFactory.create(null, null, null, Reasons.NO_SIGNAL));
      }
      return out;
    }

    /**
     * Whether a stronger reason already chosen states the same fact ({@link FeatureFacts#sameFact}: "1 day with
     * any event over all history" and "... in the last 365 days" for a customer of one day). The next reason takes
     * its place.
     */
    static boolean shownAlready(String feature, String value, List<Row> chosen) {
      return chosen.stream().anyMatch(r -> FeatureFacts.sameFact(r.getString(0), r.getString(1), feature, value));
    }

    private boolean risky(String feature, String value, Vector scaled) {
      Double typical = explanation.typical().get(feature);
      for (int i = 0; i < slots.length; i++) {
        if (!slots[i].equals(feature)) {
          continue;
        }
        double direction = explanation.slotDirections().get(i);
        if (typical == null) { // a category: the customer's level is its slot above the mean
          if (scaled.apply(i) > 0 && direction > 0) {
            return true;
          }
        } else {
          return value != null && direction * (Double.parseDouble(value) - typical) > 0;
        }
      }
      return false;
    }
  }
}
