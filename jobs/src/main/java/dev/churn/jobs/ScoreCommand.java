package dev.churn.jobs;

import dev.churn.jobs.stages.ScoreJob;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "score", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Scores every customer active on DATE into churn_scores (probability, risk tier, lifecycle stage, "
        + "top reasons) and writes feature drift; rerunning replaces that date.",
        "Exits 3, writing nothing, when the features do not match the model."})
final class ScoreCommand implements Callable<Integer> {
  @ParentCommand ChurnCli root;
  @Spec CommandSpec spec;

  @Option(names = "--as-of", required = true, paramLabel = "DATE", description = "The scoring date.")
  LocalDate asOf;

  @Option(names = "--model-version", paramLabel = "V", description = "Model version (default: the latest accepted).")
  Integer modelVersion;

  @Override
  public Integer call() {
    try (ChurnCli.Context ctx = root.open("score")) {
      ctx.warehouse().requireKnown("--as-of", asOf);
      ScoreJob.Result r = new ScoreJob(ctx.stages("score", asOf, spec.commandLine().getOut()), asOf, modelVersion).run();
      spec.commandLine().getOut().printf("churn_scores for %s: %d customers scored with model v%d, %d high risk%n",
          asOf, r.scored(), r.modelVersion(), r.high());
    }
    return 0;
  }
}
