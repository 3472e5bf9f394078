package dev.churn.jobs.warehouse;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import dev.churn.features.DailyActivity;
import io.delta.tables.DeltaMergeBuilder;
import io.delta.tables.DeltaTable;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructField;

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
    try {
      return spark.read().format("delta").load(path(table));
    } catch (RuntimeException e) {
      throw unreadable(table, e);
    }
  }

  private ChurnException unreadable(Table table, RuntimeException e) {
    String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
    return new ChurnException(ChurnException.FAILURE, "table " + table.tableName() + " cannot be read (" + why
        + "): its Delta log " + path(table) + "/_delta_log is damaged; restore that folder from a backup", e);
  }

  /**
   * Refuses, before a command reads or writes anything, a warehouse it would misread or damage: a root or a table
   * folder that is a file, or a table whose Delta log lost its latest commits (a checksum or checkpoint of a
   * version newer than its last commit file: a deleted or lost commit, which Delta would silently read as an older
   * table and the next write would then overwrite). One line names the table and what to do.
   */
  public void checkIntact() {
    try {
      org.apache.hadoop.fs.Path rootPath = new org.apache.hadoop.fs.Path(root);
      FileSystem fs = rootPath.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(rootPath)) {
        return;
      }
      if (!fs.getFileStatus(rootPath).isDirectory()) {
        throw new ChurnException(ChurnException.FAILURE, "the warehouse " + root + " is a file, not a folder: pass "
            + "--warehouse a folder (or a new path); nothing was touched");
      }
      // One listing of the root, then one of each table's log: a few calls on an object store too.
      Map<String, FileStatus> entries = new LinkedHashMap<>();
      for (FileStatus f : fs.listStatus(rootPath)) {
        entries.put(f.getPath().getName(), f);
      }
      for (Table t : Table.values()) {
        FileStatus folder = entries.get(t.tableName());
        if (folder == null) {
          continue;
        }
        if (!folder.isDirectory()) {
          throw new ChurnException(ChurnException.FAILURE, "table " + t.tableName() + ": " + folder.getPath()
              + " is a file, not a table folder: move it out of the warehouse; nothing was touched");
        }
        org.apache.hadoop.fs.Path log = new org.apache.hadoop.fs.Path(folder.getPath(), "_delta_log");
        FileStatus[] logFiles;
        try {
          logFiles = fs.listStatus(log);
        } catch (java.io.FileNotFoundException e) {
          // A table that was committed (its marker says so) has lost its log: writing now would start a new
          // table over the orphaned files (and a rollup rebuilt from one day of them), so it is refused. Files
          // without the marker are a first write killed before its commit, which Delta ignores and a rerun redoes.
          if (fs.exists(new org.apache.hadoop.fs.Path(folder.getPath(), COMMITTED))) {
            throw new ChurnException(ChurnException.FAILURE, "table " + t.tableName() + " is damaged: "
                + folder.getPath() + " held a committed table but has no _delta_log; restore its _delta_log from a "
                + "backup, or move the folder out of the warehouse to rebuild the table; nothing was touched");
          }
          continue;
        }
        long commit = -1;
        long recorded = -1;
        String evidence = null;
        for (FileStatus f : logFiles) {
          String name = f.getPath().getName();
          if (name.matches("\\d{20}\\.json")) {
            commit = Math.max(commit, Long.parseLong(name.substring(0, 20)));
          } else if (name.matches("\\d{20}\\.(crc|checkpoint\\.parquet)") && Long.parseLong(name.substring(0, 20)) > recorded) {
            recorded = Long.parseLong(name.substring(0, 20));
            evidence = name;
          }
        }
        if (recorded > commit) {
          throw new ChurnException(ChurnException.FAILURE, "table " + t.tableName() + " is damaged: its Delta log "
              + log + " ends at version " + commit + " but holds " + evidence + " of version " + recorded + " (a "
              + "commit file was deleted or lost); restore that folder from a backup, or move the table away to "
              + "rebuild it; nothing was touched");
        }
      }
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot read the warehouse " + root + ": " + e.getMessage(), e);
    }
  }

  /**
   * The table as of its current version, pinned: a frame that later writes of this run cannot change. Needed
   * wherever a frame derived from the table is cached and the table is then written, because Delta re-caches
   * such frames after each commit.
   */
  public Dataset<Row> snapshot(Table table) {
    try {
      long version = DeltaTable.forPath(spark, path(table)).history(1).select("version").first().getLong(0);
      return spark.read().format("delta").option("versionAsOf", version).load(path(table));
    } catch (RuntimeException e) {
      throw unreadable(table, e);
    }
  }

  /** Rows one write stored, from Delta's own operation metrics (never by reading the table back). */
  public record Written(long inserted, long updated, long deleted) {}

  /** The first and last day of {@code daily_activity}: where the data starts and ends. */
  public record DataRange(LocalDate first, LocalDate last) {}

  /** The days the warehouse holds activity for, or null before anything was ingested. */
  public DataRange dataRange() {
    if (!exists(Table.DAILY_ACTIVITY)) {
      return null;
    }
    String day = DailyActivity.ACTIVITY_DATE;
    Row r = read(Table.DAILY_ACTIVITY).agg(min(day), max(day)).first();
    return r.isNullAt(0) ? null : new DataRange(r.getDate(0).toLocalDate(), r.getDate(1).toLocalDate());
  }

  /**
   * How far after the warehouse's last day of activity a date given to a command may lie (31 days): enough for a
   * quiet day or a month's end, not for a mistyped year, where every customer would look silent.
   */
  public static final int MAX_DAYS_PAST_DATA = 31;

  /**
   * Refuses ({@code option}, exit 2) a date more than {@link #MAX_DAYS_PAST_DATA} days after the last day of
   * activity. Before anything was ingested the stage's own check speaks.
   */
  public void requireKnown(String option, LocalDate date) {
    DataRange data = dataRange();
    if (data != null && date.isAfter(data.last().plusDays(MAX_DAYS_PAST_DATA))) {
      throw ChurnException.usage(option + " " + date + " is more than " + MAX_DAYS_PAST_DATA + " days after the "
          + "warehouse's last day of activity, " + data.last() + ": nothing is known of it; nothing was changed");
    }
  }

  /** The earliest signup date of any customer, or null before any customer was stored. */
  public LocalDate firstSignup() {
    if (!exists(Table.CUSTOMERS)) {
      return null;
    }
    Row r = read(Table.CUSTOMERS).agg(min(dev.churn.features.Customers.SIGNUP_DATE)).first();
    return r.isNullAt(0) ? null : r.getDate(0).toLocalDate();
  }

  /**
   * The as-of dates {@code table} (features, scores) holds from {@code from} to {@code to} (either null: open),
   * in order; empty when the table does not exist.
   */
  public List<LocalDate> asOfDates(Table table, LocalDate from, LocalDate to) {
    if (!exists(table)) {
      return List.of();
    }
    Column asOf = col("as_of_date");
    Column in = functions.lit(true);
    if (from != null) {
      in = in.and(asOf.geq(functions.lit(java.sql.Date.valueOf(from))));
    }
    if (to != null) {
      in = in.and(asOf.leq(functions.lit(java.sql.Date.valueOf(to))));
    }
    return read(table).where(in).select(asOf).distinct().collectAsList().stream()
        .map(r -> r.getDate(0).toLocalDate()).sorted().toList();
  }

  /** Inserts the rows whose key is not in the table yet. */
  public Written insertNew(Table table, Dataset<Row> source) {
    if (!exists(table)) {
      return new Written(create(table, source), 0, 0);
    }
    return merged(mergeOnKey(table, source).whenNotMatched().insertAll().execute());
  }

  /** Updates the rows whose key matches with the source's values and inserts the rest. */
  public Written upsert(Table table, Dataset<Row> source) {
    if (!exists(table)) {
      return new Written(create(table, source), 0, 0);
    }
    return merged(mergeOnKey(table, source).whenMatched().updateAll().whenNotMatched().insertAll().execute());
  }

  /**
   * Applies decisions keyed like the table in one commit: a row of {@code source} whose {@code deleteFlag} is true
   * deletes the table's row with its key; any other replaces it, or is inserted. The flag is not stored.
   */
  public Written applyDecisions(Table table, Dataset<Row> source, String deleteFlag) {
    if (!exists(table)) {
      return new Written(create(table, source.where("NOT `" + deleteFlag + "`").drop(deleteFlag)), 0, 0);
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (String c : source.columns()) {
      if (!c.equals(deleteFlag)) {
        values.put("`" + c + "`", "s.`" + c + "`");
      }
    }
    String delete = "s.`" + deleteFlag + "`";
    return merged(mergeOnKey(table, source).whenMatched(delete).delete().whenMatched().updateExpr(values)
        .whenNotMatched("NOT " + delete).insertExpr(values).execute());
  }

  /** A MERGE of {@code source} (alias s) into the table (alias t) on the table's key. */
  private DeltaMergeBuilder mergeOnKey(Table table, Dataset<Row> source) {
    return DeltaTable.forPath(spark, path(table)).as("t").merge(source.as("s"), table.keyCondition());
  }

  /** Sets columns of every row of the table (column -> expression over its row); returns the rows updated. */
  public long updateAll(Table table, Map<String, Column> updates) {
    DeltaTable.forPath(spark, path(table)).update(updates);
    return lastMetric(table, "numUpdatedRows");
  }

  /** Deletes the rows matching {@code condition}, if the table exists; returns the rows deleted. */
  public long deleteWhere(Table table, Column condition) {
    if (!exists(table)) {
      return 0;
    }
    DeltaTable.forPath(spark, path(table)).delete(condition);
    return lastMetric(table, "numDeletedRows");
  }

  /** Appends rows whose key is new by construction (run ids): only for audit tables such as run_log. */
  public void append(Table table, Dataset<Row> rows) {
    if (!exists(table)) {
      create(table, rows);
      return;
    }
    rows.write().format("delta").mode(SaveMode.Append).save(path(table));
  }

  /** Replaces the partitions of {@code dates} with {@code source}, whose rows must lie in them; returns rows written. */
  public long replaceDates(Table table, Dataset<Row> source, Collection<LocalDate> dates) {
    if (table.partitionColumn() == null) {
      throw new IllegalArgumentException(table.tableName() + " is not partitioned by date");
    }
    String in = String.join(", ", dates.stream().sorted().map(d -> "DATE'" + d + "'").toList());
    return replaceWhere(table, source, table.partitionColumn() + " IN (" + in + ")");
  }

  /** Replaces exactly the rows matching {@code predicate} (SQL) with {@code source}; returns rows written. */
  public long replaceWhere(Table table, Dataset<Row> source, String predicate) {
    if (!exists(table)) {
      return create(table, source);
    }
    // mergeSchema: a new feature (or column) joins the table; older slices read it as null.
    source.write().format("delta").mode(SaveMode.Overwrite).option("replaceWhere", predicate)
        .option("mergeSchema", "true").save(path(table));
    return lastMetric(table, "numOutputRows");
  }

  /** Creates the table empty, with its declared schema, when it does not exist yet. */
  public void ensure(Table table) {
    if (!exists(table)) {
      create(table, spark.createDataFrame(List.of(), table.schema()));
      return;
    }
    // A column the schema gained since the table was created (for example the quarantine's status) is added,
    // empty, so older warehouses keep working.
    if (table.schema() != null) {
      Set<String> have = Set.of(read(table).columns());
      for (StructField f : table.schema().fields()) {
        if (!have.contains(f.name())) {
          spark.sql("ALTER TABLE delta.`" + path(table) + "` ADD COLUMNS (`" + f.name() + "` " + f.dataType().sql() + ")");
        }
      }
    }
  }

  /**
   * The file in a table folder that says the table was committed at least once, so a folder holding it without a
   * {@code _delta_log} lost its log ({@link #checkIntact}). Spark and Delta skip names starting with an underscore.
   */
  public static final String COMMITTED = "_churn_committed";

  /**
   * Marks every table that has a Delta log (a writing command calls this under the lock): a warehouse made before
   * the marker existed is protected from its next writing command on.
   */
  public void markCommittedTables() {
    try {
      FileSystem fs = new org.apache.hadoop.fs.Path(root).getFileSystem(spark.sparkContext().hadoopConfiguration());
      for (Table t : Table.values()) {
        if (fs.exists(new org.apache.hadoop.fs.Path(path(t), "_delta_log"))) {
          markCommitted(t);
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot read the tables of " + root, e);
    }
  }

  private void markCommitted(Table table) {
    try {
      org.apache.hadoop.fs.Path marker = new org.apache.hadoop.fs.Path(path(table), COMMITTED);
      FileSystem fs = marker.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(marker)) {
        fs.create(marker, true).close();
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot mark table " + table.tableName() + " as committed", e);
    }
  }

  private long create(Table table, Dataset<Row> source) {
    DataFrameWriter<Row> writer = source.write().format("delta").mode(SaveMode.Append);
    if (table.partitionColumn() != null) {
      writer = writer.partitionBy(table.partitionColumn());
    }
    writer.save(path(table));
    markCommitted(table);
    long written = lastMetric(table, "numOutputRows"); // before the constraints' own commits
    table.constraints().forEach((name, check) ->
        spark.sql("ALTER TABLE delta.`" + path(table) + "` ADD CONSTRAINT " + name + " CHECK (" + check + ")"));
    register(table);
    return written;
  }

  private static Written merged(Dataset<Row> metrics) {
    Row m = metrics.first();
    return new Written(m.<Long>getAs("num_inserted_rows"), m.<Long>getAs("num_updated_rows"),
        m.<Long>getAs("num_deleted_rows"));
  }

  /** A metric of the table's latest commit (this run's, as it holds the warehouse lock); 0 when absent. */
  private long lastMetric(Table table, String metric) {
    Map<String, String> metrics = DeltaTable.forPath(spark, path(table)).history(1).select("operationMetrics")
        .first().getJavaMap(0);
    String v = metrics == null ? null : metrics.get(metric);
    return v == null ? 0 : Long.parseLong(v);
  }

  /** Makes every existing table queryable as {@code churn.<name>} (and by bare name) in this session. */
  public void registerAll() {
    spark.sql("CREATE DATABASE IF NOT EXISTS " + Table.DATABASE);
    for (Table t : Table.values()) {
      // Already in this session's catalog at this location: skip the DDL and the Delta log read of exists().
      if (!registeredHere(t)) {
        if (exists(t)) {
          register(t);
        } else {
          unregisterElsewhere(t);
        }
      }
    }
    spark.sql("USE " + Table.DATABASE);
  }

  /**
   * Registers {@code churn.<table>} as a view of {@code select} (an empty stand-in for a table not written yet), unless
   * this session's catalog already holds a table or view of that name.
   */
  public void registerEmpty(Table table, java.util.function.Supplier<String> select) {
    spark.sql("CREATE DATABASE IF NOT EXISTS " + Table.DATABASE);
    var id = new org.apache.spark.sql.catalyst.TableIdentifier(table.tableName(), scala.Option.apply(Table.DATABASE));
    if (!spark.sessionState().catalog().tableExists(id)) { // a table, or the stand-in already: nothing to do
      spark.sql("CREATE VIEW " + table.qualifiedName() + " AS " + select.get());
    }
  }

  /**
   * Forgets {@code churn.<table>} when this session registered it for another warehouse (a session that opens two):
   * its name must not read another warehouse's table. Only the catalog entry goes (the table has a location, so
   * dropping it leaves its files alone).
   */
  private void unregisterElsewhere(Table table) {
    var id = new org.apache.spark.sql.catalyst.TableIdentifier(table.tableName(), scala.Option.apply(Table.DATABASE));
    if (spark.sessionState().catalog().tableExists(id) && !isView(id)) {
      spark.sql("DROP TABLE IF EXISTS " + table.qualifiedName());
    }
  }

  private boolean isView(org.apache.spark.sql.catalyst.TableIdentifier id) {
    try {
      return spark.sessionState().catalog().getTableMetadata(id).tableType()
          .equals(org.apache.spark.sql.catalyst.catalog.CatalogTableType.VIEW());
    } catch (Exception e) { // vanished meanwhile (checked exceptions from Scala)
      return false;
    }
  }

  private void register(Table table) {
    spark.sql("CREATE DATABASE IF NOT EXISTS " + Table.DATABASE);
    var id = new org.apache.spark.sql.catalyst.TableIdentifier(table.tableName(), scala.Option.apply(Table.DATABASE));
    if (spark.sessionState().catalog().tableExists(id)) {
      // The empty stand-in (the table is written now), or the table of another warehouse this session opened
      // (callers register only what is not registered here): only the catalog entry goes, never files.
      spark.sql((isView(id) ? "DROP VIEW " : "DROP TABLE ") + table.qualifiedName());
    }
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

  /** The single string value of key {@code key} in {@code source_settings}, or null. */
  public String setting(String key) {
    if (!exists(Table.SOURCE_SETTINGS)) {
      return null;
    }
    List<Row> rows = read(Table.SOURCE_SETTINGS).where(col("key").equalTo(key)).select("value").collectAsList();
    return rows.isEmpty() ? null : rows.get(0).getString(0);
  }
}
