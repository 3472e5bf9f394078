package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.Retention;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import java.sql.Date;
import java.time.LocalDate;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Writes {@code retention_rates} (every month, quarter and year overlapping [from, to], x segment x industry,
 * with ALL rows), {@code cohort_retention} (signup month x months since signup, for cohorts that signed up in
 * [from, to]) and {@code churn_forecast} (for each scoring date in [from, to]: expected churners and MRR at risk
 * per segment and industry over the model's horizon, and, once the horizon has passed, the actual churners
 * beside them). Idempotent: rerunning a range replaces the rows of that range only.
 */
public final class RetentionJob {
  public record Result(long rates, long cohorts, long forecasts) {}

  private final Warehouse warehouse;
  private final RunLog runLog;
  private final LocalDate from;
  private final LocalDate to;
  private final LocalDate cohortsFrom;

  public RetentionJob(Warehouse warehouse, RunLog runLog, LocalDate from, LocalDate to) {
    this(warehouse, runLog, from, to, from);
  }

  /** With {@code cohortsFrom}: cohorts that signed up from then on are refreshed (older ones age too). */
  public RetentionJob(Warehouse warehouse, RunLog runLog, LocalDate from, LocalDate to, LocalDate cohortsFrom) {
    this.warehouse = warehouse;
    this.runLog = runLog;
    this.from = from;
    this.to = to;
    this.cohortsFrom = cohortsFrom;
  }

  public Result run() {
    Dataset<Row> customers = warehouse.read(Table.CUSTOMERS);
    Dataset<Row> daily = warehouse.read(Table.DAILY_ACTIVITY);
    long[] n = new long[3];
    runLog.stage("retention_rates", () -> {
      Dataset<Row> rates = Retention.rates(customers, daily, Retention.periods(warehouse.spark(), from, to));
      warehouse.replaceWhere(Table.RETENTION_RATES, rates,
          "period_end >= DATE'" + from + "' AND period_start <= DATE'" + to + "'");
      n[0] = warehouse.read(Table.RETENTION_RATES).where(col("period_end").geq(lit(Date.valueOf(from)))
          .and(col("period_start").leq(lit(Date.valueOf(to))))).count();
      return RunLog.StageResult.of(customers.count(), n[0]);
    });
    runLog.stage("cohort_retention", () -> {
      Dataset<Row> cohorts = cohorts(customers, cohortsFrom, to);
      warehouse.replaceWhere(Table.COHORT_RETENTION, cohorts,
          "cohort_month >= DATE'" + cohortsFrom.withDayOfMonth(1) + "' AND cohort_month <= DATE'" + to + "'");
      n[1] = cohorts.count();
      return RunLog.StageResult.of(customers.count(), n[1]);
    });
    if (warehouse.exists(Table.CHURN_SCORES) && warehouse.exists(Table.MODEL_REGISTRY)) {
      runLog.stage("churn_forecast", () -> {
        Dataset<Row> forecast = forecast(customers, from, to);
        warehouse.replaceWhere(Table.CHURN_FORECAST, forecast,
            "as_of_date >= DATE'" + from + "' AND as_of_date <= DATE'" + to + "'");
        n[2] = forecast.count();
        return RunLog.StageResult.of(n[2], n[2]);
      });
    }
    warehouse.registerAll();
    return new Result(n[0], n[1], n[2]);
  }

  /**
   * Signup month x months since signup (0 = the signup month): the cohort's size and how many were still
   * customers at the end of that month; only months that have ended by {@code to}.
   */
  static Dataset<Row> cohorts(Dataset<Row> customers, LocalDate from, LocalDate to) {
    Column cohort = trunc(col("signup_date"), "month");
    Dataset<Row> c = customers.where(col("signup_date").between(lit(Date.valueOf(from.withDayOfMonth(1))), lit(Date.valueOf(to))))
        .select(cohort.as("cohort_month"), col("churn_date"));
    Column monthsAvailable = months_between(trunc(lit(Date.valueOf(to.plusDays(1))), "month"), col("cohort_month")).cast("int");
    // sequence(0, -1) counts down, so cohorts without one full month are filtered out before exploding.
    Dataset<Row> grid = c.where(monthsAvailable.geq(1))
        .withColumn("months_since_signup", explode(sequence(lit(0), monthsAvailable.minus(1))))
        .withColumn("_month_end", last_day(add_months(col("cohort_month"), col("months_since_signup"))));
    return grid.groupBy("cohort_month", "months_since_signup")
        .agg(count(lit(1)).as("customers"),
            count(when(col("churn_date").isNull().or(col("churn_date").gt(col("_month_end"))), lit(1))).as("retained"))
        .withColumn("retention_rate", col("retained").divide(col("customers")));
  }

  /** Expected against actual churners per scoring date, segment and industry (with ALL rows). */
  private Dataset<Row> forecast(Dataset<Row> customers, LocalDate from, LocalDate to) {
    Dataset<Row> registry = warehouse.read(Table.MODEL_REGISTRY).select(col("model_version"), col("horizon_days"));
    Row end = warehouse.read(Table.DAILY_ACTIVITY).agg(max("activity_date")).first();
    Date dataEnd = end.getDate(0);
    Dataset<Row> scores = warehouse.read(Table.CHURN_SCORES)
        .where(col("as_of_date").between(lit(Date.valueOf(from)), lit(Date.valueOf(to))))
        .join(registry, "model_version");
    Dataset<Row> features = warehouse.read(Table.CUSTOMER_FEATURES).select(col("customer_id"), col("as_of_date"), col("mrr"));
    Dataset<Row> joined = scores.join(features, new String[] {"customer_id", "as_of_date"}, "left")
        .join(customers.select(col("customer_id"), col("segment"), col("industry"), col("churn_date")), "customer_id");
    joined.createOrReplaceTempView("_forecast_input");
    return warehouse.spark().sql("SELECT as_of_date, model_version, horizon_days, "
        + "date_add(as_of_date, horizon_days) AS horizon_end, "
        + "coalesce(segment, 'ALL') AS segment, coalesce(industry, 'ALL') AS industry, "
        + "count(*) AS customers_scored, sum(churn_probability) AS expected_churners, "
        + "sum(churn_probability * coalesce(mrr, 0D)) AS expected_mrr_at_risk, "
        + "CASE WHEN date_add(as_of_date, horizon_days) <= DATE'" + dataEnd + "' THEN count_if(churn_date > as_of_date "
        + "AND churn_date <= date_add(as_of_date, horizon_days)) END AS actual_churners, "
        + "CASE WHEN date_add(as_of_date, horizon_days) <= DATE'" + dataEnd + "' THEN coalesce(sum(CASE WHEN "
        + "churn_date > as_of_date AND churn_date <= date_add(as_of_date, horizon_days) THEN mrr END), 0D) END "
        + "AS actual_mrr_lost "
        + "FROM _forecast_input GROUP BY as_of_date, model_version, horizon_days, "
        + "GROUPING SETS ((segment, industry), (segment), (industry), ())");
  }
}
