package dev.churn.jobs;

import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.LocalFileSystems;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Builds the one SparkSession a command runs in. The master and resources come from spark-submit or from the
 * local launcher ({@code -Dspark.master=local[*]}), never from here; this only adds what correctness needs:
 * Delta's extension and catalog, and UTC as the session time zone so event dates do not depend on the host.
 */
public final class SparkSessions {
  private SparkSessions() {}

  /**
   * How each query's plan is described for the Spark UI's SQL tab: {@code simple} (the physical plan, as
   * {@code EXPLAIN} prints it) instead of Spark's {@code formatted}. Spark writes the description on the driver for
   * every query, and once more for every plan update of adaptive execution, whether or not a UI or event log
   * reads it: for the window state's plans (hundreds of aggregates) a formatted description is 40,000-110,000
   * characters and took 2-8 ms in a warm JVM against 0.5-1.5 ms simple (up to 13 ms against 1.3 ms in the first
   * calls). In a profiled test of twelve nights (NightsEqualAtOnceTest), formatting plans was 5.3 % of the driver
   * thread's CPU samples. {@code --conf spark.sql.ui.explainMode=formatted} brings Spark's back.
   */
  static final String EXPLAIN_MODE = "spark.sql.ui.explainMode";

  public static SparkSession create(String appName, Map<String, String> extraConf) {
    SparkConf conf = new SparkConf(true);
    if (!conf.contains("spark.master")) {
      throw new ChurnException(ChurnException.FAILURE,
          "no Spark master is set: run through ./churn (local) or spark-submit (cluster)");
    }
    SparkSession.Builder builder = SparkSession.builder()
        .config(conf)
        .appName(appName)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", conf.get("spark.sql.shuffle.partitions", "16"))
        // Delta rebuilds table state with 50 tasks by default, which dominates small nightly commits.
        .config("spark.databricks.delta.snapshotPartitions", conf.get("spark.databricks.delta.snapshotPartitions", "4"))
        // lower() through ICU first builds ICU's word break iterators: about 5 s of CPU in every run (profiled on
        // a night), for event types and severities that are ASCII. The JVM's case mapping gives the same result.
        .config("spark.sql.icu.caseMappings.enabled", conf.get("spark.sql.icu.caseMappings.enabled", "false"))
        .config(EXPLAIN_MODE, conf.get(EXPLAIN_MODE, "simple"));
    // The local file system without a chmod and a readlink process per file written (LocalFileSystems).
    LocalFileSystems.SETTINGS.forEach((k, v) -> builder.config(k, conf.get(k, v)));
    extraConf.forEach(builder::config);
    return builder.getOrCreate();
  }
}
