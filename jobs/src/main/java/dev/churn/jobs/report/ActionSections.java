package dev.churn.jobs.report;

import static org.apache.spark.sql.functions.*;

import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.Actions;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's sections on what to act on: survival by segment, tonight's ranked action list, and whether the
 * contacts of earlier lists worked.
 */
record ActionSections(Warehouse warehouse, Page page) {
  /** Kaplan-Meier survival by segment (and all customers) as of the latest curve on or before {@code asOf}. */
  void survival(LocalDate asOf) {
    page.append("<h2>Survival by segment</h2>");
    Row last = !warehouse.exists(Table.SURVIVAL_CURVES) ? null : warehouse.read(Table.SURVIVAL_CURVES)
        .where(col("as_of_date").leq(lit(Date.valueOf(asOf)))).agg(max("as_of_date")).first();
    if (last == null || last.isNullAt(0)) {
      page.append("<p>No survival curves yet: run retention.</p>");
      return;
    }
    List<Row> rows = warehouse.read(Table.SURVIVAL_CURVES).where(col("as_of_date").equalTo(last.get(0))
        .and(col("dimension").isin("all", "segment"))).orderBy("group_value", "day").collectAsList();
    if (rows.isEmpty()) {
      page.append("<p>No customer has churned by ").append(last.get(0)).append(": every curve is still at 100 %.</p>");
      return;
    }
    page.append("<p>Share of customers still with us by days since signup (Kaplan-Meier, as of ")
        .append(last.get(0)).append("; customers still active are censored). The table gives each group's median "
            + "lifetime, or says the curve has not reached one half yet.</p>");
    Map<String, List<Row>> byGroup = new TreeMap<>();
    rows.forEach(r -> byGroup.computeIfAbsent(r.getAs("group_value"), k -> new ArrayList<>()).add(r));
    XYChart chart = new XYChartBuilder().width(900).height(420).title("Survival by segment (Kaplan-Meier)")
        .xAxisTitle("Days since signup").yAxisTitle("Still a customer (%)").build();
    List<List<String>> table = new ArrayList<>();
    for (Map.Entry<String, List<Row>> e : byGroup.entrySet()) {
      List<Number> x = new ArrayList<>(List.of(0));
      List<Number> y = new ArrayList<>(List.of(100.0));
      double previous = 100.0;
      for (Row r : e.getValue()) { // a step: flat until the day, then down
        int day = r.getAs("day");
        x.add(day);
        y.add(previous);
        previous = r.<Double>getAs("survival") * 100;
        x.add(day);
        y.add(previous);
      }
      chart.addSeries(e.getKey(), x, y).setMarker(SeriesMarkers.NONE);
      Row end = e.getValue().get(e.getValue().size() - 1);
      Integer median = end.getAs("median_days");
      table.add(List.of(e.getKey(), String.valueOf(e.getValue().get(0).<Long>getAs("at_risk")),
          Page.pct(end.getAs("survival")), Page.pct(end.getAs("ci_low")) + " - " + Page.pct(end.getAs("ci_high")),
          String.valueOf(end.<Integer>getAs("day")), median == null ? "not reached" : median + " days"));
    }
    page.chart(chart, "survival_by_segment");
    page.table(List.of("group", "customers", "survival at the last churn", "95% band", "on day", "median lifetime"),
        table);
  }

  /** Tonight's contacts: the customers worth a call, ranked by expected net value. */
  void actions(LocalDate scoresDate) {
    page.append("<h2>Whom to contact</h2>");
    if (!warehouse.exists(Table.RETENTION_ACTIONS)) {
      page.append("<p>No action list yet: run retention after score.</p>");
      return;
    }
    List<Row> rows = warehouse.read(Table.RETENTION_ACTIONS).where(col("as_of_date").equalTo(lit(Date.valueOf(scoresDate))))
        .orderBy("rank").collectAsList();
    if (rows.isEmpty()) {
      page.append("<p>No customer scored on ").append(scoresDate).append(" is worth more than a contact costs.</p>");
      return;
    }
    Row first = rows.get(0);
    // A list written before the control group existed has no contact_group: every row of it is a contact.
    // Lists written before plays and the control group existed lack their columns.
    List<String> columns = java.util.Arrays.asList(first.schema().fieldNames());
    boolean grouped = columns.contains(Actions.CONTACT_GROUP);
    List<Row> contacts = rows.stream().filter(r -> !grouped || !Actions.HOLDOUT.equals(r.getAs(Actions.CONTACT_GROUP)))
        .toList();
    double total = contacts.stream().mapToDouble(r -> r.<Double>getAs("expected_net_value")).sum();
    page.append(String.format(Locale.ROOT, "<p>%d customers scored on %s, ranked by expected net value of a contact "
            + "= probability x save rate x value at stake (monthly value x expected remaining months, from the "
            + "segment's survival curve) - contact cost (%.2f). Together: %.2f expected. Save rates used: %s.</p>",
        contacts.size(), scoresDate, first.<Double>getAs("contact_cost"), total, saveRates(rows, columns)));
    // A list written before the control group existed reads null in the columns a later write added.
    Double share = grouped ? first.getAs("holdout_share") : null;
    if (share != null) {
      page.append(String.format(Locale.ROOT, "<p>%d more on the list are held out as the control group (%.0f %% "
              + "drawn at random, the same customers on a rerun): do not contact them; comparing their churn with "
              + "the contacted customers' measures what the contacts save.</p>", rows.size() - contacts.size(),
          share * 100));
    }
    List<List<String>> table = new ArrayList<>();
    for (Row r : contacts.subList(0, Math.min(25, contacts.size()))) {
      List<String> reasons = new ArrayList<>();
      List<Row> top = r.getList(r.fieldIndex("top_reasons"));
      if (top != null) {
        top.forEach(t -> reasons.add(t.getAs("phrase")));
      }
      table.add(List.of(String.valueOf(r.<Integer>getAs("rank")), r.getAs("customer_id"), r.getAs("segment"),
          Page.pct(r.getAs("churn_probability")), String.format(Locale.ROOT, "%.2f", r.<Double>getAs("monthly_value")),
          String.format(Locale.ROOT, "%.1f", r.<Double>getAs("expected_remaining_months")),
          String.format(Locale.ROOT, "%.2f", r.<Double>getAs("expected_net_value")), r.getAs("lifecycle_stage"),
          grouped && r.getAs("play") != null ? r.getAs("play") : "", String.join("; ", reasons)));
    }
    page.table(List.of("rank", "customer", "segment", "churn probability", "monthly value", "expected months left",
        "expected net value", "lifecycle stage", "play", "reasons"), table);
  }

  /** The save rate each play's contacts were valued with, and whether it was assumed or measured. */
  private static String saveRates(List<Row> rows, List<String> columns) {
    Map<String, String> used = new TreeMap<>();
    for (Row r : rows) {
      boolean measured = columns.contains("save_rate_source")
          && dev.churn.models.SaveRates.MEASURED.equals(r.getAs("save_rate_source"));
      String play = columns.contains("play") ? r.getAs("play") : null;
      used.put(play == null ? "every contact" : play, String.format(Locale.ROOT, "%.0f %% (%s)",
          r.<Double>getAs("save_rate") * 100, measured ? "measured" : "assumed"));
    }
    return String.join(", ", used.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList());
  }

  /**
   * "Did our interventions work?": per list month and play (all segments), the contacted customers' churn against
   * the held-out control group's, the uplift and the save rate with their 95 % intervals, and what they allow one
   * to say; plainly "not enough evidence yet" while no list's horizon has ended.
   */
  void effects() {
    page.append("<h2>Did our interventions work?</h2>");
    List<Row> rows = !warehouse.exists(Table.INTERVENTION_EFFECTS) ? List.of() : warehouse
        .read(Table.INTERVENTION_EFFECTS).where(col("segment").equalTo("ALL")).orderBy("list_month", "play")
        .collectAsList();
    long assigned = rows.stream().filter(r -> "ALL".equals(r.getAs("play")))
        .mapToLong(r -> r.<Long>getAs("assigned_contact") + r.<Long>getAs("assigned_holdout")).sum();
    List<Row> measured = rows.stream().filter(r -> r.getAs("uplift") != null).toList();
    if (measured.isEmpty()) {
      page.append(String.format(Locale.ROOT, "<p>Not enough evidence yet: %s. The effect of a contact is measured "
          + "once the horizon after a list has ended, by comparing the churn of the listed customers the team was "
          + "asked to contact with that of the control group held out of the same lists.</p>", assigned == 0
          ? "no action list with a control group has been written" : assigned + " customers have been listed, "
          + "and no list's horizon has ended"));
      return;
    }
    page.append("<p>Each month's listed customers, by play: the churn within the horizon of those assigned to a "
        + "contact against the control group held out of the same lists (intention to treat: assigned, whether or "
        + "not the contact was made; the last column says how many the team logged as contacted, from ingest "
        + "--interventions). The uplift is the churn the contacts prevented per customer; the save rate "
        + "is the share of would-be churners a contact kept. 95 % intervals; an interval that spans 0 means "
        + "there is not enough evidence yet to tell.</p>");
    List<List<String>> table = new ArrayList<>();
    for (Row r : measured) {
      Double save = r.getAs("save_rate");
      double low = r.getAs("uplift_ci_low");
      double high = r.getAs("uplift_ci_high");
      String verdict = low > 0 ? "the contacts kept customers" : high < 0 ? "the contacted churned more"
          : "not enough evidence yet";
      table.add(List.of(String.valueOf(r.<Object>getAs("list_month")).substring(0, 7), r.getAs("play"),
          r.<Long>getAs("measured_contact") + " / " + r.<Long>getAs("measured_holdout"),
          Page.pct(r.getAs("contact_churn_rate")), Page.pct(r.getAs("holdout_churn_rate")),
          Page.pct(r.getAs("uplift")) + " (" + Page.pct(low) + " to " + Page.pct(high) + ")",
          save == null ? "no held-out churner yet" : Page.pct(save) + " (" + Page.pct(r.getAs("save_rate_ci_low"))
              + " to " + Page.pct(r.getAs("save_rate_ci_high")) + ")", verdict, contacted(r)));
    }
    page.table(List.of("list month", "play", "customers (contacted / held out)", "churn, contacted",
        "churn, held out", "uplift (95 %)", "save rate (95 %)", "what it says", "contacts logged"), table);
  }

  /** The share of the assigned the team logged a contact for, and the held out it contacted all the same. */
  private static String contacted(Row r) {
    // A table written before interventions were read has no such columns (the next retention run adds them).
    if (!java.util.List.of(r.schema().fieldNames()).contains("contacted_share")) {
      return "none logged";
    }
    Double share = r.getAs("contacted_share");
    long leaked = r.<Long>getAs("contacted_holdout");
    String held = leaked > 0 ? leaked + " held out contacted all the same" : "";
    if (share == null || share == 0) {
      return leaked > 0 ? "none of the assigned; " + held : "none logged";
    }
    return Page.pct(share) + " of the assigned" + (leaked > 0 ? "; " + held : "");
  }
}
