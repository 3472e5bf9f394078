package dev.churn.features;

import java.io.Serializable;
import java.util.List;

/**
 * How churn is recognised in a log: a cancellation event (of the given types), or {@code inactivityDays}
 * days without any activity. Stored with the warehouse so every later stage uses the same definition.
 */
public record ChurnDefinition(List<String> cancellationEventTypes, int inactivityDays) implements Serializable {

  public static ChurnDefinition cancellation(List<String> types) {
    if (types.isEmpty()) {
      throw new IllegalArgumentException("churn by cancellation needs at least one event type");
    }
    return new ChurnDefinition(List.copyOf(types), 0);
  }

  public static ChurnDefinition inactivity(int days) {
    return new ChurnDefinition(List.of(), days);
  }

  public boolean byInactivity() {
    return inactivityDays > 0;
  }

  /** Text form stored in the warehouse settings: {@code cancellation:a,b} or {@code inactivity:90}. */
  public String encode() {
    return byInactivity() ? "inactivity:" + inactivityDays : "cancellation:" + String.join(",", cancellationEventTypes);
  }

  public static ChurnDefinition decode(String text) {
    if (text.startsWith("inactivity:")) {
      return inactivity(Integer.parseInt(text.substring("inactivity:".length())));
    }
    if (text.startsWith("cancellation:")) {
      return cancellation(List.of(text.substring("cancellation:".length()).split(",")));
    }
    throw new IllegalArgumentException("unknown churn definition '" + text + "'");
  }

  @Override
  public String toString() {
    return byInactivity() ? "no activity for " + inactivityDays + " days" : "cancellation event " + cancellationEventTypes;
  }
}
