package dev.churn.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Everything a fitted churn model needs besides its Spark pipeline, in a few small parts: the {@link Split} it
 * learnt and was validated on, the {@link Inputs} contract (features, types fingerprint, vector slots), how it
 * was {@link Fit} (regularisation, seed, tuning table, calibration offset), its risk {@link Tiers}, its
 * out-of-time {@link Quality} (metrics, calibration by decile, ROC points at the score's percentiles), and the
 * training distributions for drift. Stored as JSON beside the pipeline; specs written before these parts existed
 * (one flat object) are still read.
 */
public record ModelSpec(int version, Split split, Inputs inputs, Fit fit, Tiers tiers, Quality quality,
    Drift.Reference drift, Map<String, String> environment, Explanation explanation) {

  /**
   * The as-of date and horizon it was trained for, its training snapshots, its validation snapshot (tuning only)
   * and its test snapshot (reported only); {@code evaluation} says how the reported metrics were obtained
   * ({@link TimeSplit#evaluation}). Specs written before the test snapshot existed have neither (null).
   */
  public record Split(String asOfDate, int horizonDays, List<String> trainDates, String validationDate,
      String testDate, String evaluation) {
    /** The snapshot the reported metrics are on: the test snapshot, or the validation for older specs. */
    public String reportedDate() {
      return testDate == null ? validationDate : testDate;
    }

    /** Whether the reported metrics are on a held-out test snapshot (not the tuning one). */
    public boolean heldOutTest() {
      return testDate != null && !testDate.equals(validationDate);
    }
  }

  /**
   * The feature contract: numeric and categorical inputs, the fingerprint of their names and types, the
   * feature each slot of the model's input vector belongs to, and the numeric inputs the model takes scaled
   * to a full window ({@link ObservedHistory}).
   */
  public record Inputs(List<String> numeric, List<String> categorical, String fingerprint, List<String> slots,
      List<String> scaled) {
    /** Every input, numeric then categorical. */
    public List<String> all() {
      return concat(numeric, categorical);
    }

    /** The inputs scaled to a full window ({@link ObservedHistory}); none for specs written before it existed. */
    public List<String> scaled() {
      return scaled == null ? List.of() : scaled;
    }
  }

  /** The chosen regularisation, the seed, the tuning table, and the logit offset that calibrates probabilities. */
  public record Fit(double regParam, double elasticNetParam, long seed, List<Map<String, Double>> tuning,
      double calibrationOffset) {}

  /** Risk-tier thresholds on the probability, the decision threshold, and the rule that set them. */
  public record Tiers(double high, double medium, double decision, String rule) {}

  /**
   * Out-of-time quality: the tuned model's metrics on the validation snapshot (what chose the regularisation),
   * the registered model's on the test snapshot (what is reported), the recency baseline's on the test snapshot,
   * and the registered model's calibration by decile and ROC points there. Specs written before the test
   * snapshot existed have no {@code test} map: their validation metrics are what they reported.
   */
  public record Quality(Map<String, Double> validation, Map<String, Double> test, Map<String, Double> baseline,
      List<BinaryMetrics.Decile> calibration, List<double[]> roc) {
    /** The reported metrics: the test snapshot's, or an older spec's validation metrics. */
    public Map<String, Double> reported() {
      return test == null ? validation : test;
    }
  }

  /**
   * What the reasons need beyond the coefficients: for each slot of the input vector, its risky direction on its
   * own (+1 when churners' mean value in the training snapshots is above stayers', -1 below, 0 equal: the sign
   * of the gap, not its double, so reruns store the same spec whatever order Spark sums in), whatever sign the
   * model gave it among correlated features; each numeric feature's typical (median) value among the training
   * customers; and the smallest contribution to the logit worth a reason.
   */
  public record Explanation(List<Double> slotDirections, Map<String, Double> typical, double floor)
      implements java.io.Serializable {}

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public ModelSpec withVersion(int v) {
    return new ModelSpec(v, split, inputs, fit, tiers, quality, drift, environment, explanation);
  }

  /** The same model with its reported (test) metrics replaced and the environment it was trained in. */
  public ModelSpec withMetrics(Map<String, Double> metrics, Map<String, String> env) {
    return new ModelSpec(version, split, inputs, fit, tiers,
        new Quality(quality.validation(), metrics, quality.baseline(), quality.calibration(), quality.roc()), drift,
        env, explanation);
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialise model spec", e);
    }
  }

  public static ModelSpec fromJson(String json) {
    try {
      JsonNode tree = JSON.readTree(json);
      return JSON.treeToValue(tree.has("split") ? tree : nest((ObjectNode) tree), ModelSpec.class);
    } catch (IOException | ClassCastException e) {
      throw new IllegalArgumentException("model metadata is not readable: " + e.getMessage(), e);
    }
  }

  /** A spec written as one flat object (before the parts existed), regrouped into the parts. */
  private static ObjectNode nest(ObjectNode flat) {
    ObjectNode out = JSON.createObjectNode();
    out.set("version", flat.get("version"));
    out.set("split", part(flat, "asOfDate", "asOfDate", "horizonDays", "horizonDays", "trainDates", "trainDates",
        "validationDate", "validationDate"));
    out.set("inputs", part(flat, "numericFeatures", "numeric", "categoricalFeatures", "categorical",
        "fingerprint", "fingerprint", "slotFeatures", "slots"));
    out.set("fit", part(flat, "regParam", "regParam", "elasticNetParam", "elasticNetParam", "seed", "seed",
        "tuning", "tuning", "calibrationOffset", "calibrationOffset"));
    out.set("tiers", part(flat, "thresholdHigh", "high", "thresholdMedium", "medium", "decisionThreshold", "decision",
        "thresholdRule", "rule"));
    out.set("quality", part(flat, "validationMetrics", "validation", "baselineMetrics", "baseline",
        "calibration", "calibration", "roc", "roc"));
    out.set("drift", part(flat, "driftEdges", "edges", "driftShares", "shares"));
    out.set("environment", flat.get("environment"));
    return out;
  }

  /** The fields {@code oldName, newName, ...} of {@code flat} as one object under their new names. */
  private static ObjectNode part(ObjectNode flat, String... oldAndNew) {
    ObjectNode part = JSON.createObjectNode();
    for (int i = 0; i < oldAndNew.length; i += 2) {
      part.set(oldAndNew[i + 1], flat.get(oldAndNew[i]));
    }
    return part;
  }

  /** SHA-256 over "name:type" of the model's input columns, in order, as they appear in {@code schema}. */
  public static String fingerprint(StructType schema, List<String> numeric, List<String> categorical) {
    List<String> parts = new ArrayList<>();
    for (String name : concat(numeric, categorical)) {
      StructField f = schema.getFieldIndex(name).isDefined() ? schema.apply(name) : null;
      parts.add(name + ":" + (f == null ? "missing" : f.dataType().simpleString()));
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(String.join(",", parts).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Null when {@code schema} carries the model's features with the trained types; otherwise what differs, in
   * one line.
   */
  public String mismatch(StructType schema) {
    if (fingerprint(schema, inputs.numeric(), inputs.categorical()).equals(inputs.fingerprint())) {
      return null;
    }
    List<String> missing = new ArrayList<>();
    List<String> retyped = new ArrayList<>();
    for (String name : inputs.numeric()) {
      if (schema.getFieldIndex(name).isEmpty()) {
        missing.add(name);
      } else if (!schema.apply(name).dataType().simpleString().equals("double")) {
        retyped.add(name + " is " + schema.apply(name).dataType().simpleString() + ", not double");
      }
    }
    for (String name : inputs.categorical()) {
      if (schema.getFieldIndex(name).isEmpty()) {
        missing.add(name);
      } else if (!schema.apply(name).dataType().simpleString().equals("string")) {
        retyped.add(name + " is " + schema.apply(name).dataType().simpleString() + ", not string");
      }
    }
    return (missing.isEmpty() ? "" : "missing " + missing) + (missing.isEmpty() || retyped.isEmpty() ? "" : "; ")
        + (retyped.isEmpty() ? "" : "changed " + retyped);
  }

  static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
