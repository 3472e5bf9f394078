package dev.churn.jobs.warehouse;

/**
 * A failure the user can act on, with the exit code a scheduler reads ({@link #MEANINGS} says what each code means).
 * Its message is the one line printed on stderr.
 *
 * <p>Danger: a Spark task out of memory in a local run ends the JVM with Spark's own code 52 after that line
 * (Spark's executor halts on a fatal error; the driver cannot keep it from doing so).
 */
public class ChurnException extends RuntimeException {
  public static final int FAILURE = 1;
  public static final int USAGE = 2;
  public static final int BAD_DATA = 3;
  public static final int NO_INPUT = 4;
  public static final int BUSY = 5;

  /**
   * Every code a command exits with and what it means, in order of code, declared once: the help's "Exit codes"
   * list and the README's table ({@link #markdownTable}, which a test compares) are rendered from it.
   */
  public static final java.util.Map<Integer, String> MEANINGS = java.util.Collections.unmodifiableMap(
      new java.util.TreeMap<>(java.util.Map.of(
          0, "success",
          FAILURE, "any other failure (one line naming what failed; a damaged warehouse is refused this way)",
          USAGE, "bad usage or arguments (nothing was changed)",
          BAD_DATA, "bad data over the allowed threshold (--max-bad-fraction), or a model that does not fit the "
              + "features",
          NO_INPUT, "no input for the date (nightly; nothing was changed)",
          BUSY, "another run holds the warehouse (nothing was changed; retry later, or --lock-wait-minutes)")));

  /** {@link #MEANINGS} as a Markdown table. */
  public static String markdownTable() {
    StringBuilder table = new StringBuilder("| code | meaning |\n|---|---|\n");
    MEANINGS.forEach((code, meaning) -> table.append("| ").append(code).append(" | ")
        .append(meaning).append(" |\n"));
    return table.toString();
  }

  private final int exitCode;
  private RunLog.StageResult partialResult;

  public ChurnException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public ChurnException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  public static ChurnException badData(String message) {
    return new ChurnException(BAD_DATA, message);
  }

  public static ChurnException noInput(String message) {
    return new ChurnException(NO_INPUT, message);
  }

  public static ChurnException usage(String message) {
    return new ChurnException(USAGE, message);
  }

  /** Counts a failing stage had reached, for its run_log row (for example rows quarantined before exit 3). */
  public ChurnException withPartialResult(RunLog.StageResult result) {
    this.partialResult = result;
    return this;
  }

  public RunLog.StageResult partialResult() {
    return partialResult;
  }

  public int exitCode() {
    return exitCode;
  }

  /**
   * The first line of {@code t}'s message that says something (Spark's parse errors start with a blank line), or
   * its class name when it has no message: what a one-line error and a run_log row show.
   */
  public static String firstLine(Throwable t) {
    String message = t.getMessage();
    return message == null ? t.getClass().getSimpleName()
        : message.lines().map(String::strip).filter(l -> !l.isEmpty()).findFirst().orElse("");
  }
}
