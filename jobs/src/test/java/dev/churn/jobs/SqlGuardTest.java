package dev.churn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.testing.SparkSuite;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code churn sql}'s read-only rule on Spark's (and Delta's) parsed plans: no warehouse, nothing runs. */
class SqlGuardTest extends SparkSuite {

  /** A Delta table churn.events, so that statements over it analyse as they would over a warehouse. */
  @org.junit.jupiter.api.BeforeAll
  static void aTable() {
    spark.sql("CREATE DATABASE IF NOT EXISTS churn");
    spark.sql("CREATE TABLE churn.events USING delta LOCATION '" + tempDir("guard-events") + "/events' AS "
        + "SELECT 'e1' AS event_id, 'login' AS event_type, 1.0 AS amount");
  }

  @org.junit.jupiter.api.AfterAll
  static void dropIt() {
    spark.sql("DROP TABLE IF EXISTS churn.events");
  }

  private static String refusal(String statement) throws Exception {
    return SqlGuard.refusal(spark, statement);
  }

  @Test
  void queriesAndInspectionRun() throws Exception {
    for (String ok : List.of("SELECT 1", "select count(*) from churn.events where event_type = 'login'",
        "WITH x AS (SELECT 1 AS a) SELECT * FROM x UNION ALL SELECT 2", "VALUES (1, 'a')", "TABLE churn.events",
        "SELECT * FROM churn.events VERSION AS OF 0", "SELECT * FROM range(3) WHERE id IN (SELECT 1)",
        "DESCRIBE churn.events", "DESCRIBE TABLE EXTENDED churn.events event_type",
        "DESCRIBE HISTORY churn.events", "DESCRIBE DETAIL churn.events", "SHOW TABLES IN churn",
        "SHOW COLUMNS IN churn.events", "SHOW TBLPROPERTIES churn.events", "SHOW FUNCTIONS",
        "SELECT a, count(*) FROM t GROUP BY ROLLUP(a)", "SELECT * FROM t PIVOT (sum(x) FOR y IN (1, 2))",
        "SELECT * FROM t LATERAL VIEW explode(array(1)) x AS y", "SELECT /*+ BROADCAST(t) */ * FROM t SORT BY a",
        "SELECT a, rank() OVER w FROM t WINDOW w AS (PARTITION BY a ORDER BY b)", "FROM t |> WHERE a > 1 |> SELECT a",
        "SELECT * FROM t LIMIT 5 OFFSET 2", "SELECT * FROM t, LATERAL (SELECT t.a)",
        "EXPLAIN SELECT 1", "-- a comment first\nSELECT 'DELETE FROM churn.events' AS text")) {
      assertNull(refusal(ok), ok);
    }
  }

  /** Every cell of the shipped notebooks, which analysts run with {@code churn sql --file}. */
  @Test
  void everyShippedNotebookCellRuns() throws Exception {
    int cells = 0;
    try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(repoRoot().resolve("notebooks"))) {
      for (java.nio.file.Path f : files.filter(p -> p.toString().endsWith(".sql")).toList()) {
        for (String cell : NotebookCells.statements(java.nio.file.Files.readString(f))) {
          assertNull(refusal(cell), f.getFileName() + ": " + cell);
          cells++;
        }
      }
    }
    assertTrue(cells >= 19, "cells checked: " + cells);
  }

  @Test
  void everyStatementThatWritesChangesSettingsOrRunsCodeIsRefused() throws Exception {
    for (String bad : List.of("DELETE FROM churn.events WHERE event_type = 'cancellation'",
        "delete /* hidden */ from churn.events", "UPDATE churn.events SET amount = 0",
        "MERGE INTO churn.events t USING churn.events s ON t.event_id = s.event_id WHEN MATCHED THEN DELETE",
        "INSERT INTO churn.events SELECT * FROM churn.events", "INSERT OVERWRITE TABLE churn.events SELECT 1",
        "INSERT OVERWRITE DIRECTORY '/tmp/wh/models' USING json SELECT 1 AS x",
        "CREATE TABLE t (a INT) USING delta", "CREATE TABLE t USING delta AS SELECT 1 AS a",
        "CREATE TEMPORARY VIEW v USING json OPTIONS (path '/etc')", "CREATE OR REPLACE VIEW churn.v AS SELECT 1",
        "DROP TABLE churn.events", "ALTER TABLE churn.events ADD COLUMNS (x INT)", "TRUNCATE TABLE churn.events",
        "CACHE TABLE churn.events", "UNCACHE TABLE churn.events", "CLEAR CACHE", "REFRESH TABLE churn.events",
        "ANALYZE TABLE churn.events COMPUTE STATISTICS", "SET spark.sql.ansi.enabled = false", "SET", "RESET",
        "USE churn", "ADD JAR /tmp/x.jar", "CREATE FUNCTION f AS 'com.example.F'", "VACUUM churn.events RETAIN 0 HOURS",
        "OPTIMIZE churn.events", "RESTORE TABLE churn.events TO VERSION AS OF 0",
        "CREATE TABLE churn.copy SHALLOW CLONE churn.events", "CALL sys.p()",
        "EXECUTE IMMEDIATE 'DELETE FROM churn.events'", "EXPLAIN DELETE FROM churn.events",
        "SELECT TRANSFORM(event_id) USING 'cat' FROM churn.events",
        "SELECT reflect('java.lang.System', 'exit', 0)", "SELECT JAVA_METHOD('java.lang.System', 'exit', 0)",
        "SELECT * FROM churn.events WHERE EXISTS (SELECT try_reflect('java.lang.System', 'exit', 0))",
        "WITH x AS (SELECT reflect('java.lang.System', 'exit', 0)) SELECT * FROM x",
        "SELECT rank() OVER w FROM range(1) WINDOW w AS (PARTITION BY reflect('java.lang.System', 'exit', 0) ORDER BY id)",
        "INSERT OVERWRITE IDENTIFIER('churn.' || 'events') SELECT * FROM churn.events WHERE false",
        "CREATE TEMPORARY VIEW IDENTIFIER('ev' || 'ents') AS SELECT 1", "SELECT * FROM IDENTIFIER('churn.events')",
        "SELECT IDENTIFIER('ref' || 'lect')('java.lang.System', 'exit', 0)",
        "DESCRIBE HISTORY '/any/table'", "DESCRIBE DETAIL '/any/path'", "DESCRIBE HISTORY delta.`/any/table`",
        "SELECT * FROM table_changes_by_path('/any/table', 0)")) {
      String why = refusal(bad);
      assertNotNull(why, bad);
    }
    assertEquals("DeleteFromTable", refusal("DELETE FROM churn.events"));
    // Delta's RESTORE parses to a plan that is no command (its analysis runs it): not on the query list.
    assertEquals("RestoreTableStatement", refusal("RESTORE TABLE churn.events TO VERSION AS OF 0"));
    assertEquals(1, spark.sql("DESCRIBE HISTORY churn.events").count(), "nothing was restored by checking");
    assertTrue(refusal("SELECT reflect('java.lang.System', 'exit', 0)").contains("reflect"));
  }
}
