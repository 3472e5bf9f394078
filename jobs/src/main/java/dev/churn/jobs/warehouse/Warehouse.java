package dev.churn.jobs.warehouse;

import static org.apache.spark.sql.functions.col;

import io.delta.tables.DeltaTable;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * The Delta tables under one root folder or URI, and the only writes the jobs make to them. Every write is
 * idempotent by construction: MERGE on the table's key, or {@code replaceWhere} on the run's slice.
 */
public final class Warehouse {
  private final SparkSession spark;
  private final String root;

  public Warehouse(SparkSession spark, String root) {
    this.spark = spark;
    this.root = normalise(root);
  }

  /** A local path becomes an absolute {@code file:} URI; a URI with a scheme (s3a://, hdfs://) is kept. */
  static String normalise(String root) {
    String trimmed = root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
    if (trimmed.matches("^[a-zA-Z][a-zA-Z0-9+.-]+:/.*")) {
      return trimmed;
    }
    URI uri = Path.of(trimmed).toAbsolutePath().normalize().toUri();
    String s = uri.toString();
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  public SparkSession spark() {
    return spark;
  }

  public String root() {
    return root;
  }

  public String path(Table table) {
    return root + "/" + table.tableName();
  }

  public boolean exists(Table table) {
    return DeltaTable.isDeltaTable(spark, path(table));
  }

  public Dataset<Row> read(Table table) {
    if (!exists(table)) {
      throw new ChurnException(ChurnException.FAILURE, "table " + table.tableName() + " does not exist under "
          + root + ": run the stage that writes it first");
    }
    return spark.read().format("delta").load(path(table));
  }

  /**
   * The table as of its current version, pinned: a frame that later writes of this run cannot change. Needed
   * wherever a frame derived from the table is cached and the table is then written, because Delta re-caches
   * such frames after each commit.
   */
  public Dataset<Row> snapshot(Table table) {
    long version = DeltaTable.forPath(spark, path(table)).history(1).select("version").first().getLong(0);
    return spark.read().format("delta").option("versionAsOf", version).load(path(table));
  }

  /** The table's rows, or an empty frame of {@code schema} when it has never been written. */
  public Dataset<Row> readOrEmpty(Table table, StructType schema) {
    return exists(table) ? read(table) : spark.createDataFrame(List.of(), schema);
  }

  /** Inserts the rows of {@code source} whose key ({@code condition} on aliases t and s) is not in the table. */
  public void insertNew(Table table, Dataset<Row> source, String condition, String... partitionColumns) {
    if (!exists(table)) {
      create(table, source, partitionColumns);
      return;
    }
    DeltaTable.forPath(spark, path(table)).as("t").merge(source.as("s"), condition)
        .whenNotMatched().insertAll().execute();
  }

  /** Appends rows whose key is new by construction (run ids): only for audit tables such as run_log. */
  public void append(Table table, Dataset<Row> rows) {
    if (!exists(table)) {
      create(table, rows);
      return;
    }
    rows.write().format("delta").mode(SaveMode.Append).save(path(table));
  }

  /** Updates matching rows with the source's values and inserts the rest. */
  public void upsert(Table table, Dataset<Row> source, String condition, String... partitionColumns) {
    if (!exists(table)) {
      create(table, source, partitionColumns);
      return;
    }
    DeltaTable.forPath(spark, path(table)).as("t").merge(source.as("s"), condition)
        .whenMatched().updateAll().whenNotMatched().insertAll().execute();
  }

  /** Upsert with explicit update expressions (column -> SQL over t and s). */
  public void upsert(Table table, Dataset<Row> source, String condition, Map<String, String> updates,
      String... partitionColumns) {
    if (!exists(table)) {
      create(table, source, partitionColumns);
      return;
    }
    DeltaTable.forPath(spark, path(table)).as("t").merge(source.as("s"), condition)
        .whenMatched().updateExpr(updates).whenNotMatched().insertAll().execute();
  }

  /** Replaces exactly the rows matching {@code predicate} (SQL) with {@code source}, whose rows must match it. */
  public void replaceWhere(Table table, Dataset<Row> source, String predicate, String... partitionColumns) {
    if (!exists(table)) {
      create(table, source, partitionColumns);
      return;
    }
    // mergeSchema: a new feature (or column) joins the table; older slices read it as null.
    source.write().format("delta").mode(SaveMode.Overwrite).option("replaceWhere", predicate)
        .option("mergeSchema", "true").save(path(table));
  }

  /** Creates an empty table of {@code schema} when the table does not exist yet. */
  public void ensure(Table table, StructType schema, String... partitionColumns) {
    if (!exists(table)) {
      create(table, spark.createDataFrame(List.of(), schema), partitionColumns);
    }
  }

  /** MERGE with explicit SQL expressions over aliases t (table) and s (source) for updates and inserts. */
  public void merge(Table table, Dataset<Row> source, String condition, Map<String, String> updates,
      Map<String, String> inserts) {
    DeltaTable.forPath(spark, path(table)).as("t").merge(source.as("s"), condition)
        .whenMatched().updateExpr(updates).whenNotMatched().insertExpr(inserts).execute();
  }

  private void create(Table table, Dataset<Row> source, String... partitionColumns) {
    source.write().format("delta").mode(SaveMode.Append).partitionBy(partitionColumns).save(path(table));
    register(table);
  }

  /** Makes every existing table queryable as {@code churn.<name>} (and by bare name) in this session. */
  public void registerAll() {
    spark.sql("CREATE DATABASE IF NOT EXISTS " + Table.DATABASE);
    for (Table t : Table.values()) {
      // Already in this session's catalog at this location: skip the DDL and the Delta log read of exists().
      if (!registeredHere(t) && exists(t)) {
        register(t);
      }
    }
    spark.sql("USE " + Table.DATABASE);
  }

  private void register(Table table) {
    spark.sql("CREATE DATABASE IF NOT EXISTS " + Table.DATABASE);
    spark.sql("CREATE TABLE IF NOT EXISTS " + table.qualifiedName() + " USING delta LOCATION '"
        + path(table).replace("'", "\\'") + "'");
  }

  private boolean registeredHere(Table table) {
    var id = new org.apache.spark.sql.catalyst.TableIdentifier(table.tableName(), scala.Option.apply(Table.DATABASE));
    var catalog = spark.sessionState().catalog();
    if (!catalog.tableExists(id)) {
      return false;
    }
    try {
      scala.Option<URI> location = catalog.getTableMetadata(id).storage().locationUri();
      return location.isDefined() && new org.apache.hadoop.fs.Path(location.get()).toString()
          .equals(new org.apache.hadoop.fs.Path(path(table)).toString());
    } catch (Exception e) { // the table or its database vanished meanwhile (checked exceptions from Scala)
      return false;
    }
  }

  /** SQL literal list of dates for IN predicates. */
  public static String dateList(List<java.time.LocalDate> dates) {
    return String.join(", ", dates.stream().map(d -> "DATE'" + d + "'").toList());
  }

  /** The single string value of key {@code key} in {@code source_settings}, or null. */
  public String setting(String key) {
    if (!exists(Table.SOURCE_SETTINGS)) {
      return null;
    }
    List<Row> rows = read(Table.SOURCE_SETTINGS).where(col("key").equalTo(key)).select("value").collectAsList();
    return rows.isEmpty() ? null : rows.get(0).getString(0);
  }
}
