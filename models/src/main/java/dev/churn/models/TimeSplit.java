package dev.churn.models;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Out-of-time split for a model trained "as of" a date with horizon H, three dates one horizon apart (docs/domain.md):
 * the test snapshot is the latest whose labels are complete on that date (date - H) and is only reported on; the
 * validation snapshot (test - H) only tunes; every training snapshot lies at least one horizon before the
 * validation, so no label window (D, D + H] reaches into the next period. Training snapshots step back by
 * {@code stepDays} (every two weeks by default: on the demo sample, five two-weekly snapshots ranked better than
 * two monthly ones) while they stay on or after {@code earliest}.
 *
 * <p>When history is too short for three dates but holds two, the plan falls back to training snapshots and one
 * snapshot that both tunes and is reported on ({@link #heldOutTest()} false): the caller says so and records it.
 */
public record TimeSplit(List<LocalDate> trainDates, LocalDate validationDate, LocalDate testDate, int horizonDays) {

  public static final int DEFAULT_STEP_DAYS = 14;
  public static final int DEFAULT_SNAPSHOTS = 6;

  public TimeSplit {
    trainDates = List.copyOf(trainDates);
    for (LocalDate d : trainDates) {
      if (d.plusDays(horizonDays).isAfter(validationDate)) {
        throw new IllegalArgumentException("training snapshot " + d + " with horizon " + horizonDays
            + " days overlaps the validation snapshot " + validationDate);
      }
    }
    if (!testDate.equals(validationDate) && validationDate.plusDays(horizonDays).isAfter(testDate)) {
      throw new IllegalArgumentException("validation snapshot " + validationDate + " with horizon " + horizonDays
          + " days overlaps the test snapshot " + testDate);
    }
  }

  /** Three dates when history allows, else the explicit two-date fallback (see the class comment). */
  public static TimeSplit plan(LocalDate asOf, int horizonDays, LocalDate earliest, int stepDays, int snapshots) {
    LocalDate test = asOf.minusDays(horizonDays);
    List<LocalDate> train = trainDates(test.minusDays(horizonDays), horizonDays, earliest, stepDays, snapshots);
    if (!train.isEmpty()) {
      return new TimeSplit(train, test.minusDays(horizonDays), test, horizonDays);
    }
    train = trainDates(test, horizonDays, earliest, stepDays, snapshots);
    if (train.isEmpty()) {
      throw new IllegalArgumentException("not enough history: training as of " + asOf + " with a " + horizonDays
          + "-day horizon needs snapshots on or before " + test.minusDays(horizonDays) + ", but the first usable "
          + "snapshot (once the longest feature window has filled) is " + earliest);
    }
    return new TimeSplit(train, test, test, horizonDays);
  }

  private static List<LocalDate> trainDates(LocalDate validation, int horizonDays, LocalDate earliest, int stepDays,
      int snapshots) {
    List<LocalDate> train = new ArrayList<>();
    for (LocalDate d = validation.minusDays(horizonDays); train.size() < snapshots && !d.isBefore(earliest);
        d = d.minusDays(stepDays)) {
      train.add(d);
    }
    Collections.reverse(train);
    return train;
  }

  /** False in the two-date fallback: the reported snapshot is the one that tuned the model. */
  public boolean heldOutTest() {
    return !testDate.equals(validationDate);
  }

  /**
   * The snapshots the registered model is fitted on: every one whose label window closes by the test date
   * (training and validation) when there is a held-out test; the training snapshots only in the fallback, so the
   * model the metrics describe is the one registered.
   */
  public List<LocalDate> fitDates() {
    List<LocalDate> all = new ArrayList<>(trainDates);
    if (heldOutTest()) {
      all.add(validationDate);
    }
    return all;
  }

  /** Every labelled snapshot the split reads: training, validation and test. */
  public List<LocalDate> allDates() {
    List<LocalDate> all = new ArrayList<>(trainDates);
    all.add(validationDate);
    if (heldOutTest()) {
      all.add(testDate);
    }
    return all;
  }

  /** How the reported metrics were obtained, in words stored with the model. */
  public String evaluation() {
    return heldOutTest() ? "test" : "validation (history too short for a held-out test snapshot)";
  }
}
