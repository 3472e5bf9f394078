package dev.churn.models;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.filter;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.try_element_at;
import static org.apache.spark.sql.functions.when;

import dev.churn.features.FeatureCatalogue;
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
 * silent; otherwise check in. A user's playbook file ({@link #parse}, {@code --playbook}) replaces it whole.
 */
public final class Playbook implements java.io.Serializable {
  /** The play of a customer whose reasons no rule covers. */
  public static final String CHECK_IN = "check_in";
  /** The reason recorded with {@link #CHECK_IN}. */
  public static final String NO_RULE = "no reason a play addresses";

  /**
   * One rule: the play it chooses, the feature-name prefixes it covers, and (for a categorical feature) the one
   * value it covers, or null for any.
   */
  public record Rule(String play, List<String> prefixes, String value) implements java.io.Serializable {
    public Rule {
      if (play == null || !play.matches("[a-z][a-z0-9_]*")) {
        throw new IllegalArgumentException("a play is a lower-case name, not '" + play + "'");
      }
      prefixes = List.copyOf(prefixes);
      if (prefixes.isEmpty()) {
        throw new IllegalArgumentException("play " + play + " covers no feature");
      }
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

  /** The default playbook, {@code default.playbook} beside this class (docs/retention.md lists it). */
  public static final Playbook DEFAULT = parse(resource(), "the default playbook");

  private static String resource() {
    try (java.io.InputStream in = Playbook.class.getResourceAsStream("default.playbook")) {
      if (in == null) {
        throw new IllegalStateException("default.playbook is missing from the models jar");
      }
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * A playbook file: one rule per line, {@code play = prefix, prefix [when VALUE]}, tried in order; blank lines and
   * lines starting with # are skipped. Refused, naming the line: a play that is not a lower-case name or is {@link
   * #CHECK_IN} (the fallback), a prefix that starts no feature of the catalogue (a typo would silently never
   * match), and {@code when} on a feature that is not categorical.
   */
  public static Playbook parse(String text, String source) {
    List<Rule> rules = new java.util.ArrayList<>();
    String[] lines = text.split("\\R", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String where = source + " line " + (i + 1) + ": ";
      int eq = line.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException(where + "expected 'play = feature prefixes [when VALUE]', not '" + line + "'");
      }
      String play = line.substring(0, eq).strip();
      String rest = line.substring(eq + 1).strip();
      String value = null;
      int when = rest.indexOf(" when ");
      if (when >= 0) {
        value = rest.substring(when + 6).strip();
        rest = rest.substring(0, when).strip();
      }
      List<String> prefixes = java.util.Arrays.stream(rest.split(",")).map(String::strip).filter(p -> !p.isEmpty())
          .toList();
      if (play.equals(CHECK_IN)) {
        throw new IllegalArgumentException(where + CHECK_IN + " is the play of a customer no rule covers, not a rule's");
      }
      Rule rule;
      try {
        rule = new Rule(play, prefixes, value == null || value.isEmpty() ? null : value);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + e.getMessage());
      }
      for (String p : prefixes) {
        List<FeatureCatalogue.Feature> covered = FeatureCatalogue.features().stream()
            .filter(f -> f.name().startsWith(p)).toList();
        if (covered.isEmpty()) {
          throw new IllegalArgumentException(where + "'" + p + "' starts the name of no feature (docs/features.md)");
        }
        if (rule.value() != null && covered.stream().anyMatch(f -> !f.categorical())) {
          throw new IllegalArgumentException(where + "'when' needs categorical features, and '" + p
              + "' covers a numeric one");
        }
      }
      rules.add(rule);
    }
    if (rules.isEmpty()) {
      throw new IllegalArgumentException(source + " holds no rule");
    }
    return new Playbook(rules);
  }

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
