package dev.churn.jobs.warehouse;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.min;

import dev.churn.features.FeatureBuilder;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * What a warehouse knows about its data ({@link Warehouse#dataRange}, {@link Warehouse#asOfDates},
 * {@link Warehouse#firstSignup}, {@link Warehouse#setting}, {@link Warehouse#rows}), each answer kept with the
 * version of the table it came from and recomputed only after a commit to that table, by this run or any other.
 */
final class WarehouseFacts {
  private final Warehouse warehouse;
  private final DeltaLogFiles logs;
  /** Values read from a table ({@link #derived}), each with the table version it was read at. */
  private final Map<String, Derived> derived = new java.util.concurrent.ConcurrentHashMap<>();

  private record Derived(long version, Object value) {}

  WarehouseFacts(Warehouse warehouse, DeltaLogFiles logs) {
    this.warehouse = warehouse;
    this.logs = logs;
  }

  Warehouse.DataRange dataRange() {
    List<LocalDate> days = partitionDates(Table.DAILY_ACTIVITY);
    return days == null || days.isEmpty() ? null : new Warehouse.DataRange(days.get(0), days.get(days.size() - 1));
  }

  LocalDate firstSignup() {
    return derived(Table.CUSTOMERS, "first signup", () -> {
      Row r = warehouse.read(Table.CUSTOMERS).agg(min(dev.churn.features.Customers.SIGNUP_DATE)).first();
      return r.isNullAt(0) ? null : r.getDate(0).toLocalDate();
    });
  }

  /** The table's rows (0 when it does not exist), from its log's statistics where Kernel reads them, else counted. */
  long rows(Table table) {
    Long rows = derived(table, "rows", () -> fromLog(table, "counting its rows",
        () -> KernelTables.rowCount(warehouse.spark(), warehouse.path(table)), () -> warehouse.read(table).count()));
    return rows == null ? 0 : rows;
  }

  List<LocalDate> asOfDates(Table table, LocalDate from, LocalDate to) {
    if (!FeatureBuilder.AS_OF_DATE.equals(table.partitionColumn())) {
      throw new IllegalArgumentException(table.tableName() + " is not partitioned by " + FeatureBuilder.AS_OF_DATE);
    }
    List<LocalDate> all = partitionDates(table);
    return all == null ? List.of() : all.stream()
        .filter(d -> (from == null || !d.isBefore(from)) && (to == null || !d.isAfter(to))).toList();
  }

  String setting(String key) {
    Map<String, String> all = derived(Table.SOURCE_SETTINGS, "settings", () -> {
      Map<String, String> values = new java.util.HashMap<>();
      warehouse.read(Table.SOURCE_SETTINGS).select("key", "value").collectAsList()
          .forEach(r -> values.putIfAbsent(r.getString(0), r.getString(1)));
      return values;
    });
    return all == null ? null : all.get(key);
  }

  /**
   * The dates of {@code table}'s partition column that hold rows, in order, from its log's file list (no Spark
   * job; {@link KernelTables#partitionValues}; a DISTINCT over the rows where Kernel cannot list them), kept with
   * the table's version; null when the table does not exist.
   */
  private List<LocalDate> partitionDates(Table table) {
    String column = table.partitionColumn();
    return derived(table, "partition dates", () -> fromLog(table, "reading its dates",
        () -> KernelTables.partitionValues(warehouse.spark(), warehouse.path(table), column).stream()
            .map(LocalDate::parse).toList(),
        () -> warehouse.readInContentOrder(table).where(col(column).isNotNull()).select(column).distinct()
            .collectAsList().stream().map(r -> r.getDate(0).toLocalDate()).sorted().toList()));
  }

  /**
   * {@code kernel}'s answer from the table's log, or {@code data}'s from its rows where Kernel cannot list its files
   * (logged, as {@code instead} says) or has no answer (null).
   */
  private <T> T fromLog(Table table, String instead, java.util.function.Supplier<T> kernel,
      java.util.function.Supplier<T> data) {
    if (warehouse.kernelAvailable()) {
      try {
        T answer = kernel.get();
        if (answer != null) {
          return answer;
        }
      } catch (RuntimeException | LinkageError e) {
        warehouse.kernelFailed("list the files of " + warehouse.path(table) + "; " + instead + " instead", e);
      }
    }
    return data.get();
  }

  /**
   * A value computed from {@code table}, or null when the table does not exist; kept with the table's latest
   * version and recomputed only after a commit to it (by this run or any other), so the stages of one command that
   * ask the same question (the data's range, a setting) compute it once, not once each. The version is
   * read from the log's listing before computing: a commit landing in between only makes the next call recompute.
   */
  @SuppressWarnings("unchecked")
  private <T> T derived(Table table, String what, java.util.function.Supplier<T> compute) {
    long version = logs.latestVersion(table);
    if (version < 0) {
      return null;
    }
    String key = table.tableName() + ": " + what;
    Derived kept = derived.get(key);
    if (kept == null || kept.version() != version) {
      kept = new Derived(version, compute.get());
      derived.put(key, kept);
    }
    return (T) kept.value();
  }
}
