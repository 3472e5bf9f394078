package dev.churn.jobs;

import dev.churn.jobs.stages.RetentionJob;
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
    RetentionJob.Range range = ChurnCli.options(spec, () -> RetentionJob.Range.of(from, to));
    var actions = ChurnCli.options(spec, contacts::actions);
    try (ChurnCli.Context ctx = root.open("retention")) {
      RetentionJob.Result r = new RetentionJob(ctx.stages("retention", to, spec.commandLine().getOut()), range,
          actions).run();
      spec.commandLine().getOut().printf("retention %s .. %s: %d rate rows, %d cohort cells, %d forecast rows, "
          + "%d survival points, %d actions%n", from, to, r.rates(), r.cohorts(), r.forecasts(), r.survival(),
          r.actions());
    }
    return 0;
  }
}
