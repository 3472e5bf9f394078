package dev.churn.jobs.warehouse;

import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Named places in a run where the crash-recovery tests kill the process with SIGKILL, to prove that whatever a
 * kill leaves behind is repaired or taken over by the next run. Inert unless the environment variable
 * {@value #ENV} (or the system property {@value #PROPERTY}) names a point: reaching that point prints
 * {@value #MARKER}{@code <point>} on stderr and stops the thread there, so the test kills the process at exactly
 * that place (after {@link #GIVE_UP_MINUTES} minutes without a kill, the process halts by itself with exit 137).
 * The points are listed in {@link #ALL} and, with what each leaves behind, in docs/production.md.
 */
public final class KillPoints {
  public static final String ENV = "CHURN_KILL_AT";
  public static final String PROPERTY = "churn.kill-at";
  public static final String MARKER = "churn-kill-point: ";
  static final long GIVE_UP_MINUTES = 10;

  /** Holding the warehouse lock, before anything is read or written. */
  public static final String LOCK_HELD = "lock-held";
  /** Ingest: the batch's rejections committed to events_quarantine, its events not yet. */
  public static final String QUARANTINE_COMMITTED = "ingest-quarantine-committed";
  /** Ingest: events committed, customers and daily_activity not yet (the lost day). */
  public static final String EVENTS_COMMITTED = "ingest-events-committed";
  /** Ingest: events and customers committed, the day's daily_activity rows not yet. */
  public static final String CUSTOMERS_COMMITTED = "ingest-customers-committed";
  /** Features: the window states committed, the snapshots built from them not yet. */
  public static final String FEATURE_STATE_COMMITTED = "features-state-committed";
  /** Training: the training and validation snapshots built, no model fitted yet. */
  public static final String TRAINING_SNAPSHOTS_BUILT = "train-snapshots-built";
  /** Training: the model's folder claimed and its pipeline saved, its spec.json not yet (model files half written). */
  public static final String MODEL_HALF_WRITTEN = "train-model-half-written";
  /** Training: the model's files complete, its model_registry row not yet. */
  public static final String MODEL_FILES_WRITTEN = "train-model-files-written";
  /** Scoring: churn_scores of the date committed, its feature_drift rows not yet. */
  public static final String SCORES_COMMITTED = "score-scores-committed";
  /** Retention: retention_rates committed, cohort_retention and churn_forecast not yet. */
  public static final String RETENTION_RATES_COMMITTED = "retention-rates-committed";
  /** Every table written, the night's run_log rows not yet. */
  public static final String BEFORE_RUN_LOG = "before-run-log";

  /** Every point, in the order a night that ingests, trains and scores reaches them. */
  public static final List<String> ALL = List.of(LOCK_HELD, QUARANTINE_COMMITTED, EVENTS_COMMITTED,
      CUSTOMERS_COMMITTED, FEATURE_STATE_COMMITTED, TRAINING_SNAPSHOTS_BUILT, MODEL_HALF_WRITTEN, MODEL_FILES_WRITTEN,
      SCORES_COMMITTED, RETENTION_RATES_COMMITTED, BEFORE_RUN_LOG);

  private KillPoints() {}

  /** Marks {@code point} as reached: waits there to be killed when it is the armed point, else returns at once. */
  public static void reached(String point) {
    String armed = System.getProperty(PROPERTY, System.getenv(ENV));
    if (armed == null || !armed.equals(point)) {
      return;
    }
    PrintStream err = System.err;
    err.println(MARKER + point);
    err.flush();
    try {
      TimeUnit.MINUTES.sleep(GIVE_UP_MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Runtime.getRuntime().halt(137);
  }
}
