package dev.churn.jobs.warehouse;

import static org.apache.spark.sql.functions.col;

import io.delta.tables.DeltaMergeBuilder;
import io.delta.tables.DeltaTable;
import java.net.URI;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.DataFrameWriterV2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructField;

/**
 * The Delta tables under one root folder or URI, and the only writes the jobs make to them. Every write is
 * idempotent by construction: a MERGE or a rewrite keyed on the table's key, a replacement of the run's slice, or
 * an append of keys checked new under the warehouse lock. Replacing writes (a slice, an upsert, an update of every
 * row) commit the files they remove as Delta Kernel lists them ({@link DirectReplace}), without Delta's table
 * state; Delta's own {@code replaceWhere}, {@code UPDATE} or overwrite where the schema changes or a table feature
 * needs it.
 */
public final class Warehouse {
  private static final Logger LOG = LogManager.getLogger(Warehouse.class);
  private final SparkSession spark;
  private final String root;
  private final WarehouseIntegrity integrity;
  private final DeltaLogFiles logs;
  private final TableCatalog catalog;
  private final TableComments comments;
  private final WarehouseFacts facts;

  public Warehouse(SparkSession spark, String root) {
    this.spark = spark;
    this.root = normalise(root);
    this.integrity = new WarehouseIntegrity(this);
    this.logs = new DeltaLogFiles(this);
    this.catalog = new TableCatalog(this);
    this.comments = new TableComments(this);
    this.facts = new WarehouseFacts(this, logs);
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

  /**
   * The table as of its current version, read through Delta Kernel ({@link KernelTables.Source}): pinned to that
   * version, with no Spark job to find its files. Where Kernel cannot load the table (a Delta feature it does not
   * read), Delta's own reader, with a warning in the log (at each read; once per run when Kernel's classes are
   * missing or changed); a failure after loading (while planning or reading files) is not caught.
   */
  public Dataset<Row> read(Table table) {
    requireTable(table);
    if (!kernelUnavailable) {
      try {
        return spark.read().format(KernelTables.Source.class.getName()).load(path(table));
      } catch (RuntimeException | LinkageError kernel) {
        kernelFailed("read " + path(table) + "; reading it with Delta's path reader", kernel);
      }
    }
    return readInContentOrder(table);
  }

  /** Set when Kernel's classes cannot be loaded (a class path without them): every read uses Delta's reader. */
  private volatile boolean kernelUnavailable;

  /** Whether Kernel's classes loaded (so far): when not, every answer comes from Delta's reader. */
  boolean kernelAvailable() {
    return !kernelUnavailable;
  }

  /** Logs why Kernel could not answer; classes missing or changed mean no later call can use it either. */
  void kernelFailed(String what, Throwable kernel) {
    if (kernel instanceof LinkageError) {
      kernelUnavailable = true;
    }
    LOG.warn("Delta Kernel cannot " + what, kernel);
  }

  /**
   * The table as of its current version (pinned), read by Delta's own path reader, which delivers the rows in an
   * order fixed by the table's content (files largest first, packed into input partitions by size). Training reads
   * this way: L-BFGS's sums and the imputer's quantiles follow the order and partitions rows come in, and Kernel's
   * scan ({@link #read}) lists files in the order of the commits that wrote them, so a snapshot rewritten by a
   * rerun would give a model other last digits. Costs Delta's state reconstruction and file filtering jobs.
   */
  public Dataset<Row> readInContentOrder(Table table) {
    requireTable(table);
    try {
      return spark.read().format("delta").option("versionAsOf", logs.latestVersion(table)).load(path(table));
    } catch (RuntimeException e) {
      throw unreadable(table, e);
    }
  }

  private void requireTable(Table table) {
    if (!exists(table)) {
      throw new ChurnException(ChurnException.FAILURE, "table " + table.tableName() + " does not exist under "
          + root + ": run the stage that writes it first");
    }
  }

  private ChurnException unreadable(Table table, RuntimeException e) {
    String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
    return new ChurnException(ChurnException.FAILURE, "table " + table.tableName() + " cannot be read (" + why
        + "): its Delta log " + path(table) + "/_delta_log is damaged; restore that folder from a backup", e);
  }

  /**
   * Refuses, before a command reads or writes anything, a warehouse it would misread or damage
   * ({@link WarehouseIntegrity#check}).
   */
  public void checkIntact() {
    integrity.check();
  }

  /** The latest committed version of each existing table, from its log's listing (no Spark job). */
  public Map<Table, Long> latestVersions() {
    return logs.latestVersions();
  }

  /** Marks every table that has a Delta log as committed ({@link WarehouseIntegrity#markCommittedTables}). */
  public void markCommittedTables() {
    integrity.markCommittedTables();
  }

  /**
   * The table as of its current version, pinned: a frame that later writes of this run cannot change. Needed
   * wherever a frame derived from the table is cached and the table is then written; every {@link #read} is pinned
   * this way ({@link KernelTables.Source}), and this name says where a caller relies on it.
   */
  public Dataset<Row> snapshot(Table table) {
    return read(table);
  }

  /** Rows one write stored, from Delta's own operation metrics (never by reading the table back). */
  public record Written(long inserted, long updated, long deleted) {}

  /** The first and last day of {@code daily_activity}: where the data starts and ends. */
  public record DataRange(LocalDate first, LocalDate last) {}

  /** The days the warehouse holds activity for, or null before anything was ingested. */
  public DataRange dataRange() {
    return facts.dataRange();
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

  /** The rows {@code table} holds (0 when it does not exist), from its log's statistics: no Spark job. */
  public long rows(Table table) {
    return facts.rows(table);
  }

  /** The earliest signup date of any customer, or null before any customer was stored. */
  public LocalDate firstSignup() {
    return facts.firstSignup();
  }

  /**
   * The as-of dates {@code table} (features, scores: a table partitioned by as-of date, else an
   * IllegalArgumentException) holds from {@code from} to {@code to} (either null: open), in order; empty when the
   * table does not exist.
   */
  public List<LocalDate> asOfDates(Table table, LocalDate from, LocalDate to) {
    return facts.asOfDates(table, from, to);
  }

  /** Inserts the rows whose key is not in the table yet. */
  public Written insertNew(Table table, Dataset<Row> source) {
    if (!exists(table)) {
      return new Written(create(table, source), 0, 0);
    }
    comments.upToDate(table);
    return merged(mergeOnKey(table, source).whenNotMatched().insertAll().execute());
  }

  /**
   * Replaces the rows whose key is in {@code source} with its rows and inserts the rest, in one commit that
   * rewrites the whole table from one full outer join of the stored rows and the source, on the key. Meant for
   * the small keyed tables (customers, source_settings, model_registry), where a MERGE rewrote every file anyway
   * and paid three passes over its source for it (materialize it, find the files it touches, write them).
   * Danger: {@code source} must hold one row per key, and this is not checked (a MERGE refused a second row of a
   * key; here both would be stored): every caller's source is grouped by its key. Its columns are matched to the
   * table's by name and must have the table's types.
   */
  public void upsert(Table table, Dataset<Row> source) {
    if (!exists(table)) {
      create(table, source);
      return;
    }
    comments.upToDate(table);
    Dataset<Row> stored = read(table);
    List<Column> given = new java.util.ArrayList<>(List.of(functions.lit(true).as(GIVEN)));
    for (String c : stored.columns()) {
      given.add(functions.col(c).as(GIVEN + c));
    }
    Dataset<Row> s = source.select(given.toArray(Column[]::new));
    Column onKey = functions.lit(true);
    for (String k : table.key()) {
      onKey = onKey.and(stored.col(k).equalTo(s.col(GIVEN + k)));
    }
    Column fromSource = s.col(GIVEN).isNotNull();
    Column[] rows = java.util.Arrays.stream(stored.columns())
        .map(c -> functions.when(fromSource, s.col(GIVEN + c)).otherwise(stored.col(c)).as(c)).toArray(Column[]::new);
    Dataset<Row> merged = stored.join(s, onKey, "full_outer").select(rows);
    if (DirectReplace.rows(spark, path(table), merged, DirectReplace.ALL).isEmpty()) {
      merged.write().format("delta").mode(SaveMode.Overwrite).save(path(table));
    }
  }

  /** The prefix of a source's columns in {@link #upsert}, and the name of its flag. */
  private static final String GIVEN = "_given_";

  /**
   * Applies decisions keyed like the table in one commit: a row of {@code source} whose {@code deleteFlag} is true
   * deletes the table's row with its key; any other replaces it, or is inserted. The flag is not stored.
   */
  public Written applyDecisions(Table table, Dataset<Row> source, String deleteFlag) {
    if (!exists(table)) {
      return new Written(create(table, source.where("NOT `" + deleteFlag + "`").drop(deleteFlag)), 0, 0);
    }
    comments.upToDate(table);
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
    comments.upToDate(table);
    Dataset<Row> stored = read(table);
    // As Delta's UPDATE: a column the table lacks is refused, not ignored.
    List<String> columns = List.of(stored.columns());
    for (String c : updates.keySet()) {
      if (!columns.contains(c)) {
        throw new IllegalArgumentException(table.tableName() + " has no column " + c + " to update");
      }
    }
    // Every row is rewritten either way: here in one commit without Delta's state (DirectReplace), or by Delta's
    // UPDATE where the table's features or an expression's type need it.
    Dataset<Row> updated = stored.select(columns.stream()
        .map(c -> updates.containsKey(c) ? updates.get(c).as(c) : col(c)).toArray(Column[]::new));
    OptionalLong direct = DirectReplace.rows(spark, path(table), updated, DirectReplace.ALL);
    if (direct.isPresent()) {
      return direct.getAsLong();
    }
    DeltaTable.forPath(spark, path(table)).update(updates);
    return lastMetric(table, "numUpdatedRows");
  }

  /** Deletes the rows matching {@code condition}, if the table exists; returns the rows deleted. */
  public long deleteWhere(Table table, Column condition) {
    if (!exists(table)) {
      return 0;
    }
    comments.upToDate(table);
    DeltaTable.forPath(spark, path(table)).delete(condition);
    return lastMetric(table, "numDeletedRows");
  }

  /**
   * Appends rows whose key is new by construction (run ids, and events and quarantined positions the ingest
   * checked under the lock). A column run_log's rows have and an older warehouse's run_log lacks (its counts)
   * joins that table; any other table refuses rows that do not match its schema.
   */
  public void append(Table table, Dataset<Row> rows) {
    if (!exists(table)) {
      create(table, rows);
      return;
    }
    comments.upToDate(table);
    TableComments.described(table, rows).write().format("delta").mode(SaveMode.Append)
        .option("mergeSchema", String.valueOf(table == Table.RUN_LOG))
        .save(path(table));
  }

  /** Replaces the partitions of {@code dates} with {@code source}, whose rows must lie in them; returns rows written. */
  public long replaceDates(Table table, Dataset<Row> source, Collection<LocalDate> dates) {
    requireDatePartitioned(table);
    String in = String.join(", ", dates.stream().sorted().map(d -> "DATE'" + d + "'").toList());
    String predicate = table.partitionColumn() + " IN (" + in + ")";
    if (!exists(table)) {
      return create(table, source);
    }
    comments.upToDate(table);
    Set<String> values = new java.util.TreeSet<>(dates.stream().map(LocalDate::toString).toList());
    OptionalLong direct = DirectReplace.partitions(spark, path(table), table.partitionColumn(),
        v -> v != null && values.contains(v), TableComments.described(table, source), predicate);
    return direct.isPresent() ? direct.getAsLong() : deltaReplaceWhere(table, source, predicate);
  }

  private static void requireDatePartitioned(Table table) {
    if (table.partitionColumn() == null) {
      throw new IllegalArgumentException(table.tableName() + " is not partitioned by date");
    }
  }

  /**
   * Deletes the partitions of {@code table} (partitioned by date) from {@code first} on, if the table exists;
   * returns the rows deleted.
   */
  public long deleteDatesFrom(Table table, LocalDate first) {
    requireDatePartitioned(table);
    if (!exists(table)) {
      return 0;
    }
    comments.upToDate(table);
    OptionalLong direct = DirectReplace.partitions(spark, path(table), table.partitionColumn(),
        v -> v != null && v.compareTo(first.toString()) >= 0, null, table.partitionColumn() + " >= DATE'" + first + "'");
    return direct.isPresent() ? direct.getAsLong()
        : deleteWhere(table, col(table.partitionColumn()).geq(functions.lit(java.sql.Date.valueOf(first))));
  }

  /**
   * Replaces exactly the rows matching {@code predicate} (SQL) with {@code source}; returns the new rows written
   * (the rows of {@code source}; a kept row copied beside them is not counted).
   */
  public long replaceWhere(Table table, Dataset<Row> source, String predicate) {
    if (!exists(table)) {
      return create(table, source);
    }
    comments.upToDate(table);
    if (table.partitionColumn() == null) {
      // A small table rewritten whole in one commit, without Delta's state (DirectReplace).
      OptionalLong direct = DirectReplace.rows(spark, path(table), TableComments.described(table, source), predicate);
      if (direct.isPresent()) {
        return direct.getAsLong();
      }
    }
    return deltaReplaceWhere(table, source, predicate);
  }

  /** Delta's own {@code replaceWhere}: where {@link DirectReplace} cannot write (a schema change, a table feature). */
  private long deltaReplaceWhere(Table table, Dataset<Row> source, String predicate) {
    // mergeSchema: a new feature (or column) joins the table, with its comment; older slices read it as null.
    TableComments.described(table, source).write().format("delta").mode(SaveMode.Overwrite)
        .option("replaceWhere", predicate)
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
          String meaning = TableDocs.column(table, f.name());
          spark.sql("ALTER TABLE " + identifier(table) + " ADD COLUMNS (`" + f.name() + "` " + f.dataType().sql()
              + (meaning == null ? "" : " COMMENT " + TableComments.literal(meaning)) + ")");
        }
      }
    }
    comments.upToDate(table);
  }

  /** Where Delta keeps a CHECK constraint: the table property of this prefix and the constraint's name. */
  private static final String CONSTRAINT_PROPERTY = "delta.constraints.";
  /** The columns each data file keeps statistics on ({@link Table#statisticsColumns}). */
  private static final String STATISTICS_PROPERTY = "delta.dataSkippingStatsColumns";

  private long create(Table table, Dataset<Row> source) {
    Dataset<Row> described = TableComments.described(table, source);
    String statistics = String.join(",", table.statisticsColumns());
    if (holdsFiles(table)) {
      // A first write killed before its commit left files and no log (WarehouseIntegrity lets it be redone). CREATE
      // TABLE refuses a folder that is not empty; a path write ignores files no commit names, as before comments.
      // Its columns carry their comments; the table's description comes at the next command's write.
      DataFrameWriter<Row> writer = described.write().format("delta").mode(SaveMode.Append);
      if (table.partitionColumn() != null) {
        writer = writer.partitionBy(table.partitionColumn());
      }
      for (Map.Entry<String, String> c : table.constraints().entrySet()) {
        writer = writer.option(CONSTRAINT_PROPERTY + c.getKey(), c.getValue());
      }
      writer.option(STATISTICS_PROPERTY, statistics).save(path(table));
    } else {
      // CREATE TABLE AS SELECT, so the creating commit carries the table's description as well as its columns'
      // comments (TableComments).
      DataFrameWriterV2<Row> writer = described.writeTo(identifier(table)).using("delta")
          .tableProperty(TableComments.COMMENT, TableDocs.description(table))
          .tableProperty(STATISTICS_PROPERTY, statistics);
      if (table.partitionColumn() != null) {
        writer = writer.partitionedBy(col(table.partitionColumn()));
      }
      for (Map.Entry<String, String> c : table.constraints().entrySet()) {
        writer = writer.tableProperty(CONSTRAINT_PROPERTY + c.getKey(), c.getValue());
      }
      try {
        writer.create();
      } catch (org.apache.spark.sql.catalyst.analysis.TableAlreadyExistsException e) {
        throw new IllegalStateException("table " + table.tableName() + " appeared while this run held the lock", e);
      }
      comments.created(table);
    }
    // Either way the CHECK constraints are table properties of the creating commit (Delta stores ALTER TABLE ADD
    // CONSTRAINT the same way): the first rows are checked as they are written, and a table never exists without
    // them. An ALTER per constraint after the write cost a commit and a scan of the rows each.
    integrity.markCommitted(table);
    long written = lastMetric(table, "numOutputRows");
    catalog.created(table);
    return written;
  }

  /** Whether the table's folder exists and holds anything (it has no log: callers checked it does not exist). */
  private boolean holdsFiles(Table table) {
    org.apache.hadoop.fs.Path folder = new org.apache.hadoop.fs.Path(path(table));
    try {
      org.apache.hadoop.fs.FileSystem fs = folder.getFileSystem(spark.sparkContext().hadoopConfiguration());
      return fs.exists(folder) && fs.listStatus(folder).length > 0;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot list " + folder, e);
    }
  }

  /** The table as a Delta path identifier, for SQL and {@code writeTo}. */
  String identifier(Table table) {
    return "delta.`" + path(table).replace("`", "``") + "`";
  }

  private static Written merged(Dataset<Row> metrics) {
    Row m = metrics.first();
    return new Written(m.<Long>getAs("num_inserted_rows"), m.<Long>getAs("num_updated_rows"),
        m.<Long>getAs("num_deleted_rows"));
  }

  /**
   * A metric of the table's latest commit (this run's, as it holds the warehouse lock); 0 when absent. Read from
   * the commit file, not {@code DeltaTable.history}, which runs a Spark job for it.
   */
  private long lastMetric(Table table, String metric) {
    String v = logs.latestCommitMetrics(table).get(metric);
    return v == null ? 0 : Long.parseLong(v);
  }

  /**
   * Makes every existing table queryable as {@code churn.<name>} (and by bare name) in this session, and keeps the
   * names current as this object writes ({@link #refreshNames()}). Not done otherwise (TableCatalog says why).
   */
  public void nameTables() {
    catalog.nameAll();
  }

  /** After a stage's writes: names the tables they created, if {@link #nameTables()} was called. */
  public void refreshNames() {
    catalog.refresh();
  }

  /** Registers an empty stand-in for a table not written yet ({@link TableCatalog#registerEmpty}). */
  public void registerEmpty(Table table, java.util.function.Supplier<String> select) {
    catalog.registerEmpty(table, select);
  }

  /** The single string value of key {@code key} in {@code source_settings}, or null. */
  public String setting(String key) {
    return facts.setting(key);
  }
}
