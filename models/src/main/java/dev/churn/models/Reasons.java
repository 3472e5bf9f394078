package dev.churn.models;

import dev.churn.features.FeatureCatalogue;

/**
 * Readable phrases for the features that drive a score, e.g. "logins down 64% vs the previous 4 weeks": each
 * feature's wording is declared with it in the {@link FeatureCatalogue}.
 */
public final class Reasons {
  private Reasons() {}

  public static String phrase(String feature, String value) {
    if (value == null) {
      return feature + " unknown";
    }
    FeatureCatalogue.Feature f = FeatureCatalogue.named(feature);
    if (f == null) {
      return feature + " = " + value;
    }
    if (f.categorical()) {
      return feature.replace('_', ' ') + " is " + value;
    }
    return f.phrase().apply(Double.parseDouble(value));
  }
}
