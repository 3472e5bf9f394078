package dev.churn.testing;

import com.holdenkarau.spark.testing.JavaDataFrameSuiteBase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * One Spark session per test class (local[2], UI off, UTC, Delta enabled), created through spark-testing-base
 * so tests can use its DataFrame comparisons from plain JUnit 5.
 *
 * <p>Test sessions evaluate expressions interpreted ({@link #INTERPRETED}): on fixtures of a few hundred rows,
 * compiling each plan with Janino was the largest single cost of a test JVM (31 % of its CPU samples in a
 * profiled end-to-end class), far more than evaluating the rows. Results are the same by Spark's contract (its
 * own suites run both ways). The product's sessions choose per stage by the rows it reads (the jobs module's
 * {@code CodeGeneration}, which leaves a session launched with a setting, as these are, as it is), and so do the
 * tests that run the packaged product (ClusterIT, BenchRunIT); a class on a large log ({@code CdnowIngestTest})
 * switches code generation back on with {@link #compiled()}. In-memory columnar caches are built uncompressed, which is
 * cheaper for small data.
 */
public abstract class SparkSuite {
  protected static Suite suite;
  protected static SparkSession spark;

  /** spark-testing-base's suite, configured for this project. */
  public static final class Suite extends JavaDataFrameSuiteBase {
    @Override
    public boolean enableHiveSupport() {
      return false;
    }

    @Override
    public SparkConf conf() {
      return new SparkConf()
          .setMaster("local[2]")
          .setAppName("churn-test")
          .set("spark.ui.enabled", "false")
          .set("spark.driver.bindAddress", "127.0.0.1")
          .set("spark.driver.host", "127.0.0.1")
          .set("spark.sql.session.timeZone", "UTC")
          .set("spark.sql.shuffle.partitions", "4")
          .set("spark.default.parallelism", "2")
          .set("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
          .set("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
          .set("spark.databricks.delta.snapshotPartitions", "2")
          .set("spark.sql.sources.parallelPartitionDiscovery.parallelism", "2")
          // As the product's sessions (SparkSessions): ICU's case mapping costs seconds of start-up per JVM.
          .set("spark.sql.icu.caseMappings.enabled", "false")
          // As the product's sessions (SparkSessions.EXPLAIN_MODE).
          .set("spark.sql.ui.explainMode", "simple")
          .set("spark.sql.inMemoryColumnarStorage.compressed", "false")
          .setAll(scala.jdk.javaapi.CollectionConverters.asScala(INTERPRETED))
          .setAll(scala.jdk.javaapi.CollectionConverters.asScala(localFileSystems()));
    }
  }

  /**
   * The product's local file system settings ({@code dev.churn.jobs.warehouse.LocalFileSystems}: no chmod process
   * per file written), in the modules whose class path holds it; none in the modules below {@code jobs}.
   */
  @SuppressWarnings("unchecked")
  static java.util.Map<String, String> localFileSystems() {
    try {
      return (java.util.Map<String, String>) Class.forName("dev.churn.jobs.warehouse.LocalFileSystems")
          .getField("SETTINGS").get(null);
    } catch (ReflectiveOperationException e) {
      return java.util.Map.of();
    }
  }

  /** The settings that make a session evaluate interpreted: no whole-stage or expression code generation. */
  public static final java.util.Map<String, String> INTERPRETED = java.util.Map.of(
      "spark.sql.codegen.wholeStage", "false",
      "spark.sql.codegen.factoryMode", "NO_CODEGEN");

  /** Switches this class's session back to code generation, for a class whose data is large enough to pay. */
  protected static void compiled() {
    spark.conf().set("spark.sql.codegen.wholeStage", "true");
    spark.conf().set("spark.sql.codegen.factoryMode", "FALLBACK");
  }

  @BeforeAll
  static void startSpark() {
    suite = new Suite();
    suite.runBefore();
    spark = suite.spark();
  }

  @AfterAll
  static void stopSpark() {
    JavaDataFrameSuiteBase.runAfterClass();
    spark = null;
  }

  /**
   * Same rows in any order, same schema (spark-testing-base): names, types and nullability, not the columns'
   * metadata (a table's columns carry their comments there, a frame built in a test does not).
   */
  protected static void assertSameRows(Dataset<Row> expected, Dataset<Row> actual) {
    suite.assertDataFrameNoOrderEquals(withoutMetadata(expected), withoutMetadata(actual));
  }

  private static Dataset<Row> withoutMetadata(Dataset<Row> frame) {
    return frame.select(java.util.Arrays.stream(frame.columns())
        .map(c -> frame.col("`" + c + "`").as(c, org.apache.spark.sql.types.Metadata.empty()))
        .toArray(org.apache.spark.sql.Column[]::new));
  }

  /**
   * The rows of {@code actual} equal {@code expected} in any order, with {@code schema}'s names and types
   * (nullability aside: tables declare NOT NULL columns, in-memory fixtures do not).
   */
  protected static void assertRows(java.util.List<Row> expected, org.apache.spark.sql.types.StructType schema,
      Dataset<Row> actual) {
    Dataset<Row> typed = actual.selectExpr(java.util.Arrays.stream(schema.fields())
        .map(f -> "cast(`" + f.name() + "` as " + f.dataType().sql() + ") as `" + f.name() + "`").toArray(String[]::new));
    assertSameRows(spark.createDataFrame(expected, schema), spark.createDataFrame(typed.collectAsList(), schema));
  }

  protected static Path tempDir(String prefix) {
    try {
      Path base = Path.of(System.getProperty("java.io.tmpdir"));
      Files.createDirectories(base);
      return Files.createTempDirectory(base, prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The repository root (set by the build), for files shipped with the project such as mappings. */
  public static Path repoRoot() {
    String root = System.getProperty("churn.repo.root");
    return root == null ? Path.of("..").toAbsolutePath().normalize() : Path.of(root);
  }
}
