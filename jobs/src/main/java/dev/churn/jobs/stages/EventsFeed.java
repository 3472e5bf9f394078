package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.ChurnDefinition;
import dev.churn.features.CustomerMerge;
import dev.churn.features.Customers;
import dev.churn.features.DailyActivity;
import dev.churn.features.Events;
import dev.churn.features.SourceMapping;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What the accepted events feed, kept in step with them by {@link IngestJob}: {@code customers} merged from a
 * batch's events, {@code daily_activity} recomputed for the days a batch touched (the window states built without
 * them dropped first), the days a stopped run left behind repaired, and inactivity churn marked. Every write is
 * idempotent: a rerun over the same events leaves the same rows.
 */
final class EventsFeed {
  private final StageContext ctx;
  private final Warehouse warehouse;
  private final SourceMapping mapping;

  EventsFeed(StageContext ctx, SourceMapping mapping) {
    this.ctx = ctx;
    this.warehouse = ctx.warehouse();
    this.mapping = mapping;
  }

  /** Merges a batch's customers; {@code attributes} are the batch's customer_columns values (null: none). */
  void mergeCustomers(Dataset<Row> events, Dataset<Row> attributes, ChurnDefinition churn) {
    warehouse.upsert(Table.CUSTOMERS, CustomerMerge.fromEvents(Customers.eventSummary(events, churn),
        warehouse.read(Table.CUSTOMERS), churn, mapping.customerConstants(), attributes));
  }

  /**
   * Derived state repairs itself: of the batch's days this run added nothing to, those whose rollup does not
   * count the events stored for them (a run stopped between its events commit and its rollup) get their customers
   * merged again from the day's events (the merge is idempotent) and are returned for the rollup's refresh.
   */
  List<LocalDate> repairBehind(Set<Object> batchDays, List<LocalDate> touched, Dataset<Row> attributes,
      ChurnDefinition churn) {
    List<Object> check = batchDays.stream().filter(d -> !touched.contains(((java.sql.Date) d).toLocalDate())).toList();
    if (check.isEmpty()) {
      return List.of();
    }
    Map<LocalDate, Long> stored = perDay(warehouse.read(Table.EVENTS).where(col(Events.EVENT_DATE).isin(check.toArray()))
        .groupBy(col(Events.EVENT_DATE)).count());
    Map<LocalDate, Long> rolled = !warehouse.exists(Table.DAILY_ACTIVITY) ? Map.of()
        : perDay(warehouse.read(Table.DAILY_ACTIVITY).where(col(DailyActivity.ACTIVITY_DATE).isin(check.toArray()))
            .groupBy(col(DailyActivity.ACTIVITY_DATE)).agg(sum(col(DailyActivity.Signal.EVENTS.column()))));
    List<LocalDate> behind = stored.keySet().stream().filter(day -> !stored.get(day).equals(rolled.get(day)))
        .sorted().toList();
    if (!behind.isEmpty()) {
      ctx.console().printf("[ingest] repairing %s: daily_activity and customers are behind the events stored "
          + "(a run stopped before finishing them)%n", behind);
      mergeCustomers(warehouse.read(Table.EVENTS).where(col(Events.EVENT_DATE).isin(
          behind.stream().map(java.sql.Date::valueOf).toArray())), attributes, churn);
    }
    return behind;
  }

  private static Map<LocalDate, Long> perDay(Dataset<Row> dayAndCount) {
    Map<LocalDate, Long> out = new TreeMap<>();
    for (Row r : dayAndCount.collectAsList()) {
      out.put(r.getDate(0).toLocalDate(), ((Number) r.get(1)).longValue());
    }
    return out;
  }

  /**
   * Recomputes the rollup of the given days from {@code events} and replaces exactly those days. The running
   * window states of those days and later were built without this data: they are dropped first, so a crash in
   * between leaves no state that disagrees with the rollup (the next snapshot rebuilds them).
   */
  long refreshDailyActivity(List<LocalDate> days) {
    LocalDate first = days.stream().min(LocalDate::compareTo).orElseThrow();
    // From the log's file list: a night without late events finds no state to drop and spends no commit on it.
    if (!warehouse.asOfDates(Table.FEATURE_STATE, first, null).isEmpty()) {
      warehouse.deleteDatesFrom(Table.FEATURE_STATE, first);
    }
    Dataset<Row> events = warehouse.read(Table.EVENTS).where(col(Events.EVENT_DATE).isin(
        days.stream().map(java.sql.Date::valueOf).toArray()));
    return warehouse.replaceDates(Table.DAILY_ACTIVITY, DailyActivity.rollup(events), days);
  }

  /**
   * Under inactivity churn a customer churned on the day its silence reached {@code days} days, if that day is
   * not after the last day of data; a customer that came back has no churn date. Returns the churned customers.
   */
  long markInactivityChurn(int days) {
    Warehouse.DataRange range = warehouse.dataRange();
    if (range == null) {
      return 0;
    }
    warehouse.updateAll(Table.CUSTOMERS, Map.of(Customers.CHURN_DATE,
        CustomerMerge.inactivityChurnDate(days, range.last())));
    return warehouse.read(Table.CUSTOMERS).where(col(Customers.CHURN_DATE).isNotNull()).count();
  }}
