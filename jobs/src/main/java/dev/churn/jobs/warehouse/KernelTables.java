package dev.churn.jobs.warehouse;

import io.delta.kernel.data.FilteredColumnarBatch;
import io.delta.kernel.defaults.engine.DefaultEngine;
import io.delta.kernel.engine.Engine;
import io.delta.kernel.internal.InternalScanFileUtils;
import io.delta.kernel.internal.ScanImpl;
import io.delta.kernel.utils.CloseableIterator;
import io.delta.spark.internal.v2.catalog.DeltaV2Table;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * What Delta Kernel answers about a table in the driver, with no Spark job: its rows as a frame ({@link Source}),
 * its partition values ({@link #partitionValues}) and its row count ({@link #rowCount}). Delta's own path reader
 * (format {@code delta}) reconstructs a table's state and filters its files with Spark jobs, one to three per read:
 * a quarter of a night's jobs on the demo warehouse, for the same rows.
 *
 * <p>Danger: both use classes of Delta's {@code internal} packages ({@code DeltaV2Table}, the Kernel-based,
 * read-only connector shipped in delta-spark; Kernel's {@code ScanImpl}), which may change with any Delta release.
 * {@link Warehouse} falls back to Delta's path reader when Kernel cannot load a table or list its files; a failure
 * after loading (planning a scan, reading a file) is not caught. Rows come in the order of the commits that wrote
 * their files, not of the files' sizes as with Delta's reader: training reads with the latter
 * ({@link Warehouse#readInContentOrder}).
 */
public final class KernelTables {
  private KernelTables() {}

  /**
   * A Spark data source reading a Delta table with {@code DeltaV2Table}: its log replay and file pruning run in the
   * driver. A frame read this way is pinned to the table version current when it was made: a later commit, by this
   * run or another, does not change it (Delta's path reader re-resolves the latest version at each action). Writes,
   * MERGE and the session catalog's {@code churn.<name>} tables still go through Delta's own connector.
   */
  public static final class Source implements TableProvider {
    /** Spark makes one provider per read: the table is loaded once, for its schema and for the scan. */
    private DeltaV2Table table;

    private DeltaV2Table table(Map<String, String> options) {
      if (table == null) {
        String path = options.get("path");
        table = new DeltaV2Table(Identifier.of(new String[] {"delta"}, path), path);
      }
      return table;
    }

    @Override
    public StructType inferSchema(CaseInsensitiveStringMap options) {
      return table(options).schema();
    }

    @Override
    public Transform[] inferPartitioning(CaseInsensitiveStringMap options) {
      return table(options).partitioning();
    }

    @Override
    public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
      return table(properties);
    }
  }

  private static final Pattern NUM_RECORDS = Pattern.compile("\"numRecords\":(\\d+)");

  /** The statistics (JSON) of a scan file row's AddFile, or null when it has none. */
  static String stats(io.delta.kernel.data.Row file) {
    io.delta.kernel.data.Row add = file.getStruct(InternalScanFileUtils.ADD_FILE_ORDINAL);
    return add.isNullAt(InternalScanFileUtils.ADD_FILE_STATS_ORDINAL) ? null
        : add.getString(InternalScanFileUtils.ADD_FILE_STATS_ORDINAL);
  }

  /** The rows a file's statistics (its AddFile's {@code stats}, null: none) count, or null when they do not. */
  static Long records(String stats) {
    Matcher records = stats == null ? null : NUM_RECORDS.matcher(stats);
    return records != null && records.find() ? Long.valueOf(records.group(1)) : null;
  }

  /**
   * One file of a table's latest snapshot: its partition values and its row count (null without statistics, or
   * with a deletion vector).
   */
  private record DataFile(Map<String, String> partition, Long records) {}

  /** Visits the files of the latest snapshot of the table at {@code path}, from its log (no Spark job). */
  private static void files(SparkSession spark, String path, java.util.function.Consumer<DataFile> visit) {
    scanFiles(spark, path, -1, file ->
        // A file with deleted rows (a deletion vector) holds fewer rows than its statistics count.
        visit.accept(new DataFile(InternalScanFileUtils.getPartitionValues(file),
            InternalScanFileUtils.getDeletionVectorDescriptorFromRow(file) == null ? records(stats(file)) : null)));
  }

  /**
   * Visits Kernel's scan file rows (each an AddFile with its statistics) of version {@code version} (-1: the latest)
   * of the table at {@code path}, from its log in the driver.
   */
  static void scanFiles(SparkSession spark, String path, long version,
      java.util.function.Consumer<io.delta.kernel.data.Row> visit) {
    Engine engine = DefaultEngine.create(spark.sparkContext().hadoopConfiguration());
    io.delta.kernel.Table table = io.delta.kernel.Table.forPath(engine, path);
    ScanImpl scan = (ScanImpl) (version < 0 ? table.getLatestSnapshot(engine)
        : table.getSnapshotAsOfVersion(engine, version)).getScanBuilder().build();
    try (CloseableIterator<FilteredColumnarBatch> batches = scan.getScanFiles(engine, true)) {
      while (batches.hasNext()) {
        try (CloseableIterator<io.delta.kernel.data.Row> files = batches.next().getRows()) {
          files.forEachRemaining(visit);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the files of " + path, e);
    }
  }

  /**
   * The values of {@code column} (a partition column) over the files of the table at {@code path} that hold rows,
   * sorted as text: the answer of {@code SELECT DISTINCT column}, read from the log's file list (statistics say
   * which files are empty; a file without statistics counts as holding rows) instead of from the data; a null
   * partition value is left out, as MIN and MAX leave it out.
   */
  static TreeSet<String> partitionValues(SparkSession spark, String path, String column) {
    TreeSet<String> values = new TreeSet<>();
    files(spark, path, f -> {
      String value = f.partition().get(column);
      if (value != null && (f.records() == null || f.records() > 0)) {
        values.add(value);
      }
    });
    return values;
  }

  /**
   * The rows of the table at {@code path}, summed from its files' statistics in the log (no Spark job), or null
   * when a file has none (a table written without statistics).
   */
  static Long rowCount(SparkSession spark, String path) {
    long[] sum = {0};
    boolean[] unknown = {false};
    files(spark, path, f -> {
      if (f.records() == null) {
        unknown[0] = true;
      } else {
        sum[0] += f.records();
      }
    });
    return unknown[0] ? null : sum[0];
  }
}
