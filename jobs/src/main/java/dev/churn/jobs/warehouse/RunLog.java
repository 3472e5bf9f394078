package dev.churn.jobs.warehouse;

import java.io.PrintWriter;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Runs the stages of one command: prints a console line when each starts and ends, labels its Spark jobs
 * with the stage name (so the Spark UI reads like the pipeline), and writes one {@code run_log} row per stage,
 * also when the stage fails (status {@code failed} and the reason). Rows of stages nested in another are held
 * until the outermost stage ends and then written in one commit with its own row: a night's ten stages cost one
 * Delta commit, not ten. (A process killed mid-run leaves no rows of its unfinished outer stage.)
 */
public final class RunLog {
  /** What a stage reports: rows read, rows written, rows rejected, and a short free-text note. */
  public record StageResult(long rowsIn, long rowsOut, long rowsRejected, String message) {
    public static StageResult of(long rowsIn, long rowsOut) {
      return new StageResult(rowsIn, rowsOut, 0, null);
    }
  }

  private final Warehouse warehouse;
  private final String command;
  private final LocalDate runDate;
  private final String runId;
  private final PrintWriter console;
  private final List<Row> pending = new ArrayList<>();
  private int depth;
  /** Counting while the outermost stage runs; null outside it (each top-level stage counts its own). */
  private CommandCost cost;

  public RunLog(Warehouse warehouse, String command, LocalDate runDate, PrintWriter console) {
    this.warehouse = warehouse;
    this.command = command;
    this.runDate = runDate;
    this.console = console;
    this.runId = command + "-" + (runDate == null ? "nodate" : runDate.toString()) + "-"
        + UUID.randomUUID().toString().substring(0, 8);
  }

  public String runId() {
    return runId;
  }

  public LocalDate runDate() {
    return runDate;
  }

  /** Where the run's progress lines go. */
  public PrintWriter console() {
    return console;
  }

  /** Runs {@code body} as stage {@code stage}, recording the counts it returns. */
  public StageResult stage(String stage, Supplier<StageResult> body) {
    return stage(stage, body, r -> r);
  }

  /**
   * Runs {@code body} as stage {@code stage} and returns its value: prints a line when the stage starts and ends,
   * labels its Spark jobs, and records {@code counts} of the value in run_log. A failure is logged (with the
   * partial counts a {@link ChurnException} carries) and rethrown unchanged.
   */
  public <T> T stage(String stage, Supplier<T> body, Function<? super T, StageResult> counts) {
    Instant started = Instant.now();
    long t0 = System.nanoTime();
    console.printf("[%s] %s started%n", command, stage);
    console.flush();
    var sc = warehouse.spark().sparkContext();
    String outerGroup = sc.getLocalProperty("spark.jobGroup.id");
    String outerDescription = sc.getLocalProperty("spark.job.description");
    if (depth == 0) {
      cost = CommandCost.start(warehouse);
    }
    depth++;
    sc.setJobGroup(command + ":" + stage, command + " " + stage + (runDate == null ? "" : " " + runDate), false);
    long jobsBefore = cost.jobs();
    Throwable failure = null;
    try {
      T value = body.get();
      StageResult result = counts.apply(value);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      Cost spent = spent(jobsBefore);
      console.printf(Locale.ROOT, "[%s] %s done in %.1f s: %d in, %d out, %d rejected%s%s%n", command, stage,
          ms / 1000.0, result.rowsIn(), result.rowsOut(), result.rowsRejected(),
          result.message() == null ? "" : " (" + result.message() + ")", spent.describe());
      console.flush();
      write(stage, started, ms, result, "ok", spent);
      return value;
    } catch (Throwable e) { // Spark's checked exceptions and Errors (out of memory) too: every failure has its row
      failure = e;
      long ms = (System.nanoTime() - t0) / 1_000_000;
      String why = ChurnException.firstLine(e);
      String status = e instanceof ChurnException ce && ce.exitCode() == ChurnException.NO_INPUT ? "no_input" : "failed";
      console.printf(Locale.ROOT, "[%s] %s %s after %.1f s: %s%n", command, stage,
          status.equals("failed") ? "failed" : "stopped", ms / 1000.0, why);
      console.flush();
      try {
        StageResult partial = e instanceof ChurnException ce && ce.partialResult() != null ? ce.partialResult()
            : new StageResult(0, 0, 0, null);
        write(stage, started, ms, new StageResult(partial.rowsIn(), partial.rowsOut(), partial.rowsRejected(), why),
            status, spent(jobsBefore));
      } catch (RuntimeException logFailure) {
        e.addSuppressed(logFailure);
      }
      throw RunLog.<RuntimeException>unchecked(e);
    } finally {
      // The enclosing stage's label again (a nested stage used to leave the rest of its parent unlabelled).
      if (outerGroup == null) {
        sc.clearJobGroup();
      } else {
        sc.setJobGroup(outerGroup, outerDescription, false);
      }
      if (--depth == 0) {
        cost.close();
        cost = null;
        try {
          flush();
        } catch (RuntimeException logFailure) {
          if (failure == null) {
            throw logFailure;
          }
          failure.addSuppressed(logFailure);
        }
      }
    }
  }

  /** Rethrows {@code t} as it is (checked or not), which a {@link Supplier}'s caller cannot declare. */
  @SuppressWarnings("unchecked")
  private static <E extends Throwable> E unchecked(Throwable t) throws E {
    throw (E) t;
  }

  /**
   * What a stage cost: the Spark jobs its Spark context ran meanwhile, and on the outermost stage the Delta commits
   * the command made (null on a nested stage's row), its own run_log commit included.
   */
  record Cost(long sparkJobs, Long deltaCommits) {
    String describe() {
      return deltaCommits == null ? "" : String.format(Locale.ROOT, "; %d Spark jobs, %d Delta commits", sparkJobs,
          deltaCommits);
    }
  }

  private Cost spent(long jobsBefore) {
    // depth is the stage's own level here: 1 for the outermost stage, whose row the run_log commit goes with.
    return new Cost(cost.jobs() - jobsBefore, depth == 1 ? cost.commits() + 1 : null);
  }

  /** Holds a stage row until the outermost stage ends ({@link #flush}). */
  private void write(String stage, Instant started, long durationMs, StageResult r, String status, Cost spent) {
    pending.add(RowFactory.create(runId, command, runDate == null ? null : Date.valueOf(runDate), stage,
        Timestamp.from(started), durationMs, r.rowsIn(), r.rowsOut(), r.rowsRejected(), status, r.message(),
        spent.sparkJobs(), spent.deltaCommits()));
  }

  private void flush() {
    if (pending.isEmpty()) {
      return;
    }
    var frame = warehouse.spark().createDataFrame(List.copyOf(pending), Table.Schemas.RUN_LOG);
    pending.clear();
    // (run_id, stage) is new for every stage of every run, so an append cannot duplicate a row.
    warehouse.append(Table.RUN_LOG, frame);
  }
}
