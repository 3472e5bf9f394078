package dev.churn.jobs;

import dev.churn.models.ChurnTrainer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** How a model is trained: the options train and nightly share. */
final class TrainingOptions {
  @Spec(Spec.Target.MIXEE) CommandSpec spec;

  @Option(names = "--horizon-days", defaultValue = "30", paramLabel = "H",
      description = "Predict churn within H days (default: ${DEFAULT-VALUE}; under inactivity churn, the mapping's N days).")
  int horizonDays;

  @Option(names = "--snapshot-step-days", defaultValue = "14", paramLabel = "DAYS",
      description = "Days between training snapshots (default: ${DEFAULT-VALUE}).")
  int snapshotStepDays;

  @Option(names = "--snapshots", defaultValue = "6", paramLabel = "N",
      description = "Training snapshots at most (default: ${DEFAULT-VALUE}).")
  int snapshots;

  @Option(names = "--high-risk-share", defaultValue = "0.10", paramLabel = "F",
      description = "Share of the validation snapshot's customers above the high-risk threshold (default: ${DEFAULT-VALUE}).")
  double highRiskShare;

  @Option(names = "--seed", defaultValue = "7", description = "Seed recorded with the model (default: ${DEFAULT-VALUE}).")
  long seed;

  /** The trainer's configuration; a usage error (exit 2) when a value is out of range. */
  ChurnTrainer.Config config() {
    if (horizonDays <= 0 || snapshotStepDays <= 0 || snapshots <= 0) {
      throw new ParameterException(spec.commandLine(),
          "--horizon-days, --snapshot-step-days and --snapshots must be positive");
    }
    if (!(highRiskShare > 0 && highRiskShare < 1)) {
      throw new ParameterException(spec.commandLine(), "--high-risk-share must be between 0 and 1");
    }
    return ChurnTrainer.Config.defaults().withSeedAndShare(seed, highRiskShare);
  }
}
