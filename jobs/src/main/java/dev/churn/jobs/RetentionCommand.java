package dev.churn.jobs;

import dev.churn.jobs.stages.RetentionJob;
import dev.churn.jobs.warehouse.Warehouse;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "retention", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Writes retention_rates (month, quarter, year x segment x industry, with ALL rows and industry "
        + "yardsticks), cohort_retention and churn_forecast for a date range; rerunning replaces that range."})
final class RetentionCommand implements Callable<Integer> {
  @ParentCommand ChurnCli root;
  @Spec CommandSpec spec;

  @Option(names = "--from", required = true, paramLabel = "DATE", description = "First day of the range.")
  LocalDate from;

  @Option(names = "--to", required = true, paramLabel = "DATE", description = "Last day of the range.")
  LocalDate to;

  @picocli.CommandLine.Mixin ActionOptions contacts;

  @Override
  public Integer call() {
    ChurnCli.options(spec, () -> RetentionJob.Range.of(from, to)); // --to before --from: exit 2, nothing opened
    var actions = ChurnCli.options(spec, contacts::actions);
    try (ChurnCli.Context ctx = root.open("retention")) {
      java.io.PrintWriter out = spec.commandLine().getOut();
      RetentionJob.Range range = within(ctx.warehouse(), out);
      RetentionJob.Result r = new RetentionJob(ctx.stages("retention", to, out), range, actions).run();
      out.printf("retention %s .. %s: %d rate rows, %d cohort cells, %d forecast rows, "
          + "%d survival points, %d actions, %d effect rows%n", range.from(), range.to(), r.rates(), r.cohorts(),
          r.forecasts(), r.survival(), r.actions(), r.effects());
    }
    return 0;
  }

  /**
   * [from, to] held to what the warehouse knows: a --to far past the data is refused ({@link
   * Warehouse#requireKnown}); a --from before the first signup starts there, with a line saying so (its periods
   * hold nobody, and {@code --from 1900-01-01} ran for minutes over empty months).
   */
  private RetentionJob.Range within(Warehouse w, java.io.PrintWriter out) {
    w.requireKnown("--to", to);
    LocalDate first = w.firstSignup();
    if (first == null || !from.isBefore(first) || to.isBefore(first)) {
      return RetentionJob.Range.of(from, to);
    }
    out.printf("[retention] --from %s is before the first signup, %s: computed from then%n", from, first);
    return RetentionJob.Range.of(first, to);
  }
}
