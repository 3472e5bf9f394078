package dev.churn.jobs.report;

import static org.apache.spark.sql.functions.*;

import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The report's retention sections: retention by industry against the yardsticks, churn over time, cohorts. */
record RetentionSections(Warehouse warehouse, Page page) {
  /**
   * The month containing the as-of date when it is complete (the as-of date is its last day), else the last
   * complete month before it, said so; all segments: each industry's annualised retention against its yardstick.
   */
  void retentionByIndustry(LocalDate asOf) {
    page.append("<h2>Retention by industry against the yardsticks</h2>");
    Row latest = warehouse.read(Table.RETENTION_RATES).where(col("period_type").equalTo("month")
        .and(not(col("is_partial"))).and(col("period_end").leq(lit(Date.valueOf(asOf))))).agg(max("period_start")).first();
    if (latest.isNullAt(0)) {
      page.append("<p>No complete month on or before ").append(asOf).append(" in retention_rates yet.</p>");
      return;
    }
    LocalDate month = ((Date) latest.get(0)).toLocalDate();
    List<Row> rows = warehouse.read(Table.RETENTION_RATES)
        .where(col("period_type").equalTo("month").and(col("period_start").equalTo(latest.get(0)))
            .and(col("segment").equalTo("ALL")).and(col("industry").notEqual("ALL")))
        .orderBy("industry").collectAsList();
    boolean ownMonth = month.plusMonths(1).minusDays(1).equals(asOf);
    page.append("<p>").append(month.getMonth().getDisplayName(java.time.format.TextStyle.FULL, Locale.ROOT))
        .append(' ').append(month.getYear())
        .append(ownMonth ? ", the month of the as-of date" : ", the last complete month before the as-of date " + asOf
            + " (its own month is not over)")
        .append("; monthly retention annualised as r^12 to compare with the yearly yardsticks. "
            + "Industries without a yardstick show their own bar only.</p>");
    List<String> names = new ArrayList<>();
    List<Number> own = new ArrayList<>();
    List<Number> error = new ArrayList<>();
    List<Number> yard = new ArrayList<>();
    List<List<String>> table = new ArrayList<>();
    for (Row r : rows) {
      Double annual = r.getAs("retention_rate_annualized");
      Double bench = r.getAs("benchmark_retention_rate");
      long start = r.<Long>getAs("customers_start");
      double[] band = wilson(r.getAs("retention_rate"), start);
      names.add(r.getAs("industry"));
      own.add(annual == null ? 0 : annual * 100);
      error.add(band == null || annual == null ? 0 : 100 * Math.max(Math.pow(band[1], 12) - annual,
          annual - Math.pow(band[0], 12)));
      yard.add(bench == null ? null : bench * 100);
      table.add(List.of(r.getAs("industry"), String.valueOf(start),
          String.valueOf(r.<Long>getAs("customers_lost")), Page.pct(r.getAs("retention_rate")), Page.pct(annual),
          band == null ? "" : Page.pct(Math.pow(band[0], 12)) + " - " + Page.pct(Math.pow(band[1], 12)),
          Page.pct(bench), r.getAs("gap_to_benchmark") == null ? "" : Page.pct(r.getAs("gap_to_benchmark"))));
    }
    List<Row> ttm = trailingYear(asOf);
    List<List<String>> yearly = new ArrayList<>();
    if (ttm != null) {
      page.append("<p>A year of data: the chart shows trailing-twelve-month retention, the share of the customers "
          + "of a year before " + asOf + " still customers on it, with a 95 % interval (Wilson); the monthly figures "
          + "follow in the table below it.</p>");
      names.clear();
      own.clear();
      error.clear();
      yard.clear();
      for (Row r : ttm) {
        long start = r.getLong(1);
        long kept = r.getLong(2);
        double rate = (double) kept / start;
        double[] band = wilson(rate, start);
        Double bench = dev.churn.features.Retention.YARDSTICKS.get(r.getString(0));
        names.add(r.getString(0));
        own.add(rate * 100);
        error.add(100 * Math.max(band[1] - rate, rate - band[0]));
        yard.add(bench == null ? null : bench * 100);
        yearly.add(List.of(r.getString(0), String.valueOf(start), String.valueOf(kept), Page.pct(rate),
            Page.pct(band[0]) + " - " + Page.pct(band[1]), Page.pct(bench), bench == null ? "" : Page.pct(rate - bench)));
      }
    } else {
      page.append("<p>Less than a year of data: the chart shows monthly retention annualised (r^12), whose "
          + "uncertainty grows twelvefold; the bars carry a 95 % interval (Wilson on the month, annualised).</p>");
    }
    CategoryChart chart = new CategoryChartBuilder().width(900).height(420)
        .title(ttm != null ? "Trailing-year retention by industry vs yardstick"
            : "Annualised retention by industry vs yardstick")
        .xAxisTitle("Industry").yAxisTitle("Retention (%)").build();
    chart.getStyler().setXAxisLabelRotation(30);
    chart.getStyler().setXAxisMaxLabelCount(Math.max(2, names.size())); // XChart refuses 1
    chart.addSeries(ttm != null ? "own (trailing year)" : "own (annualised)", names, own, error);
    chart.addSeries("yardstick", names, yard);
    page.chart(chart, "retention_by_industry");
    if (ttm != null) {
      page.table(List.of("industry", "customers a year before", "still customers", "trailing-year retention",
          "95% interval", "yardstick", "gap"), yearly);
    }
    page.table(List.of("industry", "customers at start", "lost", "monthly retention", "annualised",
        "95% interval (annualised)", "yardstick", "gap"), table);
  }

  /**
   * Per industry: customers a year before {@code asOf} (signed up by then, not churned by then) and how many of them
   * are still customers on {@code asOf}; null when the data does not reach back a year.
   */
  private List<Row> trailingYear(LocalDate asOf) {
    Warehouse.DataRange range = warehouse.dataRange();
    LocalDate start = asOf.minusYears(1);
    if (range == null || range.first().isAfter(start)) {
      return null;
    }
    Column startDay = lit(Date.valueOf(start));
    Column churn = col("churn_date");
    return warehouse.read(Table.CUSTOMERS)
        .where(col("signup_date").leq(startDay).and(churn.isNull().or(churn.gt(startDay))))
        .groupBy("industry").agg(count(lit(1)).as("start"),
            count(when(churn.isNull().or(churn.gt(lit(Date.valueOf(asOf)))), lit(1))).as("kept"))
        .orderBy("industry").collectAsList();
  }

  /** The Wilson 95 % interval of a proportion {@code p} of {@code n}, or null without a proportion. */
  static double[] wilson(Double p, long n) {
    if (p == null || n <= 0) {
      return null;
    }
    double z = 1.959963984540054;
    double denominator = 1 + z * z / n;
    double centre = (p + z * z / (2.0 * n)) / denominator;
    double half = z * Math.sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / denominator;
    return new double[] {Math.max(0, centre - half), Math.min(1, centre + half)};
  }

  /** Complete months up to the as-of date, by segment: churn, and MRR churn where the log has MRR. */
  void churnOverTime(LocalDate asOf) {
    page.append("<h2>Churn and MRR churn over time, by segment</h2>");
    List<Row> rows = warehouse.read(Table.RETENTION_RATES)
        .where(col("period_type").equalTo("month").and(not(col("is_partial"))).and(col("industry").equalTo("ALL"))
            .and(col("period_end").leq(lit(Date.valueOf(asOf))))).orderBy("period_start", "segment")
        .collectAsList();
    boolean hasMrr = rows.stream().anyMatch(r -> r.getAs("mrr_start") != null && r.<Double>getAs("mrr_start") > 0);
    Map<String, List<Row>> bySegment = new TreeMap<>();
    rows.forEach(r -> bySegment.computeIfAbsent(r.getAs("segment"), k -> new ArrayList<>()).add(r));
    XYChart churn = new XYChartBuilder().width(900).height(400).title("Monthly customer churn rate by segment")
        .xAxisTitle("Month").yAxisTitle("Churn rate (% of customers at start)").build();
    XYChart mrr = new XYChartBuilder().width(900).height(400).title("Monthly MRR churn rate by segment")
        .xAxisTitle("Month").yAxisTitle("MRR churn rate (% of MRR at start)").build();
    churn.getStyler().setDatePattern("yyyy-MM");
    mrr.getStyler().setDatePattern("yyyy-MM");
    List<List<String>> table = new ArrayList<>();
    for (Map.Entry<String, List<Row>> e : bySegment.entrySet()) {
      List<java.util.Date> x = new ArrayList<>();
      List<Number> y = new ArrayList<>();
      List<Number> m = new ArrayList<>();
      for (Row r : e.getValue()) {
        x.add(new java.util.Date(((Date) r.getAs("period_start")).getTime()));
        y.add(r.getAs("churn_rate") == null ? 0 : r.<Double>getAs("churn_rate") * 100);
        m.add(r.getAs("mrr_churn_rate") == null ? 0 : r.<Double>getAs("mrr_churn_rate") * 100);
        table.add(List.of(e.getKey(), r.getAs("period_start").toString(), String.valueOf(r.<Long>getAs("customers_lost")),
            Page.pct(r.getAs("churn_rate")), String.format(Locale.ROOT, "%.0f", r.<Double>getAs("mrr_lost")),
            Page.pct(r.getAs("mrr_churn_rate")), String.format(Locale.ROOT, "%.0f", r.<Double>getAs("mrr_contraction"))));
      }
      if (!x.isEmpty()) {
        churn.addSeries(e.getKey(), x, y).setMarker(SeriesMarkers.CIRCLE);
        mrr.addSeries(e.getKey(), x, m).setMarker(SeriesMarkers.CIRCLE);
      }
    }
    if (table.isEmpty()) {
      page.append("<p>No full month yet.</p>");
      return;
    }
    page.chart(churn, "churn_by_segment");
    if (hasMrr) {
      page.chart(mrr, "mrr_churn_by_segment");
    } else {
      page.append("<p>No MRR chart: no customer has recurring revenue in this log (a purchase log has no "
          + "subscriptions), so MRR churn is zero by construction and not drawn.</p>");
    }
    page.table(List.of("segment", "month", "customers lost", "churn rate", "MRR lost", "MRR churn rate",
        "MRR lost to downgrades"), table);
  }

  void cohorts() {
    page.append("<h2>Cohort retention</h2>");
    if (!warehouse.exists(Table.COHORT_RETENTION)) {
      page.append("<p>No cohorts yet.</p>");
      return;
    }
    List<Row> rows = warehouse.read(Table.COHORT_RETENTION).orderBy("cohort_month", "months_since_signup").collectAsList();
    if (rows.isEmpty()) {
      page.append("<p>No cohorts yet.</p>");
      return;
    }
    boolean activity = rows.stream().anyMatch(r -> r.schema().getFieldIndex("measure").isDefined()
        && dev.churn.features.Retention.ACTIVE.equals(r.getAs("measure")));
    page.append(activity ? "<p>Under inactivity churn nobody can have churned in a cohort's first months, so each "
        + "cell is the share of the cohort <b>active in that month</b> (any event), not the share not churned.</p>"
        : "<p>Each cell is the share of the cohort still a customer (not churned) at the month's end.</p>");
    TreeSet<String> cohorts = new TreeSet<>();
    int maxMonth = 0;
    for (Row r : rows) {
      cohorts.add(r.getAs("cohort_month").toString().substring(0, 7));
      maxMonth = Math.max(maxMonth, r.<Integer>getAs("months_since_signup"));
    }
    List<String> ys = new ArrayList<>(cohorts);
    List<Integer> xs = new ArrayList<>();
    for (int i = 0; i <= maxMonth; i++) {
      xs.add(i);
    }
    List<Number[]> heat = new ArrayList<>();
    List<List<String>> table = new ArrayList<>();
    for (Row r : rows) {
      int x = r.getAs("months_since_signup");
      int y = ys.indexOf(r.getAs("cohort_month").toString().substring(0, 7));
      heat.add(new Number[] {x, y, Math.round(r.<Double>getAs("retention_rate") * 1000) / 10.0});
      table.add(List.of(r.getAs("cohort_month").toString().substring(0, 7), String.valueOf(x),
          String.valueOf(r.<Long>getAs("customers")), String.valueOf(r.<Long>getAs("retained")),
          Page.pct(r.getAs("retention_rate"))));
    }
    HeatMapChart chart = new HeatMapChartBuilder().width(900).height(Math.max(300, 120 + 32 * ys.size()))
        .title(activity ? "Cohort activity (% of the cohort active in the month)"
            : "Cohort retention (% still customers at month end)").xAxisTitle("Months since signup")
        .yAxisTitle("Signup month").build();
    chart.getStyler().setShowValue(true);
    // One row of cells per signup month, each labelled: ticks as close as the rows are.
    chart.getStyler().setYAxisTickMarkSpacingHint(10);
    chart.getStyler().setXAxisTickMarkSpacingHint(10);
    chart.getStyler().setMin(0);
    chart.getStyler().setMax(100);
    chart.addSeries("retention %", xs, ys, heat);
    page.chart(chart, "cohort_retention");
    page.table(List.of("cohort", "months since signup", "customers", "retained", "retention"), table);
  }
}
