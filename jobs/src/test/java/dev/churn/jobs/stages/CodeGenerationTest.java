package dev.churn.jobs.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.churn.testing.SparkSuite;
import org.apache.spark.sql.RuntimeConfig;
import org.junit.jupiter.api.Test;

/** A stage below the threshold runs interpreted, one at or above it compiled; the session's setting comes back. */
class CodeGenerationTest extends SparkSuite {
  private static String mode(RuntimeConfig conf) {
    return conf.get("spark.sql.codegen.wholeStage") + "/" + conf.get("spark.sql.codegen.factoryMode");
  }

  @Test
  void theRowsChooseTheModeForTheStageOnlyAndALaunchSettingIsKept() {
    RuntimeConfig conf = spark.newSession().conf();
    conf.set("spark.sql.codegen.wholeStage", "true");
    conf.set("spark.sql.codegen.factoryMode", "FALLBACK");
    long small = CodeGeneration.COMPILED_FROM_ROWS - 1;
    assertEquals("false/NO_CODEGEN", CodeGeneration.forRows(conf, false, small, () -> mode(conf)));
    assertEquals("true/FALLBACK", mode(conf), "restored after the stage");
    conf.set("spark.sql.codegen.wholeStage", "false");
    conf.set("spark.sql.codegen.factoryMode", "NO_CODEGEN");
    assertEquals("true/FALLBACK", CodeGeneration.forRows(conf, false, small + 1, () -> mode(conf)));
    assertEquals("false/NO_CODEGEN", mode(conf), "restored after the stage");
    assertThrows(IllegalStateException.class, () -> CodeGeneration.forRows(conf, false, 0, () -> {
      conf.set("spark.sql.codegen.wholeStage", "true");
      throw new IllegalStateException("a stage that fails");
    }));
    assertEquals("false/NO_CODEGEN", mode(conf), "restored after a stage that failed");
    // A setting given at launch (as the tests' sessions give one) holds for every stage.
    assertEquals("false/NO_CODEGEN", CodeGeneration.forRows(conf, true, Long.MAX_VALUE, () -> mode(conf)));
    assertEquals("false/NO_CODEGEN", CodeGeneration.forRows(spark, Long.MAX_VALUE, () -> mode(spark.conf())));
  }
}
