package dev.churn.jobs;

import dev.churn.generator.GenerateJob;
import java.time.LocalDate;
import picocli.CommandLine.Option;

/** The size and seed of a generated sample: the options generate and demo share (each sets its own --days). */
final class SampleOptions {
  @Option(names = "--customers", defaultValue = "" + GenerateJob.DEFAULT_CUSTOMERS,
      description = "Customers to generate (default: ${DEFAULT-VALUE}).")
  int customers;

  @Option(names = "--start", defaultValue = GenerateJob.DEFAULT_START, paramLabel = "DATE",
      description = "First day, YYYY-MM-DD (default: ${DEFAULT-VALUE}).")
  LocalDate start;

  @Option(names = "--seed", defaultValue = "" + GenerateJob.DEFAULT_SEED,
      description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  /** The generator's options for {@code days} days into {@code out}. */
  GenerateJob.Options generate(String out, int days, double badFraction) {
    return generate(out, days, badFraction, null);
  }

  /** The same, with a change of behaviour on purpose (null: none). */
  GenerateJob.Options generate(String out, int days, double badFraction, GenerateJob.ActivityChange change) {
    return new GenerateJob.Options(out, customers, days, start, seed, badFraction, change);
  }
}
