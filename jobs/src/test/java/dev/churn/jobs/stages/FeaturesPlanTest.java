package dev.churn.jobs.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.LocalDate;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which window states a features run builds from the lookback ({@link FeaturesJob#fromLookback}): no Spark. */
class FeaturesPlanTest {
  private static final LocalDate T = LocalDate.parse("2026-06-10");

  private static List<LocalDate> days(int... offsets) {
    return java.util.Arrays.stream(offsets).mapToObj(T::plusDays).toList();
  }

  @Test
  void aDateNoStateLeadsToIsBuiltFromTheLookbackOrLedInThreeDaysBefore() {
    // The first night after a training: no state within 3 days of the training's date.
    assertEquals(days(0), FeaturesJob.fromLookback(days(0, 1), null, false));
    assertEquals(days(-3), FeaturesJob.fromLookback(days(0, 1), null, true));
    // A state 3 days before the first date is advanced from; so is each date from the one before it.
    assertEquals(days(), FeaturesJob.fromLookback(days(0, 1, 3), T.minusDays(3), true));
    // Nights skipped: a later date without a state within 3 days is led in too, not only the first, so that a
    // rerun of that night (which finds the states this run kept) writes no state this run did not.
    assertEquals(days(10), FeaturesJob.fromLookback(days(0, 10), T.minusDays(1), false));
    assertEquals(days(7), FeaturesJob.fromLookback(days(0, 10), T.minusDays(1), true));
    assertEquals(days(), FeaturesJob.fromLookback(days(10), T.plusDays(9), true));
    // A training's snapshot dates, 30 days apart, in one aggregation.
    assertEquals(days(-60, -30, 0), FeaturesJob.fromLookback(days(-60, -30, 0), null, false));
  }
}
