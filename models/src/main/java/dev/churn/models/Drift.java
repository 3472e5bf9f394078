package dev.churn.models;

import static org.apache.spark.sql.functions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

/**
 * Feature drift as the population stability index (PSI) of each numeric feature against its training
 * distribution: bins are the training deciles (ties merged), PSI = sum((a - e) * ln(a / e)) over bins with
 * shares floored at 1e-4. Common reading: below 0.1 stable, 0.1 to 0.25 moderate, above 0.25 a shift worth a look.
 */
public final class Drift {
  private Drift() {}

  public static final double WARN_PSI = 0.25;
  /** Above this PSI a feature has moved a little ("moderate"); above {@link #WARN_PSI} it has shifted. */
  public static final double MODERATE_PSI = 0.1;
  private static final double FLOOR = 1e-4;

  /** The reading of a PSI: {@code stable}, {@code moderate} (above 0.1) or {@code shifted} (above 0.25). */
  public static String status(double psi) {
    return psi > WARN_PSI ? "shifted" : psi > MODERATE_PSI ? "moderate" : "stable";
  }

  /** A moved feature's cause: the customers changed, as far as the feature can tell. */
  public static final String POPULATION = "population";
  /** A moved feature's cause: its window reaches back further than the model's training saw, and the log grew. */
  public static final String HISTORY = "history";

  /**
   * Why a feature moved (moderate or shifted): {@link #HISTORY} when it reaches back further than the history the
   * model's earliest training snapshot saw ({@code historyAtTraining} days, counted from the warehouse's first
   * day) and the scoring date sees more ({@code historyNow}): a count over 365 days, or over all history, on a
   * log of 91 days grows as the log does, whatever the customers do; {@link #POPULATION} otherwise. Null for a
   * stable feature. A history cause does not say the customers are unchanged: the feature cannot tell.
   */
  public static String cause(double psi, int reachDays, long historyAtTraining, long historyNow) {
    if (status(psi).equals("stable")) {
      return null;
    }
    return reachDays > historyAtTraining && historyNow > historyAtTraining ? HISTORY : POPULATION;
  }

  /** Decile edges and the training share of rows in each bin, per feature. */
  public record Reference(Map<String, double[]> edges, Map<String, double[]> shares) {}

  public static Reference reference(Dataset<Row> data, List<String> features) {
    double[] probs = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
    double[][] quantiles = data.na().fill(0.0, features.toArray(String[]::new)).stat()
        .approxQuantile(features.toArray(String[]::new), probs, 0.001);
    Map<String, double[]> edges = new LinkedHashMap<>();
    for (int i = 0; i < features.size(); i++) {
      edges.put(features.get(i), Arrays.stream(quantiles[i]).distinct().sorted().toArray());
    }
    return new Reference(edges, shares(data, edges));
  }

  /**
   * The share of rows in each bin of {@code edges}, per feature: one pass over the data, the rows unpivoted to
   * (feature, value) and binned by {@link Bin}. (Binning with a CASE per edge inline made one generated method of
   * every feature's comparisons, which Janino failed to compile on every scoring, after seconds of trying, and
   * a 1 MB task binary.)
   */
  public static Map<String, double[]> shares(Dataset<Row> data, Map<String, double[]> edges) {
    List<Column> items = new ArrayList<>();
    for (String f : edges.keySet()) {
      items.add(struct(lit(f).as("feature"), coalesce(col(f).cast("double"), lit(0.0)).as("x")));
    }
    UserDefinedFunction bin = udf(new Bin(edges), DataTypes.IntegerType);
    Dataset<Row> counts = data.select(explode(array(items.toArray(Column[]::new))).as("fx"))
        .groupBy(col("fx.feature"), bin.apply(col("fx.feature"), col("fx.x")).as("bin")).count();
    List<Row> rows = counts.collectAsList();
    // Every row gives each feature exactly one item, so one feature's bins add up to the row count: no second pass.
    String first = edges.keySet().stream().findFirst().orElse(null);
    long total = rows.stream().filter(r -> r.getString(0).equals(first)).mapToLong(r -> r.getLong(2)).sum();
    Map<String, double[]> out = new LinkedHashMap<>();
    edges.forEach((f, e) -> out.put(f, new double[e.length + 1]));
    for (Row r : rows) {
      out.get(r.getString(0))[r.getInt(1)] = total == 0 ? 0 : (double) r.getLong(2) / total;
    }
    return out;
  }

  /** A value's bin among a feature's sorted edges: how many edges it is above. */
  static final class Bin implements UDF2<String, Double, Integer> {
    private final Map<String, double[]> edges;

    Bin(Map<String, double[]> edges) {
      this.edges = new java.util.HashMap<>(edges);
    }

    @Override
    public Integer call(String feature, Double x) {
      int bin = 0;
      for (double edge : edges.get(feature)) {
        if (x > edge) {
          bin++;
        }
      }
      return bin;
    }
  }

  public static double psi(double[] expected, double[] actual) {
    double psi = 0;
    for (int i = 0; i < expected.length; i++) {
      double e = Math.max(expected[i], FLOOR);
      double a = Math.max(actual[i], FLOOR);
      psi += (a - e) * Math.log(a / e);
    }
    return psi;
  }

  /** PSI of every reference feature in {@code current} against the reference. */
  public static Map<String, Double> psi(Dataset<Row> current, Map<String, double[]> edges, Map<String, double[]> reference) {
    Map<String, double[]> now = shares(current, edges);
    Map<String, Double> out = new LinkedHashMap<>();
    edges.keySet().forEach(f -> out.put(f, psi(reference.get(f), now.get(f))));
    return out;
  }
}
