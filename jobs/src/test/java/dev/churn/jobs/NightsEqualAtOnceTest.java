package dev.churn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * A warehouse built night by night equals one built at once: 30 consecutive daily ingests (each reading only
 * its day's folder, with late events filed under later days and duplicates and bad records mixed in) against one
 * ingest of the same folders, compared on every row and column of events, the quarantine, daily_activity and
 * customers (run ids and quarantine dates aside), and on every column of the feature snapshots of the first,
 * middle and last night.
 */
class NightsEqualAtOnceTest extends JobsSuite {
  private static final LocalDate START = LocalDate.parse("2026-01-01");
  private static final int HISTORY_DAYS = 15;
  private static final int NIGHTS = 30;

  @Test
  void thirtyNightsLeaveTheSameTablesAsOneIngestOfTheSameFiles() {
    Path raw = tempDir("nights-gen");
    assertEquals(0, cli("generate", "--out", raw.toString(), "--customers", "60", "--days",
        String.valueOf(HISTORY_DAYS + NIGHTS), "--start", START.toString(), "--seed", "5", "--bad-fraction", "0.05")
        .exitCode());
    String nightly = tempDir("nights-wh").toString();
    String atOnce = tempDir("at-once-wh").toString();
    String customers = raw.resolve("customers").toString();

    ingest(nightly, folders(raw, 0, HISTORY_DAYS), customers);
    for (int n = 0; n < NIGHTS; n++) {
      ingest(nightly, folders(raw, HISTORY_DAYS + n, HISTORY_DAYS + n + 1), null);
    }
    ingest(atOnce, folders(raw, 0, HISTORY_DAYS + NIGHTS), customers);

    List<LocalDate> snapshots = List.of(START.plusDays(HISTORY_DAYS), START.plusDays(HISTORY_DAYS + NIGHTS / 2),
        START.plusDays(HISTORY_DAYS + NIGHTS - 1));
    for (String wh : List.of(nightly, atOnce)) {
      for (LocalDate d : snapshots) {
        CliRun run = cli("--warehouse", wh, "features", "--as-of", d.toString());
        assertEquals(0, run.exitCode(), run.err());
      }
    }
    for (Table t : List.of(Table.EVENTS, Table.EVENTS_QUARANTINE, Table.DAILY_ACTIVITY, Table.CUSTOMERS,
        Table.CUSTOMER_FEATURES)) {
      List<String> a = rows(nightly, t);
      List<String> b = rows(atOnce, t);
      assertTrue(!b.isEmpty(), t.tableName() + " is empty");
      assertEquals(b.size(), a.size(), "rows of " + t.tableName());
      assertEquals(b, a, "contents of " + t.tableName());
    }
    assertTrue(rows(atOnce, Table.EVENTS_QUARANTINE).stream().anyMatch(r -> r.contains("duplicate")),
        "the log holds duplicates");
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

  /** The table's rows as sorted text, without the columns that name the run that wrote them. */
  private static List<String> rows(String wh, Table t) {
    Dataset<Row> rows = new Warehouse(spark, wh).read(t);
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
