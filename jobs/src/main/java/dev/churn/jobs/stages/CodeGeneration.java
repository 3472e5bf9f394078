package dev.churn.jobs.stages;

import java.util.function.Supplier;
import org.apache.spark.sql.RuntimeConfig;
import org.apache.spark.sql.SparkSession;

/**
 * Whether a stage's queries are compiled to Java (Spark's whole-stage and expression code generation, its default)
 * or evaluated interpreted, by the rows the stage reads. Compiling costs Janino time for every plan shape before
 * the first row is read; a night's stages on a few thousand customers are done sooner interpreted, while a pass over
 * hundreds of thousands of rows (a history ingest, its rollup, the snapshots a training builds from the lookback) is
 * faster compiled. The results are the same either way (Spark's contract: its own suites run both; the tests' sessions
 * evaluate interpreted and are compared with the product's).
 *
 * <p>Measured on 2 cores (2026-12-06), the demo's warehouse of 2,000 customers: a night with late events on the day
 * before (two snapshots rebuilt, one from the lookback over 197,475 rollup rows), every stage interpreted: 62.1 and
 * 64.4 s against 71.6 and 82.9 s compiled, runs alternated, each of its eleven stages faster, the scores identical.
 * The same night with only its lookback compiled: its features stage 21.2 to 24.4 s against 16.0 and 16.2 s
 * interpreted (15.3 and 19.3 s compiled throughout): a JVM's first compilations also pay for Janino's own warm-up.
 * The demo's history passes interpreted: the rollup of 820,999 events 17.0 s against 10.8 s, six training snapshots
 * from the lookback (up to 1.2 million rollup rows) 26.4 s against 19.3 s, the ingest 60.0 s against 57.5 s; its
 * training on 8,150 rows 28.9 s against 33.0 s. CDNOW's training (23,570 customers, 8 dates, 6 grid points) 149.8 s
 * interpreted against 135.4 s compiled, the same model: a training counts its rows once per grid point.
 *
 * <p>Defaults: interpreted below {@link #COMPILED_FROM_ROWS} rows, between the largest pass measured faster interpreted
 * (one lookback over 197,475 rows) and the smallest measured faster compiled (the rollup of 820,999 events); a training
 * on 20,000 customers (bench's {@code m}, 960,000 rows by that count) stays compiled. A session whose launch
 * configuration sets {@code spark.sql.codegen.wholeStage} or {@code spark.sql.codegen.factoryMode}
 * ({@code spark-submit --conf}, or {@code -D} through {@code CHURN_JAVA_OPTS}) keeps its settings for every stage:
 * {@code wholeStage=false} with {@code factoryMode=NO_CODEGEN} is interpreted throughout. Danger: the setting is the
 * session's, changed for the stage and restored after it: a query another thread runs meanwhile gets it too (churn
 * runs one stage at a time; a training's concurrent fits run inside its stage).
 */
final class CodeGeneration {
  private CodeGeneration() {}

  /** The rows from which a stage compiles its plans (500,000). */
  static final long COMPILED_FROM_ROWS = 500_000;

  /**
   * An estimate of the records in raw files of {@code bytes} (uncompressed; {@link RawLogReader#bytes}): a JSON
   * event line is about 130 bytes, a CSV one 40, and a Parquet record takes fewer bytes than its text.
   */
  static long records(long bytes, String format) {
    return bytes / ("parquet".equals(format) ? 20 : 50);
  }

  private static final String WHOLE_STAGE = "spark.sql.codegen.wholeStage";
  private static final String FACTORY_MODE = "spark.sql.codegen.factoryMode";

  /** Runs {@code stage} compiled when it reads at least {@link #COMPILED_FROM_ROWS} rows, else interpreted. */
  static <T> T forRows(SparkSession spark, long rows, Supplier<T> stage) {
    org.apache.spark.SparkConf launch = spark.sparkContext().getConf();
    return forRows(spark.conf(), launch.contains(WHOLE_STAGE) || launch.contains(FACTORY_MODE), rows, stage);
  }

  /** As above on {@code conf}; {@code launchSetting}: the session was started with a setting of its own, kept. */
  static <T> T forRows(RuntimeConfig conf, boolean launchSetting, long rows, Supplier<T> stage) {
    if (launchSetting) {
      return stage.get();
    }
    boolean compiled = rows >= COMPILED_FROM_ROWS;
    String wholeStage = conf.get(WHOLE_STAGE, "true");
    String factoryMode = conf.get(FACTORY_MODE, "FALLBACK");
    conf.set(WHOLE_STAGE, String.valueOf(compiled));
    conf.set(FACTORY_MODE, compiled ? "FALLBACK" : "NO_CODEGEN");
    try {
      return stage.get();
    } finally {
      conf.set(WHOLE_STAGE, wholeStage);
      conf.set(FACTORY_MODE, factoryMode);
    }
  }
}
