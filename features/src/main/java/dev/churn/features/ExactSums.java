package dev.churn.features;

import static org.apache.spark.sql.functions.sum;

import org.apache.spark.sql.Column;

/**
 * Sums of doubles over many rows that do not depend on the order Spark delivers the rows in: each value is taken
 * as an exact decimal (9 places), summed exactly, and returned as a double, so a rerun stores the same bits. (A sum
 * of doubles merged in shuffle-fetch order may differ in its last bits between two runs over the same data.)
 */
public final class ExactSums {
  /** The decimal the values are summed as: 29 digits before the point, 9 after. */
  public static final String DECIMAL = "DECIMAL(38, 9)";

  private ExactSums() {}

  /** {@code sum(expression)} in SQL, exact. */
  public static String sql(String expression) {
    return "CAST(sum(CAST(" + expression + " AS " + DECIMAL + ")) AS DOUBLE)";
  }

  /** {@code sum(value)}, exact. */
  public static Column of(Column value) {
    return sum(value.cast(DECIMAL)).cast("double");
  }
}
