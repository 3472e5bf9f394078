package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.features.Events;
import dev.churn.features.SourceMapping;
import dev.churn.jobs.stages.IngestJob;
import dev.churn.jobs.stages.StageContext;
import dev.churn.jobs.warehouse.ModelRegistry;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Settings;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.EndToEnd;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

@EndToEnd
class IngestJobTest extends JobsSuite {

  private static final StructType KEY_REASON = new StructType()
      .add("key", DataTypes.StringType).add("reason", DataTypes.StringType);

  /** Day 1 holds one record of each kind of bad record next to good ones. */
  private static Path dayOne(Path in) {
    return write(in.resolve("events/event_date=2026-03-01/part-00000.jsonl"), List.of(
        event("e1", "c1", "2026-03-01T08:00:00Z", "login"),
        event("e2", "c1", "2026-03-01T09:00:00Z", "feature_use"),
        event("e3", "c2", "2026-03-01T10:00:00Z", "login"),
        "{\"event_id\":\"e4\",\"customer_id\":\"c2\",\"event_ti",
        event("e5", "", "2026-03-01T10:00:00Z", "login"),
        event("e6", "c2", "not-a-time", "login"),
        event("e7", "c2", "2099-03-01T10:00:00Z", "login"),
        event("e8", "c2", "2026-03-01T10:00:00Z", "teleport"),
        "{\"event_id\":\"e9\",\"customer_id\":\"c2\",\"event_time\":\"2026-03-01T11:00:00Z\","
            + "\"event_type\":\"payment\",\"amount\":-10}",
        event("e1", "c1", "2026-03-01T08:00:00Z", "login"),
        "",
        "{\"event_id\":\"e10\",\"customer_id\":\"c2\",\"event_time\":\"2026-03-01T12:00:00Z\","
            + "\"event_type\":\"plan_downgrade\",\"plan\":\"basic\",\"mrr\":49}"));
  }

  @Test
  void everyRecordIsAcceptedOrQuarantinedWithItsReasonAndRerunsChangeNothing() {
    Path in = tempDir("ingest-in");
    Path wh = tempDir("ingest-wh");
    dayOne(in);
    CliRun first = cli("--warehouse", wh.toString(), "ingest", "--events", in.resolve("events").toString(),
        "--max-bad-fraction", "0.9");
    assertEquals(0, first.exitCode(), first.err());

    Warehouse w = new Warehouse(spark, wh.toString());
    Dataset<Row> quarantine = w.read(Table.EVENTS_QUARANTINE);
    assertRows(List.of(
            RowFactory.create("4", "malformed"),
            RowFactory.create("5", "missing_customer_id"),
            RowFactory.create("6", "bad_timestamp"),
            RowFactory.create("7", "future_timestamp"),
            RowFactory.create("8", "unknown_event_type"),
            RowFactory.create("9", "negative_amount"),
            RowFactory.create("10", "duplicate")), KEY_REASON,
        quarantine.select(col(Events.SOURCE_POSITION).cast("string").as("key"), col(Events.REASON).as("reason")));
    assertEquals(1, quarantine.where(col(Events.RAW_RECORD).contains("teleport")).count(), "raw text is kept");
    assertRows(List.of(RowFactory.create("e1", "login"), RowFactory.create("e2", "feature_use"),
            RowFactory.create("e3", "login"), RowFactory.create("e10", "plan_downgrade")), KEY_REASON,
        w.read(Table.EVENTS).select(col(Events.EVENT_KEY).as("key"), col(Events.EVENT_TYPE).as("reason")));

    Row log = w.read(Table.RUN_LOG).where(col("stage").equalTo("ingest")).first();
    assertEquals(11L, (long) log.<Long>getAs("rows_in"));
    assertEquals(4L, (long) log.<Long>getAs("rows_out"));
    assertEquals(7L, (long) log.<Long>getAs("rows_rejected"));

    Row c2 = w.read(Table.CUSTOMERS).where(col("customer_id").equalTo("c2")).first();
    assertEquals("basic", c2.getAs("plan"));
    assertEquals(49.0, (Double) c2.getAs("mrr"));

    List<Long> before = counts(w);
    CliRun again = cli("--warehouse", wh.toString(), "ingest", "--events", in.resolve("events").toString(),
        "--max-bad-fraction", "0.9");
    assertEquals(0, again.exitCode(), again.err());
    assertTrue(again.out().contains("11 records read, 0 accepted, 0 rejected, 4 already ingested (skipped), "
        + "7 already quarantined for the same reason"), again.out());
    List<Long> after = counts(w);
    assertEquals(before.subList(0, 4), after.subList(0, 4), "events, quarantine, customers, daily_activity");
    Row rerun = w.read(Table.RUN_LOG).where(col("stage").equalTo("ingest").and(col("rows_out").equalTo(0))).first();
    assertEquals(11L, (long) rerun.<Long>getAs("rows_in"));
    assertEquals(11L, (long) rerun.<Long>getAs("rows_rejected"));
  }

  private static List<Long> counts(Warehouse w) {
    return List.of(w.read(Table.EVENTS).count(), w.read(Table.EVENTS_QUARANTINE).count(),
        w.read(Table.CUSTOMERS).count(), w.read(Table.DAILY_ACTIVITY).count());
  }

  @Test
  void aLateEventFixesItsOwnDayAndNoOther() {
    Path in = tempDir("late-in");
    Path wh = tempDir("late-wh");
    write(in.resolve("d1/event_date=2026-03-01/part-00000.jsonl"), List.of(
        event("a1", "c1", "2026-03-01T08:00:00Z", "login"),
        event("a2", "c2", "2026-03-01T08:00:00Z", "login")));
    write(in.resolve("d2/event_date=2026-03-02/part-00000.jsonl"), List.of(
        event("b1", "c1", "2026-03-02T08:00:00Z", "login")));
    assertEquals(0, cli("--warehouse", wh.toString(), "ingest", "--events", in.resolve("d1").toString()).exitCode());
    assertEquals(0, cli("--warehouse", wh.toString(), "ingest", "--events", in.resolve("d2").toString()).exitCode());
    Warehouse w = new Warehouse(spark, wh.toString());
    Dataset<Row> day2Before = w.read(Table.DAILY_ACTIVITY).where("activity_date = DATE'2026-03-02'");
    List<Row> day2 = day2Before.collectAsList();

    // Day 3's folder carries a late login of c1 for day 1.
    write(in.resolve("d3/event_date=2026-03-03/part-00000.jsonl"), List.of(
        event("c1", "c1", "2026-03-01T20:00:00Z", "login"),
        event("c2", "c2", "2026-03-03T08:00:00Z", "login")));
    CliRun r = cli("--warehouse", wh.toString(), "ingest", "--events", in.resolve("d3").toString());
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().contains("daily_activity refreshed for 2 day(s), 2026-03-01 .. 2026-03-03"), r.out());

    StructType s = new StructType().add("customer_id", DataTypes.StringType).add("activity_date", DataTypes.StringType)
        .add("logins", DataTypes.IntegerType);
    assertRows(List.of(
            RowFactory.create("c1", "2026-03-01", 2),
            RowFactory.create("c2", "2026-03-01", 1),
            RowFactory.create("c1", "2026-03-02", 1),
            RowFactory.create("c2", "2026-03-03", 1)), s,
        w.read(Table.DAILY_ACTIVITY).selectExpr("customer_id", "cast(activity_date as string) activity_date", "logins"));
    assertEquals(day2, w.read(Table.DAILY_ACTIVITY).where("activity_date = DATE'2026-03-02'").collectAsList());
  }

  @Test
  void aRerunRepairsTheRollupAndCustomersARunStoppedBeforeFinishing() {
    Path in = tempDir("repair-in");
    Path wh = tempDir("repair-wh");
    write(in.resolve("d1/event_date=2026-03-01/part-00000.jsonl"), List.of(
        event("a1", "c1", "2026-03-01T08:00:00Z", "login"), event("a2", "c2", "2026-03-01T08:00:00Z", "login")));
    write(in.resolve("d2/event_date=2026-03-02/part-00000.jsonl"), List.of(
        event("b1", "c1", "2026-03-02T08:00:00Z", "login"), event("b2", "c1", "2026-03-02T09:00:00Z", "feature_use")));
    assertEquals(0, cli("--warehouse", wh.toString(), "ingest", "--events", in.resolve("d1").toString()).exitCode());
    assertEquals(0, cli("--warehouse", wh.toString(), "ingest", "--events", in.resolve("d2").toString()).exitCode());
    Warehouse w = new Warehouse(spark, wh.toString());
    List<Row> rollup = w.read(Table.DAILY_ACTIVITY).orderBy("customer_id", "activity_date").collectAsList();
    List<Row> customers = w.read(Table.CUSTOMERS).orderBy("customer_id").collectAsList();

    // What a run killed right after committing day 2's events leaves: no rollup of the day, customers a day behind.
    w.deleteWhere(Table.DAILY_ACTIVITY, col("activity_date").equalTo(java.sql.Date.valueOf("2026-03-02")));
    w.updateAll(Table.CUSTOMERS, Map.of("last_event_date", org.apache.spark.sql.functions.lit(
        java.sql.Date.valueOf("2026-03-01"))));

    CliRun rerun = cli("--warehouse", wh.toString(), "ingest", "--events", in.resolve("d2").toString());
    assertEquals(0, rerun.exitCode(), rerun.err());
    assertTrue(rerun.out().contains("2 records read, 0 accepted, 0 rejected, 2 already ingested"), rerun.out());
    assertTrue(rerun.out().contains("repairing [2026-03-02]"), rerun.out());
    assertEquals(rollup, w.read(Table.DAILY_ACTIVITY).orderBy("customer_id", "activity_date").collectAsList());
    assertEquals(customers, w.read(Table.CUSTOMERS).orderBy("customer_id").collectAsList());
  }

  @Test
  void aBatchTheGateRefusesIsRefusedOnEveryRetryUntilAcceptedExplicitly() {
    Path in = tempDir("bad-in");
    Path wh = tempDir("bad-wh");
    dayOne(in);
    String events = in.resolve("events").toString();
    CliRun r = cli("--warehouse", wh.toString(), "ingest", "--events", events);
    assertEquals(3, r.exitCode());
    assertTrue(r.err().startsWith("churn: 7 of 11 new records (63.6%) were rejected, over the allowed 5.0% "
        + "(--max-bad-fraction): they are held in events_quarantine under run ingest-nodate-"), r.err());
    assertEquals(1, r.err().lines().count(), "one line on stderr");
    Warehouse w = new Warehouse(spark, wh.toString());
    assertEquals(0, w.read(Table.EVENTS).count());
    assertEquals(7, w.read(Table.EVENTS_QUARANTINE).where(col(Events.QUARANTINE_STATUS).equalTo(Events.HELD)).count());

    // A plain retry (a scheduler's) meets the same gate: quarantined records are not "already ingested".
    CliRun retry = cli("--warehouse", wh.toString(), "ingest", "--events", events);
    assertEquals(3, retry.exitCode(), retry.out());
    String refusedBy = retry.err().replaceAll("(?s).*under run (\\S+) and no events.*", "$1");
    assertEquals(0, w.read(Table.EVENTS).count());
    assertEquals(7, w.read(Table.EVENTS_QUARANTINE).where(col(Events.RUN_ID).equalTo(refusedBy)
        .and(col(Events.QUARANTINE_STATUS).equalTo(Events.HELD))).count(), "held again, under the retry's run");
    for (Row log : w.read(Table.RUN_LOG).where(col("stage").equalTo("ingest")).collectAsList()) {
      assertEquals("failed", log.getAs("status"));
      assertEquals(11L, (long) log.<Long>getAs("rows_in"));
      assertEquals(0L, (long) log.<Long>getAs("rows_out"));
      assertEquals(11L, (long) log.<Long>getAs("rows_rejected"), "a refused batch's row balances");
    }

    CliRun wrongRun = cli("--warehouse", wh.toString(), "ingest", "--events", events, "--accept-rejected", "ingest-x");
    assertEquals(2, wrongRun.exitCode(), wrongRun.err());
    assertEquals(0, w.read(Table.EVENTS).count());

    CliRun accepted = cli("--warehouse", wh.toString(), "ingest", "--events", events, "--accept-rejected", refusedBy);
    assertEquals(0, accepted.exitCode(), accepted.err());
    assertEquals(4, w.read(Table.EVENTS).count());
    assertEquals(7, w.read(Table.EVENTS_QUARANTINE).where(col(Events.QUARANTINE_STATUS).equalTo(Events.REJECTED)).count());
    Row log = w.read(Table.RUN_LOG).where(col("stage").equalTo("ingest").and(col("status").notEqual("failed"))).first();
    assertTrue(log.<String>getAs("message").contains("committed as accepted by " + System.getProperty("user.name")
        + " (--accept-rejected " + refusedBy + ")"), log.<String>getAs("message"));

    CliRun later = cli("--warehouse", wh.toString(), "ingest", "--events", events);
    assertEquals(0, later.exitCode(), "the accepted batch's rejections are decided: " + later.err());
    assertEquals(List.of(4L, 7L), counts(w).subList(0, 2));
  }

  @Test
  void aRecordQuarantinedEarlierIsAcceptedWhenARunFindsItValid() {
    Path in = tempDir("fix-in");
    Path wh = tempDir("fix-wh");
    List<String> lines = new java.util.ArrayList<>();
    for (int i = 0; i < 9; i++) {
      lines.add(event("f" + i, "c" + i, "2026-03-01T08:00:00Z", "login"));
    }
    lines.add(event("f9", "c9", "2026-03-03T08:00:00Z", "login"));
    write(in.resolve("part-00000.jsonl"), lines);
    CliRun early = cli("--warehouse", wh.toString(), "ingest", "--events", in.toString(), "--date", "2026-03-01",
        "--max-bad-fraction", "0.2");
    assertEquals(0, early.exitCode(), early.err());
    Warehouse w = new Warehouse(spark, wh.toString());
    assertEquals(List.of(9L, 1L), counts(w).subList(0, 2), "f9 is in the future of the 1st");

    CliRun fixed = cli("--warehouse", wh.toString(), "ingest", "--events", in.toString(), "--date", "2026-03-02");
    assertEquals(0, fixed.exitCode(), fixed.err());
    assertTrue(fixed.out().contains("10 records read, 1 accepted, 0 rejected, 9 already ingested"), fixed.out());
    assertEquals(List.of(10L, 0L), counts(w).subList(0, 2), "accepted now, and out of the quarantine");
  }

  /**
   * The retention team's log: every row stored or quarantined with its reason, the counts balance, a rerun changes
   * nothing, a row logged again from another file is a duplicate naming the first, and a row rejected for an
   * unknown customer is stored once the customer arrives (and leaves the quarantine).
   */
  @Test
  void interventionsAreStoredOrQuarantinedWithTheirReasonsAndRerunsChangeNothing() {
    Path in = tempDir("interventions-in");
    Path wh = tempDir("interventions-wh");
    dayOne(in);
    assertEquals(0, cli("--warehouse", wh.toString(), "ingest", "--events", in.resolve("events").toString(),
        "--max-bad-fraction", "0.9").exitCode());
    String header = "customer_id,contacted_on,play,channel,outcome";
    Path log = write(in.resolve("team/2026-03-02.csv"), List.of(header,
        "c1,2026-03-01,resolve,phone,saved",
        "c2,2026-03-01,Educate,Email,",
        "c9,2026-03-01,resolve,phone,",
        "c1,2026-03-01,upsell,phone,",
        "c1,2026-03-05,resolve,phone,",
        "c1,2026-03-01,resolve,email,",
        "c1,03/01/2026,resolve,phone,",
        "c2,2026-03-01,educate",
        "c2,2026-03-01,re_engage,,",
        "c2,2026-03-01,re_engage,phone,",
        "c1,2026-3-1,resolve,phone,",
        "c2,2026-03-03,check_in,chat,"));
    String[] args = {"--warehouse", wh.toString(), "ingest", "--interventions", log.toString(), "--date", "2026-03-02",
        "--max-bad-fraction", "0.9"};
    CliRun first = cli(args);
    assertEquals(0, first.exitCode(), first.err());
    // Line 11 corrects line 10 (stored, not a duplicate of a rejected line); line 13 is a day ahead (the slack).
    assertTrue(first.out().contains("interventions: 12 rows, 4 stored, 8 rejected"), first.out());
    Warehouse w = new Warehouse(spark, wh.toString());
    assertRows(List.of(RowFactory.create("c1", "resolve"), RowFactory.create("c2", "educate"),
            RowFactory.create("c2", "re_engage"), RowFactory.create("c2", "check_in")), KEY_REASON,
        w.read(Table.INTERVENTIONS).select(col("customer_id").as("key"), col("play").as("reason")));
    Dataset<Row> team = w.read(Table.EVENTS_QUARANTINE).where(col(Events.SOURCE_FILE).endsWith("2026-03-02.csv"));
    assertRows(List.of(
            RowFactory.create("4", "unknown_customer"),
            RowFactory.create("5", "unknown_play"),
            RowFactory.create("6", "future_contact"),
            RowFactory.create("7", "duplicate"),
            RowFactory.create("8", "bad_intervention_record"),
            RowFactory.create("9", "malformed"),
            RowFactory.create("10", "bad_intervention_record"),
            RowFactory.create("12", "bad_intervention_record")), KEY_REASON,
        team.select(col(Events.SOURCE_POSITION).cast("string").as("key"), col(Events.REASON).as("reason")));
    Row stage = w.read(Table.RUN_LOG).where(col("stage").equalTo("interventions")).first();
    assertEquals(List.of(12L, 4L, 8L), List.of(stage.<Long>getAs("rows_in"), stage.<Long>getAs("rows_out"),
        stage.<Long>getAs("rows_rejected")), "every row stored or rejected");

    CliRun again = cli(args);
    assertEquals(0, again.exitCode(), again.err());
    assertTrue(again.out().contains("12 rows, 0 stored, 0 rejected, 12 already stored or quarantined"), again.out());
    assertEquals(List.of(4L, 8L), List.of(w.read(Table.INTERVENTIONS).count(), w.read(Table.EVENTS_QUARANTINE)
        .where(col(Events.SOURCE_FILE).endsWith("2026-03-02.csv")).count()));

    Path later = write(in.resolve("team/2026-03-03.csv"), List.of(header, "c1,2026-03-01,resolve,phone,"));
    assertEquals(0, cli("--warehouse", wh.toString(), "ingest", "--interventions", later.toString(), "--date",
        "2026-03-03", "--max-bad-fraction", "1").exitCode());
    Row dup = w.read(Table.EVENTS_QUARANTINE).where(col(Events.SOURCE_FILE).endsWith("2026-03-03.csv")).first();
    assertEquals("duplicate", dup.getAs(Events.REASON));
    assertTrue(dup.<String>getAs(Events.DETAIL).contains("2026-03-02.csv line 2"), dup.<String>getAs(Events.DETAIL));

    write(in.resolve("events/event_date=2026-03-02/part-00000.jsonl"), List.of(
        event("e20", "c9", "2026-03-02T08:00:00Z", "login")));
    CliRun arrived = cli("--warehouse", wh.toString(), "ingest", "--events", in.resolve("events/event_date=2026-03-02")
        .toString(), "--interventions", log.toString(), "--date", "2026-03-02", "--max-bad-fraction", "0.9");
    assertEquals(0, arrived.exitCode(), arrived.err());
    assertTrue(arrived.out().contains("12 rows, 1 stored, 0 rejected, 11 already"), arrived.out());
    assertEquals(List.of(5L, 7L), List.of(w.read(Table.INTERVENTIONS).count(), w.read(Table.EVENTS_QUARANTINE)
            .where(col(Events.SOURCE_FILE).endsWith("2026-03-02.csv")).count()),
        "c9's contact stored, and out of the quarantine");
  }

  /**
   * The ingest stage built in a test with its collaborators passed in: a warehouse, a run log printing to a
   * buffer, and a foreign-log mapping given as text (semicolon-separated purchases, no event ids, dd/MM/yyyy
   * dates), no command line involved.
   */
  @Test
  void linesOfAFileReadInSeveralSplitsAreNumberedThroughTheWholeFile() {
    Path in = tempDir("split-in");
    List<String> lines = new java.util.ArrayList<>();
    for (int i = 1; i <= 2000; i++) {
      lines.add("{\"event_id\": \"line-" + i + "\", \"customer_id\": \"c1\"}");
    }
    write(in.resolve("big.jsonl"), lines);
    String key = "spark.sql.files.maxPartitionBytes";
    String before = spark.conf().get(key);
    spark.conf().set(key, "4096"); // about 80 lines per split: the file is read in about 25 splits
    try {
      List<Row> read = new dev.churn.jobs.stages.RawLogReader(spark)
          .read(List.of(in.toString()), SourceMapping.canonical())
          .select(Events.SOURCE_POSITION, Events.EVENT_ID).collectAsList();
      assertEquals(2000, read.size());
      for (Row r : read) {
        assertEquals("line-" + r.getLong(0), r.getString(1), "position of " + r.getString(1));
      }
    } finally {
      spark.conf().set(key, before);
    }
  }

  @Test
  void theIngestStageRunsWithItsCollaboratorsPassedIn() {
    Path in = tempDir("stage-in");
    Path wh = tempDir("stage-wh");
    Path log = write(in.resolve("shop/purchases.txt"), List.of("buyer;day;paid", "k1;01/03/2026;12.5",
        "k2;01/03/2026;7", "k1;02/03/2026;-3", ";02/03/2026;4"));
    SourceMapping mapping = SourceMapping.parse("{\"name\": \"shop\", \"format\": \"csv\", \"delimiter\": \";\", "
        + "\"header\": true, \"columns\": {\"customer_id\": \"buyer\", \"event_time\": \"day\", \"amount\": \"paid\"}, "
        + "\"timestamp_format\": \"dd/MM/yyyy\", \"constants\": {\"event_type\": \"payment\"}, "
        + "\"churn\": {\"inactivity_days\": 30}}");
    StringWriter console = new StringWriter();
    Warehouse warehouse = new Warehouse(spark, wh.toString());
    RunLog runLog = new RunLog(warehouse, "ingest", LocalDate.parse("2026-03-02"), new PrintWriter(console, true));
    StageContext ctx = new StageContext(warehouse, new ModelRegistry(warehouse), runLog, runLog.console());

    IngestJob.Result r = new IngestJob(ctx, new IngestJob.Options(List.of(log.toString()), List.of(), mapping,
        LocalDate.parse("2026-03-02"), IngestJob.Gate.of(0.9))).run();

    assertEquals(4, r.rowsIn());
    assertEquals(2, r.accepted());
    assertEquals(Map.of("missing_customer_id", 1L, "negative_amount", 1L), r.rejectedByReason());
    assertEquals(List.of(LocalDate.parse("2026-03-01")), r.daysTouched());
    assertRows(List.of(RowFactory.create("k1", "12.5"), RowFactory.create("k2", "7.0")), KEY_REASON,
        warehouse.read(Table.EVENTS).select(col(Events.CUSTOMER_ID).as("key"), col(Events.AMOUNT).cast("string").as("reason")));
    assertEquals(Settings.churn(warehouse).encode(), mapping.churn().encode());
    assertTrue(console.toString().contains("[ingest] ingest done"), console.toString());
    assertRows(List.of(RowFactory.create("ingest", "4"), RowFactory.create("daily_activity", "1"),
            RowFactory.create("inactivity_churn", "0")), KEY_REASON,
        warehouse.read(Table.RUN_LOG).where(col("run_id").equalTo(r.runId()))
            .select(col("stage").as("key"), col("rows_in").cast("string").as("reason")));
  }

  @Test
  void aMappingNamingAColumnTheFilesLackIsAUsageErrorThatReadsNothing() {
    Path in = tempDir("missing-col-in");
    Path wh = tempDir("missing-col-wh");
    write(in.resolve("shop/purchases.csv"), List.of("buyer,day,paid", "k1,2026-03-01,12.5"));
    Path mapping = write(in.resolve("shop.json"), List.of("{\"name\": \"shop\", \"format\": \"csv\", "
        + "\"header\": true, \"columns\": {\"customer_id\": \"buyer\", \"event_time\": \"day\", "
        + "\"amount\": \"price\"}, \"constants\": {\"event_type\": \"payment\"}, \"churn\": {\"inactivity_days\": 30}}"));
    CliRun run = cli("--warehouse", wh.toString(), "ingest", "--events", in.resolve("shop/purchases.csv").toString(),
        "--mapping", mapping.toString(), "--date", "2026-03-01");
    assertEquals(2, run.exitCode(), run.err());
    assertEquals(List.of("churn: mapping shop: column 'price' (for amount) is not in the input files, whose columns "
        + "are buyer, day, paid; no events were read"), run.err().strip().lines().toList());
    assertTrue(new Warehouse(spark, wh.toString()).read(Table.EVENTS).isEmpty(), "nothing stored");
  }
}
