package dev.churn.jobs.warehouse;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;

/**
 * The fixed cost of a top-level stage (a command's, a night's), made visible so a regression shows: the Spark jobs
 * its Spark context ran and the Delta commits the warehouse's tables gained while it ran ({@code run_log.spark_jobs},
 * {@code run_log.delta_commits}).
 *
 * <p>Jobs are counted by a listener on the SparkContext: every job it runs, so commands sharing it at once (tests,
 * a notebook) count each other's. Reading the count waits up to a second for Spark's event queue to drain (an
 * internal Spark call: the listener hears of a job on Spark's event thread). Commits are the versions each table's
 * {@code _delta_log} gained between {@link #start} and {@link #commits} (two listings of every table's log, no Spark
 * job), so they include Delta's own commits (a column added) and any other writer's.
 */
public final class CommandCost extends SparkListener implements AutoCloseable {
  private final SparkContext sc;
  private final Warehouse warehouse;
  private final Map<Table, Long> before;
  private final AtomicLong jobs = new AtomicLong();

  private CommandCost(Warehouse warehouse) {
    this.sc = warehouse.spark().sparkContext();
    this.warehouse = warehouse;
    this.before = warehouse.latestVersions();
    sc.addSparkListener(this);
  }

  /** Starts counting; {@link #close} stops. */
  public static CommandCost start(Warehouse warehouse) {
    return new CommandCost(warehouse);
  }

  @Override
  public void onJobStart(SparkListenerJobStart jobStart) {
    jobs.incrementAndGet();
  }

  /**
   * The jobs started so far. The listener hears of a job on Spark's event thread, shortly after it starts: the
   * queue is drained first (for at most a second), so a job that just ran is counted.
   */
  public long jobs() {
    try {
      sc.listenerBus().waitUntilEmpty(1000);
    } catch (Exception e) { // a timeout: count what was heard
    }
    return jobs.get();
  }

  /** The commits the warehouse's tables gained since {@link #start} (a new table's first commit counts). */
  public long commits() {
    long n = 0;
    for (Map.Entry<Table, Long> now : warehouse.latestVersions().entrySet()) {
      n += now.getValue() - before.getOrDefault(now.getKey(), -1L);
    }
    return n;
  }

  @Override
  public void close() {
    sc.removeSparkListener(this);
  }
}
