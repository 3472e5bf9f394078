package dev.churn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.TableDocs;
import dev.churn.jobs.warehouse.Warehouse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * #30's catalog option: a command run with {@code --metastore FOLDER} registers the warehouse's tables in that
 * Hive metastore, and a separate Spark session configured only with the metastore (and Delta) reads
 * {@code churn.churn_scores} and {@code churn.retention_rates} by name, with their comments. The command and the
 * reader run in a child JVM ({@link MetastoreProbe}): one Spark context per JVM, and this one's has no Hive.
 */
class MetastoreTest extends JobsSuite {
  @Test
  void anotherSessionOnTheMetastoreReadsTheTablesByName() throws Exception {
    Warehouse w = new Warehouse(spark, tempDir("metastore-wh").toString());
    StructType scores = new StructType().add("customer_id", DataTypes.StringType).add("as_of_date", DataTypes.DateType)
        .add("churn_probability", DataTypes.DoubleType);
    Date day = Date.valueOf("2026-03-01");
    w.replaceDates(Table.CHURN_SCORES, spark.createDataFrame(List.of(RowFactory.create("a", day, 0.1),
        RowFactory.create("b", day, 0.7)), scores), List.of(day.toLocalDate()));
    w.upsert(Table.RETENTION_RATES, spark.sql("SELECT 'month' AS period_type, DATE'2026-02-01' AS period_start, "
        + "'all' AS segment, 'all' AS industry, 0.1D AS churn_rate, 0.9D AS retention_rate, "
        + "0.28D AS retention_rate_annualized"));
    Path metastore = tempDir("metastore");

    List<String> command = childJvm("1g", "local[1]", java.util.Map.of());
    command.addAll(List.of(MetastoreProbe.class.getName(), w.root().replace("file:", ""), metastore.toString()));
    Path log = metastore.resolveSibling(metastore.getFileName() + ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
        .directory(metastore.toFile());
    builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process child = builder.start();
    assertTrue(child.waitFor(5, TimeUnit.MINUTES), "the probe did not end");
    String out = read(log);
    assertEquals(0, child.exitValue(), out);
    assertTrue(out.contains("PROBE scores=2 rates=1 churn_rate="
        + TableDocs.column(Table.RETENTION_RATES, "churn_rate")), out);
    assertTrue(Files.exists(metastore.resolve("metastore_db")), "the metastore is in the folder given");
  }

  private static String read(Path log) throws IOException {
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }
}
