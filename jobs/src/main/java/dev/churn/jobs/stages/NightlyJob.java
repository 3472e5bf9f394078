package dev.churn.jobs.stages;

import dev.churn.features.SourceMapping;
import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.KillPoints;
import dev.churn.jobs.warehouse.ModelRegistry;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Settings;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.Actions;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The scheduled run for one logical date D: ingest D's raw files (when given), rebuild the feature snapshots the
 * new data touched plus D's, train or retrain when due, score D (and rescore the touched dates that were scored
 * before), and refresh retention through the data's end.
 *
 * <p>Every output is a function of the data ingested so far, never of the order the dates ran in: a late event
 * for day X rebuilds every stored snapshot on or after X (and its scores); retention is recomputed over the
 * periods from the earliest touched day (less one horizon, so forecasts get their actuals) to the end of the data;
 * a past date is scored with the model that was in use on it (the latest accepted model trained as of that date
 * or before). So running a date twice, or a range out of order, leaves the same tables as running it in order.
 *
 * <p>Model policy ({@link Retrain}): with no model in use on D, train one as of D. Retrain when the last training
 * attempt as of D or before is {@code afterDays} old, or on request; the new version is accepted only when the
 * {@link dev.churn.models.Challenger} accepts it, and is registered as rejected otherwise (a rejected attempt
 * restarts the clock, so reruns do not retrain). With {@code never} ({@code --no-train}) nothing is trained.
 *
 * <p>An empty or missing input for D changes nothing and fails with {@link ChurnException#NO_INPUT}.
 */
public final class NightlyJob {
  /**
   * The night's raw input: {@code events} is a path template ({@link DayInput#resolve}), null when the day was
   * ingested by other means; {@code customers} and {@code interventions} (what the team did, null: nothing logged)
   * may hold {@code {date}}; {@code backfill} says the date is one of a range.
   */
  public record Input(String events, String customers, boolean backfill, SourceMapping mapping,
      IngestJob.Gate gate, String interventions) {
    /** Without interventions. */
    public Input(String events, String customers, boolean backfill, SourceMapping mapping, IngestJob.Gate gate) {
      this(events, customers, backfill, mapping, gate, null);
    }
  }

  /**
   * When to retrain: after {@code afterDays} days, or tonight with {@code force}; accepted within {@code tolerance}.
   * With {@code never} the night trains nothing, whatever is due: it scores with the model in use, and without one it
   * scores nothing (a schedule that trains apart, with {@code train}, keeps its nights' time bounded).
   */
  public record Retrain(int afterDays, double tolerance, boolean force, boolean never) {
    public static final int DEFAULT_AFTER_DAYS = 30;
    public static final double DEFAULT_TOLERANCE = 0.01;

    public Retrain {
      // NaN fails every comparison: accepted, it rejected every challenger.
      if (afterDays <= 0 || !(tolerance >= 0 && tolerance <= 1)) {
        throw new IllegalArgumentException("--retrain-after-days must be positive and --retrain-tolerance a number "
            + "in [0, 1] (a difference of ROC-AUC), not " + afterDays + " and " + tolerance);
      }
      if (force && never) {
        throw new IllegalArgumentException("--retrain and --no-train ask for opposite things: give one of them");
      }
    }

    /** A night that trains when due. */
    public Retrain(int afterDays, double tolerance, boolean force) {
      this(afterDays, tolerance, force, false);
    }
  }

  /** What one night runs with. */
  public record Options(LocalDate date, Input input, Training training, Retrain retrain, Actions.Options actions) {
    public Options {
      if (date == null || input == null || training == null || retrain == null || actions == null) {
        throw new IllegalArgumentException("a night needs its date, input, training, retrain and action settings");
      }
    }
  }

  /** What one night did. */
  public record Result(LocalDate date, IngestJob.Result ingest, List<LocalDate> snapshots, Integer modelVersion,
      String model, long scored, long high) {

    RunLog.StageResult counts() {
      return new RunLog.StageResult(ingest == null ? 0 : ingest.rowsIn(), scored,
          ingest == null ? 0 : ingest.rejected() + ingest.replayed(), "snapshots " + snapshots + "; " + model);
    }
  }

  private final StageContext ctx;
  private final Warehouse warehouse;
  private final Options options;

  public NightlyJob(StageContext ctx, Options options) {
    this.ctx = ctx;
    this.warehouse = ctx.warehouse();
    this.options = options;
  }

  /** Runs the night; its run_log row (stage "nightly") carries the outcome, also when it fails or stops. */
  public Result run() {
    // What no stage decides for itself (loading the model, the warehouse's facts) scales with its customers.
    return ctx.runLog().stage("nightly", () -> CodeGeneration.forRows(warehouse.spark(),
        warehouse.rows(Table.CUSTOMERS), this::night), Result::counts);
  }

  private Result night() {
    KillPoints.reached(KillPoints.LOCK_HELD);
    LocalDate day = options.date();
    Input in = options.input();
    // A --horizon-days the churn definition contradicts is refused before anything is read or written.
    if (in.events() != null && in.mapping() != null) {
      options.training().horizon(in.mapping().churn());
    } else if (warehouse.setting(Settings.CHURN_DEFINITION) != null) {
      options.training().horizon(Settings.churn(warehouse));
    }
    IngestJob.Result ingest = null;
    List<String> interventions = interventions(day);
    if (in.events() == null && !interventions.isEmpty()) {
      requireData(day);
    }
    if (in.events() != null || !interventions.isEmpty()) {
      List<String> input = in.events() == null ? List.of() : DayInput.resolve(
          warehouse.spark().sparkContext().hadoopConfiguration(), in.events(), day, in.backfill());
      List<String> customers = in.customers() == null ? null : List.of(in.customers().replace("{date}", day.toString()));
      ingest = new IngestJob(ctx, new IngestJob.Options(input, customers, in.mapping(), day, in.gate(), null,
          interventions, dev.churn.models.Interventions.plays(options.actions().playbook()))).run();
      if (in.events() != null && ingest.rowsIn() == 0) {
        throw ChurnException.noInput("no input for " + day + ": " + in.events() + " holds no records; nothing "
            + "was changed");
      }
    }
    Warehouse.DataRange data = requireData(day);
    // The earliest day whose data this night changed (null: nothing new, a rerun or a replayed backfill).
    LocalDate touched = ingest == null || ingest.daysTouched().isEmpty() ? null : ingest.daysTouched().get(0);
    LocalDate firstTouched = touched == null || touched.isAfter(day) ? day : touched;

    List<LocalDate> snapshots = snapshotsToRebuild(touched, day);
    new FeaturesJob(ctx, snapshots, true).run();
    String model = model(day);

    List<LocalDate> scored = warehouse.asOfDates(Table.CHURN_SCORES, firstTouched, null);
    Map<LocalDate, Integer> toScore = new TreeMap<>();
    for (LocalDate d : snapshots) {
      if (!d.equals(day) && !scored.contains(d)) {
        continue;
      }
      ModelRegistry.Entry inUse = ctx.registry().inUse(d);
      if (inUse == null) {
        ctx.console().printf("[nightly] no model in use on %s: not scored%n", d);
        continue;
      }
      toScore.put(d, inUse.version());
    }
    // Every date scored is one of the snapshots just built: ScoreJob need not check them again.
    ScoreJob.Result tonight = toScore.isEmpty() ? null
        : new ScoreJob(ctx, toScore, snapshots).runAll().get(day);

    int horizon = options.training().horizon(Settings.churn(warehouse));
    LocalDate to = data.last().isAfter(day) ? data.last() : day;
    new RetentionJob(ctx, new RetentionJob.Range(firstTouched.minusDays(horizon), to, firstSignup(day)),
        options.actions()).run();
    KillPoints.reached(KillPoints.BEFORE_RUN_LOG);
    return new Result(day, ingest, snapshots, tonight == null ? null : tonight.modelVersion(), model,
        tonight == null ? 0 : tonight.scored(), tonight == null ? 0 : tonight.high());
  }

  /** The data's range, which must reach {@code day}; else {@link ChurnException#NO_INPUT}. */
  private Warehouse.DataRange requireData(LocalDate day) {
    Warehouse.DataRange data = warehouse.dataRange();
    if (data == null || data.last().isBefore(day)) {
      throw ChurnException.noInput("no data for " + day + " in the warehouse (its activity ends "
          + (data == null ? "before it starts" : "on " + data.last()) + "): pass that day's logs with --events, or "
          + "ingest them first; nothing was changed");
    }
    return data;
  }

  /** The night's interventions file, if the team logged one: a missing file is a night without contacts. */
  private List<String> interventions(LocalDate day) {
    String template = options.input().interventions();
    if (template == null) {
      return List.of();
    }
    String path = template.replace("{date}", day.toString());
    try {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
      if (!p.getFileSystem(warehouse.spark().sparkContext().hadoopConfiguration()).exists(p)) {
        ctx.console().printf("[nightly] no interventions logged for %s (%s does not exist)%n", day, path);
        return List.of();
      }
    } catch (java.io.IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot look for " + path + ": " + e.getMessage(), e);
    }
    return List.of(path);
  }

  /** D's snapshot plus every stored snapshot on or after the earliest day the new data touched, if any. */
  private List<LocalDate> snapshotsToRebuild(LocalDate touched, LocalDate day) {
    TreeSet<LocalDate> dates = new TreeSet<>();
    if (touched != null) {
      dates.addAll(warehouse.asOfDates(Table.CUSTOMER_FEATURES, touched, null));
    }
    dates.add(day);
    return new ArrayList<>(dates);
  }

  /**
   * Trains when no model is in use on {@code day} or the last attempt is due for a retrain, unless the policy never
   * trains; says what it did.
   */
  private String model(LocalDate day) {
    Retrain policy = options.retrain();
    ModelRegistry.Entry inUse = ctx.registry().inUse(day);
    ModelRegistry.Entry attempt = ctx.registry().lastAttempt(day);
    boolean due = inUse == null || policy.force()
        || attempt == null || !attempt.asOf().plusDays(policy.afterDays()).isAfter(day);
    if (!due) {
      return "model v" + inUse.version() + " (trained as of " + inUse.asOf() + ")";
    }
    if (policy.never()) {
      String what = inUse == null ? "no model in use on " + day + " and --no-train: not trained"
          : "model v" + inUse.version() + " (trained as of " + inUse.asOf() + "; due for a retrain, not trained: "
              + "--no-train)";
      ctx.console().printf("[nightly] %s%n", what);
      return what;
    }
    ctx.console().printf("[nightly] training as of %s: %s%n", day, inUse == null ? "no model is in use on " + day
        : policy.force() ? "retraining was requested" : "the last training attempt, model v" + attempt.version()
            + " as of " + attempt.asOf() + ", is " + (day.toEpochDay() - attempt.asOf().toEpochDay())
            + " days old (--retrain-after-days " + policy.afterDays() + ")");
    TrainJob.Options train = new TrainJob.Options(day, options.training(), null,
        inUse == null ? null : inUse.version(), policy.tolerance());
    try {
      TrainJob.Trained t = new TrainJob(ctx, train).run();
      String what = "model v" + t.spec().version() + " trained as of " + day + (inUse == null ? "" : ", " + t.decision());
      ctx.console().printf("[nightly] %s%n", what);
      return t.accepted() ? what : what + "; model v" + inUse.version() + " stays in use";
    } catch (ChurnException e) {
      // Not enough history yet, or no churners to learn from: the night goes on with the model in use, if any.
      String what = "training as of " + day + " failed: " + e.getMessage();
      ctx.console().printf("[nightly] %s%n", what);
      return inUse == null ? what + "; no model to score with" : what + "; model v" + inUse.version() + " stays in use";
    }
  }

  private LocalDate firstSignup(LocalDate fallback) {
    LocalDate first = warehouse.firstSignup();
    return first == null ? fallback : first;
  }
}
