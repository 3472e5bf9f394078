package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sum;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The real CDNOW log through the mapping file shipped in mappings/cdnow.json. */
class CdnowIngestTest extends JobsSuite {

  @Test
  void everyPurchaseIsAcceptedIdenticalLinesStaySeparateAndReingestAddsNothing() throws Exception {
    Path log = Path.of(getClass().getResource("/cdnow/CDNOW_master.txt").toURI());
    Path mapping = repoRoot().resolve("mappings/cdnow.json");
    Path wh = tempDir("cdnow-wh");
    String[] args = {"--warehouse", wh.toString(), "ingest", "--events", log.toString(), "--mapping", mapping.toString()};
    CliRun first = cli(args);
    assertEquals(0, first.exitCode(), first.err());

    Warehouse w = new Warehouse(spark, wh.toString());
    assertEquals(69_659, w.read(Table.EVENTS).count());
    assertEquals(0, w.read(Table.EVENTS_QUARANTINE).count());
    assertEquals(23_570, w.read(Table.CUSTOMERS).count());
    Row totals = w.read(Table.EVENTS).agg(sum("quantity"), sum("amount")).first();
    assertEquals(167_881L, totals.getLong(0));
    assertEquals(2_500_316.0, Math.round(totals.getDouble(1)), 1.0);
    Row c3 = w.read(Table.CUSTOMERS).where(col("customer_id").equalTo("00003")).first();
    assertEquals("1997-01-02", c3.getAs("signup_date").toString());
    assertEquals("retail", c3.getAs("industry"));

    CliRun again = cli(args);
    assertEquals(0, again.exitCode(), again.err());
    assertEquals(69_659, w.read(Table.EVENTS).count());
    assertEquals(0, w.read(Table.EVENTS_QUARANTINE).count());
    assertEquals(23_570, w.read(Table.CUSTOMERS).count());
  }
}
