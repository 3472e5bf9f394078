package dev.churn.jobs.warehouse;

import io.delta.kernel.Snapshot;
import io.delta.kernel.defaults.engine.DefaultEngine;
import io.delta.kernel.engine.Engine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;

/**
 * Writes {@link TableDocs}' text into the tables as Delta comments: a table's description and each column's
 * comment, which {@code DESCRIBE churn.<table>} and any catalog that reads Delta's schema show.
 *
 * <p>A table is created with them (its creating commit carries the description and the columns' comments, no
 * commit more), and a column a write adds carries its own ({@link #described}: Delta's schema merge keeps a new
 * field's comment and leaves stored ones alone). A table written before comments existed, or whose text changed
 * since, gains them at the next write of a command ({@link #upToDate}): one {@code ALTER TABLE ... ALTER COLUMN}
 * for every column that differs and one {@code SET TBLPROPERTIES} for the description, so at most two commits,
 * once. Comments change no row: a rerun or a kill between the write and the comment changes nothing a reader sees
 * but the text, which the next write completes. A table whose comments cannot be read or written (a Delta feature
 * Kernel does not read, a refused ALTER) keeps them as they are, with a warning: comments never fail a write.
 */
final class TableComments {
  private static final Logger LOG = LogManager.getLogger(TableComments.class);
  /** The key of a Spark field's comment in its metadata, which Delta stores with the schema. */
  static final String COMMENT = "comment";

  private final Warehouse warehouse;
  /** Tables checked by this warehouse object (a command's): checked once, not at every write. */
  private final Set<Table> checked = java.util.concurrent.ConcurrentHashMap.newKeySet();

  TableComments(Warehouse warehouse) {
    this.warehouse = warehouse;
  }

  /** {@code source} with each column it has a meaning for carrying that meaning as its comment. */
  static Dataset<Row> described(Table table, Dataset<Row> source) {
    Column[] columns = Arrays.stream(source.columns()).map(c -> {
      String meaning = TableDocs.column(table, c);
      Column column = source.col("`" + c + "`");
      if (meaning == null) {
        return column;
      }
      Metadata kept = Arrays.stream(source.schema().fields()).filter(f -> f.name().equals(c)).findFirst()
          .orElseThrow().metadata();
      return column.as(c, new MetadataBuilder().withMetadata(kept).putString(COMMENT, meaning).build());
    }).toArray(Column[]::new);
    return source.select(columns);
  }

  /**
   * Brings an existing table's comments up to {@link TableDocs}' text, once per command: nothing when they match
   * (the usual case, read from the table's log in the driver by Delta Kernel, no Spark job). A table Kernel cannot
   * load keeps its comments, with a warning: comments are never worth failing a write for.
   */
  void upToDate(Table table) {
    if (!checked.add(table)) {
      return;
    }
    try {
      Engine engine = DefaultEngine.create(warehouse.spark().sparkContext().hadoopConfiguration());
      Snapshot snapshot = io.delta.kernel.Table.forPath(engine, warehouse.path(table)).getLatestSnapshot(engine);
      List<String> changes = new ArrayList<>();
      for (io.delta.kernel.types.StructField f : snapshot.getSchema().fields()) {
        String meaning = TableDocs.column(table, f.getName());
        if (meaning != null && !meaning.equals(f.getMetadata().get(COMMENT))) {
          changes.add("`" + f.getName().replace("`", "``") + "` COMMENT " + literal(meaning));
        }
      }
      if (!changes.isEmpty()) {
        warehouse.spark().sql("ALTER TABLE " + warehouse.identifier(table) + " ALTER COLUMN "
            + String.join(", ", changes));
      }
      String description = TableDocs.description(table);
      if (!description.equals(((io.delta.kernel.internal.SnapshotImpl) snapshot).getMetadata().getDescription()
          .orElse(null))) {
        warehouse.spark().sql("ALTER TABLE " + warehouse.identifier(table) + " SET TBLPROPERTIES ('" + COMMENT + "' = "
            + literal(description) + ")");
      }
    } catch (RuntimeException | LinkageError e) {
      LOG.warn("cannot bring the comments of " + warehouse.path(table) + " up to date; leaving them as they are", e);
    }
  }

  /** Marks a table this command created (with its comments): nothing to bring up to date. */
  void created(Table table) {
    checked.add(table);
  }

  /** A SQL string literal of {@code text}. */
  static String literal(String text) {
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
