package dev.churn.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.testing.SparkSuite;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The running window state advanced night by night equals the state built from scratch on every column, and so
 * does the snapshot derived from it, on a rollup made to hit every edge: days leaving each window (7 to 365),
 * maxima tied and expiring, plan changes entering the 90-day-old slot and older than the lookback, customers
 * silent for longer than the lookback (their recency keeps counting) and coming back, and odd money amounts.
 */
class WindowStateTest extends SparkSuite {
  private static final LocalDate FIRST = LocalDate.parse("2025-01-01");
  private static final int HISTORY = 380; // days of rollup before the first advanced night
  private static final int NIGHTS = 10;

  @Test
  void advancedNightByNightEqualsFromScratch() {
    Dataset<Row> daily = spark.createDataFrame(rollup(), FeatureBuilderTest.dailySchema()).cache();
    LocalDate start = FIRST.plusDays(HISTORY);
    Dataset<Row> state = WindowState.fromScratch(window(daily, start), start);
    state = spark.createDataFrame(state.collectAsList(), state.schema());
    for (int n = 1; n <= NIGHTS; n++) {
      LocalDate d = start.plusDays(n);
      Dataset<Row> next = WindowState.advance(state, daily, d);
      state = spark.createDataFrame(next.collectAsList(), next.schema()); // cut the lineage as a stored table does
      assertEquals(sorted(WindowState.fromScratch(window(daily, d), d)), sorted(state), "state of " + d);
    }
    LocalDate last = start.plusDays(NIGHTS);
    ChurnDefinition churn = ChurnDefinition.inactivity(30);
    Dataset<Row> customers = FeatureBuilderTest.customers(customerRows());
    FeatureBuilder.LifecycleRules rules = FeatureBuilder.LifecycleRules.defaults(churn);
    List<String> fromState = sorted(FeatureBuilder.fromState(state, customers, last, churn, rules));
    assertEquals(sorted(FeatureBuilder.engagementFeatures(daily, customers, last, churn, rules)), fromState);
    assertTrue(fromState.size() > 10, "customers active on the last night: " + fromState.size());
  }

  /**
   * Several dates from scratch in one aggregation give each date's own state, and their snapshots in one plan give
   * each date's from-scratch features, under all three kinds of churn (a customer cancelled between two dates
   * leaves the cancellation snapshot of the later one only).
   */
  @Test
  void severalDatesAtOnceEqualEachDateAlone() {
    Dataset<Row> daily = spark.createDataFrame(rollup(), FeatureBuilderTest.dailySchema()).cache();
    List<LocalDate> dates = List.of(FIRST.plusDays(40), FIRST.plusDays(200), FIRST.plusDays(HISTORY));
    Dataset<Row> states = WindowState.fromScratch(daily, dates);
    states = spark.createDataFrame(states.collectAsList(), states.schema());
    List<String> each = new ArrayList<>();
    dates.forEach(d -> each.addAll(sorted(WindowState.fromScratch(window(daily, d), d))));
    each.sort(null);
    assertEquals(each, sorted(states));

    List<Row> customers = new ArrayList<>(customerRows());
    customers.set(3, FeatureBuilderTest.customer("C3", FIRST.plusDays(27).toString(), null, FIRST.plusDays(90).toString()));
    Dataset<Row> table = FeatureBuilderTest.customers(customers);
    for (ChurnDefinition churn : List.of(ChurnDefinition.inactivity(30), ChurnDefinition.inactivityEverActive(30),
        ChurnDefinition.cancellation(List.of("cancel")))) {
      FeatureBuilder.LifecycleRules rules = FeatureBuilder.LifecycleRules.defaults(churn);
      List<String> alone = new ArrayList<>();
      dates.forEach(d -> alone.addAll(sorted(FeatureBuilder.engagementFeatures(daily, table, d, churn, rules))));
      alone.sort(null);
      assertEquals(alone, sorted(FeatureBuilder.fromState(states, table, dates, churn, rules)), churn.toString());
      assertTrue(alone.size() > dates.size() * 5, churn + ": rows " + alone.size());
    }
  }

  private static Dataset<Row> window(Dataset<Row> daily, LocalDate d) {
    return daily.where(org.apache.spark.sql.functions.col(DailyActivity.ACTIVITY_DATE).leq(java.sql.Date.valueOf(d)));
  }

  private static List<String> sorted(Dataset<Row> rows) {
    List<String> out = new ArrayList<>();
    rows.collectAsList().forEach(r -> out.add(r.toString()));
    out.sort(null);
    return out;
  }

  private static List<Row> customerRows() {
    List<Row> rows = new ArrayList<>();
    for (int c = 0; c < 40; c++) {
      rows.add(FeatureBuilderTest.customer("C" + c, FIRST.plusDays(c * 9).toString(), null, null));
    }
    return rows;
  }

  /** 40 customers: some daily, some sparse, some gone for months; values small so maxima tie often. */
  private static List<Row> rollup() {
    Random r = new Random(11);
    List<Row> rows = new ArrayList<>();
    String[] plans = {"basic", "pro", "enterprise"};
    for (int c = 0; c < 40; c++) {
      double density = c % 5 == 0 ? 0.9 : c % 5 == 1 ? 0.03 : 0.35;
      int gapFrom = 100 + r.nextInt(200);
      int gapTo = c % 4 == 0 ? gapFrom + 60 + r.nextInt(330) : gapFrom;
      for (int day = c * 9; day <= HISTORY + NIGHTS; day++) {
        if ((day >= gapFrom && day < gapTo) || r.nextDouble() > density) {
          continue;
        }
        Map<String, Object> v = new HashMap<>();
        int logins = r.nextInt(3);
        v.put("events", 1 + logins + r.nextInt(3));
        v.put("logins", logins);
        v.put("sessions", r.nextInt(2));
        v.put("feature_uses", r.nextInt(4));
        v.put("active_users", r.nextInt(4));
        v.put("tickets", r.nextInt(10) == 0 ? 1 : 0);
        if (r.nextInt(12) == 0) {
          v.put("payments", 1);
          v.put("payment_amount", Math.round(r.nextDouble() * 100000) / 100.0 + 0.1 + 0.2); // not exact in binary
        }
        if (r.nextInt(25) == 0) {
          v.put("upgrades", 1);
          v.put(DailyActivity.MRR_END, 10.0 * (1 + r.nextInt(50)));
          v.put(DailyActivity.PLAN_END, r.nextInt(6) == 0 ? null : plans[r.nextInt(3)]);
        }
        rows.add(FeatureBuilderTest.day("C" + c, FIRST.plusDays(day).toString(), v));
      }
    }
    return rows;
  }
}
