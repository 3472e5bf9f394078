package dev.churn.jobs;

import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/**
 * {@link MetastoreIT}'s child JVMs. {@code register WAREHOUSE METASTORE} runs a churn command with
 * {@code --metastore}; {@code read WAREHOUSE METASTORE}, in another JVM afterwards, opens a plain Spark session
 * that knows only the metastore (and Delta, as any Delta reader's session does) and reads the tables by name.
 */
final class MetastoreProbe {
  private MetastoreProbe() {}

  public static void main(String[] args) {
    if (args[0].equals("register")) {
      String[] command = {"--warehouse", args[1], "--metastore", args[2], "sql", "SELECT 1"};
      System.exit(ChurnCli.commandLine(new ChurnCli(), command).execute(command));
    }
    SparkSession reader = SparkSession.builder().master("local[1]").appName("another reader")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.catalogImplementation", "hive")
        .config("spark.hadoop.javax.jdo.option.ConnectionURL",
            "jdbc:derby:;databaseName=" + Path.of(args[2], "metastore_db").toAbsolutePath())
        .getOrCreate();
    long scores = reader.sql("SELECT * FROM churn.churn_scores").count();
    long rates = reader.sql("SELECT * FROM churn.retention_rates").count();
    String comment = reader.sql("DESCRIBE churn.retention_rates").where("col_name = 'churn_rate'").first().getString(2);
    System.out.println("PROBE scores=" + scores + " rates=" + rates + " churn_rate=" + comment);
    reader.stop();
    System.exit(0);
  }
}
