package dev.churn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.generator.GenerateJob;
import dev.churn.jobs.stages.Training;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.Actions;
import dev.churn.models.ChurnTrainer;
import dev.churn.models.TimeSplit;
import dev.churn.testing.EndToEnd;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The loop from list to outcome at a small size ({@code demo --closed-loop}'s, shorter): nights whose lists a
 * simulated team works, with a known true effect per play. The measurement must find the effect (the overall
 * uplift's interval above 0, each measured play's interval covering its true effect), the team's log must hold no
 * held-out customer, and rerunning a night after the later ones must leave the list, the log and the effects as
 * they were.
 */
@EndToEnd
class ClosedLoopTest extends JobsSuite {

  @Test
  void theMeasuredSaveRatesCoverTheTeamsTrueEffectsAndRerunningANightChangesNothing() {
    Path wh = tempDir("closed-loop-wh");
    StringWriter printed = new StringWriter();
    PrintWriter out = new PrintWriter(printed, true);
    // Two nights 31 days apart after 181 days of history (to 2026-06-30), on 07-31 and 08-31: the lists of June
    // (06-30) and July (07-31) are measured by the last one, each list's 30-day horizon ended by then.
    ClosedLoop.Shape shape = new ClosedLoop.Shape(181, 62, 31, 5);
    LocalDate start = LocalDate.parse("2026-01-01");
    GenerateJob.Options sample = new GenerateJob.Options("-", 2000, 1, start, 7, 0.01);
    Actions.Options contact = new Actions.Options(0.25, 10.0, 1000, 0.5);
    // The point the default grid chooses on this history (regParam 0.05, elasticNetParam 0.5), alone: the same
    // coefficients and figures without fitting the five others (the loop is about the list; ChurnModelTest tunes
    // a grid, in memory).
    Training training = new Training(null, TimeSplit.DEFAULT_STEP_DAYS, TimeSplit.DEFAULT_SNAPSHOTS,
        ChurnTrainer.Config.defaults().withGrid(List.of(0.05), List.of(0.5)));
    try (ChurnCli.Context ctx = new ChurnCli.Context(spark, new Warehouse(spark, wh.toString()), null, false)) {
      ClosedLoop loop = new ClosedLoop(ctx, out, sample, contact, shape, training);
      ClosedLoop.Result r = loop.run();
      ClosedLoop.print(out, r);
      String log = printed.toString();
      assertTrue(r.calls() > 100, log);
      assertEquals(0, r.heldOutCalled(), "no held-out customer in interventions");
      assertTrue(r.uplift() != null && r.uplift()[1] > 0, "the calls kept customers: " + log);
      List<ClosedLoop.Play> measured = r.plays().stream().filter(p -> p.measured() != null).toList();
      assertTrue(measured.size() >= 2, "plays measured: " + log);
      for (ClosedLoop.Play p : measured) {
        assertTrue(p.covered(), p.play() + "'s interval misses its true effect: " + log);
      }

      List<List<String>> before = outputs(ctx.warehouse());
      loop.night(start.plusDays(shape.historyDays() - 1 + shape.nightEvery()));
      assertEquals(before, outputs(ctx.warehouse()), "the first night rerun after the last");
    }
  }

  private static List<List<String>> outputs(Warehouse w) {
    return List.of(Table.RETENTION_ACTIONS, Table.INTERVENTIONS, Table.INTERVENTION_EFFECTS).stream()
        .map(t -> w.read(t).collectAsList().stream().map(Row::toString).sorted().toList()).toList();
  }
}
