package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.EndToEnd;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

@EndToEnd
class FeaturesJobTest extends JobsSuite {

  private static double logins7d(Warehouse w, String asOf, String customer) {
    return w.read(Table.CUSTOMER_FEATURES).where(col("as_of_date").equalTo(asOf).and(col("customer_id").equalTo(customer)))
        .select("logins_7d").first().getDouble(0);
  }

  @Test
  void aLateEventChangesTheSnapshotsItsWindowCoversOnceRebuiltAndNothingElse() {
    Path in = tempDir("feat-in");
    Path wh = tempDir("feat-wh");
    write(in.resolve("d1/event_date=2026-03-01/part-00000.jsonl"), List.of(
        event("a1", "c1", "2026-03-01T08:00:00Z", "login"), event("a2", "c2", "2026-03-01T08:00:00Z", "login")));
    write(in.resolve("d0/event_date=2026-02-20/part-00000.jsonl"), List.of(
        event("z1", "c1", "2026-02-20T08:00:00Z", "login"), event("z2", "c2", "2026-02-20T08:00:00Z", "login")));
    String w = wh.toString();
    assertEquals(0, cli("--warehouse", w, "ingest", "--events", in.resolve("d0").toString()).exitCode());
    assertEquals(0, cli("--warehouse", w, "ingest", "--events", in.resolve("d1").toString()).exitCode());
    for (String d : List.of("2026-02-25", "2026-03-02")) {
      CliRun r = cli("--warehouse", w, "features", "--as-of", d);
      assertEquals(0, r.exitCode(), r.err());
    }
    Warehouse wf = new Warehouse(spark, w);
    assertEquals(1.0, logins7d(wf, "2026-03-02", "c1"));
    Dataset<Row> before = wf.read(Table.CUSTOMER_FEATURES);
    List<Row> earlier = before.where(col("as_of_date").equalTo("2026-02-25")).orderBy("customer_id").collectAsList();

    write(in.resolve("d2/event_date=2026-03-03/part-00000.jsonl"), List.of(
        event("late", "c1", "2026-03-01T21:00:00Z", "login")));
    assertEquals(0, cli("--warehouse", w, "ingest", "--events", in.resolve("d2").toString()).exitCode());
    assertEquals(1.0, logins7d(wf, "2026-03-02", "c1"), "a snapshot is a snapshot until rebuilt");
    assertEquals(0, cli("--warehouse", w, "features", "--as-of", "2026-03-02").exitCode());
    assertEquals(2.0, logins7d(wf, "2026-03-02", "c1"));
    assertEquals(1.0, logins7d(wf, "2026-03-02", "c2"));
    assertEquals(earlier, wf.read(Table.CUSTOMER_FEATURES).where(col("as_of_date").equalTo("2026-02-25"))
        .orderBy("customer_id").collectAsList(), "an earlier date's window does not cover the late day");
    assertEquals(4, wf.read(Table.CUSTOMER_FEATURES).count(), "rerunning a date replaces it");
  }

  @Test
  void featuresNeedAnIngestedWarehouse() {
    CliRun r = cli("--warehouse", tempDir("feat-empty").toString(), "features", "--as-of", "2026-03-02");
    assertEquals(1, r.exitCode());
    assertTrue(r.err().startsWith("churn: the warehouse ") && r.err().endsWith(" holds no ingested log yet: run ingest first\n"),
        r.err());
  }
}
