package dev.churn.jobs.warehouse;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.SparkSession;

/**
 * A warehouse's Delta logs read as files on the driver, without Spark or Delta: the latest version of a table from
 * its log's listing, the metrics its latest commit recorded. What a command asks of a log often enough that a Spark
 * job each (Delta's history) would be most of its cost; {@link WarehouseIntegrity} checks the logs with the same
 * reads. A listing per call: nothing is cached, so another process's commit is always seen.
 */
final class DeltaLogFiles {
  private final Warehouse warehouse;
  private final SparkSession spark;
  private final String root;

  DeltaLogFiles(Warehouse warehouse) {
    this.warehouse = warehouse;
    this.spark = warehouse.spark();
    this.root = warehouse.root();
  }

  /** The folder of a table that holds its Delta log. */
  static final String LOG = "_delta_log";

  /** {@code table}'s Delta log folder. */
  org.apache.hadoop.fs.Path logOf(Table table) {
    return new org.apache.hadoop.fs.Path(warehouse.path(table), LOG);
  }

  /** The latest committed version of each table that has a Delta log (its newest commit file), by listing. */
  Map<Table, Long> latestVersions() {
    Map<Table, Long> out = new java.util.EnumMap<>(Table.class);
    for (Table t : Table.values()) {
      long latest = latestVersion(t);
      if (latest >= 0) {
        out.put(t, latest);
      }
    }
    return out;
  }

  /** The latest committed version of {@code table}, from its log's listing (no Spark job); -1 without a log. */
  long latestVersion(Table table) {
    try {
      FileSystem fs = new org.apache.hadoop.fs.Path(root).getFileSystem(spark.sparkContext().hadoopConfiguration());
      long latest = -1;
      try {
        for (FileStatus f : fs.listStatus(logOf(table))) {
          latest = Math.max(latest, commitVersion(f.getPath().getName()));
        }
      } catch (java.io.FileNotFoundException e) { // no such table yet
      }
      return latest;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot list the tables of " + root, e);
    }
  }

  /**
   * The operation metrics of {@code table}'s latest commit (its {@code commitInfo}, as {@code DESCRIBE HISTORY}
   * shows them), read from the commit file on the driver: no Spark job. Empty when the commit records none.
   */
  Map<String, String> latestCommitMetrics(Table table) {
    long version = latestVersion(table);
    if (version < 0) {
      throw new IllegalStateException("table " + table.tableName() + " has no commit");
    }
    org.apache.hadoop.fs.Path log = logOf(table);
    try {
      FileSystem fs = log.getFileSystem(spark.sparkContext().hadoopConfiguration());
      Map<String, String> metrics = new java.util.HashMap<>();
      for (String action : read(fs, versionFile(log, version, "json")).split("\n")) {
        if (action.startsWith("{\"commitInfo\"")) {
          MAPPER.readTree(action).path("commitInfo").path("operationMetrics").fields()
              .forEachRemaining(e -> metrics.put(e.getKey(), e.getValue().asText()));
        }
      }
      return metrics;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot read the latest commit of " + table.tableName(), e);
    }
  }

  /** The version a Delta log file name commits ({@code 00000000000000000012.json}: 12), or -1 for any other file. */
  static long commitVersion(String name) {
    return name.matches("\\d{20}\\.json") ? Long.parseLong(name.substring(0, 20)) : -1;
  }

  static org.apache.hadoop.fs.Path versionFile(org.apache.hadoop.fs.Path log, long version, String ext) {
    return new org.apache.hadoop.fs.Path(log, String.format(java.util.Locale.ROOT, "%020d.%s", version, ext));
  }

  static String read(FileSystem fs, org.apache.hadoop.fs.Path file) throws IOException {
    try (java.io.InputStream in = fs.open(file)) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  static final ObjectMapper MAPPER = new ObjectMapper();
}
