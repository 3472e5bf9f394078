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
import dev.churn.jobs.warehouse.KillPoints;
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
import org.apache.spark.sql.Encoders;
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
   * them, the batch's date (null: each file's {@code event_date=} folder), the quality gate, and {@code today}: the
   * day the command runs (UTC), which bounds records that have neither a dated folder nor a batch date (an event
   * more than a day after it is {@code future_timestamp}; null leaves them unbounded, for callers whose files are
   * all in dated folders).
   */
  public record Options(List<String> events, List<String> customers, SourceMapping mapping, LocalDate date,
      Gate gate, LocalDate today) {
    public Options {
      if (events == null || events.isEmpty() || mapping == null || gate == null) {
        throw new IllegalArgumentException("ingest needs raw log paths, a mapping and a quality gate");
      }
      events = List.copyOf(events);
      customers = customers == null ? List.of() : List.copyOf(customers);
    }

    /** Without a day the command runs: every record is bounded by its folder or {@code date}. */
    public Options(List<String> events, List<String> customers, SourceMapping mapping, LocalDate date, Gate gate) {
      this(events, customers, mapping, date, gate, null);
    }
  }

  /**
   * The quality gate: a batch whose rejected share of new records exceeds {@code maxBadFraction} commits no
   * events, unless {@code acceptRejected} names the run that refused it (the user accepts its rejections).
   */
  public record Gate(double maxBadFraction, String acceptRejected) {
    public Gate {
      if (!(maxBadFraction >= 0 && maxBadFraction <= 1)) {
        throw new IllegalArgumentException("--max-bad-fraction must be between 0 and 1");
      }
      if (acceptRejected != null && acceptRejected.isBlank()) {
        throw new IllegalArgumentException("--accept-rejected needs the run id the gate refused");
      }
    }

    public static Gate of(double maxBadFraction) {
      return new Gate(maxBadFraction, null);
    }
  }

  /**
   * Counts of one ingest; {@code rowsIn == accepted + rejected + replayed + requarantined}: records stored by an
   * earlier run are replays, records an earlier committed run quarantined for the same reason are requarantined;
   * neither is stored or counted again. {@code overridden} says who committed the batch over the gate, if anyone.
   */
  public record Result(String runId, long rowsIn, long accepted, long rejected, long replayed, long requarantined,
      Map<String, Long> rejectedByReason, List<LocalDate> daysTouched, List<LocalDate> daysRepaired, long customersIn,
      long customersRejected, String overridden) {

    Result withDaysTouched(List<LocalDate> days, List<LocalDate> repaired) {
      return new Result(runId, rowsIn, accepted, rejected, replayed, requarantined, rejectedByReason, days,
          List.copyOf(repaired), customersIn, customersRejected, overridden);
    }

    RunLog.StageResult counts() {
      return new RunLog.StageResult(rowsIn, accepted, rejected + replayed + requarantined, summary());
    }

    /** The run_log message: rejections by reason, what was decided before, and an override of the gate. */
    String summary() {
      List<String> parts = new ArrayList<>();
      rejectedByReason.forEach((k, v) -> parts.add(k + "=" + v));
      if (replayed > 0) {
        parts.add(replayed + " already ingested from the same file and position (replay), not stored again");
      }
      if (requarantined > 0) {
        parts.add(requarantined + " already in events_quarantine for the same reason, not counted again");
      }
      if (overridden != null) {
        parts.add(overridden);
      }
      if (!daysRepaired.isEmpty()) {
        parts.add("repaired daily_activity and customers of " + daysRepaired + ", behind their events");
      }
      return parts.isEmpty() ? null : String.join(", ", parts);
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
    SourceMapping mapping = options.mapping();
    boolean orders = !mapping.orderGrain().isEmpty();
    Dataset<Row> raw = reader.read(options.events(), mapping);
    Dataset<Row> validated = RawLogReader.withoutAnsi(warehouse.spark(), () -> EventValidation.validate(EventValidation.toCanonical(raw, mapping),
        mapping, options.date() != null ? options.date() : options.today())).persist(StorageLevel.MEMORY_AND_DISK());
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
      Column inBatch = col(Events.SOURCE_FILE).isin(files.toArray());
      // From every valid record of the batch, replays included: a rerun that repairs customers finds them too.
      Dataset<Row> attributes = EventValidation.customerAttributes(validated, mapping);
      Dataset<Row> stored = warehouse.snapshot(Table.EVENTS).where(col(Events.EVENT_DATE).isin(days.toArray()));
      Dataset<Row> unseen = EventValidation.markReplays(validated, small(orders ? stored.where(inBatch).select(col(Events.EVENT_KEY))
              : stored.where(inBatch).select(col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION))), orders)
          .where(not(col(EventValidation.REPLAY)));
      // An order's lines share its key: they are folded, not duplicates; a stored order of the file is a replay.
      Dataset<Row> checked = withEarlierDecision(orders ? unseen : EventValidation.markDuplicates(unseen,
          small(EventValidation.repeatedKeys(unseen)), small(stored.select(Events.EVENT_KEY))), inBatch);

      Decisions d = decisions(checked);
      long replayed = records - d.accepted - d.rejected - d.settled;
      String accepting = options.gate().acceptRejected();
      if (accepting != null && d.heldByAccepted == 0) {
        throw ChurnException.usage("--accept-rejected " + accepting + ": that run held none of these records "
            + "(events_quarantine rows with status 'held' and that run_id); nothing was committed");
      }
      // Rows the mapping excludes are not customer events: quarantined and counted, but not against the gate.
      long excluded = d.byReason.entrySet().stream().filter(e -> mapping.exclude().containsKey(e.getKey()))
          .mapToLong(Map.Entry::getValue).sum();
      long bad = d.rejected - excluded;
      long fresh = d.accepted + bad;
      boolean over = fresh > 0 && (double) bad / fresh > options.gate().maxBadFraction();
      String overridden = over && accepting != null ? String.format(Locale.ROOT,
          "%.1f%% rejected, over the allowed %.1f%%, committed as accepted by %s (--accept-rejected %s)",
          100.0 * bad / fresh, 100.0 * options.gate().maxBadFraction(), System.getProperty("user.name"),
          accepting) : null;
      Result counted = new Result(log.runId(), records, d.accepted, d.rejected, replayed, d.settled, d.byReason,
          List.of(), List.of(), file.rows(), file.rejected(), overridden);
      if (over && accepting == null) {
        if (d.rejected > 0) {
          warehouse.applyDecisions(Table.EVENTS_QUARANTINE,
              quarantineChanges(checked, Events.HELD).where(not(col(DELETE))), DELETE);
        }
        throw ChurnException.badData(String.format(Locale.ROOT,
            "%d of %d new records (%.1f%%) were rejected, over the allowed %.1f%% (--max-bad-fraction): they "
                + "are held in events_quarantine under run %s and no events were committed; a rerun refuses the "
                + "batch again until its files change, the threshold is raised, or --accept-rejected %s",
            bad, fresh, 100.0 * bad / fresh, 100.0 * options.gate().maxBadFraction(), log.runId(),
            log.runId()))
            .withPartialResult(new RunLog.StageResult(records, 0, records, (counted.summary() == null ? ""
                : counted.summary() + ", ") + "batch refused by the gate: " + d.accepted + " valid records not committed"));
      }
      if (d.rejected > 0 || d.acceptedOverEarlier > 0) {
        // Before the events: a crash in between leaves decided rejections, and the rerun accepts the rest.
        warehouse.applyDecisions(Table.EVENTS_QUARANTINE, quarantineChanges(checked, Events.REJECTED), DELETE);
        KillPoints.reached(KillPoints.QUARANTINE_COMMITTED);
      }
      if (d.accepted > 0) {
        Dataset<Row> events = EventValidation.acceptedEvents(checked, log.runId());
        if (orders) {
          events = EventValidation.foldOrders(events);
        }
        // New by construction: replays and stored keys were excluded above, under the warehouse lock.
        warehouse.append(Table.EVENTS, events);
        KillPoints.reached(KillPoints.EVENTS_COMMITTED);
        mergeCustomers(events, attributes, churn);
        KillPoints.reached(KillPoints.CUSTOMERS_COMMITTED);
      }
      List<LocalDate> repaired = repairBehind(days, d.touched, attributes, churn);
      List<LocalDate> refresh = new ArrayList<>(d.touched);
      refresh.addAll(repaired);
      refresh.sort(null);
      return counted.withDaysTouched(refresh, repaired);
    } finally {
      validated.unpersist();
    }
  }

  /** Merges a batch's customers; {@code attributes} are the batch's customer_columns values (null: none). */
  private void mergeCustomers(Dataset<Row> events, Dataset<Row> attributes, ChurnDefinition churn) {
    warehouse.upsert(Table.CUSTOMERS, CustomerMerge.fromEvents(Customers.eventSummary(events, churn),
        warehouse.read(Table.CUSTOMERS), churn, options.mapping().customerConstants(), attributes));
  }

  /**
   * Derived state repairs itself: of the batch's days this run added nothing to, those whose rollup does not
   * count the events stored for them (a run stopped between its events commit and its rollup) get their customers
   * merged again from the day's events (the merge is idempotent) and are returned for the rollup's refresh.
   */
  private List<LocalDate> repairBehind(Set<Object> batchDays, List<LocalDate> touched, Dataset<Row> attributes,
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

  /** Columns of a batch record about its position's quarantine row from an earlier run, if any. */
  private static final String WAS_REASON = "_was_reason";
  private static final String WAS_STATUS = "_was_status";
  private static final String WAS_RUN = "_was_run";
  private static final String DELETE = "_delete";

  /**
   * Adds what the quarantine says of each record's position (reason, status, run), from an earlier run over the
   * same files. Quarantine is not ingestion: every such record is decided again, so a corrected mapping accepts
   * what it now finds valid and a retry of a refused batch meets the gate again.
   */
  private Dataset<Row> withEarlierDecision(Dataset<Row> checked, Column inBatch) {
    Dataset<Row> earlier = small(warehouse.snapshot(Table.EVENTS_QUARANTINE).where(inBatch).select(
        col(Events.SOURCE_FILE).as("_wf"), col(Events.SOURCE_POSITION).as("_wp"), col(Events.REASON).as(WAS_REASON),
        coalesce(col(Events.QUARANTINE_STATUS), lit(Events.REJECTED)).as(WAS_STATUS), col(Events.RUN_ID).as(WAS_RUN)));
    if (earlier == null) {
      return checked.withColumn(WAS_REASON, lit(null).cast("string")).withColumn(WAS_STATUS, lit(null).cast("string"))
          .withColumn(WAS_RUN, lit(null).cast("string"));
    }
    return checked.join(earlier, col(Events.SOURCE_FILE).equalTo(col("_wf"))
        .and(col(Events.SOURCE_POSITION).equalTo(col("_wp"))), "left").drop("_wf", "_wp");
  }

  /** A rejection a committed batch already stored, with the same reason: nothing to decide or count again. */
  private static Column settled() {
    return col(Events.REASON).isNotNull().and(col(WAS_STATUS).equalTo(lit(Events.REJECTED)))
        .and(col(WAS_REASON).equalTo(col(Events.REASON)));
  }

  /** What this run decided, counted in one pass over the checked batch. */
  private static final class Decisions {
    final Map<String, Long> byReason = new TreeMap<>();
    final List<LocalDate> touched = new ArrayList<>();
    long accepted;
    long rejected;
    long settled;
    long acceptedOverEarlier;
    long heldByAccepted;
  }

  private Decisions decisions(Dataset<Row> checked) {
    String accepting = options.gate().acceptRejected();
    Column heldByAccepted = accepting == null ? lit(false)
        : coalesce(col(WAS_STATUS).equalTo(lit(Events.HELD)).and(col(WAS_RUN).equalTo(lit(accepting))), lit(false));
    Decisions d = new Decisions();
    for (Row r : checked.groupBy(col(Events.REASON), EventValidation.eventDay().as("_day"), settled().as("_settled"),
            col(WAS_REASON).isNotNull().as("_earlier"), heldByAccepted.as("_held"))
        .count().orderBy("_day").collectAsList()) {
      long n = r.getLong(5);
      if (r.getBoolean(4)) {
        d.heldByAccepted += n;
      }
      if (r.isNullAt(0)) {
        d.accepted += n;
        LocalDate day = r.getDate(1).toLocalDate();
        if (d.touched.isEmpty() || !d.touched.get(d.touched.size() - 1).equals(day)) {
          d.touched.add(day);
        }
        d.acceptedOverEarlier += r.getBoolean(3) ? n : 0;
      } else if (!r.isNullAt(2) && r.getBoolean(2)) {
        d.settled += n;
      } else {
        d.byReason.merge(r.getString(0), n, Long::sum);
        d.rejected += n;
      }
    }
    return d;
  }

  /**
   * This run's changes to the quarantine: its new rejections with {@code status} (replacing an earlier row of the
   * same position), and a deletion of the earlier row of each position it accepted.
   */
  private Dataset<Row> quarantineChanges(Dataset<Row> checked, String status) {
    RunLog log = ctx.runLog();
    Dataset<Row> decided = checked.where(not(coalesce(settled(), lit(false)))
        .and(col(Events.REASON).isNotNull().or(col(WAS_REASON).isNotNull())));
    return EventValidation.rejectedRecords(decided.withColumn(Events.REASON, coalesce(col(Events.REASON), lit(""))),
            log.runId(), log.runDate(), status)
        .withColumn(DELETE, col(Events.REASON).equalTo(lit("")));
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
          Settings.SOURCE_NAME, options.mapping().name(), Settings.VOCABULARY, options.mapping().vocabulary()));
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
      // The events' gate (its threshold; --accept-rejected is for events): a file mostly rejected (a
      // semicolon-delimited extract, a shifted header) is refused whole before anything is written, rather than
      // leaving customers rebuilt as unknown. Nothing is lost: the file is where it was, and the message says why.
      double maxBad = options.gate().maxBadFraction();
      if (total > 0 && (double) rejected / total > maxBad) {
        String first = bad.orderBy(Events.SOURCE_FILE, Events.SOURCE_POSITION)
            .select(coalesce(col(Events.DETAIL), col(Events.REASON))).as(Encoders.STRING()).first();
        throw ChurnException.badData(String.format(Locale.ROOT, "%d of %d customers rows (%.1f%%) were rejected, "
                + "over the allowed %.1f%% (--max-bad-fraction), the first because %s; nothing was committed: is "
                + "the file comma-separated, with the header's columns? Fix it, or raise --max-bad-fraction",
            rejected, total, 100.0 * rejected / total, 100.0 * maxBad, first))
            .withPartialResult(new RunLog.StageResult(total, 0, rejected, "customers file refused by the gate"));
      }
      if (rejected > 0) {
        warehouse.insertNew(Table.EVENTS_QUARANTINE,
            EventValidation.rejectedRecords(bad, ctx.runLog().runId(), ctx.runLog().runDate(), Events.REJECTED));
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
