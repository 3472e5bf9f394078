package dev.churn.models;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.features.FeatureBuilder;
import dev.churn.features.FeatureCatalogue;
import dev.churn.features.Labels;
import dev.churn.testing.SparkSuite;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ChurnModelTest extends SparkSuite {
  private static final TimeSplit SPLIT = new TimeSplit(
      List.of(LocalDate.parse("2026-01-31"), LocalDate.parse("2026-03-02")), LocalDate.parse("2026-04-01"),
      LocalDate.parse("2026-05-01"), 30);
  /** A log older than every window: no feature left out; counts over all history scaled for older customers. */
  private static final ObservedHistory HISTORY = new ObservedHistory(LocalDate.parse("2024-01-01"));
  private static final ChurnTrainer.Config CONFIG = new ChurnTrainer.Config(List.of(0.01, 0.1), List.of(0.0), 30, 7);

  private static Dataset<Row> labelled;
  private static ChurnTrainer.Outcome outcome;

  /**
   * Snapshots of 400 customers on each split date where churn depends on silence and falling logins: every
   * catalogue feature present, values from seeded random columns on fixed partitions.
   */
  static Dataset<Row> synthetic() {
    List<Dataset<Row>> dates = new ArrayList<>();
    int seed = 0;
    for (LocalDate d : SPLIT.allDates()) {
      List<Column> cols = new ArrayList<>(List.of(concat(lit("C"), col("id").cast("string")).as("customer_id"),
          lit(java.sql.Date.valueOf(d)).as(FeatureBuilder.AS_OF_DATE)));
      for (String f : FeatureCatalogue.numeric()) {
        cols.add(floor(rand(++seed).multiply(20)).cast("double").as(f));
      }
      cols.add(when(rand(++seed).lt(0.5), "basic").otherwise("pro").as("plan"));
      cols.add(when(rand(++seed).lt(0.6), "smb").otherwise("enterprise").as("segment"));
      cols.add(when(rand(++seed).lt(0.3), "retail").otherwise("banking").as("industry"));
      cols.add(when(rand(++seed).lt(0.2), "declining").otherwise("active").as(FeatureBuilder.LIFECYCLE_STAGE));
      Dataset<Row> snap = spark.range(0, 400, 1, 2).select(cols.toArray(Column[]::new));
      // Several signals matter, so one feature alone (the recency baseline) cannot rank as well as the model.
      Column logit = col("days_since_last_activity").multiply(0.12).minus(col("logins_30d").multiply(0.12))
          .plus(col("tickets_high_30d").multiply(0.12)).minus(col("email_opens_30d").multiply(0.12))
          .plus(when(col("plan").equalTo("basic"), 0.8).otherwise(0)).minus(0.5);
      dates.add(snap.withColumn(Labels.LABEL, when(rand(++seed).lt(lit(1).divide(lit(1).plus(exp(negate(logit))))), 1)
          .otherwise(0)));
    }
    Dataset<Row> all = dates.get(0);
    for (int i = 1; i < dates.size(); i++) {
      all = all.unionByName(dates.get(i));
    }
    return all;
  }

  @BeforeAll
  static void train() {
    labelled = synthetic().localCheckpoint();
    outcome = ChurnTrainer.train(labelled, null, SPLIT, HISTORY, CONFIG);
  }

  private static double[] coefficients(PipelineModel m) {
    return ((LogisticRegressionModel) m.stages()[m.stages().length - 1]).coefficients().toArray();
  }

  /** Spark's part of the exact metrics: one row per distinct score, scores descending, null scores left out. */
  @Test
  void countsGroupEqualScoresInDescendingOrderAndSkipMissingScores() {
    StructType schema = new StructType().add("p", DataTypes.DoubleType).add("y", DataTypes.IntegerType);
    List<Row> rows = List.of(RowFactory.create(0.5, 1), RowFactory.create(0.1, 0), RowFactory.create(0.9, 1),
        RowFactory.create(0.5, 0), RowFactory.create(null, 1));
    BinaryMetrics.Counts c = BinaryMetrics.Counts.of(spark.createDataFrame(rows, schema).repartition(3), "p", "y");
    assertArrayEquals(new double[] {0.9, 0.5, 0.1}, c.score());
    assertArrayEquals(new long[] {1, 1, 0}, c.pos());
    assertArrayEquals(new long[] {0, 1, 1}, c.neg());
    assertEquals(2, c.positives());
    assertEquals(2, c.negatives());
    assertEquals(0.875, BinaryMetrics.compute(spark.createDataFrame(rows, schema), "p", "y", true).metrics()
        .get("roc_auc"), 1e-12);
  }

  @Test
  void theSameDataAndSeedGiveTheSameModel() {
    ChurnTrainer.Outcome again = ChurnTrainer.train(labelled, null, SPLIT, HISTORY, CONFIG);
    assertArrayEquals(coefficients(outcome.model()), coefficients(again.model()), 1e-9);
    outcome.spec().quality().validation().forEach((k, v) ->
        assertEquals(v, again.spec().quality().validation().get(k), 1e-9, k));
  }

  @Test
  void itLearnsTheSignalAndBeatsTheRecencyBaselineHonestly() {
    Map<String, Double> m = outcome.spec().quality().validation();
    // The fixture's true logit is linear in the raw counts while the model sees log(1 + count), so the
    // fit is not perfect; what matters is that it finds the signal and beats one feature alone.
    assertTrue(m.get("roc_auc") > 0.7, "roc_auc " + m.get("roc_auc"));
    double baseline = outcome.spec().quality().baseline().get("roc_auc");
    assertTrue(m.get("roc_auc") > baseline + 0.05, "model " + m.get("roc_auc") + " vs recency alone " + baseline);
    assertTrue(m.get("log_loss") < m.get("log_loss_constant"), "calibrated: " + m);
    assertEquals(10, outcome.spec().quality().calibration().size());
  }

  @Test
  void scoresAreProbabilitiesAndReasonsAddUpToTheLogit() {
    ModelSpec spec = outcome.spec();
    Dataset<Row> features = labelled.where(col(FeatureBuilder.AS_OF_DATE).equalTo(lit(java.sql.Date.valueOf(SPLIT.validationDate()))));
    Dataset<Row> scored = ChurnScorer.score(features, outcome.model(), spec, HISTORY, true);
    assertEquals(400, scored.count());
    assertEquals(0, scored.where(col(ChurnTrainer.PROBABILITY).lt(0).or(col(ChurnTrainer.PROBABILITY).gt(1))).count());
    double intercept = ChurnScorer.intercept(outcome.model());
    for (Row r : scored.limit(25).collectAsList()) {
      double p = r.getAs(ChurnTrainer.PROBABILITY);
      Map<String, Double> contributions = scala.jdk.javaapi.CollectionConverters.asJava(
          r.<scala.collection.Map<String, Double>>getAs(ChurnScorer.CONTRIBUTIONS));
      double sum = intercept + contributions.values().stream().mapToDouble(Double::doubleValue).sum();
      assertEquals(Math.log(p / (1 - p)) + spec.fit().calibrationOffset(), sum, 1e-6, "intercept + contributions = raw logit");
      List<Row> reasons = r.getList(r.fieldIndex(ChurnScorer.TOP_REASONS));
      assertTrue(reasons.size() <= 3);
      double previous = Double.MAX_VALUE;
      for (Row reason : reasons) {
        if (reason.isNullAt(0)) {
          assertEquals(List.of(reason), reasons, "'no single strong signal' stands alone");
          assertEquals(Reasons.NO_SIGNAL, reason.getString(3));
          continue;
        }
        String feature = reason.getString(0);
        assertTrue(FeatureCatalogue.features().stream().anyMatch(f -> f.name().equals(feature)), feature);
        assertEquals(contributions.get(feature), reason.getDouble(2), 1e-12);
        assertTrue(reason.getDouble(2) > ChurnTrainer.REASON_FLOOR && reason.getDouble(2) <= previous);
        previous = reason.getDouble(2);
        assertTrue(!reason.getString(3).isBlank());
      }
    }
  }

  @Test
  void aSavedModelScoresExactlyAsBefore() throws Exception {
    Path dir = tempDir("model");
    outcome.model().write().overwrite().save(dir.resolve("pipeline").toString());
    PipelineModel loaded = PipelineModel.load(dir.resolve("pipeline").toString());
    ModelSpec spec = ModelSpec.fromJson(outcome.spec().toJson());
    assertEquals(outcome.spec().toJson(), spec.toJson());
    Dataset<Row> features = labelled.where(col(FeatureBuilder.AS_OF_DATE).equalTo(lit(java.sql.Date.valueOf(SPLIT.validationDate()))));
    assertSameRows(ChurnScorer.score(features, outcome.model(), outcome.spec(), HISTORY, false),
        ChurnScorer.score(features, loaded, spec, HISTORY, false));
  }

  @Test
  void aChangedFeatureSchemaIsRefusedWithWhatChanged() {
    Dataset<Row> changed = labelled.drop("logins_7d").withColumn("tenure_days", col("tenure_days").cast("int"));
    ChurnScorer.FeatureMismatch e = assertThrows(ChurnScorer.FeatureMismatch.class,
        () -> ChurnScorer.score(changed, outcome.model(), outcome.spec(), HISTORY, false));
    assertEquals("the features do not match model v0 (missing [logins_7d]; changed [tenure_days is int, not double]): "
        + "rebuild them with this version's feature code, or retrain", e.getMessage());
  }

  @Test
  void noValidationSnapshotPrecedesATrainingLabelWindow() {
    for (String d : outcome.spec().split().trainDates()) {
      assertTrue(!LocalDate.parse(d).plusDays(outcome.spec().split().horizonDays()).isAfter(LocalDate.parse(outcome.spec().split().validationDate())));
    }
    TimeSplit planned = TimeSplit.plan(LocalDate.parse("2026-06-30"), 30, LocalDate.parse("2026-01-01"), 30, 6);
    assertEquals(LocalDate.parse("2026-05-31"), planned.testDate());
    assertEquals(LocalDate.parse("2026-05-01"), planned.validationDate());
    assertEquals(LocalDate.parse("2026-04-01"), planned.trainDates().get(planned.trainDates().size() - 1));
    assertTrue(planned.heldOutTest());
    // Two horizons of history after the first snapshot, not three: the explicit two-date fallback.
    TimeSplit shortHistory = TimeSplit.plan(LocalDate.parse("2026-06-30"), 30, LocalDate.parse("2026-04-15"), 30, 6);
    assertEquals(List.of(LocalDate.parse("2026-05-01")), shortHistory.trainDates());
    assertEquals(shortHistory.validationDate(), shortHistory.testDate());
    assertTrue(!shortHistory.heldOutTest());
    assertEquals("validation (history too short for a held-out test snapshot)", shortHistory.evaluation());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TimeSplit(
        List.of(LocalDate.parse("2026-03-15")), LocalDate.parse("2026-04-01"), LocalDate.parse("2026-05-01"), 30));
    assertEquals("training snapshot 2026-03-15 with horizon 30 days overlaps the validation snapshot 2026-04-01",
        e.getMessage());
  }

  @Test
  void phrasesReadLikeTheIssueSaysTheyShould() {
    // logins: 7-day rate 0.36 x the 28-day rate gives (0.36 - 1) / (0.36 + 1) = -0.4706
    assertEquals("logins down 64% vs the previous 4 weeks", Reasons.phrase("logins_trend_7v28", "-0.47058823529"));
    assertEquals("no login for 12 days", Reasons.phrase("days_since_last_login", "12.0"));
    assertEquals("3 support tickets in the last 30 days", Reasons.phrase("tickets_30d", "3.0"));
    assertEquals("1 support ticket in the last 30 days", Reasons.phrase("tickets_30d", "1.0"));
    assertEquals("1 day with any event in the last 90 days", Reasons.phrase("active_days_90d", "1.0"));
    assertEquals("plan is free", Reasons.phrase("plan", "free"));
    // With the population's typical value, and in a purchase log's own words.
    Map<String, String> purchases = Reasons.vocabulary(Map.of(Reasons.VOCABULARY, "payment=purchase"));
    assertEquals("no purchase for 120 days (typical: 35 days)",
        Reasons.phrase("days_since_last_payment", "120.0", 35.0, purchases));
    assertEquals("1 purchase in the last 30 days (typical: 4)", Reasons.phrase("payments_30d", "1.0", 4.0, purchases));
    assertEquals("2 purchases in the last 90 days (typical: 6)",
        Reasons.phrase("payments_90d", "2.0", Math.expm1(Math.log1p(6.0)), purchases));
    assertEquals("amount spent in the last 365 days: 12.50 (typical: 80)",
        Reasons.phrase("payment_amount_365d", "12.5", 80.0, purchases));
    assertEquals("logins down 64% vs the previous 4 weeks (typical: flat)",
        Reasons.phrase("logins_trend_7v28", "-0.47058823529", 0.0, Map.of()));
  }

  @Test
  void theForecastSumsProbabilitiesValueAtStakeAndActualChurnOnlyOnceTheHorizonHasEnded() {
    java.sql.Date early = java.sql.Date.valueOf("2026-03-01");
    java.sql.Date late = java.sql.Date.valueOf("2026-03-20");
    StructType scoreSchema = new StructType().add("customer_id", DataTypes.StringType)
        .add("as_of_date", DataTypes.DateType).add("churn_probability", DataTypes.DoubleType)
        .add("model_version", DataTypes.IntegerType).add("horizon_days", DataTypes.IntegerType);
    Dataset<Row> scores = spark.createDataFrame(List.of(RowFactory.create("a", early, 0.5, 1, 14),
        RowFactory.create("b", early, 0.25, 1, 14), RowFactory.create("a", late, 0.75, 1, 14)), scoreSchema);
    StructType featureSchema = new StructType().add("customer_id", DataTypes.StringType)
        .add("as_of_date", DataTypes.DateType).add("mrr", DataTypes.DoubleType)
        .add("payment_amount_365d", DataTypes.DoubleType).add("tenure_days", DataTypes.DoubleType);
    // b has no MRR: a month of it is worth its last year's spend / 12 = 40.
    Dataset<Row> features = spark.createDataFrame(List.of(RowFactory.create("a", early, 100.0, 0.0, 10.0),
        RowFactory.create("b", early, null, 480.0, 10.0), RowFactory.create("a", late, 100.0, 0.0, 29.0)),
        featureSchema);
    StructType customerSchema = new StructType().add("customer_id", DataTypes.StringType)
        .add("segment", DataTypes.StringType).add("industry", DataTypes.StringType)
        .add("churn_date", DataTypes.DateType);
    Dataset<Row> customers = spark.createDataFrame(List.of(
        RowFactory.create("a", "smb", "retail", java.sql.Date.valueOf("2026-03-10")),
        RowFactory.create("b", "smb", "retail", null)), customerSchema);
    // smb's curve as of each scoring date: S = 0.5 from day 20, then 0.25 (early) or 0 (late) from day 40.
    StructType curveSchema = new StructType().add("as_of_date", DataTypes.DateType)
        .add("group_value", DataTypes.StringType).add("day", DataTypes.IntegerType)
        .add("survival", DataTypes.DoubleType);
    List<Row> curves = List.of(RowFactory.create(early, "smb", 20, 0.5), RowFactory.create(early, "smb", 40, 0.25),
        RowFactory.create(late, "smb", 20, 0.5), RowFactory.create(late, "smb", 40, 0.0));
    curves = spark.createDataFrame(curves, curveSchema).collectAsList();
    Dataset<Row> values = Actions.values(scores, features, customers, curves);
    // Remaining days = area under S from the tenure to the curve's end / S(tenure): at tenure 10 on the early
    // curve 1 x 10 + 0.5 x 20 = 20 days; at tenure 29 on the late curve 0.5 x 11 / 0.5 = 11 days.
    double month = Actions.DAYS_PER_MONTH;
    StructType valueSchema = new StructType().add("customer_id", DataTypes.StringType)
        .add("as_of_date", DataTypes.DateType).add("monthly_value", DataTypes.DoubleType)
        .add("expected_remaining_months", DataTypes.DoubleType).add("expected_ltv", DataTypes.DoubleType)
        .add("expected_mrr_lost", DataTypes.DoubleType);
    assertRows(List.of(RowFactory.create("a", early, 100.0, r6(20 / month), r6(2000 / month), r6(700 / month)),
            RowFactory.create("b", early, 40.0, r6(20 / month), r6(800 / month), 0.0),
            RowFactory.create("a", late, 100.0, r6(11 / month), r6(1100 / month), r6(1050 / month))),
        valueSchema, rounded(values, valueSchema));
    StructType out = new StructType().add("as_of_date", DataTypes.DateType).add("segment", DataTypes.StringType)
        .add("industry", DataTypes.StringType).add("customers_scored", DataTypes.LongType)
        .add("expected_churners", DataTypes.DoubleType).add("expected_mrr_at_risk", DataTypes.DoubleType)
        .add("expected_mrr_lost", DataTypes.DoubleType).add("expected_ltv", DataTypes.DoubleType)
        .add("expected_ltv_at_risk", DataTypes.DoubleType)
        .add("actual_churners", DataTypes.LongType).add("actual_mrr_lost", DataTypes.DoubleType);
    List<Row> expected = new ArrayList<>();
    for (String[] g : new String[][] {{"smb", "retail"}, {"smb", "ALL"}, {"ALL", "retail"}, {"ALL", "ALL"}}) {
      expected.add(RowFactory.create(early, g[0], g[1], 2L, 0.75, 50.0, r6(700 / month), r6(2800 / month),
          r6(1200 / month), 1L, 100.0));
      expected.add(RowFactory.create(late, g[0], g[1], 1L, 0.75, 75.0, r6(1050 / month), r6(1100 / month),
          r6(825 / month), null, null));
    }
    assertRows(expected, out, rounded(Forecast.expectedVsActual(values, customers,
        java.time.LocalDate.parse("2026-03-25")), out));
  }

  @Test
  void driftBinsEachFeatureByHowManyOfItsEdgesAValueIsAbove() {
    StructType schema = new StructType().add("a", DataTypes.DoubleType).add("b", DataTypes.LongType);
    Dataset<Row> data = spark.createDataFrame(List.of(RowFactory.create(0.0, 1L), RowFactory.create(2.0, -1L),
        RowFactory.create(3.0, 0L), RowFactory.create(5.0, null), RowFactory.create(null, 2L)), schema);
    Map<String, double[]> edges = new java.util.LinkedHashMap<>();
    edges.put("a", new double[] {1, 3});
    edges.put("b", new double[] {0});
    // a: 0 -> 0, 2 -> 1, 3 -> 1 (not above 3), 5 -> 2, null as 0 -> 0; b: 1, -1, 0, null as 0, 2 -> 1, 0, 0, 0, 1.
    Map<String, double[]> shares = Drift.shares(data, edges);
    assertArrayEquals(new double[] {0.4, 0.4, 0.2}, shares.get("a"), 1e-12);
    assertArrayEquals(new double[] {0.6, 0.4}, shares.get("b"), 1e-12);
    assertEquals(0.0, Drift.psi(data, edges, shares).get("a"), 1e-12);

    // NaN is above no edge (bin 0); a feature without edges (no deciles: every training value NaN) has one bin; a
    // data set without rows, or without a partition, has zero shares.
    Dataset<Row> nan = spark.createDataFrame(List.of(RowFactory.create(Double.NaN, 5L), RowFactory.create(4.0, 5L)),
        schema);
    Map<String, double[]> flat = new java.util.LinkedHashMap<>(edges);
    flat.put("b", new double[0]);
    Map<String, double[]> nanShares = Drift.shares(nan, flat);
    assertArrayEquals(new double[] {0.5, 0.0, 0.5}, nanShares.get("a"), 1e-12);
    assertArrayEquals(new double[] {1.0}, nanShares.get("b"), 1e-12);
    assertArrayEquals(new double[] {0, 0, 0}, Drift.shares(data.where("false"), edges).get("a"), 1e-12);
    Dataset<Row> noPartition = spark.emptyDataFrame().select(org.apache.spark.sql.functions.lit(1.0).as("a"),
        org.apache.spark.sql.functions.lit(1L).as("b"));
    assertArrayEquals(new double[] {0, 0, 0}, Drift.shares(noPartition, edges).get("a"), 1e-12);
  }

  private static double r6(double v) {
    return Math.round(v * 1e6) / 1e6;
  }

  /** {@code schema}'s columns of {@code rows}, doubles rounded to 6 places. */
  private static Dataset<Row> rounded(Dataset<Row> rows, StructType schema) {
    return rows.select(java.util.Arrays.stream(schema.fields()).map(f -> f.dataType() == DataTypes.DoubleType
        ? org.apache.spark.sql.functions.round(org.apache.spark.sql.functions.col(f.name()), 6).as(f.name())
        : org.apache.spark.sql.functions.col(f.name())).toArray(org.apache.spark.sql.Column[]::new));
  }
}
