package dev.churn.models;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.FeatureBuilder;
import dev.churn.features.FeatureCatalogue;
import dev.churn.features.FeatureFacts;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * How the model takes features whose value depends on how much history the warehouse holds, so that a model
 * trained on a young warehouse reads them the same on its later nights; each feature's handling is declared in
 * the catalogue ({@link FeatureCatalogue#shortHistory}, docs/features.md):
 * <ul>
 *   <li>{@code SCALED}: a count over 365 days or over all history is scaled to the customer's full window, the
 *       feature's (or the customer's life since signup when shorter; over all history, its life) times the count
 *       over the days of that window the log covers. On a log of 120 days a customer of two years with 30 active
 *       days in the last 365 reads as 91; a customer who signed up within the log is counted in full and left as
 *       it is, so a purchase log whose customers begin with their first purchase (CDNOW) is not changed at all;
 *   <li>{@code LEFT_OUT}: left out of a model whose earliest training snapshot saw less history than the window
 *       (it could not be full on any date the model learnt from).
 * </ul>
 * The feature table keeps the values as counted; only the model's inputs, its drift reference and its reasons see
 * the scaled ones. Days are counted from the warehouse's first day on the day the model is used (a backfill of
 * older events lengthens every snapshot's history). Specs written before this existed scale nothing and take every
 * feature.
 *
 * <p>Measured (bench/results/features-history-2026-12-06.md): on the demo's first scoring the counts as counted
 * moved by PSI 1.23 to 1.40, scaled none is above 0.25, and the test figures rose (ROC-AUC 0.738 -> 0.742, PR-AUC
 * 0.053 -> 0.063); CDNOW's yardstick is unchanged (0.8409). Scaling every customer by the log's days alone, or by
 * its days since signup, cost CDNOW 0.001 and 0.010; leaving every unfilled count out, 0.003.
 */
public record ObservedHistory(LocalDate firstDay) {

  /** The days of history a snapshot of {@code asOf} sees: from the warehouse's first day, both included. */
  public long days(LocalDate asOf) {
    return ChronoUnit.DAYS.between(firstDay, asOf) + 1;
  }

  /**
   * The numeric features a model whose earliest training snapshot is {@code earliestTraining} takes: the
   * catalogue's, without those it leaves out while the log is younger than their window.
   */
  public List<String> numeric(LocalDate earliestTraining) {
    long seen = days(earliestTraining);
    return FeatureCatalogue.numeric().stream().filter(f -> !(FeatureCatalogue.shortHistory(f)
        == FeatureFacts.ShortHistory.LEFT_OUT && FeatureFacts.reach(f) > seen)).toList();
  }

  /** The features among {@code numeric} the model takes scaled to a full window. */
  public static List<String> scaled(List<String> numeric) {
    return numeric.stream().filter(f -> FeatureCatalogue.shortHistory(f) == FeatureFacts.ShortHistory.SCALED)
        .toList();
  }

  /** {@code snapshot} as model {@code spec} takes it: its scaled inputs scaled. */
  public Dataset<Row> inputs(Dataset<Row> snapshot, ModelSpec spec) {
    return inputs(snapshot, spec.inputs().scaled());
  }

  /**
   * {@code snapshot} with each of {@code scaled} scaled to a full window (null or empty: unchanged). A customer's
   * window is the feature's, or its life since signup when shorter (all history: its life); the log covers the
   * part of it since the warehouse's first day. The count is scaled by window / covered: a customer who signed up
   * within the log is counted in full and left as it is.
   */
  public Dataset<Row> inputs(Dataset<Row> snapshot, List<String> scaled) {
    if (scaled == null || scaled.isEmpty()) {
      return snapshot;
    }
    Column logDays = datediff(col(FeatureBuilder.AS_OF_DATE), lit(java.sql.Date.valueOf(firstDay))).plus(1);
    Column lifeDays = greatest(coalesce(col(FeatureCatalogue.TENURE_DAYS).plus(1), logDays), lit(1));
    Dataset<Row> out = snapshot;
    for (String f : scaled) {
      int reach = FeatureFacts.reach(f);
      Column window = reach == Integer.MAX_VALUE ? lifeDays : least(lifeDays, lit(reach));
      Column covered = greatest(least(window, logDays), lit(1));
      out = out.withColumn(f, col(f).multiply(window).divide(covered));
    }
    return out;
  }

  /**
   * A reason's words for a scaled value: the feature's own, on the value rounded to whole units, and "about" when
   * it was scaled ("about 137 days with any event in the last 365 days"); money keeps its cents.
   */
  public static String phrase(String feature, double x) {
    FeatureCatalogue.Feature f = FeatureCatalogue.named(feature);
    if (f.unit().equals("currency") || x == Math.rint(x)) {
      return f.phrase().apply(x);
    }
    return "about " + f.phrase().apply(Math.rint(x));
  }
}
