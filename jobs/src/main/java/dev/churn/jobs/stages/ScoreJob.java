package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.churn.features.FeatureBuilder;
import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.ModelRegistry;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.ChurnScorer;
import dev.churn.models.Drift;
import java.io.PrintWriter;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Scores every customer active on a date with the latest registered model (or a given version) into
 * {@code churn_scores} (partitioned by as_of_date; a rerun replaces that date), and writes each numeric
 * feature's drift (PSI against the model's training distribution) to {@code feature_drift}, warning above
 * {@link Drift#WARN_PSI}. Builds the date's feature snapshot when it is missing or was built by other feature code. Refuses with exit code 3,
 * writing nothing, when the snapshot's features do not match the model's fingerprint.
 */
public final class ScoreJob {
  public static final StructType DRIFT_SCHEMA = new StructType()
      .add("as_of_date", DataTypes.DateType, false)
      .add("model_version", DataTypes.IntegerType, false)
      .add("feature", DataTypes.StringType, false)
      .add("psi", DataTypes.DoubleType)
      .add("status", DataTypes.StringType);

  public record Result(int modelVersion, long scored, long high, List<String> drifted) {}

  private final Warehouse warehouse;
  private final RunLog runLog;
  private final LocalDate asOf;
  private final Integer version;
  private final PrintWriter console;

  public ScoreJob(Warehouse warehouse, RunLog runLog, LocalDate asOf, Integer version, PrintWriter console) {
    this.warehouse = warehouse;
    this.runLog = runLog;
    this.asOf = asOf;
    this.version = version;
    this.console = console;
  }

  public Result run() {
    ModelRegistry.Loaded loaded = new ModelRegistry(warehouse).load(version);
    Date day = Date.valueOf(asOf);
    if (!FeaturesJob.current(warehouse, asOf)) {
      // Missing, or built by older feature code: (re)built. A model trained on other features is then refused.
      new FeaturesJob(warehouse, runLog, asOf).run();
    }
    Dataset<Row> features = warehouse.read(Table.CUSTOMER_FEATURES).where(col(FeatureBuilder.AS_OF_DATE).equalTo(lit(day)));
    Result[] out = new Result[1];
    runLog.stage("score", () -> {
      Dataset<Row> scores;
      try {
        scores = ChurnScorer.score(features, loaded.model(), loaded.spec(), false);
      } catch (ChurnScorer.FeatureMismatch e) {
        throw ChurnException.badData(e.getMessage());
      }
      warehouse.replaceWhere(Table.CHURN_SCORES, scores, "as_of_date = DATE'" + asOf + "'", "as_of_date");
      Dataset<Row> written = warehouse.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(lit(day)));
      long n = written.count();
      long high = written.where(col(ChurnScorer.RISK_TIER).equalTo("high")).count();
      out[0] = new Result(loaded.spec().version(), n, high, List.of());
      return new RunLog.StageResult(n, n, 0, "model v" + loaded.spec().version());
    });
    List<String> drifted = new ArrayList<>();
    runLog.stage("drift", () -> {
      Map<String, Double> psi = Drift.psi(features, loaded.spec().driftEdges(), loaded.spec().driftShares());
      List<Row> rows = new ArrayList<>();
      psi.forEach((f, v) -> {
        String status = v > Drift.WARN_PSI ? "shifted" : v > 0.1 ? "moderate" : "stable";
        if (v > Drift.WARN_PSI) {
          drifted.add(f);
          console.printf(Locale.ROOT, "[score] warning: feature %s drifted (PSI %.2f > %.2f) since model v%d was trained%n",
              f, v, Drift.WARN_PSI, loaded.spec().version());
        }
        rows.add(RowFactory.create(day, loaded.spec().version(), f, v, status));
      });
      warehouse.replaceWhere(Table.FEATURE_DRIFT, warehouse.spark().createDataFrame(rows, DRIFT_SCHEMA),
          "as_of_date = DATE'" + asOf + "'", "as_of_date");
      return new RunLog.StageResult(psi.size(), rows.size(), 0, drifted.size() + " feature(s) above PSI " + Drift.WARN_PSI);
    });
    warehouse.registerAll();
    return new Result(out[0].modelVersion(), out[0].scored(), out[0].high(), drifted);
  }
}
