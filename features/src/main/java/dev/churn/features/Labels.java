package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import java.time.LocalDate;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Churn labels for a snapshot: they look only at (D, D + H]. Under cancellation churn the label is 1 when the
 * customer's first cancellation falls in that window; under inactivity churn (N days of silence) it is 1 when
 * the customer has no activity at all in (D, D + N], and H is N.
 */
public final class Labels {
  private Labels() {}

  public static final String LABEL = "label";
  /** The label horizon under cancellation churn unless asked otherwise: churn within 30 days. */
  public static final int DEFAULT_HORIZON_DAYS = 30;

  /** Whether a snapshot at {@code asOf} can be labelled: its whole window lies on or before the data's last day. */
  public static boolean labelable(LocalDate asOf, int horizonDays, LocalDate dataEnd) {
    return !asOf.plusDays(horizonDays).isAfter(dataEnd);
  }

  /** The horizon a definition implies: H as asked under cancellation churn, N under inactivity churn. */
  public static int horizon(ChurnDefinition churn, int requested) {
    return churn.byInactivity() ? churn.inactivityDays() : requested;
  }

  /**
   * Adds {@link #LABEL} (0/1) to snapshot rows (customer_id, as_of_date, ...) of one or many dates.
   *
   * @param customers the customers table (for cancellation dates)
   * @param daily the daily_activity rollup (for inactivity churn)
   */
  public static Dataset<Row> label(Dataset<Row> snapshots, Dataset<Row> customers, Dataset<Row> daily,
      ChurnDefinition churn, int horizonDays) {
    int h = horizon(churn, horizonDays);
    Column asOf = col(FeatureBuilder.AS_OF_DATE);
    if (!churn.byInactivity()) {
      Dataset<Row> cancel = customers.select(col(Customers.CUSTOMER_ID).as("_cid"), col(Customers.CANCELLED_ON));
      Dataset<Row> j = snapshots.join(cancel, snapshots.col(Customers.CUSTOMER_ID).equalTo(cancel.col("_cid")), "left");
      Column churned = col(Customers.CANCELLED_ON).gt(asOf).and(col(Customers.CANCELLED_ON).leq(date_add(asOf, h)));
      return j.withColumn(LABEL, when(churned, lit(1)).otherwise(lit(0))).drop("_cid", Customers.CANCELLED_ON);
    }
    Dataset<Row> keys = snapshots.select(col(Customers.CUSTOMER_ID).as("_cid"), asOf.as("_asof")).distinct();
    Dataset<Row> activeAfter = keys.join(daily, keys.col("_cid").equalTo(daily.col(DailyActivity.CUSTOMER_ID))
            .and(daily.col(DailyActivity.ACTIVITY_DATE).gt(keys.col("_asof")))
            .and(daily.col(DailyActivity.ACTIVITY_DATE).leq(date_add(keys.col("_asof"), h)))
            .and(daily.col(DailyActivity.Signal.EVENTS.column()).gt(0)), "left_semi")
        .withColumn("_active_after", lit(true));
    Dataset<Row> j = snapshots.join(activeAfter, snapshots.col(Customers.CUSTOMER_ID).equalTo(activeAfter.col("_cid"))
        .and(snapshots.col(FeatureBuilder.AS_OF_DATE).equalTo(activeAfter.col("_asof"))), "left");
    return j.withColumn(LABEL, when(col("_active_after"), lit(0)).otherwise(lit(1)))
        .drop("_cid", "_asof", "_active_after");
  }

}
