package dev.churn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.features.FeatureBuilder;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.EndToEnd;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * A warehouse built night by night equals one built at once: 12 consecutive daily ingests (each reading only
 * its day's folder, with late events filed under later days and duplicates and bad records mixed in) against one
 * ingest of the same folders, compared on every row and column of events, the quarantine, daily_activity and
 * customers (run ids and quarantine dates aside), and on every column of the feature snapshots and window states
 * of the first, middle and last night: a snapshot each night, its window state advanced from the night before
 * (or from the last state the late events left valid), equals one built from the lookback's rollup.
 */
@EndToEnd
class NightsEqualAtOnceTest extends JobsSuite {
  private static final LocalDate START = LocalDate.parse("2026-01-01");
  private static final int HISTORY_DAYS = 15;
  private static final int NIGHTS = 12;

  @Test
  void twelveNightsLeaveTheSameTablesAsOneIngestOfTheSameFiles() {
    Path raw = tempDir("nights-gen");
    assertEquals(0, cli("generate", "--out", raw.toString(), "--customers", "60", "--days",
        String.valueOf(HISTORY_DAYS + NIGHTS), "--start", START.toString(), "--seed", "5", "--bad-fraction", "0.05")
        .exitCode());
    String nightly = tempDir("nights-wh").toString();
    String atOnce = tempDir("at-once-wh").toString();
    String customers = raw.resolve("customers").toString();

    // Night by night, as the nightly job does: the day's ingest (dropping the window states its late events make
    // stale), then the snapshots of the days late events can reach (up to 3 days back) and of the day, each from
    // the window state of the day before.
    ingest(nightly, folders(raw, 0, HISTORY_DAYS), customers);
    LocalDate first = START.plusDays(HISTORY_DAYS);
    for (int n = 0; n < NIGHTS; n++) {
      ingest(nightly, folders(raw, HISTORY_DAYS + n, HISTORY_DAYS + n + 1), null);
      LocalDate day = first.plusDays(n);
      features(nightly, day, "--from", (n < 3 ? first : day.minusDays(3)).toString());
    }
    String lastNight = lastFeaturesMessage(nightly);
    assertTrue(lastNight.contains(first.plusDays(NIGHTS - 4) + " advanced from"), lastNight);
    // At once, each snapshot from the rollup of its lookback: built latest first, so none has an earlier state.
    ingest(atOnce, folders(raw, 0, HISTORY_DAYS + NIGHTS), customers);
    List<LocalDate> snapshots = List.of(first.plusDays(NIGHTS - 1), first.plusDays(NIGHTS / 2), first);
    snapshots.forEach(d -> features(atOnce, d));
    assertTrue(lastFeaturesMessage(atOnce).contains("built from the lookback"), lastFeaturesMessage(atOnce));

    for (Table t : List.of(Table.EVENTS, Table.EVENTS_QUARANTINE, Table.DAILY_ACTIVITY, Table.CUSTOMERS,
        Table.CUSTOMER_FEATURES, Table.FEATURE_STATE)) {
      List<String> a = rows(nightly, t, snapshots);
      List<String> b = rows(atOnce, t, snapshots);
      assertTrue(!b.isEmpty(), t.tableName() + " is empty");
      assertEquals(b.size(), a.size(), "rows of " + t.tableName());
      assertEquals(b, a, "contents of " + t.tableName());
    }
    assertTrue(rows(atOnce, Table.EVENTS_QUARANTINE, snapshots).stream().anyMatch(r -> r.contains("duplicate")),
        "the log holds duplicates");
  }

  private static void features(String wh, LocalDate d, String... more) {
    List<String> args = new ArrayList<>(List.of("--warehouse", wh, "features", "--as-of", d.toString()));
    args.addAll(List.of(more));
    CliRun run = cli(args.toArray(String[]::new));
    assertEquals(0, run.exitCode(), run.err());
  }

  /** How the last snapshot's window state was obtained, from run_log. */
  private static String lastFeaturesMessage(String wh) {
    return new Warehouse(spark, wh).read(Table.RUN_LOG).where("stage LIKE 'features %'").orderBy(
        org.apache.spark.sql.functions.col("started_at").desc()).first().getAs("message");
  }

  private static void ingest(String wh, List<String> folders, String customers) {
    List<String> args = new ArrayList<>(List.of("--warehouse", wh, "ingest", "--events", String.join(",", folders),
        "--max-bad-fraction", "1"));
    if (customers != null) {
      args.addAll(List.of("--customers", customers));
    }
    CliRun run = cli(args.toArray(String[]::new));
    assertEquals(0, run.exitCode(), run.err());
  }

  /** The day folders of days [from, to) after the start. */
  private static List<String> folders(Path raw, int from, int to) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add(raw.resolve("events/event_date=" + START.plusDays(i)).toString());
    }
    return out;
  }

  /**
   * The table's rows as sorted text, without the columns that name the run that wrote them; of a table by as-of
   * date, those of {@code dates} only.
   */
  private static List<String> rows(String wh, Table t, List<LocalDate> dates) {
    Dataset<Row> rows = new Warehouse(spark, wh).read(t);
    if (List.of(rows.columns()).contains(FeatureBuilder.AS_OF_DATE)) {
      rows = rows.where(org.apache.spark.sql.functions.col(FeatureBuilder.AS_OF_DATE).isin(
          dates.stream().map(java.sql.Date::valueOf).toArray()));
    }
    String[] kept = Arrays.stream(rows.columns()).filter(c -> !c.equals("run_id") && !c.equals("quarantined_on"))
        .toArray(String[]::new);
    List<String> out = new ArrayList<>();
    for (Row r : rows.selectExpr(kept).collectAsList()) {
      out.add(r.toString());
    }
    out.sort(null);
    return out;
  }
}
