package dev.churn.jobs;

import dev.churn.features.FeatureCatalogue;
import dev.churn.jobs.stages.FeaturesJob;
import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "features", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Writes the customer_features snapshot of a date: one row per customer active on it, from "
        + "daily_activity and customers dated on or before it. Rerunning replaces that date only.",
        "--catalog prints the feature catalogue (Markdown) instead."})
final class FeaturesCommand implements Callable<Integer> {
  @ParentCommand ChurnCli root;
  @Spec CommandSpec spec;

  @Option(names = "--as-of", paramLabel = "DATE", description = "The snapshot date, YYYY-MM-DD.")
  LocalDate asOf;

  @Option(names = "--from", paramLabel = "DATE", description = {"Also rebuild the snapshot of every day from DATE to "
      + "--as-of (after late data for DATE), each derived from the day before's window state."})
  LocalDate from;

  @Option(names = "--catalog", description = "Print the feature catalogue and exit.")
  boolean catalog;

  @Override
  public Integer call() {
    if (catalog) {
      spec.commandLine().getOut().print(FeatureCatalogue.markdown());
      spec.commandLine().getOut().flush();
      return 0;
    }
    if (asOf == null) {
      throw new ParameterException(spec.commandLine(), "Missing required option: '--as-of=DATE'");
    }
    if (from != null && from.isAfter(asOf)) {
      throw new ParameterException(spec.commandLine(), "--from " + from + " is after --as-of " + asOf);
    }
    List<LocalDate> dates = from == null ? List.of(asOf) : from.datesUntil(asOf.plusDays(1)).toList();
    try (ChurnCli.Context ctx = root.open("features")) {
      ctx.warehouse().requireKnown("--as-of", asOf);
      long rows = new FeaturesJob(ctx.stages("features", asOf, spec.commandLine().getOut()), dates).run();
      spec.commandLine().getOut().printf("customer_features for %s: %d rows (customers x dates), %d features%n",
          from == null ? asOf : from + " to " + asOf, rows, FeatureCatalogue.features().size());
    }
    return 0;
  }
}
