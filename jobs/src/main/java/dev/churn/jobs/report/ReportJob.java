package dev.churn.jobs.report;

import static org.apache.spark.sql.functions.*;

import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.ModelRegistry;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Date;
import java.time.LocalDate;
import java.util.List;
import org.apache.spark.sql.Row;

/**
 * Writes a self-contained HTML report ({@code out/index.html} plus PNG charts drawn headless with XChart; no
 * network needed to view it): retention by industry against the yardsticks, churn and MRR churn over time by
 * segment, the cohort heatmap, survival by segment, the score distribution and risk tiers, ROC, lift and
 * calibration of the current model, the top at-risk customers with their reasons, and tonight's action list. Every chart has a table of its numbers beside it.
 */
public record ReportJob(Warehouse warehouse, ModelRegistry registry, LocalDate asOf, Path out) {
  /** The page, its charts, and the scores it shows (null, null before any). */
  public record Result(Path index, List<Path> charts, LocalDate scoresDate, Integer modelVersion) {}

  /**
   * The report; before any model has scored a date on or before {@code asOf}, its retention and survival sections
   * with a line saying which sections wait for scores ({@link Result#scoresDate()} is then null).
   */
  public Result run() {
    System.setProperty("java.awt.headless", "true");
    if (!warehouse.exists(Table.RETENTION_RATES)) {
      throw new ChurnException(ChurnException.FAILURE, "the report needs table " + Table.RETENTION_RATES.tableName()
          + ": run retention first (or nightly)");
    }
    try {
      Files.createDirectories(out);
    } catch (IOException e) {
      throw ChurnException.usage("cannot create report folder " + out + ": " + e.getMessage());
    }
    LocalDate scoresDate = lastScores();
    ModelRegistry.Loaded model = scoresDate == null ? null : registry.load(null);
    Page page = new Page(out);
    page.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Churn report ").append(asOf)
        .append("</title><style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
            + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
            + "th{background:#f3f3f3}td.l{text-align:left}img{max-width:100%}</style></head><body>")
        .append("<h1>Churn and retention report, as of ").append(asOf).append("</h1>");
    if (model == null) {
      page.append("<p id=\"no-scores\">No churn scores on or before ").append(asOf).append(" yet: the score "
          + "distribution, model quality, at-risk and action sections appear once a model has been trained and has "
          + "scored (run train and score, or nightly).</p>");
    } else {
      page.append("<p>Scores of ").append(scoresDate).append(" by model v").append(model.spec().version())
          .append(" (horizon ").append(model.spec().split().horizonDays()).append(" days).</p>");
    }
    RetentionSections retention = new RetentionSections(warehouse, page);
    retention.retentionByIndustry(asOf);
    retention.churnOverTime(asOf);
    retention.cohorts();
    ActionSections acting = new ActionSections(warehouse, page);
    acting.survival(asOf);
    if (model != null) {
      ModelSections models = new ModelSections(warehouse, page);
      models.scores(scoresDate);
      models.modelQuality(model.spec());
      models.atRisk(scoresDate);
      acting.actions(scoresDate);
      acting.effects();
    }
    page.append("</body></html>\n");
    return new Result(page.write(), page.charts(), scoresDate, model == null ? null : model.spec().version());
  }

  /** The last scoring date on or before {@code asOf}, or null before any. */
  private LocalDate lastScores() {
    if (!warehouse.exists(Table.CHURN_SCORES) || !warehouse.exists(Table.MODEL_REGISTRY)) {
      return null;
    }
    Row last = warehouse.read(Table.CHURN_SCORES).where(col("as_of_date").leq(lit(Date.valueOf(asOf))))
        .agg(max("as_of_date")).first();
    return last.isNullAt(0) ? null : last.getDate(0).toLocalDate();
  }
}
