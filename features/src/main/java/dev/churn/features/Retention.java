package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import java.sql.Date;
import java.time.LocalDate;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Churn and retention per period (month, quarter, year) x segment x industry, with rows for all segments and
 * all industries together marked {@link #ALL}, exactly as docs/domain.md defines them:
 * S = customers at the start (signed up before the period, not churned before it), N = signed up in the period,
 * lost = churned in the period (new customers included; {@code customers_new_lost} of them signed up in it),
 * E = customers at the end = S + N - lost. Rates are over the starting cohort, so they are complements and lie in
 * [0, 1] (docs/domain.md: "retention 80 % means churn 20 %"): churn rate = (lost - new lost) / S; retention rate =
 * (E - (N - new lost)) / S, which is docs/domain.md's (E - N) / S when no new customer left within the period. MRR: at the start, lost to cancellations (the churned
 * customers' MRR when they left), lost to downgrades (contraction, kept apart), MRR churn rate = lost / start.
 * Periods not wholly inside [from, to] are flagged {@code is_partial}, never silently mixed with full ones.
 * Industry rows carry docs/domain.md's yearly retention yardstick; month and quarter rates are compared after
 * annualising, retention^(periods per year).
 */
public final class Retention {
  private Retention() {}

  public static final String ALL = "ALL";

  /** docs/domain.md's yearly retention by industry (the customers table spells industries in lower case). */
  public static final Map<String, Double> YARDSTICKS = Map.of(
      "retail", 0.63, "banking", 0.75, "telecom", 0.78, "it", 0.81, "insurance", 0.83,
      "professional services", 0.84, "media", 0.84);

  public enum PeriodType {
    MONTH(12), QUARTER(4), YEAR(1);

    private final int perYear;

    PeriodType(int perYear) {
      this.perYear = perYear;
    }

    public int perYear() {
      return perYear;
    }

    public String code() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    LocalDate startOf(LocalDate d) {
      return switch (this) {
        case MONTH -> d.withDayOfMonth(1);
        case QUARTER -> d.withDayOfMonth(1).withMonth(((d.get(IsoFields.QUARTER_OF_YEAR) - 1) * 3) + 1);
        case YEAR -> d.withDayOfYear(1);
      };
    }

    LocalDate next(LocalDate start) {
      return switch (this) {
        case MONTH -> start.plusMonths(1);
        case QUARTER -> start.plusMonths(3);
        case YEAR -> start.plusYears(1);
      };
    }
  }

  public static final StructType PERIODS = new StructType()
      .add("period_type", DataTypes.StringType, false)
      .add("period_start", DataTypes.DateType, false)
      .add("period_end", DataTypes.DateType, false)
      .add("is_partial", DataTypes.BooleanType, false);

  /** Every month, quarter and year that overlaps [from, to], flagged partial when not wholly inside it. */
  public static Dataset<Row> periods(SparkSession spark, LocalDate from, LocalDate to) {
    List<Row> rows = new ArrayList<>();
    for (PeriodType t : PeriodType.values()) {
      for (LocalDate s = t.startOf(from); !s.isAfter(to); s = t.next(s)) {
        LocalDate e = t.next(s).minusDays(1);
        rows.add(RowFactory.create(t.code(), Date.valueOf(s), Date.valueOf(e), s.isBefore(from) || e.isAfter(to)));
      }
    }
    return spark.createDataFrame(rows, PERIODS);
  }

  /**
   * Rows of {@code retention_rates} for the given periods.
   *
   * <p>Each customer's plan changes are gathered into one array (a few per customer), and the MRR at a period's
   * start, at the churn date and the period's contraction are read from it with array functions: one
   * aggregation by customer, one equi-join and the grouping, whatever the number of periods, where a join per
   * MRR date would plan a range join and an aggregation each. Sums stay exact ({@link ExactSums}): a customer's
   * contraction in a period is summed as decimals, then summed again over the group.
   *
   * @param customers the customers table (signup_date, churn_date, signup_mrr, segment, industry)
   * @param daily the daily_activity rollup (for MRR changes)
   */
  public static Dataset<Row> rates(Dataset<Row> customers, Dataset<Row> daily, Dataset<Row> periods) {
    Dataset<Row> c = customers.select(col(Customers.CUSTOMER_ID), col(Customers.SEGMENT), col(Customers.INDUSTRY),
        col(Customers.SIGNUP_DATE), col(Customers.CHURN_DATE), col(Customers.SIGNUP_MRR));
    // A customer's changes as structs (d = day, b = MRR before, a = MRR after, the signup MRR before the first);
    // days are unique per customer, so array_max (which compares d first) picks the last change on or before a day.
    Dataset<Row> changes = daily.where(col(DailyActivity.MRR_END).isNotNull())
        .groupBy(col(DailyActivity.CUSTOMER_ID).as("_hc"))
        .agg(array_sort(collect_list(struct(col(DailyActivity.ACTIVITY_DATE).as("d"),
            col(DailyActivity.MRR_END).as("a")))).as("_mrr"));
    Dataset<Row> history = c.join(changes, col(Customers.CUSTOMER_ID).equalTo(col("_hc")), "left").drop("_hc")
        .withColumn("_mrr", expr("transform(_mrr, (x, i) -> named_struct('d', x.d, 'b', "
            + "CASE WHEN i = 0 THEN coalesce(signup_mrr, 0D) ELSE _mrr[i - 1].a END, 'a', x.a))"));
    // Each customer against each period it touches.
    Dataset<Row> cp = history.crossJoin(periods)
        .where(col(Customers.SIGNUP_DATE).leq(col("period_end"))
            .and(col(Customers.CHURN_DATE).isNull().or(col(Customers.CHURN_DATE).geq(col("period_start")))));
    String atStart = "signup_date < period_start";
    String isNew = "signup_date >= period_start";
    String lost = "churn_date BETWEEN period_start AND period_end";
    String atEnd = "(churn_date IS NULL OR churn_date > period_end)";
    // A downgrade's size is taken as ExactSums takes it (9 decimal places; 30 digits hold any difference of two
    // MRRs, at most Events.MAX_MONEY each); the running sum keeps every digit (Spark types DECIMAL(37, 9) plus
    // DECIMAL(30, 9) as DECIMAL(38, 9), its widest, with no rounding), so the per-customer value is the exact sum
    // ExactSums would give.
    String downgrades = "filter(_mrr, x -> x.d BETWEEN period_start AND period_end AND x.a < x.b)";
    cp = cp.withColumn("mrr_at_start", mrrOn("date_sub(period_start, 1)"))
        .withColumn("mrr_at_churn", mrrOn("coalesce(churn_date, period_end)"))
        .withColumn("_contraction", expr("CASE WHEN size(" + downgrades + ") > 0 THEN CAST(aggregate(" + downgrades
            + ", CAST(0 AS DECIMAL(37, 9)), (s, x) -> CAST(s + CAST(x.b - x.a AS DECIMAL(30, 9)) AS DECIMAL(37, 9)))"
            + " AS DOUBLE) END"))
        .drop("_mrr");

    cp.createOrReplaceTempView("_retention_input");
    Dataset<Row> grouped = cp.sparkSession().sql(
        "SELECT period_type, period_start, period_end, is_partial, "
            + "coalesce(segment, '" + ALL + "') AS segment, coalesce(industry, '" + ALL + "') AS industry, "
            + "count_if(" + atStart + ") AS customers_start, "
            + "count_if(" + atEnd + ") AS customers_end, "
            + "count_if(" + isNew + ") AS customers_new, "
            + "count_if(" + lost + ") AS customers_lost, "
            + "count_if(" + lost + " AND " + isNew + ") AS customers_new_lost, "
            + "coalesce(" + ExactSums.sql("CASE WHEN " + atStart + " THEN mrr_at_start END") + ", 0D) AS mrr_start, "
            + "coalesce(" + ExactSums.sql("CASE WHEN " + lost + " THEN mrr_at_churn END") + ", 0D) AS mrr_lost, "
            + "coalesce(" + ExactSums.sql("_contraction") + ", 0D) AS mrr_contraction "
            + "FROM _retention_input GROUP BY period_type, period_start, period_end, is_partial, "
            + "GROUPING SETS ((segment, industry), (segment), (industry), ())");
    Column s = col("customers_start");
    Column yardstick = lit(null).cast("double");
    for (Map.Entry<String, Double> e : YARDSTICKS.entrySet()) {
      yardstick = when(col("industry").equalTo(e.getKey()), lit(e.getValue())).otherwise(yardstick);
    }
    Column perYear = when(col("period_type").equalTo("month"), 12).when(col("period_type").equalTo("quarter"), 4)
        .otherwise(1);
    Column stayedNew = col("customers_new").minus(col("customers_new_lost"));
    Column retention = when(s.gt(0), col("customers_end").minus(stayedNew).divide(s));
    return grouped
        .withColumn("churn_rate", when(s.gt(0), col("customers_lost").minus(col("customers_new_lost")).divide(s)))
        .withColumn("retention_rate", retention)
        .withColumn("mrr_churn_rate", when(col("mrr_start").gt(0), col("mrr_lost").divide(col("mrr_start"))))
        .withColumn("mrr_contraction_rate", when(col("mrr_start").gt(0), col("mrr_contraction").divide(col("mrr_start"))))
        .withColumn("retention_rate_annualized", pow(retention, perYear))
        .withColumn("benchmark_retention_rate", yardstick)
        .withColumn("gap_to_benchmark", col("retention_rate_annualized").minus(yardstick));
  }

  /** MRR on the day {@code day} (SQL over a row of the input): the last change on or before it, else the signup MRR. */
  private static Column mrrOn(String day) {
    return coalesce(expr("array_max(filter(_mrr, x -> x.d <= " + day + ")).a"), col(Customers.SIGNUP_MRR), lit(0.0));
  }

  /**
   * Signup month x months since signup (0 = the signup month) for the cohorts that signed up from {@code from}'s
   * month to {@code to}: the cohort's size and how many were still customers at the end of that month; only
   * months that have ended by {@code to}.
   */
  public static Dataset<Row> cohorts(Dataset<Row> customers, LocalDate from, LocalDate to) {
    Column cohort = trunc(col(Customers.SIGNUP_DATE), "month");
    Dataset<Row> c = customers.where(col(Customers.SIGNUP_DATE).between(lit(Date.valueOf(from.withDayOfMonth(1))),
            lit(Date.valueOf(to))))
        .select(cohort.as("cohort_month"), col(Customers.CHURN_DATE));
    Column monthsAvailable = months_between(trunc(lit(Date.valueOf(to.plusDays(1))), "month"), col("cohort_month"))
        .cast("int");
    // sequence(0, -1) counts down, so cohorts without one full month are filtered out before exploding.
    Dataset<Row> grid = c.where(monthsAvailable.geq(1))
        .withColumn("months_since_signup", explode(sequence(lit(0), monthsAvailable.minus(1))))
        .withColumn("_month_end", last_day(add_months(col("cohort_month"), col("months_since_signup"))));
    Column retained = col(Customers.CHURN_DATE).isNull().or(col(Customers.CHURN_DATE).gt(col("_month_end")));
    return grid.groupBy("cohort_month", "months_since_signup")
        .agg(count(lit(1)).as("customers"), count(when(retained, lit(1))).as("retained"))
        .withColumn("retention_rate", col("retained").divide(col("customers")))
        .withColumn("measure", lit(NOT_CHURNED));
  }

  /** What a cohort cell counts: customers not churned by the month's end, or customers active in the month. */
  public static final String NOT_CHURNED = "not churned by month end";
  public static final String ACTIVE = "active in the month";

  /**
   * As {@link #cohorts}, counting customers with any activity in the month ({@code daily}: customer_id,
   * activity_date) instead of customers not churned: under inactivity churn nobody can have churned in the first
   * N days, so "not churned" would read 100 % by construction for the first months.
   */
  public static Dataset<Row> cohortActivity(Dataset<Row> customers, Dataset<Row> daily, LocalDate from, LocalDate to) {
    Dataset<Row> c = customers.where(col(Customers.SIGNUP_DATE).between(lit(Date.valueOf(from.withDayOfMonth(1))),
            lit(Date.valueOf(to))))
        .select(col(Customers.CUSTOMER_ID), trunc(col(Customers.SIGNUP_DATE), "month").as("cohort_month"));
    Column monthsAvailable = months_between(trunc(lit(Date.valueOf(to.plusDays(1))), "month"), col("cohort_month"))
        .cast("int");
    Dataset<Row> grid = c.where(monthsAvailable.geq(1))
        .withColumn("months_since_signup", explode(sequence(lit(0), monthsAvailable.minus(1))))
        .withColumn("_month", add_months(col("cohort_month"), col("months_since_signup")));
    Dataset<Row> active = daily.select(col(DailyActivity.CUSTOMER_ID).as("_id"),
            trunc(col(DailyActivity.ACTIVITY_DATE), "month").as("_active_month")).distinct();
    return grid.join(active, col(Customers.CUSTOMER_ID).equalTo(col("_id")).and(col("_month").equalTo(col("_active_month"))),
            "left")
        .groupBy("cohort_month", "months_since_signup")
        .agg(count(lit(1)).as("customers"), count(col("_id")).as("retained"))
        .withColumn("retention_rate", col("retained").divide(col("customers")))
        .withColumn("measure", lit(ACTIVE));
  }
}
