package dev.churn.models;

import static org.apache.spark.sql.functions.*;

import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Quality of a churn score against 0/1 labels: ranking (ROC-AUC, PR-AUC, top-decile lift and capture) and
 * probability quality (log loss, Brier score, calibration by decile).
 *
 * <p>Exact and repeatable to the last bit: Spark counts the positives and negatives at each distinct score (integer
 * sums, the same whatever order the rows arrive in), and every metric is then computed on the driver from those
 * counts, walked in one fixed order (score descending). Floating-point sums taken by Spark in the order its shuffle
 * delivered the rows differed in the last bits between two runs over the same data, and so did the model registry
 * of a rerun; binned curves (Spark's evaluator keeps 1,000 bins) were approximations besides. Only one row per
 * distinct score reaches the driver, and at most one more than {@link Counts#MAX_EXACT_SCORES} of them.
 *
 * <p>Danger: exact up to {@link Counts#MAX_EXACT_SCORES} distinct scores (a model's probabilities are distinct per
 * customer, so a snapshot of about a million customers). Past it the scores are binned ({@link Counts#of}): the
 * metrics are then those of binned scores, with customers in one bin counted as ties. Without the bound the driver
 * would receive a row per customer: some 24 bytes each in its arrays and about 100 as collected rows, and a
 * collect of tens of millions of rows would also exceed Spark's default {@code spark.driver.maxResultSize} (1 GiB).
 */
public final class BinaryMetrics {
  private BinaryMetrics() {}

  /** One decile of the score (1 = highest scores): mean predicted probability against the actual churn rate. */
  public record Decile(int decile, long customers, double meanPredicted, double actualRate) {}

  public record Result(Map<String, Double> metrics, List<Decile> calibration) {}

  /**
   * Positives and negatives at each distinct score (past {@link #MAX_EXACT_SCORES}, at each bin's smallest score),
   * scores descending: one Spark pass (three when binned), from which every metric, quantile and threshold of the
   * score is computed.
   */
  public record Counts(double[] score, long[] pos, long[] neg, long positives, long negatives) {
    long rows() {
      return positives + negatives;
    }

    /** The most distinct scores counted exactly (1,000,000): about 24 MB of arrays in the driver. */
    public static final int MAX_EXACT_SCORES = 1_000_000;

    /** Counts of the non-null scores of {@code scored}, exact up to {@link #MAX_EXACT_SCORES} distinct scores. */
    public static Counts of(Dataset<Row> scored, String scoreCol, String labelCol) {
      return of(scored, scoreCol, labelCol, MAX_EXACT_SCORES);
    }

    /**
     * As above with a bound of {@code maxScores} distinct scores. Past it, two more passes put the finite scores in
     * {@code maxScores} bins of equal width over their range, each counted at its smallest score (exact and
     * repeatable, as a mean would not be): rows in one bin are ties, and the quantiles and cuts taken from the
     * counts are bins' smallest scores. NaN and infinite scores keep a row each, as below the bound. Danger: one
     * outlying score widens every bin; the scored rows are read once per pass (persist them when costly).
     */
    static Counts of(Dataset<Row> scored, String scoreCol, String labelCol, int maxScores) {
      if (maxScores < 1 || maxScores == Integer.MAX_VALUE) {
        throw new IllegalArgumentException("a bound of " + maxScores + " distinct scores");
      }
      Dataset<Row> valid = scored.where(col(scoreCol).isNotNull())
          .select(col(scoreCol).cast("double").as("score"), col(labelCol).cast("double").equalTo(1.0).as("positive"));
      Column positives = count(when(col("positive"), 1)).as("pos");
      Column negatives = count(when(not(col("positive")), 1)).as("neg");
      // One row more than kept: more distinct scores than the bound show without collecting them all.
      List<Row> rows = valid.groupBy(col("score")).agg(positives, negatives).limit(maxScores + 1).collectAsList();
      if (rows.size() > maxScores) {
        // More distinct scores than the bound are at least two finite ones: the range is a number, its width > 0.
        Column finite = not(isnan(col("score"))).and(abs(col("score")).lt(lit(Double.POSITIVE_INFINITY)));
        Row range = valid.agg(min(when(finite, col("score"))), max(when(finite, col("score")))).first();
        double lo = range.getDouble(0);
        double width = (range.getDouble(1) - lo) / maxScores;
        Column bin = least(floor(col("score").minus(lit(lo)).divide(lit(width))), lit((long) maxScores - 1));
        rows = valid.groupBy(when(finite, bin).as("bin"), when(not(finite), col("score")).as("other"))
            .agg(min("score").as("score"), positives, negatives).select("score", "pos", "neg").collectAsList();
      }
      List<Row> sorted = new ArrayList<>(rows);
      sorted.sort(java.util.Comparator.comparingDouble((Row r) -> r.getDouble(0)).reversed());
      int n = sorted.size();
      double[] score = new double[n];
      long[] pos = new long[n];
      long[] neg = new long[n];
      long p = 0;
      long q = 0;
      for (int i = 0; i < n; i++) {
        score[i] = sorted.get(i).getDouble(0);
        pos[i] = sorted.get(i).getLong(1);
        neg[i] = sorted.get(i).getLong(2);
        p += pos[i];
        q += neg[i];
      }
      return new Counts(score, pos, neg, p, q);
    }

    /**
     * Area under the ROC curve, ties counted half: the share of (positive, negative) pairs the score orders
     * right. The numerator is an exact integer; 0.5 when one class is absent.
     */
    double rocAuc() {
      if (positives == 0 || negatives == 0) {
        return 0.5;
      }
      long above = 0;
      long twice = 0;
      for (int i = 0; i < score.length; i++) {
        twice += neg[i] * (2 * above + pos[i]);
        above += pos[i];
      }
      return twice / (2.0 * positives * negatives);
    }

    /**
     * Area under the precision-recall curve by the trapezoid rule over every distinct score, starting at recall 0
     * with the first point's precision (Spark's {@code areaUnderPR}, without its binning).
     */
    double prAuc() {
      if (positives == 0) {
        return 0;
      }
      long tp = 0;
      long fp = 0;
      double area = 0;
      double lastRecall = 0;
      double lastPrecision = -1;
      for (int i = 0; i < score.length; i++) {
        tp += pos[i];
        fp += neg[i];
        double recall = (double) tp / positives;
        double precision = (double) tp / (tp + fp);
        if (lastPrecision < 0) {
          lastPrecision = precision;
        }
        area += (recall - lastRecall) * (precision + lastPrecision) / 2;
        lastRecall = recall;
        lastPrecision = precision;
      }
      return area;
    }

    /**
     * The smallest score with at least {@code q} of the rows at or below it (the exact quantile that
     * {@code approxQuantile} estimates; of binned counts, a bin's smallest score).
     */
    public double quantile(double q) {
      long needed = (long) Math.ceil(q * rows());
      long below = rows();
      for (int i = 0; i < score.length; i++) {
        long atOrBelow = below;
        below -= pos[i] + neg[i];
        if (below < needed && atOrBelow >= needed) {
          return score[i];
        }
      }
      return score.length == 0 ? Double.NaN : score[score.length - 1];
    }

    /** Rows and positives with a score at or above {@code cut}. */
    long[] atOrAbove(double cut) {
      long rows = 0;
      long tp = 0;
      for (int i = 0; i < score.length && score[i] >= cut; i++) {
        rows += pos[i] + neg[i];
        tp += pos[i];
      }
      return new long[] {rows, tp};
    }

    /**
     * Ten deciles of the rows ordered by score descending (among equal scores negatives first, so ties never
     * flatter the top decile), sized as SQL's {@code ntile(10)}: the first (rows mod 10) deciles hold one more.
     */
    List<Decile> deciles(double[] positivesInTop) {
      long size = rows() / 10;
      long extra = rows() % 10;
      List<Decile> out = new ArrayList<>();
      int decile = 1;
      long capacity = size + (extra > 0 ? 1 : 0);
      long n = 0;
      long hits = 0;
      double scoreSum = 0;
      for (int i = 0; i < score.length; i++) {
        for (int label = 0; label <= 1; label++) {
          long left = label == 0 ? neg[i] : pos[i];
          while (left > 0) {
            long take = Math.min(left, capacity - n);
            n += take;
            hits += label * take;
            scoreSum += score[i] * take;
            left -= take;
            if (n == capacity) {
              out.add(new Decile(decile, n, scoreSum / n, (double) hits / n));
              if (decile == 1) {
                positivesInTop[0] = hits;
              }
              decile++;
              capacity = size + (decile <= extra ? 1 : 0);
              n = 0;
              hits = 0;
              scoreSum = 0;
            }
          }
        }
      }
      return out;
    }
  }

  /**
   * @param scored rows with a double {@code scoreCol} (a probability when log loss and Brier are wanted) and an
   *     integer {@code labelCol}
   * @param probability whether the score is a probability (log loss, Brier, calibration are then computed)
   */
  public static Result compute(Dataset<Row> scored, String scoreCol, String labelCol, boolean probability) {
    return compute(Counts.of(scored, scoreCol, labelCol), probability);
  }

  /** The metrics of counts already taken. */
  public static Result compute(Counts c, boolean probability) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("roc_auc", c.rocAuc());
    m.put("pr_auc", c.prAuc());
    double rows = c.rows();
    double baseRate = rows == 0 ? 0 : c.positives() / rows;
    m.put("customers", rows);
    m.put("base_rate", baseRate);
    double[] topPositives = new double[1];
    List<Decile> calibration = c.deciles(topPositives);
    if (!calibration.isEmpty()) {
      m.put("top_decile_lift", baseRate == 0 ? 0 : calibration.get(0).actualRate() / baseRate);
      m.put("top_decile_capture", c.positives() == 0 ? 0 : topPositives[0] / c.positives());
    }
    if (probability) {
      double logLoss = 0;
      double brier = 0;
      for (int i = 0; i < c.score().length; i++) {
        double p = c.score()[i];
        logLoss -= c.pos()[i] * Math.log(Math.max(p, 1e-15)) + c.neg()[i] * Math.log(Math.max(1 - p, 1e-15));
        brier += c.pos()[i] * (p - 1) * (p - 1) + c.neg()[i] * p * p;
      }
      m.put("log_loss", logLoss / rows);
      m.put("brier", brier / rows);
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
  public static double f1Threshold(Counts c, List<double[]> roc) {
    long positives = c.positives();
    long negatives = c.negatives();
    roc.add(new double[] {0, 0});
    double best = -1;
    double bestCut = 0.5;
    for (int i = 1; i < 100; i++) {
      double cut = c.quantile(i / 100.0);
      long[] above = c.atOrAbove(cut);
      long predicted = above[0];
      long tp = above[1];
      double f1 = predicted + positives == 0 ? 0 : 2.0 * tp / (predicted + positives);
      roc.add(new double[] {negatives == 0 ? 0 : (double) (predicted - tp) / negatives,
          positives == 0 ? 0 : (double) tp / positives});
      if (f1 > best) {
        best = f1;
        bestCut = cut;
      }
    }
    roc.add(new double[] {1, 1});
    roc.sort(java.util.Comparator.<double[]>comparingDouble(p -> p[0]).thenComparingDouble(p -> p[1]));
    return bestCut;
  }
}
