package dev.churn.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.ChurnCli;
import dev.churn.jobs.NotebookCells;
import dev.churn.jobs.Warehouse;
import dev.churn.testing.SparkSuite;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every cell of every notebook runs against a warehouse built from generated data. */
class NotebooksTest extends SparkSuite {
  private static String wh;

  private static void churn(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cmd = ChurnCli.commandLine(new ChurnCli(c -> spark, false));
    cmd.setOut(new PrintWriter(new StringWriter(), true));
    cmd.setErr(new PrintWriter(err, true));
    assertEquals(0, cmd.execute(args), String.join(" ", args) + ": " + err);
  }

  @BeforeAll
  static void buildWarehouse() {
    Path out = tempDir("nb-gen");
    wh = tempDir("nb-wh").toString();
    churn("generate", "--out", out.toString(), "--customers", "300", "--days", "150", "--start", "2026-01-01",
        "--seed", "9");
    churn("--warehouse", wh, "ingest", "--events", out.resolve("events").toString(), "--customers",
        out.resolve("customers").toString());
    churn("--warehouse", wh, "train", "--as-of", "2026-05-30", "--truth", out.resolve("truth").toString());
    churn("--warehouse", wh, "score", "--as-of", "2026-04-30");
    churn("--warehouse", wh, "score", "--as-of", "2026-05-30");
    churn("--warehouse", wh, "retention", "--from", "2026-01-01", "--to", "2026-05-30");
  }

  static List<Path> notebooks() throws IOException {
    try (Stream<Path> files = Files.list(repoRoot().resolve("notebooks"))) {
      return files.filter(p -> p.toString().endsWith(".sql")).sorted().toList();
    }
  }

  /** Runs every cell; fails on an error and on a cell marked "-- expect rows" that returns none. */
  static int run(String notebook, String name) {
    new Warehouse(spark, wh).registerAll();
    int n = 0;
    for (NotebookCells.Cell cell : NotebookCells.cells(notebook)) {
      n++;
      long rows = spark.sql(cell.statement()).count();
      if (cell.expectRows()) {
        assertTrue(rows > 0, name + " cell " + n + " returned no rows:\n" + cell.statement());
      }
    }
    return n;
  }

  @Test
  void everyCellOfEveryNotebookRuns() throws IOException {
    List<Path> notebooks = notebooks();
    assertTrue(notebooks.size() >= 4, notebooks.toString());
    for (Path p : notebooks) {
      String text = Files.readString(p);
      assertTrue(text.startsWith("-- Databricks notebook source\n"), p + " is not in Databricks SQL source format");
      assertTrue(run(text, p.getFileName().toString()) >= 2, p.toString());
    }
  }

  @Test
  void aNotebookNamingAMissingColumnFails() {
    String broken = "-- Databricks notebook source\n-- COMMAND ----------\n-- expect rows\n"
        + "SELECT customer_id, churn_probabilty FROM churn.churn_scores\n";
    Exception e = assertThrows(Exception.class, () -> run(broken, "broken"));
    assertTrue(e.getMessage().contains("churn_probabilty"), e.getMessage());
  }

  @Test
  void anEmptyKeyCellFails() {
    String empty = "-- Databricks notebook source\n-- COMMAND ----------\n-- expect rows\n"
        + "SELECT * FROM churn.churn_scores WHERE churn_probability > 2\n";
    AssertionError e = assertThrows(AssertionError.class, () -> run(empty, "empty"));
    assertFalse(e.getMessage().isEmpty());
  }
}
