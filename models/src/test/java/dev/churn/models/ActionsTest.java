package dev.churn.models;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.testing.SparkSuite;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The action list's plays and its control group, on hand-made rows. */
class ActionsTest extends SparkSuite {

  /** A reason as churn_scores' top_reasons holds it. */
  private static String reason(String feature, String value) {
    return "named_struct('feature', '" + feature + "', 'value', '" + value + "', 'contribution', 0.1D, 'phrase', '"
        + feature + " is " + value + "')";
  }

  private static String reasons(String... featureValue) {
    StringBuilder sb = new StringBuilder("array(");
    for (int i = 0; i < featureValue.length; i += 2) {
      sb.append(i == 0 ? "" : ", ").append(reason(featureValue[i], featureValue[i + 1]));
    }
    return featureValue.length == 0 ? "filter(array(" + reason("x", "x") + "), r -> false)" : sb.append(')').toString();
  }

  @Test
  void theStrongestReasonAPlayCoversChoosesItAndNoneMeansCheckIn() {
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    // Strongest first: the first covered reason wins, an uncovered one before it is passed over.
    cases.put(reasons("logins_trend_7v28", "-0.6", "tickets_high_30d", "2"), "re_engage|logins_trend_7v28 is -0.6");
    cases.put(reasons("plan", "basic", "tickets_30d", "4"), "resolve|tickets_30d is 4");
    cases.put(reasons("failed_payments_30d", "2", "logins_30d", "0"), "rescue_payment|failed_payments_30d is 2");
    cases.put(reasons("days_to_trial_end", "3"), "onboard|days_to_trial_end is 3");
    cases.put(reasons("feature_uses_trend_30v60", "-1"), "educate|feature_uses_trend_30v60 is -1");
    cases.put(reasons("email_opens_30d", "0"), "re_engage|email_opens_30d is 0");
    // A categorical reason chooses by its value.
    cases.put(reasons("lifecycle_stage", "new"), "onboard|lifecycle_stage is new");
    cases.put(reasons("lifecycle_stage", "lapsed"), "re_engage|lifecycle_stage is lapsed");
    cases.put(reasons("lifecycle_stage", "declining"), "re_engage|lifecycle_stage is declining");
    cases.put(reasons("days_since_last_payment", "40"), "rescue_payment|days_since_last_payment is 40");
    cases.put(reasons("lifecycle_stage", "active", "mrr_change_90d", "-50"), "check_in|" + Playbook.NO_RULE);
    cases.put(reasons(), "check_in|" + Playbook.NO_RULE);
    for (Map.Entry<String, String> c : cases.entrySet()) {
      Row r = spark.range(1).select(expr(c.getKey()).as("top_reasons"))
          .select(Playbook.DEFAULT.play(col("top_reasons")), Playbook.DEFAULT.playReason(col("top_reasons"))).first();
      assertEquals(c.getValue(), r.getString(0) + "|" + r.getString(1), c.getKey());
    }
  }

  @Test
  void theControlGroupIsTheAskedShareDrawnOncePerCustomerOnEveryRunAndByAnyEngine() throws Exception {
    Dataset<Row> listed = spark.range(20_000).select(expr("concat('c', id)").as("customer_id"),
        expr("DATE'2026-03-01'").as("as_of_date"));
    Dataset<Row> drawn = listed.select(col("customer_id"), Actions.holdoutDraw(col("customer_id"))
        .as("draw"));
    double share = drawn.where(col("draw").lt(0.10)).count() / 20_000.0;
    // Binomial: sd = sqrt(0.1 x 0.9 / 20000) = 0.0021, so a drawn share outside 0.09-0.11 is beyond 4.7 sd.
    assertTrue(share > 0.09 && share < 0.11, "held-out share " + share);
    assertEquals(0, drawn.where(col("draw").lt(0).or(col("draw").geq(1))).count(), "draws lie in [0, 1)");

    // The same customers on another partitioning (a rerun), and the documented formula recomputed outside Spark.
    Map<String, Double> once = new HashMap<>();
    drawn.collectAsList().forEach(r -> once.put(r.getString(0), r.getDouble(1)));
    Dataset<Row> again = listed.repartition(7).select(col("customer_id"),
        Actions.holdoutDraw(col("customer_id")).as("draw"));
    for (Row r : again.collectAsList()) {
      assertEquals(once.get(r.getString(0)), r.getDouble(1), 0.0, r.getString(0));
    }
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    for (String id : List.of("c0", "c1", "c19999")) {
      byte[] h = sha.digest(("holdout|" + id).getBytes(StandardCharsets.UTF_8));
      long first32 = ((h[0] & 0xffL) << 24) | ((h[1] & 0xffL) << 16) | ((h[2] & 0xffL) << 8) | (h[3] & 0xffL);
      assertEquals(first32 / 4294967296.0, once.get(id), 1e-15, id);
    }
    // Every night draws the same: a customer held out once stays held out, so it is never called while a horizon
    // it is measured over runs.
    Dataset<Row> list = Actions.rank(values(), Actions.Options.defaults());
    Dataset<Row> later = Actions.rank(values().withColumn("as_of_date", lit("2026-09-30").cast("date")),
        Actions.Options.defaults());
    assertEquals(list.select("customer_id", "contact_group").collectAsList(),
        later.select("customer_id", "contact_group").collectAsList());
  }

  @Test
  void theListKeepsItsRanksAndBudgetWithTheHoldoutMarkedAndEveryRowPlayed() {
    Dataset<Row> values = values();
    List<Row> list = Actions.rank(values, new Actions.Options(0.25, 10.0, 300, 0.2)).orderBy("rank").collectAsList();
    assertEquals(300, list.size(), "the budget counts every listed customer, held out or not");
    for (int i = 0; i < list.size(); i++) {
      Row r = list.get(i);
      assertEquals(i + 1, r.<Integer>getAs("rank"));
      assertEquals("c" + (399 - i), r.getAs("customer_id"), "ranked by expected net value");
      assertEquals("resolve", r.getAs("play"));
      assertEquals(0.2, r.<Double>getAs("holdout_share"), 0.0);
    }
    long held = list.stream().filter(r -> Actions.HOLDOUT.equals(r.getAs("contact_group"))).count();
    long contacted = list.stream().filter(r -> Actions.CONTACT.equals(r.getAs("contact_group"))).count();
    assertEquals(300, held + contacted);
    assertTrue(held > 30 && held < 90, "held out of 300 at 0.2: " + held);
    assertEquals(0, Actions.rank(values, new Actions.Options(0.25, 10.0, 300, 0.0))
        .where(col("contact_group").equalTo(Actions.HOLDOUT)).count(), "no control group at share 0");
  }

  /** 400 customers scored on 2026-03-01, c399 worth most, each with a ticket reason. */
  private Dataset<Row> values() {
    return spark.range(400).select(expr("concat('c', id)").as("customer_id"),
        expr("DATE'2026-03-01'").as("as_of_date"), expr("0.5D").as("churn_probability"),
        expr("CAST(id AS DOUBLE) + 100").as("expected_ltv"), lit("smb").as("segment"), lit("retail").as("industry"),
        lit("high").as("risk_tier"), lit("active").as("lifecycle_stage"), lit(10.0).as("monthly_value"),
        lit(3.0).as("expected_remaining_months"), lit(1.0).as("expected_mrr_lost"),
        expr(reasons("tickets_30d", "5")).as("top_reasons"), lit(1).as("model_version"));
  }

  @Test
  void aHoldoutShareOutsideZeroToOneHalfIsRefused() {
    for (double bad : new double[] {-0.1, 0.51, Double.NaN}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new Actions.Options(0.25, 10.0, 100, bad));
      assertTrue(e.getMessage().contains("--holdout-share"), e.getMessage());
    }
  }

  @Test
  void aPlaybookFileReplacesTheDefaultAndATypoOrAMisusedWhenIsRefusedByLine() {
    Playbook mine = Playbook.parse("# ours\n\nsave = tickets, failed_payments\nwin_back = lifecycle_stage when lapsed\n",
        "mine");
    for (String[] c : new String[][] {{reasons("logins_30d", "0", "tickets_30d", "2"), "save"},
        {reasons("lifecycle_stage", "lapsed"), "win_back"}, {reasons("sessions_30d", "0"), Playbook.CHECK_IN}}) {
      assertEquals(c[1], spark.range(1).select(mine.play(expr(c[0]))).first().getString(0), c[0]);
    }
    Map<String, String> refused = new java.util.LinkedHashMap<>();
    refused.put("resolve tickets", "x line 1: expected 'play = feature prefixes [when VALUE]', not 'resolve tickets'");
    refused.put("\nresolve = tikets", "x line 2: 'tikets' starts the name of no feature (docs/features.md)");
    refused.put("onboard = tenure_days when 3", "x line 1: 'when' needs categorical features, and 'tenure_days' "
        + "covers a numeric one");
    refused.put("check_in = tickets", "x line 1: check_in is the play of a customer no rule covers, not a rule's");
    refused.put("Resolve! = tickets", "x line 1: a play is a lower-case name, not 'Resolve!'");
    refused.put("resolve = ", "x line 1: play resolve covers no feature");
    refused.put("# nothing", "x holds no rule");
    refused.forEach((text, message) -> assertEquals(message,
        assertThrows(IllegalArgumentException.class, () -> Playbook.parse(text, "x")).getMessage(), text));
  }

  @Test
  void docsRetentionListsTheDefaultPlaybook() throws Exception {
    String doc = Files.readString(repoRoot().resolve("docs/retention.md"));
    assertTrue(doc.contains(Playbook.DEFAULT.markdown()), "docs/retention.md lacks the playbook's table:\n"
        + Playbook.DEFAULT.markdown());
  }
}
