package dev.churn.jobs;

import dev.churn.features.SourceMapping;
import dev.churn.jobs.stages.IngestJob;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "ingest", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Validates raw activity logs into the events table; every rejected record goes to "
        + "events_quarantine with its reason. Upserts customers and refreshes daily_activity for the days touched.",
        "With --interventions, stores what the retention team did in interventions (rejected rows quarantined too).",
        "Running it again on the same files changes nothing."})
final class IngestCommand implements Callable<Integer> {
  @ParentCommand ChurnCli root;
  @Spec CommandSpec spec;

  @Option(names = "--events", split = ",", paramLabel = "PATH",
      description = "Raw log files or folders (comma-separated or repeated; folders are read recursively).")
  List<String> events;

  @Option(names = "--interventions", split = ",", paramLabel = "PATH",
      description = "What the retention team did: CSV with the header customer_id,contacted_on,play,channel,outcome "
          + "(outcome may be empty), stored in interventions after the events; see docs/retention.md.")
  List<String> interventions;

  @Option(names = "--playbook", paramLabel = "FILE",
      description = "The playbook whose plays an intervention may name (default: the default playbook).")
  java.nio.file.Path playbook;

  @Option(names = "--customers", split = ",", paramLabel = "PATH",
      description = "Customers CSV (with a header). Without it, customers are derived from the events.")
  List<String> customers;

  @Option(names = "--date", paramLabel = "DATE",
      description = "The batch's date: events after the next day are rejected as future (default: the event_date= "
          + "folder; for a file in none, the day the ingest runs, UTC).")
  LocalDate date;

  @Mixin IngestOptions source;

  @Override
  public Integer call() {
    SourceMapping m = source.mapping();
    if ((events == null || events.isEmpty()) && (interventions == null || interventions.isEmpty())) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give --events PATH, --interventions PATH "
          + "or both");
    }
    IngestJob.Options options = ChurnCli.options(spec,
        // The clock is read here, at the edge: a record in no dated folder, without --date, may be at most a
        // day after the day the ingest runs (UTC), so a year-9999 event cannot stretch every later night.
        () -> new IngestJob.Options(events, customers, m, date, source.gate(), LocalDate.now(ZoneOffset.UTC),
            interventions, dev.churn.models.Interventions.plays(ActionOptions.playbook(playbook))));
    try (ChurnCli.Context ctx = root.open("ingest")) {
      IngestJob.Result r = new IngestJob(ctx.stages("ingest", date, spec.commandLine().getOut()), options).run();
      print(spec.commandLine().getOut(), r);
    }
    return 0;
  }

  static void print(java.io.PrintWriter out, IngestJob.Result r) {
    IngestJob.Interventions i = r.interventions();
    if (r.rowsIn() > 0 || i.rows() == 0) {
      out.printf("run %s: %d records read, %d accepted, %d rejected%s%s%n", r.runId(), r.rowsIn(), r.accepted(),
          r.rejected(), r.replayed() > 0 ? ", " + r.replayed() + " already ingested (skipped)" : "",
          r.requarantined() > 0 ? ", " + r.requarantined() + " already quarantined for the same reason" : "");
    }
    if (r.overridden() != null) {
      out.printf("  gate: %s%n", r.overridden());
    }
    r.rejectedByReason().forEach((reason, n) -> out.printf("  rejected %-22s %d%n", reason, n));
    if (r.customersIn() > 0) {
      out.printf("customers file: %d rows, %d rejected%n", r.customersIn(), r.customersRejected());
    }
    if (i.rows() > 0) {
      out.printf("run %s: interventions: %d rows, %d stored, %d rejected%s%n", r.runId(), i.rows(), i.stored(),
          i.rejected(), i.already() > 0 ? ", " + i.already() + " already stored or quarantined (skipped)" : "");
      i.byReason().forEach((reason, n) -> out.printf("  rejected %-22s %d%n", reason, n));
    }
    if (!r.daysTouched().isEmpty()) {
      out.printf("daily_activity refreshed for %d day(s), %s .. %s%n", r.daysTouched().size(),
          r.daysTouched().get(0), r.daysTouched().get(r.daysTouched().size() - 1));
    }
  }
}
