package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.stages.FeaturesJob;
import dev.churn.jobs.stages.StageContext;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.EndToEnd;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.LocalDate;
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

  /**
   * A night's first date with no state to advance from gets its state built {@link FeaturesJob#MAX_ADVANCE} days
   * earlier and advanced, the states between kept, and the next night, whose late event made the later states stale,
   * advances from the earliest instead of rebuilding. (That an advanced state equals one built from the lookback is
   * WindowStateTest's and NightsEqualAtOnceTest's; which dates are led in, FeaturesPlanTest's.)
   */
  @Test
  void aNightWithoutAStateLeadsInSoTheNextNightsAdvance() {
    Path in = tempDir("lead-in");
    for (String day : List.of("2026-02-20", "2026-02-26", "2026-03-01", "2026-03-02")) {
      write(in.resolve("history/event_date=" + day + "/part-00000.jsonl"), List.of(event("h" + day, "c1", day
          + "T08:00:00Z", "login"), event("k" + day, "c2", day + "T09:00:00Z", "feature_use")));
    }
    write(in.resolve("late/event_date=2026-03-03/part-00000.jsonl"), List.of(
        event("late", "c2", "2026-02-28T10:00:00Z", "login"), event("d3", "c1", "2026-03-03T08:00:00Z", "login")));
    String led = tempDir("lead-in-wh").toString();
    assertEquals(0, cli("--warehouse", led, "ingest", "--events", in.resolve("history").toString()).exitCode());
    LocalDate night = LocalDate.parse("2026-03-02");
    assertTrue(features(led, List.of(night)).contains("window state 2026-02-27 built from the lookback; 2026-03-02 "
        + "advanced from 2026-02-27"));
    Warehouse w = new Warehouse(spark, led);
    assertEquals(List.of("2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"), w.read(Table.FEATURE_STATE)
        .select("as_of_date").distinct().orderBy("as_of_date").collectAsList().stream().map(r -> r.get(0).toString())
        .toList(), "the states of the lead-in are kept");

    // The next night: a late event of 02-28 drops the states from that day on; 02-27's is still valid.
    assertEquals(0, cli("--warehouse", led, "ingest", "--events", in.resolve("late").toString()).exitCode());
    String next = features(led, List.of(night, night.plusDays(1)));
    assertTrue(next.contains("window state 2026-03-02 advanced from 2026-02-27; 2026-03-03 advanced from 2026-03-02"),
        next);

    // Nights skipped: a later date with no state within 3 days is led in too; rerun, it advances from the states
    // kept and writes no state the first run did not.
    LocalDate later = night.plusDays(8);
    String skipped = features(led, List.of(night.plusDays(1), later));
    assertTrue(skipped.contains("2026-03-07 built from the lookback; 2026-03-10 advanced from 2026-03-07"), skipped);
    List<Row> states = w.read(Table.FEATURE_STATE).orderBy("as_of_date", "customer_id").collectAsList();
    assertTrue(features(led, List.of(later)).contains("window state 2026-03-10 advanced from 2026-03-09"));
    assertEquals(states, w.read(Table.FEATURE_STATE).orderBy("as_of_date", "customer_id").collectAsList());
  }

  /** Runs the nightly job's features stage (with its lead-in) on {@code dates}; returns what it printed. */
  private static String features(String warehouse, List<LocalDate> dates) {
    StringWriter printed = new StringWriter();
    Warehouse w = new Warehouse(spark, warehouse);
    new FeaturesJob(StageContext.of(w, new RunLog(w, "nightly", dates.get(dates.size() - 1),
        new PrintWriter(printed, true))), dates, true).run();
    return printed.toString();
  }

  @Test
  void featuresNeedAnIngestedWarehouse() {
    CliRun r = cli("--warehouse", tempDir("feat-empty").toString(), "features", "--as-of", "2026-03-02");
    assertEquals(1, r.exitCode());
    assertTrue(r.err().startsWith("churn: the warehouse ") && r.err().endsWith(" holds no ingested log yet: run ingest first\n"),
        r.err());
  }
}
