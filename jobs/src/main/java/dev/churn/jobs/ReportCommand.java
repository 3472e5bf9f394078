package dev.churn.jobs;

import dev.churn.jobs.report.ReportJob;
import dev.churn.jobs.warehouse.ModelRegistry;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Writes a self-contained HTML report with charts: DIR/index.html plus its PNG images.")
final class ReportCommand implements Callable<Integer> {
  @ParentCommand ChurnCli root;
  @Spec CommandSpec spec;

  @Option(names = "--as-of", required = true, paramLabel = "DATE", description = "Report date (latest scores on or before it).")
  LocalDate asOf;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
  Path out;

  @Override
  public Integer call() {
    try (ChurnCli.Context ctx = root.openReadOnly("report")) {
      ReportJob.Result r = new ReportJob(ctx.warehouse(), new ModelRegistry(ctx.warehouse()), asOf, out).run();
      spec.commandLine().getOut().printf("report written: %s (%d charts, %s)%n", r.index().toAbsolutePath(),
          r.charts().size(), r.scoresDate() == null ? "no scores on or before " + asOf + " yet: run train and score"
              : "scores of " + r.scoresDate() + ", model v" + r.modelVersion());
    }
    return 0;
  }
}
