package dev.churn.models;

import java.time.LocalDate;
import java.util.Locale;

/**
 * The retrain decision: a candidate model replaces the one in use (the incumbent) only when its out-of-time
 * test ROC-AUC is at least the incumbent's on the same test snapshot minus a tolerance. Comparing on the
 * candidate's test snapshot is fair to both: it lies after every label either model learnt from.
 */
public final class Challenger {
  private Challenger() {}

  /** Whether the candidate is accepted, and the sentence the registry records. */
  public record Decision(boolean accepted, String text) {}

  /** The first model of a warehouse: nothing to compare with. */
  public static Decision unopposed() {
    return new Decision(true, "accepted: no model to compare with");
  }

  /**
   * @param incumbentAuc the incumbent's ROC-AUC on the test snapshot, or null when it does not fit the
   *     current features (the candidate is then accepted)
   */
  public static Decision decide(double candidateAuc, Double incumbentAuc, int incumbentVersion,
      LocalDate testDate, double tolerance) {
    if (incumbentAuc == null) {
      return new Decision(true, "accepted: model v" + incumbentVersion + " does not fit the current features");
    }
    boolean accepted = candidateAuc >= incumbentAuc - tolerance;
    return new Decision(accepted, String.format(Locale.ROOT, "%s: test ROC-AUC %.4f against %.4f for model v%d "
        + "on the same out-of-time snapshot %s (tolerance %.3f)", accepted ? "accepted" : "rejected", candidateAuc,
        incumbentAuc, incumbentVersion, testDate, tolerance));
  }
}
