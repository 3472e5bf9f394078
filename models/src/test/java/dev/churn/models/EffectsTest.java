package dev.churn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.testing.SparkSuite;
import java.sql.Date;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The measured effect of the contacts against the control group, on hand-counted lists. */
class EffectsTest extends SparkSuite {

  @Test
  void intervalsMatchThePublishedExamples() {
    // Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10 (hybrid score): 56/70 - 48/80 =
    // 0.2000 (0.0524, 0.3339); 9/10 - 3/10 = 0.6000 (0.1705, 0.8090). Wilson's interval of 81/263, from the same
    // author's companion paper on single proportions: (0.2553, 0.3662).
    assertArrayEquals(new double[] {0.2, 0.0524, 0.3339}, Effects.newcombe(56, 70, 48, 80), 5e-5);
    assertArrayEquals(new double[] {0.6, 0.1705, 0.8090}, Effects.newcombe(9, 10, 3, 10), 5e-5);
    assertArrayEquals(new double[] {0.2553, 0.3662}, Effects.wilson(81, 263), 5e-5);
    // Katz, by hand: 10 of 100 contacted churn against 20 of 100 held out, RR = 0.5, var(log RR) = 1/10 - 1/100 +
    // 1/20 - 1/100 = 0.13, RR's interval 0.5 x exp(-/+ 1.96 x 0.36056) = (0.24664, 1.01362): save rate 0.5
    // (-0.01362, 0.75336).
    assertArrayEquals(new double[] {0.5, -0.01362, 0.75336}, Effects.saveRate(10, 100, 20, 100), 5e-5);
    // No contacted churner: one half added to every cell, by hand: RR = (0.5 / 51) / (10.5 / 51) = 0.047619,
    // var(log RR) = 1/0.5 - 1/51 + 1/10.5 - 1/51 = 2.0560224, so the save rate 0.952381 (0.208766, 0.997134).
    assertArrayEquals(new double[] {0.952381, 0.208766, 0.997134}, Effects.saveRate(0, 50, 10, 50), 5e-6);
    // Every held-out customer churned: corrected too, so one customer cannot make the interval a point.
    double[] allChurned = Effects.saveRate(3, 3, 1, 1);
    assertTrue(allChurned[1] < -1 && allChurned[2] > 0.5, java.util.Arrays.toString(allChurned));
  }

  @Test
  void eachCustomerCountsOncePerMonthFromItsFirstListingAndOnlyEndedHorizonsAreMeasured() {
    StructType listed = new StructType().add("as_of_date", DataTypes.DateType).add("customer_id", DataTypes.StringType)
        .add("segment", DataTypes.StringType).add("play", DataTypes.StringType)
        .add("contact_group", DataTypes.StringType).add("horizon_days", DataTypes.IntegerType);
    Dataset<Row> actions = spark.createDataFrame(List.of(
        // c1 is listed twice in March: it counts once, from 03-01, and churns within 30 days of it.
        list("2026-03-01", "c1", "resolve", Actions.CONTACT), list("2026-03-05", "c1", "educate", Actions.CONTACT),
        list("2026-03-02", "c2", "educate", Actions.CONTACT),
        list("2026-03-01", "c3", "resolve", Actions.HOLDOUT),
        // c4 churns on 04-15, after its horizon (03-03 + 30 = 04-02): not a churner of this entry.
        list("2026-03-03", "c4", "educate", Actions.HOLDOUT),
        // c5's horizon ends on 04-24, after the data's last day: assigned, not measured.
        list("2026-03-25", "c5", "resolve", Actions.CONTACT),
        // A list written before the control group existed: left out.
        list("2026-03-01", "c6", "resolve", null),
        // c2 again in April: a new entry of its own month.
        list("2026-04-01", "c2", "educate", Actions.CONTACT)), listed);
    StructType churn = new StructType().add("customer_id", DataTypes.StringType).add("churn_date", DataTypes.DateType);
    Dataset<Row> customers = spark.createDataFrame(List.of(RowFactory.create("c1", Date.valueOf("2026-03-20")),
        RowFactory.create("c2", null), RowFactory.create("c3", Date.valueOf("2026-03-10")),
        RowFactory.create("c4", Date.valueOf("2026-04-15")), RowFactory.create("c5", null),
        RowFactory.create("c6", Date.valueOf("2026-03-04"))), churn);

    // What the team logged: c1 called the day after its listing, c3 called although held out, c5 called (not
    // measured yet), c2 called in February (before its listing: not a contact of this list) and in April.
    StructType logged = new StructType().add("customer_id", DataTypes.StringType)
        .add("contacted_on", DataTypes.DateType);
    Dataset<Row> contacts = spark.createDataFrame(List.of(RowFactory.create("c1", Date.valueOf("2026-03-02")),
        RowFactory.create("c3", Date.valueOf("2026-03-05")), RowFactory.create("c5", Date.valueOf("2026-03-26")),
        RowFactory.create("c2", Date.valueOf("2026-02-01")), RowFactory.create("c2", Date.valueOf("2026-04-03"))),
        logged);

    Map<String, Row> rows = new HashMap<>();
    for (Row r : Effects.measure(actions, customers, contacts, LocalDate.parse("2026-04-10")).collectAsList()) {
      rows.put(r.getAs("list_month") + "/" + r.getAs("play") + "/" + r.getAs("segment"), r);
    }
    // March, everything: contact c1 c2 c5 (c5 unmeasured), holdout c3 c4; churned c1 and c3.
    assertCounts(rows.get("2026-03-01/ALL/ALL"), 3, 2, 2, 2, 1, 1);
    Row all = rows.get("2026-03-01/ALL/ALL");
    assertEquals(0.5, all.<Double>getAs("contact_churn_rate"), 0.0);
    assertEquals(0.5, all.<Double>getAs("holdout_churn_rate"), 0.0);
    assertEquals(0.0, all.<Double>getAs("uplift"), 1e-15);
    assertArrayEquals(Effects.newcombe(1, 2, 1, 2), new double[] {all.getAs("uplift"), all.getAs("uplift_ci_low"),
        all.getAs("uplift_ci_high")}, 1e-15);
    assertEquals(0.0, all.<Double>getAs("save_rate"), 1e-15);
    assertEquals(30, all.<Integer>getAs("horizon_days"));
    // Contacted: c1 and c5 of the three assigned, c3 of the held out; c1 is the one measured, and churned.
    assertEquals(List.of(2L, 1L, 1L, 1L), List.of(all.<Long>getAs("contacted_contact"),
        all.<Long>getAs("contacted_holdout"), all.<Long>getAs("measured_contacted"), all.<Long>getAs("churned_contacted")));
    assertEquals(2.0 / 3, all.<Double>getAs("contacted_share"), 1e-15);
    assertArrayEquals(Effects.saveRate(1, 1, 1, 2), new double[] {all.getAs("per_protocol_save_rate"),
        all.getAs("per_protocol_save_rate_ci_low"), all.getAs("per_protocol_save_rate_ci_high")}, 1e-15);
    assertEquals(1L, rows.get("2026-04-01/ALL/ALL").<Long>getAs("contacted_contact"), "c2, called in April");
    // By play: c1 keeps its first play (resolve), so educate holds c2 and c4 only.
    assertCounts(rows.get("2026-03-01/resolve/ALL"), 2, 1, 1, 1, 1, 1);
    assertCounts(rows.get("2026-03-01/educate/smb"), 1, 1, 1, 1, 0, 0);
    // No held-out churner: no save rate (a ratio over zero), the uplift is there.
    assertNull(rows.get("2026-03-01/educate/smb").getAs("save_rate"));
    assertEquals(0.0, rows.get("2026-03-01/educate/smb").<Double>getAs("uplift"), 0.0);
    // April: assigned, nothing measured yet, so no rates.
    assertCounts(rows.get("2026-04-01/ALL/ALL"), 1, 0, 0, 0, 0, 0);
    assertNull(rows.get("2026-04-01/ALL/ALL").getAs("contact_churn_rate"));
    assertNull(rows.get("2026-04-01/ALL/ALL").getAs("uplift"));
    // Rows: per month, (play, segment), (play), (segment) and all: March 2 plays x 1 segment -> 2 + 2 + 1 + 1.
    assertEquals(6, rows.keySet().stream().filter(k -> k.startsWith("2026-03-01/")).count());
  }

  @Test
  void aPlayIsValuedWithItsPooledMeasurementShrunkTowardTheAssumedRateByItsUncertainty() {
    // Two measured months of resolve (10 + 10 of 100 + 100 contacted churned, 20 + 20 of 100 + 100 held out), one
    // of educate with no held-out churner, and rows that pooling skips (ALL plays, single segments).
    List<Row> effects = spark.createDataFrame(List.of(
        effect("2026-01-01", "resolve", "ALL", 100, 10, 100, 20), effect("2026-02-01", "resolve", "ALL", 100, 10, 100, 20),
        effect("2026-01-01", "educate", "ALL", 50, 5, 50, 0), effect("2026-01-01", "ALL", "ALL", 250, 25, 250, 40),
        effect("2026-01-01", "resolve", "smb", 100, 100, 100, 0), effect("2026-01-01", "onboard", "ALL", 10, 1, 10, 4)),
        Effects.SCHEMA).collectAsList();
    Map<String, SaveRates.Measured> pooled = SaveRates.pooled(effects);
    assertEquals(List.of("resolve"), List.copyOf(pooled.keySet()),
        "educate has no held-out churner yet, onboard 4: fewer than " + SaveRates.MIN_HELD_OUT);
    double[] resolve = Effects.saveRate(20, 200, 40, 200);
    assertArrayEquals(resolve, new double[] {pooled.get("resolve").saveRate(), pooled.get("resolve").low(),
        pooled.get("resolve").high()}, 1e-15);

    // The rule by hand: sd from the interval, k = 0.15^2 / (0.15^2 + sd^2), assumed + k (measured - assumed).
    double sd = (resolve[2] - resolve[1]) / (2 * Effects.Z);
    double k = 0.0225 / (0.0225 + sd * sd);
    assertEquals(0.25 + k * (0.5 - 0.25), SaveRates.used(0.25, pooled.get("resolve")), 1e-12);
    assertEquals(0.25, SaveRates.used(0.25, null), 0.0, "not measured: the assumed rate");
    assertEquals(0.9, SaveRates.used(0.25, new SaveRates.Measured(0.9, 0.8999, 0.9001)), 1e-6, "precise: measured");
    assertEquals(0.25, SaveRates.used(0.25, new SaveRates.Measured(0.9, -50, 50)), 1e-4, "vague: assumed");
    assertEquals(0.0, SaveRates.used(0.25, new SaveRates.Measured(-0.8, -0.81, -0.79)), 0.0, "kept within [0, 1]");

    // The list: resolve's contacts are valued with the learned rate, educate's with the assumed one.
    Dataset<Row> values = spark.range(2).selectExpr("concat('c', id) AS customer_id", "DATE'2026-03-01' AS as_of_date",
        "0.5D AS churn_probability", "1000D AS expected_ltv", "'smb' AS segment", "'retail' AS industry",
        "'high' AS risk_tier", "'active' AS lifecycle_stage", "10D AS monthly_value", "3D AS expected_remaining_months",
        "1D AS expected_mrr_lost", "1 AS model_version", "IF(id = 0, array(named_struct('feature', 'tickets_30d', "
            + "'value', '4', 'contribution', 0.1D, 'phrase', 'p')), array(named_struct('feature', 'sessions_30d', "
            + "'value', '0', 'contribution', 0.1D, 'phrase', 'p'))) AS top_reasons");
    Map<String, Row> list = new HashMap<>();
    Actions.rank(values, Actions.Options.defaults(), pooled).collectAsList().forEach(r -> list.put(r.getAs("play"), r));
    double learned = SaveRates.used(0.25, pooled.get("resolve"));
    assertEquals(learned, list.get("resolve").<Double>getAs("save_rate"), 0.0);
    assertEquals(SaveRates.MEASURED, list.get("resolve").getAs("save_rate_source"));
    assertEquals(0.5 * learned * 1000 - 10, list.get("resolve").<Double>getAs("expected_net_value"), 1e-9);
    assertEquals(0.25, list.get("educate").<Double>getAs("save_rate"), 0.0);
    assertEquals(SaveRates.ASSUMED, list.get("educate").getAs("save_rate_source"));
  }

  private static Row effect(String month, String play, String segment, long measuredContact, long churnedContact,
      long measuredHoldout, long churnedHoldout) {
    return RowFactory.create(Date.valueOf(month), play, segment, 30, measuredContact, measuredHoldout,
        measuredContact, measuredHoldout, churnedContact, churnedHoldout, null, null, null, null, null, null, null,
        null, 0L, 0L, null, 0L, 0L, null, null, null);
  }

  private static Row list(String date, String customer, String play, String group) {
    return RowFactory.create(Date.valueOf(date), customer, "smb", play, group, 30);
  }

  private static void assertCounts(Row r, long assignedContact, long assignedHoldout, long measuredContact,
      long measuredHoldout, long churnedContact, long churnedHoldout) {
    assertEquals(List.of(assignedContact, assignedHoldout, measuredContact, measuredHoldout, churnedContact,
        churnedHoldout), List.of(r.<Long>getAs("assigned_contact"), r.<Long>getAs("assigned_holdout"),
        r.<Long>getAs("measured_contact"), r.<Long>getAs("measured_holdout"), r.<Long>getAs("churned_contact"),
        r.<Long>getAs("churned_holdout")), r.toString());
  }
}
