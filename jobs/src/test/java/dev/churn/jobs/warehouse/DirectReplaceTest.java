package dev.churn.jobs.warehouse;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.testing.SparkSuite;
import java.sql.Date;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The warehouse's replacing writes without Delta's table state ({@link DirectReplace}): what they replace, keep and
 * refuse, and that a schema change still takes Delta's own write. In memory, on one session.
 */
class DirectReplaceTest extends SparkSuite {
  private static final LocalDate D1 = LocalDate.parse("2026-03-01");
  private static final LocalDate D2 = D1.plusDays(1);
  private static final LocalDate D3 = D1.plusDays(2);
  private static final StructType SCORES = new StructType().add("customer_id", DataTypes.StringType)
      .add("as_of_date", DataTypes.DateType).add("churn_probability", DataTypes.DoubleType);
  private static final StructType RATES = new StructType().add("period_type", DataTypes.StringType)
      .add("period_start", DataTypes.DateType).add("segment", DataTypes.StringType)
      .add("industry", DataTypes.StringType).add("retention_rate", DataTypes.DoubleType)
      .add("retention_rate_annualized", DataTypes.DoubleType);

  private static Dataset<Row> scores(Object[]... rows) {
    return spark.createDataFrame(java.util.Arrays.stream(rows).map(r -> RowFactory.create(r[0],
        Date.valueOf((LocalDate) r[1]), r[2])).toList(), SCORES);
  }

  /** The operation of the table's latest commit, from its log: DELETE and UPDATE are Delta's own commands. */
  private static String lastOperation(Warehouse w, Table t) throws java.io.IOException {
    java.nio.file.Path log = java.nio.file.Path.of(java.net.URI.create(w.path(t))).resolve("_delta_log");
    String commit = java.nio.file.Files.readString(log.resolve(String.format("%020d.json",
        w.latestVersions().get(t))));
    java.util.regex.Matcher op = java.util.regex.Pattern.compile("\"operation\":\"(\\w+)\"").matcher(commit);
    return op.find() ? op.group(1) : null;
  }

  /**
   * Per file of the table's first version and of its latest ({@link KernelTables#scanFiles}: every file its writes
   * added here), the columns its statistics give a minimum for (none for a file without statistics).
   */
  private static List<java.util.Set<String>> statisticsColumns(Warehouse w, Table t) {
    List<java.util.Set<String>> files = new java.util.ArrayList<>();
    for (long version : new long[] {0, -1}) {
      KernelTables.scanFiles(spark, w.path(t), version, file -> {
        java.util.Set<String> columns = new java.util.TreeSet<>();
        String stats = KernelTables.stats(file);
        if (stats != null) {
          try {
            DeltaLogFiles.MAPPER.readTree(stats).path("minValues").fieldNames().forEachRemaining(columns::add);
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
        files.add(columns);
      });
    }
    return files;
  }

  private static List<String> stored(Warehouse w, Table t) {
    return w.read(t).collectAsList().stream().map(Row::toString).sorted().toList();
  }

  @Test
  void datesReplaceOnlyTheirPartitionsARowOutsideCommitsNothingAndDeletingFromADateKeepsTheEarlierOnes()
      throws Exception {
    Warehouse w = new Warehouse(spark, tempDir("direct-dates").toString());
    w.replaceDates(Table.CHURN_SCORES, scores(new Object[] {"a", D1, 0.1}, new Object[] {"b", D1, 0.2},
        new Object[] {"c", D2, 0.3}), List.of(D1, D2));
    String path = w.path(Table.CHURN_SCORES);

    var written = DirectReplace.partitions(spark, path, "as_of_date", v -> D2.toString().equals(v),
        TableComments.described(Table.CHURN_SCORES, scores(new Object[] {"d", D2, 0.4}, new Object[] {"e", D2, 0.5})),
        "as_of_date IN (DATE'" + D2 + "')");
    assertEquals(2, written.orElseThrow(), "the direct path wrote the new rows");
    assertEquals(List.of("[a,2026-03-01,0.1]", "[b,2026-03-01,0.2]", "[d,2026-03-02,0.4]", "[e,2026-03-02,0.5]"),
        stored(w, Table.CHURN_SCORES));
    // Every file, from the creating write and the direct path, bounds the key outside the partition only
    // (Table.statisticsColumns), and counts its rows, which the warehouse's facts sum.
    List<java.util.Set<String>> files = statisticsColumns(w, Table.CHURN_SCORES);
    assertTrue(files.size() >= 3, "files added: two dates, then one replaced: " + files);
    files.forEach(columns -> assertEquals(java.util.Set.of("customer_id"), columns));
    assertEquals(4L, KernelTables.rowCount(spark, w.path(Table.CHURN_SCORES)), "every file counts its rows");
    assertEquals(4, new Warehouse(spark, w.root()).rows(Table.CHURN_SCORES));

    long version = w.latestVersions().get(Table.CHURN_SCORES);
    Exception outside = assertThrows(IllegalArgumentException.class, () -> w.replaceDates(Table.CHURN_SCORES,
        scores(new Object[] {"f", D2, 0.6}, new Object[] {"g", D3, 0.7}), List.of(D2)));
    assertTrue(outside.getMessage().contains("lies outside"), outside.getMessage());
    assertEquals(version, w.latestVersions().get(Table.CHURN_SCORES), "nothing was committed");
    // A CHECK constraint of the table holds on the direct path too.
    Exception tooHigh = assertThrows(Exception.class, () -> w.replaceDates(Table.CHURN_SCORES,
        scores(new Object[] {"f", D2, 1.5}), List.of(D2)));
    assertTrue(String.valueOf(tooHigh.getMessage()).contains("probability_in_0_1"), tooHigh.getMessage());

    assertEquals(2, w.deleteDatesFrom(Table.CHURN_SCORES, D2));
    assertEquals(List.of("[a,2026-03-01,0.1]", "[b,2026-03-01,0.2]"), stored(w, Table.CHURN_SCORES));
    assertEquals("WRITE", lastOperation(w, Table.CHURN_SCORES), "not Delta's DELETE");
  }

  @Test
  void anUnpartitionedTableKeepsTheRowsThePredicateDoesNotHoldForAndRefusesANewRowOutsideIt() throws Exception {
    Warehouse w = new Warehouse(spark, tempDir("direct-rows").toString());
    List<Row> first = List.of(RowFactory.create("month", Date.valueOf(D1), "ALL", "ALL", 0.9, 0.3),
        RowFactory.create("month", Date.valueOf(D2), "ALL", "ALL", 0.8, 0.6),
        RowFactory.create("week", Date.valueOf(D2), "ALL", "ALL", 0.7, null));
    w.replaceWhere(Table.RETENTION_RATES, spark.createDataFrame(first, RATES), "true");

    // The predicate is null for the week's row: kept, as Delta's DELETE keeps it.
    assertEquals(1, w.replaceWhere(Table.RETENTION_RATES, spark.createDataFrame(List.of(RowFactory.create("month",
        Date.valueOf(D3), "ALL", "ALL", 0.95, 0.55)), RATES), "retention_rate_annualized > 0.5"));
    assertEquals(List.of("[month,2026-03-01,ALL,ALL,0.9,0.3]", "[month,2026-03-03,ALL,ALL,0.95,0.55]",
        "[week,2026-03-02,ALL,ALL,0.7,null]"), stored(w, Table.RETENTION_RATES));

    long version = w.latestVersions().get(Table.RETENTION_RATES);
    Exception outside = assertThrows(Exception.class, () -> w.replaceWhere(Table.RETENTION_RATES,
        spark.createDataFrame(List.of(RowFactory.create("month", Date.valueOf(D3), "ALL", "ALL", 0.95, 0.1)), RATES),
        "retention_rate_annualized > 0.5"));
    assertTrue(String.valueOf(outside.getMessage()).contains("lies outside"), outside.getMessage());
    assertEquals(version, w.latestVersions().get(Table.RETENTION_RATES), "nothing was committed");

    assertEquals(3, w.updateAll(Table.RETENTION_RATES, Map.of("segment", lit("every"))));
    assertEquals("WRITE", lastOperation(w, Table.RETENTION_RATES), "not Delta's UPDATE");
    assertThrows(IllegalArgumentException.class, () -> w.updateAll(Table.RETENTION_RATES, Map.of("segmnt",
        lit("typo"))));
    assertEquals(List.of("every"), w.read(Table.RETENTION_RATES).select("segment").distinct().collectAsList().stream()
        .map(r -> r.getString(0)).toList());
  }

  @Test
  void aNewColumnTakesDeltasOwnWriteWhichAddsIt() {
    Warehouse w = new Warehouse(spark, tempDir("direct-schema").toString());
    w.replaceDates(Table.CHURN_SCORES, scores(new Object[] {"a", D1, 0.1}), List.of(D1));
    Dataset<Row> wider = scores(new Object[] {"b", D2, 0.2}).withColumn("risk_tier", lit("low"));
    assertTrue(DirectReplace.partitions(spark, w.path(Table.CHURN_SCORES), "as_of_date", v -> true, wider, "true")
        .isEmpty(), "a schema change is Delta's to write");
    w.replaceDates(Table.CHURN_SCORES, wider, List.of(D2));
    assertEquals(List.of("[a,2026-03-01,0.1,null]", "[b,2026-03-02,0.2,low]"), stored(w, Table.CHURN_SCORES));
    assertEquals(1, w.read(Table.CHURN_SCORES).where(col("risk_tier").isNull()).count());
  }
}
