package dev.churn.jobs.stages;

import dev.churn.features.Labels;
import dev.churn.models.ChurnTrainer;
import dev.churn.models.TimeSplit;

/**
 * How models are trained, shared by {@code train} and {@code nightly}: the label horizon (under inactivity churn
 * the mapping's N days win), the training windows ({@code snapshots} snapshots {@code snapshotStepDays} apart)
 * and the trainer's grid, seed and high-risk share.
 */
public record Training(int horizonDays, int snapshotStepDays, int snapshots, ChurnTrainer.Config trainer) {
  public Training {
    if (horizonDays <= 0 || snapshotStepDays <= 0 || snapshots <= 0) {
      throw new IllegalArgumentException("--horizon-days, --snapshot-step-days and --snapshots must be positive");
    }
    if (trainer == null) {
      throw new IllegalArgumentException("a training needs the trainer's configuration");
    }
  }

  /** The documented defaults: a 30-day horizon, six snapshots two weeks apart, the default grid. */
  public static Training defaults() {
    return new Training(Labels.DEFAULT_HORIZON_DAYS, TimeSplit.DEFAULT_STEP_DAYS, TimeSplit.DEFAULT_SNAPSHOTS,
        ChurnTrainer.Config.defaults());
  }
}
