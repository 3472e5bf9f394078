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
   * count, the files that are copies of another ({@link #withCopies}: copy to original; their records are not
   * read further), and the files whose path and fingerprint (its key) {@code ingested_files} already records.
   */
  record Batch(Set<Object> days, Map<String, Content> files, long records, Map<String, String> copies,
      Set<String> recorded) {}

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
    return new Batch(days, files, records, Map.of(), Set.of());
  }

  /**
   * The batch with its copies. Files of one content (records and fingerprint), in the batch or recorded in
   * {@code ingested_files} under another path, are one file moved or copied: read again, a log without event ids
   * (a record is its file and line) would be stored twice. Their original is the first path (by name) whose records
   * the warehouse holds (in {@code events} or {@code events_quarantine}), else the batch's first; every other path
   * of the batch is a copy, counted as replays and named on the console. A recorded path whose records are gone (a
   * table moved away to be rebuilt) is no original, so nothing is skipped that the warehouse does not hold.
   */
  Batch withCopies(Batch batch) {
    Map<Content, java.util.SortedSet<String>> same = new java.util.HashMap<>();
    batch.files().forEach((file, content) -> same.computeIfAbsent(content, k -> new java.util.TreeSet<>()).add(file));
    Set<String> recorded = new java.util.HashSet<>();
    if (warehouse.exists(Table.INGESTED_FILES) && !batch.files().isEmpty()) {
      for (Row r : warehouse.read(Table.INGESTED_FILES)
          .where(col(Table.Schemas.FINGERPRINT).isin(same.keySet().stream().map(Content::fingerprint).toArray()))
          .select(Events.SOURCE_FILE, Table.Schemas.RECORDS, Table.Schemas.FINGERPRINT).collectAsList()) {
        Content content = new Content(r.getLong(1), r.getLong(2));
        // The table's key (path and fingerprint) is stored: recordFiles appends only the files whose key is not.
        Content given = batch.files().get(r.getString(0));
        if (given != null && given.fingerprint() == content.fingerprint()) {
          recorded.add(r.getString(0));
        }
        java.util.SortedSet<String> paths = same.get(content);
        if (paths != null) {
          paths.add(r.getString(0));
        }
      }
    }
    same.values().removeIf(paths -> paths.size() < 2);
    if (same.isEmpty()) {
      return new Batch(batch.days(), batch.files(), batch.records(), Map.of(), recorded);
    }
    Set<String> held = holding(same.values().stream().flatMap(Set::stream).toList());
    Map<String, String> copies = new TreeMap<>();
    for (java.util.SortedSet<String> paths : same.values()) {
      String original = paths.stream().filter(held::contains).findFirst()
          .orElse(paths.stream().filter(batch.files()::containsKey).findFirst().orElseThrow());
      paths.stream().filter(p -> !p.equals(original) && batch.files().containsKey(p))
          .forEach(copy -> copies.put(copy, original));
    }
    return new Batch(batch.days(), batch.files(), batch.records(), copies, recorded);
  }

  /** Of {@code paths}, those whose records the warehouse holds, accepted or quarantined. */
  private Set<String> holding(List<String> paths) {
    Set<String> out = new java.util.HashSet<>();
    for (Table t : List.of(Table.EVENTS, Table.EVENTS_QUARANTINE)) {
      if (warehouse.exists(t)) {
        warehouse.read(t).where(col(Events.SOURCE_FILE).isin(paths.toArray())).select(Events.SOURCE_FILE).distinct()
            .as(org.apache.spark.sql.Encoders.STRING()).collectAsList().forEach(out::add);
      }
    }
    return out;
  }

  /**
   * Records each file of the batch but its copies and those recorded already in {@code ingested_files} (no commit
   * when none is new), one row per path and content (a path
   * whose content changed keeps its earlier row too, so a rotated log's older copy is still known). Called before
   * anything of the batch is committed: a recorded path counts as an original only while the warehouse holds its
   * records ({@link #withCopies}), so a run killed after this write, or refused by the gate, skips nothing later.
   */
  void recordFiles(Batch batch) {
    List<Row> rows = new ArrayList<>();
    batch.files().forEach((file, content) -> {
      if (!batch.copies().containsKey(file) && !batch.recorded().contains(file)) {
        rows.add(org.apache.spark.sql.RowFactory.create(file, content.records(), content.fingerprint(), runLog.runId()));
      }
    });
    // New keys by construction (withCopies read every stored row of the batch's fingerprints, under the lock): an
    // append, where a MERGE cost some ten Spark jobs (5 s of the demo's 17 s night ingest) to find none of them.
    if (!rows.isEmpty()) { // the table's first write creates it: one commit either way
      warehouse.append(Table.INGESTED_FILES, warehouse.spark().createDataFrame(rows, Table.INGESTED_FILES.schema()));
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
    /** Records whose position the quarantine holds from an earlier run; none: its changes are all new rows. */
    long withEarlierDecision;
  }

  Decisions decisions(Dataset<Row> checked) {
    Column heldByAccepted = accepting == null ? lit(false)
        : coalesce(col(WAS_STATUS).equalTo(lit(Events.HELD)).and(col(WAS_RUN).equalTo(lit(accepting))), lit(false));
    Decisions d = new Decisions();
    // A few rows per day and reason, put in day order here: Spark's sort cost a sampling job and a shuffle.
    List<Row> counts = new ArrayList<>(checked.groupBy(col(Events.REASON), EventValidation.eventDay().as("_day"),
            settled().as("_settled"), col(WAS_REASON).isNotNull().as("_earlier"), heldByAccepted.as("_held"))
        .count().collectAsList());
    counts.sort(java.util.Comparator.comparing((Row r) -> r.getDate(1), java.util.Comparator.nullsFirst(
        java.util.Comparator.<java.sql.Date>naturalOrder())));
    for (Row r : counts) {
      long n = r.getLong(5);
      d.withEarlierDecision += r.getBoolean(3) ? n : 0;
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
