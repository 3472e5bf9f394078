package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.features.Events;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.EndToEnd;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.io.compress.BZip2Codec;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The hostile-input catalogue (docs/ingest.md, "What ingest does with hostile input"): one folder of files as production
 * sends them, ingested once; each record is accepted with the right value or quarantined with the reason that
 * says what is wrong, none crashes the run and none is dropped silently.
 */
@EndToEnd
class HostileInputTest extends JobsSuite {
  private static final String DAY = "2026-03-10";
  private static Warehouse w;
  private static CliRun run;

  private static String ev(String id, String extra) {
    return "{\"event_id\":\"" + id + "\",\"customer_id\":\"c1\",\"event_time\":\"" + DAY + "T10:00:00Z\","
        + "\"event_type\":\"login\"" + extra + "}";
  }

  private static String ev(String id, String field, String value) {
    String line = ev(id, "");
    return line.replaceFirst("\"" + field + "\":\"[^\"]*\"",
        java.util.regex.Matcher.quoteReplacement("\"" + field + "\":" + value));
  }

  private static void bytes(Path file, byte[] content) throws IOException {
    Files.createDirectories(file.getParent());
    Files.write(file, content);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @BeforeAll
  static void ingestTheCatalogue() throws IOException {
    Path in = tempDir("hostile-in");
    Path day = in.resolve("events/event_date=" + DAY);
    write(day.resolve("main.jsonl"), List.of(
        ev("h01", ""),                                                       // control
        ev("h03", "event_type", "\"LOGIN\""),                                // upper-case type
        ev("h04", "event_time", "\"" + DAY + "T10:00:00+02:00\""),           // offset
        ev("h05", "event_time", "\"" + DAY + "T10:00:00\""),                 // no zone
        ev("h06", "event_time", "\"1970-01-01T00:00:00Z\""),                 // epoch zero
        ev("h07", "event_time", "\"9999-12-31T00:00:00Z\""),                 // far future
        ev("h08", "event_type", "\"payment\"").replace("}", ",\"amount\":\"NaN\"}"),
        ev("h09", "event_type", "\"payment\"").replace("}", ",\"amount\":\"1e309\"}"),
        ev("h10", "event_type", "\"payment\"").replace("}", ",\"amount\":\"-0\"}"),
        ev("h11", "customer_id", "{\"id\":\"C0000042\"}"),                   // object as id
        ev("h01", "event_type", "\"feature_use\""),                          // same id, other content
        ev("h13", ",\"browser\":\"firefox\",\"nested\":{\"a\":1}"),          // unknown extra fields
        ev("h14", ",\"user_id\":\"" + "u".repeat(2_000_000) + "\""),        // a field of megabytes
        ev("h24", "customer_id", "null"),                                    // no customer
        ev("h25", "event_time", "\"yesterday\""),                            // not a time
        ev("h26", "event_type", "\"teleport\""),                             // not a type
        ev("h27", "event_type", "\"payment\"").replace("}", ",\"amount\":\"ten\"}"),
        ev("h28", "event_type", "\"payment\"").replace("}", ",\"amount\":-5}"),
        ev("h29", "customer_id", "42"),                                      // number as id
        ev("h30", "event_type", "\"payment\"").replace("}", ",\"amount\":\"1e33\"}"), // beyond every sum
        ev("h31", "customer_id", "\"c1\u00A0\""),                             // a non-breaking space after the id
        ev("h32", "event_type", "\"payment\"").replace("}", ",\"amount\":\"5\",\"amount\":\"500\"}"), // a field twice
        ev("x", "event_id", "123"),                                          // a number as event id
        ev("123", ""),                                                       // the same id as text
        ev("h35", "customer_id", "\"c\\u00001\""),                          // a NUL inside the id
        ev("h36\u200B", ""),                                                 // a zero-width space inside the id
        "",
        "\t",                                                                // blanks are not records
        "   "));
    ByteArrayOutputStream bad = new ByteArrayOutputStream();
    bad.write(utf8(ev("h15", "").replace("\"login\"", "\"log")));
    bad.write(new byte[] {(byte) 0xC3, (byte) 0x28});                          // not UTF-8
    bad.write(utf8("in\"}\n"));
    bytes(day.resolve("latin.jsonl"), bad.toByteArray());
    bytes(day.resolve("crlf.jsonl"), utf8(ev("h02", "") + "\r\n" + ev("h02b", "") + "\r\n"));
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (OutputStream out = new GZIPOutputStream(gz)) {
      out.write(utf8(ev("h16", "") + "\n"));
    }
    bytes(day.resolve("packed.jsonl.gz"), gz.toByteArray());
    ByteArrayOutputStream bz = new ByteArrayOutputStream();
    BZip2Codec codec = new BZip2Codec();
    codec.setConf(new Configuration());
    try (OutputStream out = codec.createOutputStream(bz)) {
      out.write(utf8(ev("h17", "") + "\n"));
    }
    bytes(day.resolve("packed.jsonl.bz2"), bz.toByteArray());
    write(day.resolve("with space.jsonl"), List.of(ev("h18", "")));
    bytes(day.resolve("bom.jsonl"), utf8("\uFEFF" + ev("h19", "") + "\n"));
    bytes(day.resolve("truncated.jsonl"), utf8(ev("h20", "") + "\n" + ev("h20b", "").substring(0, 30)));
    bytes(day.resolve("array.json"), utf8("[" + ev("h21", "") + "," + ev("h22", "") + "]\n"));
    bytes(day.resolve("empty.jsonl"), new byte[0]);
    write(day.resolve("blank.jsonl"), List.of("", "  ", ""));
    bytes(day.resolve("_SUCCESS"), new byte[0]);
    write(day.resolve(".hidden.jsonl"), List.of(ev("h23", "")));
    bytes(day.resolve(".crlf.jsonl.crc"), utf8("crc\0stale"));                 // a checksum of another content

    write(in.resolve("customers/customers.csv"), List.of("customer_id,segment,industry,plan,mrr,signup_date",
        "c1,smb,retail,pro,10.0,2026-01-05", "c2,smb,retail,pro,10.0,"));   // a customer without signup date

    Path wh = tempDir("hostile-wh");
    run = cli("--warehouse", wh.toString(), "ingest", "--events", in.resolve("events").toString(),
        "--customers", in.resolve("customers").toString(), "--max-bad-fraction", "1");
    w = new Warehouse(spark, wh.toString());
  }

  private static Map<String, String> quarantined() {
    Map<String, String> out = new TreeMap<>();
    for (Row r : w.read(Table.EVENTS_QUARANTINE).collectAsList()) {
      String file = Path.of(java.net.URI.create(r.<String>getAs(Events.SOURCE_FILE))).getFileName().toString();
      out.put(file + ":" + r.<Long>getAs(Events.SOURCE_POSITION), r.getAs(Events.REASON));
    }
    return out;
  }

  private static Row accepted(String id) {
    List<Row> rows = w.read(Table.EVENTS).where(col(Events.EVENT_ID).equalTo(id)).collectAsList();
    assertEquals(1, rows.size(), id + " accepted once");
    return rows.get(0);
  }

  private static Instant time(String id) {
    return accepted(id).<java.sql.Timestamp>getAs(Events.EVENT_TIME).toInstant();
  }

  @Test
  void everyRecordIsAcceptedWithItsValueOrQuarantinedWithItsReason() {
    assertEquals(0, run.exitCode(), run.err());
    assertEquals(Map.ofEntries(
        Map.entry("main.jsonl:5", "early_timestamp"),
        Map.entry("main.jsonl:6", "future_timestamp"),
        Map.entry("main.jsonl:7", "non_finite_number"),
        Map.entry("main.jsonl:8", "non_finite_number"),
        Map.entry("main.jsonl:10", "bad_customer_id"),
        Map.entry("main.jsonl:11", "duplicate"),
        Map.entry("main.jsonl:13", "oversized_field"),
        Map.entry("main.jsonl:14", "missing_customer_id"),
        Map.entry("main.jsonl:15", "bad_timestamp"),
        Map.entry("main.jsonl:16", "unknown_event_type"),
        Map.entry("main.jsonl:17", "bad_number"),
        Map.entry("main.jsonl:18", "negative_amount"),
        Map.entry("main.jsonl:19", "bad_customer_id"),
        Map.entry("main.jsonl:20", "out_of_range"),
        Map.entry("main.jsonl:22", "duplicate_field"),
        Map.entry("main.jsonl:24", "duplicate"),
        Map.entry("main.jsonl:25", "bad_customer_id"),
        Map.entry("main.jsonl:26", "bad_event_id"),
        Map.entry("customers.csv:3", "bad_customer_record"),
        Map.entry("latin.jsonl:1", "invalid_utf8"),
        Map.entry("truncated.jsonl:2", "malformed"),
        Map.entry("array.json:1", "malformed")), quarantined());

    for (String id : List.of("h01", "h02", "h02b", "h13", "h16", "h17", "h18", "h19", "h20", "h31", "123")) {
      assertEquals("c1", accepted(id).getAs(Events.CUSTOMER_ID), id);
    }
    assertEquals("login", accepted("h01").getAs(Events.EVENT_TYPE), "the first of two records with one id wins");
    assertEquals("login", accepted("h03").getAs(Events.EVENT_TYPE), "types are case-insensitive");
    assertEquals(Instant.parse("2026-03-10T08:00:00Z"), time("h04"), "an offset is converted to UTC");
    assertEquals(Instant.parse("2026-03-10T10:00:00Z"), time("h05"), "a time without a zone is UTC");
    assertEquals(0.0, (double) accepted("h10").<Double>getAs(Events.AMOUNT), 0.0);
    assertEquals(15, w.read(Table.EVENTS).count());
    assertEquals(0, w.read(Table.EVENTS).where(col(Events.EVENT_ID).equalTo("h23")).count(), "hidden files are not read");
    assertTrue(run.out().contains("36 records read, 15 accepted, 21 rejected"), run.out());
    String oversized = w.read(Table.EVENTS_QUARANTINE).where(col(Events.REASON).equalTo("oversized_field"))
        .first().getAs(Events.RAW_RECORD);
    assertTrue(oversized.length() < 100_200 && oversized.endsWith("characters in all; the whole record is at "
        + "source_file, source_position]"), "a 2 MB record is stored cut: " + oversized.length());
  }

  /**
   * #32: a truncated .gz among good files fails the run in one line naming the file, and run_log records it (the
   * reader's checked SparkException used to pass by the run log's handler).
   */
  @Test
  void aTruncatedGzFailsInOneLineNamingTheFileAndIsRecorded() throws IOException {
    Path in = tempDir("hostile-gz").resolve("events/event_date=" + DAY);
    write(in.resolve("good.jsonl"), List.of(ev("g1", "")));
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (OutputStream out = new GZIPOutputStream(gz)) {
      for (int i = 0; i < 200; i++) {
        out.write(utf8(ev("g" + (i + 2), "") + "\n"));
      }
    }
    byte[] whole = gz.toByteArray();
    bytes(in.resolve("cut.jsonl.gz"), java.util.Arrays.copyOf(whole, whole.length / 2));
    Path wh = tempDir("hostile-gz-wh");
    CliRun cut = cli("--warehouse", wh.toString(), "ingest", "--events", in.toString());
    assertEquals(1, cut.exitCode(), cut.out());
    assertEquals(1, cut.err().strip().lines().count(), cut.err());
    assertTrue(cut.err().startsWith("churn: failed: cannot read ") && cut.err().contains("cut.jsonl.gz: "), cut.err());
    Warehouse failed = new Warehouse(spark, wh.toString());
    List<Row> logged = failed.read(Table.RUN_LOG).where(col("stage").equalTo("ingest")).collectAsList();
    assertEquals(1, logged.size());
    assertEquals("failed", logged.get(0).getAs("status"));
    assertEquals(0, failed.exists(Table.EVENTS) ? failed.read(Table.EVENTS).count() : 0, "nothing stored");
  }

  /**
   * #32: a file in no dated folder, ingested without --date, is bounded by the day the ingest runs: a year-9999
   * event is future_timestamp, not a night's work stretched to year 9999.
   */
  @Test
  void aRecordInNoDatedFolderIsBoundedByTheDayTheIngestRuns() {
    Path file = write(tempDir("hostile-undated").resolve("log.jsonl"), List.of(ev("u1", ""),
        ev("u2", "event_time", "\"9999-12-31T00:00:00Z\"")));
    Path wh = tempDir("hostile-undated-wh");
    CliRun undated = cli("--warehouse", wh.toString(), "ingest", "--events", file.toString(), "--max-bad-fraction", "1");
    assertEquals(0, undated.exitCode(), undated.err());
    Warehouse bounded = new Warehouse(spark, wh.toString());
    assertEquals(List.of("u1"), bounded.read(Table.EVENTS).select(Events.EVENT_ID).as(
        org.apache.spark.sql.Encoders.STRING()).collectAsList());
    Row future = bounded.read(Table.EVENTS_QUARANTINE).first();
    assertEquals("future_timestamp", future.getAs(Events.REASON));
    assertTrue(future.<String>getAs(Events.DETAIL).contains("is after the batch date "
        + java.time.LocalDate.now(java.time.ZoneOffset.UTC)), future.<String>getAs(Events.DETAIL));
  }

  /** #32: a semicolon-delimited customers extract fails the default gate (exit 3) and commits nothing. */
  @Test
  void aCustomersFileMostlyRejectedIsRefusedByTheGate() {
    Path in = tempDir("hostile-semi");
    write(in.resolve("events/event_date=" + DAY + "/e.jsonl"), List.of(ev("s1", "")));
    write(in.resolve("customers/customers.csv"), List.of("customer_id;segment;industry;plan;mrr;signup_date",
        "c1;smb;retail;pro;10.0;2026-01-05", "c2;smb;retail;pro;10.0;2026-01-05"));
    Path wh = tempDir("hostile-semi-wh");
    CliRun semi = cli("--warehouse", wh.toString(), "ingest", "--events", in.resolve("events").toString(),
        "--customers", in.resolve("customers").toString());
    assertEquals(3, semi.exitCode(), semi.err());
    assertTrue(semi.err().startsWith("churn: 2 of 2 customers rows (100.0%) were rejected, over the allowed 5.0%"),
        semi.err());
    Warehouse refused = new Warehouse(spark, wh.toString());
    assertEquals(0, refused.exists(Table.CUSTOMERS) ? refused.read(Table.CUSTOMERS).count() : 0);
    assertEquals(0, refused.exists(Table.EVENTS) ? refused.read(Table.EVENTS).count() : 0);
    assertEquals(0, refused.exists(Table.EVENTS_QUARANTINE) ? refused.read(Table.EVENTS_QUARANTINE).count() : 0);
    assertTrue(semi.err().contains("the first because customer_id is missing; nothing was committed"), semi.err());
  }

  /**
   * #32: a log without event ids (CDNOW: a record is its file and line) moved to another folder and ingested again
   * is recognised by its content and not read again, rather than stored twice (or, with ids, refused as 100 %
   * duplicates); a copy beside its original in one batch is read once; a changed file is read.
   */
  @Test
  void aMovedOrCopiedFileIsNotReadAgain() throws IOException {
    Path root = tempDir("hostile-moved");
    List<String> log = List.of(" customer_id  date number_of_cds  dollar_value", " 00001 19970101  1   11.77",
        " 00002 19970112  1   12.00", " 00002 19970112  5   77.00");
    Path first = write(root.resolve("staging/a/CDNOW.txt"), log);
    write(root.resolve("staging/a/copy.txt"), log);
    Path wh = tempDir("hostile-moved-wh");
    String mapping = repoRoot().resolve("mappings/cdnow.json").toString();
    CliRun once = cli("--warehouse", wh.toString(), "ingest", "--events", root.resolve("staging/a").toString(),
        "--mapping", mapping, "--date", "1997-01-31");
    assertEquals(0, once.exitCode(), once.err());
    assertTrue(once.out().contains("copy.txt has the content of ") && once.out().contains("CDNOW.txt"), once.out());
    Path moved = Files.createDirectories(root.resolve("archive/b"));
    Files.move(first, moved.resolve("CDNOW.txt"));
    write(moved.resolve("changed.txt"), List.of(log.get(0), log.get(1).replace("11.77", "11.78")));
    CliRun again = cli("--warehouse", wh.toString(), "ingest", "--events", moved.toString(), "--mapping", mapping,
        "--date", "1997-01-31");
    assertEquals(0, again.exitCode(), again.err());
    assertTrue(again.out().contains("4 records read, 1 accepted, 0 rejected, 3 already ingested"), again.out());
    Warehouse warehouse = new Warehouse(spark, wh.toString());
    assertEquals(List.of(11.77, 11.78, 12.0, 77.0), warehouse.read(Table.EVENTS).orderBy(Events.AMOUNT)
        .select(Events.AMOUNT).as(org.apache.spark.sql.Encoders.DOUBLE()).collectAsList());
    assertEquals(2, warehouse.read(Table.INGESTED_FILES).count(), "the original and the changed file, no copy");

    // A rotated log: changed.txt gains a line, its former content arrives as changed.txt.1 and is known as such.
    Files.move(moved.resolve("changed.txt"), moved.resolve("changed.txt.1"));
    write(moved.resolve("changed.txt"), List.of(log.get(0), log.get(1).replace("11.77", "11.78"), log.get(3)
        .replace("77.00", "78.00")));
    CliRun rotated = cli("--warehouse", wh.toString(), "ingest", "--events", moved.toString(), "--mapping", mapping,
        "--date", "1997-01-31");
    assertEquals(0, rotated.exitCode(), rotated.err());
    assertTrue(rotated.out().contains("changed.txt.1 has the content of ") && rotated.out().contains("changed.txt, "),
        rotated.out());
    assertEquals(List.of(11.77, 11.78, 12.0, 77.0, 78.0), warehouse.read(Table.EVENTS).orderBy(Events.AMOUNT)
        .select(Events.AMOUNT).as(org.apache.spark.sql.Encoders.DOUBLE()).collectAsList());
    // ingested_files is appended to (its keys, path and fingerprint, new by construction): the new content of
    // changed.txt joins it, its rotated copy does not, and a plain rerun adds nothing.
    assertEquals(3, warehouse.read(Table.INGESTED_FILES).count(), "changed.txt's new content, not its rotated copy");
    CliRun plain = cli("--warehouse", wh.toString(), "ingest", "--events", moved.toString(), "--mapping", mapping,
        "--date", "1997-01-31");
    assertEquals(0, plain.exitCode(), plain.err());
    assertEquals(3, warehouse.read(Table.INGESTED_FILES).count(), "a rerun records no file again");
    assertEquals(5, warehouse.read(Table.EVENTS).count(), "a rerun stores no event again");
  }

  /** The catalogue yields every reason code docs/ingest.md's reason table lists (the acceptance query of issue 15). */
  @Test
  void theCatalogueShowsEveryReasonOfTheIngestPage() throws IOException {
    String page = Files.readString(repoRoot().resolve("docs/ingest.md"));
    String table = page.substring(page.indexOf("| reason | when |"));
    table = table.substring(0, table.indexOf("\n\n"));
    java.util.Set<String> documented = new java.util.TreeSet<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^\\| `([a-z_0-9]+)` \\|").matcher(table);
    while (m.find()) {
      documented.add(m.group(1));
    }
    java.util.Set<String> found = new java.util.TreeSet<>();
    for (Row r : spark.sql("SELECT reason, count(*) FROM delta.`" + w.path(Table.EVENTS_QUARANTINE) + "` GROUP BY reason")
        .collectAsList()) {
      found.add(r.getString(0));
    }
    assertTrue(documented.contains("malformed") && documented.size() >= 14, "docs/ingest.md's reason table: " + documented);
    assertEquals(documented, found);
  }
}
