package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.raise_error;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.Settings;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.EndToEnd;
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
 * Delta's CHECK constraints keep what the contract forbids out of the tables, whoever writes; a damaged warehouse
 * (a lost commit, a file where a folder belongs) is refused in one line naming it, before anything is touched.
 */
@EndToEnd
class WarehouseConstraintsTest extends JobsSuite {
  private static final LocalDate DAY = LocalDate.parse("2026-03-10");
  private static final StructType SCORES = new StructType().add("customer_id", DataTypes.StringType)
      .add("as_of_date", DataTypes.DateType).add("churn_probability", DataTypes.DoubleType);

  private static Dataset<Row> scores(String customer, double probability) {
    return scores(customer, probability, DAY);
  }

  private static Dataset<Row> scores(String customer, double probability, LocalDate day) {
    return spark.createDataFrame(List.of(RowFactory.create(customer, Date.valueOf(day), probability)), SCORES);
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

  /**
   * #30: a table is created with its description and column comments in its one creating commit; a table written
   * before comments existed gains them at its next write, in at most two commits more, its rows unchanged, and a
   * later command's write adds none.
   */
  @Test
  void tablesCarryTheirCommentsFromTheFirstCommitAndOlderTablesGainThemOnce() throws Exception {
    Warehouse w = new Warehouse(spark, tempDir("comments-wh").toString());
    w.replaceDates(Table.CHURN_SCORES, scores("c1", 0.25), List.of(DAY));
    assertEquals(0L, (long) w.latestVersions().get(Table.CHURN_SCORES), "one commit creates it");
    assertEquals(dev.churn.jobs.warehouse.TableDocs.column(Table.CHURN_SCORES, "churn_probability"),
        spark.read().format("delta").load(w.path(Table.CHURN_SCORES)).schema().apply("churn_probability")
            .getComment().get());

    Warehouse older = new Warehouse(spark, tempDir("comments-old").toString());
    scores("c1", 0.25).write().format("delta").partitionBy("as_of_date").save(older.path(Table.CHURN_SCORES));
    older.replaceDates(Table.CHURN_SCORES, scores("c2", 0.5, DAY.plusDays(1)), List.of(DAY.plusDays(1)));
    assertEquals(3L, (long) older.latestVersions().get(Table.CHURN_SCORES), "the write, after two comment commits");
    List<Row> described = spark.sql("DESCRIBE TABLE EXTENDED delta.`" + older.path(Table.CHURN_SCORES) + "`")
        .where("col_name IN ('Comment', 'customer_id', 'churn_probability')").collectAsList();
    for (Row r : described) {
      assertEquals(r.getString(0).equals("Comment") ? dev.churn.jobs.warehouse.TableDocs.description(Table.CHURN_SCORES)
          : dev.churn.jobs.warehouse.TableDocs.column(Table.CHURN_SCORES, r.getString(0)),
          r.getString(r.getString(0).equals("Comment") ? 1 : 2), r.getString(0));
    }
    assertEquals(3, described.size(), "two columns and the description: " + described);
    assertEquals(List.of("c1", "c2"), older.read(Table.CHURN_SCORES).orderBy("customer_id").collectAsList().stream()
        .map(r -> r.getString(0)).toList());
    new Warehouse(spark, older.root()).replaceDates(Table.CHURN_SCORES, scores("c3", 0.5, DAY.plusDays(2)),
        List.of(DAY.plusDays(2)));
    assertEquals(4L, (long) older.latestVersions().get(Table.CHURN_SCORES), "comments up to date: the write alone");

    // A first write killed before its commit left files and no log: the rerun creates the table over them (CREATE
    // TABLE would refuse the folder), storing only its own rows.
    Warehouse killed = new Warehouse(spark, tempDir("comments-killed").toString());
    scores("stray", 0.5).write().parquet(killed.path(Table.CHURN_SCORES) + "/as_of_date=" + DAY);
    killed.replaceDates(Table.CHURN_SCORES, scores("c1", 0.25), List.of(DAY));
    assertEquals(List.of("c1"), killed.read(Table.CHURN_SCORES).collectAsList().stream().map(r -> r.getString(0))
        .toList());
  }

  /** The rows that create a table are checked too: a bad first write stores nothing and leaves no table. */
  @Test
  void aBadFirstWriteCreatesNoTable() {
    Warehouse w = new Warehouse(spark, tempDir("constraints-first").toString());
    Exception tooHigh = assertThrows(Exception.class, () -> w.replaceDates(Table.CHURN_SCORES, scores("c1", 1.5),
        List.of(DAY)));
    assertTrue(String.valueOf(tooHigh.getMessage()).contains("probability_in_0_1"), tooHigh.getMessage());
    assertFalse(w.exists(Table.CHURN_SCORES), "no table after a refused first write");
  }

  /** A command reads a setting once (one Spark job), yet sees every later commit, its own or another command's. */
  @Test
  void aSettingReadOnceFollowsEveryLaterCommitWhoeverMakesIt() {
    String root = tempDir("settings-wh").toString();
    Warehouse w = new Warehouse(spark, root);
    assertNull(w.setting(Settings.SOURCE_NAME), "no settings table yet");
    Settings.write(w, Map.of(Settings.SOURCE_NAME, "first"));
    assertEquals("first", w.setting(Settings.SOURCE_NAME));
    Settings.write(new Warehouse(spark, root), Map.of(Settings.SOURCE_NAME, "second"));
    assertEquals("second", w.setting(Settings.SOURCE_NAME), "a commit by another command");
    assertNull(w.setting(Settings.VOCABULARY));
  }

  /**
   * An upsert rewrites the table in one commit: the source's keys replaced or added, every other row kept as it
   * was; a source that fails to compute changes nothing.
   */
  @Test
  void anUpsertReplacesItsKeysKeepsEveryOtherRowAndIsAllOrNothing() {
    Warehouse w = new Warehouse(spark, tempDir("upsert-wh").toString());
    java.util.function.Function<List<Row>, Dataset<Row>> rows = r -> spark.createDataFrame(r,
        Table.SOURCE_SETTINGS.schema());
    w.upsert(Table.SOURCE_SETTINGS, rows.apply(List.of(RowFactory.create("a", "1"), RowFactory.create("b", "2"),
        RowFactory.create("c", "3"))));
    w.upsert(Table.SOURCE_SETTINGS, rows.apply(List.of(RowFactory.create("b", "20"), RowFactory.create("d", "4"))));
    List<String> expected = List.of("[a,1]", "[b,20]", "[c,3]", "[d,4]");
    assertEquals(expected, w.read(Table.SOURCE_SETTINGS).orderBy("key").collectAsList().stream().map(Row::toString)
        .toList());

    // A source that fails while it is computed (as a crash mid-write would) commits nothing.
    Dataset<Row> failing = rows.apply(List.of(RowFactory.create("a", "10"), RowFactory.create("e", "5")))
        .withColumn("value", when(col("key").equalTo("e"), raise_error(lit("boom"))).otherwise(col("value")));
    assertThrows(Exception.class, () -> w.upsert(Table.SOURCE_SETTINGS, failing));
    assertEquals(expected, w.read(Table.SOURCE_SETTINGS).orderBy("key").collectAsList().stream().map(Row::toString)
        .toList(), "a failed upsert changes nothing");
  }

  @Test
  void aRateOutsideZeroToOneIsRefused() {
    Warehouse w = new Warehouse(spark, tempDir("rates-wh").toString());
    StructType rates = new StructType().add("period_type", DataTypes.StringType)
        .add("period_start", DataTypes.DateType).add("segment", DataTypes.StringType)
        .add("industry", DataTypes.StringType).add("churn_rate", DataTypes.DoubleType)
        .add("retention_rate", DataTypes.DoubleType).add("retention_rate_annualized", DataTypes.DoubleType);
    w.replaceWhere(Table.RETENTION_RATES, spark.createDataFrame(List.of(RowFactory.create("month", Date.valueOf(DAY),
        "ALL", "ALL", 0.1, 0.9, null)), rates), "true");
    Exception negative = assertThrows(Exception.class, () -> w.replaceWhere(Table.RETENTION_RATES,
        spark.createDataFrame(List.of(RowFactory.create("month", Date.valueOf(DAY), "ALL", "ALL", 1.5, -0.5, null)),
            rates), "true"));
    assertTrue(String.valueOf(negative.getMessage()).contains("rate_in_0_1"), negative.getMessage());
    assertEquals(0.9, w.read(Table.RETENTION_RATES).first().<Double>getAs("retention_rate"), 0.0);
  }

  @Test
  void aWarehouseWithALostCommitOrAFileForAFolderIsRefusedInOneLineAndLeftAsItWas() throws Exception {
    java.nio.file.Path root = tempDir("damaged-wh");
    java.nio.file.Path in = tempDir("damaged-in");
    write(in.resolve("event_date=" + DAY + "/a.jsonl"), List.of(event("e1", "c1", DAY + "T10:00:00Z", "login")));
    write(in.resolve("event_date=" + DAY.plusDays(1) + "/a.jsonl"), List.of(event("e2", "c1", DAY.plusDays(1)
        + "T10:00:00Z", "login")));
    String events = in.resolve("event_date=" + DAY).toString();
    assertEquals(0, cli("--warehouse", root.toString(), "ingest", "--events", events).exitCode());
    assertEquals(0, cli("--warehouse", root.toString(), "ingest", "--events", in.resolve("event_date="
        + DAY.plusDays(1)).toString()).exitCode());

    // The latest commit of events is lost (its checksum file stays): Delta alone would read the older table.
    java.nio.file.Path log = root.resolve("events/_delta_log");
    java.nio.file.Path latest;
    try (var files = java.nio.file.Files.list(log)) {
      latest = files.filter(f -> f.getFileName().toString().endsWith(".json")).max(java.util.Comparator.naturalOrder())
          .orElseThrow();
    }
    java.nio.file.Files.delete(latest);
    String before = listing(root);
    CliRun lost = cli("--warehouse", root.toString(), "ingest", "--events", events);
    assertEquals(1, lost.exitCode(), lost.err());
    List<String> lines = lost.err().strip().lines().toList();
    assertEquals(1, lines.size(), lost.err());
    assertTrue(lines.get(0).startsWith("churn: table events is damaged: its Delta log ") && lines.get(0).contains(
        "restore that folder from a backup"), lines.get(0));
    assertEquals(before, listing(root), "nothing was touched");

    java.nio.file.Path file = java.nio.file.Files.writeString(tempDir("file-wh").resolve("warehouse"), "not a folder");
    CliRun notAFolder = cli("--warehouse", file.toString(), "ingest", "--events", events);
    assertEquals(1, notAFolder.exitCode(), notAFolder.err());
    assertEquals(List.of("churn: the warehouse " + new Warehouse(spark, file.toString()).root() + " is a file, not a "
        + "folder: pass --warehouse a folder (or a new path); nothing was touched"), notAFolder.err().strip().lines().toList());
  }

  /** Every file under {@code root} with its size. */
  private static String listing(java.nio.file.Path root) throws java.io.IOException {
    try (var files = java.nio.file.Files.walk(root)) {
      return String.join("\n", files.filter(java.nio.file.Files::isRegularFile).map(f -> {
        try {
          return root.relativize(f) + " " + java.nio.file.Files.size(f);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).sorted().toList());
    }
  }
}
