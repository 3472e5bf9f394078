package dev.churn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The exact metrics, on counts written by hand (scores descending, positives and negatives at each), against
 * values counted by hand: no Spark. {@code ChurnModelTest} checks that Spark's counts of a scored Dataset are these.
 */
class BinaryMetricsTest {
  private static final double EXACT = 1e-12;

  private static BinaryMetrics.Counts counts(double[] score, long[] pos, long[] neg) {
    long p = 0;
    long n = 0;
    for (int i = 0; i < score.length; i++) {
      p += pos[i];
      n += neg[i];
    }
    return new BinaryMetrics.Counts(score, pos, neg, p, n);
  }

  /** 0.9: one churner; 0.5: one churner and one stayer (a tie); 0.1: one stayer. */
  private static final BinaryMetrics.Counts TIED = counts(new double[] {0.9, 0.5, 0.1}, new long[] {1, 1, 0},
      new long[] {0, 1, 1});

  @Test
  void rocAucCountsATieHalf() {
    // Pairs (churner, stayer): (0.9, 0.5) right, (0.9, 0.1) right, (0.5, 0.5) a tie, (0.5, 0.1) right: 3.5 of 4.
    assertEquals(0.875, TIED.rocAuc(), EXACT);
    // Reversed order: only the tie earns anything.
    assertEquals(0.125, counts(new double[] {0.9, 0.5, 0.1}, new long[] {0, 1, 1}, new long[] {1, 1, 0}).rocAuc(),
        EXACT);
  }

  @Test
  void prAucIsTheTrapezoidsOverEveryDistinctScoreFromTheFirstPrecision() {
    // (recall, precision): start (0, 1), then (1/2, 1), (1, 2/3), (1, 1/2).
    // Area: 1/2 * (1 + 1) / 2 + 1/2 * (1 + 2/3) / 2 + 0 = 1/2 + 5/12 = 11/12.
    assertEquals(11.0 / 12, TIED.prAuc(), EXACT);
  }

  @Test
  void oneClassOnlyGivesAHalfRocAucAndAPrAucOfItsPrecision() {
    BinaryMetrics.Counts stayers = counts(new double[] {0.8, 0.2}, new long[] {0, 0}, new long[] {2, 3});
    assertEquals(0.5, stayers.rocAuc(), EXACT);
    assertEquals(0.0, stayers.prAuc(), EXACT);
    Map<String, Double> m = BinaryMetrics.compute(stayers, true).metrics();
    assertEquals(0.0, m.get("base_rate"), EXACT);
    assertEquals(0.0, m.get("top_decile_lift"), EXACT);
    assertEquals(0.0, m.get("top_decile_capture"), EXACT);

    BinaryMetrics.Counts churners = counts(new double[] {0.8, 0.2}, new long[] {2, 3}, new long[] {0, 0});
    assertEquals(0.5, churners.rocAuc(), EXACT);
    assertEquals(1.0, churners.prAuc(), EXACT);
  }

  @Test
  void allScoresEqualRankNoBetterThanChance() {
    BinaryMetrics.Counts flat = counts(new double[] {0.3}, new long[] {2}, new long[] {3});
    assertEquals(0.5, flat.rocAuc(), EXACT);
    // One point (recall 1, precision 2/5), the curve starting at that precision: 2/5.
    assertEquals(0.4, flat.prAuc(), EXACT);
    // Every quantile is the one score.
    assertEquals(0.3, flat.quantile(0.01), EXACT);
    assertEquals(0.3, flat.quantile(0.99), EXACT);
  }

  @Test
  void decilesAreSizedAsNtileTenWithTheFirstOnesOneLarger() {
    // Twelve customers with distinct scores 0.12 .. 0.01, the top three churners: ntile(10) gives deciles of
    // 2, 2, 1, 1, 1, 1, 1, 1, 1, 1.
    double[] score = new double[12];
    long[] pos = new long[12];
    long[] neg = new long[12];
    for (int i = 0; i < 12; i++) {
      score[i] = (12 - i) / 100.0;
      pos[i] = i < 3 ? 1 : 0;
      neg[i] = 1 - pos[i];
    }
    BinaryMetrics.Result r = BinaryMetrics.compute(counts(score, pos, neg), true);
    List<BinaryMetrics.Decile> d = r.calibration();
    assertEquals(10, d.size());
    assertEquals(List.of(2L, 2L, 1L, 1L, 1L, 1L, 1L, 1L, 1L, 1L),
        d.stream().map(BinaryMetrics.Decile::customers).toList());
    assertEquals(0.115, d.get(0).meanPredicted(), EXACT);
    assertEquals(1.0, d.get(0).actualRate(), EXACT);
    assertEquals(0.095, d.get(1).meanPredicted(), EXACT);
    assertEquals(0.5, d.get(1).actualRate(), EXACT);
    assertEquals(0.01, d.get(9).meanPredicted(), EXACT);
    assertEquals(0.0, d.get(9).actualRate(), EXACT);
    // Base rate 3/12; the top decile's rate 1: lift 4, and it holds 2 of the 3 churners.
    assertEquals(0.25, r.metrics().get("base_rate"), EXACT);
    assertEquals(4.0, r.metrics().get("top_decile_lift"), EXACT);
    assertEquals(2.0 / 3, r.metrics().get("top_decile_capture"), EXACT);
    assertEquals(12.0, r.metrics().get("customers"), EXACT);
  }

  @Test
  void amongEqualScoresTheStayersFillADecileFirst() {
    // Ten customers: the top score shared by a churner and a stayer. The first decile (one customer) takes the
    // stayer, so a tie never flatters the top decile.
    double[] score = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1};
    long[] pos = {1, 0, 0, 0, 0, 0, 0, 0, 0};
    long[] neg = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    List<BinaryMetrics.Decile> d = BinaryMetrics.compute(counts(score, pos, neg), false).calibration();
    assertEquals(0.0, d.get(0).actualRate(), EXACT);
    assertEquals(1.0, d.get(1).actualRate(), EXACT);
    assertEquals(0.9, d.get(1).meanPredicted(), EXACT);
  }

  @Test
  void quantilesAreExactScoresAndTheHighRiskCutKeepsTies() {
    // Four customers: 0.9, 0.5, 0.5, 0.1.
    BinaryMetrics.Counts c = counts(new double[] {0.9, 0.5, 0.1}, new long[] {1, 1, 0}, new long[] {0, 1, 1});
    assertEquals(0.1, c.quantile(0.25), EXACT); // 1 of 4 at or below 0.1
    assertEquals(0.5, c.quantile(0.5), EXACT); // 3 of 4 at or below 0.5
    assertEquals(0.5, c.quantile(0.75), EXACT);
    assertEquals(0.9, c.quantile(1.0), EXACT);
    // The trainer's high-risk cut for a share of 0.25 is quantile(0.75): 0.5, and three customers are at or above
    // it (ties are never split), two of them churners.
    assertArrayEquals(new long[] {3, 2}, c.atOrAbove(c.quantile(1 - 0.25)));
    assertArrayEquals(new long[] {1, 1}, c.atOrAbove(0.9));
  }

  @Test
  void theF1ThresholdIsTheBestOfThePercentileCuts() {
    // 0.9 churner, 0.6 churner, 0.4 stayer, 0.2 stayer. The percentiles give the cuts 0.2 (1-25 %), 0.4 (26-50 %),
    // 0.6 (51-75 %) and 0.9 (76-99 %); F1 = 2 TP / (predicted + positives): 4/6, 4/5, 4/4, 2/3.
    BinaryMetrics.Counts c = counts(new double[] {0.9, 0.6, 0.4, 0.2}, new long[] {1, 1, 0, 0},
        new long[] {0, 0, 1, 1});
    List<double[]> roc = new ArrayList<>();
    assertEquals(0.6, BinaryMetrics.f1Threshold(c, roc), EXACT);
    assertEquals(101, roc.size(), "(0, 0), 99 cuts, (1, 1)");
    assertArrayEquals(new double[] {0, 0}, roc.get(0), EXACT);
    assertArrayEquals(new double[] {1, 1}, roc.get(100), EXACT);
    // Cut 0.6 predicts both churners and no stayer: (FPR 0, TPR 1), 25 times; cut 0.4 gives (1/2, 1).
    assertEquals(25, roc.stream().filter(p -> p[0] == 0 && p[1] == 1).count());
    assertEquals(25, roc.stream().filter(p -> p[0] == 0.5 && p[1] == 1).count());
  }

  @Test
  void logLossAndBrierAreTheMeansOverCustomersAgainstTheConstantBaseRate() {
    // 0.8 churner, 0.2 stayer.
    BinaryMetrics.Counts c = counts(new double[] {0.8, 0.2}, new long[] {1, 0}, new long[] {0, 1});
    Map<String, Double> m = BinaryMetrics.compute(c, true).metrics();
    assertEquals(-Math.log(0.8), m.get("log_loss"), EXACT);
    assertEquals(0.04, m.get("brier"), EXACT);
    assertEquals(Math.log(2), m.get("log_loss_constant"), EXACT);
    assertEquals(1.0, m.get("roc_auc"), EXACT);
    // A score of exactly 0 for a churner is clipped at 1e-15, not infinite.
    Map<String, Double> clipped = BinaryMetrics.compute(counts(new double[] {0.0}, new long[] {1}, new long[] {0}),
        true).metrics();
    assertEquals(-Math.log(1e-15), clipped.get("log_loss"), 1e-9);
  }
}
