package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.features.FeatureCatalogue;
import dev.churn.features.FeatureFacts;
import dev.churn.models.ModelSpec;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.EndToEnd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** train and score through the CLI on a generated log. */
@EndToEnd
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ModelJobTest extends JobsSuite {
  private static final String END = "2026-07-19";
  /** From this day on the generated customers log in a quarter as often (generate --activity-change). */
  private static final String CHANGE = "2026-08-05";
  private static Path out;
  private static String wh;

  @BeforeAll
  static void trainOnAGeneratedLog() {
    out = tempDir("model-gen");
    wh = tempDir("model-wh").toString();
    // 230 days, the last 14 with a quarter of the logins: the model is trained as of day 200 (END).
    assertEquals(0, cli("generate", "--out", out.toString(), "--customers", "600", "--days", "230", "--start",
        "2026-01-01", "--seed", "5", "--activity-change", CHANGE + "=0.25").exitCode());
    assertEquals(0, cli("--warehouse", wh, "ingest", "--events", out.resolve("events").toString(), "--customers",
        out.resolve("customers").toString()).exitCode());
    // One grid point: these tests are about what training registers and scoring writes; the choice among grid
    // points is ChurnModelTest's (a grid of two, fitted concurrently, in memory).
    CliRun train = cli("--warehouse", wh, "train", "--as-of", END, "--truth", out.resolve("truth").toString(),
        "--reg-params", "0.01", "--elastic-net-params", "0");
    assertEquals(0, train.exitCode(), train.err());
    System.out.println(train.out());
  }

  @Test
  void trainingRegistersAVersionWithItsMetricsAndFiles() {
    Warehouse w = new Warehouse(spark, wh);
    Row r = w.read(Table.MODEL_REGISTRY).first();
    assertEquals(1, r.<Integer>getAs("model_version"));
    assertEquals("2026-06-19", r.getAs("test_date").toString(), "test = as-of minus the horizon");
    assertEquals("test", r.getAs("evaluation"));
    assertEquals("2026-05-20", r.getAs("validation_date").toString(), "validation = test minus the horizon");
    assertEquals("2026-04-06,2026-04-20", r.getAs("train_dates"), "a horizon before validation, after the warm-up");
    for (String metric : List.of("roc_auc", "pr_auc", "log_loss", "brier", "baseline_roc_auc", "oracle_roc_auc",
        "validation_roc_auc", "validation_pr_auc")) {
      double v = r.<Double>getAs(metric);
      assertTrue(v >= 0 && v <= 1, metric + " " + v);
    }
    Path model = Path.of(w.root().replace("file:", "")).resolve("models/v1");
    // Beside MLlib's standard folder, the copy that scoring loads without a Spark job (LocalPipelines).
    assertTrue(Files.isDirectory(model.resolve("pipeline")) && Files.isDirectory(model.resolve("pipeline.local")));
    // 200 days of log: the 365-day payment count is left out (docs/features.md, "short history").
    List<String> inputs = r.getList(r.fieldIndex("feature_list"));
    assertEquals(FeatureCatalogue.features().size() - 1, inputs.size());
    assertTrue(!inputs.contains("payments_365d") && inputs.contains("active_days_365d"), inputs.toString());
  }

  @Test
  @Order(Integer.MAX_VALUE) // last: it rewrites the features with a changed type
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
    // A reason without a feature is "no single strong signal" (reasonsOnlyNameWhatIsRiskierThanTypical checks it).
    for (Row r : scores.selectExpr("explode(top_reasons) AS r").selectExpr("r.feature").where("feature IS NOT NULL")
        .collectAsList()) {
      assertTrue(names.contains(r.getString(0)), r.getString(0));
    }
    assertEquals(FeatureCatalogue.numeric().size() - 1, w.read(Table.FEATURE_DRIFT).where(col("as_of_date").equalTo(END))
        .count(), "every numeric input of the model");
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

  /**
   * #31: a model trained on a young warehouse (its earliest training snapshot saw 96 days of log) against its later
   * nights. While the customers behave as before, the log's growth moves no feature: no warning, no feature
   * shifted. Once they log in a quarter as often (from {@link #CHANGE}), drift warns, and says the customers moved.
   */
  @Test
  void aYoungWarehousesModelWarnsOfDriftOnlyWhenTheCustomersChange() {
    Warehouse w = new Warehouse(spark, wh);
    CliRun stationary = cli("--warehouse", wh, "score", "--as-of", "2026-08-04");
    assertEquals(0, stationary.exitCode(), stationary.err());
    assertTrue(!stationary.out().contains("warning") && !stationary.out().contains("note:"), stationary.out());
    assertEquals(0, w.read(Table.FEATURE_DRIFT).where(col("as_of_date").equalTo("2026-08-04")
        .and(col("status").equalTo("shifted"))).count(), stationary.out());

    CliRun changed = cli("--warehouse", wh, "score", "--as-of", "2026-08-18");
    assertEquals(0, changed.exitCode(), changed.err());
    assertTrue(changed.out().contains("[score] warning: feature logins_7d drifted"), changed.out());
    // The usage features move, not one: 7- and 30-day counts and the trends. (A recency over all history that
    // shifts with them says "history": a silence that began before the log reads longer on a younger one.)
    List<String> shifted = w.read(Table.FEATURE_DRIFT).where(col("as_of_date").equalTo("2026-08-18")
        .and(col("status").equalTo("shifted"))).select("feature").as(org.apache.spark.sql.Encoders.STRING())
        .collectAsList();
    assertTrue(shifted.containsAll(List.of("logins_30d", "sessions_7d", "active_days_7d", "logins_trend_7v28")),
        shifted.toString());
  }

  /** The high tier holds --high-risk-share (0.10 by default) of the customers on the dates the model scores. */
  @Test
  void theHighTierHoldsTheAskedShareOnScoringDates() {
    Warehouse w = new Warehouse(spark, wh);
    for (String date : List.of(END, "2026-07-05")) {
      CliRun score = cli("--warehouse", wh, "score", "--as-of", date);
      assertEquals(0, score.exitCode(), score.err());
      Row share = w.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(date))
          .selectExpr("avg(CASE WHEN risk_tier = 'high' THEN 1D ELSE 0D END)", "count(*)").first();
      System.out.printf("high tier on %s: %.4f of %d customers%n", date, share.getDouble(0), share.getLong(1));
      assertEquals(0.10, share.getDouble(0), 0.02, "high-tier share on " + date);
      // The count printed is the rows written, also when the write created the table (and its constraints).
      assertTrue(score.out().contains(": " + share.getLong(1) + " customers scored"), score.out());
    }
  }

  /**
   * A reason is a feature that raises this customer's risk above the population's: never a silence shorter than
   * the typical customer's, never activity above the typical customer's; a customer with none says so.
   */
  @Test
  void reasonsOnlyNameWhatIsRiskierThanTypical() {
    assertEquals(0, cli("--warehouse", wh, "score", "--as-of", END).exitCode());
    Warehouse w = new Warehouse(spark, wh);
    ModelSpec spec = ModelSpec.fromJson(w.read(Table.MODEL_REGISTRY).first().getAs("spec_json"));
    Map<String, Double> typical = spec.explanation().typical();
    Dataset<Row> scores = w.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(END));
    assertEquals(0, scores.where("size(top_reasons) = 0").count(), "every customer has a reason or 'no single strong signal'");
    List<Row> reasons = scores.selectExpr("explode(top_reasons) AS r").selectExpr("r.feature", "r.value", "r.phrase")
        .collectAsList();
    Set<String> silenceIsRisk = Set.of("days_since_last_activity", "days_since_last_login", "days_since_last_payment");
    Set<String> activityIsSafety = Set.of("logins_30d", "events_30d", "active_days_30d", "sessions_30d",
        "active_days_90d", "events_90d");
    int named = 0;
    int none = 0;
    for (Row r : reasons) {
      if (r.isNullAt(0)) {
        assertEquals("no single strong signal", r.getString(2));
        none++;
        continue;
      }
      named++;
      String f = r.getString(0);
      assertTrue(!r.getString(2).contains(" for 0 days"), r.getString(2));
      if (silenceIsRisk.contains(f)) {
        assertTrue(Double.parseDouble(r.getString(1)) > typical.get(f), r.getString(2) + " vs typical " + typical.get(f));
      }
      if (activityIsSafety.contains(f)) {
        assertTrue(Double.parseDouble(r.getString(1)) < typical.get(f), r.getString(2) + " vs typical " + typical.get(f));
      }
      if (typical.containsKey(f) && !FeatureCatalogue.named(f).unit().equals("flag")) {
        assertTrue(r.getString(2).contains("(typical: "), r.getString(2));
      }
    }
    // #31: no customer's reasons state one fact twice (ReasonsTest pins what that means), and a day is singular.
    for (Row c : scores.select("customer_id", "top_reasons").collectAsList()) {
      List<Row> own = c.getList(1);
      for (int i = 0; i < own.size(); i++) {
        assertTrue(!own.get(i).getString(3).matches(".*\\b1 days\\b.*"), own.get(i).getString(3));
        for (int j = i + 1; j < own.size(); j++) {
          assertTrue(!FeatureFacts.sameFact(own.get(i).getString(0), own.get(i).getString(1),
              own.get(j).getString(0), own.get(j).getString(1)), c.getString(0) + " repeats a fact: " + own);
        }
      }
    }
    System.out.printf("reasons on %s: %d named, %d customers with no single strong signal%n", END, named, none);
    assertTrue(named > 0, "some customers have reasons");
  }
}
