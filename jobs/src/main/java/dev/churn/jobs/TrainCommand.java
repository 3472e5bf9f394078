package dev.churn.jobs;

import dev.churn.jobs.stages.TrainJob;
import dev.churn.models.ModelSpec;
import java.io.PrintWriter;
import java.time.LocalDate;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Trains a churn model on labelled snapshots before DATE, validates it out of time (a snapshot one "
        + "horizon before DATE, one horizon after the last training snapshot), and registers it as a new version.",
        "Under inactivity churn the horizon is the mapping's N days."})
final class TrainCommand implements Callable<Integer> {
  @ParentCommand ChurnCli root;
  @Spec CommandSpec spec;

  @Option(names = "--as-of", required = true, paramLabel = "DATE", description = "Labels are complete up to this date.")
  LocalDate asOf;

  @Mixin TrainingOptions training;

  @Option(names = "--truth", paramLabel = "DIR",
      description = "The generator's truth folder: records the oracle ROC-AUC beside the model's (evaluation only).")
  String truth;

  @Override
  public Integer call() {
    TrainJob.Options options = TrainJob.Options.first(asOf, training.training(), truth);
    try (ChurnCli.Context ctx = root.open("train")) {
      PrintWriter out = spec.commandLine().getOut();
      print(out, new TrainJob(ctx.stages("train", asOf, out), options).run().spec());
    }
    return 0;
  }

  static void print(PrintWriter out, ModelSpec m) {
    Map<String, Double> v = m.quality().reported();
    Map<String, Double> b = m.quality().baseline();
    ModelSpec.Split split = m.split();
    boolean heldOut = split.heldOutTest();
    out.printf(Locale.ROOT, "model v%d: horizon %d days, trained on %s, tuned on %s%s, %s on %s (%.0f customers, "
            + "churn rate %.3f)%n", m.version(), split.horizonDays(), split.trainDates(), split.validationDate(),
        heldOut ? " and refitted with it" : "", heldOut ? "tested out of time" : "reported (no held-out test)",
        split.reportedDate(), v.get("customers"), v.get("base_rate"));
    out.printf(Locale.ROOT, "  ROC-AUC %.3f  PR-AUC %.3f  log loss %.4f (constant %.4f)  Brier %.4f  top-decile lift %.2f, "
            + "capture %.2f%n", v.get("roc_auc"), v.get("pr_auc"), v.get("log_loss"), v.get("log_loss_constant"),
        v.get("brier"), v.get("top_decile_lift"), v.get("top_decile_capture"));
    out.printf(Locale.ROOT, "  baseline (days since last activity): ROC-AUC %.3f  PR-AUC %.3f%n", b.get("roc_auc"),
        b.get("pr_auc"));
    if (v.containsKey("oracle_roc_auc")) {
      out.printf(Locale.ROOT, "  oracle (true hazard): ROC-AUC %.3f; model / oracle = %.3f%n", v.get("oracle_roc_auc"),
          v.get("roc_auc") / v.get("oracle_roc_auc"));
    }
    Map<String, Double> tuned = m.quality().validation();
    out.printf(Locale.ROOT, "  validation (tuning only, %s): ROC-AUC %.3f  PR-AUC %.3f; regParam %s, elasticNetParam %s "
        + "chosen by its PR-AUC%n", split.validationDate(), tuned.get("roc_auc"), tuned.get("pr_auc"),
        m.fit().regParam(), m.fit().elasticNetParam());
    out.printf(Locale.ROOT, "  tiers: high >= %.3f, medium >= %.3f; decision threshold %.3f%n", m.tiers().high(),
        m.tiers().medium(), m.tiers().decision());
    out.flush();
  }
}
