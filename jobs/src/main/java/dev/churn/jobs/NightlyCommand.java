package dev.churn.jobs;

import dev.churn.jobs.stages.NightlyJob;
import dev.churn.jobs.warehouse.ChurnException;
import java.io.PrintWriter;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "nightly", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"The scheduled run for a logical date: ingests that day's raw files (with --events), rebuilds the "
        + "feature snapshots the new data touched, trains when there is no model and retrains when the last "
        + "attempt is --retrain-after-days old (never with --no-train), scores the date, and refreshes retention "
        + "through the end of the data.",
        "Safe to repeat: a date run twice, or a range run out of order, leaves the same tables as one run in order.",
        "A missing or empty day changes nothing and exits 4; --from/--to runs every date and exits 4 at the end "
            + "when some had no input."})
final class NightlyCommand implements Callable<Integer> {
  @ParentCommand ChurnCli root;
  @Spec CommandSpec spec;

  @Option(names = "--date", paramLabel = "DATE", description = "The logical date to run (a scheduler's ds).")
  LocalDate date;

  @Option(names = "--from", paramLabel = "DATE", description = "First date of a backfill (with --to).")
  LocalDate from;

  @Option(names = "--to", paramLabel = "DATE", description = "Last date of a backfill (with --from).")
  LocalDate to;

  @Option(names = "--events", paramLabel = "PATH",
      description = "The day's raw logs: a folder of event_date=YYYY-MM-DD folders (the day's is read), a path "
          + "with {date} in it, or (with --date) the day's files themselves. Without it, the day must already be "
          + "ingested.")
  String events;

  @Option(names = "--customers", paramLabel = "PATH",
      description = "Customers CSV to upsert first ({date} is replaced by the date).")
  String customers;

  @Option(names = "--interventions", paramLabel = "PATH",
      description = "What the retention team did, to store after the day's events ({date} is replaced by the date; "
          + "the format is ingest's --interventions). Contacts after the date are rejected as future.")
  String interventions;

  @Mixin IngestOptions source;

  @Mixin TrainingOptions training;

  @Mixin ActionOptions contacts;

  @Option(names = "--retrain-after-days", defaultValue = "" + NightlyJob.Retrain.DEFAULT_AFTER_DAYS, paramLabel = "DAYS",
      description = "Retrain when the last training attempt is this old (default: ${DEFAULT-VALUE}).")
  int retrainAfterDays;

  @Option(names = "--retrain-tolerance", defaultValue = "" + NightlyJob.Retrain.DEFAULT_TOLERANCE, paramLabel = "T",
      description = "A retrained model is used only if its out-of-time test ROC-AUC is at least the current "
          + "model's on the same snapshot minus T (default: ${DEFAULT-VALUE}).")
  double retrainTolerance;

  @Option(names = "--retrain", description = "Retrain tonight, whatever the model's age.")
  boolean retrain;

  @Option(names = "--no-train", description = "Train nothing tonight, whatever is due: score with the model in use "
      + "(without one, nothing is scored). For a schedule that runs churn train separately.")
  boolean noTrain;

  @Override
  public Integer call() {
    List<LocalDate> dates = dates();
    var mapping = source.mapping();
    var train = training.training();
    NightlyJob.Input input = ChurnCli.options(spec, () -> new NightlyJob.Input(events, customers, dates.size() > 1,
        mapping, source.gate(), interventions));
    NightlyJob.Retrain policy = ChurnCli.options(spec, () -> new NightlyJob.Retrain(retrainAfterDays, retrainTolerance,
        retrain, noTrain));
    var actions = ChurnCli.options(spec, contacts::actions);
    PrintWriter out = spec.commandLine().getOut();
    String what = dates.size() == 1 ? "nightly " + dates.get(0) : "nightly " + from + ".." + to;
    try (ChurnCli.Context ctx = root.open(what)) {
      out.printf("[nightly] settings: %s%n", root.settings(spec));
      out.flush();
      List<String> missing = new ArrayList<>();
      for (LocalDate d : dates) {
        try {
          print(out, new NightlyJob(ctx.stages("nightly", d, out), new NightlyJob.Options(d, input, train, policy,
              actions))
              .run());
        } catch (ChurnException e) {
          if (e.exitCode() != ChurnException.NO_INPUT || dates.size() == 1) {
            throw e;
          }
          missing.add(d.toString());
        }
      }
      if (!missing.isEmpty()) {
        throw ChurnException.noInput(missing.size() + " of " + dates.size() + " dates had no input and were left as "
            + "they were: " + String.join(", ", missing));
      }
    }
    return 0;
  }

  private List<LocalDate> dates() {
    if ((date == null) == (from == null && to == null) || (date == null && (from == null || to == null))) {
      throw new ParameterException(spec.commandLine(), "give --date DATE, or --from DATE and --to DATE");
    }
    if (date != null) {
      return List.of(date);
    }
    if (to.isBefore(from)) {
      throw new ParameterException(spec.commandLine(), "--to " + to + " is before --from " + from);
    }
    return from.datesUntil(to.plusDays(1)).toList();
  }

  static void print(PrintWriter out, NightlyJob.Result r) {
    out.printf(Locale.ROOT, "nightly %s: %s; snapshots rebuilt %s; %s%n", r.date(),
        r.ingest() == null ? "no new logs" : r.ingest().accepted() + " events accepted, " + r.ingest().rejected()
            + " rejected, " + r.ingest().replayed() + " already ingested",
        r.snapshots(), r.modelVersion() == null ? "not scored (" + r.model() + ")"
            : r.scored() + " customers scored with model v" + r.modelVersion() + ", " + r.high() + " at high risk");
    out.flush();
  }
}
