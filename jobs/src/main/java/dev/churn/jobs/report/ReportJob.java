package dev.churn.jobs.report;

import static org.apache.spark.sql.functions.*;

import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.ModelRegistry;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.BinaryMetrics;
import dev.churn.models.ModelSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.sql.Row;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Writes a self-contained HTML report ({@code out/index.html} plus PNG charts drawn headless with XChart; no
 * network needed to view it): retention by industry against the yardsticks, churn and MRR churn over time by
 * segment, the cohort heatmap, the score distribution and risk tiers, ROC, lift and calibration of the current
 * model, and the top at-risk customers with their reasons. Every chart has a table of its numbers beside it.
 */
public final class ReportJob {
  public record Result(Path index, List<Path> charts, LocalDate scoresDate, int modelVersion) {}

  private final Warehouse warehouse;
  private final LocalDate asOf;
  private final Path out;
  private final StringBuilder html = new StringBuilder();
  private final List<Path> charts = new ArrayList<>();

  public ReportJob(Warehouse warehouse, LocalDate asOf, Path out) {
    this.warehouse = warehouse;
    this.asOf = asOf;
    this.out = out;
  }

  public Result run() {
    System.setProperty("java.awt.headless", "true");
    for (Table t : List.of(Table.RETENTION_RATES, Table.CHURN_SCORES, Table.MODEL_REGISTRY)) {
      if (!warehouse.exists(t)) {
        throw new ChurnException(ChurnException.FAILURE, "the report needs table " + t.tableName()
            + ": run score and retention first");
      }
    }
    try {
      Files.createDirectories(out);
    } catch (IOException e) {
      throw ChurnException.usage("cannot create report folder " + out + ": " + e.getMessage());
    }
    Row last = warehouse.read(Table.CHURN_SCORES).where(col("as_of_date").leq(lit(Date.valueOf(asOf))))
        .agg(max("as_of_date")).first();
    if (last.isNullAt(0)) {
      throw new ChurnException(ChurnException.FAILURE, "no churn_scores on or before " + asOf + ": run score first");
    }
    LocalDate scoresDate = last.getDate(0).toLocalDate();
    ModelRegistry.Loaded model = new ModelRegistry(warehouse).load(null);
    html.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Churn report ").append(asOf)
        .append("</title><style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
            + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
            + "th{background:#f3f3f3}td.l{text-align:left}img{max-width:100%}</style></head><body>")
        .append("<h1>Churn and retention report, as of ").append(asOf).append("</h1>")
        .append("<p>Scores of ").append(scoresDate).append(" by model v").append(model.spec().version())
        .append(" (horizon ").append(model.spec().horizonDays()).append(" days).</p>");
    retentionByIndustry();
    churnOverTime();
    cohorts();
    scores(scoresDate);
    modelQuality(model.spec());
    atRisk(scoresDate);
    html.append("</body></html>\n");
    Path index = out.resolve("index.html");
    try {
      Files.writeString(index, html.toString(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot write " + index + ": " + e.getMessage(), e);
    }
    return new Result(index, charts, scoresDate, model.spec().version());
  }

  /** A rate as the report prints it, e.g. 0.9 as "90.0%". */
  public static String pct(Object x) {
    return x == null ? "" : String.format(Locale.ROOT, "%.1f%%", ((Number) x).doubleValue() * 100);
  }

  private void save(Chart<?, ?> chart, String name) {
    Path png = out.resolve(name + ".png");
    try {
      BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot draw chart " + png + ": " + e.getMessage(), e);
    }
    charts.add(png);
    html.append("<p><img src=\"").append(name).append(".png\" alt=\"").append(chart.getTitle()).append("\"></p>");
  }

  private void table(List<String> header, List<List<String>> rows) {
    html.append("<table><tr>");
    header.forEach(h -> html.append("<th>").append(escape(h)).append("</th>"));
    html.append("</tr>");
    for (List<String> r : rows) {
      html.append("<tr>");
      for (int i = 0; i < r.size(); i++) {
        html.append(i == 0 ? "<td class=\"l\">" : "<td>").append(escape(r.get(i))).append("</td>");
      }
      html.append("</tr>");
    }
    html.append("</table>");
  }

  static String escape(String s) {
    return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  /** Latest full month, all segments: each industry's annualised retention against its yardstick. */
  private void retentionByIndustry() {
    html.append("<h2>Retention by industry against the yardsticks</h2>");
    Row latest = warehouse.read(Table.RETENTION_RATES).where("period_type = 'month' AND NOT is_partial")
        .agg(max("period_start")).first();
    if (latest.isNullAt(0)) {
      html.append("<p>No full month in retention_rates yet.</p>");
      return;
    }
    List<Row> rows = warehouse.read(Table.RETENTION_RATES)
        .where(col("period_type").equalTo("month").and(col("period_start").equalTo(latest.get(0)))
            .and(col("segment").equalTo("ALL")).and(col("industry").notEqual("ALL")))
        .orderBy("industry").collectAsList();
    html.append("<p>Month starting ").append(latest.get(0)).append("; monthly retention annualised as r^12 to "
        + "compare with the yearly yardsticks (DOMAIN.md).</p>");
    CategoryChart chart = new CategoryChartBuilder().width(900).height(420)
        .title("Annualised retention by industry vs yardstick").xAxisTitle("Industry").yAxisTitle("Retention (%)").build();
    List<String> names = new ArrayList<>();
    List<Number> own = new ArrayList<>();
    List<Number> yard = new ArrayList<>();
    List<List<String>> table = new ArrayList<>();
    for (Row r : rows) {
      Double annual = r.getAs("retention_rate_annualized");
      Double bench = r.getAs("benchmark_retention_rate");
      names.add(r.getAs("industry"));
      own.add(annual == null ? 0 : annual * 100);
      yard.add(bench == null ? null : bench * 100);
      table.add(List.of(r.getAs("industry"), String.valueOf(r.<Long>getAs("customers_start")),
          String.valueOf(r.<Long>getAs("customers_lost")), pct(r.getAs("retention_rate")), pct(annual), pct(bench),
          r.getAs("gap_to_benchmark") == null ? "" : pct(r.getAs("gap_to_benchmark"))));
    }
    chart.getStyler().setXAxisLabelRotation(30);
    chart.addSeries("own (annualised)", names, own);
    chart.addSeries("yardstick", names, yard);
    save(chart, "retention_by_industry");
    table(List.of("industry", "customers at start", "lost", "monthly retention", "annualised", "yardstick", "gap"), table);
  }

  private void churnOverTime() {
    html.append("<h2>Churn and MRR churn over time, by segment</h2>");
    List<Row> rows = warehouse.read(Table.RETENTION_RATES)
        .where("period_type = 'month' AND NOT is_partial AND industry = 'ALL'").orderBy("period_start", "segment")
        .collectAsList();
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
            pct(r.getAs("churn_rate")), String.format(Locale.ROOT, "%.0f", r.<Double>getAs("mrr_lost")),
            pct(r.getAs("mrr_churn_rate")), String.format(Locale.ROOT, "%.0f", r.<Double>getAs("mrr_contraction"))));
      }
      if (!x.isEmpty()) {
        churn.addSeries(e.getKey(), x, y).setMarker(SeriesMarkers.CIRCLE);
        mrr.addSeries(e.getKey(), x, m).setMarker(SeriesMarkers.CIRCLE);
      }
    }
    if (table.isEmpty()) {
      html.append("<p>No full month yet.</p>");
      return;
    }
    save(churn, "churn_by_segment");
    save(mrr, "mrr_churn_by_segment");
    table(List.of("segment", "month", "customers lost", "churn rate", "MRR lost", "MRR churn rate",
        "MRR lost to downgrades"), table);
  }

  private void cohorts() {
    html.append("<h2>Cohort retention</h2>");
    if (!warehouse.exists(Table.COHORT_RETENTION)) {
      html.append("<p>No cohorts yet.</p>");
      return;
    }
    List<Row> rows = warehouse.read(Table.COHORT_RETENTION).orderBy("cohort_month", "months_since_signup").collectAsList();
    if (rows.isEmpty()) {
      html.append("<p>No cohorts yet.</p>");
      return;
    }
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
          pct(r.getAs("retention_rate"))));
    }
    HeatMapChart chart = new HeatMapChartBuilder().width(900).height(Math.max(300, 60 + 30 * ys.size()))
        .title("Cohort retention (% still customers at month end)").xAxisTitle("Months since signup")
        .yAxisTitle("Signup month").build();
    chart.getStyler().setShowValue(true);
    chart.getStyler().setMin(0);
    chart.getStyler().setMax(100);
    chart.addSeries("retention %", xs, ys, heat);
    save(chart, "cohort_retention");
    table(List.of("cohort", "months since signup", "customers", "retained", "retention"), table);
  }

  private void scores(LocalDate day) {
    html.append("<h2>Score distribution and risk tiers</h2>");
    var scores = warehouse.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(lit(Date.valueOf(day))));
    List<Row> bins = scores.groupBy(least(floor(col("churn_probability").multiply(20)), lit(19)).cast("int").as("bin"))
        .count().orderBy("bin").collectAsList();
    Map<Integer, Long> counts = new LinkedHashMap<>();
    for (int i = 0; i < 20; i++) {
      counts.put(i, 0L);
    }
    bins.forEach(r -> counts.put(r.getInt(0), r.getLong(1)));
    CategoryChart hist = new CategoryChartBuilder().width(900).height(380)
        .title("Churn probability of active customers on " + day).xAxisTitle("Churn probability (%)")
        .yAxisTitle("Customers").build();
    hist.getStyler().setLegendVisible(false);
    hist.getStyler().setXAxisLabelRotation(45);
    hist.addSeries("customers", counts.keySet().stream().map(i -> (i * 5) + "-" + (i * 5 + 5)).toList(),
        new ArrayList<Number>(counts.values()));
    save(hist, "score_distribution");
    List<List<String>> table = new ArrayList<>();
    for (Row r : scores.groupBy("risk_tier").agg(count(lit(1)).as("n"), sum("churn_probability").as("expected"))
        .orderBy("risk_tier").collectAsList()) {
      table.add(List.of(r.getString(0), String.valueOf(r.getLong(1)), String.format(Locale.ROOT, "%.1f", r.getDouble(2))));
    }
    table(List.of("risk tier", "customers", "expected churners (sum of probabilities)"), table);
  }

  private void modelQuality(ModelSpec spec) {
    html.append("<h2>Model v").append(spec.version()).append(": out-of-time quality on ").append(spec.validationDate())
        .append("</h2>");
    Map<String, Double> m = spec.validationMetrics();
    List<List<String>> metrics = new ArrayList<>();
    for (String k : List.of("roc_auc", "pr_auc", "log_loss", "log_loss_constant", "brier", "top_decile_lift",
        "top_decile_capture", "oracle_roc_auc")) {
      if (m.get(k) != null) {
        metrics.add(List.of(k, String.format(Locale.ROOT, "%.4f", m.get(k))));
      }
    }
    metrics.add(List.of("baseline roc_auc (days since last activity)",
        String.format(Locale.ROOT, "%.4f", spec.baselineMetrics().get("roc_auc"))));
    table(List.of("metric", "value"), metrics);
    XYChart roc = new XYChartBuilder().width(450).height(420).title("ROC curve (validation)")
        .xAxisTitle("False positive rate").yAxisTitle("True positive rate").build();
    roc.addSeries("model", spec.roc().stream().map(p -> p[0]).toList(), spec.roc().stream().map(p -> p[1]).toList())
        .setMarker(SeriesMarkers.NONE);
    roc.addSeries("random", List.of(0.0, 1.0), List.of(0.0, 1.0)).setMarker(SeriesMarkers.NONE);
    save(roc, "roc");
    List<BinaryMetrics.Decile> deciles = spec.calibration();
    double base = m.get("base_rate");
    List<String> labels = deciles.stream().map(d -> String.valueOf(d.decile())).toList();
    CategoryChart lift = new CategoryChartBuilder().width(450).height(420).title("Lift by score decile (validation)")
        .xAxisTitle("Score decile (1 = highest)").yAxisTitle("Churn rate / overall rate").build();
    lift.getStyler().setLegendVisible(false);
    lift.addSeries("lift", labels, deciles.stream().map(d -> (Number) (base == 0 ? 0 : d.actualRate() / base)).toList());
    save(lift, "lift");
    XYChart cal = new XYChartBuilder().width(450).height(420).title("Calibration by decile (validation)")
        .xAxisTitle("Mean predicted probability (%)").yAxisTitle("Actual churn rate (%)").build();
    cal.addSeries("deciles", deciles.stream().map(d -> d.meanPredicted() * 100).toList(),
        deciles.stream().map(d -> d.actualRate() * 100).toList()).setMarker(SeriesMarkers.CIRCLE);
    double top = deciles.stream().mapToDouble(d -> Math.max(d.meanPredicted(), d.actualRate())).max().orElse(1) * 100;
    cal.addSeries("perfect", List.of(0.0, top), List.of(0.0, top)).setMarker(SeriesMarkers.NONE);
    save(cal, "calibration");
    List<List<String>> dt = new ArrayList<>();
    for (BinaryMetrics.Decile d : deciles) {
      dt.add(List.of(String.valueOf(d.decile()), String.valueOf(d.customers()), pct(d.meanPredicted()), pct(d.actualRate()),
          String.format(Locale.ROOT, "%.2f", base == 0 ? 0 : d.actualRate() / base)));
    }
    table(List.of("decile", "customers", "mean predicted", "actual churn", "lift"), dt);
  }

  private void atRisk(LocalDate day) {
    html.append("<h2>Top 20 customers at risk on ").append(day).append("</h2>");
    List<Row> rows = warehouse.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(lit(Date.valueOf(day))))
        .orderBy(col("churn_probability").desc(), col("customer_id")).limit(20)
        .selectExpr("customer_id", "churn_probability", "risk_tier", "lifecycle_stage",
            "concat_ws('; ', transform(top_reasons, r -> r.phrase)) AS reasons").collectAsList();
    List<List<String>> table = new ArrayList<>();
    for (Row r : rows) {
      table.add(List.of(r.getString(0), pct(r.getDouble(1)), r.getString(2), r.getString(3), r.getString(4)));
    }
    table(List.of("customer", "churn probability", "risk tier", "lifecycle stage", "reasons"), table);
  }
}
