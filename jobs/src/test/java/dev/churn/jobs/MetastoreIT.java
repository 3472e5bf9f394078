package dev.churn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.TableDocs;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.EndToEnd;
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
 * reader run one after the other, each in a child JVM ({@link MetastoreProbe}): this JVM's session has no Hive,
 * and the reader must find the names in the metastore's files, not in the command's memory.
 */
@EndToEnd
class MetastoreIT extends JobsSuite {
  @Test
  void anotherSessionOnTheMetastoreReadsTheTablesByName() throws Exception {
    Warehouse w = new Warehouse(spark, tempDir("metastore-wh").toString());
    StructType scores = new StructType().add("customer_id", DataTypes.StringType).add("as_of_date", DataTypes.DateType)
        .add("churn_probability", DataTypes.DoubleType);
    Date day = Date.valueOf("2026-03-01");
    w.replaceDates(Table.CHURN_SCORES, spark.createDataFrame(List.of(RowFactory.create("a", day, 0.1),
        RowFactory.create("b", day, 0.7)), scores), List.of(day.toLocalDate()));
    w.upsert(Table.RETENTION_RATES, spark.sql("SELECT 'month' AS period_type, DATE'2026-02-01' AS period_start, "
        + "'ALL' AS segment, 'ALL' AS industry, 0.1D AS churn_rate, 0.9D AS retention_rate, "
        + "0.28D AS retention_rate_annualized"));
    Path metastore = tempDir("metastore");

    String registered = child("register", w, metastore);
    assertTrue(Files.exists(metastore.resolve("metastore_db")), "the metastore is in the folder given: " + registered);
    String out = child("read", w, metastore);
    assertTrue(out.contains("PROBE scores=2 rates=1 churn_rate="
        + TableDocs.column(Table.RETENTION_RATES, "churn_rate")), out);
  }

  /** Runs {@link MetastoreProbe} {@code mode} in a child JVM; returns what it printed, once it exited 0. */
  private static String child(String mode, Warehouse w, Path metastore) throws Exception {
    List<String> command = childJvm("1g", "local[1]", java.util.Map.of());
    command.addAll(List.of(MetastoreProbe.class.getName(), mode, w.root().replace("file:", ""), metastore.toString()));
    Path log = metastore.resolveSibling(metastore.getFileName() + "-" + mode + ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
        .directory(metastore.toFile());
    builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process child = builder.start();
    assertTrue(child.waitFor(5, TimeUnit.MINUTES), "the probe did not end: " + mode);
    String out = read(log);
    assertEquals(0, child.exitValue(), mode + ":\n" + out);
    return out;
  }

  private static String read(Path log) throws IOException {
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }
}
