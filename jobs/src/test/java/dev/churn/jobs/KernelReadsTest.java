package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;

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

/**
 * Tables are read through Delta Kernel ({@code KernelTables}): the rows Delta's own reader returns, a frame pinned
 * to the version it was made at, and the as-of dates, data range and row count answered from the log's file list as
 * a DISTINCT or a COUNT over the rows would answer them.
 */
class KernelReadsTest extends JobsSuite {
  private static final StructType SCORES = new StructType().add("customer_id", DataTypes.StringType)
      .add("as_of_date", DataTypes.DateType).add("churn_probability", DataTypes.DoubleType);

  private static Dataset<Row> scores(String day, String... customers) {
    return spark.createDataFrame(java.util.Arrays.stream(customers)
        .map(c -> RowFactory.create(c, Date.valueOf(day), 0.5)).toList(), SCORES);
  }

  private static List<LocalDate> dates(String... days) {
    return java.util.Arrays.stream(days).map(LocalDate::parse).toList();
  }

  @Test
  void aReadIsPinnedToItsVersionAndDatesComeFromTheFilesThatHoldRows() {
    Warehouse w = new Warehouse(spark, tempDir("kernel-wh").toString());
    w.replaceDates(Table.CHURN_SCORES, scores("2026-03-01", "a", "b").unionByName(scores("2026-03-02", "a"))
        .unionByName(scores("2026-03-04", "a", "b", "c")), dates("2026-03-01", "2026-03-02", "2026-03-04"));
    Dataset<Row> before = w.read(Table.CHURN_SCORES);
    assertSameRows(spark.read().format("delta").load(w.path(Table.CHURN_SCORES)), before);

    w.replaceDates(Table.CHURN_SCORES, scores("2026-03-03", "d"), dates("2026-03-03"));
    assertEquals(6, before.count(), "a frame read before a commit does not see it");
    assertEquals(7, w.read(Table.CHURN_SCORES).count());
    assertEquals(7, w.rows(Table.CHURN_SCORES), "rows from the log's statistics");
    assertEquals(dates("2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"),
        w.asOfDates(Table.CHURN_SCORES, null, null));
    assertEquals(dates("2026-03-02", "2026-03-03"), w.asOfDates(Table.CHURN_SCORES, LocalDate.parse("2026-03-02"),
        LocalDate.parse("2026-03-03")));

    // Every row of a date deleted (its file goes) or some (its file is rewritten): as a DISTINCT would say.
    w.deleteWhere(Table.CHURN_SCORES, col("as_of_date").equalTo(Date.valueOf("2026-03-02"))
        .or(col("customer_id").equalTo("a")));
    List<LocalDate> distinct = w.read(Table.CHURN_SCORES).select("as_of_date").distinct().collectAsList().stream()
        .map(r -> r.getDate(0).toLocalDate()).sorted().toList();
    assertEquals(dates("2026-03-01", "2026-03-03", "2026-03-04"), distinct);
    assertEquals(distinct, w.asOfDates(Table.CHURN_SCORES, null, null));
    assertEquals(w.read(Table.CHURN_SCORES).count(), w.rows(Table.CHURN_SCORES),
        "rows after a delete that rewrote files");
    assertEquals(4, w.rows(Table.CHURN_SCORES));
    assertEquals(0, w.rows(Table.CHURN_FORECAST), "a table that does not exist holds none");
  }
}
