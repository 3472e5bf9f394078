package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.churn.features.Retention;
import dev.churn.jobs.warehouse.KillPoints;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.Forecast;
import java.sql.Date;
import java.time.LocalDate;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Writes {@code retention_rates} (every month, quarter and year overlapping [from, to], x segment x industry,
 * with ALL rows), {@code cohort_retention} ({@link Retention#cohorts}: signup month x months since signup, for
 * cohorts that signed up from {@code cohortsFrom}) and {@code churn_forecast} ({@link Forecast#expectedVsActual},
 * for each scoring date in [from, to]). Idempotent: rerunning a range replaces the rows of that range only.
 */
public final class RetentionJob {
  /** Rows written to each of the three tables. */
  public record Result(long rates, long cohorts, long forecasts) {}

  /** The periods overlapping [from, to]; cohorts that signed up from {@code cohortsFrom} on (older ones age too). */
  public record Range(LocalDate from, LocalDate to, LocalDate cohortsFrom) {
    public Range {
      if (to.isBefore(from)) {
        throw new IllegalArgumentException("--to " + to + " is before --from " + from);
      }
    }

    /** [from, to], with the cohorts that signed up in it. */
    public static Range of(LocalDate from, LocalDate to) {
      return new Range(from, to, from);
    }
  }

  private final StageContext ctx;
  private final LocalDate from;
  private final LocalDate to;
  private final LocalDate cohortsFrom;

  public RetentionJob(StageContext ctx, Range range) {
    this.ctx = ctx;
    this.from = range.from();
    this.to = range.to();
    this.cohortsFrom = range.cohortsFrom();
  }

  public Result run() {
    Warehouse warehouse = ctx.warehouse();
    RunLog log = ctx.runLog();
    Dataset<Row> customers = warehouse.read(Table.CUSTOMERS);
    Dataset<Row> daily = warehouse.read(Table.DAILY_ACTIVITY);
    long customerCount = customers.count();
    long rates = log.stage("retention_rates", () -> warehouse.replaceWhere(Table.RETENTION_RATES,
        Retention.rates(customers, daily, Retention.periods(warehouse.spark(), from, to)),
        "period_end >= DATE'" + from + "' AND period_start <= DATE'" + to + "'"),
        n -> RunLog.StageResult.of(customerCount, n));
    KillPoints.reached(KillPoints.RETENTION_RATES_COMMITTED);
    long cohorts = log.stage("cohort_retention", () -> warehouse.replaceWhere(Table.COHORT_RETENTION,
        Retention.cohorts(customers, cohortsFrom, to),
        "cohort_month >= DATE'" + cohortsFrom.withDayOfMonth(1) + "' AND cohort_month <= DATE'" + to + "'"),
        n -> RunLog.StageResult.of(customerCount, n));
    long forecasts = 0;
    if (warehouse.exists(Table.CHURN_SCORES) && warehouse.exists(Table.MODEL_REGISTRY)) {
      forecasts = log.stage("churn_forecast", () -> warehouse.replaceWhere(Table.CHURN_FORECAST, forecast(customers),
          "as_of_date >= DATE'" + from + "' AND as_of_date <= DATE'" + to + "'"), n -> RunLog.StageResult.of(n, n));
    }
    warehouse.registerAll();
    return new Result(rates, cohorts, forecasts);
  }

  private Dataset<Row> forecast(Dataset<Row> customers) {
    Warehouse warehouse = ctx.warehouse();
    Dataset<Row> scores = warehouse.read(Table.CHURN_SCORES)
        .where(col("as_of_date").between(lit(Date.valueOf(from)), lit(Date.valueOf(to))))
        .join(warehouse.read(Table.MODEL_REGISTRY).select("model_version", "horizon_days"), "model_version");
    return Forecast.expectedVsActual(scores, warehouse.read(Table.CUSTOMER_FEATURES), customers,
        warehouse.dataRange().last());
  }
}
