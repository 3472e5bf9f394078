package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.CustomerMerge;
import dev.churn.features.Customers;
import dev.churn.features.EventRows;
import dev.churn.features.Events;
import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * A customers file (customer_id, signup_date, segment, industry, mrr) merged into {@code customers}: its rows are
 * checked ({@link Customers#checkFile}), the rejected quarantined. Danger: a file whose rejected share exceeds the
 * events' {@code --max-bad-fraction} is refused whole (exit 3) and nothing is written.
 */
final class CustomerFileIngest {
  /** Rows read and rows rejected. */
  record FileCounts(long rows, long rejected) {}

  private final Warehouse warehouse;
  private final RunLog runLog;
  private final List<String> files;
  private final double maxBadFraction;

  CustomerFileIngest(Warehouse warehouse, RunLog runLog, List<String> files, double maxBadFraction) {
    this.warehouse = warehouse;
    this.runLog = runLog;
    this.files = files;
    this.maxBadFraction = maxBadFraction;
  }

  FileCounts run(RawLogReader reader) {
    Dataset<Row> checked = Customers.checkFile(reader.readKeyedCsv(files))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      long total = checked.count();
      Dataset<Row> bad = checked.where(col(Events.REASON).isNotNull());
      long rejected = bad.count();
      // The events' gate (its threshold; --accept-rejected is for events): a file mostly rejected (a
      // semicolon-delimited extract, a shifted header) is refused whole before anything is written, rather than
      // leaving customers rebuilt as unknown. Nothing is lost: the file is where it was, and the message says why.
      if (total > 0 && (double) rejected / total > maxBadFraction) {
        String first = bad.orderBy(Events.SOURCE_FILE, Events.SOURCE_POSITION)
            .select(coalesce(col(Events.DETAIL), col(Events.REASON))).as(Encoders.STRING()).first();
        throw ChurnException.badData(String.format(Locale.ROOT, "%d of %d customers rows (%.1f%%) were rejected, "
                + "over the allowed %.1f%% (--max-bad-fraction), the first because %s; nothing was committed: is "
                + "the file comma-separated, with the header's columns? Fix it, or raise --max-bad-fraction",
            rejected, total, 100.0 * rejected / total, 100.0 * maxBadFraction, first))
            .withPartialResult(new RunLog.StageResult(total, 0, rejected, "customers file refused by the gate"));
      }
      if (rejected > 0) {
        warehouse.insertNew(Table.EVENTS_QUARANTINE,
            EventRows.rejectedRecords(bad, runLog.runId(), runLog.runDate(), Events.REJECTED));
      }
      warehouse.upsert(Table.CUSTOMERS, CustomerMerge.fromFile(checked.where(col(Events.REASON).isNull()),
          warehouse.read(Table.CUSTOMERS)));
      return new FileCounts(total, rejected);
    } finally {
      checked.unpersist();
    }
  }

}
