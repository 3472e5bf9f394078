package dev.churn.features;

import static org.apache.spark.sql.functions.col;

import dev.churn.testing.SparkSuite;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class CustomerMergeTest extends SparkSuite {
  private static final Timestamp PRO = Timestamp.valueOf("2026-01-15 10:00:00");
  private static final Timestamp BASIC = Timestamp.valueOf("2026-02-20 09:00:00");

  private static Date d(String day) {
    return day == null ? null : Date.valueOf(day);
  }

  /** A stored customer who moved from basic to pro on January 15. */
  private static Dataset<Row> stored() {
    return spark.createDataFrame(List.of(RowFactory.create("a", "smb", "retail", "pro", 199.0, d("2026-01-01"),
        "basic", 49.0, null, null, null, d("2026-01-02"), d("2026-02-01"), PRO)), Customers.TABLE_SCHEMA);
  }

  @Test
  void aCustomersFileSetsAttributesButNotAPlanThatEventsChanged() {
    StructType file = new StructType().add("customer_id", DataTypes.StringType).add("segment", DataTypes.StringType)
        .add("industry", DataTypes.StringType).add("plan", DataTypes.StringType).add("mrr", DataTypes.DoubleType)
        .add("signup_date", DataTypes.DateType).add("trial_end_date", DataTypes.DateType);
    Dataset<Row> rows = spark.createDataFrame(List.of(
        RowFactory.create("a", "enterprise", "banking", "basic", 49.0, d("2025-12-01"), null),
        RowFactory.create("b", "smb", "it", "free", 0.0, d("2026-02-01"), d("2026-02-15"))), file);
    assertRows(List.of(
            RowFactory.create("a", "enterprise", "banking", "pro", 199.0, d("2025-12-01"), "basic", 49.0, null, null,
                null, d("2026-01-02"), d("2026-02-01"), PRO),
            RowFactory.create("b", "smb", "it", "free", 0.0, d("2026-02-01"), "free", 0.0, d("2026-02-15"), null, null,
                null, null, null)),
        Customers.TABLE_SCHEMA, CustomerMerge.fromFile(rows, stored()));
  }

  @Test
  void eventsWidenTheDatesTakeTheLaterPlanAndCreateNewCustomersWithTheMappingsConstants() {
    StructType summary = new StructType().add("customer_id", DataTypes.StringType)
        .add("first_event_date", DataTypes.DateType).add("last_event_date", DataTypes.DateType)
        .add("cancelled_on", DataTypes.DateType).add("plan_changed_at", DataTypes.TimestampType)
        .add("plan", DataTypes.StringType).add("mrr", DataTypes.DoubleType);
    Dataset<Row> batch = spark.createDataFrame(List.of(
        RowFactory.create("a", d("2026-01-01"), d("2026-03-01"), d("2026-03-01"), BASIC, "basic", 49.0),
        RowFactory.create("c", d("2026-02-10"), d("2026-02-20"), null, null, null, null)), summary);
    assertRows(List.of(
            RowFactory.create("a", "smb", "retail", "basic", 49.0, d("2026-01-01"), "basic", 49.0, null,
                d("2026-03-01"), d("2026-03-01"), d("2026-01-01"), d("2026-03-01"), BASIC),
            RowFactory.create("c", "consumer", "unknown", "unknown", 0.0, d("2026-02-10"), "unknown", 0.0, null, null,
                null, d("2026-02-10"), d("2026-02-20"), null)),
        Customers.TABLE_SCHEMA, CustomerMerge.fromEvents(batch, stored(),
            ChurnDefinition.cancellation(List.of("cancellation")), Map.of("segment", "consumer")));
  }

  @Test
  void inactivityChurnIsTheDayTheSilenceReachedItsLengthWithinTheData() {
    StructType schema = new StructType().add("customer_id", DataTypes.StringType)
        .add("last_event_date", DataTypes.DateType);
    Dataset<Row> customers = spark.createDataFrame(List.of(RowFactory.create("gone", d("2026-02-15")),
        RowFactory.create("quiet", d("2026-03-10")), RowFactory.create("edge", d("2026-03-01"))), schema);
    StructType out = new StructType().add("customer_id", DataTypes.StringType).add("churn_date", DataTypes.DateType);
    assertRows(List.of(RowFactory.create("gone", d("2026-03-17")), RowFactory.create("quiet", null),
            RowFactory.create("edge", d("2026-03-31"))), out,
        customers.select(col("customer_id"),
            CustomerMerge.inactivityChurnDate(30, LocalDate.parse("2026-03-31")).as("churn_date")));
  }
}
