package dev.churn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.ChurnException;
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

  /** #30: exit codes are declared once (ChurnException.MEANINGS); each help lists them, the README's table is them. */
  @Test
  void theExitCodesOfTheHelpAndTheReadmeAreTheDeclaredOnes() throws java.io.IOException {
    for (String[] help : new String[][] {{"--help"}, {"nightly", "--help"}}) {
      String out = cli(help).out();
      assertTrue(out.contains("Exit codes:"), out);
      String words = out.replaceAll("\\s+", " "); // the help wraps long lines
      ChurnException.MEANINGS.forEach((code, meaning) -> assertTrue(words.contains(" " + code + " " + meaning + " "),
          code + " " + meaning + " in\n" + out));
      assertEquals(1, out.split("Exit codes", -1).length - 1, "one list of exit codes:\n" + out);
    }
    String table = ChurnException.markdownTable();
    assertTrue(java.nio.file.Files.readString(repoRoot().resolve("README.md")).contains(table),
        "the README's exit codes are:\n" + table);
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
    CliRun nothing = cli("--warehouse", wh.toString(), "ingest");
    assertEquals(2, nothing.exitCode());
    assertTrue(nothing.err().startsWith("churn: give --events PATH, --interventions PATH or both"), nothing.err());
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
  void aBadPlaybookOrHoldoutShareIsOneLineAndExitTwoBeforeAnythingRuns() {
    Path dir = tempDir("cli-playbook");
    Path book = write(dir.resolve("typo.playbook"), java.util.List.of("# a typo", "resolve = tikets"));
    String wh = dir.resolve("wh").toString();
    CliRun typo = cli("--warehouse", wh, "retention", "--from", "2026-01-01", "--to", "2026-01-31", "--playbook",
        book.toString());
    assertEquals(2, typo.exitCode(), typo.err());
    assertEquals("churn: " + book + " line 2: 'tikets' starts the name of no feature (docs/features.md) (see 'churn "
        + "retention --help')\n", typo.err());
    CliRun missing = cli("--warehouse", wh, "demo", "--playbook", dir.resolve("none").toString());
    assertEquals(2, missing.exitCode(), missing.err());
    assertTrue(missing.err().startsWith("churn: cannot read playbook file "), missing.err());
    CliRun share = cli("--warehouse", wh, "nightly", "--date", "2026-06-01", "--events", wh, "--holdout-share", "0.6");
    assertEquals(2, share.exitCode(), share.err());
    assertTrue(share.err().startsWith("churn: --holdout-share must be between 0 and 0.5, not 0.6"), share.err());
    assertFalse(java.nio.file.Files.exists(dir.resolve("wh")), "nothing was created");
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

  /** #32: a misspelt query shows Spark's own message (its first line was blank, so nothing was shown). */
  @Test
  void aQueryThatDoesNotParseShowsSparksMessage() {
    CliRun r = cli("--warehouse", tempDir("cli-parse").toString(), "sql", "SELEC count(*) FRM churn.events");
    assertEquals(1, r.exitCode());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().startsWith("churn: SQL error: [PARSE_SYNTAX_ERROR]"), r.err());
  }

  /**
   * #32: sql only reads. A DELETE (or any write) is refused before it runs, with exit 2; a file read by path is not
   * a table; the shared session gets its setting back; a notebook with a write in a later cell runs nothing.
   */
  @Test
  void sqlRefusesWritesAndFilesByPath() throws Exception {
    String wh = tempDir("cli-ro").toString();
    CliRun delete = cli("--warehouse", wh, "sql", "DELETE FROM churn.events WHERE event_type='cancellation'");
    assertEquals(2, delete.exitCode(), delete.err());
    assertEquals("churn: sql only reads: DeleteFromTable, refused before anything ran (queries, DESCRIBE, SHOW and "
        + "EXPLAIN run); nothing was changed", delete.err().strip());

    Path secret = java.nio.file.Files.writeString(tempDir("cli-secret").resolve("secret.txt"), "hunter2\n");
    CliRun file = cli("--warehouse", wh, "sql", "SELECT * FROM text.`" + secret + "`");
    assertEquals(1, file.exitCode(), file.out());
    assertTrue(!file.out().contains("hunter2") && file.err().startsWith("churn: SQL error: "), file.err());
    assertEquals("true", spark.conf().get("spark.sql.runSQLOnFiles"), "the shared session's setting is restored");

    Path notebook = java.nio.file.Files.writeString(tempDir("cli-nb").resolve("nb.sql"),
        "SELECT 1 AS a\n-- COMMAND ----------\nINSERT OVERWRITE DIRECTORY '" + wh + "/models' USING json SELECT 1 AS x");
    CliRun cells = cli("--warehouse", wh, "sql", "--file", notebook.toString());
    assertEquals(2, cells.exitCode(), cells.err());
    assertTrue(cells.err().startsWith("churn: sql only reads: cell 2 is InsertIntoDir"), cells.err());
    assertEquals("", cells.out(), "no cell ran");

    CliRun rows = cli("--warehouse", wh, "sql", "SELECT 1", "--max-rows", "-5");
    assertEquals(2, rows.exitCode(), rows.err());
    assertTrue(rows.err().contains("--max-rows must be at least 1"), rows.err());
  }

  /** #32: generate into a warehouse is a usage error that changes nothing. */
  @Test
  void generateRefusesAWarehouse() throws Exception {
    Path wh = tempDir("cli-gen-wh");
    Path log = java.nio.file.Files.createDirectories(wh.resolve("events/_delta_log")).resolve("00000000000000000000.json");
    java.nio.file.Files.writeString(log, "{}\n");
    CliRun r = cli("generate", "--out", wh.toString(), "--customers", "10", "--days", "5", "--start", "2026-01-01",
        "--seed", "1");
    assertEquals(2, r.exitCode(), r.err());
    assertTrue(r.err().contains("holds events, which the generator did not write"), r.err());
    assertEquals("{}\n", java.nio.file.Files.readString(log), "the table is untouched");
  }

  /** #32: a numeric option that no later stage can carry is a usage error before anything is opened. */
  @Test
  void nonFiniteOrNegativeNumbersAreUsageErrors() {
    String wh = tempDir("cli-num").toString();
    CliRun nan = cli("--warehouse", wh, "nightly", "--date", "2026-06-01", "--events", wh, "--retrain-tolerance", "NaN");
    assertEquals(2, nan.exitCode(), nan.err());
    assertTrue(nan.err().contains("--retrain-tolerance a number in [0, 1]"), nan.err());
    CliRun wait = cli("--warehouse", wh, "--lock-wait-minutes", "-1", "sql", "SELECT 1");
    assertEquals(2, wait.exitCode(), wait.err());
    assertTrue(wait.err().contains("--lock-wait-minutes must be zero or more"), wait.err());
  }

  /** --retrain and --no-train contradict each other: a usage error before the warehouse is opened. */
  @Test
  void retrainAndNoTrainTogetherAreAUsageError() {
    String wh = tempDir("cli-train").toString();
    CliRun both = cli("--warehouse", wh, "nightly", "--date", "2026-06-01", "--events", wh, "--retrain", "--no-train");
    assertEquals(2, both.exitCode(), both.err());
    assertTrue(both.err().contains("--retrain and --no-train ask for opposite things"), both.err());
  }

  /** #32: carriage returns and NULs inside values would split a TSV row, as tabs and line feeds would. */
  @Test
  void valuesNeverBreakATsvRow() {
    CliRun r = cli("--warehouse", tempDir("cli-tsv").toString(), "sql",
        "SELECT concat('a', char(13), 'b', char(0), 'c', char(9), 'd', char(10), 'e') AS v");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals("v\na b c d e\n", r.out());
  }

  @Test
  void notebookCellsAreSplitAndMarkdownIsSkipped() {
    String notebook = String.join("\n", "-- Databricks notebook source", "-- MAGIC %md", "-- MAGIC # Title", "",
        "-- COMMAND ----------", "", "SELECT 1 AS a;", "", "-- COMMAND ----------", "-- just a comment", "",
        "-- COMMAND ----------", "SELECT 2 AS b");
    assertEquals(java.util.List.of("SELECT 1 AS a", "SELECT 2 AS b"), NotebookCells.statements(notebook));
  }
}
