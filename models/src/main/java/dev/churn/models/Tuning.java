package dev.churn.models;

import dev.churn.features.Labels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The regularisation of the churn model, chosen on the out-of-time validation snapshot by PR-AUC: every point of
 * the grid (regParam x elasticNetParam) fitted on the training snapshots, the first point with the highest PR-AUC
 * kept (grid order breaks ties).
 */
final class Tuning {
  private Tuning() {}

  /** The chosen point, its validation metrics, and the table of every point's (the spec's tuning table). */
  record Choice(double regParam, double elasticNetParam, Map<String, Double> metrics,
      List<Map<String, Double>> table) {}

  /**
   * Fits every grid point on {@code weightedTrain} and scores {@code validation} with each, calibrated by
   * {@code offset}; the vectors both are prepared into come in at most {@code partitions} partitions
   * ({@link ChurnTrainer#ROWS_PER_PARTITION}).
   */
  static Choice choose(Dataset<Row> weightedTrain, Dataset<Row> validation, double offset, int partitions,
      ChurnTrainer.Config config, List<String> numeric, List<String> categorical) {
    // The preparation stages do not depend on the regularisation, so they are fitted once and every grid point
    // reads the same vectors.
    PipelineModel prep = Preparation.fit(weightedTrain, numeric, categorical);
    Dataset<Row> trainVectors = ChurnTrainer.optimiserInput(prep.transform(weightedTrain).select(ChurnTrainer.SCALED,
        Labels.LABEL, ChurnTrainer.WEIGHT), partitions);
    Dataset<Row> validationVectors = ChurnTrainer.optimiserInput(prep.transform(validation), partitions);
    // The grid points are fitted concurrently (as MLlib's TrainValidationSplit.setParallelism does): each
    // optimiser iteration is a small Spark job whose time is mostly scheduling, which two fits overlap. Each
    // fit is independent, and the choice is made in grid order afterwards, so the result does not depend on it.
    List<double[]> grid = new ArrayList<>();
    for (double reg : config.regParams()) {
      for (double en : config.elasticNetParams()) {
        grid.add(new double[] {reg, en});
      }
    }
    List<BinaryMetrics.Result> results = inParallel(grid, point -> {
      LogisticRegressionModel m = ChurnTrainer.logisticRegression(point[0], point[1], config).fit(trainVectors);
      Dataset<Row> scored = m.transform(validationVectors)
          .withColumn(ChurnTrainer.PROBABILITY, ChurnTrainer.calibrated(offset));
      return BinaryMetrics.compute(scored, ChurnTrainer.PROBABILITY, Labels.LABEL, true);
    });
    // No unpersist: checkpointed Datasets are not in the cache manager; Spark's context cleaner drops their blocks
    // once nothing refers to them (after this method), as it does FeaturesJob's checkpointed states.
    List<Map<String, Double>> table = new ArrayList<>();
    for (int i = 0; i < grid.size(); i++) {
      Map<String, Double> metrics = results.get(i).metrics();
      Map<String, Double> row = new LinkedHashMap<>();
      row.put("reg_param", grid.get(i)[0]);
      row.put("elastic_net_param", grid.get(i)[1]);
      row.put("pr_auc", metrics.get("pr_auc"));
      row.put("roc_auc", metrics.get("roc_auc"));
      table.add(row);
    }
    int best = best(results.stream().map(r -> r.metrics().get("pr_auc")).toList());
    return new Choice(grid.get(best)[0], grid.get(best)[1], results.get(best).metrics(), table);
  }

  /** The index of the first of the highest PR-AUCs: on a tie the point earlier in the grid is chosen. */
  static int best(List<Double> prAucs) {
    int best = 0;
    for (int i = 1; i < prAucs.size(); i++) {
      if (prAucs.get(i) > prAucs.get(best)) {
        best = i;
      }
    }
    return best;
  }

  /**
   * How many grid points are fitted at once. (Three or six at once measured no better than two on 2 cores for a
   * demo-sized train stage, within a few seconds, and each fit holds its own blocks of the training vectors.)
   */
  static final int GRID_PARALLELISM = 2;

  /** {@code fit} applied to each of {@code points}, {@link #GRID_PARALLELISM} at a time; results in order. */
  static <P, R> List<R> inParallel(List<P> points, java.util.function.Function<P, R> fit) {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(
        Math.max(1, Math.min(GRID_PARALLELISM, points.size())));
    try {
      List<java.util.concurrent.Future<R>> futures = new ArrayList<>();
      for (P p : points) {
        futures.add(pool.submit(() -> fit.apply(p)));
      }
      List<R> out = new ArrayList<>();
      for (java.util.concurrent.Future<R> f : futures) {
        out.add(f.get());
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while fitting the grid", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }
}
