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
 * all industries together marked {@link #ALL}, exactly as DOMAIN.md defines them:
 * S = customers at the start (signed up before the period, not churned before it), N = signed up in the period,
 * lost = churned in the period (new customers included; {@code customers_new_lost} of them signed up in it),
 * E = customers at the end = S + N - lost. Rates are over the starting cohort, so they are complements and lie in
 * [0, 1] (DOMAIN.md: "retention 80 % means churn 20 %"): churn rate = (lost - new lost) / S; retention rate =
 * (E - (N - new lost)) / S, which is DOMAIN.md's (E - N) / S when no new customer left within the period. MRR: at the start, lost to cancellations (the churned
 * customers' MRR when they left), lost to downgrades (contraction, kept apart), MRR churn rate = lost / start.
 * Periods not wholly inside [from, to] are flagged {@code is_partial}, never silently mixed with full ones.
 * Industry rows carry DOMAIN.md's yearly retention yardstick; month and quarter rates are compared after
 * annualising, retention^(periods per year).
 */
public final class Retention {
  private Retention() {}

  public static final String ALL = "ALL";

  /** DOMAIN.md's yearly retention by industry (the customers table spells industries in lower case). */
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
   * MRR of each customer on each date of a plan change, and the contraction each downgrade caused: rows of
   * customer_id, change_date, mrr_before, mrr_after. {@code daily} carries mrr_end; the signup MRR is the base.
   */
  static Dataset<Row> mrrChanges(Dataset<Row> daily, Dataset<Row> customers) {
    Dataset<Row> changes = daily.where(col(DailyActivity.MRR_END).isNotNull())
        .select(col(DailyActivity.CUSTOMER_ID), col(DailyActivity.ACTIVITY_DATE).as("change_date"),
            col(DailyActivity.MRR_END).as("mrr_after"));
    var w = org.apache.spark.sql.expressions.Window.partitionBy("customer_id").orderBy("change_date");
    return changes.join(customers.select(col(Customers.CUSTOMER_ID), col(Customers.SIGNUP_MRR)), Customers.CUSTOMER_ID)
        .withColumn("mrr_before", coalesce(lag("mrr_after", 1).over(w), col(Customers.SIGNUP_MRR), lit(0.0)))
        .select("customer_id", "change_date", "mrr_before", "mrr_after");
  }

  /** MRR on a date column: the last change on or before it, else the signup MRR. */
  private static Dataset<Row> mrrAt(Dataset<Row> keyed, String dateCol, Dataset<Row> changes, String out) {
    Dataset<Row> c = changes.select(col("customer_id").as("_c"), col("change_date"), col("mrr_after"));
    Dataset<Row> j = keyed.join(c, col("customer_id").equalTo(col("_c")).and(col("change_date").leq(col(dateCol))), "left");
    List<String> keys = new ArrayList<>(List.of(keyed.columns()));
    return j.groupBy(keys.stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new))
        .agg(max_by(col("mrr_after"), col("change_date")).as("_m"))
        .withColumn(out, coalesce(col("_m"), col(Customers.SIGNUP_MRR), lit(0.0))).drop("_m");
  }

  /**
   * Rows of {@code retention_rates} for the given periods.
   *
   * @param customers the customers table (signup_date, churn_date, signup_mrr, segment, industry)
   * @param daily the daily_activity rollup (for MRR changes)
   */
  public static Dataset<Row> rates(Dataset<Row> customers, Dataset<Row> daily, Dataset<Row> periods) {
    Dataset<Row> c = customers.select(col(Customers.CUSTOMER_ID), col(Customers.SEGMENT), col(Customers.INDUSTRY),
        col(Customers.SIGNUP_DATE), col(Customers.CHURN_DATE), col(Customers.SIGNUP_MRR));
    Dataset<Row> changes = mrrChanges(daily, customers);
    // Each customer against each period it touches.
    Dataset<Row> cp = c.crossJoin(periods)
        .where(col(Customers.SIGNUP_DATE).leq(col("period_end"))
            .and(col(Customers.CHURN_DATE).isNull().or(col(Customers.CHURN_DATE).geq(col("period_start")))));
    String atStart = "signup_date < period_start";
    String isNew = "signup_date >= period_start";
    String lost = "churn_date BETWEEN period_start AND period_end";
    String atEnd = "(churn_date IS NULL OR churn_date > period_end)";
    cp = cp.withColumn("_start_day", date_sub(col("period_start"), 1))
        .withColumn("_churn_day", coalesce(col(Customers.CHURN_DATE), col("period_end")));
    cp = mrrAt(cp, "_start_day", changes, "mrr_at_start");
    cp = mrrAt(cp, "_churn_day", changes, "mrr_at_churn");
    Dataset<Row> contraction = changes.where(col("mrr_after").lt(col("mrr_before")))
        .join(periods, col("change_date").between(col("period_start"), col("period_end")))
        .groupBy(col("customer_id").as("_cc"), col("period_type").as("_pt"), col("period_start").as("_ps"))
        .agg(ExactSums.of(col("mrr_before").minus(col("mrr_after"))).as("_contraction"));
    cp = cp.join(contraction, col("customer_id").equalTo(col("_cc")).and(col("period_type").equalTo(col("_pt")))
        .and(col("period_start").equalTo(col("_ps"))), "left");

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
