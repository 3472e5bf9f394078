package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import dev.churn.features.FeatureBuilder;
import dev.churn.features.Labels;
import dev.churn.features.SourceMapping;
import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.ModelRegistry;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Settings;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.ChurnTrainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Row;

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
 * <p>Model policy: with no model in use on D, train one as of D. Retrain when the last training attempt as of
 * D or before is {@code retrainAfterDays} old, or on request; the new version is accepted only when its
 * out-of-time validation ROC-AUC is at least the current model's on the same snapshot minus the tolerance,
 * and is registered as rejected otherwise (a rejected attempt restarts the clock, so reruns do not retrain).
 *
 * <p>An empty or missing input for D changes nothing and fails with {@link ChurnException#NO_INPUT}.
 */
public final class NightlyJob {
  /**
   * What one night runs with. {@code events} is a path template (see {@link #dayInput}), null when the day was
   * ingested by other means; {@code backfill} says the date is one of a range; {@code customers} may hold
   * {@code {date}}.
   */
  public record Options(LocalDate date, String events, boolean backfill, String customers, SourceMapping mapping,
      double maxBadFraction, int horizonDays, ChurnTrainer.Config trainer, int snapshotStepDays, int snapshots,
      int retrainAfterDays, double retrainTolerance, boolean retrain) {}

  /** What one night did. */
  public record Result(LocalDate date, IngestJob.Result ingest, List<LocalDate> snapshots, Integer modelVersion,
      String model, long scored, long high) {}

  private final Warehouse warehouse;
  private final RunLog runLog;
  private final Options options;
  private final PrintWriter console;

  public NightlyJob(Warehouse warehouse, RunLog runLog, Options options, PrintWriter console) {
    this.warehouse = warehouse;
    this.runLog = runLog;
    this.options = options;
    this.console = console;
  }

  /** Runs the night; its run_log row (stage "nightly") carries the outcome, also when it fails or stops. */
  public Result run() {
    Result[] out = new Result[1];
    runLog.stage("nightly", () -> {
      out[0] = night();
      return new RunLog.StageResult(out[0].ingest() == null ? 0 : out[0].ingest().rowsIn(),
          out[0].scored(), out[0].ingest() == null ? 0 : out[0].ingest().rejected() + out[0].ingest().replayed(),
          "snapshots " + out[0].snapshots() + "; " + out[0].model());
    });
    return out[0];
  }

  private Result night() {
    LocalDate day = options.date();
    IngestJob.Result ingest = null;
    if (options.events() != null) {
      List<String> input = dayInput(warehouse.spark().sparkContext().hadoopConfiguration(), options.events(), day,
          options.backfill());
      List<String> customers = options.customers() == null ? null
          : List.of(options.customers().replace("{date}", day.toString()));
      ingest = new IngestJob(warehouse, runLog, new IngestJob.Options(input, customers, options.mapping(), day,
          options.maxBadFraction())).run();
      if (ingest.rowsIn() == 0) {
        throw ChurnException.noInput("no input for " + day + ": " + options.events() + " holds no records; nothing "
            + "was changed");
      }
    }
    LocalDate dataEnd = dataEnd();
    if (dataEnd == null || dataEnd.isBefore(day)) {
      throw ChurnException.noInput("no data for " + day + " in the warehouse (its activity ends "
          + (dataEnd == null ? "before it starts" : "on " + dataEnd) + "): pass that day's logs with --events, or ingest "
          + "them first; nothing was changed");
    }
    // The earliest day whose data this night changed (null: nothing new, a rerun or a replayed backfill).
    LocalDate touched = ingest == null || ingest.daysTouched().isEmpty() ? null : ingest.daysTouched().get(0);
    LocalDate firstTouched = touched == null || touched.isAfter(day) ? day : touched;

    List<LocalDate> snapshots = snapshotsToRebuild(touched, day);
    for (LocalDate d : snapshots) {
      new FeaturesJob(warehouse, runLog, d).run();
    }
    String model = model(day);

    ModelRegistry registry = new ModelRegistry(warehouse);
    List<LocalDate> scored = storedDates(Table.CHURN_SCORES, firstTouched);
    long scoredRows = 0;
    long high = 0;
    Integer version = null;
    for (LocalDate d : snapshots) {
      if (!d.equals(day) && !scored.contains(d)) {
        continue;
      }
      ModelRegistry.Entry inUse = registry.inUse(d);
      if (inUse == null) {
        console.printf("[nightly] no model in use on %s: not scored%n", d);
        continue;
      }
      ScoreJob.Result s = new ScoreJob(warehouse, runLog, d, inUse.version(), console).run();
      if (d.equals(day)) {
        scoredRows = s.scored();
        high = s.high();
        version = s.modelVersion();
      }
    }

    int horizon = Labels.horizon(Settings.churn(warehouse), options.horizonDays());
    LocalDate to = dataEnd.isAfter(day) ? dataEnd : day;
    new RetentionJob(warehouse, runLog, firstTouched.minusDays(horizon), to, firstSignup(day)).run();
    return new Result(day, ingest, snapshots, version, model, scoredRows, high);
  }

  /** D's snapshot plus every stored snapshot on or after the earliest day the new data touched, if any. */
  private List<LocalDate> snapshotsToRebuild(LocalDate touched, LocalDate day) {
    TreeSet<LocalDate> dates = new TreeSet<>();
    if (touched != null) {
      dates.addAll(storedDates(Table.CUSTOMER_FEATURES, touched));
    }
    dates.add(day);
    return new ArrayList<>(dates);
  }

  /** The as-of dates stored in {@code table} (features or scores) on or after {@code from}. */
  private List<LocalDate> storedDates(Table table, LocalDate from) {
    List<LocalDate> dates = new ArrayList<>();
    if (!warehouse.exists(table)) {
      return dates;
    }
    String asOf = FeatureBuilder.AS_OF_DATE;
    for (Row r : warehouse.read(table).where(col(asOf).geq(lit(Date.valueOf(from)))).select(asOf).distinct()
        .collectAsList()) {
      dates.add(r.getDate(0).toLocalDate());
    }
    return dates;
  }

  /** Trains when no model is in use on {@code day} or the last attempt is due for a retrain; says what it did. */
  private String model(LocalDate day) {
    ModelRegistry registry = new ModelRegistry(warehouse);
    ModelRegistry.Entry inUse = registry.inUse(day);
    ModelRegistry.Entry attempt = registry.lastAttempt(day);
    boolean due = inUse == null || options.retrain()
        || attempt == null || !attempt.asOf().plusDays(options.retrainAfterDays()).isAfter(day);
    if (!due) {
      return "model v" + inUse.version() + " (trained as of " + inUse.asOf() + ")";
    }
    console.printf("[nightly] training as of %s: %s%n", day, inUse == null ? "no model is in use on " + day
        : options.retrain() ? "retraining was requested" : "the last training attempt, model v" + attempt.version()
            + " as of " + attempt.asOf() + ", is " + (day.toEpochDay() - attempt.asOf().toEpochDay())
            + " days old (--retrain-after-days " + options.retrainAfterDays() + ")");
    TrainJob.Options train = new TrainJob.Options(day, options.horizonDays(), null, options.trainer(),
        options.snapshotStepDays(), options.snapshots(), inUse == null ? null : inUse.version(),
        options.retrainTolerance());
    try {
      TrainJob.Trained t = new TrainJob(warehouse, runLog, train).train();
      String what = "model v" + t.spec().version() + " trained as of " + day + (inUse == null ? "" : ", " + t.decision());
      console.printf("[nightly] %s%n", what);
      return t.accepted() ? what : what + "; model v" + inUse.version() + " stays in use";
    } catch (ChurnException e) {
      // Not enough history yet, or no churners to learn from: the night goes on with the model in use, if any.
      String what = "training as of " + day + " failed: " + e.getMessage();
      console.printf("[nightly] %s%n", what);
      return inUse == null ? what + "; no model to score with" : what + "; model v" + inUse.version() + " stays in use";
    }
  }

  private LocalDate dataEnd() {
    if (!warehouse.exists(Table.DAILY_ACTIVITY)) {
      return null;
    }
    Row r = warehouse.read(Table.DAILY_ACTIVITY).agg(max("activity_date")).first();
    return r.isNullAt(0) ? null : r.getDate(0).toLocalDate();
  }

  private LocalDate firstSignup(LocalDate fallback) {
    Row r = warehouse.read(Table.CUSTOMERS).agg(min("signup_date")).first();
    return r.isNullAt(0) ? fallback : r.getDate(0).toLocalDate();
  }

  /**
   * The input of {@code day} under {@code template}: {@code {date}} in it is replaced by the day; a folder of
   * {@code event_date=YYYY-MM-DD} sub-folders stands for that day's sub-folder; anything else is the day's input
   * as given (only for a single date). Fails with {@link ChurnException#NO_INPUT} when the input does not exist
   * or holds no data, before anything is written.
   */
  public static List<String> dayInput(Configuration conf, String template, LocalDate day, boolean range) {
    String path = template.replace("{date}", day.toString());
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(conf);
      if (!template.contains("{date}")) {
        boolean byDay = fs.exists(p) && fs.getFileStatus(p).isDirectory() && hasDayFolders(fs, p);
        if (byDay) {
          path = path.replaceAll("/+$", "") + "/event_date=" + day;
          p = new Path(path);
        } else if (range) {
          throw ChurnException.usage("--events " + template + " has no event_date=YYYY-MM-DD folders: with --from "
              + "and --to, give a folder of such folders or a path with {date} in it");
        }
      }
      if (!fs.exists(p)) {
        throw ChurnException.noInput("no input for " + day + ": " + path + " does not exist; nothing was changed");
      }
      long bytes = 0;
      long files = 0;
      RemoteIterator<LocatedFileStatus> it = fs.listFiles(p, true);
      while (it.hasNext()) {
        LocatedFileStatus f = it.next();
        String name = f.getPath().getName();
        if (!name.startsWith("_") && !name.startsWith(".")) {
          bytes += f.getLen();
          files++;
        }
      }
      if (bytes == 0) {
        throw ChurnException.noInput("no input for " + day + ": " + path + (files == 0 ? " holds no files" : " holds only "
            + "empty files") + "; nothing was changed");
      }
      return List.of(path);
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot list the input " + path + ": " + e.getMessage(), e);
    }
  }

  private static boolean hasDayFolders(FileSystem fs, Path p) throws IOException {
    for (FileStatus s : fs.listStatus(p)) {
      if (s.isDirectory() && s.getPath().getName().startsWith("event_date=")) {
        return true;
      }
    }
    return false;
  }
}
