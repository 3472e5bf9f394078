package dev.churn.models;

import dev.churn.features.FeatureCatalogue;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Readable phrases for the features that drive a score, e.g. "logins down 64% vs the previous 4 weeks (typical:
 * flat)": each feature's wording is declared with it in the {@link FeatureCatalogue}; the typical value is the
 * training customers' median; words for event types follow the log's own vocabulary (a purchase log's payments
 * are purchases).
 */
public final class Reasons {
  private Reasons() {}

  /** The one reason of a customer none of whose features raises its risk above the population's. */
  public static final String NO_SIGNAL = "no single strong signal";
  /** The key of the vocabulary in a model's environment: "canonical=source" pairs, comma-separated. */
  public static final String VOCABULARY = "vocabulary";

  public static String phrase(String feature, String value) {
    return phrase(feature, value, null, Map.of());
  }

  /**
   * @param typical the population's typical (median) value of a numeric feature, or null
   * @param vocabulary canonical event type to the log's word for it ({@link #vocabulary})
   */
  public static String phrase(String feature, String value, Double typical, Map<String, String> vocabulary) {
    return phrase(feature, value, typical, vocabulary, false);
  }

  /**
   * @param scaled whether the model takes the feature scaled to a full window ({@link ObservedHistory}): its
   *     value is an estimate where the log began after the window did
   */
  public static String phrase(String feature, String value, Double typical, Map<String, String> vocabulary,
      boolean scaled) {
    if (value == null) {
      return feature + " unknown";
    }
    FeatureCatalogue.Feature f = FeatureCatalogue.named(feature);
    if (f == null) {
      return feature + " = " + value;
    }
    if (f.categorical()) {
      return words(feature.replace('_', ' ') + " is " + value, vocabulary);
    }
    double x = Double.parseDouble(value);
    String phrase = scaled ? ObservedHistory.phrase(feature, x) : f.phrase().apply(x);
    if (typical != null && !f.unit().equals("flag")) {
      phrase += " (typical: " + typicalWords(f, typical) + ")";
    }
    return words(phrase, vocabulary);
  }

  private static String typicalWords(FeatureCatalogue.Feature f, double t) {
    return switch (f.unit()) {
      case "days" -> FeatureCatalogue.days(t);
      case "ratio in [-1, 1]" -> Math.abs(t) < 0.005 ? "flat" : String.format(Locale.ROOT, "%+.2f", t);
      // The median comes back through log(1 + x): 2.0000000004 is 2.
      default -> Math.abs(t - Math.rint(t)) < 1e-6 ? String.format(Locale.ROOT, "%.0f", t)
          : String.format(Locale.ROOT, "%.2f", t);
    };
  }

  /** The phrase in the log's words: "successful payments" become "purchases" when payments are purchases there. */
  static String words(String phrase, Map<String, String> vocabulary) {
    String out = phrase;
    for (Map.Entry<String, String> e : vocabulary.entrySet()) {
      String canonical = e.getKey();
      String word = e.getValue();
      if (canonical.equals("payment")) {
        out = out.replace("successful payments", word + "s").replace("successful payment", word)
            .replace("amount paid", "amount spent");
      }
      out = out.replace(canonical + "s", word + "s").replace(canonical, word);
    }
    return out;
  }

  /** The vocabulary stored in a model's environment (empty when the log uses churn's own words). */
  public static Map<String, String> vocabulary(Map<String, String> environment) {
    Map<String, String> out = new LinkedHashMap<>();
    String stored = environment == null ? null : environment.get(VOCABULARY);
    if (stored != null && !stored.isBlank()) {
      for (String pair : stored.split(",")) {
        String[] kv = pair.split("=", 2);
        out.put(kv[0], kv[1]);
      }
    }
    return out;
  }
}
