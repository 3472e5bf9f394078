package dev.churn.jobs.warehouse;

import java.net.URI;
import org.apache.spark.sql.SparkSession;

/**
 * The session catalog's names for a warehouse's tables ({@code churn.<name>}): registered by location, so dropping
 * a name never touches files. The session's catalog is this run's own, or with {@code --metastore} a Hive metastore
 * other sessions share (ChurnCli's Metastore: one warehouse per metastore).
 *
 * <p>Nothing is named until {@link #nameAll()}: a name costs a catalog entry and a read of the table's Delta log
 * (about a fifth of a small command's driver time when every command named every table), and only a session that
 * runs SQL by name (the {@code sql} command, the demo's summary) or shares a metastore uses it. After that call,
 * the tables this warehouse object writes are named as they appear.
 */
final class TableCatalog {
  private final Warehouse warehouse;
  private final SparkSession spark;
  private boolean named;

  TableCatalog(Warehouse warehouse) {
    this.warehouse = warehouse;
    this.spark = warehouse.spark();
  }

  private String path(Table table) {
    return warehouse.path(table);
  }

  /** Names every existing table now, and from then on each table as this warehouse object writes it. */
  void nameAll() {
    named = true;
    registerAll();
  }

  /** After a write: names what it created, once {@link #nameAll()} was called; nothing otherwise. */
  void refresh() {
    if (named) {
      registerAll();
    }
  }

  /** After {@code table} was created: names it, once {@link #nameAll()} was called; nothing otherwise. */
  void created(Table table) {
    if (named) {
      register(table);
    }
  }

  /** Makes every existing table queryable as {@code churn.<name>} (and by bare name) in this session. */
  private void registerAll() {
    spark.sql("CREATE DATABASE IF NOT EXISTS " + Table.DATABASE);
    for (Table t : Table.values()) {
      // Already in this session's catalog at this location: skip the DDL and the Delta log read of exists().
      if (!registeredHere(t)) {
        if (warehouse.exists(t)) {
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
  void registerEmpty(Table table, java.util.function.Supplier<String> select) {
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
}
