package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;

import dev.churn.features.FeatureBuilder;
import dev.churn.features.Retention;
import dev.churn.features.Survival;
import dev.churn.jobs.warehouse.KillPoints;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Settings;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.Actions;
import dev.churn.models.Effects;
import dev.churn.models.Forecast;
import dev.churn.models.Interventions;
import dev.churn.models.SaveRates;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Writes {@code retention_rates} (every month, quarter and year overlapping [from, to], x segment x industry,
 * with ALL rows), {@code cohort_retention} ({@link Retention#cohorts}: signup month x months since signup, for
 * cohorts that signed up from {@code cohortsFrom}), {@code survival_curves} as of {@code to}, {@code churn_forecast}
 * ({@link Forecast#expectedVsActual}, for each scoring date in [from, to], each valued against the survival curves
 * as of its own date), {@code retention_actions} for the last scoring date on or before {@code to}, and
 * {@code intervention_effects} ({@link Effects#measure}) rebuilt from every action list so far and the
 * {@code interventions} logged.
 * Idempotent: rerunning a range replaces the rows of that range only.
 */
public final class RetentionJob {
  /** Rows written to each table. */
  public record Result(long rates, long cohorts, long forecasts, long survival, long actions, long effects) {}

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
    // Rows read: every customer and, at most, every day of their activity.
    long customerCount = ctx.warehouse().rows(Table.CUSTOMERS);
    long rows = customerCount + ctx.warehouse().rows(Table.DAILY_ACTIVITY);
    return CodeGeneration.forRows(ctx.warehouse().spark(), rows, () -> retain(customerCount));
  }

  private Result retain(long customerCount) {
    Warehouse warehouse = ctx.warehouse();
    RunLog log = ctx.runLog();
    Dataset<Row> customers = warehouse.read(Table.CUSTOMERS);
    Dataset<Row> daily = warehouse.read(Table.DAILY_ACTIVITY);
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
    List<LocalDate> scored = scoringDates();
    List<LocalDate> curveDays = new ArrayList<>(scored);
    curveDays.add(to);
    Dataset<Row> curves = Survival.kaplanMeier(customers, curveDays).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      long survival = log.stage("survival_curves", () -> warehouse.replaceWhere(Table.SURVIVAL_CURVES,
          curves.where(col("as_of_date").equalTo(lit(Date.valueOf(to)))), "as_of_date = DATE'" + to + "'"),
          n -> RunLog.StageResult.of(customerCount, n));
      long forecasts = 0;
      long contacts = 0;
      long effects = 0;
      if (!scored.isEmpty()) {
        Dataset<Row> values = values(customers, scored, curves).persist(StorageLevel.MEMORY_AND_DISK());
        try {
          LocalDate last = scored.get(scored.size() - 1);
          if (!last.isBefore(from)) {
            forecasts = log.stage("churn_forecast", () -> warehouse.replaceWhere(Table.CHURN_FORECAST,
                Forecast.expectedVsActual(values.where(col("as_of_date").geq(lit(Date.valueOf(from)))), customers,
                    warehouse.dataRange().last()),
                "as_of_date >= DATE'" + from + "' AND as_of_date <= DATE'" + to + "'"), n -> RunLog.StageResult.of(n, n));
          }
          Map<String, SaveRates.Measured> measured = measuredBefore(last, customers);
          contacts = log.stage("retention_actions", () -> warehouse.replaceWhere(Table.RETENTION_ACTIONS,
              Actions.rank(values.where(col("as_of_date").equalTo(lit(Date.valueOf(last)))), actions, measured),
              "as_of_date = DATE'" + last + "'"), n -> RunLog.StageResult.of(n, n));
          effects = log.stage("intervention_effects", () -> warehouse.replaceWhere(Table.INTERVENTION_EFFECTS,
              Effects.measure(listed(null), customers, contacts(null), warehouse.dataRange().last()), "true"),
              n -> RunLog.StageResult.of(n, n));
        } finally {
          values.unpersist();
        }
      }
      warehouse.refreshNames();
      return new Result(rates, cohorts, forecasts, survival, contacts, effects);
    } finally {
      curves.unpersist();
    }
  }

  /** Every action list before {@code before} (all of them for null), each row with its model's horizon. */
  private Dataset<Row> listed(LocalDate before) {
    Dataset<Row> actions = ctx.warehouse().read(Table.RETENTION_ACTIONS);
    return (before == null ? actions : actions.where(col("as_of_date").lt(lit(Date.valueOf(before)))))
        .join(ctx.warehouse().read(Table.MODEL_REGISTRY).select("model_version", "horizon_days"), "model_version");
  }

  /**
   * Each play's save rate as measured on the night of {@code day}: from the lists before it and the horizons ended by
   * it, so that rerunning a night after later ones values its list as the first run did. Churn dates are the
   * customers table's as it stands: one changed since (a late cancellation, a return from inactivity) changes it.
   */
  private Map<String, SaveRates.Measured> measuredBefore(LocalDate day, Dataset<Row> customers) {
    if (!ctx.warehouse().exists(Table.RETENTION_ACTIONS)) {
      return Map.of();
    }
    Dataset<Row> lists = ctx.warehouse().read(Table.RETENTION_ACTIONS);
    // A list table written before the control group existed has no contact_group yet (tonight's write adds it).
    if (!List.of(lists.columns()).contains(Actions.CONTACT_GROUP) || !anyHorizonEnded(lists, day)) {
      return Map.of();
    }
    return SaveRates.pooled(Effects.measure(listed(day), customers, contacts(day), day).collectAsList());
  }

  /**
   * Whether a list before {@code day} may have an entry whose horizon ended by {@code day}: the first list's date
   * plus the shortest horizon of any model (the registry's rows, read once a night) is not after it. Otherwise every
   * entry is unmeasured and no play has a measured rate, and the measurement (a query of several Spark jobs) is not
   * run: in a warehouse's first month of lists, and in the nights of most tests.
   */
  private boolean anyHorizonEnded(Dataset<Row> lists, LocalDate day) {
    Integer shortest = ctx.registry().shortestHorizon();
    if (shortest == null) {
      return false;
    }
    Row first = lists.agg(min(col(FeatureBuilder.AS_OF_DATE))).first();
    return horizonMayHaveEnded(first.isNullAt(0) ? null : first.getDate(0).toLocalDate(), shortest, day);
  }

  /**
   * Whether an entry first listed on {@code firstList} or later, with a horizon of at least {@code shortest} days,
   * can be measured on {@code day}: as {@link Effects#measure} decides, once first listed + horizon is on or before
   * the data's end. Null (no list, no horizon): no.
   */
  static boolean horizonMayHaveEnded(LocalDate firstList, Integer shortest, LocalDate day) {
    return firstList != null && shortest != null && !firstList.plusDays(shortest).isAfter(day);
  }

  /** The contacts the team logged up to {@code upTo} (all of them for null); none before any was logged. */
  private Dataset<Row> contacts(LocalDate upTo) {
    Warehouse warehouse = ctx.warehouse();
    if (!warehouse.exists(Table.INTERVENTIONS)) {
      return warehouse.spark().createDataFrame(List.of(), Interventions.TABLE_SCHEMA);
    }
    Dataset<Row> all = warehouse.read(Table.INTERVENTIONS);
    return upTo == null ? all : all.where(col(Interventions.CONTACTED_ON).leq(lit(Date.valueOf(upTo))));
  }

  /**
   * The scoring dates in [from, to] and the last one before {@code from} when none is in it (the action list is
   * written for the last scoring date on or before the range's end), in order; empty before any model scored.
   */
  private List<LocalDate> scoringDates() {
    Warehouse warehouse = ctx.warehouse();
    if (!warehouse.exists(Table.MODEL_REGISTRY)) {
      return List.of();
    }
    List<LocalDate> dates = warehouse.asOfDates(Table.CHURN_SCORES, null, to);
    List<LocalDate> inRange = dates.stream().filter(d -> !d.isBefore(from)).toList();
    return !inRange.isEmpty() || dates.isEmpty() ? inRange : List.of(dates.get(dates.size() - 1));
  }

  /**
   * Every customer scored on {@code days} with its value ({@link Actions#values}), each day against the survival
   * curves by segment as of that day.
   */
  private Dataset<Row> values(Dataset<Row> customers, List<LocalDate> days, Dataset<Row> curves) {
    Warehouse warehouse = ctx.warehouse();
    Column onDays = col("as_of_date").isin(days.stream().map(Date::valueOf).toArray());
    Dataset<Row> scores = warehouse.read(Table.CHURN_SCORES).where(onDays)
        .join(warehouse.read(Table.MODEL_REGISTRY).select("model_version", "horizon_days"), "model_version");
    List<Row> segmentCurves = curves.where(col("dimension").equalTo("segment"))
        .select("as_of_date", "group_value", "day", "survival").collectAsList();
    return Actions.values(scores, warehouse.read(Table.CUSTOMER_FEATURES).where(onDays), customers, segmentCurves);
  }
}
