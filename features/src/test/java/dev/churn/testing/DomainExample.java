package dev.churn.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.spark.sql.Row;

/** docs/domain.md's worked retention example: 200 customers at the start, 20 lost, 30 new in the month. */
public final class DomainExample {
  private DomainExample() {}

  /** Checks a month's all-segments retention row against the worked example's counts and rates. */
  public static void assertWorkedExample(Row month) {
    assertEquals(200L, month.<Long>getAs("customers_start"));
    assertEquals(210L, month.<Long>getAs("customers_end"));
    assertEquals(30L, month.<Long>getAs("customers_new"));
    assertEquals(20L, month.<Long>getAs("customers_lost"));
    assertEquals(0.90, month.<Double>getAs("retention_rate"), 1e-12);
    assertEquals(0.10, month.<Double>getAs("churn_rate"), 1e-12);
  }
}
