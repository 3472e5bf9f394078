package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.churn.features.FeatureBuilder;
import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.KillPoints;
import dev.churn.jobs.warehouse.ModelRegistry;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.ChurnScorer;
import dev.churn.models.Drift;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.storage.StorageLevel;

/**
 * Scores every customer active on a date with the latest accepted model (or a given version) into
 * {@code churn_scores} (partitioned by as_of_date; a rerun replaces that date), and writes each numeric
 * feature's drift (PSI against the model's training distribution, {@link Drift#status}) to {@code feature_drift},
 * warning above {@link Drift#WARN_PSI}. Builds the date's feature snapshot when it is missing or was built by other
 * feature code. Refuses with exit code 3, writing nothing, when the snapshot's features do not match the model's
 * fingerprint.
 */
public final class ScoreJob {
  /** What one scoring wrote: the model, customers scored, how many are high risk, and the drifted features. */
  public record Result(int modelVersion, long scored, long high, List<String> drifted) {}

  private record Scored(long rows, long high) {}

  private final StageContext ctx;
  private final LocalDate asOf;
  private final Integer version;

  /** Scores {@code asOf} with model {@code version}, or with the latest accepted one when it is null. */
  public ScoreJob(StageContext ctx, LocalDate asOf, Integer version) {
    this.ctx = ctx;
    this.asOf = asOf;
    this.version = version;
  }

  public Result run() {
    Warehouse warehouse = ctx.warehouse();
    RunLog log = ctx.runLog();
    ModelRegistry.Loaded loaded = ctx.registry().load(version);
    int v = loaded.spec().version();
    if (!FeaturesJob.current(warehouse, asOf)) {
      // Missing, or built by older feature code: (re)built. A model trained on other features is then refused.
      new FeaturesJob(ctx, asOf).run();
    }
    Dataset<Row> features = warehouse.read(Table.CUSTOMER_FEATURES)
        .where(col(FeatureBuilder.AS_OF_DATE).equalTo(lit(Date.valueOf(asOf))));
    Scored scored = log.stage("score", () -> {
      Dataset<Row> scores;
      try {
        scores = ChurnScorer.score(features, loaded.model(), loaded.spec(), false).persist(StorageLevel.MEMORY_AND_DISK());
      } catch (ChurnScorer.FeatureMismatch e) {
        throw ChurnException.badData(e.getMessage());
      }
      try {
        long n = warehouse.replaceDates(Table.CHURN_SCORES, scores, List.of(asOf));
        return new Scored(n, scores.where(col(ChurnScorer.RISK_TIER).equalTo("high")).count());
      } finally {
        scores.unpersist();
      }
    }, c -> new RunLog.StageResult(c.rows(), c.rows(), 0, "model v" + v));
    KillPoints.reached(KillPoints.SCORES_COMMITTED);
    List<String> drifted = log.stage("drift", () -> drift(features, loaded),
        d -> new RunLog.StageResult(loaded.spec().drift().edges().size(), loaded.spec().drift().edges().size(), 0,
            d.size() + " feature(s) above PSI " + Drift.WARN_PSI));
    warehouse.registerAll();
    return new Result(v, scored.rows(), scored.high(), drifted);
  }

  /** Writes the date's drift rows; returns the features that shifted. */
  private List<String> drift(Dataset<Row> features, ModelRegistry.Loaded loaded) {
    int v = loaded.spec().version();
    Map<String, Double> psi = Drift.psi(features, loaded.spec().drift().edges(), loaded.spec().drift().shares());
    List<Row> rows = new ArrayList<>();
    List<String> drifted = new ArrayList<>();
    psi.forEach((f, value) -> {
      if (value > Drift.WARN_PSI) {
        drifted.add(f);
        ctx.console().printf(Locale.ROOT, "[score] warning: feature %s drifted (PSI %.2f > %.2f) since model v%d was "
            + "trained%n", f, value, Drift.WARN_PSI, v);
      }
      rows.add(RowFactory.create(Date.valueOf(asOf), v, f, value, Drift.status(value)));
    });
    ctx.warehouse().replaceDates(Table.FEATURE_DRIFT,
        ctx.warehouse().spark().createDataFrame(rows, Table.FEATURE_DRIFT.schema()), List.of(asOf));
    return drifted;
  }
}
