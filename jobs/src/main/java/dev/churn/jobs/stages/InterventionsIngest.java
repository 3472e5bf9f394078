package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.EventRows;
import dev.churn.features.Events;
import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.Interventions;
import java.time.LocalDate;
import java.util.ArrayList;
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
 * An interventions file (what the retention team did: customer_id, contacted_on, play, channel, outcome) stored
 * in {@code interventions}, its rejected rows ({@link Interventions#check}) quarantined in
 * {@code events_quarantine} with their reasons. Idempotent: a row stored from the same file and line is a replay,
 * a row quarantined before for the same reason is not quarantined or counted again, and a row quarantined before
 * that is valid now (its customer arrived since) is stored and leaves the quarantine. Runs after the batch's
 * events and customers file, so a customer they bring is known. Danger: a file whose rejected share exceeds the
 * events' {@code --max-bad-fraction} is refused whole (exit 3) and nothing is written.
 */
final class InterventionsIngest {
  /**
   * Rows read, stored, rejected by this run (by reason), and decided by an earlier run: replays of stored rows and
   * rows quarantined for the same reason. {@code rows == stored + rejected + replayed + requarantined}.
   */
  record Counts(long rows, long stored, long rejected, long replayed, long requarantined, Map<String, Long> byReason) {
    long already() {
      return replayed + requarantined;
    }

    /** The rejected share of the rows no earlier run decided: what the gate weighs (a rerun is not refused). */
    double badShare() {
      return stored + rejected == 0 ? 0 : (double) rejected / (stored + rejected);
    }

    IngestJob.Interventions summary() {
      return new IngestJob.Interventions(rows, stored, rejected, already(), byReason);
    }

    RunLog.StageResult result() {
      List<String> parts = new ArrayList<>();
      byReason.forEach((k, v) -> parts.add(k + "=" + v));
      if (already() > 0) {
        parts.add(already() + " already stored or quarantined by an earlier run, not counted again");
      }
      return new RunLog.StageResult(rows, stored, rejected + already(), parts.isEmpty() ? null : String.join(", ", parts));
    }
  }

  private static final String QUARANTINED = "_quarantined_for";

  private final Warehouse warehouse;
  private final RunLog runLog;
  private final List<String> files;
  private final Set<String> plays;
  private final LocalDate today;
  private final double maxBadFraction;

  InterventionsIngest(Warehouse warehouse, RunLog runLog, List<String> files, Set<String> plays, LocalDate today,
      double maxBadFraction) {
    this.warehouse = warehouse;
    this.runLog = runLog;
    this.files = files;
    this.plays = plays;
    this.today = today;
    this.maxBadFraction = maxBadFraction;
  }

  Counts run(RawLogReader reader) {
    warehouse.ensure(Table.INTERVENTIONS);
    warehouse.ensure(Table.EVENTS_QUARANTINE);
    Dataset<Row> customers = warehouse.exists(Table.CUSTOMERS) ? warehouse.read(Table.CUSTOMERS)
        : warehouse.spark().createDataFrame(List.of(), dev.churn.features.Customers.TABLE_SCHEMA);
    Dataset<Row> file = reader.readKeyedCsv(files);
    Dataset<Row> earlier = warehouse.read(Table.EVENTS_QUARANTINE)
        .join(file.select(Events.SOURCE_FILE).distinct(), Events.SOURCE_FILE)
        .select(col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION), col(Events.REASON).as(QUARANTINED));
    Dataset<Row> checked = Interventions.check(file, plays, today, customers, warehouse.read(Table.INTERVENTIONS))
        .join(earlier, new String[] {Events.SOURCE_FILE, Events.SOURCE_POSITION}, "left")
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Column rejected = col(Events.REASON).isNotNull();
      Column again = rejected.and(coalesce(col(QUARANTINED).equalTo(col(Events.REASON)), lit(false)));
      Column fresh = not(col(Interventions.REPLAY)).and(not(rejected));
      Counts counts = counts(checked, rejected, again, fresh);
      if (counts.badShare() > maxBadFraction) {
        String first = checked.where(rejected.and(not(again))).orderBy(Events.SOURCE_FILE, Events.SOURCE_POSITION)
            .select(coalesce(col(Events.DETAIL), col(Events.REASON))).as(Encoders.STRING()).first();
        throw ChurnException.badData(String.format(Locale.ROOT, "%d of %d interventions rows were rejected, over "
                + "the allowed %.1f%% (--max-bad-fraction), the first because %s; no intervention was stored (events "
                + "of the same command are kept): is the file "
                + "comma-separated with the header customer_id,contacted_on,play,channel,outcome? Fix it, or raise "
                + "--max-bad-fraction", counts.rejected(), counts.stored() + counts.rejected(), 100.0 * maxBadFraction,
            first))
            .withPartialResult(new RunLog.StageResult(counts.rows(), 0, counts.rows(),
                "interventions file refused by the gate"));
      }
      // The quarantine first: a crash in between leaves decided rejections, and the rerun stores the rest.
      Dataset<Row> newlyRejected = EventRows.rejectedRecords(checked.where(rejected.and(not(again))), runLog.runId(),
          runLog.runDate(), Events.REJECTED).withColumn(BatchChecks.DELETE, lit(false));
      Dataset<Row> nowValid = EventRows.rejectedRecords(checked.where(fresh.and(col(QUARANTINED).isNotNull()))
          .withColumn(Events.REASON, col(QUARANTINED)), runLog.runId(), runLog.runDate(), Events.REJECTED)
          .withColumn(BatchChecks.DELETE, lit(true));
      boolean decidedBefore = !checked.where(col(QUARANTINED).isNotNull().and(not(again))).isEmpty();
      if (decidedBefore) {
        warehouse.applyDecisions(Table.EVENTS_QUARANTINE, newlyRejected.unionByName(nowValid), BatchChecks.DELETE);
      } else if (counts.rejected() > 0) {
        warehouse.append(Table.EVENTS_QUARANTINE, newlyRejected.drop(BatchChecks.DELETE));
      }
      if (counts.stored() > 0) {
        // New by construction: stored keys were excluded by the check, under the warehouse lock.
        warehouse.append(Table.INTERVENTIONS, checked.where(fresh).withColumn(Events.RUN_ID, lit(runLog.runId()))
            .select(java.util.Arrays.stream(Interventions.TABLE_SCHEMA.fieldNames()).map(c -> col(c))
                .toArray(Column[]::new)));
      }
      return counts;
    } finally {
      checked.unpersist();
    }
  }

  /** The counts of one pass over the checked rows. */
  private static Counts counts(Dataset<Row> checked, Column rejected, Column again, Column fresh) {
    long[] n = new long[4];
    Map<String, Long> byReason = new TreeMap<>();
    for (Row r : checked.groupBy(when(fresh, lit(0)).when(col(Interventions.REPLAY), lit(1)).when(again, lit(2))
        .otherwise(lit(3)).as("decision"), when(rejected.and(not(again)), col(Events.REASON)).as("reason"))
        .count().collectAsList()) {
      n[r.getInt(0)] += r.getLong(2);
      if (r.getInt(0) == 3) {
        byReason.merge(r.getString(1), r.getLong(2), Long::sum);
      }
    }
    return new Counts(n[0] + n[1] + n[2] + n[3], n[0], n[3], n[1], n[2], byReason);
  }
}
