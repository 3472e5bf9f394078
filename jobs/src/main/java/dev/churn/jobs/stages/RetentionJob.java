package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;

import dev.churn.features.Retention;
import dev.churn.features.Survival;
import dev.churn.jobs.warehouse.KillPoints;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Settings;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.Actions;
import dev.churn.models.Forecast;
import java.util.List;
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
  /** Rows written to each table. */
  public record Result(long rates, long cohorts, long forecasts, long survival, long actions) {}

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
  private final Actions.Options actions;

  public RetentionJob(StageContext ctx, Range range) {
    this(ctx, range, Actions.Options.defaults());
  }

  /** With how contacts are valued for {@code retention_actions}. */
  public RetentionJob(StageContext ctx, Range range, Actions.Options actions) {
    this.ctx = ctx;
    this.from = range.from();
    this.to = range.to();
    this.cohortsFrom = range.cohortsFrom();
    this.actions = actions;
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
        Settings.churn(warehouse).byInactivity() ? Retention.cohortActivity(customers, daily, cohortsFrom, to)
            : Retention.cohorts(customers, cohortsFrom, to),
        "cohort_month >= DATE'" + cohortsFrom.withDayOfMonth(1) + "' AND cohort_month <= DATE'" + to + "'"),
        n -> RunLog.StageResult.of(customerCount, n));
    long forecasts = 0;
    if (warehouse.exists(Table.CHURN_SCORES) && warehouse.exists(Table.MODEL_REGISTRY)) {
      forecasts = log.stage("churn_forecast", () -> warehouse.replaceWhere(Table.CHURN_FORECAST, forecast(customers),
          "as_of_date >= DATE'" + from + "' AND as_of_date <= DATE'" + to + "'"), n -> RunLog.StageResult.of(n, n));
    }
    long survival = log.stage("survival_curves", () -> warehouse.replaceWhere(Table.SURVIVAL_CURVES,
        Survival.kaplanMeier(customers, to), "as_of_date = DATE'" + to + "'"),
        n -> RunLog.StageResult.of(customerCount, n));
    LocalDate scored = latestScores();
    long contacts = 0;
    if (scored != null) {
      contacts = log.stage("retention_actions", () -> warehouse.replaceWhere(Table.RETENTION_ACTIONS,
          Actions.rank(values(customers, scored), actions), "as_of_date = DATE'" + scored + "'"),
          n -> RunLog.StageResult.of(n, n));
    }
    warehouse.registerAll();
    return new Result(rates, cohorts, forecasts, survival, contacts);
  }

  /** The last scoring date on or before the range's end, or null. */
  private LocalDate latestScores() {
    Warehouse warehouse = ctx.warehouse();
    if (!warehouse.exists(Table.CHURN_SCORES) || !warehouse.exists(Table.MODEL_REGISTRY)) {
      return null;
    }
    Row last = warehouse.read(Table.CHURN_SCORES).where(col("as_of_date").leq(lit(Date.valueOf(to))))
        .agg(max("as_of_date")).first();
    return last.isNullAt(0) ? null : last.getDate(0).toLocalDate();
  }

  /**
   * Every customer scored on {@code day} with its value ({@link Actions#values}), against the survival curves by
   * segment as of that day.
   */
  private Dataset<Row> values(Dataset<Row> customers, LocalDate day) {
    Warehouse warehouse = ctx.warehouse();
    Dataset<Row> scores = warehouse.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(lit(Date.valueOf(day))));
    Row model = scores.join(warehouse.read(Table.MODEL_REGISTRY).select("model_version", "horizon_days"),
        "model_version").select("horizon_days").first();
    List<Row> curves = Survival.kaplanMeier(customers, day).where(col("dimension").equalTo("segment"))
        .select("group_value", "day", "survival").collectAsList();
    Dataset<Row> features = warehouse.read(Table.CUSTOMER_FEATURES).where(col("as_of_date").equalTo(
        lit(Date.valueOf(day))));
    return Actions.values(scores, features, customers, curves, ((Number) model.get(0)).intValue());
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
