package dev.churn.jobs;

import dev.churn.generator.GenerateJob;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Writes a synthetic activity log (JSON lines per day), a customers CSV and the ground truth.")
final class GenerateCommand implements Callable<Integer> {
  @ParentCommand ChurnCli root;
  @Spec CommandSpec spec;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
  String out;

  @Mixin SampleOptions sample;

  @Option(names = "--days", defaultValue = "" + GenerateJob.DEFAULT_DAYS,
      description = "Days of activity (default: ${DEFAULT-VALUE}).")
  int days;

  @Option(names = "--bad-fraction", defaultValue = "0", paramLabel = "F",
      description = "Share of records made bad on purpose, in [0, 0.5] (default: ${DEFAULT-VALUE}).")
  double badFraction;

  @Override
  public Integer call() {
    GenerateJob.Options options = ChurnCli.options(spec, () -> sample.generate(out, days, badFraction));
    try (ChurnCli.Context ctx = root.openReadOnly("generate")) {
      GenerateJob.Result r = new GenerateJob(ctx.spark(), options).run();
      spec.commandLine().getOut().printf("generated %d customers and %d event records (%d made bad on purpose) under %s%n",
          r.customers(), r.events(), r.badRecords(), out);
    }
    return 0;
  }
}
