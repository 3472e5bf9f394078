package dev.churn.jobs;

import dev.churn.features.SourceMapping;
import dev.churn.generator.GenerateJob;
import dev.churn.models.Actions;
import dev.churn.jobs.report.ReportJob;
import dev.churn.jobs.stages.IngestJob;
import dev.churn.jobs.stages.RetentionJob;
import dev.churn.jobs.stages.ScoreJob;
import dev.churn.jobs.stages.TrainJob;
import dev.churn.jobs.stages.Training;
import dev.churn.jobs.warehouse.ModelRegistry;
import java.io.PrintWriter;
import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Generates a realistic sample data set under the warehouse, runs the pipeline over it and prints a summary.")
final class DemoCommand implements Callable<Integer> {
  @ParentCommand ChurnCli root;
  @Spec CommandSpec spec;

  /** Days of the demo's sample: enough history for two-weekly training snapshots and a validation month. */
  static final int DAYS = 210;
  /** Share of the demo's records made bad on purpose, so the quarantine has something to show. */
  static final double BAD_FRACTION = 0.01;

  @Mixin SampleOptions sample;

  @Mixin ActionOptions contacts;

  @Option(names = "--days", defaultValue = "" + DAYS, description = "Days of activity (default: ${DEFAULT-VALUE}).")
  int days;

  @Option(names = "--closed-loop", description = "Runs the loop from list to outcome instead: nights, each night's "
      + "list worked by a simulated retention team whose true effect per play is known, and each play's measured save "
      + "rate printed beside it (budget " + ClosedLoop.BUDGET + " and " + ClosedLoop.HOLDOUT_SHARE + " held out "
      + "unless given; its days are its own, --days is not used; its warehouse, unless given, is the default one's "
      + "name + '" + CLOSED_LOOP_SUFFIX + "'; docs/retention.md).")
  boolean closedLoop;

  @Option(names = "--report", defaultValue = "report", paramLabel = "DIR",
      description = "Where the HTML report goes (default: ${DEFAULT-VALUE}).")
  java.nio.file.Path report;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    String input = "_demo_input";
    GenerateJob.Options generate = ChurnCli.options(spec, () -> sample.generate(input, days, BAD_FRACTION));
    // Before anything runs: a bad --playbook or --holdout-share is a usage error, not a failure minutes in.
    Actions.Options contact = ChurnCli.options(spec, contacts::actions);
    if (closedLoop) {
      return closedLoop(out, generate, contact);
    }
    LocalDate start = generate.start();
    LocalDate end = start.plusDays(days - 1);
    try (ChurnCli.Context ctx = root.open("demo")) {
      String sample = ctx.warehouse().root() + "/" + input;
      out.printf("demo: generating %d customers over %d days from %s into %s%n", generate.customers(), days, start,
          sample);
      out.flush();
      GenerateJob.Result g = new GenerateJob(ctx.spark(), generate.withOut(sample)).run();
      out.printf("demo: %d event records written (%d made bad on purpose)%n", g.events(), g.badRecords());
      IngestJob.Result r = new IngestJob(ctx.stages("demo", end, out), new IngestJob.Options(List.of(sample + "/events"),
          List.of(sample + "/customers"), SourceMapping.canonical(), null,
          IngestJob.Gate.of(IngestJob.DEFAULT_MAX_BAD_FRACTION))).run();
      IngestCommand.print(out, r);
      TrainCommand.print(out, new TrainJob(ctx.stages("train", end, out),
          TrainJob.Options.first(end, Training.defaults(), sample + "/truth")).run().spec());
      ScoreJob.Result s = new ScoreJob(ctx.stages("score", end, out), end, null).run();
      out.printf("demo: %d customers scored on %s, %d at high risk; the five most at risk:%n", s.scored(), end, s.high());
      ChurnCli.nameTables(ctx.warehouse()); // the summary's SQL reads the tables by name
      SqlCommand.print(out, ctx.spark().sql("SELECT customer_id, round(churn_probability, 3) AS probability, risk_tier, "
          + "lifecycle_stage, concat_ws('; ', transform(top_reasons, r -> r.phrase)) AS reasons FROM churn.churn_scores "
          + "WHERE as_of_date = DATE'" + end + "' ORDER BY churn_probability DESC LIMIT 5"), 5);
      RetentionJob.Result ret = new RetentionJob(ctx.stages("retention", end, out), RetentionJob.Range.of(start, end),
          contact).run();
      out.printf(java.util.Locale.ROOT, "demo: %d customers worth a contact tonight (save rate %s, %s per contact, "
          + "budget %d, %.0f %% of them held out as the control group); the top five to contact:%n", ret.actions(),
          contact.saveRate(), contact.contactCost(), contact.budget(), contact.holdoutShare() * 100);
      SqlCommand.print(out, ctx.spark().sql("SELECT rank, customer_id, round(churn_probability, 3) AS probability, "
          + "round(expected_ltv, 2) AS value_at_stake, round(expected_net_value, 2) AS expected_net_value, play, "
          + "play_reason FROM churn.retention_actions WHERE as_of_date = DATE'" + end + "' AND "
          + Actions.CONTACT_GROUP + " = '"
          + Actions.CONTACT + "' ORDER BY rank LIMIT 5"), 5);
      out.println("demo: retention by industry, latest full month, against the yardsticks (annualised):");
      SqlCommand.print(out, ctx.spark().sql("SELECT industry, customers_start, customers_lost, "
          + "round(retention_rate, 4) AS monthly_retention, round(retention_rate_annualized, 3) AS annualised, "
          + "benchmark_retention_rate AS yardstick FROM churn.retention_rates WHERE period_type = 'month' AND NOT "
          + "is_partial AND segment = 'ALL' AND period_start = (SELECT max(period_start) FROM churn.retention_rates "
          + "WHERE period_type = 'month' AND NOT is_partial) ORDER BY industry"), 20);
      ReportJob.Result rep = new ReportJob(ctx.warehouse(), new ModelRegistry(ctx.warehouse()), end, report).run();
      out.printf("demo: report written to %s (%d charts)%n", rep.index().toAbsolutePath(), rep.charts().size());
      out.printf("demo: warehouse at %s; try ./churn --warehouse %s sql \"SELECT reason, count(*) FROM "
          + "events_quarantine GROUP BY reason\"%n", ctx.warehouse().root(), root.warehouse);
    }
    return 0;
  }

  /** What the closed loop's default warehouse adds to the default one's name. */
  static final String CLOSED_LOOP_SUFFIX = "-closed-loop";

  /** {@code --closed-loop}: the loop, then the report of its last night. */
  private int closedLoop(PrintWriter out, GenerateJob.Options generate, Actions.Options given) {
    var parsed = spec.commandLine().getParseResult();
    // An experiment's defaults, where the user gave none: every customer worth a call listed, half held out.
    Actions.Options contact = new Actions.Options(given.saveRate(), given.contactCost(),
        parsed.hasMatchedOption("--budget") ? given.budget() : ClosedLoop.BUDGET,
        parsed.hasMatchedOption("--holdout-share") ? given.holdoutShare() : ClosedLoop.HOLDOUT_SHARE, given.playbook());
    if (!parsed.hasMatchedOption("--warehouse") && !spec.parent().commandLine().getParseResult()
        .hasMatchedOption("--warehouse")) {
      // Not the plain demo's warehouse: the loop's customers would meet the demo's under the same ids.
      root.warehouse = root.warehouse.replaceAll("/+$", "") + CLOSED_LOOP_SUFFIX;
      out.printf("demo --closed-loop: warehouse %s%n", root.warehouse);
    }
    try (ChurnCli.Context ctx = root.open("demo --closed-loop")) {
      ClosedLoop.Result r = new ClosedLoop(ctx, out, generate, contact, ClosedLoop.Shape.DEMO,
          Training.defaults()).run();
      ClosedLoop.print(out, r);
      LocalDate last = ctx.warehouse().dataRange().last();
      ReportJob.Result rep = new ReportJob(ctx.warehouse(), new ModelRegistry(ctx.warehouse()), last, report).run();
      out.printf("demo: report written to %s (%d charts)%n", rep.index().toAbsolutePath(), rep.charts().size());
    }
    return 0;
  }
}
