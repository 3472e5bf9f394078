package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;

import dev.churn.features.SourceMapping;
import dev.churn.generator.ClosedLoopWorld;
import dev.churn.generator.GenerateJob;
import dev.churn.jobs.stages.IngestJob;
import dev.churn.jobs.stages.NightlyJob;
import dev.churn.jobs.stages.RetentionJob;
import dev.churn.jobs.stages.ScoreJob;
import dev.churn.jobs.stages.TrainJob;
import dev.churn.jobs.stages.Training;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.Actions;
import dev.churn.models.Effects;
import dev.churn.models.Interventions;
import dev.churn.models.SaveRates;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Date;
import java.time.LocalDate;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * {@code demo --closed-loop}: the loop from list to outcome, against a simulated retention team whose true effect
 * per play is known ({@link ClosedLoopWorld#TRUE_EFFECTS}). The business's history ({@link Shape#historyDays} days)
 * is ingested and a model trained on it; then every {@link Shape#nightEvery} days for {@link Shape#loopDays} the team
 * works the night's list (it calls, the next day, every customer of the list assigned to a contact that it has not
 * called yet in the list's month, with the list's play, and never a held-out one), the days until the next night
 * are simulated with those calls' effects, and a night runs on those days and the team's log
 * ({@code nightly --events ... --interventions ...}). At the end each play's measured save rate (pooled over the
 * list months whose horizon has ended, intention to treat) is printed beside its true effect. Defaults and dangers:
 * the model is not retrained in the loop (it would only cost time); the input is written under the warehouse, which
 * must be on the local file system, in {@code _closed_loop_input} (rewritten by the next run, which reruns the loop
 * over the same files), and a warehouse holding logs ingested from elsewhere is refused. What is measured differs from the true effects a little, for three reasons the
 * intervals are wider than: the true effect lowers the daily hazard, and the list measures the share of churners
 * kept over the horizon, a little lower where many of the listed churn; a call's effect lasts, and a customer called
 * again the next month with another play carries the new play's effect into the rest of the earlier horizon; and
 * the called customers a call kept stay at risk, so later months' called groups are frailer than the held-out ones.
 */
final class ClosedLoop {
  /**
   * The loop's shape: days of history before it, days it runs, days between two nights, and how many times as fast
   * as {@code generate}'s the business loses customers.
   */
  record Shape(int historyDays, int loopDays, int nightEvery, double hazardScale) {
    /**
     * The demo's: 180 days of history (two-weekly training snapshots and a validation month), 98 days of nights
     * every 14 days (three list months whose horizon ends within the loop), and a business losing about two in five
     * customers a year: at 2,000 customers, {@code generate}'s rate leaves some 6 held-out churners per list, too few
     * to measure a play by.
     */
    static final Shape DEMO = new Shape(180, 98, 14, 4);
  }

  /** Contacts per night when --budget is not given: everyone worth a call, so each play gathers evidence. */
  static final int BUDGET = 1000;
  /** The held-out share when --holdout-share is not given: an experiment's, so each play gathers evidence. */
  static final double HOLDOUT_SHARE = 0.5;
  /** The channel the simulated team logs. */
  static final String CHANNEL = "phone";

  /** A play's pooled measurement (null while too few held-out customers churned) beside its true effect. */
  record Play(String play, double trueEffect, SaveRates.Measured measured) {
    boolean covered() {
      return measured != null && measured.low() <= trueEffect && trueEffect <= measured.high();
    }
  }

  /**
   * What the loop measured: each play's, the overall uplift (held-out churn rate - contacted churn rate, with its
   * interval) over every measured customer, the calls the team made, and the held-out customers it called (none, by
   * construction; counted from the tables).
   */
  record Result(List<Play> plays, double[] uplift, long calls, long heldOutCalled) {}

  private final ChurnCli.Context ctx;
  private final PrintWriter out;
  private final GenerateJob.Options sample;
  private final Actions.Options contact;
  private final Shape shape;
  private final Training training;

  /**
   * The loop of {@code shape} over {@code sample}'s customers, seed and start (its days are the shape's), its model
   * trained as {@code training} says ({@code demo --closed-loop}: {@link Training#defaults()}).
   */
  ClosedLoop(ChurnCli.Context ctx, PrintWriter out, GenerateJob.Options sample, Actions.Options contact, Shape shape,
      Training training) {
    this.ctx = ctx;
    this.out = out;
    this.shape = shape;
    this.training = training;
    this.sample = new GenerateJob.Options(sample.out(), sample.customers(), shape.historyDays() + shape.loopDays(),
        sample.start(), sample.seed(), sample.badFraction());
    this.contact = contact;
  }

  /** The night of {@code day} as the loop runs it: its events, new customers and the team's log, then the night. */
  NightlyJob.Result night(LocalDate day) {
    String input = input();
    NightlyJob.Input nights = new NightlyJob.Input(input + "/events/{date}", input + "/customers/{date}.csv", false,
        SourceMapping.canonical(), IngestJob.Gate.of(IngestJob.DEFAULT_MAX_BAD_FRACTION),
        input + "/interventions/{date}.csv");
    // The loop is about the list, not the model: trained once, it is kept (retraining would only cost time).
    NightlyJob.Retrain keep = new NightlyJob.Retrain(10 * shape.loopDays(), NightlyJob.Retrain.DEFAULT_TOLERANCE, false);
    return new NightlyJob(ctx.stages("nightly", day, out), new NightlyJob.Options(day, nights, training,
        keep, contact)).run();
  }

  private String input() {
    return ctx.warehouse().root() + "/" + INPUT;
  }

  /** The folder under the warehouse that holds the loop's input. */
  static final String INPUT = "_closed_loop_input";

  Result run() {
    Warehouse warehouse = ctx.warehouse();
    // Another sample's customers would meet the loop's under the same ids. A warehouse of an earlier loop is its own:
    // the same seed writes the same files, so the loop runs again over them as a rerun (replays, the same tables).
    if (warehouse.exists(Table.INGESTED_FILES) && !warehouse.read(Table.INGESTED_FILES)
        .where(not(col(dev.churn.features.Events.SOURCE_FILE).contains("/" + INPUT + "/"))).isEmpty()) {
      throw dev.churn.jobs.warehouse.ChurnException.usage("demo --closed-loop needs a warehouse of its own: "
          + warehouse.root() + " holds logs ingested from elsewhere; give a new --warehouse");
    }
    String input = input();
    GenerateJob.claim(ctx.spark(), input);
    Path dir = local(input);
    for (String own : List.of("events", "customers", "interventions")) {
      deleteTree(dir.resolve(own));
    }
    ClosedLoopWorld world = new ClosedLoopWorld(sample, shape.hazardScale());
    LocalDate start = sample.start();
    LocalDate historyEnd = start.plusDays(shape.historyDays() - 1);
    out.printf("demo --closed-loop: %d customers, %d days of history to %s, then a night every %d days for %d days; "
            + "the team calls every listed customer assigned to a contact (budget %d, %.0f %% held out)%n",
        sample.customers(), shape.historyDays(), historyEnd, shape.nightEvery(), shape.loopDays(), contact.budget(),
        contact.holdoutShare() * 100);
    out.flush();
    world.writeCustomers(dir.resolve("customers/history.csv"), null, historyEnd);
    world.writeEvents(dir.resolve("events/history"), LocalDate.MIN, historyEnd);
    IngestCommand.print(out, new IngestJob(ctx.stages("demo", historyEnd, out), new IngestJob.Options(
        List.of(input + "/events/history"), List.of(input + "/customers/history.csv"), SourceMapping.canonical(), null,
        IngestJob.Gate.of(IngestJob.DEFAULT_MAX_BAD_FRACTION))).run());
    TrainCommand.print(out, new TrainJob(ctx.stages("train", historyEnd, out),
        TrainJob.Options.first(historyEnd, training, null)).run().spec());
    new ScoreJob(ctx.stages("score", historyEnd, out), historyEnd, null).run();
    new RetentionJob(ctx.stages("retention", historyEnd, out), RetentionJob.Range.of(start, historyEnd), contact).run();

    Map<String, YearMonth> called = new HashMap<>();
    long calls = 0;
    LocalDate end = historyEnd.plusDays(shape.loopDays());
    for (LocalDate night = historyEnd; !night.plusDays(shape.nightEvery()).isAfter(end);
        night = night.plusDays(shape.nightEvery())) {
      LocalDate next = night.plusDays(shape.nightEvery());
      List<String> log = new ArrayList<>(List.of(String.join(",", Interventions.FILE_SCHEMA.fieldNames())));
      for (Row r : warehouse.read(Table.RETENTION_ACTIONS).where(col("as_of_date").equalTo(lit(Date.valueOf(night))))
          .where(col(Actions.CONTACT_GROUP).equalTo(Actions.CONTACT)).orderBy("rank").collectAsList()) {
        String customer = r.getAs("customer_id");
        // Called once a list month: a customer listed again that month was called already.
        if (!YearMonth.from(night).equals(called.get(customer))) {
          called.put(customer, YearMonth.from(night));
          world.contact(customer, night.plusDays(1), r.getAs("play"));
          log.add(String.join(",", customer, night.plusDays(1).toString(), r.getAs("play"), CHANNEL, ""));
        }
      }
      calls += log.size() - 1;
      write(dir.resolve("interventions/" + next + ".csv"), log);
      world.writeCustomers(dir.resolve("customers/" + next + ".csv"), night, next);
      world.writeEvents(dir.resolve("events/" + next), night, next);
      NightlyJob.Result r = night(next);
      out.printf("demo --closed-loop: the team called %d customers after the list of %s; night %s: %d customers "
          + "scored%n", log.size() - 1, night, next, r.scored());
      out.flush();
    }
    return measured(calls);
  }

  /** Each play's pooled measurement and the overall uplift, from intervention_effects as the last night left it. */
  private Result measured(long calls) {
    Warehouse warehouse = ctx.warehouse();
    List<Row> effects = warehouse.read(Table.INTERVENTION_EFFECTS).collectAsList();
    Map<String, SaveRates.Measured> pooled = SaveRates.pooled(effects);
    List<Play> plays = new ArrayList<>();
    ClosedLoopWorld.TRUE_EFFECTS.forEach((play, effect) -> plays.add(new Play(play, effect, pooled.get(play))));
    long[] all = new long[4];
    for (Row r : effects) {
      if ("ALL".equals(r.getAs("play")) && "ALL".equals(r.getAs("segment"))) {
        all[0] += r.<Long>getAs("churned_holdout");
        all[1] += r.<Long>getAs("measured_holdout");
        all[2] += r.<Long>getAs("churned_contact");
        all[3] += r.<Long>getAs("measured_contact");
      }
    }
    double[] uplift = all[1] == 0 || all[3] == 0 ? null : Effects.newcombe(all[0], all[1], all[2], all[3]);
    long heldOutCalled = warehouse.read(Table.INTERVENTIONS).join(warehouse.read(Table.RETENTION_ACTIONS)
        .where(col(Actions.CONTACT_GROUP).equalTo(Actions.HOLDOUT)).select("customer_id").distinct(), "customer_id")
        .count();
    return new Result(plays, uplift, calls, heldOutCalled);
  }

  /** Prints each play's measured save rate beside its true effect, and the overall uplift. */
  static void print(PrintWriter out, Result r) {
    out.printf("demo --closed-loop: %d calls logged, %d of them to held-out customers; each play's save rate "
        + "measured against the control group (pooled over the list months whose horizon ended) beside the "
        + "simulated team's true effect:%n", r.calls(), r.heldOutCalled());
    out.println("play\tmeasured save rate (95 %)\ttrue effect\tcovered");
    for (Play p : r.plays()) {
      out.printf(Locale.ROOT, "%s\t%s\t%.2f\t%s%n", p.play(), p.measured() == null ? "not enough evidence"
              : String.format(Locale.ROOT, "%.2f (%.2f to %.2f)", p.measured().saveRate(), p.measured().low(),
                  p.measured().high()), p.trueEffect(),
          p.measured() == null ? "-" : p.covered() ? "yes" : "no");
    }
    if (r.uplift() != null) {
      out.printf(Locale.ROOT, "demo --closed-loop: overall uplift %.3f (95 %% %.3f to %.3f): of 100 listed "
          + "customers, the calls kept %.1f%n", r.uplift()[0], r.uplift()[1], r.uplift()[2], 100 * r.uplift()[0]);
    }
  }

  private static Path local(String path) {
    java.net.URI uri = new org.apache.hadoop.fs.Path(path).toUri();
    if (uri.getScheme() != null && !"file".equals(uri.getScheme())) {
      throw new IllegalArgumentException("demo --closed-loop writes its input beside the warehouse on the local "
          + "file system, not on " + uri.getScheme() + ": give a local --warehouse");
    }
    return Path.of(uri.getPath());
  }

  private static void write(Path file, List<String> lines) {
    try {
      Files.createDirectories(file.getParent());
      Files.write(file, lines, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clear " + root + ": " + e.getMessage(), e);
    }
  }
}
