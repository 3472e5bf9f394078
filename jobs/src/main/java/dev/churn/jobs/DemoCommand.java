package dev.churn.jobs;

import dev.churn.features.SourceMapping;
import dev.churn.generator.GenerateJob;
import dev.churn.jobs.report.ReportJob;
import dev.churn.jobs.stages.IngestJob;
import dev.churn.jobs.stages.RetentionJob;
import dev.churn.jobs.stages.ScoreJob;
import dev.churn.jobs.stages.TrainJob;
import dev.churn.jobs.warehouse.RunLog;
import java.io.PrintWriter;
import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Generates a realistic sample data set under the warehouse, runs the pipeline over it and prints a summary.")
final class DemoCommand implements Callable<Integer> {
  @ParentCommand ChurnCli root;
  @Spec CommandSpec spec;

  @Option(names = "--customers", defaultValue = "2000", description = "Customers to generate (default: ${DEFAULT-VALUE}).")
  int customers;

  @Option(names = "--days", defaultValue = "210", description = "Days of activity (default: ${DEFAULT-VALUE}).")
  int days;

  @Option(names = "--start", defaultValue = "2026-01-01", paramLabel = "DATE", description = "First day (default: ${DEFAULT-VALUE}).")
  LocalDate start;

  @Option(names = "--seed", defaultValue = "7", description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--report", defaultValue = "report", paramLabel = "DIR",
      description = "Where the HTML report goes (default: ${DEFAULT-VALUE}).")
  java.nio.file.Path report;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (ChurnCli.Context ctx = root.open("demo")) {
      String sample = ctx.warehouse().root() + "/_demo_input";
      out.printf("demo: generating %d customers over %d days from %s into %s%n", customers, days, start, sample);
      out.flush();
      GenerateJob.Result g = new GenerateJob(ctx.spark(),
          new GenerateJob.Options(sample, customers, days, start, seed, 0.01)).run();
      out.printf("demo: %d event records written (%d made bad on purpose)%n", g.events(), g.badRecords());
      RunLog log = new RunLog(ctx.warehouse(), "demo", start.plusDays(days - 1), out);
      IngestJob.Result r = new IngestJob(ctx.warehouse(), log, new IngestJob.Options(List.of(sample + "/events"),
          List.of(sample + "/customers"), SourceMapping.canonical(), null, IngestJob.DEFAULT_MAX_BAD_FRACTION)).run();
      IngestCommand.print(out, r);
      LocalDate end = start.plusDays(days - 1);
      RunLog train = new RunLog(ctx.warehouse(), "train", end, out);
      dev.churn.models.ModelSpec model = new TrainJob(ctx.warehouse(), train, new TrainJob.Options(end, 30,
          sample + "/truth", dev.churn.models.ChurnTrainer.Config.defaults())).run();
      TrainCommand.print(out, model);
      RunLog score = new RunLog(ctx.warehouse(), "score", end, out);
      ScoreJob.Result s = new ScoreJob(ctx.warehouse(), score, end, null, out).run();
      out.printf("demo: %d customers scored on %s, %d at high risk; the five most at risk:%n", s.scored(), end, s.high());
      SqlCommand.print(out, ctx.spark().sql("SELECT customer_id, round(churn_probability, 3) AS probability, risk_tier, "
          + "lifecycle_stage, concat_ws('; ', transform(top_reasons, r -> r.phrase)) AS reasons FROM churn.churn_scores "
          + "WHERE as_of_date = DATE'" + end + "' ORDER BY churn_probability DESC LIMIT 5"), 5);
      RunLog retention = new RunLog(ctx.warehouse(), "retention", end, out);
      new RetentionJob(ctx.warehouse(), retention, start, end).run();
      out.println("demo: retention by industry, latest full month, against the yardsticks (annualised):");
      SqlCommand.print(out, ctx.spark().sql("SELECT industry, customers_start, customers_lost, "
          + "round(retention_rate, 4) AS monthly_retention, round(retention_rate_annualized, 3) AS annualised, "
          + "benchmark_retention_rate AS yardstick FROM churn.retention_rates WHERE period_type = 'month' AND NOT "
          + "is_partial AND segment = 'ALL' AND period_start = (SELECT max(period_start) FROM churn.retention_rates "
          + "WHERE period_type = 'month' AND NOT is_partial) ORDER BY industry"), 20);
      ReportJob.Result rep = new ReportJob(ctx.warehouse(), end, report).run();
      out.printf("demo: report written to %s (%d charts)%n", rep.index().toAbsolutePath(), rep.charts().size());
      out.printf("demo: warehouse at %s; try ./churn --warehouse %s sql \"SELECT reason, count(*) FROM "
          + "events_quarantine GROUP BY reason\"%n", ctx.warehouse().root(), root.warehouse);
    }
    return 0;
  }
}
