package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import java.sql.Date;
import java.time.LocalDate;
import java.util.Collection;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;

/**
 * Kaplan-Meier survival of customers by days since signup, for all customers and by segment, industry and plan:
 * a customer's lifetime ends on its churn date (the warehouse's definition: a cancellation, or the day its
 * silence reached N days) and is right-censored on the as-of date while it has not churned. One row per group and
 * day on which someone churned: at risk (lifetimes reaching that day), events (churned that day), censored
 * (lifetimes censored that day, still at risk on it), survival S(t) = prod(1 - events / at risk), a 95 % band
 * (Greenwood's variance on the log-log scale, as R's survival and lifelines draw it) and the group's median
 * lifetime (the first day S(t) <= 0.5; null while the curve has not reached it).
 */
public final class Survival {
  private Survival() {}

  public static final String DIMENSION = "dimension";
  public static final String GROUP = "group_value";
  public static final String DAY = "day";
  public static final String AS_OF = "as_of_date";

  /**
   * @param customers the {@code customers} table (signup_date, churn_date, segment, industry, plan)
   * @param asOf lifetimes are observed up to this day: later churns and signups are not seen
   */
  public static Dataset<Row> kaplanMeier(Dataset<Row> customers, LocalDate asOf) {
    return kaplanMeier(customers, List.of(asOf));
  }

  /**
   * The curves as of each of {@code days} in one pass (rows told apart by {@code as_of_date}): each day sees only
   * the signups and churns up to it.
   */
  public static Dataset<Row> kaplanMeier(Dataset<Row> customers, Collection<LocalDate> days) {
    Column day = col(AS_OF);
    Column churned = col(Customers.CHURN_DATE).isNotNull().and(col(Customers.CHURN_DATE).leq(day));
    Column[] asOfs = days.stream().distinct().map(d -> lit(Date.valueOf(d))).toArray(Column[]::new);
    Dataset<Row> lifetimes = customers.withColumn(AS_OF, explode(array(asOfs)))
        .where(col(Customers.SIGNUP_DATE).leq(day)).select(day,
        col(Customers.SEGMENT), col(Customers.INDUSTRY), col(Customers.PLAN),
        datediff(when(churned, col(Customers.CHURN_DATE)).otherwise(day), col(Customers.SIGNUP_DATE)).as(DAY),
        churned.cast("int").as("_event"));
    Dataset<Row> grouped = lifetimes.select(day, col(DAY), col("_event"), explode(array(
        struct(lit("all").as(DIMENSION), lit(Retention.ALL).as(GROUP)),
        struct(lit(Customers.SEGMENT).as(DIMENSION), col(Customers.SEGMENT).as(GROUP)),
        struct(lit(Customers.INDUSTRY).as(DIMENSION), col(Customers.INDUSTRY).as(GROUP)),
        struct(lit(Customers.PLAN).as(DIMENSION), col(Customers.PLAN).as(GROUP)))).as("_g"))
        .select(day, col("_g." + DIMENSION), coalesce(col("_g." + GROUP), lit(Customers.UNKNOWN)).as(GROUP), col(DAY),
            col("_event"));
    Dataset<Row> perDay = grouped.groupBy(AS_OF, DIMENSION, GROUP, DAY).agg(sum("_event").cast("long").as("events"),
        count(lit(1)).as("_ended"));
    WindowSpec group = Window.partitionBy(AS_OF, DIMENSION, GROUP);
    WindowSpec before = group.orderBy(DAY).rowsBetween(Window.unboundedPreceding(), -1);
    WindowSpec upTo = group.orderBy(DAY).rowsBetween(Window.unboundedPreceding(), Window.currentRow());
    Dataset<Row> atRisk = perDay
        .withColumn("at_risk", sum("_ended").over(group).minus(coalesce(sum("_ended").over(before), lit(0L))))
        .withColumn("censored", col("_ended").minus(col("events")))
        .where(col("events").gt(0));
    // S(t) as a running sum of logs; a day on which everyone left takes the curve to 0 for good.
    Column step = col("events").divide(col("at_risk"));
    Dataset<Row> curve = atRisk
        .withColumn("_all_left", max(when(step.geq(1), 1).otherwise(0)).over(upTo))
        .withColumn("_log_s", sum(when(step.lt(1), log(lit(1).minus(step)))).over(upTo))
        .withColumn("_greenwood", sum(when(step.lt(1), col("events").divide(col("at_risk")
            .multiply(col("at_risk").minus(col("events")))))).over(upTo))
        .withColumn("survival", when(col("_all_left").equalTo(1), lit(0.0)).otherwise(exp(col("_log_s"))));
    Column s = col("survival");
    Column se = sqrt(col("_greenwood")).divide(abs(log(s)));
    Column z = lit(1.959963984540054);
    Column defined = s.gt(0).and(s.lt(1));
    return curve
        .withColumn("ci_low", when(defined, pow(s, exp(z.multiply(se)))).otherwise(s))
        .withColumn("ci_high", when(defined, pow(s, exp(negate(z).multiply(se)))).otherwise(s))
        .withColumn("median_days", min(when(s.leq(0.5), col(DAY))).over(group))
        .select(day, col(DIMENSION), col(GROUP), col(DAY), col("at_risk"), col("events"),
            col("censored"), s, col("ci_low"), col("ci_high"), col("median_days"));
  }
}
