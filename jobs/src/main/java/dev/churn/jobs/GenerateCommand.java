package dev.churn.jobs;

import dev.churn.generator.GenerateJob;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Writes a synthetic activity log (JSON lines per day), a customers CSV and the ground truth.")
final class GenerateCommand implements Callable<Integer> {
  @ParentCommand ChurnCli root;
  @Spec CommandSpec spec;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
  String out;

  @Option(names = "--customers", defaultValue = "2000", description = "Number of customers (default: ${DEFAULT-VALUE}).")
  int customers;

  @Option(names = "--days", defaultValue = "120", description = "Days of activity (default: ${DEFAULT-VALUE}).")
  int days;

  @Option(names = "--start", defaultValue = "2026-01-01", paramLabel = "DATE",
      description = "First day, YYYY-MM-DD (default: ${DEFAULT-VALUE}).")
  LocalDate start;

  @Option(names = "--seed", defaultValue = "7", description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--bad-fraction", defaultValue = "0", paramLabel = "F",
      description = "Share of records made bad on purpose, in [0, 0.5] (default: ${DEFAULT-VALUE}).")
  double badFraction;

  @Override
  public Integer call() {
    if (customers <= 0 || days <= 0) {
      throw new ParameterException(spec.commandLine(), "--customers and --days must be positive");
    }
    if (badFraction < 0 || badFraction > 0.5) {
      throw new ParameterException(spec.commandLine(), "--bad-fraction must be between 0 and 0.5");
    }
    try (ChurnCli.Context ctx = root.openReadOnly("generate")) {
      GenerateJob.Result r = new GenerateJob(ctx.spark(),
          new GenerateJob.Options(out, customers, days, start, seed, badFraction)).run();
      spec.commandLine().getOut().printf("generated %d customers and %d event records (%d made bad on purpose) under %s%n",
          r.customers(), r.events(), r.badRecords(), out);
    }
    return 0;
  }
}
