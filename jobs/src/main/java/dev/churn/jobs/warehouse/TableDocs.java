package dev.churn.jobs.warehouse;

import dev.churn.features.DailyActivity;
import dev.churn.features.FeatureCatalogue;
import dev.churn.features.Retention;
import dev.churn.features.StateColumns;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What every table of the contract ({@link Table}) holds and what each of its columns means, one line each: the
 * one source of the tables' Delta comments (the table's description and every column's comment, which
 * {@code DESCRIBE churn.<table>} shows; written by {@link TableComments}) and of {@code docs/tables.md}
 * ({@link #markdown}, checked current by a test). The columns a transform computes from a catalogue (the
 * snapshot's features, the window state's sums and queues, the rollup's signals) take their meaning from that
 * catalogue, so a new feature or signal is described where it is declared.
 */
public final class TableDocs {
  private TableDocs() {}

  /** A table's grain, its one-line description, and its fixed columns' meanings in column order. */
  record Doc(String grain, String description, Map<String, String> columns) {}

  private static final Map<Table, Doc> DOCS = new EnumMap<>(Table.class);

  private static void doc(Table table, String grain, String description, String... columnsAndMeanings) {
    Map<String, String> columns = new LinkedHashMap<>();
    for (int i = 0; i < columnsAndMeanings.length; i += 2) {
      columns.put(columnsAndMeanings[i], columnsAndMeanings[i + 1]);
    }
    DOCS.put(table, new Doc(grain, description, columns));
  }

  private static final String RUN_ID = "the run that wrote the row (run_log.run_id)";
  private static final String AS_OF = "the date the row describes, with nothing after it seen";
  private static final String MODEL_VERSION = "the model_registry version that scored";
  private static final String SEGMENT_OR_ALL = "the segment, or " + Retention.ALL + " (every segment)";
  private static final String INDUSTRY_OR_ALL = "the industry, or " + Retention.ALL + " (every industry)";

  static {
    doc(Table.EVENTS, "accepted raw event, partitioned by event_date", "Accepted activity events, one row per event.",
        "event_key", "the event's identity: its event_id, or without ids its file and line or its content "
            + "(the mapping's identity)",
        "event_id", "the event's id in the source log (null when the log has none)",
        "customer_id", "the customer the event belongs to",
        "event_time", "when the event happened (UTC)",
        "event_type", "the kind of event (login, session, payment, support_ticket, ...; see docs/ingest.md)",
        "user_id", "the customer's user (seat) who acted, when the log says",
        "amount", "money of a payment or refund (currency units)",
        "quantity", "units of a purchase, when the log has them",
        "severity", "a support ticket's severity",
        "plan", "the plan after a plan event",
        "mrr", "monthly recurring revenue after a plan event",
        "source_file", "the raw file the record was read from",
        "source_position", "the record's line (or record) number in that file",
        "run_id", RUN_ID,
        "event_date", "the UTC day of event_time (the partition)");
    doc(Table.EVENTS_QUARANTINE, "rejected raw record (one row per file and position)",
        "Raw records that were not accepted, each with the reason (docs/ingest.md lists the reasons).",
        "source_file", "the raw file the record was read from",
        "source_position", "the record's line (or record) number in that file",
        "raw_record", "the record as read",
        "reason", "why it was rejected (a reason code of docs/ingest.md)",
        "detail", "the value or field that failed, in words",
        "event_key", "the event's identity when it could be computed",
        "customer_id", "the customer the record names, when it names one",
        "run_id", RUN_ID,
        "quarantined_on", "the day the record was quarantined",
        "status", "rejected, or held when the batch gate refused its batch (null in rows before 2026-11-24: rejected)");
    doc(Table.INGESTED_FILES, "raw file and content", "Every raw file a committed ingest read, so a moved or copied "
        + "file is not read again.",
        "source_file", "the raw file's path when it was read",
        Table.Schemas.RECORDS, "records the file held",
        Table.Schemas.FINGERPRINT, "XOR of xxhash64(position, raw record) over its records: same content, same value",
        "run_id", RUN_ID);
    doc(Table.CUSTOMERS, "customer", "One row per customer: profile, plan and lifecycle dates.",
        "customer_id", "the customer",
        "segment", "the customer's segment (for example smb, mid_market, enterprise)",
        "industry", "the customer's industry",
        "plan", "the current plan",
        "mrr", "the current monthly recurring revenue",
        "signup_date", "the day the customer signed up",
        "signup_plan", "the plan at signup",
        "signup_mrr", "the monthly recurring revenue at signup",
        "trial_end_date", "the day the trial ends or ended (null without a trial)",
        "churn_date", "the cancellation date, or under inactivity churn the day the silence reached N days (null "
            + "while active)",
        "cancelled_on", "the day the customer cancelled (null if never)",
        "first_event_date", "the day of the customer's first accepted event",
        "last_event_date", "the day of the customer's latest accepted event",
        "plan_changed_at", "when the plan last changed");
    doc(Table.DAILY_ACTIVITY, "customer x day, partitioned by activity_date",
        "The daily rollup of events per customer, which every feature is computed from.",
        "customer_id", "the customer",
        "activity_date", "the day (the partition)",
        DailyActivity.MRR_END, "MRR after the day's last plan change (null on a day without one)",
        DailyActivity.PLAN_END, "the plan the day's last plan change moved to (null on a day without one)");
    doc(Table.CUSTOMER_FEATURES, "customer x as_of_date, partitioned by as_of_date",
        "Feature snapshots: per customer and date, the catalogue's features (docs/features.md), from data on or "
            + "before the date.",
        "customer_id", "the customer",
        "as_of_date", AS_OF,
        "feature_set", "a hash of the feature catalogue that built the row: rows of another set are rebuilt");
    doc(Table.FEATURE_STATE, "customer x as_of_date, partitioned by as_of_date",
        "The running window state each snapshot is derived from (derived: an ingest drops the states its days "
            + "change; safe to delete).",
        "customer_id", "the customer",
        "as_of_date", AS_OF,
        "feature_set", "a hash of the feature catalogue that built the row: rows of another set are not advanced");
    doc(Table.MODEL_REGISTRY, "model version", "Every trained model: its dates, metrics, parameters and decision.",
        "model_version", "the version, 1, 2, ... in training order",
        "trained_at", "when it was trained",
        "as_of_date", "the date it was trained as of",
        "horizon_days", "days after a snapshot within which churn counts",
        "validation_date", "the out-of-time snapshot its grid point was chosen on",
        "train_dates", "the snapshots it was fitted on",
        "roc_auc", "ROC-AUC on test_date",
        "pr_auc", "precision-recall AUC on test_date",
        "log_loss", "log loss on test_date",
        "brier", "Brier score on test_date",
        "top_decile_lift", "churn rate of the riskiest tenth over the base rate, on test_date",
        "baseline_roc_auc", "ROC-AUC of ranking by recency alone, on test_date",
        "baseline_pr_auc", "precision-recall AUC of ranking by recency alone, on test_date",
        "oracle_roc_auc", "ROC-AUC of the generator's true hazard (with --truth), on test_date",
        "reg_param", "the regularisation chosen",
        "elastic_net_param", "the elastic-net mix chosen (0 = L2, 1 = L1)",
        "feature_list", "the features it uses",
        "fingerprint", "a hash of the features and their types the model expects",
        "path", "where the fitted pipeline and spec.json are stored",
        "spec_json", "the model's full spec (split dates, seed, thresholds, all metrics)",
        "status", "accepted (scores with it) or rejected",
        "decision", "why it was accepted or rejected against the incumbent",
        "test_date", "the held-out snapshot the metrics are on (the validation date when evaluation says validation)",
        "evaluation", "which kind of date the reported metrics are on (test, or validation when history is short)",
        "validation_roc_auc", "ROC-AUC on validation_date",
        "validation_pr_auc", "precision-recall AUC on validation_date");
    doc(Table.CHURN_SCORES, "customer x as_of_date, partitioned by as_of_date",
        "Each active customer's churn probability, risk tier, lifecycle stage and reasons per scoring date.",
        "customer_id", "the customer",
        "as_of_date", AS_OF,
        "churn_probability", "the calibrated probability of churning within the model's horizon",
        "risk_tier", "high, medium or low, by the model's thresholds (high: about --high-risk-share of its as-of date)",
        "lifecycle_stage", "new, active, declining or lapsed (docs/model.md)",
        "top_reasons", "up to three features that raise the risk most (feature, value, contribution, phrase; the "
            + "value as the model takes it: a count scaled to its full window where docs/features.md says so)",
        "model_version", MODEL_VERSION);
    doc(Table.FEATURE_DRIFT, "as_of_date x feature", "How far each of the model's numeric inputs moved since the "
        + "model was trained (population stability index), as the model takes it (a count scaled to its full window "
        + "where the log is younger than the window: docs/features.md, short history).",
        "as_of_date", "the scoring date",
        "model_version", MODEL_VERSION,
        "feature", "the feature (one of the model's numeric inputs)",
        "psi", "population stability index against the model's training distribution",
        "status", "stable (PSI up to 0.1), moderate (up to 0.25) or shifted",
        "cause", "for a moved feature: history when its window reaches back further than the model's earliest "
            + "training snapshot could see and the log has grown since (it grows with the log, whatever the customers "
            + "do), population otherwise; null when stable");
    doc(Table.RETENTION_RATES, "period x segment x industry",
        "Churn and retention per month, quarter and year, by segment and industry ('all' for every one).",
        "period_type", "month, quarter or year",
        "period_start", "the period's first day",
        "period_end", "the period's last (calendar) day",
        "is_partial", "whether the period reaches outside the range the run computed (starts before it or "
            + "ends after it)",
        "segment", SEGMENT_OR_ALL,
        "industry", INDUSTRY_OR_ALL,
        "customers_start", "customers signed up before the period and not churned before it (S)",
        "customers_end", "customers signed up by its end and not churned by then (E)",
        "customers_new", "customers who signed up in it (N)",
        "customers_lost", "customers who churned in it, new ones included",
        "customers_new_lost", "customers who signed up and churned within the period",
        "mrr_start", "monthly recurring revenue at the start",
        "mrr_lost", "MRR of the customers lost, at the time they left",
        "mrr_contraction", "MRR lost to downgrades in the period, of every customer in it",
        "churn_rate", "(customers_lost - customers_new_lost) / S: the starting customers' share lost (null when S = 0)",
        "retention_rate", "(E - (N - customers_new_lost)) / S: the starting customers' share kept (null when S = 0)",
        "mrr_churn_rate", "mrr_lost / mrr_start",
        "mrr_contraction_rate", "mrr_contraction / mrr_start",
        "retention_rate_annualized", "retention_rate to the power of periods per year",
        "benchmark_retention_rate", "the industry's yearly yardstick (docs/domain.md)",
        "gap_to_benchmark", "retention_rate_annualized - benchmark_retention_rate");
    doc(Table.COHORT_RETENTION, "signup month x months since signup",
        "Signup cohorts and how many of them are retained month by month.",
        "cohort_month", "the month the cohort signed up",
        "months_since_signup", "months after the signup month",
        "customers", "customers of the cohort",
        "retained", "of them, retained by the measure",
        "retention_rate", "retained / customers",
        "measure", "not churned by month end, or active in the month (under inactivity churn)");
    doc(Table.CHURN_FORECAST, "scoring date x segment x industry",
        "Expected churn and value at risk per scoring date, beside the actual churn once the horizon has passed.",
        "as_of_date", "the scoring date",
        "model_version", MODEL_VERSION,
        "horizon_days", "days after the scoring date the forecast covers",
        "horizon_end", "the horizon's last day",
        "segment", SEGMENT_OR_ALL,
        "industry", INDUSTRY_OR_ALL,
        "customers_scored", "customers scored on the date",
        "expected_churners", "the sum of their churn probabilities",
        "expected_mrr_at_risk", "the sum of probability x MRR",
        "expected_mrr_lost", "the sum of probability x MRR x horizon months",
        "expected_ltv", "the scored customers' expected remaining lifetime value",
        "expected_ltv_at_risk", "the sum of probability x expected_ltv",
        "actual_churners", "customers who did churn within the horizon (null until it has passed)",
        "actual_mrr_lost", "their MRR (null until the horizon has passed)");
    doc(Table.SURVIVAL_CURVES, "as_of_date x dimension x group x day",
        "Kaplan-Meier survival by days since signup, for all customers and by segment, industry and plan.",
        "as_of_date", "the date the curve is computed as of",
        "dimension", "all, segment, industry or plan",
        "group_value", "the group within the dimension",
        "day", "days since signup",
        "at_risk", "customers still at risk on that day",
        "events", "customers who churned that day",
        "censored", "customers censored that day (still active at the date)",
        "survival", "the share surviving past that day",
        "ci_low", "95 % band, low (Greenwood, log-log)",
        "ci_high", "95 % band, high (Greenwood, log-log)",
        "median_days", "the group's median survival in days (null while above one half)");
    doc(Table.RETENTION_ACTIONS, "scoring date x rank", "The contact list: customers worth a retention contact on "
        + "the latest scoring date, ranked by expected net value, each with its play; a share of them held out "
        + "(contact_group = 'holdout') as the control group, listed but never to be contacted.",
        "as_of_date", "the scoring date",
        "rank", "1 = the contact worth most",
        "customer_id", "the customer",
        "segment", "the customer's segment",
        "industry", "the customer's industry",
        "churn_probability", "the calibrated probability of churning within the horizon",
        "risk_tier", "high, medium or low",
        "lifecycle_stage", "the customer's lifecycle stage",
        "monthly_value", "MRR, or on a log without MRR the last 365 days' spend / 12",
        "expected_remaining_months", "months the customer is expected to stay, from its segment's survival curve",
        "expected_ltv", "monthly_value x expected_remaining_months",
        "expected_mrr_lost", "probability x MRR x horizon months",
        "expected_net_value", "probability x save_rate x expected_ltv - contact_cost",
        "top_reasons", "why the customer is at risk, in words",
        "save_rate", "the share of would-be churners a contact of this play is taken to keep: --save-rate, or once "
            + "the play is measured that measurement shrunk toward it (save_rate_source)",
        "contact_cost", "the cost of one contact (--contact-cost)",
        "model_version", MODEL_VERSION,
        "play", "what the contact does: the play of the customer's strongest reason the playbook covers, else "
            + "check_in (docs/retention.md)",
        "play_reason", "the reason that chose the play, in words",
        "contact_group", "contact, or holdout: the control group, never contacted (drawn once per customer: "
            + "every night and every rerun puts a customer in the same group)",
        "holdout_share", "the share of the list held out (--holdout-share)",
        "save_rate_source", "assumed (--save-rate) or measured (the play's measured save rate, shrunk toward the "
            + "assumed one by its uncertainty; docs/retention.md)");
    doc(Table.INTERVENTIONS, "customer x contact day x play", "What the retention team did, as it logged it "
        + "(ingest --interventions): one row per customer, day and play. Rows the ingest rejected are in "
        + "events_quarantine with their reasons (docs/retention.md).",
        "customer_id", "the customer contacted",
        "contacted_on", "the day of the contact",
        "play", "the play the contact ran (one of the playbook's)",
        "channel", "how the customer was reached (phone, email, in_app, ...; lower case, as logged)",
        "outcome", "what the team noted, as logged (null when none)",
        "source_file", "the interventions file the row was read from",
        "source_position", "the row's line in that file",
        "run_id", RUN_ID);
    doc(Table.INTERVENTION_EFFECTS, "list month x horizon x play x segment", "Whether the contacts worked: per "
        + "month of the action lists, play and segment (with ALL rows), the customers assigned to contact and held "
        + "out, their churn within the horizon after they were first listed that month, the uplift and the measured "
        + "save rate with 95 % intervals (intention to treat); beside them, from the interventions logged, the share "
        + "actually contacted and the per-protocol save rate. Rebuilt whole by every retention run.",
        "list_month", "the month of the lists (its first day); a customer counts once a month, from its first listing",
        "play", "the play of the customer's first listing that month, or ALL",
        "segment", "the customer's segment, or ALL",
        "horizon_days", "the scoring model's churn horizon: churn counts in (first listed, first listed + horizon]",
        "assigned_contact", "customers the lists assigned to contact",
        "assigned_holdout", "customers held out as the control group",
        "measured_contact", "assigned to contact, whose horizon has ended within the data",
        "measured_holdout", "held out, whose horizon has ended within the data",
        "churned_contact", "measured contacts who churned within the horizon",
        "churned_holdout", "measured held-out customers who churned within the horizon",
        "contact_churn_rate", "churned_contact / measured_contact (null before any is measured)",
        "holdout_churn_rate", "churned_holdout / measured_holdout (null before any is measured)",
        "uplift", "holdout_churn_rate - contact_churn_rate: churn the contacts prevented, per customer",
        "uplift_ci_low", "95 % interval of the uplift, low (Newcombe's hybrid score)",
        "uplift_ci_high", "95 % interval of the uplift, high",
        "save_rate", "uplift / holdout_churn_rate: the share of would-be churners a contact keeps (null while no "
            + "held-out customer churned)",
        "save_rate_ci_low", "95 % interval of the save rate, low (Katz's log interval of the relative risk)",
        "save_rate_ci_high", "95 % interval of the save rate, high",
        "contacted_contact", "assigned to contact and contacted within [first listed, first listed + horizon] "
            + "(interventions)",
        "contacted_holdout", "held out, yet contacted within the horizon all the same (the control group's "
            + "contamination)",
        "contacted_share", "contacted_contact / assigned_contact: how much of the list the team worked",
        "measured_contacted", "contacted_contact whose horizon has ended within the data",
        "churned_contacted", "measured_contacted who churned within the horizon",
        "per_protocol_save_rate", "1 - (churned_contacted / measured_contacted) / holdout_churn_rate: the save rate "
            + "of the contacts made (biased upward by whom the team reached, and when; save_rate is the measure)",
        "per_protocol_save_rate_ci_low", "95 % interval of the per-protocol save rate, low (Katz)",
        "per_protocol_save_rate_ci_high", "95 % interval of the per-protocol save rate, high");
    doc(Table.RUN_LOG, "stage of a run", "Every command run and stage: when, how long, rows in and out, outcome.",
        "run_id", "the run (command, date and a random suffix)",
        "command", "the command that ran",
        "run_date", "the date the run was for",
        "stage", "the stage (the command's own name for its outermost row)",
        "started_at", "when the stage started",
        "duration_ms", "how long it took",
        "rows_in", "rows it read",
        "rows_out", "rows it wrote",
        "rows_rejected", "rows it rejected",
        "status", "ok, failed or no_input",
        "message", "what it says it did, or why it failed",
        Table.Schemas.SPARK_JOBS, "Spark jobs run during the stage (nested stages' included)",
        Table.Schemas.DELTA_COMMITS, "commits the tables gained during a top-level stage, run_log's own "
            + "included, on that stage's row (null on nested rows; commits outside any stage are not counted)");
    doc(Table.SOURCE_SETTINGS, "key", "The warehouse's settings, fixed at its first ingest: the source's name and "
        + "the churn definition.",
        "key", "the setting",
        "value", "its value");
  }

  /** The table's description: its grain and what it holds. */
  public static String description(Table table) {
    Doc d = DOCS.get(table);
    return d.description() + " Grain: " + d.grain() + ".";
  }

  /**
   * The meaning of {@code column} of {@code table}, or null for a column nothing declares: the fixed columns
   * above, the snapshot's features (the catalogue), the window state's columns ({@link StateColumns#meaning}), the
   * rollup's signals.
   */
  public static String column(Table table, String column) {
    String fixed = DOCS.get(table).columns().get(column);
    if (fixed != null) {
      return fixed;
    }
    return switch (table) {
      case CUSTOMER_FEATURES -> {
        FeatureCatalogue.Feature f = FeatureCatalogue.named(column);
        yield f == null ? null : f.meaning();
      }
      case FEATURE_STATE -> StateColumns.meaning(column);
      case DAILY_ACTIVITY -> java.util.Arrays.stream(DailyActivity.Signal.values())
          .filter(s -> s.column().equals(column)).findFirst().map(s -> s.meaning() + " on the day").orElse(null);
      default -> null;
    };
  }

  /** docs/tables.md: every table with its grain and description, then its columns with their meanings. */
  public static String markdown() {
    StringBuilder sb = new StringBuilder("# Tables\n\nGenerated from `TableDocs` (the text every table and column "
        + "carries as its Delta comment, which `DESCRIBE churn.<table>` shows); do not edit by hand: `TableDocsTest` "
        + "fails when it is stale and writes the current text to `jobs/target/docs/tables.md`.\n\n");
    sb.append("Delta tables under the warehouse, named `churn.<table>` in the `sql` command's session (and with "
        + "`--metastore` in a Hive metastore, by every command: docs/production.md). Delta enforces the CHECK constraints listed under "
        + "a table on every write, whoever writes: a write that breaks one fails and stores nothing. Each data file "
        + "keeps its row count and the minimum, maximum and null count of the columns listed under its table as "
        + "statistics (`delta.dataSkippingStatsColumns`, set when the table is created; a table an earlier version "
        + "created keeps Delta's default, the first 32 columns): a filter on the date or those columns skips files.\n");
    for (Table t : Table.values()) {
      Doc d = DOCS.get(t);
      sb.append("\n## `").append(t.tableName()).append("`\n\n").append(d.description()).append(" Grain: ")
          .append(d.grain()).append(". Key: ").append(String.join(", ", t.key().stream().map(k -> "`" + k + "`")
              .toList())).append(".\n");
      sb.append("Statistics: ").append(String.join(", ", t.statisticsColumns().stream().map(c -> "`" + c + "`")
          .toList())).append(".\n");
      if (!t.constraints().isEmpty()) {
        sb.append("Constraints: ").append(String.join("; ", t.constraints().entrySet().stream()
            .map(c -> "`" + c.getKey() + "` (`" + c.getValue() + "`)").toList())).append(".\n");
      }
      sb.append("\n| column | meaning |\n|---|---|\n");
      d.columns().forEach((c, m) -> sb.append("| `").append(c).append("` | ").append(m).append(" |\n"));
      switch (t) {
        case CUSTOMER_FEATURES -> sb.append("| the catalogue's features | one column each, as `docs/features.md` "
            + "describes them |\n");
        case FEATURE_STATE -> sb.append("| `s_<value>_<w>`, `q_<column>`, `l_<what>`, `c_<column>_<age>` | ")
            .append(StateColumns.MEANING).append(" |\n");
        case DAILY_ACTIVITY -> java.util.Arrays.stream(DailyActivity.Signal.values())
            .forEach(s -> sb.append("| `").append(s.column()).append("` | ").append(column(t, s.column()))
                .append(" |\n"));
        default -> { }
      }
    }
    return sb.toString();
  }
}
