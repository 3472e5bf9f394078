package dev.churn.jobs.stages;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDate;
import org.junit.jupiter.api.Test;

/**
 * When a night measures the plays' save rates before its list ({@link RetentionJob#horizonMayHaveEnded}): from the
 * day the first list's shortest horizon ends, as {@code Effects.measure} counts an entry measured. No Spark.
 */
class SaveRatesDueTest {
  private static final LocalDate FIRST = LocalDate.parse("2026-06-10");

  @Test
  void measuredFromTheDayTheFirstListsShortestHorizonEnds() {
    assertFalse(RetentionJob.horizonMayHaveEnded(FIRST, 30, FIRST.plusDays(29)));
    assertTrue(RetentionJob.horizonMayHaveEnded(FIRST, 30, FIRST.plusDays(30)));
    assertTrue(RetentionJob.horizonMayHaveEnded(FIRST, 30, FIRST.plusDays(31)));
    assertFalse(RetentionJob.horizonMayHaveEnded(null, 30, FIRST.plusDays(90)), "no list yet");
    assertFalse(RetentionJob.horizonMayHaveEnded(FIRST, null, FIRST.plusDays(90)), "no model with a horizon");
  }
}
