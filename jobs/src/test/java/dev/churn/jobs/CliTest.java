package dev.churn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The command line as users and schedulers see it: exact error lines and exit codes. */
class CliTest extends JobsSuite {

  @Test
  void helpListsTheSubcommands() {
    CliRun r = cli("--help");
    assertEquals(0, r.exitCode());
    for (String sub : new String[] {"demo", "generate", "ingest", "sql"}) {
      assertTrue(r.out().contains("\n  " + sub + " "), sub + " in\n" + r.out());
    }
  }

  @Test
  void aBadDateIsOneLineAndExitTwo() {
    CliRun r = cli("ingest", "--events", "x", "--date", "2026-13-01");
    assertEquals(2, r.exitCode());
    assertEquals("churn: Invalid value for option '--date': '2026-13-01' is not a date: use YYYY-MM-DD "
        + "(see 'churn ingest --help')\n", r.err());
  }

  @Test
  void anUnknownOptionIsOneLineAndExitTwo() {
    CliRun r = cli("ingest", "--events", "x", "--colour", "red");
    assertEquals(2, r.exitCode());
    assertEquals("churn: Unknown options: '--colour', 'red' (see 'churn ingest --help')\n", r.err());
  }

  @Test
  void aMissingInputPathIsOneLineAndExitTwo() {
    Path wh = tempDir("cli-wh");
    CliRun r = cli("--warehouse", wh.toString(), "ingest", "--events", "/no/such/folder");
    assertEquals(2, r.exitCode());
    assertEquals("churn: input path does not exist: /no/such/folder\n", r.err());
  }

  @Test
  void theWarehouseOptionWorksBeforeAndAfterTheSubcommand() {
    Path wh = tempDir("cli-wh2");
    CliRun before = cli("--warehouse", wh.toString(), "sql", "SELECT 1 AS one");
    CliRun after = cli("sql", "SELECT 1 AS one", "--warehouse", wh.toString());
    assertEquals(0, before.exitCode(), before.err());
    assertEquals("one\n1\n", before.out());
    assertEquals(before.out(), after.out());
    CliRun nested = cli("--warehouse", wh.toString(), "sql",
        "SELECT array(1, 2) AS a, named_struct('x', 1, 'y', 'b') AS s, map('k', 0.5) AS m, 'plain' AS p");
    assertEquals("a\ts\tm\tp\n[1,2]\t{\"x\":1,\"y\":\"b\"}\t{\"k\":0.5}\tplain\n", nested.out(),
        "nested values print as JSON");
    CliRun twice = cli("--warehouse", wh.toString(), "sql", "SELECT 1 AS n, array(2) AS n");
    assertEquals("n\tn\n1\t[2]\n", twice.out(), "two columns of one name print: " + twice.err());
  }

  @Test
  void aBadRegularisationGridIsOneLineAndExitTwo() {
    String wh = tempDir("cli-grid").toString();
    CliRun negative = cli("--warehouse", wh, "train", "--as-of", "2026-06-01", "--reg-params", "0.01,-1");
    assertEquals(2, negative.exitCode(), negative.err());
    assertEquals("churn: regParam values must be zero or more, not [0.01, -1.0] (see 'churn train --help')\n",
        negative.err());
    CliRun share = cli("--warehouse", wh, "nightly", "--date", "2026-06-01", "--events", wh, "--elastic-net-params",
        "1.5");
    assertEquals(2, share.exitCode(), share.err());
    assertEquals("churn: elasticNetParam values must be between 0 and 1, not [1.5] (see 'churn nightly --help')\n",
        share.err());
  }

  @Test
  void aBadMappingFileIsOneLineAndExitTwo() {
    Path mapping = write(tempDir("cli-map").resolve("m.json"), java.util.List.of("{\"format\": \"xml\"}"));
    CliRun r = cli("ingest", "--events", "x", "--mapping", mapping.toString());
    assertEquals(2, r.exitCode());
    assertEquals("churn: bad mapping file " + mapping + ": mapping format must be json, csv or parquet, not 'xml' "
        + "(see 'churn ingest --help')\n", r.err());
  }

  @Test
  void aBadQueryIsOneLineAndExitOne() {
    CliRun r = cli("--warehouse", tempDir("cli-wh3").toString(), "sql", "SELECT nope FROM nowhere");
    assertEquals(1, r.exitCode());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().startsWith("churn: SQL error: "), r.err());
  }

  @Test
  void notebookCellsAreSplitAndMarkdownIsSkipped() {
    String notebook = String.join("\n", "-- Databricks notebook source", "-- MAGIC %md", "-- MAGIC # Title", "",
        "-- COMMAND ----------", "", "SELECT 1 AS a;", "", "-- COMMAND ----------", "-- just a comment", "",
        "-- COMMAND ----------", "SELECT 2 AS b");
    assertEquals(java.util.List.of("SELECT 1 AS a", "SELECT 2 AS b"), NotebookCells.statements(notebook));
  }
}
