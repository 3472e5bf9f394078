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
        "Running it again on the same files changes nothing."})
final class IngestCommand implements Callable<Integer> {
  @ParentCommand ChurnCli root;
  @Spec CommandSpec spec;

  @Option(names = "--events", required = true, split = ",", paramLabel = "PATH",
      description = "Raw log files or folders (comma-separated or repeated; folders are read recursively).")
  List<String> events;

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
    IngestJob.Options options = ChurnCli.options(spec,
        // The clock is read here, at the edge: a record in no dated folder, without --date, may be at most a
        // day after the day the ingest runs (UTC), so a year-9999 event cannot stretch every later night.
        () -> new IngestJob.Options(events, customers, m, date, source.gate(), LocalDate.now(ZoneOffset.UTC)));
    try (ChurnCli.Context ctx = root.open("ingest")) {
      IngestJob.Result r = new IngestJob(ctx.stages("ingest", date, spec.commandLine().getOut()), options).run();
      print(spec.commandLine().getOut(), r);
    }
    return 0;
  }

  static void print(java.io.PrintWriter out, IngestJob.Result r) {
    out.printf("run %s: %d records read, %d accepted, %d rejected%s%s%n", r.runId(), r.rowsIn(), r.accepted(),
        r.rejected(), r.replayed() > 0 ? ", " + r.replayed() + " already ingested (skipped)" : "",
        r.requarantined() > 0 ? ", " + r.requarantined() + " already quarantined for the same reason" : "");
    if (r.overridden() != null) {
      out.printf("  gate: %s%n", r.overridden());
    }
    r.rejectedByReason().forEach((reason, n) -> out.printf("  rejected %-22s %d%n", reason, n));
    if (r.customersIn() > 0) {
      out.printf("customers file: %d rows, %d rejected%n", r.customersIn(), r.customersRejected());
    }
    if (!r.daysTouched().isEmpty()) {
      out.printf("daily_activity refreshed for %d day(s), %s .. %s%n", r.daysTouched().size(),
          r.daysTouched().get(0), r.daysTouched().get(r.daysTouched().size() - 1));
    }
  }
}
