package dev.churn.jobs;

import dev.churn.features.Labels;
import dev.churn.jobs.stages.Training;
import dev.churn.models.ChurnTrainer;
import dev.churn.models.TimeSplit;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** How a model is trained: the options train and nightly share. Defaults come from the code that uses them. */
final class TrainingOptions {
  @Spec(Spec.Target.MIXEE) CommandSpec spec;

  @Option(names = "--horizon-days", paramLabel = "H",
      description = "Predict churn within H days (default: " + Labels.DEFAULT_HORIZON_DAYS + "; under inactivity churn, "
          + "the mapping's N days, and another H is an error).")
  Integer horizonDays;

  @Option(names = "--snapshot-step-days", defaultValue = "" + TimeSplit.DEFAULT_STEP_DAYS, paramLabel = "DAYS",
      description = "Days between training snapshots (default: ${DEFAULT-VALUE}).")
  int snapshotStepDays;

  @Option(names = "--snapshots", defaultValue = "" + TimeSplit.DEFAULT_SNAPSHOTS, paramLabel = "N",
      description = "Training snapshots at most (default: ${DEFAULT-VALUE}).")
  int snapshots;

  @Option(names = "--high-risk-share", defaultValue = "" + ChurnTrainer.Config.DEFAULT_HIGH_RISK_SHARE,
      paramLabel = "F",
      description = "Share of the scored customers in the high-risk tier, set on the as-of date's scores (default: ${DEFAULT-VALUE}).")
  double highRiskShare;

  @Option(names = "--seed", defaultValue = "" + ChurnTrainer.Config.DEFAULT_SEED,
      description = "Seed recorded with the model (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--reg-params", split = ",", defaultValue = ChurnTrainer.Config.DEFAULT_REG_PARAMS,
      paramLabel = "R",
      description = "Regularisation strengths tried on the validation snapshot (default: ${DEFAULT-VALUE}).")
  List<Double> regParams;

  @Option(names = "--elastic-net-params", split = ",", defaultValue = ChurnTrainer.Config.DEFAULT_ELASTIC_NET_PARAMS,
      paramLabel = "A",
      description = "L1 shares tried with each strength, 0 = ridge .. 1 = lasso (default: ${DEFAULT-VALUE}).")
  List<Double> elasticNetParams;

  /** The training settings; a usage error (exit 2) when a value is out of range. */
  Training training() {
    return ChurnCli.options(spec, () -> new Training(horizonDays, snapshotStepDays, snapshots,
        ChurnTrainer.Config.defaults().withSeedAndShare(seed, highRiskShare).withGrid(regParams, elasticNetParams)));
  }
}
