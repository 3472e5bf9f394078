package dev.churn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.churn.features.FeatureFacts;
import org.junit.jupiter.api.Test;

/** Why a feature moved: the customers, or a window longer than the log the model learned on (#31). No Spark. */
class DriftCauseTest {

  @Test
  void aFeatureReachesBackAsFarAsItsWindow() {
    assertEquals(30, FeatureFacts.reach("logins_30d"));
    assertEquals(365, FeatureFacts.reach("active_days_365d"));
    assertEquals(35, FeatureFacts.reach("logins_trend_7v28"), "7 days against the 28 before");
    assertEquals(Integer.MAX_VALUE, FeatureFacts.reach("active_days_all"));
    assertEquals(Integer.MAX_VALUE, FeatureFacts.reach("days_since_last_login"));
    assertEquals(0, FeatureFacts.reach("tenure_days"), "the as-of date's value, whatever the log holds");
    assertEquals(0, FeatureFacts.reach("industry"));
  }

  /**
   * The demo of the issue: the first training snapshot (2026-04-02) saw 92 days of a log starting 2026-01-01, the
   * first scoring date (2026-07-29) 210.
   */
  @Test
  void aWindowLongerThanTheTrainingHistoryMovesAsTheLogGrows() {
    assertEquals(Drift.HISTORY, Drift.cause(1.23, 365, 92, 210));
    assertEquals(Drift.HISTORY, Drift.cause(0.15, Integer.MAX_VALUE, 92, 210), "moderate counts too");
    assertEquals(Drift.POPULATION, Drift.cause(1.23, 30, 92, 210), "a month's window was full at training");
    assertEquals(Drift.POPULATION, Drift.cause(0.31, 365, 400, 500), "a year's window was full at training");
    assertEquals(Drift.POPULATION, Drift.cause(0.31, 365, 92, 92), "the log has not grown since");
    assertNull(Drift.cause(0.05, 365, 92, 210), "a stable feature has no cause");
  }
}
