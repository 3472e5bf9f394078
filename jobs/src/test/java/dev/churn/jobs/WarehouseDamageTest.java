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

  /** #32 (7): a commit file cut at a line boundary still parses; its checksum beside it says what it lost. */
  @Test
  void aCommitThatDisagreesWithItsChecksumIsRefused() throws Exception {
    Path wh = tempDir("damage-cut");
    String table = wh.resolve(Table.CUSTOMERS.tableName()).toString();
    for (int i = 0; i < 2; i++) {
      spark.range(0, 30).repartition(3).write().format("delta").mode("append").save(table);
    }
    Warehouse w = new Warehouse(spark, wh.toString());
    w.checkIntact();
    Path commit = wh.resolve("customers/_delta_log/00000000000000000001.json");
    java.util.List<String> lines = Files.readAllLines(commit);
    String cut = String.join("\n", lines.subList(0, lines.size() - 1)) + "\n";
    Files.writeString(commit, cut);
    // As on an object store: no file-system checksum beside the commit (a local one is refused on its own).
    Files.delete(commit.resolveSibling(".00000000000000000001.json.crc"));
    ChurnException refused = assertThrows(ChurnException.class, w::checkIntact);
    assertTrue(refused.getMessage().startsWith("table customers is damaged: its commit 1 changes the table by 2 files")
        && refused.getMessage().contains("but its checksum by 3 files"), refused.getMessage());
    assertEquals(cut, Files.readString(commit));
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
