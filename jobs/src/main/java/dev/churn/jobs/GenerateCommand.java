package dev.churn.jobs;

import dev.churn.generator.GenerateJob;
import dev.churn.generator.LogShapes;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Writes a synthetic activity log (JSON lines per day), a customers CSV and the ground truth; "
        + "--shape writes it as a foreign log instead (invoice lines or app page events) for the shipped mappings.")
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

  @Option(names = "--shape", defaultValue = "canonical", paramLabel = "SHAPE",
      description = "canonical (default), invoices (invoice-line CSV for mappings/invoices.json) or app-events "
          + "(page-event JSON for mappings/app-events.json); a shape keeps the log it came from under canonical/.")
  String shape;

  @Option(names = "--activity-change", paramLabel = "DATE=FACTOR",
      description = "From DATE on, customers log in FACTOR times as often (0.5: half as often; between 0 and 1), "
          + "their churn hazard unchanged: a change of behaviour on purpose, for drift to catch (default: none).")
  String activityChange;

  @Override
  public Integer call() {
    LogShapes.Shape form = ChurnCli.options(spec, () -> LogShapes.Shape.of(shape));
    String canonical = form == LogShapes.Shape.CANONICAL ? out : out + "/" + LogShapes.CANONICAL_FOLDER;
    GenerateJob.Options options = ChurnCli.options(spec, () -> sample.generate(canonical, days,
        form == LogShapes.Shape.CANONICAL ? badFraction : 0, activityChange == null ? null
            : GenerateJob.ActivityChange.parse(activityChange)));
    try (ChurnCli.Context ctx = root.openReadOnly("generate")) {
      // Before anything is replaced: the folder must be new, empty or the generator's own (never a warehouse).
      ChurnCli.options(spec, () -> {
        GenerateJob.claim(ctx.spark(), out);
        return out;
      });
      GenerateJob.Result r = new GenerateJob(ctx.spark(), options).run();
      if (form != LogShapes.Shape.CANONICAL) {
        LogShapes.write(ctx.spark(), canonical, out, form);
        spec.commandLine().getOut().printf("generated %d customers as %s under %s/events (truth under %s/truth)%n",
            r.customers(), form, out, out);
        return 0;
      }
      spec.commandLine().getOut().printf("generated %d customers and %d event records (%d made bad on purpose) under %s%n",
          r.customers(), r.events(), r.badRecords(), out);
    }
    return 0;
  }
}
