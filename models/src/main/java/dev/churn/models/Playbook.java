package dev.churn.models;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.filter;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.try_element_at;
import static org.apache.spark.sql.functions.when;

import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Column;

/**
 * Which play a retention contact runs, from the reasons of the customer's score: the customer's reasons are read
 * strongest first, and the first reason a rule covers chooses the play; a customer none of whose reasons a rule
 * covers gets {@link #CHECK_IN}. A rule covers a reason when the reason's feature starts with one of the rule's
 * prefixes (and, for a categorical feature, when its value is the rule's). The default playbook ({@link #DEFAULT},
 * listed in docs/retention.md) follows the plan of the retention literature: resolve support problems, rescue
 * failed payments, onboard new customers and ending trials, educate on falling use of the product, re-engage the
 * silent; otherwise check in.
 */
public final class Playbook {
  /** The play of a customer whose reasons no rule covers. */
  public static final String CHECK_IN = "check_in";
  /** The reason recorded with {@link #CHECK_IN}. */
  public static final String NO_RULE = "no reason a play addresses";

  /**
   * One rule: the play it chooses, the feature-name prefixes it covers, and (for a categorical feature) the one
   * value it covers, or null for any.
   */
  public record Rule(String play, List<String> prefixes, String value) {
    public Rule {
      if (play == null || !play.matches("[a-z][a-z0-9_]*")) {
        throw new IllegalArgumentException("a play is a lower-case name, not '" + play + "'");
      }
      prefixes = List.copyOf(prefixes);
      if (prefixes.isEmpty()) {
        throw new IllegalArgumentException("play " + play + " covers no feature");
      }
    }

    Rule(String play, String... prefixes) {
      this(play, List.of(prefixes), null);
    }

    /** Whether this rule covers a reason of {@code feature} (and {@code value}). */
    Column covers(Column feature, Column value) {
      Column any = null;
      for (String p : prefixes) {
        Column c = feature.startsWith(p);
        any = any == null ? c : any.or(c);
      }
      return this.value == null ? any : any.and(value.equalTo(lit(this.value)));
    }
  }

  /** The default playbook, strongest claim first where two rules could cover one feature. */
  public static final Playbook DEFAULT = new Playbook(List.of(
      new Rule("resolve", "tickets", "days_since_last_ticket"),
      new Rule("rescue_payment", "failed_payments", "refunds", "refund_amount", "days_since_last_payment"),
      new Rule("onboard", "in_trial", "days_to_trial_end", "trial_", "tenure_days"),
      new Rule("onboard", List.of("lifecycle_stage"), "new"),
      new Rule("educate", "feature_uses", "sessions", "seats_max", "active_users"),
      new Rule("re_engage", "logins", "days_since_last_login", "days_since_last_activity", "silence_vs_rhythm",
          "active_days", "events", "email_", "unsubscribes"),
      new Rule("re_engage", List.of("lifecycle_stage"), "declining"),
      new Rule("re_engage", List.of("lifecycle_stage"), "lapsed")));

  private final List<Rule> rules;

  public Playbook(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  public List<Rule> rules() {
    return rules;
  }

  /** The play the first rule covering a reason chooses, or null when none covers it. */
  Column playOf(Column feature, Column value) {
    Column play = null;
    for (Rule r : rules) {
      play = play == null ? when(r.covers(feature, value), lit(r.play()))
          : play.when(r.covers(feature, value), lit(r.play()));
    }
    return play == null ? lit(null).cast("string") : play;
  }

  /** The strongest of {@code reasons} (churn_scores' top_reasons) that a rule covers, or null. */
  private Column chosen(Column reasons) {
    return try_element_at(filter(reasons, r -> playOf(r.getField("feature"), r.getField("value")).isNotNull()), lit(1));
  }

  /** The play of a customer with {@code reasons}: that of its strongest covered reason, else {@link #CHECK_IN}. */
  public Column play(Column reasons) {
    Column chosen = chosen(reasons);
    return coalesce(playOf(chosen.getField("feature"), chosen.getField("value")), lit(CHECK_IN));
  }

  /** The phrase of the reason that chose the play, or {@link #NO_RULE}. */
  public Column playReason(Column reasons) {
    return coalesce(chosen(reasons).getField("phrase"), lit(NO_RULE));
  }

  /** The rules as a markdown table (docs/retention.md holds it). */
  public String markdown() {
    StringBuilder sb = new StringBuilder("| play | chosen by a reason whose feature's name starts with |\n|---|---|\n");
    for (Rule r : rules) {
      sb.append("| `").append(r.play()).append("` | ");
      sb.append(String.join(", ", r.prefixes().stream().map(p -> "`" + p + "`").toList()));
      if (r.value() != null) {
        sb.append(String.format(Locale.ROOT, " when it is `%s`", r.value()));
      }
      sb.append(" |\n");
    }
    sb.append("| `").append(CHECK_IN).append("` | none of the above among the customer's reasons |\n");
    return sb.toString();
  }
}
