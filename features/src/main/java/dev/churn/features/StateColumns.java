package dev.churn.features;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The names of the window state's columns ({@link WindowState}, table {@code feature_state}) and what each holds:
 * {@code s_<value>_<w>} a running sum over the last w days ({@code all}: all history), {@code q_<column>} the
 * (day, value) queue window maxima are read from, {@code l_<what>} the latest day of something, and
 * {@code c_<column>_<age>} (with {@code _on}, its day) the value after the latest change at least that old.
 */
public final class StateColumns {
  private StateColumns() {}

  /** The suffix of a change column's day. */
  static final String ON = "_on";

  static String sum(String key, int window) {
    return "s_" + key + "_" + (window == WindowState.ALL_HISTORY ? "all" : String.valueOf(window));
  }

  static String queue(String column) {
    return "q_" + column;
  }

  static String latest(WindowState.Latest l) {
    return "l_" + l.key();
  }

  static String change(WindowState.LastChange c) {
    return "c_" + c.column() + "_" + c.minAge();
  }

  /** What the state's columns hold, in one line (docs/tables.md). */
  public static final String MEANING = "the running window state: `s_` running sums of a value over the last w days "
      + "(or all history), money as an exact decimal; `q_` the (day, value) queue window maxima are read from; `l_` "
      + "the latest day of something; `c_` (and `_on`, its day) the value after the latest change at least <age> "
      + "days old";

  private static final Pattern NAME = Pattern.compile("(s|q|l|c)_(.+?)(?:_(all|\\d+))?(" + ON + ")?");

  /** What the state's column {@code column} holds, in one line (its Delta comment), or null for another name. */
  public static String meaning(String column) {
    Matcher m = NAME.matcher(column);
    if (!m.matches()) {
      return null;
    }
    String what = "`" + m.group(2) + "`";
    String window = m.group(3);
    boolean on = m.group(4) != null;
    return switch (m.group(1)) {
      case "s" -> window == null || on ? null : "running sum of daily " + what + " over "
          + (window.equals("all") ? "all history" : "the last " + window + " days") + " to the as-of date";
      case "q" -> window != null || on ? null : "(day, value) queue of daily " + what + " window maxima are read from";
      case "l" -> window != null || on ? null : "the latest day of " + what + " on or before the as-of date";
      case "c" -> window == null || window.equals("all") ? null : (on ? "the day of the latest plan change at least "
          + window + " days before the as-of date" : what + " after the latest plan change at least " + window
          + " days before the as-of date");
      default -> null;
    };
  }
}
