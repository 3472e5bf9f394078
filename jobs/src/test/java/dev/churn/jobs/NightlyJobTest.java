package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.ModelRegistry;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.jobs.warehouse.WarehouseLock;
import dev.churn.testing.EndToEnd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The nightly command as a scheduler runs it: three consecutive dates after a history ingest, then the same dates
 * again out of order, comparing every table's sorted contents (not counts); a missing day; a busy warehouse; the
 * retrain policy; and settings from a config file with secrets masked.
 */
@EndToEnd
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NightlyJobTest extends JobsSuite {
  private static final LocalDate FIRST = LocalDate.parse("2026-06-10");
  private static final List<LocalDate> NIGHTS = List.of(FIRST, FIRST.plusDays(1), FIRST.plusDays(2));
  private static Path raw;
  private static String wh;
  private static Map<String, List<String>> afterFirstPass;

  @BeforeAll
  static void ingestHistory() throws java.io.IOException {
    raw = tempDir("nightly-gen");
    wh = tempDir("nightly-wh").toString();
    assertEquals(0, cli("generate", "--out", raw.toString(), "--customers", "400", "--days", "165", "--start",
        "2026-01-01", "--seed", "11", "--bad-fraction", "0.02").exitCode());
    // The nights' folders are moved aside, so the history is one folder tree, read in one go.
    for (LocalDate d = FIRST; d.isBefore(LocalDate.parse("2026-01-01").plusDays(165)); d = d.plusDays(1)) {
      Path folder = Files.createDirectories(raw.resolve("night")).resolve("event_date=" + d);
      Files.move(raw.resolve("events/event_date=" + d), folder);
    }
    // #32: a customer with the largest value each field accepts (amount and mrr 1e12, quantity 1,000,000), carried
    // through ingest, features, training, scoring and retention by every night below.
    for (int d = 0; d < WHALE_PAYMENTS; d++) {
      LocalDate day = LocalDate.parse("2026-03-01").plusDays(d);
      write(raw.resolve("events/event_date=" + day + "/whale.jsonl"), List.of("{\"event_id\":\"W" + d
          + "\",\"customer_id\":\"WHALE\",\"event_time\":\"" + day + "T12:00:00Z\",\"event_type\":\"payment\","
          + "\"amount\":\"1e12\",\"quantity\":\"1000000\",\"user_id\":\"WHALE-u1\"}"));
    }
    Files.writeString(raw.resolve("customers/part-00000.csv"),
        "WHALE,enterprise,finance,enterprise,1e12,2025-01-01,\n", java.nio.file.StandardOpenOption.APPEND);
    CliRun ingest = cli("--warehouse", wh, "ingest", "--events", raw.resolve("events").toString(), "--customers",
        raw.resolve("customers").toString());
    assertEquals(0, ingest.exitCode(), ingest.err());
    // The team's log of the second night (the other nights have none: nights without contacts): two calls of the
    // whale, the first logged a night late.
    write(raw.resolve("team/" + NIGHTS.get(1) + ".csv"), List.of("customer_id,contacted_on,play,channel,outcome",
        "WHALE," + NIGHTS.get(1) + ",resolve,phone,", "WHALE," + NIGHTS.get(0) + ",educate,email,"));
  }

  private static final int WHALE_PAYMENTS = 20;

  /** One grid point: these nights are about the night's tables, not tuning (ChurnModelTest tunes a grid, in memory). */
  private static CliRun nightly(LocalDate day, String... extra) {
    return nightlyWithGrid(day, "0.02", "0", extra);
  }

  /** The nightly run of {@code day} with a grid of one point, {@code regParam} and {@code elasticNet}. */
  private static CliRun nightlyWithGrid(LocalDate day, String regParam, String elasticNet, String... extra) {
    List<String> args = new ArrayList<>(List.of("--warehouse", wh, "nightly", "--date", day.toString(), "--events",
        raw.resolve("night").toString(), "--interventions", raw.resolve("team").toString() + "/{date}.csv",
        "--snapshots", "1", "--reg-params", regParam, "--elastic-net-params", elasticNet));
    args.addAll(List.of(extra));
    CliRun run = cli(args.toArray(String[]::new));
    System.out.println(run.out());
    return run;
  }

  /** Every table but run_log (which records every run by design), each row as text, sorted. */
  private static Map<String, List<String>> tables() {
    Warehouse w = new Warehouse(spark, wh);
    Map<String, List<String>> all = new LinkedHashMap<>();
    for (Table t : Table.values()) {
      if (t == Table.RUN_LOG || !w.exists(t)) {
        continue;
      }
      List<String> rows = new ArrayList<>();
      for (Row r : w.read(t).collectAsList()) {
        rows.add(r.toString());
      }
      rows.sort(null);
      all.put(t.tableName(), rows);
    }
    return all;
  }

  /**
   * Every table's latest version but run_log's, from the logs' listing: a run that commits to no table changed
   * nothing, whatever the contents (cheaper than {@link #tables()}, which a run that rewrites rows needs).
   */
  private static Map<Table, Long> versionsButRunLog() {
    Map<Table, Long> versions = new java.util.EnumMap<>(new Warehouse(spark, wh).latestVersions());
    versions.remove(Table.RUN_LOG);
    return versions;
  }

  private static void assertSameTables(Map<String, List<String>> expected, Map<String, List<String>> actual,
      String when) {
    assertEquals(expected.keySet(), actual.keySet(), when + ": tables");
    for (String t : expected.keySet()) {
      assertEquals(expected.get(t).size(), actual.get(t).size(), when + ": rows of " + t);
      assertEquals(expected.get(t), actual.get(t), when + ": contents of " + t);
    }
  }

  @Test
  @Order(1)
  void consecutiveNightsThenTheSameNightsAgainThenOutOfOrderLeaveIdenticalTables() {
    for (LocalDate d : NIGHTS) {
      CliRun run = nightly(d);
      assertEquals(0, run.exitCode(), run.err());
      if (d.equals(NIGHTS.get(0))) {
        assertTrue(run.out().contains("[train] history too short for a held-out test snapshot"), run.out());
      }
    }
    afterFirstPass = tables();
    Warehouse w = new Warehouse(spark, wh);
    for (LocalDate d : NIGHTS) {
      assertFalse(w.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(d.toString())).isEmpty(), "scored " + d);
    }
    assertEquals(1, w.read(Table.MODEL_REGISTRY).count(), "the first night trained the only model");
    // 160 days of history hold training and validation snapshots but no held-out test: said and recorded.
    Row v1 = w.read(Table.MODEL_REGISTRY).first();
    assertEquals("validation (history too short for a held-out test snapshot)", v1.getAs("evaluation"));
    assertEquals(v1.<java.sql.Date>getAs("validation_date"), v1.<java.sql.Date>getAs("test_date"));
    assertEquals(0.02, v1.<Double>getAs("reg_param"), "the grid asked for (one point, outside the default grid)");
    assertEquals(0.0, v1.<Double>getAs("elastic_net_param"));
    assertTrue(afterFirstPass.get("events_quarantine").size() > 0, "bad records of the nights are quarantined");
    assertEquals(List.of("educate", "resolve"), w.read(Table.INTERVENTIONS).orderBy("play").select("play")
        .as(Encoders.STRING()).collectAsList(), "the second night's log");
    // The largest accepted values went through every stage: summed exactly, scored, in the retention figures.
    Row whale = w.read(Table.CUSTOMER_FEATURES).where(col("customer_id").equalTo("WHALE")
        .and(col("as_of_date").equalTo(FIRST.toString()))).first();
    assertEquals(WHALE_PAYMENTS * 1e12, whale.<Double>getAs("payment_amount_365d"));
    assertEquals(1e12, w.read(Table.CUSTOMERS).where(col("customer_id").equalTo("WHALE")).first().<Double>getAs("mrr"));
    for (LocalDate d : NIGHTS) {
      double p = w.read(Table.CHURN_SCORES).where(col("customer_id").equalTo("WHALE")
          .and(col("as_of_date").equalTo(d.toString()))).first().<Double>getAs("churn_probability");
      assertTrue(p >= 0 && p <= 1, "the whale scored on " + d + ": " + p);
    }
    assertFalse(w.read(Table.RETENTION_RATES).isEmpty(), "retention over the whale's mrr");
    // #31: a model trained on about 100 days of log leaves the 365-day payment count out and scales the counts whose
    // window the log cannot fill (docs/features.md): on nights 60 days of log later none of them has shifted; a
    // feature without a cause has not moved.
    List<Row> drift = w.read(Table.FEATURE_DRIFT).collectAsList();
    assertTrue(drift.stream().noneMatch(r -> r.getAs("feature").equals("payments_365d")), "payments_365d left out");
    for (String scaled : List.of("active_days_365d", "payment_amount_365d", "active_days_all")) {
      List<Row> rows = drift.stream().filter(r -> r.getAs("feature").equals(scaled)).toList();
      assertTrue(!rows.isEmpty() && rows.stream().noneMatch(r -> r.getAs("status").equals("shifted")),
          scaled + ": " + rows);
    }
    assertTrue(drift.stream().allMatch(r -> (r.getAs("cause") == null) == r.getAs("status").equals("stable")));

    // The same nights again, out of order: a rerun and a backfill at once.
    for (LocalDate d : List.of(NIGHTS.get(2), NIGHTS.get(0), NIGHTS.get(1))) {
      assertEquals(0, nightly(d).exitCode());
    }
    assertSameTables(afterFirstPass, tables(), "the same nights again, out of order");

    // Every stage of every run is in run_log, each nightly run with its summary row.
    List<Row> summaries = w.read(Table.RUN_LOG).where(col("stage").equalTo("nightly")).collectAsList();
    assertEquals(6, summaries.size());
    assertTrue(summaries.stream().allMatch(r -> r.<String>getAs("status").equals("ok")));
  }

  /**
   * #30: after the nights every table of the contract exists, describes itself (DESCRIBE shows its description and
   * a comment on every column, TableDocs' text), reads the same through Delta Kernel's own log replay and Parquet
   * reader, outside Spark, as through Delta's reader in Spark, and has the protocol docs/production.md promises
   * other readers.
   */
  @Test
  @Order(2)
  void everyTableDescribesItselfAndReadsTheSameOutsideSpark() {
    Warehouse w = new Warehouse(spark, wh);
    for (Table t : Table.values()) {
      assertTrue(w.exists(t), t.tableName() + " exists after the nights");
      String comment = null;
      boolean columns = true;
      int described = 0;
      for (Row r : spark.sql("DESCRIBE TABLE EXTENDED delta.`" + w.path(t) + "`").collectAsList()) {
        String name = r.getString(0);
        if (name.isEmpty() || name.startsWith("#")) {
          columns = false;
        } else if (columns) {
          assertEquals(dev.churn.jobs.warehouse.TableDocs.column(t, name), r.getString(2), t.tableName() + "." + name);
          assertFalse(r.getString(2) == null || r.getString(2).isBlank(), t.tableName() + "." + name
              + " has a comment");
          described++;
        } else if (name.equals("Comment")) {
          comment = r.getString(1);
        }
      }
      assertEquals(w.read(t).columns().length, described, t.tableName() + ": every column described");
      assertEquals(dev.churn.jobs.warehouse.TableDocs.description(t), comment, t.tableName() + "'s description");

      List<String> kernel = new ArrayList<>(KernelRows.read(w.path(t)));
      // Delta's own reader (its log replay, not Kernel's, which Warehouse.read shares).
      List<String> delta = new ArrayList<>(w.readInContentOrder(t).collectAsList().stream().map(KernelRows::render)
          .toList());
      kernel.sort(null);
      delta.sort(null);
      assertFalse(delta.isEmpty(), t.tableName() + " holds rows");
      assertEquals(delta, kernel, t.tableName() + " read through Kernel");
      // What docs/production.md promises other readers: reader version 1, writer 2 (3 with CHECK constraints), no
      // table features.
      assertEquals("reader=1 writer=" + (t.constraints().isEmpty() ? 2 : 3) + " features=[]",
          KernelRows.protocol(w.path(t)), t.tableName() + "'s protocol");
    }
  }

  @Test
  @Order(3)
  void aMissingOrEmptyDayChangesNothingAndExitsFour() throws Exception {
    Map<Table, Long> before = versionsButRunLog();
    LocalDate missing = FIRST.plusDays(30);
    CliRun run = nightly(missing);
    assertEquals(ChurnException.NO_INPUT, run.exitCode(), run.out());
    assertEquals("churn: no input for " + missing + ": " + raw.resolve("night") + "/event_date=" + missing
        + " does not exist; nothing was changed", run.err().strip());

    Path empty = Files.createDirectories(raw.resolve("night/event_date=" + missing));
    Files.writeString(empty.resolve("part-0.json"), "");
    CliRun emptyRun = nightly(missing);
    assertEquals(ChurnException.NO_INPUT, emptyRun.exitCode());
    assertTrue(emptyRun.err().contains("holds only empty files"), emptyRun.err());
    assertEquals(before, versionsButRunLog(), "no table but run_log committed after a missing and an empty day");

    Warehouse w = new Warehouse(spark, wh);
    List<Row> logged = w.read(Table.RUN_LOG).where(col("run_date").equalTo(missing.toString())
        .and(col("stage").equalTo("nightly"))).collectAsList();
    assertEquals(2, logged.size());
    assertTrue(logged.stream().allMatch(r -> r.<String>getAs("status").equals("no_input")
        && r.<String>getAs("message").startsWith("no input for " + missing)));
  }

  @Test
  @Order(4)
  void aSecondRunOnTheSameWarehouseWaitsOrFailsWithExitFive() throws Exception {
    Map<String, List<String>> before = tables();
    Warehouse w = new Warehouse(spark, wh);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<CliRun> waiting;
      try (WarehouseLock held = WarehouseLock.acquire(w.root(), spark.sparkContext().hadoopConfiguration(),
          "churn nightly (test)", Duration.ZERO)) {
        CliRun busy = nightly(NIGHTS.get(1));
        assertEquals(ChurnException.BUSY, busy.exitCode());
        assertTrue(busy.err().startsWith("churn: another run holds the warehouse ") && busy.err().contains(held.owner()),
            busy.err());
        // A run told to wait neither ends nor takes the lock while it is held, and runs once it is released.
        // (Two writers starting at the same moment without waiting: WarehouseLockTest races them.)
        waiting = pool.submit(() -> nightly(NIGHTS.get(2), "--lock-wait-minutes", "10"));
        Thread.sleep(6_000);
        assertFalse(waiting.isDone(), "the waiting night ended while the lock was held");
        assertEquals(held.owner(), Files.readString(lockFile()), "the waiting night took the lock");
      }
      CliRun waited = waiting.get();
      assertEquals(0, waited.exitCode(), waited.err());
      assertTrue(waited.out().contains("nightly " + NIGHTS.get(2) + ": "), waited.out());
    } finally {
      pool.shutdownNow();
    }
    assertSameTables(before, tables(), "after a refused run and a run that waited");
    assertFalse(Files.exists(lockFile()), "lock released");
  }

  private static Path lockFile() {
    return Path.of(new Warehouse(spark, wh).root().replace("file:", "")).resolve(WarehouseLock.FILE);
  }

  @Test
  @Order(5)
  void retrainingOnRequestRegistersTheCandidateWithItsDecisionAndRerunsDoNotRetrain() throws Exception {
    Path config = tempDir("nightly-conf").resolve("churn.properties");
    Files.writeString(config, "nightly.retrain-tolerance = 0.5\nsnapshots = 1\n"
        + "spark.hadoop.fs.s3a.secret.key = hunter2\n");
    CliRun retrain = nightly(NIGHTS.get(2), "--retrain", "--config", config.toString());
    assertEquals(0, retrain.exitCode(), retrain.err());
    assertTrue(retrain.out().contains("retrain-tolerance=0.5"), "the config file's value is in effect");
    assertTrue(retrain.out().contains("spark.hadoop.fs.s3a.secret.key=****"), "secrets are masked");
    assertFalse(retrain.out().contains("hunter2"), "a secret is never printed");

    Warehouse w = new Warehouse(spark, wh);
    Row v2 = w.read(Table.MODEL_REGISTRY).where(col("model_version").equalTo(2)).first();
    assertEquals(ModelRegistry.ACCEPTED, v2.getAs("status"), "within a tolerance of 0.5 the candidate is accepted");
    assertTrue(v2.<String>getAs("decision").matches("accepted: test ROC-AUC 0\\.\\d{4} against 0\\.\\d{4} for "
        + "model v1 on the same out-of-time snapshot 2026-05-13 \\(tolerance 0\\.500\\)"), v2.<String>getAs("decision"));
    assertEquals(2, w.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(NIGHTS.get(2).toString()))
        .select("model_version").first().getInt(0), "tonight is scored with the new model");
    assertEquals(1, w.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(NIGHTS.get(0).toString()))
        .select("model_version").first().getInt(0), "earlier nights keep the model that was in use then");

    assertEquals(0, nightly(NIGHTS.get(2)).exitCode());
    assertEquals(2, w.read(Table.MODEL_REGISTRY).count(), "a rerun does not retrain");

    // A candidate that cannot rank (an L1 penalty of 100 zeroes every coefficient: one score for everybody, ROC-AUC
    // 0.5), retrained with no tolerance at all against model v2, which ranks better on the same snapshot: refused,
    // registered as rejected, and tonight stays scored with v2.
    CliRun strict = nightlyWithGrid(NIGHTS.get(2), "100", "1", "--retrain", "--retrain-tolerance", "0",
        "--high-risk-share", "0.2");
    assertEquals(0, strict.exitCode(), strict.err());
    Row v3 = w.read(Table.MODEL_REGISTRY).where(col("model_version").equalTo(3)).first();
    assertEquals(ModelRegistry.REJECTED, v3.getAs("status"), v3.<String>getAs("decision"));
    assertTrue(v3.<String>getAs("decision").startsWith("rejected: test ROC-AUC 0.5000 against 0.")
        && v3.<String>getAs("decision").contains("for model v2 on the same out-of-time snapshot"),
        v3.<String>getAs("decision"));
    assertEquals(2, w.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(NIGHTS.get(2).toString()))
        .select("model_version").first().getInt(0), "a rejected model does not score");

    Files.writeString(config, "retrain-tolerence = 0.5\n");
    CliRun typo = nightly(NIGHTS.get(2), "--config", config.toString());
    assertEquals(ChurnException.USAGE, typo.exitCode());
    assertTrue(typo.err().contains("unknown setting 'retrain-tolerence'"), typo.err());

    // --no-train: the second night again with a retrain due (its last attempt, v1, is a day old), trains nothing
    // and scores with the model in use then.
    CliRun kept = nightly(NIGHTS.get(1), "--no-train", "--retrain-after-days", "1");
    assertEquals(0, kept.exitCode(), kept.err());
    assertTrue(kept.out().contains("due for a retrain, not trained: --no-train"), kept.out());
    assertEquals(3, w.read(Table.MODEL_REGISTRY).count(), "nothing registered");
    assertEquals(1, w.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(NIGHTS.get(1).toString()))
        .select("model_version").first().getInt(0), "scored with the model in use on that night");
  }
}
