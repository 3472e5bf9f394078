package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.churn.features.FeatureBuilder;
import dev.churn.features.FeatureCatalogue;
import dev.churn.features.FeatureFacts;
import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.KillPoints;
import dev.churn.jobs.warehouse.ModelRegistry;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.ChurnScorer;
import dev.churn.models.Drift;
import dev.churn.models.ModelSpec;
import dev.churn.models.ObservedHistory;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.storage.StorageLevel;

/**
 * Scores every customer active on a date with the latest accepted model (or a given version) into
 * {@code churn_scores} (partitioned by as_of_date; a rerun replaces that date), or several dates each with its
 * own model in one commit, and writes each numeric
 * feature's drift (PSI against the model's training distribution, {@link Drift#status}) to {@code feature_drift},
 * warning above {@link Drift#WARN_PSI}. Builds the date's feature snapshot when it is missing or was built by other
 * feature code (but for the dates its caller says it has just built). Refuses with exit code 3, writing nothing,
 * when a snapshot's features do not match its model's fingerprint.
 */
public final class ScoreJob {
  /** What one scoring wrote: the model, customers scored, how many are high risk, and the drifted features. */
  public record Result(int modelVersion, long scored, long high, List<String> drifted) {}

  private record Scored(long rows, long high) {}

  private final StageContext ctx;
  /** Each date to score with its model version (null: the latest accepted), oldest first. */
  private final SortedMap<LocalDate, Integer> versions;
  /** Dates whose snapshot this run built just before scoring. */
  private final java.util.Set<LocalDate> built;

  /** Scores {@code asOf} with model {@code version}, or with the latest accepted one when it is null. */
  public ScoreJob(StageContext ctx, LocalDate asOf, Integer version) {
    this(ctx, java.util.Collections.singletonMap(asOf, version)); // a null version is allowed
  }

  /**
   * Scores several dates, each with its own model version, in one stage: one commit to {@code churn_scores} and
   * one to {@code feature_drift} for all of them (a night that rescored the dates late events touched made two
   * commits per date).
   */
  public ScoreJob(StageContext ctx, Map<LocalDate, Integer> versions) {
    this(ctx, versions, java.util.Set.of());
  }

  /**
   * As {@link #ScoreJob(StageContext, Map)}, where the run has just built the snapshots of {@code built} with the
   * current feature code (a night's {@link FeaturesJob}): they are not checked again (a query).
   */
  public ScoreJob(StageContext ctx, Map<LocalDate, Integer> versions, java.util.Collection<LocalDate> built) {
    if (versions.isEmpty()) {
      throw new IllegalArgumentException("no date to score");
    }
    this.ctx = ctx;
    this.versions = new TreeMap<>(versions);
    this.built = java.util.Set.copyOf(built);
  }

  /** Scores the one date this job was given. */
  public Result run() {
    return runAll().values().iterator().next();
  }

  /** Scores every date; its results by date, oldest first. */
  public SortedMap<LocalDate, Result> runAll() {
    Warehouse warehouse = ctx.warehouse();
    RunLog log = ctx.runLog();
    SortedMap<LocalDate, ModelRegistry.Loaded> models = new TreeMap<>();
    versions.forEach((d, v) -> models.put(d, ctx.registry().load(v)));
    // Missing, or built by older feature code: (re)built. A model trained on other features is then refused.
    List<LocalDate> unchecked = models.keySet().stream().filter(d -> !built.contains(d)).toList();
    List<LocalDate> stale = unchecked.isEmpty() ? List.of() : FeaturesJob.stale(warehouse, unchecked);
    if (!stale.isEmpty()) {
      new FeaturesJob(ctx, stale).run();
    }
    List<LocalDate> dates = List.copyOf(models.keySet());
    ObservedHistory history = new ObservedHistory(warehouse.dataRange().first());
    Dataset<Row> snapshots = warehouse.read(Table.CUSTOMER_FEATURES);
    Map<LocalDate, Dataset<Row>> features = new TreeMap<>();
    dates.forEach(d -> features.put(d, snapshots.where(col(FeatureBuilder.AS_OF_DATE).equalTo(lit(Date.valueOf(d))))));
    String used = models.values().stream().map(m -> "v" + m.spec().version()).distinct()
        .collect(Collectors.joining(", ", "model ", ""));
    // Rows read: every customer on every date scored (and the same for drift).
    long rows = warehouse.rows(Table.CUSTOMERS) * dates.size();
    Map<LocalDate, Scored> scored = log.stage("score", () -> CodeGeneration.forRows(warehouse.spark(), rows, () -> {
      Dataset<Row> scores = null;
      for (LocalDate d : dates) {
        ModelRegistry.Loaded loaded = models.get(d);
        Dataset<Row> one;
        try {
          one = ChurnScorer.score(features.get(d), loaded.model(), loaded.spec(), history, false);
        } catch (ChurnScorer.FeatureMismatch e) {
          throw ChurnException.badData(e.getMessage());
        }
        scores = scores == null ? one : scores.unionByName(one);
      }
      scores = scores.persist(StorageLevel.MEMORY_AND_DISK());
      try {
        warehouse.replaceDates(Table.CHURN_SCORES, scores, dates);
        Map<LocalDate, Scored> out = new TreeMap<>();
        dates.forEach(d -> out.put(d, new Scored(0, 0)));
        for (Row r : scores.groupBy(col(FeatureBuilder.AS_OF_DATE)).agg(count(lit(1)),
            sum(when(col(ChurnScorer.RISK_TIER).equalTo("high"), 1).otherwise(0))).collectAsList()) {
          out.put(r.getDate(0).toLocalDate(), new Scored(r.getLong(1), r.getLong(2)));
        }
        return out;
      } finally {
        scores.unpersist();
      }
    }), c -> {
      long n = c.values().stream().mapToLong(Scored::rows).sum();
      return new RunLog.StageResult(n, n, 0, used);
    });
    KillPoints.reached(KillPoints.SCORES_COMMITTED);
    int drifts = models.values().stream().mapToInt(m -> m.spec().drift().edges().size()).sum();
    Drifts drift = log.stage("drift",
        () -> CodeGeneration.forRows(warehouse.spark(), rows, () -> drift(features, models, history)),
        d -> new RunLog.StageResult(drifts, drifts, 0, d.shifted().values().stream().mapToInt(List::size).sum()
            + " feature(s) above PSI " + Drift.WARN_PSI + (d.byHistory() == 0 ? "" : ", " + d.byHistory()
            + " of them as the log grew")));
    Map<LocalDate, List<String>> drifted = drift.shifted();
    warehouse.refreshNames();
    SortedMap<LocalDate, Result> results = new TreeMap<>();
    for (LocalDate d : dates) {
      results.put(d, new Result(models.get(d).spec().version(), scored.get(d).rows(), scored.get(d).high(),
          drifted.get(d)));
    }
    return results;
  }

  /** The features that shifted, by date, and how many of those shifts the log's growth explains. */
  private record Drifts(Map<LocalDate, List<String>> shifted, int byHistory) {}

  /** Writes each date's drift rows in one commit. */
  private Drifts drift(Map<LocalDate, Dataset<Row>> features, Map<LocalDate, ModelRegistry.Loaded> models,
      ObservedHistory history) {
    List<Row> rows = new ArrayList<>();
    int[] byHistory = {0};
    Map<LocalDate, List<String>> drifted = new TreeMap<>();
    features.forEach((day, snapshot) -> {
      ModelSpec spec = models.get(day).spec();
      int v = spec.version();
      Map<String, Double> psi = Drift.psi(history.inputs(snapshot, spec), spec.drift().edges(), spec.drift().shares());
      // The history each snapshot saw, from the warehouse's first day: the earliest training snapshot's and today's.
      LocalDate trained = spec.split().trainDates().stream().map(LocalDate::parse).min(LocalDate::compareTo).orElse(day);
      long then = history.days(trained);
      long now = history.days(day);
      List<String> shifted = new ArrayList<>();
      psi.forEach((f, value) -> {
        // By the window, also for a scaled count: customers who signed up inside the log are not scaled, and on a
        // log whose signups are inferred from its first events they may be older than it (docs/model.md).
        String cause = Drift.cause(value, FeatureFacts.reach(f), then, now);
        if (value > Drift.WARN_PSI) {
          shifted.add(f);
          if (Drift.HISTORY.equals(cause)) {
            byHistory[0]++;
            ctx.console().printf(Locale.ROOT, "[score] note: feature %s moved (PSI %.2f > %.2f) as the log grew: its "
                + "window (%s) reaches back further than the %d days of history model v%d's first training snapshot "
                + "saw (%d days now): the log's age moves it, whatever the customers do%n", f, value, Drift.WARN_PSI,
                FeatureCatalogue.named(f).window(), then, v, now);
          } else {
            ctx.console().printf(Locale.ROOT, "[score] warning: feature %s drifted (PSI %.2f > %.2f) since model v%d "
                + "was trained%n", f, value, Drift.WARN_PSI, v);
          }
        }
        rows.add(RowFactory.create(Date.valueOf(day), v, f, value, Drift.status(value), cause));
      });
      drifted.put(day, shifted);
    });
    ctx.warehouse().replaceDates(Table.FEATURE_DRIFT,
        ctx.warehouse().spark().createDataFrame(rows, Table.FEATURE_DRIFT.schema()), features.keySet());
    return new Drifts(drifted, byHistory[0]);
  }
}
