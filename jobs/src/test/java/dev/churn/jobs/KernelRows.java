package dev.churn.jobs;

import io.delta.kernel.Scan;
import io.delta.kernel.Snapshot;
import io.delta.kernel.data.ColumnVector;
import io.delta.kernel.data.ColumnarBatch;
import io.delta.kernel.data.FilteredColumnarBatch;
import io.delta.kernel.defaults.engine.DefaultEngine;
import io.delta.kernel.engine.Engine;
import io.delta.kernel.engine.FileReadResult;
import io.delta.kernel.internal.InternalScanFileUtils;
import io.delta.kernel.internal.util.Utils;
import io.delta.kernel.types.ArrayType;
import io.delta.kernel.types.BinaryType;
import io.delta.kernel.types.BooleanType;
import io.delta.kernel.types.ByteType;
import io.delta.kernel.types.DateType;
import io.delta.kernel.types.DecimalType;
import io.delta.kernel.types.DoubleType;
import io.delta.kernel.types.FloatType;
import io.delta.kernel.types.IntegerType;
import io.delta.kernel.types.LongType;
import io.delta.kernel.types.ShortType;
import io.delta.kernel.types.StringType;
import io.delta.kernel.types.StructType;
import io.delta.kernel.types.TimestampType;
import io.delta.kernel.utils.CloseableIterator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * A table's rows as a reader outside Spark sees them: read with Delta Kernel's default engine (its own Parquet
 * reader, no Spark), each row rendered as text; and the same rendering of rows Spark read, to compare them. A
 * Delta feature, type or encoding Kernel cannot read fails the read, which is the point: readers beyond Spark
 * (Trino, DuckDB, delta-rs) share Kernel's protocol limits more than Spark's.
 */
final class KernelRows {
  private KernelRows() {}

  /** Every row of the Delta table at {@code path}, rendered, in no particular order. */
  static List<String> read(String path) {
    Engine engine = DefaultEngine.create(new Configuration());
    Snapshot snapshot = io.delta.kernel.Table.forPath(engine, path).getLatestSnapshot(engine);
    Scan scan = snapshot.getScanBuilder().build();
    io.delta.kernel.data.Row state = scan.getScanState(engine);
    StructType physical = io.delta.kernel.internal.data.ScanStateRow.getPhysicalDataReadSchema(state);
    List<String> out = new ArrayList<>();
    try (CloseableIterator<FilteredColumnarBatch> files = scan.getScanFiles(engine)) {
      while (files.hasNext()) {
        try (CloseableIterator<io.delta.kernel.data.Row> fileRows = files.next().getRows()) {
          while (fileRows.hasNext()) {
            io.delta.kernel.data.Row file = fileRows.next();
            CloseableIterator<ColumnarBatch> data = engine.getParquetHandler().readParquetFiles(
                Utils.singletonCloseableIterator(InternalScanFileUtils.getAddFileStatus(file)), physical,
                Optional.empty()).map(FileReadResult::getData);
            try (CloseableIterator<FilteredColumnarBatch> logical =
                Scan.transformPhysicalData(engine, state, file, data)) {
              while (logical.hasNext()) {
                render(logical.next(), out);
              }
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /**
   * The table's protocol as other readers meet it: {@code reader=R writer=W features=[...]} (the table features it
   * names, which readers must support on top of the versions).
   */
  static String protocol(String path) {
    Engine engine = DefaultEngine.create(new Configuration());
    io.delta.kernel.internal.actions.Protocol p = ((io.delta.kernel.internal.SnapshotImpl) io.delta.kernel.Table
        .forPath(engine, path).getLatestSnapshot(engine)).getProtocol();
    return "reader=" + p.getMinReaderVersion() + " writer=" + p.getMinWriterVersion() + " features="
        + new java.util.TreeSet<>(p.getReaderAndWriterFeatures());
  }

  private static void render(FilteredColumnarBatch batch, List<String> out) {
    ColumnarBatch data = batch.getData();
    Optional<ColumnVector> selected = batch.getSelectionVector();
    for (int r = 0; r < data.getSize(); r++) {
      if (selected.isPresent() && (selected.get().isNullAt(r) || !selected.get().getBoolean(r))) {
        continue;
      }
      List<String> values = new ArrayList<>();
      for (int c = 0; c < data.getSchema().length(); c++) {
        values.add(value(data.getColumnVector(c), r));
      }
      out.add("{" + String.join(", ", values) + "}");
    }
  }

  private static String value(ColumnVector v, int i) {
    if (v.isNullAt(i)) {
      return "null";
    }
    io.delta.kernel.types.DataType t = v.getDataType();
    if (t instanceof StringType) {
      return v.getString(i);
    } else if (t instanceof LongType) {
      return String.valueOf(v.getLong(i));
    } else if (t instanceof IntegerType) {
      return String.valueOf(v.getInt(i));
    } else if (t instanceof ShortType) {
      return String.valueOf(v.getShort(i));
    } else if (t instanceof ByteType) {
      return String.valueOf(v.getByte(i));
    } else if (t instanceof DoubleType) {
      return String.valueOf(v.getDouble(i));
    } else if (t instanceof FloatType) {
      return String.valueOf((double) v.getFloat(i));
    } else if (t instanceof BooleanType) {
      return String.valueOf(v.getBoolean(i));
    } else if (t instanceof DecimalType) {
      return v.getDecimal(i).toPlainString();
    } else if (t instanceof DateType) {
      return LocalDate.ofEpochDay(v.getInt(i)).toString();
    } else if (t instanceof TimestampType) {
      long micros = v.getLong(i);
      return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000)
          .toString();
    } else if (t instanceof BinaryType) {
      return Base64.getEncoder().encodeToString(v.getBinary(i));
    } else if (t instanceof ArrayType) {
      io.delta.kernel.data.ArrayValue a = v.getArray(i);
      List<String> items = new ArrayList<>();
      for (int j = 0; j < a.getSize(); j++) {
        items.add(value(a.getElements(), j));
      }
      return "[" + String.join(", ", items) + "]";
    } else if (t instanceof StructType s) {
      List<String> fields = new ArrayList<>();
      for (int j = 0; j < s.length(); j++) {
        fields.add(value(v.getChild(j), i));
      }
      return "{" + String.join(", ", fields) + "}";
    }
    throw new IllegalArgumentException("no rendering of Kernel type " + t);
  }

  /** A row Spark read, rendered as {@link #read} renders Kernel's. */
  static String render(Row row) {
    List<String> values = new ArrayList<>();
    for (int c = 0; c < row.length(); c++) {
      values.add(value(row.schema().fields()[c].dataType(), row.get(c)));
    }
    return "{" + String.join(", ", values) + "}";
  }

  private static String value(DataType t, Object v) {
    if (v == null) {
      return "null";
    }
    if (t instanceof org.apache.spark.sql.types.FloatType) {
      return String.valueOf((double) (Float) v);
    } else if (t instanceof org.apache.spark.sql.types.DecimalType) {
      return ((BigDecimal) v).toPlainString();
    } else if (t.equals(DataTypes.DateType)) {
      return ((java.sql.Date) v).toLocalDate().toString();
    } else if (t.equals(DataTypes.TimestampType)) {
      return ((java.sql.Timestamp) v).toInstant().toString();
    } else if (t.equals(DataTypes.BinaryType)) {
      return Base64.getEncoder().encodeToString((byte[]) v);
    } else if (t instanceof org.apache.spark.sql.types.ArrayType a) {
      List<String> items = new ArrayList<>();
      for (Object o : scala.jdk.javaapi.CollectionConverters.asJava((scala.collection.Seq<?>) v)) {
        items.add(value(a.elementType(), o));
      }
      return "[" + String.join(", ", items) + "]";
    } else if (t instanceof org.apache.spark.sql.types.StructType s) {
      Row r = (Row) v;
      List<String> fields = new ArrayList<>();
      StructField[] f = s.fields();
      for (int j = 0; j < f.length; j++) {
        fields.add(value(f[j].dataType(), r.get(j)));
      }
      return "{" + String.join(", ", fields) + "}";
    } else if (t instanceof org.apache.spark.sql.types.MapType) {
      throw new IllegalArgumentException("no rendering of maps");
    }
    return String.valueOf(v);
  }
}
