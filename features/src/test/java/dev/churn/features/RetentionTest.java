package dev.churn.features;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.churn.testing.DomainExample;
import dev.churn.testing.SparkSuite;
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

class RetentionTest extends SparkSuite {

  static Row customer(String id, String industry, String signup, String churn, double mrr) {
    return RowFactory.create(id, "smb", industry, "basic", mrr, Date.valueOf(signup), "basic", mrr, null,
        churn == null ? null : Date.valueOf(churn), churn == null ? null : Date.valueOf(churn), null, null, null);
  }

  private static Row rate(Dataset<Row> rates, String type, String start, String segment, String industry) {
    return rates.where(col("period_type").equalTo(type).and(col("period_start").equalTo(start))
        .and(col("segment").equalTo(segment)).and(col("industry").equalTo(industry))).first();
  }

  private static Dataset<Row> noDaily() {
    return spark.createDataFrame(List.of(), FeatureBuilderTest.dailySchema());
  }

  @Test
  void domainWorkedExampleTwoHundredStartTwentyLostThirtyNew() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      rows.add(customer("s" + i, "retail", "2025-06-01", i < 20 ? "2026-03-1" + (i % 9) : null, 10));
    }
    for (int i = 0; i < 30; i++) {
      rows.add(customer("n" + i, "retail", "2026-03-0" + (1 + i % 9), null, 10));
    }
    Dataset<Row> rates = Retention.rates(spark.createDataFrame(rows, Customers.TABLE_SCHEMA), noDaily(),
        Retention.periods(spark, LocalDate.parse("2026-03-01"), LocalDate.parse("2026-03-31")));
    Row all = rate(rates, "month", "2026-03-01", Retention.ALL, Retention.ALL);
    DomainExample.assertWorkedExample(all);
    assertEquals(0.10, all.<Double>getAs("mrr_churn_rate"), 1e-12);
    assertEquals(false, all.<Boolean>getAs("is_partial"));
    Row retail = rate(rates, "month", "2026-03-01", "smb", "retail");
    assertEquals(0.63, retail.<Double>getAs("benchmark_retention_rate"));
    assertEquals(Math.pow(0.9, 12) - 0.63, retail.<Double>getAs("gap_to_benchmark"), 1e-12);
    assertEquals(true, rate(rates, "quarter", "2026-01-01", Retention.ALL, Retention.ALL).<Boolean>getAs("is_partial"));
  }

  @Test
  void aMonthAndAQuarterCountedByHand() {
    Dataset<Row> customers = spark.createDataFrame(List.of(
        customer("a", "banking", "2025-12-10", "2026-02-15", 100),
        customer("b", "banking", "2025-11-01", null, 50),
        customer("c", "media", "2026-01-20", "2026-03-05", 30),
        customer("d", "media", "2026-02-01", null, 40),
        customer("e", "banking", "2025-10-01", "2026-01-31", 20)), Customers.TABLE_SCHEMA);
    // b downgrades from 50 to 35 in February: contraction, not churn.
    Dataset<Row> daily = spark.createDataFrame(List.of(FeatureBuilderTest.day("b", "2026-02-10",
        Map.of("downgrades", 1, DailyActivity.MRR_END, 35.0, DailyActivity.PLAN_END, "starter"))),
        FeatureBuilderTest.dailySchema());
    Dataset<Row> rates = Retention.rates(customers, daily,
        Retention.periods(spark, LocalDate.parse("2026-01-01"), LocalDate.parse("2026-03-31")));
    StructType s = new StructType().add("customers_start", DataTypes.LongType).add("customers_new", DataTypes.LongType)
        .add("customers_lost", DataTypes.LongType).add("customers_end", DataTypes.LongType)
        .add("mrr_start", DataTypes.DoubleType).add("mrr_lost", DataTypes.DoubleType)
        .add("mrr_contraction", DataTypes.DoubleType);
    String cols = "customers_start, customers_new, customers_lost, customers_end, mrr_start, mrr_lost, mrr_contraction";
    // February: at start a, b, c (e left in January); d is new; a is lost; at end b, c, d.
    assertRows(List.of(RowFactory.create(3L, 1L, 1L, 3L, 180.0, 100.0, 15.0)), s,
        rates.where("period_type = 'month' AND period_start = DATE'2026-02-01' AND segment = 'ALL' AND industry = 'ALL'")
            .selectExpr(cols.split(", ")));
    // Q1: at start a, b, e; c and d are new; a, c, e are lost; at end b, d.
    assertRows(List.of(RowFactory.create(3L, 2L, 3L, 2L, 170.0, 150.0, 15.0)), s,
        rates.where("period_type = 'quarter' AND period_start = DATE'2026-01-01' AND segment = 'ALL' AND industry = 'ALL'")
            .selectExpr(cols.split(", ")));
    Row q1 = rate(rates, "quarter", "2026-01-01", Retention.ALL, Retention.ALL);
    // c signed up and left within Q1: lost, but not from the starting cohort a, b, e, of which b stayed.
    assertEquals(1L, q1.<Long>getAs("customers_new_lost"));
    assertEquals(1.0 / 3, q1.<Double>getAs("retention_rate"), 1e-12, "(E - (N - new lost)) / S = (2 - 1) / 3");
    assertEquals(2.0 / 3, q1.<Double>getAs("churn_rate"), 1e-12, "(lost - new lost) / S = (3 - 1) / 3");
    Row banking = rate(rates, "quarter", "2026-01-01", Retention.ALL, "banking");
    assertEquals(3L, banking.<Long>getAs("customers_start"));
    assertEquals(2L, banking.<Long>getAs("customers_lost"));
  }

  @Test
  void theMrrOfADateIsItsLastChangeAndEachDowngradeOfAPeriodCountsOnce() {
    // f signs up at 100 in December, goes up to 120 in January, down to 90 and then 60 in February, and leaves in
    // March; the changes are given out of order.
    // g, in the same groups, has no signup MRR (counted as 0), goes up to 10 in January and down to 4 in February.
    Row g = customer("g", "media", "2025-12-01", null, 0);
    Object[] noSignupMrr = new Object[g.length()];
    for (int i = 0; i < g.length(); i++) {
      noSignupMrr[i] = Customers.TABLE_SCHEMA.fields()[i].name().equals(Customers.SIGNUP_MRR) ? null : g.get(i);
    }
    Dataset<Row> customers = spark.createDataFrame(List.of(customer("f", "media", "2025-12-01", "2026-03-10", 100),
        RowFactory.create(noSignupMrr)), Customers.TABLE_SCHEMA);
    Dataset<Row> daily = spark.createDataFrame(List.of(
        FeatureBuilderTest.day("f", "2026-02-20", Map.of(DailyActivity.MRR_END, 60.0)),
        FeatureBuilderTest.day("f", "2026-01-10", Map.of(DailyActivity.MRR_END, 120.0)),
        FeatureBuilderTest.day("f", "2026-02-05", Map.of(DailyActivity.MRR_END, 90.0)),
        FeatureBuilderTest.day("g", "2026-01-15", Map.of(DailyActivity.MRR_END, 10.0)),
        FeatureBuilderTest.day("g", "2026-02-15", Map.of(DailyActivity.MRR_END, 4.0))),
        FeatureBuilderTest.dailySchema());
    Dataset<Row> rates = Retention.rates(customers, daily,
        Retention.periods(spark, LocalDate.parse("2026-01-01"), LocalDate.parse("2026-03-31")));
    StructType s = new StructType().add("mrr_start", DataTypes.DoubleType).add("mrr_lost", DataTypes.DoubleType)
        .add("mrr_contraction", DataTypes.DoubleType);
    String all = " AND segment = 'ALL' AND industry = 'ALL'";
    // January: starts at the signup MRRs, the upgrades are no contraction.
    assertRows(List.of(RowFactory.create(100.0, 0.0, 0.0)), s, rates.where("period_type = 'month' AND "
        + "period_start = DATE'2026-01-01'" + all).selectExpr("mrr_start", "mrr_lost", "mrr_contraction"));
    // February: starts at January's 120 + 10; f's two downgrades, 30 each, and g's 6.
    assertRows(List.of(RowFactory.create(130.0, 0.0, 66.0)), s, rates.where("period_type = 'month' AND "
        + "period_start = DATE'2026-02-01'" + all).selectExpr("mrr_start", "mrr_lost", "mrr_contraction"));
    // March: starts at 60 + 4, and f loses the 60 it had when it left.
    assertRows(List.of(RowFactory.create(64.0, 60.0, 0.0)), s, rates.where("period_type = 'month' AND "
        + "period_start = DATE'2026-03-01'" + all).selectExpr("mrr_start", "mrr_lost", "mrr_contraction"));
    // The quarter: from the signup MRRs, all three downgrades, f's MRR at churn.
    assertRows(List.of(RowFactory.create(100.0, 60.0, 66.0)), s, rates.where("period_type = 'quarter'" + all)
        .selectExpr("mrr_start", "mrr_lost", "mrr_contraction"));
  }

  @Test
  void cohortsCountWhoIsStillACustomerAtEachFullMonthEnd() {
    Dataset<Row> customers = spark.createDataFrame(List.of(
        customer("jan-stays", "retail", "2026-01-05", null, 10),
        customer("jan-leaves-feb", "retail", "2026-01-20", "2026-02-10", 10),
        customer("jan-leaves-jan", "retail", "2026-01-25", "2026-01-31", 10),
        customer("feb", "retail", "2026-02-03", null, 10),
        customer("mar-too-young", "retail", "2026-03-02", null, 10),
        customer("dec-before", "retail", "2025-12-20", null, 10)), Customers.TABLE_SCHEMA);
    StructType out = new StructType().add("cohort_month", DataTypes.DateType)
        .add("months_since_signup", DataTypes.IntegerType).add("customers", DataTypes.LongType)
        .add("retained", DataTypes.LongType);
    Date jan = Date.valueOf("2026-01-01");
    Date feb = Date.valueOf("2026-02-01");
    assertRows(List.of(RowFactory.create(jan, 0, 3L, 2L), RowFactory.create(jan, 1, 3L, 1L),
            RowFactory.create(feb, 0, 1L, 1L)), out,
        Retention.cohorts(customers, LocalDate.parse("2026-01-15"), LocalDate.parse("2026-03-15"))
            .select("cohort_month", "months_since_signup", "customers", "retained"));
  }

  /**
   * Kaplan-Meier by hand: seven lifetimes (days to churn, or censored on the as-of date): 10, 10, 20, 30 churned;
   * 15 (signed up later), 40, 40 censored. At day 10: 7 at risk, 2 churn: S = 5/7. Day 20: 7 - 2 - 1 (censored at
   * 15) = 4 at risk, 1 churns: S = 5/7 x 3/4. Day 30: 3 at risk, 1 churns: S = 5/7 x 3/4 x 2/3, below one half, so
   * the median lifetime is 30 days. Greenwood's variance at day 20: 2/(7 x 5) + 1/(4 x 3).
   */
  @Test
  void survivalCurveCountedByHand() {
    String start = "2026-01-01";
    Dataset<Row> customers = spark.createDataFrame(List.of(
        customer("a", "retail", start, "2026-01-11", 10), customer("b", "retail", start, "2026-01-11", 10),
        customer("c", "retail", start, "2026-01-21", 10), customer("d", "retail", start, "2026-01-31", 10),
        customer("e", "retail", "2026-01-26", null, 10), customer("f", "retail", start, null, 10),
        customer("g", "retail", start, null, 10), customer("late", "retail", "2026-03-01", null, 10),
        customer("after", "retail", start, "2026-03-01", 10)), Customers.TABLE_SCHEMA);
    // "after" churns after the as-of date: censored at 40 days like f and g; "late" signs up after it: not seen.
    List<Row> curve = Survival.kaplanMeier(customers.where(col("customer_id").notEqual("g")), LocalDate.parse("2026-02-10"))
        .where(col("dimension").equalTo("all")).orderBy("day").collectAsList();
    assertEquals(List.of(10, 20, 30), curve.stream().map(r -> r.<Integer>getAs("day")).toList());
    assertEquals(List.of(7L, 4L, 3L), curve.stream().map(r -> r.<Long>getAs("at_risk")).toList());
    assertEquals(List.of(2L, 1L, 1L), curve.stream().map(r -> r.<Long>getAs("events")).toList());
    double s10 = 5.0 / 7;
    double s20 = s10 * 3 / 4;
    double s30 = s20 * 2 / 3;
    assertEquals(s10, curve.get(0).<Double>getAs("survival"), 1e-12);
    assertEquals(s20, curve.get(1).<Double>getAs("survival"), 1e-12);
    assertEquals(s30, curve.get(2).<Double>getAs("survival"), 1e-12);
    assertEquals(30, curve.get(0).<Integer>getAs("median_days"));
    double se = Math.sqrt(2.0 / (7 * 5) + 1.0 / (4 * 3)) / Math.abs(Math.log(s20));
    assertEquals(Math.pow(s20, Math.exp(1.959963984540054 * se)), curve.get(1).<Double>getAs("ci_low"), 1e-9);
    assertEquals(Math.pow(s20, Math.exp(-1.959963984540054 * se)), curve.get(1).<Double>getAs("ci_high"), 1e-9);
    List<Row> smb = Survival.kaplanMeier(customers.where(col("customer_id").notEqual("g")),
        LocalDate.parse("2026-02-10")).where(col("dimension").equalTo("segment").and(col("group_value").equalTo("smb")))
        .orderBy("day").collectAsList();
    assertEquals(curve.stream().map(r -> r.<Double>getAs("survival")).toList(),
        smb.stream().map(r -> r.<Double>getAs("survival")).toList(), "every customer is smb: the same curve");
  }
}
