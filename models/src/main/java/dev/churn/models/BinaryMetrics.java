package dev.churn.models;

import static org.apache.spark.sql.functions.*;

import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;

/**
 * Quality of a churn score against 0/1 labels: ranking (ROC-AUC, PR-AUC, top-decile lift and capture) and
 * probability quality (log loss, Brier score, calibration by decile). Only small results reach the driver.
 */
public final class BinaryMetrics {
  private BinaryMetrics() {}

  /** One decile of the score (1 = highest scores): mean predicted probability against the actual churn rate. */
  public record Decile(int decile, long customers, double meanPredicted, double actualRate) {}

  public record Result(Map<String, Double> metrics, List<Decile> calibration) {}

  /**
   * @param scored rows with a double {@code scoreCol} (a probability when log loss and Brier are wanted) and an
   *     integer {@code labelCol}
   * @param probability whether the score is a probability (log loss, Brier, calibration are then computed)
   */
  public static Result compute(Dataset<Row> scored, String scoreCol, String labelCol, boolean probability) {
    Dataset<Row> s = scored.select(col(scoreCol).cast("double").as("score"), col(labelCol).cast("double").as("label"));
    Map<String, Double> m = new LinkedHashMap<>();
    BinaryClassificationEvaluator ev = new BinaryClassificationEvaluator().setRawPredictionCol("score")
        .setLabelCol("label");
    m.put("roc_auc", ev.setMetricName("areaUnderROC").evaluate(s));
    m.put("pr_auc", ev.setMetricName("areaUnderPR").evaluate(s));
    Dataset<Row> ranked = s.withColumn("decile", ntile(10).over(Window.orderBy(col("score").desc())));
    List<Row> deciles = ranked.groupBy("decile").agg(count("*").as("n"), avg("score").as("pred"),
        avg("label").as("rate"), sum("label").as("pos")).orderBy("decile").collectAsList();
    Row overall = s.agg(avg("label"), sum("label"), count("*")).first();
    double baseRate = overall.getDouble(0);
    double positives = overall.getDouble(1);
    m.put("customers", (double) overall.getLong(2));
    m.put("base_rate", baseRate);
    List<Decile> calibration = new ArrayList<>();
    for (Row r : deciles) {
      calibration.add(new Decile(r.getInt(0), r.getLong(1), r.getDouble(2), r.getDouble(3)));
      if (r.getInt(0) == 1) {
        m.put("top_decile_lift", baseRate == 0 ? 0 : r.getDouble(3) / baseRate);
        m.put("top_decile_capture", positives == 0 ? 0 : r.getDouble(4) / positives);
      }
    }
    if (probability) {
      Row losses = s.select(
          avg(negate(when(col("label").equalTo(1), log(greatest(col("score"), lit(1e-15))))
              .otherwise(log(greatest(lit(1.0).minus(col("score")), lit(1e-15)))))).as("log_loss"),
          avg(pow(col("score").minus(col("label")), 2)).as("brier")).first();
      m.put("log_loss", losses.getDouble(0));
      m.put("brier", losses.getDouble(1));
      // A constant prediction of the base rate: what a probability must beat to be worth anything.
      double p = Math.min(Math.max(baseRate, 1e-15), 1 - 1e-15);
      m.put("log_loss_constant", -(baseRate * Math.log(p) + (1 - baseRate) * Math.log(1 - p)));
    }
    return new Result(m, calibration);
  }

  /**
   * ROC-AUC of the oracle: ranking {@code labelled} customers by their true churn probability over (D, D + H],
   * 1 - (1 - h)^H with h the mean true daily hazard over the days the customer was still a customer (a churner's
   * window ends at its cancellation, so a sum over the window would understate exactly the customers who left).
   *
   * @param labelled customer_id and {@code labelCol} on date D
   * @param hazard the generator's truth: customer_id, date, hazard
   */
  public static double oracleRocAuc(Dataset<Row> labelled, String labelCol, Dataset<Row> hazard, LocalDate day,
      int horizonDays) {
    Dataset<Row> mean = hazard.where(col("date").gt(lit(Date.valueOf(day)))
            .and(col("date").leq(lit(Date.valueOf(day.plusDays(horizonDays))))))
        .groupBy("customer_id").agg(avg(col("hazard")).as("mean_hazard"));
    Dataset<Row> ranked = labelled.select("customer_id", labelCol).join(mean, "customer_id")
        .withColumn("oracle", lit(1.0).minus(pow(lit(1.0).minus(col("mean_hazard")), horizonDays)));
    return compute(ranked, "oracle", labelCol, false).metrics().get("roc_auc");
  }

  /**
   * The probability cut (among the score's percentiles) with the best F1 on the validation snapshot; fills
   * {@code roc} with the (FPR, TPR) point of every cut, from (0, 0) to (1, 1).
   */
  public static double f1Threshold(Dataset<Row> scored, String scoreCol, String labelCol, List<double[]> roc) {
    double[] probs = new double[99];
    for (int i = 0; i < probs.length; i++) {
      probs[i] = (i + 1) / 100.0;
    }
    double[] cuts = scored.stat().approxQuantile(scoreCol, probs, 0.001);
    List<Column> aggs = new ArrayList<>();
    for (double c : cuts) {
      Column predicted = col(scoreCol).geq(c);
      aggs.add(sum(when(predicted.and(col(labelCol).equalTo(1)), 1).otherwise(0)));
      aggs.add(sum(when(predicted, 1).otherwise(0)));
    }
    aggs.add(sum(col(labelCol)));
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
}
