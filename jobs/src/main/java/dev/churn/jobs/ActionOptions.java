package dev.churn.jobs;

import dev.churn.models.Actions;
import dev.churn.models.Playbook;
import picocli.CommandLine.Option;

/**
 * How the nightly action list values a contact, whom it holds out and which play it asks for: {@code --save-rate},
 * {@code --contact-cost}, {@code --budget}, {@code --holdout-share}, {@code --playbook}.
 */
final class ActionOptions {
  @Option(names = "--save-rate", defaultValue = "" + Actions.Options.DEFAULT_SAVE_RATE, paramLabel = "R",
      description = "Share of contacted would-be churners a contact keeps, in (0, 1] (default: ${DEFAULT-VALUE}).")
  double saveRate;

  @Option(names = "--contact-cost", defaultValue = "" + Actions.Options.DEFAULT_CONTACT_COST, paramLabel = "C",
      description = "Cost of one contact in currency units (default: ${DEFAULT-VALUE}).")
  double contactCost;

  @Option(names = "--budget", defaultValue = "" + Actions.Options.DEFAULT_BUDGET, paramLabel = "N",
      description = "Contacts per night: retention_actions keeps the N of highest expected net value "
          + "(default: ${DEFAULT-VALUE}).")
  int budget;

  @Option(names = "--holdout-share", defaultValue = "" + Actions.Options.DEFAULT_HOLDOUT_SHARE, paramLabel = "S",
      description = "Share of the listed customers held out as the control group, never contacted, in [0, "
          + Actions.Options.MAX_HOLDOUT_SHARE + "] (default: ${DEFAULT-VALUE}; drawn once per customer, so "
          + "every night and every rerun puts a customer in the same group).")
  double holdoutShare;

  @Option(names = "--playbook", paramLabel = "FILE",
      description = "A playbook file replacing the default one: which play each listed customer's reasons choose "
          + "(format and default in docs/retention.md).")
  java.nio.file.Path playbook;

  /** The options; a refused value or playbook file is an IllegalArgumentException (a usage error, exit 2). */
  Actions.Options actions() {
    return new Actions.Options(saveRate, contactCost, budget, holdoutShare, playbook(playbook));
  }

  /** The playbook of {@code file}, the default one for null; a bad file is an IllegalArgumentException. */
  static Playbook playbook(java.nio.file.Path file) {
    if (file == null) {
      return Playbook.DEFAULT;
    }
    try {
      return Playbook.parse(java.nio.file.Files.readString(file), file.toString());
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("cannot read playbook file " + file + ": " + e.getMessage());
    }
  }
}
