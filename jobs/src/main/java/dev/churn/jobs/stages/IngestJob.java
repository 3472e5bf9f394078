package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.ChurnDefinition;
import dev.churn.features.CustomerMerge;
import dev.churn.features.Customers;
import dev.churn.features.DailyActivity;
import dev.churn.features.EventValidation;
import dev.churn.features.Events;
import dev.churn.features.FeatureBuilder;
import dev.churn.features.SourceMapping;
import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Settings;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Ingests raw activity logs: every record read is either accepted into {@code events} (partitioned by
 * event_date) or quarantined in {@code events_quarantine} with a reason, its raw text, file, position and run id.
 * Then merges {@code customers} ({@link CustomerMerge}) and recomputes {@code daily_activity} for exactly the days
 * the batch touched, so a late event fixes its own day.
 *
 * <p>Idempotent: a record whose file and position were stored by an earlier run is a replay and is neither
 * stored again nor counted as new (it is counted as rejected in {@code run_log}, and said so in its message).
 * Danger: when the rejected share of new records exceeds {@code maxBadFraction} (default
 * {@value #DEFAULT_MAX_BAD_FRACTION}), the quarantine is written, nothing is committed to {@code events}, and the
 * job fails with exit code 3.
 */
public final class IngestJob {
  public static final double DEFAULT_MAX_BAD_FRACTION = 0.05;

  /**
   * What to ingest: raw log paths (files, folders or globs), an optional customers file, the mapping that reads
   * them, the batch's date (null: each file's {@code event_date=} folder) and the rejected share that fails it.
   */
  public record Options(List<String> events, List<String> customers, SourceMapping mapping, LocalDate date,
      double maxBadFraction) {
    public Options {
      if (events == null || events.isEmpty() || mapping == null) {
        throw new IllegalArgumentException("ingest needs raw log paths and a mapping");
      }
      checkMaxBadFraction(maxBadFraction);
      events = List.copyOf(events);
      customers = customers == null ? List.of() : List.copyOf(customers);
    }
  }

  /** Refuses a rejected share outside [0, 1]. */
  static void checkMaxBadFraction(double maxBadFraction) {
    if (!(maxBadFraction >= 0 && maxBadFraction <= 1)) {
      throw new IllegalArgumentException("--max-bad-fraction must be between 0 and 1");
    }
  }

  /** Counts of one ingest; {@code rowsIn == accepted + rejected + replayed}. */
  public record Result(String runId, long rowsIn, long accepted, long rejected, long replayed,
      Map<String, Long> rejectedByReason, List<LocalDate> daysTouched, long customersIn, long customersRejected) {

    Result withDaysTouched(List<LocalDate> days) {
      return new Result(runId, rowsIn, accepted, rejected, replayed, rejectedByReason, days, customersIn,
          customersRejected);
    }

    RunLog.StageResult counts() {
      return new RunLog.StageResult(rowsIn, accepted, rejected + replayed, summary(rejectedByReason, replayed));
    }
  }

  /** Counts of a customers file: rows read and rows rejected. */
  private record FileCounts(long rows, long rejected) {}

  private final StageContext ctx;
  private final Warehouse warehouse;
  private final Options options;

  public IngestJob(StageContext ctx, Options options) {
    this.ctx = ctx;
    this.warehouse = ctx.warehouse();
    this.options = options;
  }

  public Result run() {
    ChurnDefinition churn = recordSettings();
    for (Table t : List.of(Table.EVENTS, Table.EVENTS_QUARANTINE, Table.CUSTOMERS)) {
      warehouse.ensure(t);
    }
    RawLogReader reader = new RawLogReader(warehouse.spark());
    RunLog log = ctx.runLog();
    FileCounts file = options.customers().isEmpty() ? new FileCounts(0, 0)
        : log.stage("customers", () -> ingestCustomerFile(reader),
            c -> new RunLog.StageResult(c.rows(), c.rows() - c.rejected(), c.rejected(), null));
    Result result = log.stage("ingest", () -> ingestEvents(reader, churn, file), Result::counts);
    List<LocalDate> days = result.daysTouched();
    if (!days.isEmpty()) {
      log.stage("daily_activity", () -> RunLog.StageResult.of(days.size(), refreshDailyActivity(days)));
    }
    if (churn.byInactivity()) {
      log.stage("inactivity_churn", () -> RunLog.StageResult.of(0, markInactivityChurn(churn.inactivityDays())));
    }
    warehouse.registerAll();
    return result;
  }

  private Result ingestEvents(RawLogReader reader, ChurnDefinition churn, FileCounts file) {
    RunLog log = ctx.runLog();
    Dataset<Row> raw = reader.read(options.events(), options.mapping());
    Dataset<Row> validated = EventValidation.validate(EventValidation.toCanonical(raw, options.mapping()),
        options.mapping(), options.date()).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      // A replay or a duplicate of a stored event has the stored event's time, so only the days the batch's
      // records fall on are read back: the checks cost the batch's days, not the history.
      Set<Object> days = new LinkedHashSet<>();
      Set<Object> files = new LinkedHashSet<>();
      long records = 0;
      for (Row r : validated.groupBy(EventValidation.eventDay().as("_day"), col(Events.SOURCE_FILE)).count()
          .collectAsList()) {
        if (!r.isNullAt(0)) {
          days.add(r.get(0));
        }
        files.add(r.get(1));
        records += r.getLong(2);
      }
      Dataset<Row> stored = warehouse.snapshot(Table.EVENTS).where(col(Events.EVENT_DATE).isin(days.toArray()));
      Dataset<Row> unseen = EventValidation.markReplays(validated, small(storedPositions(stored, files)))
          .where(not(col(EventValidation.REPLAY)));
      Dataset<Row> checked = EventValidation.markDuplicates(unseen,
          small(EventValidation.repeatedKeys(unseen)), small(stored.select(Events.EVENT_KEY)));

      Map<String, Long> byReason = new TreeMap<>();
      List<LocalDate> touched = new ArrayList<>();
      long accepted = 0;
      long rejected = 0;
      for (Row r : checked.groupBy(col(Events.REASON), EventValidation.eventDay().as("_day")).count()
          .orderBy("_day").collectAsList()) {
        if (r.isNullAt(0)) {
          accepted += r.getLong(2);
          touched.add(r.getDate(1).toLocalDate());
        } else {
          byReason.merge(r.getString(0), r.getLong(2), Long::sum);
          rejected += r.getLong(2);
        }
      }
      long replayed = records - accepted - rejected;
      Result counted = new Result(log.runId(), accepted + rejected + replayed, accepted, rejected, replayed, byReason,
          List.of(), file.rows(), file.rejected());
      if (rejected > 0) {
        warehouse.insertNew(Table.EVENTS_QUARANTINE, EventValidation.rejectedRecords(checked, log.runId(), log.runDate()));
      }
      long fresh = accepted + rejected;
      if (fresh > 0 && (double) rejected / fresh > options.maxBadFraction()) {
        RunLog.StageResult c = counted.counts();
        throw ChurnException.badData(String.format(Locale.ROOT,
            "%d of %d new records (%.1f%%) were rejected, over the allowed %.1f%% (--max-bad-fraction): they "
                + "are in events_quarantine under run %s; no events were committed", rejected, fresh,
            100.0 * rejected / fresh, 100.0 * options.maxBadFraction(), log.runId()))
            .withPartialResult(new RunLog.StageResult(c.rowsIn(), 0, c.rowsRejected(), c.message()));
      }
      if (accepted == 0) {
        return counted;
      }
      Dataset<Row> events = EventValidation.acceptedEvents(checked, log.runId());
      // New by construction: replays and stored keys were excluded above, under the warehouse lock.
      warehouse.append(Table.EVENTS, events);
      warehouse.upsert(Table.CUSTOMERS, CustomerMerge.fromEvents(Customers.eventSummary(events, churn),
          warehouse.read(Table.CUSTOMERS), churn, options.mapping().customerConstants()));
      return counted.withDaysTouched(touched);
    } finally {
      validated.unpersist();
    }
  }

  /**
   * Rows the checks join against: null when there are none; when they are few, computed once and held as a
   * local frame sent to every task, so neither they nor the batch are recomputed or shuffled for the join.
   */
  private Dataset<Row> small(Dataset<Row> rows) {
    List<Row> few = rows.limit((int) BROADCAST_ROWS + 1).collectAsList();
    if (few.isEmpty()) {
      return null;
    }
    return few.size() <= BROADCAST_ROWS ? broadcast(warehouse.spark().createDataFrame(few, rows.schema())) : rows;
  }

  /** Up to this many stored keys or positions are sent to every task rather than shuffled with the batch. */
  private static final long BROADCAST_ROWS = 500_000;

  private static String summary(Map<String, Long> byReason, long replayed) {
    List<String> parts = new ArrayList<>();
    byReason.forEach((k, v) -> parts.add(k + "=" + v));
    if (replayed > 0) {
      parts.add(replayed + " already ingested from the same file and position (replay), not stored again");
    }
    return parts.isEmpty() ? null : String.join(", ", parts);
  }

  /**
   * Positions already stored from the batch's files: accepted ones on the batch's days ({@code stored}), and
   * quarantined ones (the quarantine is small and not partitioned by day).
   */
  private Dataset<Row> storedPositions(Dataset<Row> stored, Set<Object> files) {
    Column inBatch = col(Events.SOURCE_FILE).isin(files.toArray());
    return stored.where(inBatch).select(Events.SOURCE_FILE, Events.SOURCE_POSITION)
        .union(warehouse.snapshot(Table.EVENTS_QUARANTINE).where(inBatch)
            .select(Events.SOURCE_FILE, Events.SOURCE_POSITION))
        .distinct();
  }

  /** Stores (or checks) the source's churn definition: one warehouse, one definition of churn. */
  private ChurnDefinition recordSettings() {
    ChurnDefinition churn = options.mapping().churn();
    String stored = warehouse.setting(Settings.CHURN_DEFINITION);
    if (stored != null && !stored.equals(churn.encode())) {
      throw ChurnException.usage("this warehouse holds a log whose churn is '" + ChurnDefinition.decode(stored)
          + "', but mapping '" + options.mapping().name() + "' says '" + churn + "': use another --warehouse");
    }
    if (stored == null) {
      Settings.write(warehouse, Map.of(Settings.CHURN_DEFINITION, churn.encode(),
          Settings.SOURCE_NAME, options.mapping().name()));
    }
    return churn;
  }

  private FileCounts ingestCustomerFile(RawLogReader reader) {
    Dataset<Row> checked = Customers.checkFile(reader.readCustomers(options.customers()))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      long total = checked.count();
      Dataset<Row> bad = checked.where(col(Events.REASON).isNotNull());
      long rejected = bad.count();
      if (rejected > 0) {
        warehouse.insertNew(Table.EVENTS_QUARANTINE,
            EventValidation.rejectedRecords(bad, ctx.runLog().runId(), ctx.runLog().runDate()));
      }
      warehouse.upsert(Table.CUSTOMERS, CustomerMerge.fromFile(checked.where(col(Events.REASON).isNull()),
          warehouse.read(Table.CUSTOMERS)));
      return new FileCounts(total, rejected);
    } finally {
      checked.unpersist();
    }
  }

  /**
   * Recomputes the rollup of the given days from {@code events} and replaces exactly those days. The running
   * window states of those days and later were built without this data: they are dropped first, so a crash in
   * between leaves no state that disagrees with the rollup (the next snapshot rebuilds them).
   */
  private long refreshDailyActivity(List<LocalDate> days) {
    warehouse.deleteWhere(Table.FEATURE_STATE,
        col(FeatureBuilder.AS_OF_DATE).geq(lit(java.sql.Date.valueOf(days.stream().min(LocalDate::compareTo).orElseThrow()))));
    Dataset<Row> events = warehouse.read(Table.EVENTS).where(col(Events.EVENT_DATE).isin(
        days.stream().map(java.sql.Date::valueOf).toArray()));
    return warehouse.replaceDates(Table.DAILY_ACTIVITY, DailyActivity.rollup(events), days);
  }

  /**
   * Under inactivity churn a customer churned on the day its silence reached {@code days} days, if that day is
   * not after the last day of data; a customer that came back has no churn date. Returns the churned customers.
   */
  private long markInactivityChurn(int days) {
    Warehouse.DataRange range = warehouse.dataRange();
    if (range == null) {
      return 0;
    }
    warehouse.updateAll(Table.CUSTOMERS, Map.of(Customers.CHURN_DATE,
        CustomerMerge.inactivityChurnDate(days, range.last())));
    return warehouse.read(Table.CUSTOMERS).where(col(Customers.CHURN_DATE).isNotNull()).count();
  }
}
