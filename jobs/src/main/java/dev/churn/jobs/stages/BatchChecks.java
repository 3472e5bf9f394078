package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.EventKeys;
import dev.churn.features.EventRows;
import dev.churn.features.EventValidation;
import dev.churn.features.Events;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * An ingest batch against what the warehouse already holds of it: the quarantine's earlier decision on each
 * record's position, what this run decides anew, and the quarantine changes that record it. The small sets the
 * batch is joined with travel to every task ({@link #small}), never the batch.
 */
final class BatchChecks {
  private final Warehouse warehouse;
  private final RunLog runLog;
  /** The run whose held records the user accepts (--accept-rejected), or null. */
  private final String accepting;

  BatchChecks(Warehouse warehouse, RunLog runLog, String accepting) {
    this.warehouse = warehouse;
    this.runLog = runLog;
    this.accepting = accepting;
  }

  /** A file's content as far as ingest tells files apart: its records and their fingerprint. */
  record Content(long records, long fingerprint) {}

  /**
   * What a batch holds: the days its records fall on, each file's {@link Content} (by path, sorted), its record
   * count, and the files whose content is that of a file ingested before or of an earlier path of the batch
   * ({@link #copies}: copy to original; their records are not read further).
   */
  record Batch(Set<Object> days, Map<String, Content> files, long records, Map<String, String> copies) {}

  /** The batch's days, files and records, with each file's content fingerprint, in one pass. */
  static Batch scan(Dataset<Row> validated) {
    Set<Object> days = new LinkedHashSet<>();
    Map<String, Content> files = new TreeMap<>();
    long records = 0;
    for (Row r : validated.groupBy(EventValidation.eventDay().as("_day"), col(Events.SOURCE_FILE))
        .agg(count(lit(1)), bit_xor(xxhash64(col(Events.SOURCE_POSITION), col(Events.RAW_RECORD))))
        .collectAsList()) {
      if (!r.isNullAt(0)) {
        days.add(r.get(0));
      }
      // A file's records spread over days: its count adds up and its fingerprint XORs up across them.
      files.merge(r.getString(1), new Content(r.getLong(2), r.getLong(3)),
          (a, b) -> new Content(a.records() + b.records(), a.fingerprint() ^ b.fingerprint()));
      records += r.getLong(2);
    }
    return new Batch(days, files, records, Map.of());
  }

  /**
   * The batch with its {@link Batch#copies}: a file whose content (records and fingerprint) a committed ingest
   * recorded under another path in {@code ingested_files}, or that an earlier path of this batch holds, is the same
   * file moved or copied: read again it would store every record twice where a log has no event ids (its records'
   * identity is their file and line). Its records are counted as replays; it is named on the console.
   */
  Batch withCopies(Batch batch) {
    Map<Content, java.util.SortedSet<String>> known = new java.util.HashMap<>();
    if (warehouse.exists(Table.INGESTED_FILES) && !batch.files().isEmpty()) {
      for (Row r : warehouse.read(Table.INGESTED_FILES)
          .where(col(Table.Schemas.FINGERPRINT).isin(batch.files().values().stream().map(Content::fingerprint)
              .distinct().toArray()))
          .select(Events.SOURCE_FILE, Table.Schemas.RECORDS, Table.Schemas.FINGERPRINT).collectAsList()) {
        known.computeIfAbsent(new Content(r.getLong(1), r.getLong(2)), k -> new java.util.TreeSet<>()).add(r.getString(0));
      }
    }
    Map<String, String> copies = new TreeMap<>();
    for (Map.Entry<String, Content> f : batch.files().entrySet()) {
      java.util.SortedSet<String> same = known.computeIfAbsent(f.getValue(), k -> new java.util.TreeSet<>());
      if (!same.isEmpty() && !same.contains(f.getKey())) {
        copies.put(f.getKey(), same.first());
      } else {
        same.add(f.getKey());
      }
    }
    return new Batch(batch.days(), batch.files(), batch.records(), copies);
  }

  /**
   * Records the batch's files, but its copies, in {@code ingested_files} (a file read before keeps its row unless
   * its content changed): called once the batch's events are committed, so a refused batch records nothing.
   */
  void recordFiles(Batch batch) {
    warehouse.ensure(Table.INGESTED_FILES);
    List<Row> rows = new ArrayList<>();
    Map<String, Content> stored = new java.util.HashMap<>();
    for (Row r : warehouse.read(Table.INGESTED_FILES).where(col(Events.SOURCE_FILE).isin(batch.files().keySet().toArray()))
        .select(Events.SOURCE_FILE, Table.Schemas.RECORDS, Table.Schemas.FINGERPRINT).collectAsList()) {
      stored.put(r.getString(0), new Content(r.getLong(1), r.getLong(2)));
    }
    batch.files().forEach((file, content) -> {
      if (!batch.copies().containsKey(file) && !content.equals(stored.get(file))) {
        rows.add(org.apache.spark.sql.RowFactory.create(file, content.records(), content.fingerprint(), runLog.runId()));
      }
    });
    if (!rows.isEmpty()) {
      warehouse.upsert(Table.INGESTED_FILES, warehouse.spark().createDataFrame(rows, Table.INGESTED_FILES.schema()));
    }
  }

  /**
   * The batch's records this run decides: without replays (a file and position, or under an order_grain an order of
   * the file, stored by an earlier run), duplicates marked, with the quarantine's earlier decision on each position.
   */
  Dataset<Row> check(Dataset<Row> validated, Batch batch, boolean orders) {
    Column inBatch = col(Events.SOURCE_FILE).isin(batch.files().keySet().toArray());
    if (!batch.copies().isEmpty()) {
      validated = validated.where(not(col(Events.SOURCE_FILE).isin(batch.copies().keySet().toArray())));
    }
    // A replay or a duplicate of a stored event has the stored event's time, so only the days the batch's
    // records fall on are read back: the checks cost the batch's days, not the history.
    Dataset<Row> stored = warehouse.snapshot(Table.EVENTS).where(col(Events.EVENT_DATE).isin(batch.days().toArray()));
    Dataset<Row> unseen = EventKeys.markReplays(validated, small(orders
            ? stored.where(inBatch).select(col(Events.EVENT_KEY))
            : stored.where(inBatch).select(col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION))), orders)
        .where(not(col(EventKeys.REPLAY)));
    // An order's lines share its key: they are folded, not duplicates; a stored order of the file is a replay.
    return withEarlierDecision(orders ? unseen : EventKeys.markDuplicates(unseen,
        small(EventKeys.repeatedKeys(unseen)), small(stored.select(Events.EVENT_KEY))), inBatch);
  }

  /** Columns of a batch record about its position's quarantine row from an earlier run, if any. */
  private static final String WAS_REASON = "_was_reason";
  private static final String WAS_STATUS = "_was_status";
  private static final String WAS_RUN = "_was_run";
  /** Set on a quarantine change that deletes an earlier row (the position is now accepted). */
  static final String DELETE = "_delete";

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
  static final class Decisions {
    final Map<String, Long> byReason = new TreeMap<>();
    final List<LocalDate> touched = new ArrayList<>();
    long accepted;
    long rejected;
    long settled;
    long acceptedOverEarlier;
    long heldByAccepted;
  }

  Decisions decisions(Dataset<Row> checked) {
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
  Dataset<Row> quarantineChanges(Dataset<Row> checked, String status) {
    Dataset<Row> decided = checked.where(not(coalesce(settled(), lit(false)))
        .and(col(Events.REASON).isNotNull().or(col(WAS_REASON).isNotNull())));
    return EventRows.rejectedRecords(decided.withColumn(Events.REASON, coalesce(col(Events.REASON), lit(""))),
            runLog.runId(), runLog.runDate(), status)
        .withColumn(DELETE, col(Events.REASON).equalTo(lit("")));
  }

  /**
   * Rows the checks join against: null when there are none; when they are few, computed once and held as a
   * local frame sent to every task, so neither they nor the batch are recomputed or shuffled for the join.
   */
  Dataset<Row> small(Dataset<Row> rows) {
    List<Row> few = rows.limit((int) BROADCAST_ROWS + 1).collectAsList();
    if (few.isEmpty()) {
      return null;
    }
    return few.size() <= BROADCAST_ROWS ? broadcast(warehouse.spark().createDataFrame(few, rows.schema())) : rows;
  }

  /** Up to this many stored keys or positions are sent to every task rather than shuffled with the batch. */
  private static final long BROADCAST_ROWS = 500_000;

}
