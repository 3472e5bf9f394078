package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.EndToEnd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The generator's injected bad records, as its ground truth lists them, end up where they belong. That the same
 * seed writes the same files, and that each injected record is what its truth line says, is GeneratorTest's.
 */
@EndToEnd
class GenerateIngestTest extends JobsSuite {

  @Test
  void everyInjectedBadRecordIsQuarantinedWithItsReasonAndLateEventsAreAccepted() throws Exception {
    Path out = tempDir("gen");
    Path wh = tempDir("gen-wh");
    CliRun gen = cli("generate", "--out", out.toString(), "--customers", "60", "--days", "14", "--start",
        "2026-02-01", "--seed", "11", "--bad-fraction", "0.05");
    assertEquals(0, gen.exitCode(), gen.err());
    CliRun ingest = cli("--warehouse", wh.toString(), "ingest", "--events", out.resolve("events").toString(),
        "--customers", out.resolve("customers").toString(), "--max-bad-fraction", "0.2");
    assertEquals(0, ingest.exitCode(), ingest.err());

    Dataset<Row> truth = spark.read().option("header", true).csv(out.resolve("truth/bad_records").toString());
    Dataset<Row> expectedRejects = truth.where(col("expected_reason").notEqual("late"))
        .select(col("event_id"), col("expected_reason").as("reason"));
    assertTrue(expectedRejects.count() > 20, "the fixture injects enough bad records to mean something");
    Warehouse w = new Warehouse(spark, wh.toString());
    Dataset<Row> quarantined = w.read(Table.EVENTS_QUARANTINE).select(
        regexp_extract(col("raw_record"), "\"event_id\":\"([^\"]+)\"", 1).as("event_id"), col("reason"));
    assertSameRows(expectedRejects, quarantined);

    Dataset<Row> late = truth.where(col("expected_reason").equalTo("late"));
    Dataset<Row> lateAccepted = w.read(Table.EVENTS).join(late, "event_id")
        .where(col("event_date").lt(col("folder_date").cast("date")));
    assertEquals(late.count(), lateAccepted.count(), "late events are accepted, dated by their own timestamp");

    Row log = w.read(Table.RUN_LOG).where(col("stage").equalTo("ingest")).first();
    long lines;
    try (Stream<Path> files = Files.walk(out.resolve("events"))) {
      lines = files.filter(p -> p.toString().endsWith(".jsonl")).mapToLong(p -> {
        try {
          return Files.readAllLines(p).size();
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).sum();
    }
    assertEquals(lines, (long) log.<Long>getAs("rows_in"));
    assertEquals(lines, log.<Long>getAs("rows_out") + log.<Long>getAs("rows_rejected"));
  }
}
