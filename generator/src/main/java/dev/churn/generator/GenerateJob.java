package dev.churn.generator;

import static org.apache.spark.sql.functions.*;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
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
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;

/**
 * Writes a synthetic activity log: {@code out/events/event_date=YYYY-MM-DD/part-00000.jsonl} (JSON lines, one
 * file per day and {@value #CUSTOMERS_PER_CHUNK} customers), {@code out/customers/} (CSV with a header), and the generator's ground truth under
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
  public record Options(String out, int customers, int days, LocalDate start, long seed, double badFraction,
      ActivityChange activityChange) {
    /** A sample whose customers behave the same throughout. */
    public Options(String out, int customers, int days, LocalDate start, long seed, double badFraction) {
      this(out, customers, days, start, seed, badFraction, null);
    }

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
      return new Options(folder, customers, days, start, seed, badFraction, activityChange);
    }
  }

  /**
   * A change of behaviour on purpose, for drift to catch: from day {@code from} on, every customer logs in (and so
   * uses the product) {@code factor} times as often as before (0.5: half as often; at most 1, as a login's chance
   * is already near 1 for the most engaged customers, a rise could not be a multiple). The days before it are the
   * same, record for record, as without it; what drives churn follows the same law after it (the customers'
   * engagement, and so their hazard, is not changed; only the random draws after the change differ).
   */
  public record ActivityChange(LocalDate from, double factor) implements java.io.Serializable {
    public ActivityChange {
      if (!(factor >= 0 && factor <= 1)) {
        throw new IllegalArgumentException("--activity-change: the factor must be between 0 and 1, not " + factor);
      }
    }

    /** "DATE=FACTOR", as the command line gives it ("2026-07-01=0.5"). */
    public static ActivityChange parse(String text) {
      String[] parts = text.split("=", 2);
      try {
        return new ActivityChange(LocalDate.parse(parts[0].trim()), Double.parseDouble(parts[1].trim()));
      } catch (java.time.format.DateTimeParseException | NumberFormatException | ArrayIndexOutOfBoundsException e) {
        throw new IllegalArgumentException("--activity-change takes DATE=FACTOR (2026-07-01=0.5), not '" + text + "'");
      }
    }

    /** The factor on day {@code d}: 1 before the change. */
    double on(LocalDate d) {
      return d.isBefore(from) ? 1.0 : factor;
    }
  }

  public record Result(long events, long customers, long badRecords) {}

  /** The ground truth of the hazard: customer x day. */
  private static final StructType HAZARD = new StructType()
      .add("customer_id", DataTypes.StringType)
      .add("date", DataTypes.DateType)
      .add("hazard", DataTypes.DoubleType)
      .add("engagement", DataTypes.DoubleType);
  private static final StructType BAD = new StructType()
      .add("event_id", DataTypes.StringType)
      .add("folder_date", DataTypes.DateType)
      .add("expected_reason", DataTypes.StringType);
  /** Customers per simulation task: each task writes its own part file per day, so this bounds the file count. */
  static final int CUSTOMERS_PER_CHUNK = 5000;
  static final String CUSTOMERS_HEADER = "customer_id,segment,industry,plan,mrr,signup_date,trial_end_date";

  private final SparkSession spark;
  private final Options options;

  public GenerateJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  /**
   * Simulates the customers in chunks of {@value #CUSTOMERS_PER_CHUNK}, one task each. A task writes its
   * customers' events straight into {@code events/event_date=D/part-<chunk>.jsonl} and its customers into
   * {@code customers/part-<chunk>.csv} (no shuffle: the files of a day are the chunks' files), and returns the
   * ground truth as rows. Files are named by chunk, so the output does not depend on the cluster.
   */
  public Result run() {
    Options o = options;
    int chunks = (o.customers() + CUSTOMERS_PER_CHUNK - 1) / CUSTOMERS_PER_CHUNK;
    String out = o.out();
    LocalDate start = o.start();
    int days = o.days();
    int customers = o.customers();
    long seed = o.seed();
    double bad = o.badFraction();
    ActivityChange change = o.activityChange();
    claim(spark, o.out());
    delete(out + "/events");
    delete(out + "/customers");
    LongAccumulator events = spark.sparkContext().longAccumulator("generated events");
    CollectionAccumulator<Row> badRecords = spark.sparkContext().collectionAccumulator("injected bad records");
    MapPartitionsFunction<Long, Row> simulate = (Iterator<Long> ids) -> {
      if (!ids.hasNext()) {
        return java.util.Collections.emptyIterator();
      }
      int chunk = ids.next().intValue(); // spark.range below puts one chunk in each partition
      return new Chunk(out, chunk, Math.min(customers, (chunk + 1) * CUSTOMERS_PER_CHUNK), seed, start, days, bad,
          change, events, badRecords);
    };
    // One pass: the hazard rows are written as they come; events, customers and bad records leave by the side.
    spark.range(0, chunks, 1, chunks).as(Encoders.LONG()).mapPartitions(simulate, Encoders.row(HAZARD))
        .write().mode(SaveMode.Overwrite).parquet(out + "/truth/hazard");
    List<Row> badRows = badRecords.value();
    spark.createDataFrame(badRows, BAD).coalesce(1).write().mode(SaveMode.Overwrite).option("header", true)
        .csv(out + "/truth/bad_records");
    renameParts(out + "/truth/bad_records", ".csv");
    return new Result(events.value(), o.customers(), badRows.size());
  }

  /**
   * One task's work, customer by customer as the hazard rows are consumed: customers [chunk * size, end), their
   * events and customer rows written to the chunk's files, their hazard rows returned, bad records and the event
   * count sent to accumulators.
   */
  private static final class Chunk implements Iterator<Row>, SyntheticCustomer.Sink {
    private final String out;
    private final String part;
    private final FileSystem fs;
    private final Map<LocalDate, Writer> files = new HashMap<>();
    private final Writer customersFile;
    private final java.util.ArrayDeque<Row> hazard = new java.util.ArrayDeque<>();
    private final long seed;
    private final LocalDate start;
    private final int days;
    private final double bad;
    private final ActivityChange change;
    private final LongAccumulator events;
    private final CollectionAccumulator<Row> badRecords;
    private final long end;
    private long next;
    private long written;
    private boolean closed;

    Chunk(String out, int chunk, long end, long seed, LocalDate start, int days, double bad, ActivityChange change,
        LongAccumulator events, CollectionAccumulator<Row> badRecords) throws IOException {
      this.out = out;
      this.part = String.format("part-%05d", chunk);
      this.fs = new Path(out).getFileSystem(new Configuration());
      this.next = (long) chunk * CUSTOMERS_PER_CHUNK;
      this.end = end;
      this.seed = seed;
      this.start = start;
      this.days = days;
      this.bad = bad;
      this.change = change;
      this.events = events;
      this.badRecords = badRecords;
      this.customersFile = open(fs, new Path(out + "/customers/" + part + ".csv"));
      customersFile.write(CUSTOMERS_HEADER + "\n");
    }

    @Override
    public boolean hasNext() {
      try {
        while (hazard.isEmpty() && next < end) {
          SyntheticCustomer c = new SyntheticCustomer(seed, next++, start, days);
          customersFile.write(c.customerCsv());
          customersFile.write('\n');
          c.simulate(start, days, bad, this, null, 1.0, change);
        }
        if (hazard.isEmpty() && !closed) {
          close();
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return !hazard.isEmpty();
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new java.util.NoSuchElementException();
      }
      return hazard.poll();
    }

    private void close() throws IOException {
      customersFile.close();
      for (Writer w : files.values()) {
        w.close();
      }
      events.add(written);
      closed = true;
    }

    @Override
    public void event(LocalDate folder, String line) {
      try {
        Writer w = files.get(folder);
        if (w == null) {
          w = open(fs, new Path(out + "/events/event_date=" + folder + "/" + part + ".jsonl"));
          files.put(folder, w);
        }
        w.write(line);
        w.write('\n');
        written++;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    @Override
    public void truth(String customerId, LocalDate d, double h, double engagement) {
      hazard.add(RowFactory.create(customerId, java.sql.Date.valueOf(d), h, engagement));
    }

    @Override
    public void bad(String eventId, LocalDate folder, String reason) {
      badRecords.add(RowFactory.create(eventId, java.sql.Date.valueOf(folder), reason));
    }
  }

  /**
   * A buffered UTF-8 writer on {@code path}. Local files are opened with java.nio: Hadoop's local file system
   * starts a {@code chmod} process per file and writes a {@code .crc} beside it, which cost more than the data.
   */
  private static Writer open(FileSystem fs, Path path) throws IOException {
    if (fs instanceof org.apache.hadoop.fs.LocalFileSystem local) {
      java.nio.file.Path file = local.pathToFile(path).toPath();
      java.nio.file.Files.createDirectories(file.getParent());
      return java.nio.file.Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    }
    return new BufferedWriter(new OutputStreamWriter(fs.create(path, true), StandardCharsets.UTF_8), 1 << 16);
  }

  /** The file that marks a folder as the generator's output, so a later run may replace what is under it. */
  public static final String MARKER = "_churn_generated";

  /** What the generator writes at the top of its folder (events, customers and truth; a shape's canonical log). */
  private static final java.util.Set<String> OWN = java.util.Set.of("events", "customers", "truth", "interventions",
      LogShapes.CANONICAL_FOLDER, MARKER);

  /**
   * Refuses {@code out} unless it is missing, empty, or holds only what the generator writes (and no Delta table,
   * so never a warehouse), then marks it as the generator's. The generator replaces its events and customers
   * folders: without this, {@code generate --out <warehouse>} replaced the warehouse's tables with raw files.
   *
   * @throws IllegalArgumentException naming what does not belong to the generator
   */
  public static void claim(SparkSession spark, String out) {
    try {
      Path root = new Path(out);
      FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (fs.exists(root)) {
        if (!fs.getFileStatus(root).isDirectory()) {
          throw new IllegalArgumentException("--out " + out + " is a file, not a folder");
        }
        for (FileStatus st : fs.listStatus(root)) {
          String name = st.getPath().getName();
          if (!OWN.contains(name) || fs.exists(new Path(st.getPath(), "_delta_log"))) {
            throw new IllegalArgumentException("--out " + out + " holds " + name + ", which the generator did not "
                + "write (a warehouse, or other files): give an empty or new folder; nothing was changed");
          }
        }
      }
      fs.create(new Path(root, MARKER), true).close();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot check " + out + ": " + e.getMessage(), e);
    }
  }

  private void delete(String dir) {
    try {
      Path p = new Path(dir);
      p.getFileSystem(spark.sparkContext().hadoopConfiguration()).delete(p, true);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot clear " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Gives Spark's part files stable names (part-00000.jsonl, ...) and drops its marker files. */
  private void renameParts(String dir, String extension) {
    renameParts(spark, dir, extension);
  }

  /** As {@link #renameParts(String, String)}, for the other writers of the generator. */
  static void renameParts(SparkSession spark, String dir, String extension) {
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
