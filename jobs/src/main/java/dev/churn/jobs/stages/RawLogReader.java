package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.EventValidation;
import dev.churn.features.Events;
import dev.churn.features.SourceMapping;
import dev.churn.jobs.warehouse.ChurnException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.execution.datasources.FilePartition;
import org.apache.spark.sql.execution.datasources.PartitionedFile;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Reads raw log files into records that keep their lineage: the file, the 1-based line (or Parquet row) in it,
 * the record's raw text, whether it could be parsed, and the {@code event_date=} folder it sat in. Text formats
 * are read line by line with an explicit all-string schema, so a malformed line is kept (flagged) rather than
 * dropped or nulled; blank lines are not records and are skipped.
 */
public final class RawLogReader {
  private static final String CORRUPT = "_corrupt_record";
  private static final String LINE = "value";

  private final SparkSession spark;

  public RawLogReader(SparkSession spark) {
    this.spark = spark;
  }

  /** Fails with a usage error (exit 2) when a path matches no file. */
  public void requireExists(List<String> paths) {
    for (String p : paths) {
      try {
        Path path = new Path(p);
        FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
        FileStatus[] matches = fs.globStatus(path);
        if (matches == null || matches.length == 0) {
          throw ChurnException.usage("input path does not exist: " + p);
        }
      } catch (IOException e) {
        throw new ChurnException(ChurnException.FAILURE, "cannot list input path " + p + ": " + e.getMessage(), e);
      }
    }
  }

  /** Source columns of the mapping (or of the file header) plus the lineage columns of {@link EventValidation}. */
  public Dataset<Row> read(List<String> paths, SourceMapping mapping) {
    requireExists(paths);
    Dataset<Row> records = switch (mapping.format()) {
      case "json" -> json(lines(paths), mapping);
      case "csv" -> csv(lines(paths), mapping);
      case "parquet" -> parquet(paths);
      default -> throw ChurnException.usage("unknown format '" + mapping.format() + "': use json, csv or parquet");
    };
    requireMappedColumns(records, mapping);
    Column folder = regexp_extract(col(Events.SOURCE_FILE), "event_date=(\\d{4}-\\d{2}-\\d{2})", 1);
    return records.withColumn(EventValidation.FOLDER_DATE, try_to_date(nullif(folder, lit(""))));
  }

  /**
   * A mapping that names a column the files do not have is a usage error (exit 2) naming the column and the
   * columns there are, rather than a field read as null in every record. CSV files with a header and Parquet files
   * declare their columns; JSON lines do not (a field may be absent from some records), so they are not checked.
   */
  private static void requireMappedColumns(Dataset<Row> records, SourceMapping mapping) {
    if (mapping.format().equals("json") || (mapping.format().equals("csv") && !mapping.header())) {
      return;
    }
    List<String> lineage = List.of(Events.SOURCE_FILE, Events.SOURCE_POSITION, Events.RAW_RECORD,
        EventValidation.MALFORMED);
    List<String> have = java.util.Arrays.stream(records.columns()).filter(c -> !lineage.contains(c)).toList();
    for (Map.Entry<String, String> e : mapping.columns().entrySet()) {
      if (!have.contains(e.getValue())) {
        throw ChurnException.usage("mapping " + mapping.name() + ": column '" + e.getValue() + "' (for " + e.getKey()
            + ") is not in the input files, whose columns are " + String.join(", ", have) + "; no events were read");
      }
    }
  }

  /**
   * Every line of the files with its file and 1-based line number, without a shuffle: each split's lines are
   * numbered in the order they are read, and a split that starts inside a file (files larger than Spark's split
   * size) adds the lines before its start, counted on the driver.
   */
  private Dataset<Row> lines(List<String> paths) {
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

  /** Lines of blanks only (spaces, tabs, a lone carriage return) are not records. */
  private static Column notBlank() {
    return not(col(LINE).rlike("^\\s*$"));
  }

  /**
   * A reader of raw files: folders read recursively. Local files are read without Hadoop's checksum files: a
   * stale {@code .crc} beside a log (left by a tool that rewrote the file) would otherwise fail the whole ingest.
   */
  private DataFrameReader reader() {
    return spark.read().option("recursiveFileLookup", "true")
        .option("fs.file.impl", "org.apache.hadoop.fs.RawLocalFileSystem")
        .option("fs.file.impl.disable.cache", "true");
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

  private static Dataset<Row> json(Dataset<Row> lines, SourceMapping mapping) {
    StructType schema = new StructType();
    for (String field : Events.RAW_SCHEMA.fieldNames()) {
      if (!mapping.constants().containsKey(field)) {
        schema = schema.add(mapping.sourceColumn(field), DataTypes.StringType);
      }
    }
    schema = schema.add(CORRUPT, DataTypes.StringType);
    Column parsed = from_json(col(LINE), schema, Map.of("mode", "PERMISSIVE", "columnNameOfCorruptRecord", CORRUPT));
    Dataset<Row> withParsed = lines.where(notBlank())
        .select(col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION), col(LINE).as(Events.RAW_RECORD),
            parsed.as("_p"));
    List<Column> cols = new ArrayList<>(List.of(col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION),
        col(Events.RAW_RECORD)));
    for (String name : schema.fieldNames()) {
      if (!name.equals(CORRUPT)) {
        cols.add(col("_p").getField(name).as(name));
      }
    }
    // A line that is not a JSON object parses to a null struct or fills only the corrupt-record field.
    cols.add(col("_p").isNull().or(col("_p").getField(CORRUPT).isNotNull()).as(EventValidation.MALFORMED));
    return withParsed.select(cols.toArray(Column[]::new));
  }

  private Dataset<Row> csv(Dataset<Row> lines, SourceMapping mapping) {
    boolean whitespace = "whitespace".equalsIgnoreCase(mapping.delimiter());
    String delimiter = mapping.delimiter();
    if (!whitespace && delimiter.length() != 1) {
      throw ChurnException.usage("csv delimiter must be one character or \"whitespace\", not '" + delimiter + "'");
    }
    Dataset<Row> body = lines;
    List<String> header;
    if (mapping.header()) {
      List<Row> headers = lines.where(col(Events.SOURCE_POSITION).equalTo(1)).select(trim(col(LINE))).distinct()
          .limit(2).collectAsList();
      if (headers.size() > 1) {
        throw ChurnException.badData("input files have different header lines: '" + headers.get(0).getString(0)
            + "' and '" + headers.get(1).getString(0) + "'");
      }
      if (headers.isEmpty()) {
        throw ChurnException.badData("input files have no header line");
      }
      header = List.of(splitHeader(headers.get(0).getString(0), whitespace, delimiter));
      body = lines.where(col(Events.SOURCE_POSITION).gt(1));
    } else {
      header = new ArrayList<>();
      for (String field : Events.RAW_SCHEMA.fieldNames()) {
        header.add(mapping.sourceColumn(field));
      }
    }
    body = body.where(notBlank());
    String splitRegex = whitespace ? "\\s+" : java.util.regex.Pattern.quote(delimiter) + "(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)";
    Column fields = split(whitespace ? trim(col(LINE)) : col(LINE), splitRegex);
    List<Column> cols = new ArrayList<>(List.of(col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION),
        col(LINE).as(Events.RAW_RECORD)));
    if (whitespace) {
      for (int i = 0; i < header.size(); i++) {
        cols.add(fields.getItem(i).as(header.get(i)));
      }
    } else {
      StructType schema = new StructType();
      for (String h : header) {
        schema = schema.add(h, DataTypes.StringType);
      }
      Column parsed = from_csv(col(LINE), lit(schema.toDDL()), Map.of("sep", delimiter, "mode", "PERMISSIVE"));
      for (String h : header) {
        cols.add(parsed.getField(h).as(h));
      }
    }
    cols.add(size(fields).notEqual(header.size()).as(EventValidation.MALFORMED));
    return body.select(cols.toArray(Column[]::new));
  }

  private static String[] splitHeader(String headerLine, boolean whitespace, String delimiter) {
    String[] parts = whitespace ? headerLine.trim().split("\\s+") : headerLine.split(java.util.regex.Pattern.quote(delimiter));
    for (int i = 0; i < parts.length; i++) {
      parts[i] = parts[i].trim().replaceAll("^\"|\"$", "");
    }
    return parts;
  }

  private Dataset<Row> parquet(List<String> paths) {
    Dataset<Row> df = reader().parquet(paths.toArray(String[]::new));
    List<Column> cols = new ArrayList<>();
    for (String c : df.columns()) {
      cols.add(col("`" + c + "`").cast(DataTypes.StringType).as(c));
    }
    cols.add(col("_metadata.file_path").as(Events.SOURCE_FILE));
    cols.add(col("_metadata.row_index").plus(1).cast(DataTypes.LongType).as(Events.SOURCE_POSITION));
    cols.add(to_json(struct(java.util.Arrays.stream(df.columns()).map(c -> col("`" + c + "`")).toArray(Column[]::new)))
        .as(Events.RAW_RECORD));
    cols.add(lit(false).as(EventValidation.MALFORMED));
    return df.select(cols.toArray(Column[]::new));
  }

  /** The customers file: CSV with a header, all fields text, with lineage for quarantining bad rows. */
  public Dataset<Row> readCustomers(List<String> paths) {
    requireExists(paths);
    Dataset<Row> lines = lines(paths);
    SourceMapping csv = SourceMapping.parse("{\"format\": \"csv\", \"delimiter\": \",\", \"header\": true, "
        + "\"columns\": {\"customer_id\": \"customer_id\"}}");
    return csv(lines, csv);
  }
}
