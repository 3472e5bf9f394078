package dev.churn.models;

import dev.churn.features.FeatureBuilder;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** Readable phrases for the features that drive a score, e.g. "logins down 64% vs the previous 4 weeks". */
public final class Reasons {
  private Reasons() {}

  private static final Map<String, FeatureBuilder.Feature> CATALOGUE = FeatureBuilder.catalogue().stream()
      .collect(Collectors.toMap(FeatureBuilder.Feature::name, f -> f));

  public static String phrase(String feature, String value) {
    if (value == null) {
      return feature + " unknown";
    }
    FeatureBuilder.Feature f = CATALOGUE.get(feature);
    if (f == null) {
      return feature + " = " + value;
    }
    if (f.categorical()) {
      return feature.replace('_', ' ') + " is " + value;
    }
    double x = Double.parseDouble(value);
    if (feature.contains("_trend_")) {
      String signal = feature.substring(0, feature.indexOf("_trend_")).replace('_', ' ');
      String span = feature.endsWith("7v28") ? "the previous 4 weeks" : "the previous 2 months";
      if (x <= -1) {
        return signal + " stopped vs " + span;
      }
      if (x >= 1) {
        return signal + " started vs " + span;
      }
      double change = (1 + x) / (1 - x) - 1; // rate ratio recent / prior, from (r - p) / (r + p)
      return String.format(Locale.ROOT, "%s %s %.0f%% vs %s", signal, change < 0 ? "down" : "up",
          Math.abs(change) * 100, span);
    }
    if (feature.startsWith("days_since_last_")) {
      String what = feature.substring("days_since_last_".length());
      return x >= FeatureBuilder.LOOKBACK_DAYS ? "no " + what + " in the last year"
          : String.format(Locale.ROOT, "no %s for %.0f days", what, x);
    }
    return switch (feature) {
      case "tenure_days" -> String.format(Locale.ROOT, "customer for %.0f days", x);
      case "in_trial" -> x > 0 ? "in a free trial" : "not in a trial";
      case "days_to_trial_end" -> String.format(Locale.ROOT, "trial ends in %.0f days", x);
      case "mrr" -> String.format(Locale.ROOT, "MRR %.0f", x);
      case "mrr_change_90d" -> String.format(Locale.ROOT, "MRR %s by %.0f in 90 days", x < 0 ? "down" : "up", Math.abs(x));
      default -> String.format(Locale.ROOT, "%s %s", x == Math.rint(x) ? String.format(Locale.ROOT, "%.0f", x)
          : String.format(Locale.ROOT, "%.2f", x), f.meaning());
    };
  }
}
