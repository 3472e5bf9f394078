package dev.churn.generator;

import static org.apache.spark.sql.functions.*;

import java.io.IOException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Writes a synthetic activity log: {@code out/events/event_date=YYYY-MM-DD/part-00000.jsonl} (JSON lines, one
 * file per day), {@code out/customers/} (CSV with a header), and the generator's ground truth under
 * {@code out/truth/}: {@code hazard/} (customer x day churn hazard and latent engagement, Parquet) and
 * {@code bad_records/} (every injected bad record with the reason ingest must give it; late events carry
 * {@code late}, which ingest must accept). Parallel over customers and deterministic for a seed: the same
 * arguments give the same files, whatever the cluster.
 */
public final class GenerateJob {
  public static final int DEFAULT_CUSTOMERS = 2000;
  public static final int DEFAULT_DAYS = 120;
  public static final String DEFAULT_START = "2026-01-01";
  public static final long DEFAULT_SEED = 7;

  /**
   * What to generate: {@code customers} customers over {@code days} days from {@code start}, deterministic for
   * {@code seed}, with {@code badFraction} (at most 0.5) of the records made bad on purpose.
   */
  public record Options(String out, int customers, int days, LocalDate start, long seed, double badFraction) {
    public Options {
      if (customers <= 0 || days <= 0) {
        throw new IllegalArgumentException("--customers and --days must be positive");
      }
      if (!(badFraction >= 0 && badFraction <= 0.5)) {
        throw new IllegalArgumentException("--bad-fraction must be between 0 and 0.5");
      }
    }

    /** The same sample written to another folder. */
    public Options withOut(String folder) {
      return new Options(folder, customers, days, start, seed, badFraction);
    }
  }

  public record Result(long events, long customers, long badRecords) {}

  private static final StructType LINES = new StructType()
      .add("kind", DataTypes.StringType)
      .add("date", DataTypes.DateType)
      .add("sort_key", DataTypes.StringType)
      .add("text", DataTypes.StringType);

  private final SparkSession spark;
  private final Options options;

  public GenerateJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  public Result run() {
    Options o = options;
    int partitions = Math.max(2, Math.min(400, o.customers() / 500 + 1));
    LocalDate start = o.start();
    int days = o.days();
    long seed = o.seed();
    double bad = o.badFraction();
    MapPartitionsFunction<Long, Row> simulate = (Iterator<Long> ids) -> {
      List<Row> rows = new ArrayList<>();
      while (ids.hasNext()) {
        SyntheticCustomer c = new SyntheticCustomer(seed, ids.next(), start, days);
        for (SyntheticCustomer.Line l : c.simulate(start, days, bad)) {
          rows.add(RowFactory.create(l.kind(), l.date() == null ? null : java.sql.Date.valueOf(l.date()),
              l.sortKey(), l.text()));
        }
      }
      return rows.iterator();
    };
    Dataset<Row> lines = spark.range(0, o.customers(), 1, partitions).as(Encoders.LONG())
        .mapPartitions(simulate, Encoders.row(LINES))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      String eventsDir = o.out() + "/events";
      Dataset<Row> events = lines.where(col("kind").equalTo("event"));
      events.repartition(col("date")).sortWithinPartitions(col("date"), col("sort_key"))
          .select(col("text"), col("date").as("event_date"))
          .write().mode(SaveMode.Overwrite).partitionBy("event_date").text(eventsDir);
      renameParts(eventsDir, ".jsonl");

      Dataset<Row> customers = lines.where(col("kind").equalTo("customer")).orderBy(col("sort_key"))
          .select(split(col("text"), ",", -1).as("f"))
          .select(col("f").getItem(0).as("customer_id"), col("f").getItem(1).as("segment"),
              col("f").getItem(2).as("industry"), col("f").getItem(3).as("plan"), col("f").getItem(4).as("mrr"),
              col("f").getItem(5).as("signup_date"), col("f").getItem(6).as("trial_end_date"));
      customers.coalesce(1).write().mode(SaveMode.Overwrite).option("header", true).csv(o.out() + "/customers");
      renameParts(o.out() + "/customers", ".csv");

      lines.where(col("kind").equalTo("truth")).select(split(col("text"), ",").as("f"))
          .select(col("f").getItem(0).as("customer_id"), col("f").getItem(1).cast("date").as("date"),
              col("f").getItem(2).cast("double").as("hazard"), col("f").getItem(3).cast("double").as("engagement"))
          .write().mode(SaveMode.Overwrite).parquet(o.out() + "/truth/hazard");
      Dataset<Row> badLines = lines.where(col("kind").equalTo("bad")).select(split(col("text"), ",").as("f"))
          .select(col("f").getItem(0).as("event_id"), col("f").getItem(1).cast("date").as("folder_date"),
              col("f").getItem(2).as("expected_reason"));
      badLines.coalesce(1).write().mode(SaveMode.Overwrite).option("header", true).csv(o.out() + "/truth/bad_records");
      return new Result(events.count(), o.customers(), badLines.count());
    } finally {
      lines.unpersist();
    }
  }

  /** Gives Spark's part files stable names (part-00000.jsonl, ...) and drops its marker files. */
  private void renameParts(String dir, String extension) {
    try {
      Path root = new Path(dir);
      FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
      renameIn(fs, root, extension);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot rename generated files in " + dir + ": " + e.getMessage(), e);
    }
  }

  private static void renameIn(FileSystem fs, Path dir, String extension) throws IOException {
    int n = 0;
    FileStatus[] entries = fs.listStatus(dir);
    java.util.Arrays.sort(entries);
    for (FileStatus st : entries) {
      String name = st.getPath().getName();
      if (st.isDirectory()) {
        renameIn(fs, st.getPath(), extension);
      } else if (name.startsWith("part-")) {
        fs.rename(st.getPath(), new Path(dir, String.format("part-%05d%s", n++, extension)));
      } else if (name.startsWith("_") || name.startsWith(".")) {
        fs.delete(st.getPath(), false);
      }
    }
  }
}
