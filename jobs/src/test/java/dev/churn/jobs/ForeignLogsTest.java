package dev.churn.jobs;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.EndToEnd;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Foreign logs as they come, through the mapping file: the generated invoice-line and app-event shapes with their
 * shipped mappings (checked against the generator's truth), files in the wild, and mapping mistakes.
 */
@EndToEnd
class ForeignLogsTest extends JobsSuite {
  private static final LocalDate START = LocalDate.parse("2026-01-01");

  /** Generates 160 customers x 100 days of {@code shape} into {@code sample} and ingests it through its mapping. */
  private static void ingestShape(String shape, Path sample, Path wh) {
    assertEquals(0, cli("generate", "--out", sample.toString(), "--shape", shape, "--customers", "160",
        "--days", "100").exitCode());
    CliRun ingest = ingest(sample, wh, shape);
    assertEquals(0, ingest.exitCode(), ingest.err());
  }

  private static CliRun ingest(Path sample, Path wh, String shape) {
    return cli("--warehouse", wh.toString(), "ingest", "--events", sample + "/events", "--mapping",
        repoRoot().resolve("mappings/" + shape + ".json").toString());
  }

  @Test
  void invoiceLinesFoldIntoOrdersWithRefundsAndCountriesAtTheDefaultGate() {
    Path sample = tempDir("invoices");
    Path wh = tempDir("invoices-wh");
    ingestShape("invoices", sample, wh);
    Warehouse w = new Warehouse(spark, wh.toString());

    // run_log counts lines: every line read is either folded into an order or quarantined with a reason.
    Dataset<Row> lines = spark.read().option("header", true).option("multiLine", true).option("escape", "\"")
        .csv(sample + "/events");
    long blank = lines.where(col("CustomerID").isNull()).count();
    assertTrue(blank > 0, "the sample has walk-in sales");
    Row run = w.read(Table.RUN_LOG).where(col("stage").equalTo("ingest")).first();
    assertEquals(lines.count(), run.<Long>getAs("rows_in"));
    assertEquals(run.<Long>getAs("rows_in"), run.<Long>getAs("rows_out") + run.<Long>getAs("rows_rejected"));
    assertEquals(blank, run.<Long>getAs("rows_rejected"), "only the lines without a customer are set aside");
    assertEquals(blank, w.read(Table.EVENTS_QUARANTINE).where(col("reason").equalTo("no_customer")).count());

    // One event per order, its amount the sum of quantity x unit price; cancellations are refunds.
    Dataset<Row> orders = spark.read().parquet(sample + "/truth/orders");
    Dataset<Row> events = w.read(Table.EVENTS);
    assertEquals(orders.where(not(col("cancellation"))).count(), events.where(col("event_type").equalTo("payment")).count());
    long refunds = orders.where(col("cancellation")).count();
    assertTrue(refunds > 0, "the sample has cancelled invoices");
    assertEquals(refunds, events.where(col("event_type").equalTo("refund")).count());
    Dataset<Row> joined = events.join(orders, events.col("customer_id").equalTo(orders.col("customer_id"))
        .and(events.col("event_time").equalTo(orders.col("ts"))).and(events.col("amount").minus(orders.col("amount"))
            .between(-1e-6, 1e-6)));
    assertEquals(events.count(), joined.count(), "every order matches the truth's customer, UTC time and amount");

    // Segment from the country column.
    Dataset<Row> countries = spark.read().parquet(sample + "/truth/customers");
    Dataset<Row> customers = w.read(Table.CUSTOMERS);
    assertEquals(customers.count(), customers.join(countries, "customer_id")
        .where(col("segment").equalTo(lower(col("country")))).count());

    // A customer's 30-day purchase amount and refunds are its orders' in the 30 days to the as-of date.
    LocalDate asOf = START.plusDays(80);
    assertEquals(0, cli("--warehouse", wh.toString(), "features", "--as-of", asOf.toString()).exitCode());
    Column inWindow = to_date(col("ts")).gt(lit(java.sql.Date.valueOf(asOf.minusDays(30))))
        .and(to_date(col("ts")).leq(lit(java.sql.Date.valueOf(asOf))));
    Dataset<Row> expected = orders.where(inWindow).groupBy("customer_id").agg(
        sum(when(not(col("cancellation")), col("amount")).otherwise(0.0)).as("want_amount"),
        sum(when(col("cancellation"), abs(col("amount"))).otherwise(0.0)).as("want_refunded"));
    Dataset<Row> features = w.read(Table.CUSTOMER_FEATURES).where(col("as_of_date").equalTo(asOf.toString()));
    Dataset<Row> compared = features.join(expected, "customer_id", "left")
        .select(col("customer_id"), col("payment_amount_30d"), coalesce(col("want_amount"), lit(0.0)).as("want"),
            col("refund_amount_30d"), coalesce(col("want_refunded"), lit(0.0)).as("want_refunded"));
    assertTrue(compared.where(col("want").gt(0)).count() > 10, "customers bought in the window");
    assertEquals(0, compared.where(abs(col("payment_amount_30d").minus(col("want"))).gt(1e-6)
        .or(abs(col("refund_amount_30d").minus(col("want_refunded"))).gt(1e-6))).count(),
        () -> compared.where(abs(col("payment_amount_30d").minus(col("want"))).gt(1e-6)).limit(5).collectAsList().toString());

    // Re-reading the same files adds nothing: the orders are replays.
    assertEquals(0, ingest(sample, wh, "invoices").exitCode());
    assertEquals(events.count(), w.read(Table.EVENTS).count());
  }

  @Test
  void appEventsChurnByTheCancellationPage() {
    Path sample = tempDir("app");
    Path wh = tempDir("app-wh");
    ingestShape("app-events", sample, wh);
    Warehouse w = new Warehouse(spark, wh.toString());
    Dataset<Row> truth = spark.read().parquet(sample + "/truth/churn");
    Dataset<Row> customers = w.read(Table.CUSTOMERS);
    assertTrue(truth.count() > 3, "customers cancelled in the sample");
    assertEquals(0, customers.join(truth, customers.col("customer_id").equalTo(truth.col("customer_id")), "full_outer")
        .where(not(customers.col("churn_date").eqNullSafe(truth.col("churn_date")))).count(),
        "churn dates are the cancellation pages' days, and nobody else churned");
    Dataset<Row> regions = spark.read().parquet(sample + "/truth/customers");
    assertEquals(customers.count(), customers.join(regions, "customer_id")
        .where(col("segment").equalTo(col("region"))).count(), "segment from the nested location.region");
    long loggedOut = spark.read().json(sample + "/events").where(col("userId").equalTo("")).count();
    assertTrue(loggedOut > 0);
    assertEquals(loggedOut, w.read(Table.EVENTS_QUARANTINE).where(col("reason").equalTo("logged_out")).count());
  }

  @Test
  void filesInTheWild() throws Exception {
    Path in = tempDir("wild");
    // A byte-order mark, CRLF line ends, a quoted delimiter, doubled quotes and a line break inside quotes.
    Files.write(in.resolve("a.csv"), ("\uFEFFid,when,what,note,amt\r\nA,2026-03-01 10:00,buy,\"plain, with comma\",1.50\r\n"
        + "B,2026-03-01 11:00,buy,\"said \"\"hi\"\"\",2.00\r\nC,2026-03-01 12:00,buy,\"two\r\nlines\",3.25\r\n"
        + "G,2026-03-01 13:00,buy,\"cut,4.00\r\n").getBytes(StandardCharsets.UTF_8));
    try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(in.resolve("b.csv.gz")))) {
      gz.write("id,when,what,note,amt\nD,2026-03-02 10:00,buy,x,4.00\nE,2026-03-02 23:30,buy,y,5.00\n"
          .getBytes(StandardCharsets.UTF_8));
    }
    org.apache.hadoop.io.compress.BZip2Codec bzip2 = new org.apache.hadoop.io.compress.BZip2Codec();
    bzip2.setConf(spark.sparkContext().hadoopConfiguration());
    try (OutputStream bz = bzip2.createOutputStream(Files.newOutputStream(in.resolve("c.csv.bz2")))) {
      bz.write("id,when,what,note,amt\nF,2026-03-03 10:00,buy,x,6.00\n".getBytes(StandardCharsets.UTF_8));
    }
    Path mapping = write(tempDir("wild-mapping").resolve("m.json"), List.of("{\"name\": \"wild\", \"format\": \"csv\", "
        + "\"columns\": {\"customer_id\": \"id\", \"event_time\": \"when\", \"event_type\": \"what\", \"amount\": \"amt\"},"
        + " \"timestamp_format\": \"yyyy-MM-dd HH:mm\", \"timezone\": \"America/New_York\","
        + " \"event_types\": {\"buy\": \"payment\"}, \"churn\": {\"inactivity_days\": 30}}"));
    Path wh = tempDir("wild-wh");
    CliRun run = cli("--warehouse", wh.toString(), "ingest", "--events", in.toString(), "--mapping", mapping.toString(),
        "--max-bad-fraction", "0.2");
    assertEquals(0, run.exitCode(), run.err());
    Warehouse w = new Warehouse(spark, wh.toString());
    List<Row> got = w.read(Table.EVENTS).orderBy("customer_id")
        .select(col("customer_id"), date_format(col("event_time"), "yyyy-MM-dd HH:mm"), col("amount"),
            col("source_position")).collectAsList();
    assertEquals(List.of("A|2026-03-01 15:00|1.5|2", "B|2026-03-01 16:00|2.0|3", "C|2026-03-01 17:00|3.25|4",
            "D|2026-03-02 15:00|4.0|2", "E|2026-03-03 04:30|5.0|3", "F|2026-03-03 15:00|6.0|2"),
        got.stream().map(r -> r.get(0) + "|" + r.get(1) + "|" + r.get(2) + "|" + r.get(3)).toList(),
        "New York times in UTC; the record with a line break counts from its first line");
    Row cut = w.read(Table.EVENTS_QUARANTINE).first();
    assertEquals("malformed", cut.getAs("reason"), "an unclosed quote runs to the end of the file: one bad record");
    assertEquals(6L, (long) cut.<Long>getAs("source_position"));

    // JSON lines with nested objects (dotted paths) and epoch seconds.
    Path json = write(tempDir("nested").resolve("e.jsonl"), List.of(
        "{\"user\": {\"id\": \"U1\", \"tier\": \"gold\"}, \"t\": 1772359200, \"kind\": \"login\"}",
        "{\"user\": {\"id\": \"U2\", \"tier\": \"silver\"}, \"t\": \"1772445600\", \"kind\": \"login\"}"));
    Path nested = write(tempDir("nested-mapping").resolve("m.json"), List.of("{\"name\": \"nested\", \"format\": \"json\","
        + " \"columns\": {\"customer_id\": \"user.id\", \"event_time\": \"t\", \"event_type\": \"kind\"},"
        + " \"timestamp_format\": \"epoch_seconds\", \"customer_columns\": {\"segment\": \"user.tier\"},"
        + " \"churn\": {\"inactivity_days\": 30}}"));
    Path wh2 = tempDir("nested-wh");
    assertEquals(0, cli("--warehouse", wh2.toString(), "ingest", "--events", json.toString(), "--mapping",
        nested.toString()).exitCode());
    assertEquals(List.of("U1|2026-03-01 10:00|gold", "U2|2026-03-02 10:00|silver"),
        new Warehouse(spark, wh2.toString()).read(Table.EVENTS).join(new Warehouse(spark, wh2.toString())
            .read(Table.CUSTOMERS), "customer_id").orderBy("customer_id")
            .select(col("customer_id"), date_format(col("event_time"), "yyyy-MM-dd HH:mm"), col("segment"))
            .collectAsList().stream().map(r -> r.get(0) + "|" + r.get(1) + "|" + r.get(2)).toList());
  }

  @Test
  void aMappingValueThatDoesNotFitTheInputIsAUsageErrorBeforeAnyEventIsRead() {
    Path in = write(tempDir("mistakes").resolve("a.csv"), List.of("id,when,qty,price", "A,2026-03-01,2,1.5"));
    Path wh = tempDir("mistakes-wh");
    for (String[] bad : new String[][] {
        {"qty * prize", "column 'prize' (in amount = qty * prize) is not in the input files"},
        {"qty * (price", "amount: 'qty * (price' is neither a column of the input nor a Spark SQL expression"},
        {"no_such_function(qty)", "amount = no_such_function(qty) does not work on the input"}}) {
      Path mapping = write(tempDir("mistakes-mapping").resolve("m.json"), List.of("{\"name\": \"m\", \"format\": "
          + "\"csv\", \"columns\": {\"customer_id\": \"id\", \"event_time\": \"when\", \"amount\": \"" + bad[0] + "\"},"
          + " \"constants\": {\"event_type\": \"payment\"}, \"churn\": {\"inactivity_days\": 30}}"));
      CliRun run = cli("--warehouse", wh.toString(), "ingest", "--events", in.toString(), "--mapping",
          mapping.toString());
      assertEquals(2, run.exitCode(), run.err());
      String line = run.err().lines().filter(l -> l.startsWith("churn:")).findFirst().orElse(run.err());
      assertTrue(line.contains(bad[1]) && line.contains("id, when, qty, price") && line.contains("no events were read"),
          line);
    }
    assertTrue(!new Warehouse(spark, wh.toString()).exists(Table.EVENTS)
        || new Warehouse(spark, wh.toString()).read(Table.EVENTS).count() == 0);
  }
}
