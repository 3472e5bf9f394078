package dev.churn.jobs;

import dev.churn.jobs.warehouse.ChurnException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The catalog option ({@code --metastore}, config key {@code metastore}): the Spark settings that make a command's
 * session keep its catalog in a Hive metastore, so the warehouse's tables, registered there as external Delta tables
 * ({@code churn.<table>}, by location, with the comments Delta keeps in their logs), are found by name by any Spark
 * session configured with the same metastore, not only by churn's own sessions.
 *
 * <p>The value is either a metastore service's URI ({@code thrift://host:9083}) or a folder, where Spark's embedded
 * metastore keeps a Derby database ({@code metastore_db/}, created on first use) and its log. Default: none, the
 * session's own in-memory catalog, registered anew by every command. Dangers: an embedded Derby database admits one
 * JVM at a time, both ways (a notebook's session holding it open makes a command fail to register, and a reader
 * cannot open it while a command runs: use a metastore service for concurrent readers). With a service, databases are
 * created under this session's {@code spark.sql.warehouse.dir} unless the service says otherwise: set it (a {@code
 * --conf}) to the service's warehouse. A metastore serves one warehouse: every command, readers included, points the
 * {@code churn.<table>} names at its own warehouse ({@code TableCatalog}), replacing what another warehouse
 * registered there, and names a table it does not have yet with an empty view. Replacing or dropping a name drops the
 * entry only, never files (the tables are external).
 */
final class Metastore {
  private Metastore() {}

  /** The session settings for {@code value} (a thrift URI or a folder); empty for null or blank. */
  static Map<String, String> settings(String value) {
    Map<String, String> conf = new LinkedHashMap<>();
    if (value == null || value.isBlank()) {
      return conf;
    }
    try {
      Class.forName("org.apache.spark.sql.hive.HiveSessionStateBuilder", false, Metastore.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw ChurnException.usage("--metastore needs Spark's Hive support (spark-hive) on the class path, which this "
          + "Spark lacks: use a Spark distribution built with Hive, or leave the option out");
    }
    conf.put("spark.sql.catalogImplementation", "hive");
    if (value.matches("^thrift://.+")) {
      conf.put("spark.hadoop.hive.metastore.uris", value);
      return conf;
    }
    if (value.matches("^[a-zA-Z][a-zA-Z0-9+.-]+:/.*")) {
      throw ChurnException.usage("--metastore " + value + " is neither a thrift:// URI nor a local folder");
    }
    Path folder = Path.of(value).toAbsolutePath().normalize();
    if (Files.exists(folder) && !Files.isDirectory(folder)) {
      throw ChurnException.usage("--metastore " + value + " is a file, not a folder");
    }
    conf.put("spark.hadoop.javax.jdo.option.ConnectionURL",
        "jdbc:derby:;databaseName=" + folder.resolve("metastore_db") + ";create=true");
    // Where managed tables would go (churn registers external tables only) and Hive's scratch space: inside the
    // folder, not in the working directory or /tmp.
    conf.put("spark.sql.warehouse.dir", folder.resolve("managed").toUri().toString());
    conf.put("spark.hadoop.hive.exec.scratchdir", folder.resolve("scratch").toString());
    return conf;
  }

  /**
   * Prepares the JVM for an embedded metastore in {@code value}'s folder before the session opens: Derby writes its
   * log into the folder (else {@code derby.log} in the working directory).
   */
  static void prepare(String value) {
    Map<String, String> conf = settings(value);
    if (conf.containsKey("spark.hadoop.javax.jdo.option.ConnectionURL")) {
      Path folder = Path.of(value).toAbsolutePath().normalize();
      try {
        Files.createDirectories(folder);
      } catch (java.io.IOException e) {
        throw ChurnException.usage("--metastore " + value + ": cannot create the folder (" + e.getMessage() + ")");
      }
      System.setProperty("derby.stream.error.file", folder.resolve("derby.log").toString());
    }
  }
}
