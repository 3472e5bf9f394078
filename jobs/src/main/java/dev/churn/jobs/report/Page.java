package dev.churn.jobs.report;

import dev.churn.jobs.warehouse.ChurnException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

/**
 * One report page being written: its HTML and the PNG charts saved beside it in {@code out}. A new page per
 * report, so writing a report twice never doubles it.
 */
public final class Page {
  private final Path out;
  private final StringBuilder html = new StringBuilder();
  private final List<Path> charts = new ArrayList<>();

  Page(Path out) {
    this.out = out;
  }

  /** Appends raw HTML (callers escape text with {@link #escape}). */
  Page append(Object text) {
    html.append(text);
    return this;
  }

  /** Draws {@code chart} as {@code name.png} beside the page and shows it. */
  void chart(Chart<?, ?> chart, String name) {
    Path png = out.resolve(name + ".png");
    try {
      BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot draw chart " + png + ": " + e.getMessage(), e);
    }
    charts.add(png);
    var axes = chart instanceof org.knowm.xchart.internal.chartpart.AxesChart<?, ?> a ? a : null;
    html.append("<p><img src=\"").append(name).append(".png\" alt=\"").append(escape(chart.getTitle()))
        .append("\" data-x-axis=\"").append(escape(axes == null ? null : axes.getXAxisTitle()))
        .append("\" data-y-axis=\"").append(escape(axes == null ? null : axes.getYAxisTitle())).append("\"></p>");
  }

  /** A table of the numbers beside a chart: the first column left-aligned, the others right-aligned. */
  void table(List<String> header, List<List<String>> rows) {
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

  List<Path> charts() {
    return List.copyOf(charts);
  }

  /**
   * What the page says of itself once loaded, for a browser test (and anyone opening the developer tools): on
   * {@code <body>}, the images that did not load ({@code data-broken-images}), each section's id and top
   * ({@code data-sections}) and the page's height ({@code data-height}).
   */
  private static final String SELF_CHECK = "<script>window.addEventListener('load', () => {"
      + "const b = document.body;"
      + "b.dataset.brokenImages = [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
      + ".map(i => i.getAttribute('src')).join(' ');"
      + "b.dataset.sections = [...document.querySelectorAll('h2')].map(h => h.id + ':'"
      + " + Math.round(h.getBoundingClientRect().top + window.scrollY)).join(' ');"
      + "b.dataset.height = document.documentElement.scrollHeight;});</script>";

  /** Writes {@code out/index.html}: every section heading gets an id (s1, s2, ...) to link to. */
  Path write() {
    Path index = out.resolve("index.html");
    StringBuilder page = new StringBuilder();
    java.util.regex.Matcher h2 = java.util.regex.Pattern.compile("<h2>").matcher(html);
    int n = 0;
    while (h2.find()) {
      h2.appendReplacement(page, "<h2 id=\"s" + (++n) + "\">");
    }
    h2.appendTail(page);
    int end = page.lastIndexOf("</body>");
    if (end >= 0) {
      page.insert(end, SELF_CHECK);
    }
    try {
      Files.writeString(index, page.toString(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot write " + index + ": " + e.getMessage(), e);
    }
    return index;
  }

  static String escape(String s) {
    return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  /** A rate as the report prints it, e.g. 0.9 as "90.0%". */
  public static String pct(Object x) {
    return x == null ? "" : String.format(Locale.ROOT, "%.1f%%", ((Number) x).doubleValue() * 100);
  }
}
