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
}
