package dev.churn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The grid's choice: the highest validation PR-AUC, the earlier point on a tie. */
class TuningTest {
  @Test
  void theFirstOfTheHighestPrAucsIsChosen() {
    assertEquals(1, Tuning.best(List.of(0.5, 0.7, 0.7, 0.6)));
    assertEquals(2, Tuning.best(List.of(0.5, 0.6, 0.7)));
    assertEquals(0, Tuning.best(List.of(0.2, 0.2)));
    assertEquals(0, Tuning.best(List.of(0.3)));
  }
}
