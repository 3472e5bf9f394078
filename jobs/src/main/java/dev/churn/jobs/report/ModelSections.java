package dev.churn.jobs.report;

import static org.apache.spark.sql.functions.*;

import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.BinaryMetrics;
import dev.churn.models.ModelSpec;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The report's model sections: the score distribution and tiers, the model's quality, the customers most at risk. */
record ModelSections(Warehouse warehouse, Page page) {
  void scores(LocalDate day) {
    page.append("<h2>Score distribution and risk tiers</h2>");
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
    page.chart(hist, "score_distribution");
    List<List<String>> table = new ArrayList<>();
    for (Row r : scores.groupBy("risk_tier").agg(count(lit(1)).as("n"), sum("churn_probability").as("expected"))
        .orderBy("risk_tier").collectAsList()) {
      table.add(List.of(r.getString(0), String.valueOf(r.getLong(1)), String.format(Locale.ROOT, "%.1f", r.getDouble(2))));
    }
    page.table(List.of("risk tier", "customers", "expected churners (sum of probabilities)"), table);
  }

  void modelQuality(ModelSpec spec) {
    ModelSpec.Split split = spec.split();
    boolean heldOut = split.heldOutTest();
    page.append("<h2>Model v").append(spec.version()).append(": out-of-time quality on the ")
        .append(heldOut ? "test" : "validation").append(" snapshot ").append(split.reportedDate()).append("</h2>");
    page.append("<p>").append(heldOut ? "Tuned on the validation snapshot " + split.validationDate()
        + ", fitted on the training and validation snapshots, and tested on a snapshot neither saw."
        : "History was too short for a held-out test snapshot: these figures are on the snapshot that tuned the "
        + "model, so they flatter it.").append("</p>");
    Map<String, Double> m = spec.quality().reported();
    List<List<String>> metrics = new ArrayList<>();
    for (String k : List.of("roc_auc", "pr_auc", "log_loss", "log_loss_constant", "brier", "top_decile_lift",
        "top_decile_capture", "oracle_roc_auc")) {
      if (m.get(k) != null) {
        metrics.add(List.of(k, String.format(Locale.ROOT, "%.4f", m.get(k))));
      }
    }
    metrics.add(List.of("baseline roc_auc (days since last activity)",
        String.format(Locale.ROOT, "%.4f", spec.quality().baseline().get("roc_auc"))));
    page.table(List.of("metric", "value"), metrics);
    XYChart roc = new XYChartBuilder().width(450).height(420).title("ROC curve (" + (heldOut ? "test" : "validation") + ")")
        .xAxisTitle("False positive rate").yAxisTitle("True positive rate").build();
    roc.addSeries("model", spec.quality().roc().stream().map(p -> p[0]).toList(), spec.quality().roc().stream().map(p -> p[1]).toList())
        .setMarker(SeriesMarkers.NONE);
    roc.addSeries("random", List.of(0.0, 1.0), List.of(0.0, 1.0)).setMarker(SeriesMarkers.NONE);
    page.chart(roc, "roc");
    List<BinaryMetrics.Decile> deciles = spec.quality().calibration();
    double base = m.get("base_rate");
    List<String> labels = deciles.stream().map(d -> String.valueOf(d.decile())).toList();
    CategoryChart lift = new CategoryChartBuilder().width(450).height(420).title("Lift by score decile (" + (heldOut ? "test" : "validation") + ")")
        .xAxisTitle("Score decile (1 = highest)").yAxisTitle("Churn rate / overall rate").build();
    lift.getStyler().setLegendVisible(false);
    lift.addSeries("lift", labels, deciles.stream().map(d -> (Number) (base == 0 ? 0 : d.actualRate() / base)).toList());
    page.chart(lift, "lift");
    XYChart cal = new XYChartBuilder().width(450).height(420).title("Calibration by decile (" + (heldOut ? "test" : "validation") + ")")
        .xAxisTitle("Mean predicted probability (%)").yAxisTitle("Actual churn rate (%)").build();
    cal.addSeries("deciles", deciles.stream().map(d -> d.meanPredicted() * 100).toList(),
        deciles.stream().map(d -> d.actualRate() * 100).toList()).setMarker(SeriesMarkers.CIRCLE);
    double top = deciles.stream().mapToDouble(d -> Math.max(d.meanPredicted(), d.actualRate())).max().orElse(1) * 100;
    cal.addSeries("perfect", List.of(0.0, top), List.of(0.0, top)).setMarker(SeriesMarkers.NONE);
    page.chart(cal, "calibration");
    List<List<String>> dt = new ArrayList<>();
    for (BinaryMetrics.Decile d : deciles) {
      dt.add(List.of(String.valueOf(d.decile()), String.valueOf(d.customers()), Page.pct(d.meanPredicted()), Page.pct(d.actualRate()),
          String.format(Locale.ROOT, "%.2f", base == 0 ? 0 : d.actualRate() / base)));
    }
    page.table(List.of("decile", "customers", "mean predicted", "actual churn", "lift"), dt);
  }

  void atRisk(LocalDate day) {
    page.append("<h2>Top 20 customers at risk on ").append(day).append("</h2>");
    List<Row> rows = warehouse.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo(lit(Date.valueOf(day))))
        .orderBy(col("churn_probability").desc(), col("customer_id")).limit(20)
        .selectExpr("customer_id", "churn_probability", "risk_tier", "lifecycle_stage",
            "concat_ws('; ', transform(top_reasons, r -> r.phrase)) AS reasons").collectAsList();
    List<List<String>> table = new ArrayList<>();
    for (Row r : rows) {
      table.add(List.of(r.getString(0), Page.pct(r.getDouble(1)), r.getString(2), r.getString(3), r.getString(4)));
    }
    page.table(List.of("customer", "churn probability", "risk tier", "lifecycle stage", "reasons"), table);
  }
}
