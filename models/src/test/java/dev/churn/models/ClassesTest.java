package dev.churn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The class weight and the optimiser's partitions, from the counts of a training set. */
class ClassesTest {
  @Test
  void churnersWeighAsMuchAsTheRestAndEachHalfMillionRowsBegunIsAPartition() {
    ChurnTrainer.Classes c = new ChurnTrainer.Classes(1_000, 100);
    assertEquals(9.0, c.positiveWeight(), "900 stayers against 100 churners of weight 9");
    assertEquals(1, c.partitions());
    assertEquals(1, new ChurnTrainer.Classes(ChurnTrainer.ROWS_PER_PARTITION, 1).partitions());
    assertEquals(2, new ChurnTrainer.Classes(ChurnTrainer.ROWS_PER_PARTITION + 1, 1).partitions());
    assertEquals(200, new ChurnTrainer.Classes(100_000_000, 1).partitions());
  }

  @Test
  void oneClassAloneIsRefused() {
    assertEquals("the training snapshots hold 0 churners among 10 customers: both classes are needed",
        assertThrows(IllegalArgumentException.class, () -> new ChurnTrainer.Classes(10, 0)).getMessage());
    assertThrows(IllegalArgumentException.class, () -> new ChurnTrainer.Classes(10, 10));
  }
}
