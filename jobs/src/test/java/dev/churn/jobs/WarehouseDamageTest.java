package dev.churn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.SparkSuite;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A damaged warehouse is refused before any command writes over it: folders made by hand, nothing ingested. */
class WarehouseDamageTest extends SparkSuite {

  /** #32: events whose _delta_log was deleted are refused, not replaced by a new one-day table over the files. */
  @Test
  void aTableFolderWithDataButNoLogIsRefusedAndLeftAsItWas() throws Exception {
    Path wh = tempDir("damage-wh");
    Warehouse w = new Warehouse(spark, wh.toString());
    w.ensure(Table.EVENTS);
    Path part = Files.createDirectories(wh.resolve("events/event_date=2026-01-01")).resolve("part-0.parquet");
    Files.writeString(part, "data");
    w.checkIntact();
    deleteTree(wh.resolve("events/_delta_log"));
    ChurnException refused = assertThrows(ChurnException.class, w::checkIntact);
    assertTrue(refused.getMessage().startsWith("table events is damaged: ")
        && refused.getMessage().contains("held a committed table but has no _delta_log"), refused.getMessage());
    assertEquals("data", Files.readString(part));

    // A warehouse from before the marker: its next writing command marks every table that has a log.
    Path old = tempDir("damage-old");
    Warehouse older = new Warehouse(spark, old.toString());
    older.ensure(Table.CUSTOMERS);
    Files.delete(old.resolve("customers").resolve(dev.churn.jobs.warehouse.WarehouseIntegrity.COMMITTED));
    older.markCommittedTables();
    deleteTree(old.resolve("customers/_delta_log"));
    assertThrows(ChurnException.class, older::checkIntact);

    // Files of a first write killed before its commit are no table yet: the rerun writes it.
    Path killed = tempDir("damage-first-write");
    Files.createDirectories(killed.resolve("customers"));
    Files.writeString(killed.resolve("customers/part-0.parquet"), "half");
    new Warehouse(spark, killed.toString()).checkIntact();
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
