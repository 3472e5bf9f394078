package dev.churn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.churn.testing.SparkSuite;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * {@link BinaryMetrics.Counts#of} in Spark: a row per distinct score up to its bound, binned scores past it.
 * Expectations counted by hand.
 */
class ScoreCountsTest extends SparkSuite {
  private static final double EXACT = 1e-12;
  private static final StructType SCHEMA = new StructType().add("p", DataTypes.DoubleType)
      .add("label", DataTypes.IntegerType);

  /** Six customers: stayers at 0.0, 0.4 and 0.8, churners at 0.1, 0.5 and 1.0; one unscored row, ignored. */
  private static Dataset<Row> scored() {
    return spark.createDataFrame(List.of(RowFactory.create(0.0, 0), RowFactory.create(0.1, 1),
        RowFactory.create(0.4, 0), RowFactory.create(0.5, 1), RowFactory.create(0.8, 0), RowFactory.create(1.0, 1),
        RowFactory.create(null, 1)), SCHEMA);
  }

  @Test
  void withinTheBoundEveryDistinctScoreIsCountedExactly() {
    BinaryMetrics.Counts c = BinaryMetrics.Counts.of(scored(), "p", "label", 6);
    assertArrayEquals(new double[] {1.0, 0.8, 0.5, 0.4, 0.1, 0.0}, c.score(), EXACT);
    assertArrayEquals(new long[] {1, 0, 1, 0, 1, 0}, c.pos());
    assertArrayEquals(new long[] {0, 1, 0, 1, 0, 1}, c.neg());
    // Pairs (churner, stayer) ordered right: 0.1 over 0.0; 0.5 over 0.0 and 0.4; 1.0 over all three: 6 of 9.
    assertEquals(6.0 / 9, c.rocAuc(), EXACT);
  }

  @Test
  void pastTheBoundScoresAreBinnedOverTheirRangeAndABinsCustomersAreTies() {
    // Three bins of width 1/3 over [0, 1]: {0.0, 0.1}, {0.4, 0.5}, {0.8, 1.0} (the maximum in the last bin), each
    // at its smallest score, each holding one churner and one stayer.
    BinaryMetrics.Counts c = BinaryMetrics.Counts.of(scored(), "p", "label", 3);
    assertArrayEquals(new double[] {0.8, 0.4, 0.0}, c.score(), EXACT);
    assertArrayEquals(new long[] {1, 1, 1}, c.pos());
    assertArrayEquals(new long[] {1, 1, 1}, c.neg());
    assertEquals(3, c.positives());
    assertEquals(3, c.negatives());
    // Churner of the top bin: a tie and two stayers below (2.5); of the middle: a tie and one below (1.5); of the
    // bottom: a tie (0.5): 4.5 of 9.
    assertEquals(0.5, c.rocAuc(), EXACT);
  }

  @Test
  void aNanScoreKeepsItsOwnRowAndLeavesTheRangeOfTheBinsAlone() {
    Dataset<Row> withNan = scored().union(spark.createDataFrame(List.of(RowFactory.create(Double.NaN, 0)), SCHEMA));
    BinaryMetrics.Counts c = BinaryMetrics.Counts.of(withNan, "p", "label", 3);
    // NaN sorts above every number, as below the bound; the bins are those of [0, 1] above.
    assertArrayEquals(new double[] {Double.NaN, 0.8, 0.4, 0.0}, c.score(), EXACT);
    assertArrayEquals(new long[] {0, 1, 1, 1}, c.pos());
    assertArrayEquals(new long[] {1, 1, 1, 1}, c.neg());
  }
}
