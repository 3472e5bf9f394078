package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.ChurnDefinition;
import dev.churn.features.Customers;
import dev.churn.features.DailyActivity;
import dev.churn.features.EventValidation;
import dev.churn.features.Events;
import dev.churn.features.RejectReason;
import dev.churn.features.SourceMapping;
import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Settings;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

/**
 * Ingests raw activity logs: every record read is either accepted into {@code events} (partitioned by
 * event_date) or quarantined in {@code events_quarantine} with a reason, its raw text, file, position and run id.
 * Then upserts {@code customers} and recomputes {@code daily_activity} for exactly the days the batch touched,
 * so a late event fixes its own day.
 *
 * <p>Idempotent: a record whose file and position were stored by an earlier run is a replay and is neither
 * stored again nor counted as new (it is counted as rejected in {@code run_log}, and said so in its message).
 * Danger: when the rejected share of new records exceeds {@code maxBadFraction} (default 0.05), the quarantine
 * is written, nothing is committed to {@code events}, and the job fails with exit code 3.
 */
public final class IngestJob {
  public static final double DEFAULT_MAX_BAD_FRACTION = 0.05;

  public record Options(List<String> events, List<String> customers, SourceMapping mapping, LocalDate date,
      double maxBadFraction) {}

  /** Counts of one ingest; {@code rowsIn == accepted + rejected + replayed}. */
  public record Result(String runId, long rowsIn, long accepted, long rejected, long replayed,
      Map<String, Long> rejectedByReason, List<LocalDate> daysTouched, long customersIn, long customersRejected) {}

  private final Warehouse warehouse;
  private final RunLog runLog;
  private final Options options;

  public IngestJob(Warehouse warehouse, RunLog runLog, Options options) {
    this.warehouse = warehouse;
    this.runLog = runLog;
    this.options = options;
  }

  public Result run() {
    ChurnDefinition churn = recordSettings();
    warehouse.ensure(Table.EVENTS, Events.TABLE_SCHEMA, Events.EVENT_DATE);
    warehouse.ensure(Table.EVENTS_QUARANTINE, Events.QUARANTINE_SCHEMA);
    warehouse.ensure(Table.CUSTOMERS, Customers.TABLE_SCHEMA);
    RawLogReader reader = new RawLogReader(warehouse.spark());

    long[] customerCounts = {0, 0};
    if (options.customers() != null && !options.customers().isEmpty()) {
      runLog.stage("customers", () -> {
        long[] c = ingestCustomerFile(reader);
        customerCounts[0] = c[0];
        customerCounts[1] = c[1];
        return new RunLog.StageResult(c[0], c[0] - c[1], c[1], null);
      });
    }

    Map<String, Long> byReason = new TreeMap<>();
    long[] counts = new long[4];
    List<LocalDate> days = new ArrayList<>();
    runLog.stage("ingest", () -> {
      Dataset<Row> raw = reader.read(options.events(), options.mapping());
      Dataset<Row> validated = EventValidation.validate(EventValidation.toCanonical(raw, options.mapping()),
          options.mapping(), options.date());
      Dataset<Row> marked = EventValidation.markReplays(validated, storedPositions(validated))
          .persist(StorageLevel.MEMORY_AND_DISK());
      try {
        Dataset<Row> checked = EventValidation.markDuplicates(marked.where(not(col(EventValidation.REPLAY))),
            warehouse.snapshot(Table.EVENTS).select(Events.EVENT_KEY)).persist(StorageLevel.MEMORY_AND_DISK());
        try {
          long replayed = 0;
          for (Row r : marked.groupBy(col(EventValidation.REPLAY)).count().collectAsList()) {
            if (r.getBoolean(0)) {
              replayed = r.getLong(1);
            }
          }
          long accepted = 0;
          long rejected = 0;
          for (Row r : checked.groupBy(col(Events.REASON)).count().collectAsList()) {
            if (r.isNullAt(0)) {
              accepted = r.getLong(1);
            } else {
              byReason.put(r.getString(0), r.getLong(1));
              rejected += r.getLong(1);
            }
          }
          long rowsIn = accepted + rejected + replayed;
          counts[0] = rowsIn;
          counts[1] = accepted;
          counts[2] = rejected;
          counts[3] = replayed;
          String note = summary(byReason, replayed);

          if (rejected > 0) {
            quarantine(EventValidation.rejectedRecords(checked, runLog.runId(), runLog.runDate()));
          }
          long fresh = accepted + rejected;
          if (fresh > 0 && (double) rejected / fresh > options.maxBadFraction()) {
            throw ChurnException.badData(String.format(Locale.ROOT,
                "%d of %d new records (%.1f%%) were rejected, over the allowed %.1f%% (--max-bad-fraction): they "
                    + "are in events_quarantine under run %s; no events were committed", rejected, fresh,
                100.0 * rejected / fresh, 100.0 * options.maxBadFraction(), runLog.runId()))
                .withPartialResult(new RunLog.StageResult(rowsIn, 0, rejected + replayed, note));
          }
          Dataset<Row> events = EventValidation.acceptedEvents(checked, runLog.runId());
          if (accepted == 0) {
            return new RunLog.StageResult(rowsIn, 0, rejected + replayed, note);
          }
          warehouse.insertNew(Table.EVENTS, events,
              "t.event_date = s.event_date AND t.event_key = s.event_key", Events.EVENT_DATE);
          for (Row r : events.select(Events.EVENT_DATE).distinct().orderBy(Events.EVENT_DATE).collectAsList()) {
            days.add(r.getDate(0).toLocalDate());
          }
          updateCustomersFromEvents(events, churn);
          return new RunLog.StageResult(rowsIn, accepted, rejected + replayed, note);
        } finally {
          checked.unpersist();
        }
      } finally {
        marked.unpersist();
      }
    });

    if (!days.isEmpty()) {
      runLog.stage("daily_activity", () -> RunLog.StageResult.of(days.size(), refreshDailyActivity(days)));
    }
    if (churn.byInactivity()) {
      runLog.stage("inactivity_churn", () -> RunLog.StageResult.of(0, markInactivityChurn(churn.inactivityDays())));
    }
    warehouse.registerAll();
    return new Result(runLog.runId(), counts[0], counts[1], counts[2], counts[3], byReason, days,
        customerCounts[0], customerCounts[1]);
  }

  private static String summary(Map<String, Long> byReason, long replayed) {
    List<String> parts = new ArrayList<>();
    byReason.forEach((k, v) -> parts.add(k + "=" + v));
    if (replayed > 0) {
      parts.add(replayed + " already ingested from the same file and position (replay), not stored again");
    }
    return parts.isEmpty() ? null : String.join(", ", parts);
  }

  private void quarantine(Dataset<Row> rejected) {
    warehouse.insertNew(Table.EVENTS_QUARANTINE, rejected,
        "t.source_file = s.source_file AND t.source_position = s.source_position");
  }

  /** File positions already stored, for the files of this batch only. */
  private Dataset<Row> storedPositions(Dataset<Row> validated) {
    List<Object> files = new ArrayList<>();
    for (Row r : validated.select(Events.SOURCE_FILE).distinct().collectAsList()) {
      files.add(r.getString(0));
    }
    Column inBatch = col(Events.SOURCE_FILE).isin(files.toArray());
    return warehouse.snapshot(Table.EVENTS).where(inBatch).select(Events.SOURCE_FILE, Events.SOURCE_POSITION)
        .union(warehouse.snapshot(Table.EVENTS_QUARANTINE).where(inBatch)
            .select(Events.SOURCE_FILE, Events.SOURCE_POSITION));
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

  private long[] ingestCustomerFile(RawLogReader reader) {
    Dataset<Row> file = reader.readCustomers(options.customers());
    for (String c : Customers.FILE_SCHEMA.fieldNames()) {
      if (!List.of(file.columns()).contains(c)) {
        file = file.withColumn(c, lit(null).cast(DataTypes.StringType));
      }
    }
    Dataset<Row> checked = Customers.validateFile(file.where(not(col(EventValidation.MALFORMED))))
        .unionByName(Customers.validateFile(file.where(col(EventValidation.MALFORMED)))
            .withColumn(Events.REASON, lit(RejectReason.MALFORMED.code()))
            .withColumn(Events.DETAIL, lit("customers line does not have the header's number of fields")));
    var first = org.apache.spark.sql.expressions.Window.partitionBy(col(Customers.CUSTOMER_ID))
        .orderBy(col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION));
    checked = checked.withColumn("_rank", when(col(Events.REASON).isNull(), row_number().over(first)))
        .withColumn(Events.DETAIL, when(col("_rank").gt(1), lit("customer_id already given earlier in the file"))
            .otherwise(col(Events.DETAIL)))
        .withColumn(Events.REASON, when(col("_rank").gt(1), lit(RejectReason.DUPLICATE.code()))
            .otherwise(col(Events.REASON)))
        .drop("_rank").persist(StorageLevel.MEMORY_AND_DISK());
    try {
      long total = checked.count();
      Dataset<Row> bad = checked.where(col(Events.REASON).isNotNull());
      long rejected = bad.count();
      if (rejected > 0) {
        quarantine(EventValidation.rejectedRecords(bad, runLog.runId(), runLog.runDate()));
      }
      Dataset<Row> good = checked.where(col(Events.REASON).isNull());
      Map<String, String> updates = new LinkedHashMap<>();
      for (String c : List.of(Customers.SEGMENT, Customers.INDUSTRY, Customers.SIGNUP_DATE, Customers.TRIAL_END_DATE)) {
        updates.put(c, "s." + c);
      }
      updates.put(Customers.SIGNUP_PLAN, "s.plan");
      updates.put(Customers.SIGNUP_MRR, "s.mrr");
      updates.put(Customers.PLAN, "CASE WHEN t.plan_changed_at IS NULL THEN s.plan ELSE t.plan END");
      updates.put(Customers.MRR, "CASE WHEN t.plan_changed_at IS NULL THEN s.mrr ELSE t.mrr END");
      Map<String, String> inserts = new LinkedHashMap<>();
      for (String c : Customers.TABLE_SCHEMA.fieldNames()) {
        inserts.put(c, "NULL");
      }
      for (String c : List.of(Customers.CUSTOMER_ID, Customers.SEGMENT, Customers.INDUSTRY, Customers.PLAN,
          Customers.MRR, Customers.SIGNUP_DATE, Customers.TRIAL_END_DATE)) {
        inserts.put(c, "s." + c);
      }
      inserts.put(Customers.SIGNUP_PLAN, "s.plan");
      inserts.put(Customers.SIGNUP_MRR, "s.mrr");
      warehouse.merge(Table.CUSTOMERS, good, "t.customer_id = s.customer_id", updates, inserts);
      return new long[] {total, rejected};
    } finally {
      checked.unpersist();
    }
  }

  private void updateCustomersFromEvents(Dataset<Row> events, ChurnDefinition churn) {
    Dataset<Row> summary = Customers.eventSummary(events, churn);
    Map<String, String> constants = options.mapping().customerConstants();
    Map<String, String> updates = new LinkedHashMap<>();
    updates.put(Customers.FIRST_EVENT_DATE, "least(t.first_event_date, s.first_event_date)");
    updates.put(Customers.LAST_EVENT_DATE, "greatest(t.last_event_date, s.last_event_date)");
    updates.put(Customers.CANCELLED_ON, "least(t.cancelled_on, s.cancelled_on)");
    String newer = "s.plan_changed_at IS NOT NULL AND (t.plan_changed_at IS NULL OR s.plan_changed_at > t.plan_changed_at)";
    updates.put(Customers.PLAN, "CASE WHEN " + newer + " THEN s.plan ELSE t.plan END");
    updates.put(Customers.MRR, "CASE WHEN " + newer + " THEN s.mrr ELSE t.mrr END");
    updates.put(Customers.PLAN_CHANGED_AT, "CASE WHEN " + newer + " THEN s.plan_changed_at ELSE t.plan_changed_at END");
    if (!churn.byInactivity()) {
      updates.put(Customers.CHURN_DATE, "least(t.cancelled_on, s.cancelled_on)");
    }
    Map<String, String> inserts = new LinkedHashMap<>();
    inserts.put(Customers.CUSTOMER_ID, "s.customer_id");
    inserts.put(Customers.SEGMENT, sqlConstant(constants.getOrDefault(Customers.SEGMENT, Customers.UNKNOWN)));
    inserts.put(Customers.INDUSTRY, sqlConstant(constants.getOrDefault(Customers.INDUSTRY, Customers.UNKNOWN)));
    String plan = sqlConstant(constants.getOrDefault(Customers.PLAN, Customers.UNKNOWN));
    inserts.put(Customers.PLAN, "coalesce(s.plan, " + plan + ")");
    inserts.put(Customers.MRR, "coalesce(s.mrr, 0.0)");
    inserts.put(Customers.SIGNUP_DATE, "s.first_event_date");
    inserts.put(Customers.SIGNUP_PLAN, plan);
    inserts.put(Customers.SIGNUP_MRR, "0.0");
    inserts.put(Customers.TRIAL_END_DATE, "NULL");
    inserts.put(Customers.CHURN_DATE, churn.byInactivity() ? "NULL" : "s.cancelled_on");
    inserts.put(Customers.CANCELLED_ON, "s.cancelled_on");
    inserts.put(Customers.FIRST_EVENT_DATE, "s.first_event_date");
    inserts.put(Customers.LAST_EVENT_DATE, "s.last_event_date");
    inserts.put(Customers.PLAN_CHANGED_AT, "s.plan_changed_at");
    warehouse.merge(Table.CUSTOMERS, summary, "t.customer_id = s.customer_id", updates, inserts);
  }

  private static String sqlConstant(String value) {
    return "'" + value.replace("'", "''") + "'";
  }

  /** Recomputes the rollup of the given days from {@code events} and replaces exactly those days. */
  private long refreshDailyActivity(List<LocalDate> days) {
    String inDays = Warehouse.dateList(days);
    Dataset<Row> daily = DailyActivity.rollup(warehouse.read(Table.EVENTS).where(Events.EVENT_DATE + " IN (" + inDays + ")"));
    warehouse.replaceWhere(Table.DAILY_ACTIVITY, daily, DailyActivity.ACTIVITY_DATE + " IN (" + inDays + ")",
        DailyActivity.ACTIVITY_DATE);
    return warehouse.read(Table.DAILY_ACTIVITY).where(DailyActivity.ACTIVITY_DATE + " IN (" + inDays + ")").count();
  }

  /**
   * Under inactivity churn a customer churned on the day its silence reached {@code days} days, if that day is
   * not after the last day of data; a customer that came back has no churn date.
   */
  private long markInactivityChurn(int days) {
    Row last = warehouse.read(Table.EVENTS).agg(max(Events.EVENT_DATE)).first();
    if (last.isNullAt(0)) {
      return 0;
    }
    String dataEnd = last.getDate(0).toString();
    io.delta.tables.DeltaTable.forPath(warehouse.spark(), warehouse.path(Table.CUSTOMERS)).updateExpr(
        Map.of(Customers.CHURN_DATE, "CASE WHEN date_add(last_event_date, " + days + ") <= DATE'" + dataEnd
            + "' THEN date_add(last_event_date, " + days + ") END"));
    return warehouse.read(Table.CUSTOMERS).where(col(Customers.CHURN_DATE).isNotNull()).count();
  }

}
