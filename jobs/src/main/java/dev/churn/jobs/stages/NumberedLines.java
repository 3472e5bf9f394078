package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.Events;
import dev.churn.jobs.warehouse.ChurnException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.datasources.FilePartition;
import org.apache.spark.sql.execution.datasources.PartitionedFile;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The lines of raw text files, each with its file and its 1-based line number through the whole file (also when
 * Spark reads a large file in several splits), read from the files {@link InputFiles} lists.
 */
final class NumberedLines {
  /** The column of a line's text. */
  static final String LINE = "value";

  private final SparkSession spark;

  NumberedLines(SparkSession spark) {
    this.spark = spark;
  }

  /** The files under {@code inputs}, each once, links followed without loops ({@link InputFiles}). */
  List<String> files(List<String> inputs) {
    org.apache.hadoop.conf.Configuration conf =
        new org.apache.hadoop.conf.Configuration(spark.sparkContext().hadoopConfiguration());
    conf.set("fs.file.impl", "org.apache.hadoop.fs.RawLocalFileSystem");
    conf.setBoolean("fs.file.impl.disable.cache", true);
    return InputFiles.list(inputs, conf);
  }

  /**
   * A reader of raw files. Local files are read without Hadoop's checksum files: a stale {@code .crc} beside a
   * log (left by a tool that rewrote the file) would otherwise fail the whole ingest.
   */
  DataFrameReader reader() {
    // The paths are the literal ones InputFiles listed: "__globPaths__" (DataSource.GLOB_PATHS_KEY) keeps Spark
    // from reading a name such as report[1].csv as a pattern.
    return spark.read().option("recursiveFileLookup", "true").option("__globPaths__", "false")
        .option("fs.file.impl", "org.apache.hadoop.fs.RawLocalFileSystem")
        .option("fs.file.impl.disable.cache", "true");
  }

  /**
   * Every line of the files with its file and 1-based line number, without a shuffle: each split's lines are
   * numbered in the order they are read, and a split that starts inside a file (files larger than Spark's split
   * size) adds the lines before its start, counted on the driver.
   */
  Dataset<Row> of(List<String> paths) {
    Dataset<Row> raw = reader().text(paths.toArray(String[]::new))
        .select(col(LINE), col("_metadata.file_path").as(Events.SOURCE_FILE),
            col("_metadata.file_block_start").as(BLOCK));
    StructType numbered = raw.schema().add(INDEX, DataTypes.LongType);
    Dataset<Row> counted = raw.mapPartitions(new NumberLines(), Encoders.row(numbered));
    Map<String, Map<Long, Long>> offsets = splitOffsets(raw);
    Column position = col(INDEX);
    if (!offsets.isEmpty()) {
      List<Row> rows = new ArrayList<>();
      offsets.forEach((file, starts) -> starts.forEach((start, before) -> rows.add(RowFactory.create(file, start, before))));
      Dataset<Row> table = spark.createDataFrame(rows, new StructType().add("_of_file", DataTypes.StringType)
          .add("_of_block", DataTypes.LongType).add("_before", DataTypes.LongType));
      counted = counted.join(broadcast(table), col(Events.SOURCE_FILE).equalTo(col("_of_file"))
          .and(col(BLOCK).equalTo(col("_of_block"))), "left");
      position = position.plus(coalesce(col("_before"), lit(0L)));
    }
    // A byte-order mark opens some files written on Windows: it is not part of the first record.
    Column line = when(col(LINE).startsWith("\uFEFF"), col(LINE).substr(2, Integer.MAX_VALUE)).otherwise(col(LINE));
    return counted.select(line.as(LINE), col(Events.SOURCE_FILE),
        position.as(Events.SOURCE_POSITION));
  }

  private static final String BLOCK = "_block";
  private static final String INDEX = "_index";

  /** Numbers the rows of a partition 1, 2, ... within each (file, split) in the order read. */
  private static final class NumberLines implements MapPartitionsFunction<Row, Row> {
    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      return new Iterator<>() {
        private String file;
        private long block = -1;
        private long index;

        @Override
        public boolean hasNext() {
          return rows.hasNext();
        }

        @Override
        public Row next() {
          Row r = rows.next();
          String f = r.getString(1);
          long b = r.getLong(2);
          if (b != block || !f.equals(file)) {
            file = f;
            block = b;
            index = 0;
          }
          return RowFactory.create(r.getString(0), f, b, ++index);
        }
      };
    }
  }

  /**
   * For each file Spark reads in more than one split: split start -> lines that begin before it. Hadoop's line
   * reader gives a split every line that begins after its start and at or before its end, so the lines before
   * split k are 1 + the newlines in bytes [0, start). (Line ends are {@code \\n} or {@code \\r\\n}.)
   */
  private Map<String, Map<Long, Long>> splitOffsets(Dataset<Row> raw) {
    Map<String, java.util.TreeSet<Long>> starts = new java.util.HashMap<>();
    Map<String, Path> files = new java.util.HashMap<>();
    for (org.apache.spark.Partition p : raw.rdd().partitions()) {
      if (p instanceof FilePartition fp) {
        for (PartitionedFile f : fp.files()) {
          if (f.start() > 0) {
            if (new org.apache.hadoop.io.compress.CompressionCodecFactory(spark.sparkContext().hadoopConfiguration())
                .getCodec(f.toPath()) != null) {
              throw ChurnException.badData(f.toPath() + " is a compressed file Spark reads in several splits, whose "
                  + "line numbers cannot be counted: decompress it, or cut it into files smaller than "
                  + "spark.sql.files.maxPartitionBytes; no events were read");
            }
            // Keyed as _metadata.file_path spells the file (file:/x, where the split's own URI says file:///x).
            String file = f.toPath().toString();
            starts.computeIfAbsent(file, k -> new java.util.TreeSet<>()).add(f.start());
            files.put(file, f.toPath());
          }
        }
      }
    }
    Map<String, Map<Long, Long>> out = new java.util.HashMap<>();
    for (Map.Entry<String, java.util.TreeSet<Long>> e : starts.entrySet()) {
      Path path = files.get(e.getKey());
      Map<Long, Long> before = new java.util.HashMap<>();
      try (java.io.InputStream in = new java.io.BufferedInputStream(
          path.getFileSystem(spark.sparkContext().hadoopConfiguration()).open(path), 1 << 20)) {
        long pos = 0;
        long newlines = 0;
        for (long start : e.getValue()) {
          for (; pos < start; pos++) {
            int c = in.read();
            if (c < 0) {
              break;
            }
            if (c == '\n') {
              newlines++;
            }
          }
          before.put(start, 1 + newlines); // the lines before the split; its own numbering starts at 1
        }
      } catch (IOException ex) {
        throw new ChurnException(ChurnException.FAILURE, "cannot read " + path + ": " + ex.getMessage(), ex);
      }
      out.put(e.getKey(), before);
    }
    return out;
  }
}
