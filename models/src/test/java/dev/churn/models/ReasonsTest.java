package dev.churn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** Reasons as a customer's list shows them: one fact once, in grammatical English. No Spark session. */
class ReasonsTest {

  @Test
  void aDayIsSingular() {
    assertEquals("customer for 1 day (typical: 533 days)", Reasons.phrase("tenure_days", "1.0", 533.0, Map.of()));
    assertEquals("customer for 0 days", Reasons.phrase("tenure_days", "0.0"));
    assertEquals("no login for 1 day (typical: 1 day)", Reasons.phrase("days_since_last_login", "1.0", 1.0, Map.of()));
    assertEquals("trial ends in 1 day", Reasons.phrase("days_to_trial_end", "1.0"));
    assertEquals("trial ends in 12 days", Reasons.phrase("days_to_trial_end", "12.0"));
    assertEquals("1 day with any event over all history (typical: 67 days)",
        Reasons.phrase("active_days_all", "1.0", 67.0, Map.of()));
    assertEquals("2 days with any event in the last 365 days", Reasons.phrase("active_days_365d", "2.0"));
    // Seats: the most users active on one day, said as a reader would (not "0 most distinct active users").
    assertEquals("no active user in the last 7 days (typical: 2)", Reasons.phrase("seats_max_7d", "0.0", 2.0, Map.of()));
    assertEquals("at most 1 active user (seats) a day in the last 30 days", Reasons.phrase("seats_max_30d", "1.0"));
    assertEquals("at most 3 active users (seats) a day in the last 90 days", Reasons.phrase("seats_max_90d", "3.0"));
  }

  /**
   * The customer of one day: active_days_all and active_days_365d both 1 say one fact; the stronger is
   * shown, and the next reason (tenure) takes the other's place. A longer window with another value is another fact.
   */
  @Test
  void aFactTwoWindowsStateIsShownOnceTheStrongerOne() {
    List<String> slots = List.of("active_days_all", "active_days_365d", "tenure_days", "active_days_30d");
    // Every slot on the risky side (direction and scaled value agree), typical values above the customer's.
    ModelSpec.Explanation why = new ModelSpec.Explanation(List.of(-1.0, -1.0, -1.0, -1.0),
        Map.of("active_days_all", 67.0, "active_days_365d", 67.0, "tenure_days", 533.0, "active_days_30d", 9.0), 0.0);
    // Contributions (coefficient x scaled value) 0.9, 0.8, 0.5 and 0.2, in slot order.
    ChurnScorer.TopReasons top = new ChurnScorer.TopReasons(new double[] {-0.9, -0.8, -0.5, -0.2},
        slots.toArray(String[]::new), slots, why, Map.of(), List.of());

    List<Row> oneDay = top.call(Vectors.dense(-1, -1, -1, -1), values("1.0", "1.0", "1.0", "1.0"));
    assertEquals(List.of("active_days_all", "tenure_days"), oneDay.stream().map(r -> r.getString(0)).toList(),
        "active_days_365d and active_days_30d repeat active_days_all's 1 day");
    assertEquals(List.of("1 day with any event over all history (typical: 67 days)",
        "customer for 1 day (typical: 533 days)"), oneDay.stream().map(r -> r.getString(3)).toList());

    List<Row> olderLog = top.call(Vectors.dense(-1, -1, -1, -1), values("40.0", "12.0", "400.0", "1.0"));
    assertEquals(List.of("active_days_all", "active_days_365d", "tenure_days"),
        olderLog.stream().map(r -> r.getString(0)).toList(), "other values are other facts");
  }

  /**
   * ModelJobTest's customer before #31: "no payment for 1038 days", then nothing paid in 30 days, then nothing in
   * 365: the silence says the other two. A window longer than the silence, or a window with payments, says more.
   */
  @Test
  void aSilenceSaysTheEmptyWindowsWithinIt() {
    List<String> slots = List.of("days_since_last_payment", "payment_amount_30d", "payment_amount_365d", "logins_30d");
    ModelSpec.Explanation why = new ModelSpec.Explanation(List.of(1.0, -1.0, -1.0, -1.0), Map.of(
        "days_since_last_payment", 22.0, "payment_amount_30d", 49.0, "payment_amount_365d", 398.0, "logins_30d", 9.0),
        0.0);
    // Contributions 0.63, 0.49, 0.42 and 0.2, in slot order.
    ChurnScorer.TopReasons top = new ChurnScorer.TopReasons(new double[] {0.63, -0.49, -0.42, -0.2},
        slots.toArray(String[]::new), slots, why, Map.of(), List.of());
    List<Row> longSilence = top.call(Vectors.dense(1, -1, -1, -1), values("1038.0", "0.0", "0.0", "2.0"));
    assertEquals(List.of("days_since_last_payment", "logins_30d"), longSilence.stream().map(r -> r.getString(0))
        .toList());
    List<Row> shortSilence = top.call(Vectors.dense(1, -1, -1, -1), values("40.0", "0.0", "0.0", "2.0"));
    assertEquals(List.of("days_since_last_payment", "payment_amount_365d", "logins_30d"),
        shortSilence.stream().map(r -> r.getString(0)).toList(), "40 days of silence say nothing of 365 days");
  }

  /**
   * The scorer's layout: the values come in the order of the model's inputs, not of its slots, and a categorical
   * has one slot per level after the numeric ones. Each reason shows its own feature's value; a feature whose value
   * is null is no reason (it cannot be on the risky side).
   */
  @Test
  void eachReasonShowsItsOwnFeaturesValueWhateverTheOrderOfTheSlots() {
    List<String> slots = List.of("logins_30d", "tenure_days", "plan", "plan");
    List<String> inputs = List.of("tenure_days", "logins_30d", "plan");
    ModelSpec.Explanation why = new ModelSpec.Explanation(List.of(-1.0, -1.0, 1.0, 1.0),
        Map.of("logins_30d", 9.0, "tenure_days", 533.0), 0.0);
    // Contributions: logins_30d 0.3, tenure_days 0.5, plan -0.1 + 1.35 = 1.25 (its second level, the customer's).
    ChurnScorer.TopReasons top = new ChurnScorer.TopReasons(new double[] {-0.3, -0.5, 0.2, 0.9},
        slots.toArray(String[]::new), inputs, why, Map.of(), List.of());
    List<Row> reasons = top.call(Vectors.dense(-1, -1, -0.5, 1.5), values("400.0", null, "basic"));
    assertEquals(List.of("[plan,basic,1.25,plan is basic]",
        "[tenure_days,400.0,0.5,customer for 400 days (typical: 533 days)]"),
        reasons.stream().map(Row::toString).toList());
  }

  /** A row's input values as the scorer passes them: in the order of the model's inputs. */
  private static scala.collection.Seq<String> values(String... values) {
    return scala.jdk.javaapi.CollectionConverters.asScala(java.util.Arrays.asList(values)).toSeq();
  }
}
