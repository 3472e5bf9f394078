package dev.churn.models;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.features.FeatureBuilder;
import dev.churn.features.FeatureCatalogue;
import dev.churn.testing.SparkSuite;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** A model's inputs on a young warehouse: which features it leaves out, how it scales the rest, what drift sees. */
class ObservedHistoryTest extends SparkSuite {
  private static final LocalDate FIRST = LocalDate.parse("2026-01-01");
  private static final ObservedHistory HISTORY = new ObservedHistory(FIRST);

  @Test
  void aLogYoungerThanAWindowLeavesOutOnlyTheFeaturesDeclaredSoAndScalesTheCounts() {
    List<String> young = HISTORY.numeric(LocalDate.parse("2026-04-10")); // 100 days of log
    List<String> all = new ArrayList<>(FeatureCatalogue.numeric());
    all.remove("payments_365d");
    assertEquals(all, young, "only the 365-day payment count, whose monthly lattice scaling cannot fix");
    assertEquals(FeatureCatalogue.numeric(), HISTORY.numeric(LocalDate.parse("2027-01-01")), "365 days: all kept");
    assertEquals(List.of("active_days_365d", "payment_amount_365d", "active_days_all"), ObservedHistory.scaled(young));
    assertEquals(List.of("active_days_365d", "payment_amount_365d", "active_days_all"),
        ObservedHistory.scaled(FeatureCatalogue.numeric()), "payments_365d is never scaled: left out or full");
  }

  /**
   * As of 2026-04-10 the log holds 100 days. A customer of 500 days: its 30 active days of the last 365 cover 100
   * of them (30 x 365 / 100 = 109.5), its 40 over all history 100 of its 501 days (40 x 501 / 100 = 200.4). A
   * customer who signed up within the log (49 days ago) is counted in full: as it is. No signup date: the log
   * is all its history.
   */
  @Test
  void countsAreScaledToTheCustomersWindowOverTheDaysOfItTheLogCovers() {
    StructType schema = new StructType().add("customer_id", DataTypes.StringType)
        .add(FeatureBuilder.AS_OF_DATE, DataTypes.DateType).add("tenure_days", DataTypes.IntegerType)
        .add("active_days_365d", DataTypes.LongType).add("active_days_all", DataTypes.LongType)
        .add("active_days_90d", DataTypes.LongType);
    Date asOf = Date.valueOf("2026-04-10");
    Date later = Date.valueOf("2027-04-10"); // 465 days of log
    Dataset<Row> snapshot = spark.createDataFrame(List.of(
        RowFactory.create("old", asOf, 500, 30L, 40L, 20L),
        RowFactory.create("new", asOf, 49, 20L, 20L, 20L),
        RowFactory.create("unknown", asOf, null, 10L, 10L, 10L),
        RowFactory.create("old-later", later, 865, 100L, 150L, 20L)), schema);
    Map<String, Row> in = new java.util.TreeMap<>();
    HISTORY.inputs(snapshot, List.of("active_days_365d", "active_days_all")).collectAsList()
        .forEach(r -> in.put(r.getString(0), r));
    assertEquals(109.5, in.get("old").getDouble(3), 1e-9);
    assertEquals(200.4, in.get("old").getDouble(4), 1e-9);
    assertEquals(20L, in.get("old").getLong(5), "a feature not listed is left as it is");
    assertEquals(20.0, in.get("new").getDouble(3), 1e-9);
    assertEquals(20.0, in.get("new").getDouble(4), 1e-9);
    assertEquals(10.0, in.get("unknown").getDouble(3), 1e-9);
    assertEquals(10.0, in.get("unknown").getDouble(4), 1e-9);
    assertEquals(100.0, in.get("old-later").getDouble(3), 1e-9, "a full 365-day window is as counted");
    assertEquals(150.0 * 866 / 465, in.get("old-later").getDouble(4), 1e-9);
    assertEquals(snapshot.collectAsList(), HISTORY.inputs(snapshot, List.of()).collectAsList());
  }

  /**
   * The generator's situation: customers active on a steady share of their days since long before the log began,
   * snapshots on a log of 92 to 150 days, scored on day 210. The counts as counted move with the log (PSI far
   * above 0.25); scaled, a stationary population raises no warning, and one whose activity halved is caught.
   */
  @Test
  void driftOnScaledCountsSeesTheCustomersNotTheLog() {
    List<String> features = List.of("active_days_365d", "active_days_all");
    List<LocalDate> training = List.of(LocalDate.parse("2026-04-02"), LocalDate.parse("2026-04-16"),
        LocalDate.parse("2026-04-30"), LocalDate.parse("2026-05-30"));
    LocalDate scoring = LocalDate.parse("2026-07-29");
    Dataset<Row> reference = null;
    for (LocalDate d : training) {
      Dataset<Row> one = steady(d, 1.0);
      reference = reference == null ? one : reference.unionByName(one);
    }
    Drift.Reference asCounted = Drift.reference(reference, features);
    Drift.Reference scaled = Drift.reference(HISTORY.inputs(reference, features), features);

    Map<String, Double> raw = Drift.psi(steady(scoring, 1.0), asCounted.edges(), asCounted.shares());
    assertTrue(raw.get("active_days_365d") > 0.25 && raw.get("active_days_all") > 0.25, raw.toString());
    Map<String, Double> stationary = Drift.psi(HISTORY.inputs(steady(scoring, 1.0), features), scaled.edges(),
        scaled.shares());
    stationary.forEach((f, psi) -> assertTrue(psi < Drift.WARN_PSI, f + " " + stationary));
    Map<String, Double> halved = Drift.psi(HISTORY.inputs(steady(scoring, 0.5), features), scaled.edges(),
        scaled.shares());
    // Over a whole life, 90 quieter days of 1,000 or more hardly show: the 365-day count is the one that warns.
    assertTrue(halved.get("active_days_365d") > Drift.WARN_PSI, halved.toString());
  }

  /**
   * 2,000 customers who signed up 400 to 1,400 days before the log began, each active on a steady share (5 to 95
   * %) of its days, times {@code change} in the last 90 days: its expected active days in the last 365 and over all
   * history, counted within the log (2026-01-01 on).
   */
  private static Dataset<Row> steady(LocalDate asOf, double change) {
    long log = HISTORY.days(asOf);
    Column share = col("id").mod(19).plus(1).multiply(0.05);
    Column tenure = col("id").mod(1000).plus(400 + log - 1);
    Column recent = least(lit(90L), lit(log));
    Column before365 = least(lit(365L), lit(log)).minus(recent);
    Column beforeAll = lit(log).minus(recent);
    return spark.range(2000).select(col("id").cast("string").as("customer_id"),
        lit(Date.valueOf(asOf)).as(FeatureBuilder.AS_OF_DATE), tenure.cast("int").as("tenure_days"),
        share.multiply(before365.plus(recent.multiply(change))).as("active_days_365d"),
        share.multiply(beforeAll.plus(recent.multiply(change))).as("active_days_all"));
  }

  @Test
  void aScaledCountReadsAsAnEstimateInTheFeaturesOwnWords() {
    assertEquals("about 110 days with any event in the last 365 days (typical: 240 days)",
        Reasons.phrase("active_days_365d", "109.5", 240.0, Map.of(), true));
    assertEquals("1 day with any event over all history", Reasons.phrase("active_days_all", "1.0", null, Map.of(), true));
    assertEquals("amount paid in the last 365 days: 1234.57",
        Reasons.phrase("payment_amount_365d", "1234.5678", null, Map.of(), true));
  }
}
