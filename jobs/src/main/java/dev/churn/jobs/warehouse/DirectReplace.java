package dev.churn.jobs.warehouse;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.raise_error;
import static org.apache.spark.sql.functions.when;

import io.delta.kernel.internal.InternalScanFileUtils;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Predicate;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.delta.DeltaLog;
import org.apache.spark.sql.delta.DeltaOperations;
import org.apache.spark.sql.delta.OptimisticTransaction;
import org.apache.spark.sql.delta.actions.Action;
import org.apache.spark.sql.delta.actions.AddFile;
import org.apache.spark.sql.delta.actions.FileAction;
import org.apache.spark.sql.delta.actions.RemoveFile;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Replaces rows of a table in one Delta commit whose removed files Delta Kernel lists from the log, in the driver.
 * The new rows' files are written by Delta's own transaction (the table's CHECK constraints, statistics and commit
 * protocol, as any write). Delta's {@code replaceWhere} and {@code DELETE} find the files they remove through the
 * table's whole state, rebuilt by three Spark jobs per write ("Compute snapshot"), count the table's files for a
 * metric the same way, and rewrite a touched file in two more jobs: on the demo warehouse's late night, 56 of its
 * 178 jobs, for tables of a few dozen files (bench/results/night-2026-12-07.md).
 *
 * <p>Two shapes: a table partitioned by one column has whole partitions replaced ({@link #partitions}); a table
 * without partitions is rewritten whole, its kept rows copied beside the new ones ({@link #rows}: meant for the small
 * retention tables, where Delta's rewrite read the same one file).
 *
 * <p>Defaults and dangers: the rows must match the table's schema column for column (names and types in order;
 * the columns' comments stay the table's). A schema change (a new feature), a table with deletion vectors, column
 * mapping, row tracking or a change feed, a log Kernel cannot read (logged), or for {@link #rows} a table path with
 * glob characters (its kept rows are read by path), and {@code OptionalLong.empty()} is returned
 * with nothing written or committed: the caller falls back to Delta's own write. A row outside what it replaces
 * fails the write before the commit, as Delta's {@code replaceWhere} does. The warehouse lock keeps other writers
 * out; Delta's commit still refuses a concurrent commit that conflicts. Uses Kernel's {@code internal} scan classes,
 * as {@link KernelTables} does.
 */
final class DirectReplace {
  private static final org.apache.logging.log4j.Logger LOG =
      org.apache.logging.log4j.LogManager.getLogger(DirectReplace.class);

  private DirectReplace() {}

  /** Table properties under which a file's rows are not all its AddFile says: Delta's own path is kept. */
  private static final List<String> UNSUPPORTED = List.of("delta.enableDeletionVectors", "delta.columnMapping.mode",
      "delta.enableRowTracking", "delta.enableChangeDataFeed");

  /**
   * Replaces the partitions of {@code column} whose value (as the log stores it: a date as {@code yyyy-MM-dd})
   * passes {@code replaced} with {@code rows} (null: deletes them), recording {@code predicate} as the commit's.
   * Returns the rows written (deleted, without rows), or empty when the table needs Delta's own path.
   */
  static OptionalLong partitions(SparkSession spark, String path, String column, Predicate<String> replaced,
      Dataset<Row> rows, String predicate) {
    OptimisticTransaction txn = transaction(spark, path);
    if (!supported(txn, rows == null ? null : rows.schema(), List.of(column))) {
      return OptionalLong.empty();
    }
    List<Removed> removed = files(spark, path, txn.snapshot().version(), p -> replaced.test(p.get(column)));
    if (removed == null) {
      return OptionalLong.empty();
    }
    List<Action> actions = new ArrayList<>(removed.stream().map(Removed::action).toList());
    long written = rows == null ? removed.stream().mapToLong(Removed::records).sum() : write(txn, rows, actions, a -> {
      Option<String> value = a.partitionValues().get(column);
      if (value.isEmpty() || !replaced.test(value.get())) {
        throw new IllegalArgumentException("a row of " + column + " " + (value.isEmpty() ? null : value.get())
            + " lies outside what " + predicate + " replaces in " + path + ": nothing was committed");
      }
    });
    commit(txn, actions, List.of(column), predicate);
    return OptionalLong.of(written);
  }

  /**
   * Replaces the rows of the unpartitioned table at {@code path} that {@code predicate} (SQL) holds for with
   * {@code rows}, which must all satisfy it: every file of the table is removed and the rows it keeps are written
   * again beside the new ones ({@link #ALL}: none kept, the table overwritten). Returns the new rows written, or
   * empty when the table needs Delta's own path.
   */
  static OptionalLong rows(SparkSession spark, String path, Dataset<Row> rows, String predicate) {
    // The kept rows are read by their files' paths, which Spark's file reader expands as globs.
    if (path.matches(".*[\\[\\]{}*?\\\\].*")) {
      return OptionalLong.empty();
    }
    OptimisticTransaction txn = transaction(spark, path);
    if (!supported(txn, rows.schema(), List.of())) {
      return OptionalLong.empty();
    }
    List<Removed> removed = files(spark, path, txn.snapshot().version(), p -> true);
    if (removed == null) {
      return OptionalLong.empty();
    }
    List<Action> actions = new ArrayList<>(removed.stream().map(Removed::action).toList());
    if (predicate.equals(ALL)) {
      long written = write(txn, rows, actions, a -> { });
      commit(txn, actions, List.of(), null);
      return OptionalLong.of(written);
    }
    // A row the predicate is null for is kept, as Delta's DELETE keeps it.
    Column matches = coalesce(expr(predicate), lit(false));
    if (!removed.isEmpty()) {
      StructType schema = txn.metadata().schema();
      org.apache.hadoop.fs.Path table = new org.apache.hadoop.fs.Path(path);
      // The log stores a file's path as a URI relative to the table (or absolute).
      Dataset<Row> stored = spark.read().schema(schema).parquet(removed.stream().map(r -> new org.apache.hadoop.fs.Path(
          table, new org.apache.hadoop.fs.Path(java.net.URI.create(r.action().path()))).toString()).toArray(String[]::new));
      write(txn, stored.where(not(matches)), actions, a -> { });
    }
    // Checked as each new row is written: one outside the predicate fails the write, before any commit.
    String first = rows.columns()[0];
    Dataset<Row> checked = rows.withColumn(first, when(matches, col(first)).otherwise(raise_error(lit(
        "a new row lies outside what " + predicate + " replaces in " + path + ": nothing was committed"))));
    long written = write(txn, checked, actions, a -> { });
    commit(txn, actions, List.of(), predicate);
    return OptionalLong.of(written);
  }

  /**
   * A transaction on the table's latest version that counts as having read all of it: Delta's conflict check fails
   * its commit when another writer's commit since then removed or rewrote files (a blind append does not conflict at
   * Delta's default isolation level, as with Delta's own {@code replaceWhere}). The warehouse lock keeps writers out.
   */
  private static OptimisticTransaction transaction(SparkSession spark, String path) {
    OptimisticTransaction txn = DeltaLog.forTable(spark, path).startTransaction(Option.empty(), Option.empty());
    txn.readWholeTable();
    return txn;
  }

  /** The predicate of {@link #rows} that replaces every row: the table is overwritten, nothing is kept. */
  static final String ALL = "true";

  /** A file to remove, and its rows (0 without statistics). */
  private record Removed(RemoveFile action, long records) {}

  /** Writes {@code rows} in the transaction, checks each new file, adds its actions; returns the rows written. */
  private static long write(OptimisticTransaction txn, Dataset<Row> rows, List<Action> actions,
      java.util.function.Consumer<AddFile> check) {
    long written = 0;
    for (FileAction a : CollectionConverters.asJava(txn.writeFiles(rows))) {
      if (a instanceof AddFile add) {
        check.accept(add);
        Option<Object> records = add.numLogicalRecords();
        written += records.isDefined() ? (Long) records.get() : 0;
      }
      actions.add(a);
    }
    return written;
  }

  /** Commits {@code actions}, if any: a write that removes and adds nothing leaves the table's version as it was. */
  private static void commit(OptimisticTransaction txn, List<Action> actions, List<String> partitionBy,
      String predicate) {
    if (actions.isEmpty()) {
      return;
    }
    txn.commit(CollectionConverters.asScala(actions).toList(), new DeltaOperations.Write(SaveMode.Overwrite,
        partitionBy.isEmpty() ? Option.empty() : Option.apply(CollectionConverters.asScala(partitionBy).toList()),
        Option.apply(predicate), Option.empty(),
        Option.empty(), Option.empty(), Option.empty(), Option.empty(), Option.empty()));
  }

  private static boolean supported(OptimisticTransaction txn, StructType rows, List<String> partitionBy) {
    if (txn.snapshot().version() < 0
        || !CollectionConverters.asJava(txn.metadata().partitionColumns()).equals(partitionBy)) {
      return false;
    }
    Map<String, String> conf = CollectionConverters.asJava(txn.metadata().configuration());
    for (String key : UNSUPPORTED) {
      String v = conf.get(key);
      if (v != null && !v.equalsIgnoreCase("false") && !v.equalsIgnoreCase("none")) {
        return false;
      }
    }
    if (rows == null) {
      return true;
    }
    StructField[] table = txn.metadata().schema().fields();
    StructField[] given = rows.fields();
    if (table.length != given.length) {
      return false;
    }
    for (int i = 0; i < table.length; i++) {
      if (!table[i].name().equals(given[i].name()) || !table[i].dataType().sameType(given[i].dataType())) {
        return false;
      }
    }
    return true;
  }

  /**
   * The files of version {@code version} whose partition values pass {@code selected}, to remove; null when one
   * carries a deletion vector or Kernel cannot read the log.
   */
  private static List<Removed> files(SparkSession spark, String path, long version,
      Predicate<Map<String, String>> selected) {
    List<Removed> out = new ArrayList<>();
    boolean[] deletionVector = {false};
    long now = System.currentTimeMillis();
    try {
      KernelTables.scanFiles(spark, path, version, file -> {
        Map<String, String> partition = InternalScanFileUtils.getPartitionValues(file);
        if (!selected.test(partition)) {
          return;
        }
        deletionVector[0] |= InternalScanFileUtils.getDeletionVectorDescriptorFromRow(file) != null;
        io.delta.kernel.data.Row add = file.getStruct(InternalScanFileUtils.ADD_FILE_ORDINAL);
        String stored = add.getString(add.getSchema().indexOf("path"));
        long size = add.getLong(add.getSchema().indexOf("size"));
        String stats = KernelTables.stats(file);
        Long records = KernelTables.records(stats);
        // As Delta's AddFile.removeWithTimestamp: the size and partition values (extended metadata) let the commit's
        // checksum be derived from the previous one, without the table's state.
        out.add(new Removed(new RemoveFile(stored, Option.<Object>apply(now), true, Option.<Object>apply(true),
            scala.collection.immutable.Map.from(CollectionConverters.asScala(partition)), Option.<Object>apply(size),
            null, null, Option.empty(), Option.empty(), stats), records == null ? 0 : records));
      });
    } catch (UncheckedIOException e) {
      throw e;
    } catch (RuntimeException | LinkageError kernel) {
      LOG.warn("Delta Kernel cannot list the files of " + path + "; writing with Delta's own replaceWhere", kernel);
      return null;
    }
    return deletionVector[0] ? null : out;
  }
}
