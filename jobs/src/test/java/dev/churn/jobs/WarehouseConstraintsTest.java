package dev.churn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import java.sql.Date;
import java.time.LocalDate;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Delta's CHECK constraints keep what the contract forbids out of the tables, whoever writes. */
class WarehouseConstraintsTest extends JobsSuite {
  private static final LocalDate DAY = LocalDate.parse("2026-03-10");
  private static final StructType SCORES = new StructType().add("customer_id", DataTypes.StringType)
      .add("as_of_date", DataTypes.DateType).add("churn_probability", DataTypes.DoubleType);

  private static Dataset<Row> scores(String customer, double probability) {
    return spark.createDataFrame(List.of(RowFactory.create(customer, Date.valueOf(DAY), probability)), SCORES);
  }

  @Test
  void aProbabilityOutsideZeroToOneOrAMissingKeyIsRefusedAndNothingIsStored() {
    Warehouse w = new Warehouse(spark, tempDir("constraints-wh").toString());
    w.replaceDates(Table.CHURN_SCORES, scores("c1", 0.25), List.of(DAY));

    Exception tooHigh = assertThrows(Exception.class, () -> w.replaceDates(Table.CHURN_SCORES, scores("c2", 1.5),
        List.of(DAY)));
    assertTrue(String.valueOf(tooHigh.getMessage()).contains("probability_in_0_1"), tooHigh.getMessage());
    Exception noKey = assertThrows(Exception.class, () -> w.replaceDates(Table.CHURN_SCORES, scores(null, 0.5),
        List.of(DAY)));
    assertTrue(String.valueOf(noKey.getMessage()).contains("key_present"), noKey.getMessage());

    List<Row> stored = w.read(Table.CHURN_SCORES).collectAsList();
    assertEquals(1, stored.size());
    assertEquals("c1", stored.get(0).getString(0));
  }
}
