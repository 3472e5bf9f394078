package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.SparkSuite;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.LocalDate;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** run_log keeps what each stage cost: its Spark jobs, and on the command's row its Delta commits (#28). */
class RunLogTest extends SparkSuite {

  @Test
  void eachStageRowCountsItsSparkJobsAndTheOuterRowTheCommandsCommits() {
    Warehouse w = new Warehouse(spark, tempDir("runlog-wh").toString());
    StringWriter console = new StringWriter();
    RunLog log = new RunLog(w, "test", LocalDate.parse("2026-03-02"), new PrintWriter(console, true));
    log.stage("outer", () -> {
      spark.range(10).collectAsList();
      log.stage("inner", () -> {
        spark.range(5).collectAsList();
        spark.range(6).collectAsList();
        return RunLog.StageResult.of(0, 0);
      });
      assertEquals("test:outer", spark.sparkContext().getLocalProperty("spark.jobGroup.id"),
          "the inner stage gives its parent's job label back");
      w.ensure(Table.SOURCE_SETTINGS); // one commit: the table's first
      return RunLog.StageResult.of(0, 0);
    });
    assertEquals(null, spark.sparkContext().getLocalProperty("spark.jobGroup.id"), "no label left after the command");
    Row inner = w.read(Table.RUN_LOG).where(col("stage").equalTo("inner")).first();
    Row outer = w.read(Table.RUN_LOG).where(col("stage").equalTo("outer")).first();
    assertEquals(2L, inner.<Long>getAs(Table.Schemas.SPARK_JOBS));
    assertTrue(inner.isNullAt(inner.fieldIndex(Table.Schemas.DELTA_COMMITS)),
        "commits are the command's, on its outer row");
    assertTrue(outer.<Long>getAs(Table.Schemas.SPARK_JOBS) >= 3, "its own job, the inner two, and the write's");
    assertEquals(2L, outer.<Long>getAs(Table.Schemas.DELTA_COMMITS), "source_settings' first commit and run_log's");
    assertTrue(console.toString().contains("[test] outer done in ") && console.toString().contains(
        " Spark jobs, 2 Delta commits"), console.toString());
  }
}
