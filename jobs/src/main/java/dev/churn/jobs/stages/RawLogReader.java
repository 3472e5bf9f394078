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
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.RowFactory;
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
  private static final String LINE = NumberedLines.LINE;

  private final SparkSession spark;
  private final NumberedLines lines;

  public RawLogReader(SparkSession spark) {
    this.spark = spark;
    this.lines = new NumberedLines(spark);
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

  /**
   * The bytes of the files under {@code inputs}, each counted once and a compressed one (a codec Hadoop knows by its
   * name) eight times over: what a batch's size is estimated from. A path that does not exist or cannot be read
   * counts nothing here; the read reports it.
   */
  public long bytes(List<String> inputs) {
    org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
    org.apache.hadoop.io.compress.CompressionCodecFactory codecs =
        new org.apache.hadoop.io.compress.CompressionCodecFactory(conf);
    long total = 0;
    for (String file : lines.files(inputs)) {
      try {
        Path path = new Path(file);
        total += path.getFileSystem(conf).getFileStatus(path).getLen() * (codecs.getCodec(path) == null ? 1 : 8);
      } catch (IOException | IllegalArgumentException e) {
        // Missing or unreadable: the stage's read fails on it with its own message, inside the run's log.
      }
    }
    return total;
  }

  /** Source columns of the mapping (or of the file header) plus the lineage columns of {@link EventValidation}. */
  public Dataset<Row> read(List<String> inputs, SourceMapping mapping) {
    requireExists(inputs);
    List<String> paths = lines.files(inputs);
    Dataset<Row> records = switch (mapping.format()) {
      case "json" -> json(lines.of(paths), mapping);
      case "csv" -> csv(lines.of(paths), mapping);
      case "parquet" -> parquet(paths);
      default -> throw ChurnException.usage("unknown format '" + mapping.format() + "': use json, csv or parquet");
    };
    MappedColumns.require(records, mapping);
    Column folder = regexp_extract(col(Events.SOURCE_FILE), "event_date=(\\d{4}-\\d{2}-\\d{2})", 1);
    return records.withColumn(EventValidation.FOLDER_DATE, try_to_date(nullif(folder, lit(""))));
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

  /** Lines of blanks only (spaces, tabs, a lone carriage return) are not records. */
  private static Column notBlank() {
    return not(col(LINE).rlike("^\\s*$"));
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
    Dataset<Row> df = lines.reader().parquet(paths.toArray(String[]::new));
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

  /**
   * A customers or interventions file: comma-separated with a header naming customer_id, all fields text, with
   * lineage for quarantining bad rows.
   */
  public Dataset<Row> readKeyedCsv(List<String> paths) {
    requireExists(paths);
    Dataset<Row> read = lines.of(lines.files(paths));
    SourceMapping csv = SourceMapping.parse("{\"format\": \"csv\", \"delimiter\": \",\", \"header\": true, "
        + "\"columns\": {\"customer_id\": \"customer_id\"}}");
    return csv(read, csv);
  }
}
