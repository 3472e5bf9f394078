package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.ChurnDefinition;
import dev.churn.features.EventRows;
import dev.churn.features.EventValidation;
import dev.churn.features.Events;
import dev.churn.features.SourceMapping;
import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.KillPoints;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Settings;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Ingests raw activity logs: every record read is either accepted into {@code events} (partitioned by
 * event_date) or quarantined in {@code events_quarantine} with a reason, its raw text, file, position and run id.
 * Then merges {@code customers} and recomputes {@code daily_activity} for exactly the days the batch touched, so a
 * late event fixes its own day ({@link EventsFeed}), and stores the interventions files given
 * ({@link InterventionsIngest}).
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
   * all in dated folders). Then interventions files ({@link InterventionsIngest}), whose plays must be among
   * {@code plays} and whose contacts must not be after the batch's date, else {@code today}: with them, raw log
   * paths may be left out.
   */
  public record Options(List<String> events, List<String> customers, SourceMapping mapping, LocalDate date,
      Gate gate, LocalDate today, List<String> interventions, Set<String> plays) {
    public Options {
      events = events == null ? List.of() : List.copyOf(events);
      interventions = interventions == null ? List.of() : List.copyOf(interventions);
      if ((events.isEmpty() && interventions.isEmpty()) || mapping == null || gate == null) {
        throw new IllegalArgumentException("ingest needs raw log or interventions paths, a mapping and a quality gate");
      }
      if (!interventions.isEmpty() && (plays == null || (date == null && today == null))) {
        throw new IllegalArgumentException("interventions need the playbook's plays and the day of the run");
      }
      customers = customers == null ? List.of() : List.copyOf(customers);
      plays = plays == null ? Set.of() : Set.copyOf(plays);
    }

    /** Raw logs only. */
    public Options(List<String> events, List<String> customers, SourceMapping mapping, LocalDate date, Gate gate,
        LocalDate today) {
      this(events, customers, mapping, date, gate, today, List.of(), null);
    }

    /** Without a day the command runs: every record is bounded by its folder or {@code date}. */
    public Options(List<String> events, List<String> customers, SourceMapping mapping, LocalDate date, Gate gate) {
      this(events, customers, mapping, date, gate, null);
    }
  }

  /**
   * An interventions file's rows: read, stored, rejected by this run (by reason), and decided by an earlier run
   * (replays and rows quarantined before for the same reason).
   */
  public record Interventions(long rows, long stored, long rejected, long already, Map<String, Long> byReason) {
    static final Interventions NONE = new Interventions(0, 0, 0, 0, Map.of());
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
   * {@code copies} are the batch's files whose content a committed ingest read before under another path (moved or
   * copied files), each with that path: their records count as replays.
   */
  public record Result(String runId, long rowsIn, long accepted, long rejected, long replayed, long requarantined,
      Map<String, Long> rejectedByReason, List<LocalDate> daysTouched, List<LocalDate> daysRepaired, long customersIn,
      long customersRejected, String overridden, Map<String, String> copies, Interventions interventions) {

    /** Nothing ingested (a run with interventions only). */
    static Result none(String runId) {
      return new Result(runId, 0, 0, 0, 0, 0, Map.of(), List.of(), List.of(), 0, 0, null, Map.of(),
          Interventions.NONE);
    }

    Result withDaysTouched(List<LocalDate> days, List<LocalDate> repaired) {
      return new Result(runId, rowsIn, accepted, rejected, replayed, requarantined, rejectedByReason, days,
          List.copyOf(repaired), customersIn, customersRejected, overridden, copies, interventions);
    }

    Result withInterventions(Interventions counts) {
      return new Result(runId, rowsIn, accepted, rejected, replayed, requarantined, rejectedByReason, daysTouched,
          daysRepaired, customersIn, customersRejected, overridden, copies, counts);
    }

    RunLog.StageResult counts() {
      return new RunLog.StageResult(rowsIn, accepted, rejected + replayed + requarantined, summary());
    }

    /** The run_log message: rejections by reason, what was decided before, and an override of the gate. */
    String summary() {
      List<String> parts = new ArrayList<>();
      rejectedByReason.forEach((k, v) -> parts.add(k + "=" + v));
      if (replayed > 0) {
        parts.add(replayed + " already ingested from the same file and position (replay)"
            + (copies.isEmpty() ? "" : " or from a file of the same content") + ", not stored again");
      }
      if (!copies.isEmpty()) {
        parts.add(copies.size() + " file(s) with the content of files already ingested, not read again: " + copies);
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


  private final StageContext ctx;
  private final Warehouse warehouse;
  private final Options options;
  private final EventsFeed feed;

  public IngestJob(StageContext ctx, Options options) {
    this.ctx = ctx;
    this.warehouse = ctx.warehouse();
    this.options = options;
    this.feed = new EventsFeed(ctx, options.mapping());
  }

  public Result run() {
    RunLog log = ctx.runLog();
    RawLogReader reader = new RawLogReader(warehouse.spark());
    // Rows read: the batch's records, or every customer when more (the customers merge reads them all).
    Result result = options.events().isEmpty() ? Result.none(log.runId())
        : CodeGeneration.forRows(warehouse.spark(), Math.max(warehouse.rows(Table.CUSTOMERS),
            CodeGeneration.records(reader.bytes(options.events()), options.mapping().format())),
            () -> ingestLogs(reader));
    if (!options.interventions().isEmpty()) {
      LocalDate today = options.date() != null ? options.date() : options.today();
      result = result.withInterventions(log.stage("interventions", () -> new InterventionsIngest(warehouse, log,
              options.interventions(), options.plays(), today, options.gate().maxBadFraction()).run(reader),
          InterventionsIngest.Counts::result).summary());
    }
    warehouse.refreshNames();
    return result;
  }

  /** The raw logs and customers file, then the rollup of the days they touched. */
  private Result ingestLogs(RawLogReader reader) {
    ChurnDefinition churn = recordSettings();
    // interventions too: the tables a night reads exist once a log is ingested, the team's log empty until it is given.
    for (Table t : List.of(Table.EVENTS, Table.EVENTS_QUARANTINE, Table.CUSTOMERS, Table.INTERVENTIONS)) {
      warehouse.ensure(t);
    }
    RunLog log = ctx.runLog();
    CustomerFileIngest.FileCounts file = options.customers().isEmpty() ? new CustomerFileIngest.FileCounts(0, 0)
        : log.stage("customers", () -> new CustomerFileIngest(warehouse, log, options.customers(),
                options.gate().maxBadFraction()).run(reader),
            c -> new RunLog.StageResult(c.rows(), c.rows() - c.rejected(), c.rejected(), null));
    Result result = log.stage("ingest", () -> ingestEvents(reader, churn, file), Result::counts);
    List<LocalDate> days = result.daysTouched();
    if (!days.isEmpty()) {
      log.stage("daily_activity", () -> RunLog.StageResult.of(days.size(), feed.refreshDailyActivity(days)));
    }
    if (churn.byInactivity()) {
      log.stage("inactivity_churn", () -> RunLog.StageResult.of(0, feed.markInactivityChurn(churn.inactivityDays())));
    }
    return result;
  }

  private Result ingestEvents(RawLogReader reader, ChurnDefinition churn, CustomerFileIngest.FileCounts file) {
    RunLog log = ctx.runLog();
    SourceMapping mapping = options.mapping();
    boolean orders = !mapping.orderGrain().isEmpty();
    Dataset<Row> raw = reader.read(options.events(), mapping);
    Dataset<Row> validated = RawLogReader.withoutAnsi(warehouse.spark(), () -> EventValidation.validate(
        EventValidation.toCanonical(raw, mapping), mapping, options.date() != null ? options.date() : options.today()))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      BatchChecks checks = new BatchChecks(warehouse, log, options.gate().acceptRejected());
      BatchChecks.Batch batch = checks.withCopies(BatchChecks.scan(validated));
      batch.copies().forEach((copy, original) -> ctx.console().printf("[ingest] %s has the content of %s, "
          + "already ingested: not read again (a moved or copied file)%n", copy, original));
      // From every valid record of the batch, replays included: a rerun that repairs customers finds them too.
      Dataset<Row> attributes = EventRows.customerAttributes(validated, mapping);
      Dataset<Row> checked = checks.check(validated, batch, orders);
      BatchChecks.Decisions d = checks.decisions(checked);
      Result counted = gate(checked, d, batch, file, checks);
      checks.recordFiles(batch);
      if (d.rejected > 0 || d.acceptedOverEarlier > 0) {
        // Before the events: a crash in between leaves decided rejections, and the rerun accepts the rest.
        recordInQuarantine(checks.quarantineChanges(checked, Events.REJECTED), d);
        KillPoints.reached(KillPoints.QUARANTINE_COMMITTED);
      }
      if (d.accepted > 0) {
        Dataset<Row> events = EventRows.acceptedEvents(checked, log.runId());
        if (orders) {
          events = EventRows.foldOrders(events);
        }
        // New by construction: replays and stored keys were excluded above, under the warehouse lock.
        warehouse.append(Table.EVENTS, events);
        KillPoints.reached(KillPoints.EVENTS_COMMITTED);
        feed.mergeCustomers(events, attributes, churn);
        KillPoints.reached(KillPoints.CUSTOMERS_COMMITTED);
      }
      List<LocalDate> repaired = feed.repairBehind(batch.days(), d.touched, attributes, churn);
      List<LocalDate> refresh = new ArrayList<>(d.touched);
      refresh.addAll(repaired);
      refresh.sort(null);
      return counted.withDaysTouched(refresh, repaired);
    } finally {
      validated.unpersist();
    }
  }

  /**
   * The quality gate over this run's decisions: their counts, or, when the rejected share of new records is over
   * {@code --max-bad-fraction} and the user did not accept it, the rejections held in the quarantine and exit 3.
   */
  private Result gate(Dataset<Row> checked, BatchChecks.Decisions d, BatchChecks.Batch batch,
      CustomerFileIngest.FileCounts file, BatchChecks checks) {
    RunLog log = ctx.runLog();
    SourceMapping mapping = options.mapping();
    long replayed = batch.records() - d.accepted - d.rejected - d.settled;
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
    double maxBad = options.gate().maxBadFraction();
    boolean over = fresh > 0 && (double) bad / fresh > maxBad;
    String overridden = over && accepting != null ? String.format(Locale.ROOT,
        "%.1f%% rejected, over the allowed %.1f%%, committed as accepted by %s (--accept-rejected %s)",
        100.0 * bad / fresh, 100.0 * maxBad, System.getProperty("user.name"), accepting) : null;
    Result counted = new Result(log.runId(), batch.records(), d.accepted, d.rejected, replayed, d.settled,
        d.byReason, List.of(), List.of(), file.rows(), file.rejected(), overridden, batch.copies(), Interventions.NONE);
    if (over && accepting == null) {
      if (d.rejected > 0) {
        recordInQuarantine(checks.quarantineChanges(checked, Events.HELD).where(not(col(BatchChecks.DELETE))), d);
      }
      throw ChurnException.badData(String.format(Locale.ROOT,
          "%d of %d new records (%.1f%%) were rejected, over the allowed %.1f%% (--max-bad-fraction): they "
              + "are held in events_quarantine under run %s and no events were committed; a rerun refuses the "
              + "batch again until its files change, the threshold is raised, or --accept-rejected %s",
          bad, fresh, 100.0 * bad / fresh, 100.0 * maxBad, log.runId(), log.runId()))
          .withPartialResult(new RunLog.StageResult(batch.records(), 0, batch.records(), (counted.summary() == null
              ? "" : counted.summary() + ", ") + "batch refused by the gate: " + d.accepted + " valid records not committed"));
    }
    return counted;
  }

  /**
   * Commits quarantine changes ({@link BatchChecks#quarantineChanges}). When no position of the batch is in the
   * quarantine yet (a new file: every night's), they are new rows and are appended; a MERGE spent some ten Spark
   * jobs looking for rows it could not find. Otherwise they replace and delete by position in one MERGE.
   */
  private void recordInQuarantine(Dataset<Row> changes, BatchChecks.Decisions d) {
    if (d.withEarlierDecision == 0) {
      warehouse.append(Table.EVENTS_QUARANTINE, changes.drop(BatchChecks.DELETE));
    } else {
      warehouse.applyDecisions(Table.EVENTS_QUARANTINE, changes, BatchChecks.DELETE);
    }
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
          Settings.SOURCE_NAME, options.mapping().name(), Settings.VOCABULARY, options.mapping().vocabulary()));
    }
    return churn;
  }


}
