package dev.churn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDate;
import org.junit.jupiter.api.Test;

/** The retrain decision and the drift reading: pure rules, no Spark. */
class ChallengerTest {
  private static final LocalDate VALIDATION = LocalDate.parse("2026-06-01");

  @Test
  void aCandidateWithinTheToleranceIsAcceptedAndAWorseOneRejected() {
    Challenger.Decision within = Challenger.decide(0.745, 0.75, 3, VALIDATION, 0.01);
    assertTrue(within.accepted());
    assertEquals("accepted: test ROC-AUC 0.7450 against 0.7500 for model v3 on the same out-of-time snapshot "
        + "2026-06-01 (tolerance 0.010)", within.text());
    Challenger.Decision worse = Challenger.decide(0.70, 0.75, 3, VALIDATION, 0.01);
    assertFalse(worse.accepted());
    assertTrue(worse.text().startsWith("rejected: test ROC-AUC 0.7000 against 0.7500"), worse.text());
  }

  @Test
  void anIncumbentThatNoLongerFitsTheFeaturesLosesAndTheFirstModelIsUnopposed() {
    Challenger.Decision misfit = Challenger.decide(0.6, null, 2, VALIDATION, 0.01);
    assertTrue(misfit.accepted());
    assertEquals("accepted: model v2 does not fit the current features", misfit.text());
    assertEquals(new Challenger.Decision(true, "accepted: no model to compare with"), Challenger.unopposed());
  }

  @Test
  void driftStatusReadsThePsiWithTheCommonThresholds() {
    assertEquals("stable", Drift.status(0.1));
    assertEquals("moderate", Drift.status(0.11));
    assertEquals("moderate", Drift.status(0.25));
    assertEquals("shifted", Drift.status(0.26));
  }
}
