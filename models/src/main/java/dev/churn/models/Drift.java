package dev.churn.models;

import static org.apache.spark.sql.functions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

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
   * The share of rows in each bin of {@code edges}, per feature (a null counts as 0): one pass over the data, each
   * partition counting every feature's bins in arrays ({@link BinCounts}), the partitions' counts added up. (Rows
   * unpivoted to (feature, value) and grouped by a UDF's bin cost 14.5 s of a CDNOW training, 212,130 rows of 45
   * features, mostly hashing 9.5 million items into an aggregation map; a CASE per edge inline made one generated
   * method of every feature's comparisons, which Janino failed to compile.)
   */
  public static Map<String, double[]> shares(Dataset<Row> data, Map<String, double[]> edges) {
    List<String> features = new ArrayList<>(edges.keySet());
    Map<String, double[]> out = new LinkedHashMap<>();
    edges.forEach((f, e) -> out.put(f, new double[e.length + 1]));
    if (features.isEmpty()) {
      return out;
    }
    double[][] sorted = features.stream().map(edges::get).toArray(double[][]::new);
    // One array per partition, added up here (a data set may have no partition at all).
    long[][] counts = BinCounts.zero(sorted);
    for (long[][] partition : data.select(features.stream().map(f -> coalesce(col(f).cast("double"), lit(0.0)))
        .toArray(Column[]::new)).javaRDD().mapPartitions(new BinCounts(sorted)).collect()) {
      BinCounts.add(counts, partition);
    }
    // Every row gives each feature exactly one bin, so one feature's bins add up to the row count.
    long total = Arrays.stream(counts[0]).sum();
    for (int i = 0; i < features.size(); i++) {
      double[] shares = out.get(features.get(i));
      for (int b = 0; b < shares.length; b++) {
        shares[b] = total == 0 ? 0 : (double) counts[i][b] / total;
      }
    }
    return out;
  }

  /** Per feature, the rows of a partition in each bin: a value's bin is how many of its sorted edges it is above. */
  static final class BinCounts implements FlatMapFunction<Iterator<Row>, long[][]> {
    private final double[][] edges;

    BinCounts(double[][] edges) {
      this.edges = edges;
    }

    @Override
    public Iterator<long[][]> call(Iterator<Row> rows) {
      long[][] counts = zero(edges);
      while (rows.hasNext()) {
        Row r = rows.next();
        for (int i = 0; i < edges.length; i++) {
          counts[i][bin(edges[i], r.getDouble(i))]++;
        }
      }
      return java.util.Collections.singletonList(counts).iterator();
    }

    /** No row in any bin. */
    static long[][] zero(double[][] edges) {
      long[][] counts = new long[edges.length][];
      for (int i = 0; i < edges.length; i++) {
        counts[i] = new long[edges[i].length + 1];
      }
      return counts;
    }

    static int bin(double[] edges, double x) {
      int bin = 0;
      for (double edge : edges) {
        if (x > edge) {
          bin++;
        }
      }
      return bin;
    }

    /** Adds {@code b} to {@code a}, bin by bin. */
    static void add(long[][] a, long[][] b) {
      for (int i = 0; i < a.length; i++) {
        for (int j = 0; j < a[i].length; j++) {
          a[i][j] += b[i][j];
        }
      }
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
