package dev.churn.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.testing.SparkSuite;
import java.nio.file.Files;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class FeatureBuilderTest extends SparkSuite {
  private static final LocalDate AS_OF = LocalDate.parse("2026-03-31");
  private static final ChurnDefinition CANCEL = ChurnDefinition.cancellation(List.of("cancellation"));

  static StructType dailySchema() {
    StructType s = new StructType().add(DailyActivity.CUSTOMER_ID, DataTypes.StringType)
        .add(DailyActivity.ACTIVITY_DATE, DataTypes.DateType);
    for (DailyActivity.Signal sig : DailyActivity.Signal.values()) {
      s = s.add(sig.column(), sig.money() ? DataTypes.DoubleType : DataTypes.IntegerType);
    }
    return s.add(DailyActivity.MRR_END, DataTypes.DoubleType).add(DailyActivity.PLAN_END, DataTypes.StringType);
  }

  static Row day(String customer, String date, Map<String, Object> values) {
    List<Object> v = new ArrayList<>(List.of(customer, Date.valueOf(date)));
    for (DailyActivity.Signal sig : DailyActivity.Signal.values()) {
      Object x = values.getOrDefault(sig.column(), sig.money() ? (Object) 0.0 : (Object) 0);
      v.add(x);
    }
    v.add(values.get(DailyActivity.MRR_END));
    v.add(values.get(DailyActivity.PLAN_END));
    return RowFactory.create(v.toArray());
  }

  static Dataset<Row> customers(List<Row> rows) {
    return spark.createDataFrame(rows, Customers.TABLE_SCHEMA);
  }

  static Row customer(String id, String signup, String trialEnd, String cancelledOn) {
    return RowFactory.create(id, "smb", "retail", "enterprise", 999.0, Date.valueOf(signup), "basic", 49.0,
        trialEnd == null ? null : Date.valueOf(trialEnd), cancelledOn == null ? null : Date.valueOf(cancelledOn),
        cancelledOn == null ? null : Date.valueOf(cancelledOn), null, null, null);
  }

  private static final List<Row> CUSTOMERS = List.of(
      customer("A", "2025-12-01", null, null),
      customer("B", "2026-03-20", "2026-04-03", null),
      customer("C", "2025-06-01", null, "2026-03-15"),
      customer("D", "2026-04-05", null, null));

  private static final List<Row> DAILY = List.of(
      day("A", "2026-03-31", Map.of("events", 3, "logins", 2, "sessions", 1)),
      day("A", "2026-03-28", Map.of("events", 2, "logins", 1, "tickets", 1)),
      day("A", "2026-03-10", Map.of("events", 4, "logins", 4)),
      day("A", "2026-02-15", Map.of("events", 2, "payments", 1, "payment_amount", 49.0, "upgrades", 1,
          DailyActivity.MRR_END, 199.0, DailyActivity.PLAN_END, "pro")),
      day("C", "2026-03-01", Map.of("events", 5, "logins", 5)));

  private static Dataset<Row> features(List<Row> daily) {
    return FeatureBuilder.engagementFeatures(spark.createDataFrame(daily, dailySchema()), customers(CUSTOMERS), AS_OF,
        CANCEL, FeatureBuilder.LifecycleRules.defaults(CANCEL));
  }

  @Test
  void handComputedValues() {
    Dataset<Row> f = features(DAILY);
    assertEquals(List.of("A", "B"), f.orderBy("customer_id").select("customer_id").as(org.apache.spark.sql.Encoders.STRING())
        .collectAsList(), "C churned before the date, D signed up after it");
    StructType s = new StructType()
        .add("customer_id", DataTypes.StringType)
        .add("logins_7d", DataTypes.DoubleType).add("logins_30d", DataTypes.DoubleType)
        .add("events_90d", DataTypes.DoubleType).add("active_days_7d", DataTypes.DoubleType)
        .add("active_days_90d", DataTypes.DoubleType).add("tickets_7d", DataTypes.DoubleType)
        .add("days_since_last_login", DataTypes.DoubleType).add("days_since_last_ticket", DataTypes.DoubleType)
        .add("days_since_last_payment", DataTypes.DoubleType).add("mrr", DataTypes.DoubleType)
        .add("mrr_change_90d", DataTypes.DoubleType).add("plan", DataTypes.StringType)
        .add("tenure_days", DataTypes.DoubleType).add("in_trial", DataTypes.DoubleType)
        .add("days_to_trial_end", DataTypes.DoubleType).add("events_trend_7v28", DataTypes.DoubleType)
        .add("logins_trend_7v28", DataTypes.DoubleType).add("events_trend_30v60", DataTypes.DoubleType)
        .add("lifecycle_stage", DataTypes.StringType);
    Dataset<Row> rounded = f.selectExpr("customer_id", "logins_7d", "logins_30d", "events_90d", "active_days_7d",
        "active_days_90d", "tickets_7d", "days_since_last_login", "days_since_last_ticket", "days_since_last_payment",
        "mrr", "mrr_change_90d", "plan", "tenure_days", "in_trial", "days_to_trial_end",
        "round(events_trend_7v28, 4) events_trend_7v28", "round(logins_trend_7v28, 4) logins_trend_7v28",
        "round(events_trend_30v60, 4) events_trend_30v60", "lifecycle_stage");
    assertRows(List.of(
        // A: logins 2+1 in 7 days, +4 in 30; events 3+2+4+2; the Feb upgrade set MRR 49 -> 199 and plan pro;
        // trend 7v28 = (5/7 - 4/28) / (5/7 + 4/28) = 0.6667; logins (3/7 - 4/28) / (3/7 + 4/28) = 0.5;
        // 30v60 = (9/30 - 2/60) / (9/30 + 2/60) = 0.8; tenure 2025-12-01 .. 2026-03-31 = 120 days.
        RowFactory.create("A", 3.0, 7.0, 11.0, 2.0, 4.0, 1.0, 0.0, 3.0, 44.0, 199.0, 150.0, "pro", 120.0, 0.0, 0.0,
            0.6667, 0.5, 0.8, "active"),
        // B: no activity yet, in a trial ending in 3 days; silent since signup 11 days ago (under the 14 days
        // that make a customer lapsed), so new.
        RowFactory.create("B", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 11.0, 11.0, 11.0, 49.0, 0.0, "basic", 11.0, 1.0, 3.0,
            0.0, 0.0, 0.0, "new")), s, rounded);
  }

  @Test
  void eventsAfterTheDateDoNotChangeItsFeatures() {
    List<Row> later = new ArrayList<>(DAILY);
    later.add(day("A", "2026-04-01", Map.of("events", 50, "logins", 50, DailyActivity.MRR_END, 0.0,
        DailyActivity.PLAN_END, "free")));
    later.add(day("B", "2026-04-02", Map.of("events", 9, "tickets", 9)));
    assertSameRows(features(DAILY), features(later));
  }

  @Test
  void atLeastThirtyNumericFeaturesAndTheCatalogueDocIsCurrent() throws Exception {
    assertTrue(FeatureCatalogue.numeric().size() >= 30);
    List<String> columns = List.of(features(DAILY).columns());
    for (FeatureCatalogue.Feature f : FeatureCatalogue.features()) {
      assertTrue(columns.contains(f.name()), f.name());
    }
    String doc = Files.readString(repoRoot().resolve("docs/features.md"));
    assertEquals(FeatureCatalogue.markdown(), doc,
        "docs/features.md is stale: regenerate it with ./churn features --catalog > docs/features.md");
  }

  @Test
  void cancellationLabelsLookOnlyAtTheHorizonAfterTheDate() {
    Dataset<Row> snap = spark.createDataFrame(List.of(
            RowFactory.create("on-horizon", Date.valueOf(AS_OF)), RowFactory.create("after", Date.valueOf(AS_OF)),
            RowFactory.create("same-day", Date.valueOf(AS_OF)), RowFactory.create("stays", Date.valueOf(AS_OF))),
        new StructType().add("customer_id", DataTypes.StringType).add("as_of_date", DataTypes.DateType));
    Dataset<Row> cust = customers(List.of(customer("on-horizon", "2025-01-01", null, "2026-04-30"),
        customer("after", "2025-01-01", null, "2026-05-01"), customer("same-day", "2025-01-01", null, "2026-03-31"),
        customer("stays", "2025-01-01", null, null)));
    Dataset<Row> labelled = Labels.label(snap, cust, spark.createDataFrame(List.of(), dailySchema()), CANCEL, 30);
    assertRows(List.of(RowFactory.create("on-horizon", 1), RowFactory.create("after", 0),
            RowFactory.create("same-day", 0), RowFactory.create("stays", 0)),
        new StructType().add("customer_id", DataTypes.StringType).add("label", DataTypes.IntegerType),
        labelled.select("customer_id", "label"));
  }

  @Test
  void inactivityLabelsAreOneOnlyWithoutActivityInTheNextNDays() {
    ChurnDefinition silent30 = ChurnDefinition.inactivity(30);
    Dataset<Row> snap = spark.createDataFrame(List.of(
            RowFactory.create("back-on-day-30", Date.valueOf(AS_OF)), RowFactory.create("back-on-day-31", Date.valueOf(AS_OF)),
            RowFactory.create("only-on-the-date", Date.valueOf(AS_OF))),
        new StructType().add("customer_id", DataTypes.StringType).add("as_of_date", DataTypes.DateType));
    Dataset<Row> daily = spark.createDataFrame(List.of(
        day("back-on-day-30", "2026-04-30", Map.of("events", 1)),
        day("back-on-day-31", "2026-05-01", Map.of("events", 1)),
        day("only-on-the-date", "2026-03-31", Map.of("events", 1))), dailySchema());
    Dataset<Row> labelled = Labels.label(snap, customers(List.of()), daily, silent30, 7);
    assertRows(List.of(RowFactory.create("back-on-day-30", 0), RowFactory.create("back-on-day-31", 1),
            RowFactory.create("only-on-the-date", 1)),
        new StructType().add("customer_id", DataTypes.StringType).add("label", DataTypes.IntegerType),
        labelled.select("customer_id", "label"));
    assertTrue(Labels.labelable(AS_OF, 30, LocalDate.parse("2026-04-30")));
    assertTrue(!Labels.labelable(AS_OF, 30, LocalDate.parse("2026-04-29")));
  }
}
