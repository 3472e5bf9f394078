package dev.churn.jobs;

import java.io.PrintWriter;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code churn} command. Runs the same way under the local launcher ({@code ./churn}) and under
 * spark-submit; the master and resources always come from there.
 */
@Command(name = "churn", mixinStandardHelpOptions = true, versionProvider = ChurnCli.Version.class,
    sortOptions = false, usageHelpAutoWidth = true,
    description = "Predicts which customers will leave and measures how well the business keeps them.",
    subcommands = {DemoCommand.class, GenerateCommand.class, IngestCommand.class, FeaturesCommand.class,
        TrainCommand.class, ScoreCommand.class, RetentionCommand.class, ReportCommand.class,
        SqlCommand.class},
    footer = {"", "Exit codes: 0 success, 1 failure, 2 bad usage or arguments, 3 bad data over the threshold "
        + "or a model that does not fit the features."})
public final class ChurnCli {

  @Option(names = "--warehouse", scope = ScopeType.INHERIT, paramLabel = "DIR",
      description = "Root folder or URI of all Delta tables (default: ${DEFAULT-VALUE}).", defaultValue = "./warehouse")
  String warehouse;

  @Option(names = "--conf", scope = ScopeType.INHERIT, paramLabel = "KEY=VALUE",
      description = "Extra Spark setting (repeatable).")
  Map<String, String> conf = new LinkedHashMap<>();

  private final Function<String, SparkSession> sessions;
  private final boolean stopSession;

  /** The production CLI: a new session per command, stopped at its end. */
  public ChurnCli() {
    this(null, true);
  }

  /** For tests: commands run in the session {@code sessions} returns, which is left running. */
  public ChurnCli(Function<String, SparkSession> sessions, boolean stopSession) {
    this.sessions = sessions;
    this.stopSession = stopSession;
  }

  public static void main(String[] args) {
    int code;
    try {
      code = commandLine(new ChurnCli()).execute(args);
    } catch (Throwable t) {
      // Errors (a missing class, out of memory) escape picocli's handlers; they still get one line.
      System.err.println("churn: " + oneLine(t));
      code = ChurnException.FAILURE;
    }
    System.exit(code);
  }

  /** Builds the command line with the project's converters and one-line error handlers. */
  public static CommandLine commandLine(ChurnCli root) {
    CommandLine cmd = new CommandLine(root);
    cmd.registerConverter(LocalDate.class, ChurnCli::parseDate);
    cmd.setParameterExceptionHandler((ex, args) -> {
      CommandLine failed = ex.getCommandLine();
      PrintWriter err = failed.getErr();
      err.println("churn: " + ex.getMessage().lines().findFirst().orElse("bad usage")
          + " (see 'churn " + (failed.getCommandName().equals("churn") ? "" : failed.getCommandName() + " ")
          + "--help')");
      err.flush();
      return ChurnException.USAGE;
    });
    cmd.setExecutionExceptionHandler((ex, failed, parseResult) -> {
      PrintWriter err = failed.getErr();
      err.println("churn: " + oneLine(ex));
      err.flush();
      return ex instanceof ChurnException ce ? ce.exitCode() : ChurnException.FAILURE;
    });
    return cmd;
  }

  private static String oneLine(Throwable ex) {
    if (ex instanceof ChurnException) {
      return ex.getMessage();
    }
    Throwable root = ex;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String msg = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    return "failed: " + msg.lines().findFirst().orElse("") + " [" + root.getClass().getSimpleName() + "]";
  }

  private static LocalDate parseDate(String text) {
    try {
      return LocalDate.parse(text);
    } catch (DateTimeParseException e) {
      throw new CommandLine.TypeConversionException("'" + text + "' is not a date: use YYYY-MM-DD");
    }
  }

  /** Opens the session for a command; close the returned handle to stop it (unless tests own it). */
  Context open(String command) {
    SparkSession spark = sessions != null ? sessions.apply(command)
        : SparkSessions.create("churn " + command, conf);
    Warehouse wh = new Warehouse(spark, warehouse);
    wh.registerAll();
    return new Context(spark, wh, stopSession);
  }

  /** A command's session and warehouse. */
  record Context(SparkSession spark, Warehouse warehouse, boolean stop) implements AutoCloseable {
    @Override
    public void close() {
      if (stop) {
        spark.stop();
      }
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws Exception {
      Properties p = new Properties();
      try (var in = ChurnCli.class.getResourceAsStream("/churn-version.properties")) {
        if (in != null) {
          p.load(in);
        }
      }
      return new String[] {"churn " + p.getProperty("version", "unknown") + " (Spark "
          + p.getProperty("spark", "?") + ", Delta " + p.getProperty("delta", "?") + ")"};
    }
  }
}
