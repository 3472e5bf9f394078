package dev.churn.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.ChurnCli;
import dev.churn.jobs.NotebookCells;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.EndToEnd;
import dev.churn.testing.SparkSuite;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every cell of every notebook runs against a warehouse built from generated data. */
@EndToEnd
class NotebooksIT extends SparkSuite {
  private static String wh;

  private static void churn(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cmd = ChurnCli.commandLine(new ChurnCli(c -> spark, false), args);
    cmd.setOut(new PrintWriter(new StringWriter(), true));
    cmd.setErr(new PrintWriter(err, true));
    assertEquals(0, cmd.execute(args), String.join(" ", args) + ": " + err);
  }

  @BeforeAll
  static void buildWarehouse() {
    Path out = tempDir("nb-gen");
    wh = tempDir("nb-wh").toString();
    churn("generate", "--out", out.toString(), "--customers", "600", "--days", "160", "--start", "2026-01-01",
        "--seed", "9");
    churn("--warehouse", wh, "ingest", "--events", out.resolve("events").toString(), "--customers",
        out.resolve("customers").toString());
    churn("--warehouse", wh, "train", "--as-of", "2026-06-09", "--truth", out.resolve("truth").toString(),
        "--reg-params", "0.01", "--elastic-net-params", "0");
    churn("--warehouse", wh, "score", "--as-of", "2026-05-10");
    churn("--warehouse", wh, "score", "--as-of", "2026-06-09");
    churn("--warehouse", wh, "retention", "--from", "2026-01-01", "--to", "2026-06-09");
  }

  private static Path report;

  /**
   * The warehouse's report as of its last scoring, written once for the two tests that read it (each test wrote its
   * own): the browser's files land beside it, which the other test does not read.
   */
  private static synchronized Path report() {
    if (report == null) {
      Path out = tempDir("nb-report");
      churn("--warehouse", wh, "report", "--as-of", "2026-06-09", "--out", out.toString());
      report = out;
    }
    return report;
  }

  static List<Path> notebooks() throws IOException {
    try (Stream<Path> files = Files.list(repoRoot().resolve("notebooks"))) {
      return files.filter(p -> p.toString().endsWith(".sql")).sorted().toList();
    }
  }

  /** Runs every cell; fails on an error and on a cell marked "-- expect rows" that returns none. */
  static int run(String notebook, String name) {
    return run(notebook, name, wh, true).size();
  }

  /**
   * Runs every cell against warehouse {@code at} as a command opens it (its tables, empty stand-ins for the output
   * tables it lacks); returns each cell's first row's first value (null without rows). With {@code expectRows}, a
   * cell marked "-- expect rows" that returns none fails.
   */
  static List<String> run(String notebook, String name, String at, boolean expectRows) {
    Warehouse w = new Warehouse(spark, at);
    w.nameTables();
    dev.churn.jobs.stages.EmptyOutputs.register(w);
    List<String> firsts = new java.util.ArrayList<>();
    int n = 0;
    for (NotebookCells.Cell cell : NotebookCells.cells(notebook)) {
      n++;
      List<org.apache.spark.sql.Row> rows = spark.sql(cell.statement()).limit(1).collectAsList();
      if (expectRows && cell.expectRows()) {
        assertTrue(!rows.isEmpty(), name + " cell " + n + " returned no rows:\n" + cell.statement());
      }
      firsts.add(rows.isEmpty() || rows.get(0).isNullAt(0) ? null : String.valueOf(rows.get(0).get(0)));
    }
    return firsts;
  }

  /**
   * Run in the order an analyst might (ingest, retention, and nothing else yet), every notebook runs, and its status
   * cell, the first, says what is missing rather than the notebook failing on a table not written yet.
   */
  @Test
  void everyNotebookSaysWhatIsMissingBeforeAModelExists() throws IOException {
    Path out = tempDir("nb-early-gen");
    String early = tempDir("nb-early-wh").toString();
    churn("generate", "--out", out.toString(), "--customers", "40", "--days", "30", "--start", "2026-01-01");
    churn("--warehouse", early, "ingest", "--events", out.resolve("events").toString(), "--customers",
        out.resolve("customers").toString());
    churn("--warehouse", early, "retention", "--from", "2026-01-01", "--to", "2026-01-30");
    // (30 days: no month of a cohort has ended yet, so the cohort notebook may say so too)
    for (Path p : notebooks()) {
      String status = run(Files.readString(p), p.getFileName().toString(), early, false).get(0);
      String name = p.getFileName().toString();
      if (List.of("model_health.sql", "at_risk_customers.sql", "retention_actions.sql", "intervention_effects.sql")
          .contains(name)) {
        assertEquals("no model trained yet: run train", status, name);
      } else {
        assertTrue(status != null && (status.startsWith("ready") || status.startsWith("no cohorts yet")), name
            + ": " + status);
      }
    }
    // The report too: the retention and survival sections, and a line saying what waits for scores.
    Path report = tempDir("nb-early-report");
    churn("--warehouse", early, "report", "--as-of", "2026-01-30", "--out", report.toString());
    String html = Files.readString(report.resolve("index.html"));
    assertTrue(html.contains("No churn scores on or before 2026-01-30 yet"), html);
    assertTrue(html.contains("Retention by industry against the yardsticks</h2>")
        && html.contains("Survival by segment</h2>"), html);
    assertFalse(html.contains("Score distribution") || html.contains("Whom to contact"), html);
  }

  @Test
  void everyCellOfEveryNotebookRuns() throws IOException {
    List<Path> notebooks = notebooks();
    assertTrue(notebooks.size() >= 4, notebooks.toString());
    for (Path p : notebooks) {
      String text = Files.readString(p);
      assertTrue(text.startsWith("-- Databricks notebook source\n"), p + " is not in Databricks SQL source format");
      assertTrue(run(text, p.getFileName().toString()) >= 2, p.toString());
    }
  }

  @Test
  void theReportRendersNonEmptyChartsAndShowsTheTablesNumbers() throws Exception {
    Path report = report();
    String html = Files.readString(report.resolve("index.html"));
    java.util.regex.Matcher img = java.util.regex.Pattern.compile("<img src=\"([^\"]+)\" alt=\"([^\"]*)\"").matcher(html);
    int images = 0;
    while (img.find()) {
      images++;
      assertFalse(img.group(2).isBlank(), "every chart has a title");
      java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(report.resolve(img.group(1)).toFile());
      assertTrue(png.getWidth() >= 400 && png.getHeight() >= 300, img.group(1));
      java.util.Set<Integer> colours = new java.util.HashSet<>();
      for (int x = 0; x < png.getWidth(); x += 7) {
        for (int y = 0; y < png.getHeight(); y += 7) {
          colours.add(png.getRGB(x, y));
        }
      }
      assertTrue(colours.size() > 5, img.group(1) + " looks blank");
    }
    assertEquals(9, images, "retention by industry, churn, MRR churn, cohorts, survival, scores, ROC, lift, "
        + "calibration");
    new Warehouse(spark, wh).nameTables();
    for (org.apache.spark.sql.Row r : spark.sql("SELECT industry, retention_rate FROM churn.retention_rates WHERE "
        + "period_type = 'month' AND NOT is_partial AND segment = 'ALL' AND industry <> 'ALL' AND period_start = "
        + "(SELECT max(period_start) FROM churn.retention_rates WHERE period_type = 'month' AND NOT is_partial)")
        .collectAsList()) {
      String row = "<td class=\"l\">" + r.getString(0) + "</td>";
      assertTrue(html.contains(row), r.getString(0));
      String cells = html.substring(html.indexOf(row), html.indexOf("</tr>", html.indexOf(row)));
      assertTrue(cells.contains("<td>" + dev.churn.jobs.report.Page.pct(r.getDouble(1)) + "</td>"), cells);
    }
    String top = spark.sql("SELECT customer_id FROM churn.churn_scores WHERE as_of_date = DATE'2026-06-09' "
        + "ORDER BY churn_probability DESC, customer_id LIMIT 1").first().getString(0);
    assertTrue(html.contains("<td class=\"l\">" + top + "</td>"), "the top at-risk customer is listed");
  }

  /**
   * The report as an analyst sees it, in headless Chromium (Debian's {@code chromium}, installed by .ci/setup): every
   * image loads, nothing is written to the console, every chart has a title and both axis titles, and a
   * screenshot of each section is not blank.
   */
  @Test
  void theReportInABrowser() throws Exception {
    Path report = report();
    String url = report.resolve("index.html").toUri().toString();
    // Without scrollbars, as the screenshot below: a scrollbar narrows the page, which moves every section down,
    // and the last section's measured top then fell below its text on the screenshot.
    Browser dom = browser(report, "--virtual-time-budget=5000", "--enable-logging=stderr", "--v=0",
        "--window-size=1100,900", "--hide-scrollbars", "--dump-dom", url);
    assertFalse(dom.err().contains(":CONSOLE"), "console messages: " + dom.err().lines()
        .filter(l -> l.contains(":CONSOLE")).toList());
    java.util.regex.Matcher body = java.util.regex.Pattern.compile("<body data-broken-images=\"([^\"]*)\" "
        + "data-sections=\"([^\"]*)\" data-height=\"(\\d+)\"").matcher(dom.out());
    assertTrue(body.find(), "the page checked itself once loaded: " + dom.out().substring(0,
        Math.min(300, dom.out().length())));
    assertEquals("", body.group(1), "images that did not load");
    java.util.regex.Matcher img = java.util.regex.Pattern.compile("<img src=\"[^\"]+\" alt=\"([^\"]*)\" "
        + "data-x-axis=\"([^\"]*)\" data-y-axis=\"([^\"]*)\"").matcher(dom.out());
    int charts = 0;
    while (img.find()) {
      charts++;
      assertFalse(img.group(1).isBlank() || img.group(2).isBlank() || img.group(3).isBlank(),
          "a chart without a title or an axis title: " + img.group());
    }
    assertEquals(9, charts);
    String[] sections = body.group(2).split(" ");
    assertTrue(sections.length >= 8, body.group(2));
    int height = Integer.parseInt(body.group(3));
    Path shot = report.resolve("page.png");
    browser(report, "--window-size=1100," + height, "--hide-scrollbars", "--screenshot=" + shot, url);
    java.awt.image.BufferedImage page = javax.imageio.ImageIO.read(shot.toFile());
    for (int i = 0; i < sections.length; i++) {
      int top = Integer.parseInt(sections[i].split(":")[1]);
      int bottom = i + 1 < sections.length ? Integer.parseInt(sections[i + 1].split(":")[1])
          : Math.min(page.getHeight(), top + 600);
      java.util.Set<Integer> colours = new java.util.HashSet<>();
      for (int y = top; y < Math.min(bottom, page.getHeight()); y += 3) {
        for (int x = 0; x < page.getWidth(); x += 3) {
          colours.add(page.getRGB(x, y));
        }
      }
      assertTrue(colours.size() > 10, "section " + sections[i] + " looks blank on screen (" + colours.size()
          + " colours)");
    }
  }

  private record Browser(String out, String err) {}

  /** Runs headless Chromium with {@code args}; its output and error stream. */
  private static Browser browser(Path dir, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("chromium", "--headless", "--no-sandbox", "--disable-gpu",
        "--user-data-dir=" + dir.resolve("chromium-profile")));
    command.addAll(List.of(args));
    Path out = dir.resolve("chromium.out");
    Path err = dir.resolve("chromium.err");
    Process p;
    try {
      p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    } catch (IOException e) {
      throw new AssertionError("the browser test needs Debian's chromium (.ci/setup installs it): " + e.getMessage());
    }
    assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "chromium did not finish in 2 minutes");
    return new Browser(Files.readString(out), Files.readString(err));
  }

  @Test
  void aNotebookNamingAMissingColumnFails() {
    String broken = "-- Databricks notebook source\n-- COMMAND ----------\n-- expect rows\n"
        + "SELECT customer_id, churn_probabilty FROM churn.churn_scores\n";
    Exception e = assertThrows(Exception.class, () -> run(broken, "broken"));
    assertTrue(e.getMessage().contains("churn_probabilty"), e.getMessage());
  }

  @Test
  void anEmptyKeyCellFails() {
    String empty = "-- Databricks notebook source\n-- COMMAND ----------\n-- expect rows\n"
        + "SELECT * FROM churn.churn_scores WHERE churn_probability > 2\n";
    AssertionError e = assertThrows(AssertionError.class, () -> run(empty, "empty"));
    assertFalse(e.getMessage().isEmpty());
  }
}
