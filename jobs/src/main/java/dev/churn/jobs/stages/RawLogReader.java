package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.EventValidation;
import dev.churn.features.Events;
import dev.churn.features.SourceExpressions;
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
   * Every value of the mapping must work on the input before any event is read, else a usage error (exit 2) names
   * the value, what it is for and the columns there are: a bare column the files lack, an expression that does not
   * parse, names a missing column, or does not type-check. CSV files with a header and Parquet files declare their
   * columns; JSON lines do not (a field may be absent from some records), so only their expressions are checked.
   */
  private static void requireMappedColumns(Dataset<Row> records, SourceMapping mapping) {
    boolean declared = !(mapping.format().equals("json") || (mapping.format().equals("csv") && !mapping.header()));
    List<String> lineage = List.of(Events.SOURCE_FILE, Events.SOURCE_POSITION, Events.RAW_RECORD,
        EventValidation.MALFORMED);
    List<String> have = java.util.Arrays.stream(records.columns()).filter(c -> !lineage.contains(c)).toList();
    java.util.Set<String> lower = new java.util.HashSet<>();
    have.forEach(c -> lower.add(c.toLowerCase(java.util.Locale.ROOT)));
    String prefix = "mapping " + mapping.name() + ": ";
    String columns = declared ? "; the input's columns are " + String.join(", ", have) + "; no events were read"
        : "; no events were read";
    for (Map.Entry<String, String> e : mapping.expressions().entrySet()) {
      String text = e.getValue();
      boolean field = Events.RAW_SCHEMA.getFieldIndex(e.getKey()).isDefined();
      if ((field && !mapping.columns().containsKey(e.getKey())) || SourceExpressions.isColumn(text, have)) {
        continue; // a canonical field the mapping does not name is read if present, else null
      }
      List<List<String>> refs;
      try {
        refs = SourceExpressions.references(text);
      } catch (IllegalArgumentException ex) {
        throw ChurnException.usage(prefix + e.getKey() + ": " + ex.getMessage() + columns);
      }
      if (declared) {
        for (List<String> ref : refs) {
          if (!lower.contains(ref.get(0).toLowerCase(java.util.Locale.ROOT))) {
            throw ChurnException.usage(prefix + "column '" + ref.get(0) + "' (" + (ref.size() == 1
                && ref.get(0).equals(text) ? "for " + e.getKey() + ") is not in the input files, whose columns are "
                + String.join(", ", have) + "; no events were read" : "in " + e.getKey() + " = " + text
                + ") is not in the input files" + columns));
          }
        }
      }
      try {
        withoutAnsi(records.sparkSession(), () -> records.select(SourceExpressions.column(text, have)));
      } catch (Exception ex) { // AnalysisException, thrown undeclared from Scala
        if (!(ex instanceof org.apache.spark.sql.AnalysisException)) {
          throw ex;
        }
        throw ChurnException.usage(prefix + e.getKey() + " = " + text + " does not work on the input: "
            + ex.getMessage().lines().findFirst().orElse("").trim() + columns);
      }
    }
  }

  /**
   * Builds mapped records with ANSI SQL off, as text logs need: a mapping's expression over text columns
   * ({@code Quantity * UnitPrice}) reads them as numbers, and a bad value (text in a number column) gives null for
   * that record, which validation rejects with a reason, rather than failing the whole batch.
   */
  public static <T> T withoutAnsi(SparkSession spark, java.util.function.Supplier<T> build) {
    var conf = spark.conf();
    String key = "spark.sql.ansi.enabled";
    String was = conf.get(key, "true");
    conf.set(key, "false");
    try {
      return build.get();
    } finally {
      conf.set(key, was);
    }
  }

  /**
   * For CSV: a record whose quoted field holds line breaks spans several lines; they are joined back into one
   * record (numbered by its first line) while the record's double quotes are unbalanced. A record cut by the end
   * of a file or a split stays as it is and is rejected as malformed.
   */
  private static Dataset<Row> joinQuotedLines(Dataset<Row> lines) {
    return lines.mapPartitions((MapPartitionsFunction<Row, Row>) rows -> new Iterator<>() {
      private Row pending = rows.hasNext() ? rows.next() : null;

      @Override
      public boolean hasNext() {
        return pending != null;
      }

      @Override
      public Row next() {
        String text = pending.getString(0);
        String file = pending.getString(1);
        long position = pending.getLong(2);
        long last = position;
        pending = rows.hasNext() ? rows.next() : null;
        while (unbalanced(text) && pending != null && pending.getString(1).equals(file)
            && pending.getLong(2) == last + 1) {
          text = text + "\n" + pending.getString(0);
          last = pending.getLong(2);
          pending = rows.hasNext() ? rows.next() : null;
        }
        return RowFactory.create(text, file, position);
      }
    }, Encoders.row(lines.schema()));
  }

  private static boolean unbalanced(String text) {
    int quotes = 0;
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) == '"') {
        quotes++;
      }
    }
    return quotes % 2 == 1;
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

  private static Dataset<Row> json(Dataset<Row> lines, SourceMapping mapping) {
    StructType schema = jsonSchema(mapping).add(CORRUPT, DataTypes.StringType);
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

  /**
   * The JSON fields the mapping reads, every leaf as text: each bare field name, and each column an expression
   * names, a dotted path ({@code location.city}) as nested objects. A value that does not parse is a usage error.
   */
  private static StructType jsonSchema(SourceMapping mapping) {
    Map<String, Object> tree = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, String> e : mapping.expressions().entrySet()) {
      List<List<String>> refs;
      if (e.getValue().matches("[A-Za-z_$][A-Za-z0-9_$]*")) {
        refs = List.of(List.of(e.getValue()));
      } else {
        try {
          refs = SourceExpressions.references(e.getValue());
        } catch (IllegalArgumentException ex) {
          throw ChurnException.usage("mapping " + mapping.name() + ": " + e.getKey() + ": " + ex.getMessage()
              + "; no events were read");
        }
      }
      for (List<String> ref : refs) {
        Map<String, Object> node = tree;
        for (int i = 0; i < ref.size(); i++) {
          if (i == ref.size() - 1) {
            node.putIfAbsent(ref.get(i), null);
          } else {
            Object child = node.get(ref.get(i));
            if (!(child instanceof Map)) {
              child = new java.util.LinkedHashMap<String, Object>();
              node.put(ref.get(i), child);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> next = (Map<String, Object>) child;
            node = next;
          }
        }
      }
    }
    return structOf(tree);
  }

  @SuppressWarnings("unchecked")
  private static StructType structOf(Map<String, Object> tree) {
    StructType out = new StructType();
    for (Map.Entry<String, Object> e : tree.entrySet()) {
      out = out.add(e.getKey(), e.getValue() == null ? DataTypes.StringType
          : structOf((Map<String, Object>) e.getValue()));
    }
    return out;
  }

  private Dataset<Row> csv(Dataset<Row> lines, SourceMapping mapping) {
    boolean whitespace = "whitespace".equalsIgnoreCase(mapping.delimiter());
    String delimiter = mapping.delimiter();
    if (!whitespace && delimiter.length() != 1) {
      throw ChurnException.usage("csv delimiter must be one character or \"whitespace\", not '" + delimiter + "'");
    }
    Dataset<Row> body = whitespace ? lines : joinQuotedLines(lines);
    lines = body;
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
      Column parsed = from_csv(col(LINE), lit(schema.toDDL()), Map.of("sep", delimiter, "mode", "PERMISSIVE", "escape", "\""));
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
