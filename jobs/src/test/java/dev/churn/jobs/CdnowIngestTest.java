package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.sum;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.features.ChurnDefinition;
import dev.churn.features.Labels;
import dev.churn.jobs.warehouse.Settings;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.EndToEnd;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The real CDNOW log through the mapping file shipped in mappings/cdnow.json. */
@EndToEnd
class CdnowIngestTest extends JobsSuite {

  /** 69,659 purchases and snapshots of up to 23,570 customers: enough rows for compiled plans to pay. */
  @org.junit.jupiter.api.BeforeAll
  static void compiledPlans() {
    compiled();
  }

  @Test
  void everyPurchaseIsAcceptedIdenticalLinesStaySeparateAndReingestAddsNothing() throws Exception {
    Path log = Path.of(getClass().getResource("/cdnow/CDNOW_master.txt").toURI());
    Path mapping = repoRoot().resolve("mappings/cdnow.json");
    Path wh = tempDir("cdnow-wh");
    String[] args = {"--warehouse", wh.toString(), "ingest", "--events", log.toString(), "--mapping", mapping.toString()};
    CliRun first = cli(args);
    assertEquals(0, first.exitCode(), first.err());

    Warehouse w = new Warehouse(spark, wh.toString());
    assertEquals(69_659, w.read(Table.EVENTS).count());
    assertEquals(0, w.read(Table.EVENTS_QUARANTINE).count());
    assertEquals(23_570, w.read(Table.CUSTOMERS).count());
    Row totals = w.read(Table.EVENTS).agg(sum("quantity"), sum("amount")).first();
    assertEquals(167_881L, totals.getLong(0));
    assertEquals(2_500_316.0, Math.round(totals.getDouble(1)), 1.0);
    Row c3 = w.read(Table.CUSTOMERS).where(col("customer_id").equalTo("00003")).first();
    assertEquals("1997-01-02", c3.getAs("signup_date").toString());
    assertEquals("retail", c3.getAs("industry"));

    CliRun again = cli(args);
    assertEquals(0, again.exitCode(), again.err());
    assertEquals(69_659, w.read(Table.EVENTS).count());
    assertEquals(0, w.read(Table.EVENTS_QUARANTINE).count());
    assertEquals(23_570, w.read(Table.CUSTOMERS).count());

    // The model on the real log, validated out of time on 1998-01-01 and tested on 1998-04-01 (labels to
    // 1998-06-30). One grid point and two training snapshots: the yardstick is the test's below.
    ChurnDefinition churn = Settings.churn(w);
    assertEquals(ChurnDefinition.inactivity(90), churn);
    CliRun train = cli("--warehouse", wh.toString(), "train", "--as-of", "1998-06-30", "--reg-params", "0.001",
        "--elastic-net-params", "0", "--snapshots", "2");
    assertEquals(0, train.exitCode(), train.err());
    System.out.println("CDNOW " + train.out());
    Row model = w.read(Table.MODEL_REGISTRY).first();

    // The snapshots it trained on: one row per customer with a purchase in the 90 days to the date, and 90-day
    // inactivity labels.
    for (String asOf : List.of(model.getAs("validation_date").toString(), model.getAs("test_date").toString())) {
      Dataset<Row> snapshot = w.read(Table.CUSTOMER_FEATURES).where(col("as_of_date").equalTo(asOf));
      long activeInWindow = w.read(Table.EVENTS).where(col("event_date").leq(asOf)
          .and(col("event_date").gt(java.sql.Date.valueOf(LocalDate.parse(asOf).minusDays(90))))).select("customer_id")
          .distinct().count();
      assertEquals(activeInWindow, snapshot.count(), "one row per customer with a purchase in the 90 days to " + asOf);
      Row rate = Labels.label(snapshot, w.read(Table.CUSTOMERS), w.read(Table.DAILY_ACTIVITY), churn, 90)
          .agg(avg("label"), count("*")).first();
      System.out.printf("CDNOW %s: %d active customers, churn rate over the next 90 days %.3f%n", asOf,
          rate.getLong(1), rate.getDouble(0));
      assertTrue(rate.getDouble(0) > 0.2 && rate.getDouble(0) < 0.9, "churn rate " + rate.getDouble(0));
    }
    double auc = model.<Double>getAs("roc_auc");
    assertTrue(auc > 0.7, "CDNOW ROC-AUC " + auc);
    assertTrue(auc >= model.<Double>getAs("baseline_roc_auc") - 0.005, "the model ranks at least as well as recency alone");
  }

  /**
   * docs/domain.md's CDNOW yardstick under its own definitions: population = every customer with a purchase on or before
   * the date (mappings/cdnow-ever-active.json), churn = no purchase in the next 90 days, tested on 1998-03-31 with
   * a model fitted on snapshots up to 1997-12-31. Logistic regression reached ROC-AUC 0.838 there (recency alone
   * 0.828).
   */
  @Test
  void theModelReachesTheDomainYardstickOnItsPopulation() throws Exception {
    Path log = Path.of(getClass().getResource("/cdnow/CDNOW_master.txt").toURI());
    Path mapping = repoRoot().resolve("mappings/cdnow-ever-active.json");
    Path wh = tempDir("cdnow-ever");
    assertEquals(0, cli("--warehouse", wh.toString(), "ingest", "--events", log.toString(), "--mapping",
        mapping.toString()).exitCode());
    Warehouse w = new Warehouse(spark, wh.toString());
    assertEquals(ChurnDefinition.inactivityEverActive(90), Settings.churn(w));

    CliRun conflict = cli("--warehouse", wh.toString(), "train", "--as-of", "1998-06-29", "--horizon-days", "30");
    assertEquals(2, conflict.exitCode(), conflict.err());
    assertTrue(conflict.err().contains("--horizon-days 30") && conflict.err().contains("90 days"), conflict.err());

    // Test on 1998-03-31 (labels to 1998-06-29), validation on 1997-12-31, training every 30 days from 1997-10-02
    // back; the registered model is refitted on training and validation, as the yardstick was fitted. One grid
    // point, the one the default grid chooses here by its validation PR-AUC (0.943): the same coefficients,
    // thresholds and figures as the default grid's, to the last digit (the spec's tuning table holds one row), without
    // the five other fits; the grid's choice is ChurnModelTest's, in memory, and TuningTest's.
    CliRun train = cli("--warehouse", wh.toString(), "train", "--as-of", "1998-06-29", "--snapshot-step-days", "30",
        "--snapshots", "7", "--reg-params", "0.001", "--elastic-net-params", "0");
    assertEquals(0, train.exitCode(), train.err());
    System.out.println("CDNOW, every customer seen: " + train.out());
    Row model = w.read(Table.MODEL_REGISTRY).first();
    assertEquals("1998-03-31", model.getAs("test_date").toString());
    assertEquals("1997-12-31", model.getAs("validation_date").toString());
    assertEquals("test", model.getAs("evaluation"));
    dev.churn.models.ModelSpec spec = dev.churn.models.ModelSpec.fromJson(model.getAs("spec_json"));
    assertEquals(23_570, spec.quality().test().get("customers"), 0.5, "every CDNOW customer is in the population");
    assertEquals(0.86, spec.quality().test().get("base_rate"), 0.01, "86 % churn, as in docs/domain.md");
    double recency = model.<Double>getAs("baseline_roc_auc");
    double auc = model.<Double>getAs("roc_auc");
    assertEquals(0.828, recency, 0.003, "recency over all history, as in docs/domain.md");
    // Measured 0.8409 (issue #12 asked for 0.843, which no feature set tried reached: see docs/model.md).
    assertTrue(auc >= 0.838 + 0.002, "test ROC-AUC " + auc + " against docs/domain.md's logistic regression (0.838)");
  }
}
