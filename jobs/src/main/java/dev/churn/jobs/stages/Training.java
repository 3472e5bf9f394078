package dev.churn.jobs.stages;

import dev.churn.features.ChurnDefinition;
import dev.churn.features.Labels;
import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.models.ChurnTrainer;
import dev.churn.models.TimeSplit;

/**
 * How models are trained, shared by {@code train} and {@code nightly}: the label horizon asked for
 * ({@code horizonDays}, null when not given: 30 days, or the mapping's N under inactivity churn), the training
 * windows ({@code snapshots} snapshots {@code snapshotStepDays} apart) and the trainer's grid, seed and high-risk
 * share.
 */
public record Training(Integer horizonDays, int snapshotStepDays, int snapshots, ChurnTrainer.Config trainer) {
  public Training {
    if ((horizonDays != null && horizonDays <= 0) || snapshotStepDays <= 0 || snapshots <= 0) {
      throw new IllegalArgumentException("--horizon-days, --snapshot-step-days and --snapshots must be positive");
    }
    if (trainer == null) {
      throw new IllegalArgumentException("a training needs the trainer's configuration");
    }
  }

  /** The documented defaults: the default horizon, six snapshots two weeks apart, the default grid. */
  public static Training defaults() {
    return new Training(null, TimeSplit.DEFAULT_STEP_DAYS, TimeSplit.DEFAULT_SNAPSHOTS, ChurnTrainer.Config.defaults());
  }

  /**
   * The horizon under {@code churn}: under inactivity churn the mapping's N days (a different --horizon-days is a
   * usage error naming both), otherwise the one asked for or {@link Labels#DEFAULT_HORIZON_DAYS}.
   */
  public int horizon(ChurnDefinition churn) {
    if (churn.byInactivity() && horizonDays != null && horizonDays != churn.inactivityDays()) {
      throw ChurnException.usage("--horizon-days " + horizonDays + " conflicts with this warehouse's churn "
          + "definition, inactivity for " + churn.inactivityDays() + " days (its mapping's \"inactivity_days\"), "
          + "which is also the horizon: drop --horizon-days or pass --horizon-days " + churn.inactivityDays());
    }
    return Labels.horizon(churn, horizonDays == null ? Labels.DEFAULT_HORIZON_DAYS : horizonDays);
  }
}
