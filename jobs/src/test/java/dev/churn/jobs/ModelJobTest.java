package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.features.FeatureCatalogue;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** train and score through the CLI on a generated log. */
class ModelJobTest extends JobsSuite {
  private static final String END = "2026-06-09";
  private static Path out;
  private static String wh;

  @BeforeAll
  static void trainOnAGeneratedLog() {
    out = tempDir("model-gen");
    wh = tempDir("model-wh").toString();
    assertEquals(0, cli("generate", "--out", out.toString(), "--customers", "600", "--days", "160", "--start",
        "2026-01-01", "--seed", "5").exitCode());
    assertEquals(0, cli("--warehouse", wh, "ingest", "--events", out.resolve("events").toString(), "--customers",
        out.resolve("customers").toString()).exitCode());
    CliRun train = cli("--warehouse", wh, "train", "--as-of", END, "--truth", out.resolve("truth").toString());
    assertEquals(0, train.exitCode(), train.err());
    System.out.println(train.out());
  }

  @Test
  void trainingRegistersAVersionWithItsMetricsAndFiles() {
    Warehouse w = new Warehouse(spark, wh);
    Row r = w.read(Table.MODEL_REGISTRY).first();
    assertEquals(1, r.<Integer>getAs("model_version"));
    assertEquals("2026-05-10", r.getAs("validation_date").toString(), "validation = as-of minus the horizon");
    assertEquals("2026-04-10", r.getAs("train_dates"), "one horizon before validation, after the 90-day warm-up");
    for (String metric : List.of("roc_auc", "pr_auc", "log_loss", "brier", "baseline_roc_auc", "oracle_roc_auc")) {
      double v = r.<Double>getAs(metric);
      assertTrue(v >= 0 && v <= 1, metric + " " + v);
    }
    assertTrue(Files.isDirectory(Path.of(w.root().replace("file:", "")).resolve("models/v1/pipeline")));
    assertEquals(FeatureCatalogue.features().size(), r.getList(r.fieldIndex("feature_list")).size());
  }

  @Test
  void scoringCoversEveryActiveCustomerIsRepeatableAndRefusesChangedFeatures() {
    CliRun first = cli("--warehouse", wh, "score", "--as-of", END);
    assertEquals(0, first.exitCode(), first.err());
    Warehouse w = new Warehouse(spark, wh);
    Dataset<Row> scores = w.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(END));
    long active = w.read(Table.CUSTOMERS).where(col("signup_date").leq(END)
        .and(col("cancelled_on").isNull().or(col("cancelled_on").gt(END)))).count();
    assertEquals(active, scores.count());
    assertEquals(0, scores.where(col("churn_probability").lt(0).or(col("churn_probability").gt(1))).count());
    Set<String> tiers = scores.select("risk_tier").distinct().collectAsList().stream().map(x -> x.getString(0))
        .collect(Collectors.toSet());
    assertTrue(Set.of("high", "medium", "low").containsAll(tiers), tiers.toString());
    Set<String> names = FeatureCatalogue.features().stream().map(FeatureCatalogue.Feature::name).collect(Collectors.toSet());
    for (Row r : scores.selectExpr("explode(top_reasons) AS r").selectExpr("r.feature").collectAsList()) {
      assertTrue(names.contains(r.getString(0)), r.getString(0));
    }
    assertEquals(FeatureCatalogue.numeric().size(), w.read(Table.FEATURE_DRIFT).where(col("as_of_date").equalTo(END)).count());
    List<Row> before = scores.orderBy("customer_id").collectAsList();

    assertEquals(0, cli("--warehouse", wh, "score", "--as-of", END).exitCode());
    assertEquals(before, w.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(END)).orderBy("customer_id")
        .collectAsList(), "a rerun leaves the same rows");

    // A feature build that writes tenure_days as an integer no longer fits model v1.
    w.read(Table.CUSTOMER_FEATURES).withColumn("tenure_days", col("tenure_days").cast("int")).localCheckpoint()
        .write().format("delta").mode(SaveMode.Overwrite).option("overwriteSchema", "true")
        .partitionBy("as_of_date").save(w.path(Table.CUSTOMER_FEATURES));
    CliRun refused = cli("--warehouse", wh, "score", "--as-of", END);
    assertEquals(3, refused.exitCode());
    assertEquals("churn: the features do not match model v1 (changed [tenure_days is int, not double]): rebuild them "
        + "with this version's feature code, or retrain\n", refused.err());
    assertEquals(before, w.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(END)).orderBy("customer_id")
        .collectAsList(), "nothing written");
  }
}
