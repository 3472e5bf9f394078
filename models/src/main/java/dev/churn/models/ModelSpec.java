package dev.churn.models;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
 * Everything a fitted churn model needs besides its Spark pipeline: the feature contract (names, types and a
 * schema fingerprint), the calibration offset, the risk-tier thresholds, how it was trained (dates, horizon,
 * seed, chosen regularisation), its metrics (with the validation ROC curve as (FPR, TPR) points at the score's
 * percentiles), and the training distributions of its features for drift checks.
 * Stored as JSON beside the pipeline.
 */
public record ModelSpec(
    int version,
    String asOfDate,
    int horizonDays,
    List<String> trainDates,
    String validationDate,
    List<String> numericFeatures,
    List<String> categoricalFeatures,
    String fingerprint,
    List<String> slotFeatures,
    double calibrationOffset,
    double thresholdHigh,
    double thresholdMedium,
    double decisionThreshold,
    String thresholdRule,
    double regParam,
    double elasticNetParam,
    long seed,
    Map<String, Double> validationMetrics,
    Map<String, Double> baselineMetrics,
    List<BinaryMetrics.Decile> calibration,
    List<double[]> roc,
    List<Map<String, Double>> tuning,
    Map<String, double[]> driftEdges,
    Map<String, double[]> driftShares,
    Map<String, String> environment) {

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public ModelSpec withVersion(int v) {
    return new ModelSpec(v, asOfDate, horizonDays, trainDates, validationDate, numericFeatures, categoricalFeatures,
        fingerprint, slotFeatures, calibrationOffset, thresholdHigh, thresholdMedium, decisionThreshold, thresholdRule,
        regParam, elasticNetParam, seed, validationMetrics, baselineMetrics, calibration, roc, tuning, driftEdges,
        driftShares, environment);
  }

  public ModelSpec withMetrics(Map<String, Double> metrics, Map<String, String> env) {
    return new ModelSpec(version, asOfDate, horizonDays, trainDates, validationDate, numericFeatures,
        categoricalFeatures, fingerprint, slotFeatures, calibrationOffset, thresholdHigh, thresholdMedium,
        decisionThreshold, thresholdRule, regParam, elasticNetParam, seed, metrics, baselineMetrics, calibration,
        roc, tuning, driftEdges, driftShares, env);
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
      return JSON.readValue(json, ModelSpec.class);
    } catch (IOException e) {
      throw new IllegalArgumentException("model metadata is not readable: " + e.getMessage(), e);
    }
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
    if (fingerprint(schema, numericFeatures, categoricalFeatures).equals(fingerprint)) {
      return null;
    }
    List<String> missing = new ArrayList<>();
    List<String> retyped = new ArrayList<>();
    for (String name : numericFeatures) {
      if (schema.getFieldIndex(name).isEmpty()) {
        missing.add(name);
      } else if (!schema.apply(name).dataType().simpleString().equals("double")) {
        retyped.add(name + " is " + schema.apply(name).dataType().simpleString() + ", not double");
      }
    }
    for (String name : categoricalFeatures) {
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
