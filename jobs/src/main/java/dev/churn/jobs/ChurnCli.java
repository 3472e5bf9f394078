package dev.churn.jobs;

import dev.churn.jobs.stages.StageContext;
import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.jobs.warehouse.WarehouseLock;
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
        TrainCommand.class, ScoreCommand.class, RetentionCommand.class, NightlyCommand.class, ReportCommand.class,
        SqlCommand.class})
public final class ChurnCli {

  @Option(names = "--warehouse", scope = ScopeType.INHERIT, paramLabel = "DIR",
      description = "Root folder or URI of all Delta tables (default: ${DEFAULT-VALUE}).", defaultValue = "./warehouse")
  String warehouse;

  @Option(names = "--metastore", scope = ScopeType.INHERIT, paramLabel = "DIR|URI",
      description = "Also register the tables, by name (churn.<table>), in this Hive metastore: a folder (Spark's "
          + "embedded one, created there) or a thrift:// URI; other Spark sessions using it find them (default: "
          + "none, this run's session only).")
  String metastore;

  @Option(names = "--conf", scope = ScopeType.INHERIT, paramLabel = "KEY=VALUE",
      description = "Extra Spark setting (repeatable).")
  Map<String, String> conf = new LinkedHashMap<>();

  @Option(names = "--config", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "Properties file of defaults: an option's name without dashes (horizon-days=30), or prefixed by "
          + "a command (nightly.horizon-days=30), or a spark.* setting; the command line wins (default: $"
          + ChurnConfig.ENV + ").")
  java.nio.file.Path configFile;

  @Option(names = "--lock-wait-minutes", scope = ScopeType.INHERIT, defaultValue = "0", paramLabel = "M",
      description = "Commands that write wait up to M minutes for another run on the same warehouse to end, "
          + "then exit 5 (default: ${DEFAULT-VALUE}).")
  long lockWaitMinutes;

  @Option(names = "--verbose", scope = ScopeType.INHERIT,
      description = "Spark's and churn's log lines on stderr (./churn; default: in $CHURN_LOG_FILE, logs/churn.log).")
  boolean verbose;

  private ChurnConfig config = ChurnConfig.none();

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
      code = commandLine(new ChurnCli(), args).execute(args);
    } catch (Throwable t) {
      // Errors (a missing class, out of memory) escape picocli's handlers; they still get one line.
      System.err.println("churn: " + oneLine(t));
      code = ChurnException.FAILURE;
    }
    System.exit(code);
  }

  /**
   * Builds the command line for {@code args} with the project's converters, one-line error handlers, and the
   * defaults of the config file they name (or {@code $CHURN_CONFIG}); a bad config file fails the run with exit 2.
   */
  public static CommandLine commandLine(ChurnCli root, String... args) {
    CommandLine cmd = new CommandLine(root);
    cmd.registerConverter(LocalDate.class, ChurnCli::parseDate);
    java.util.Map<String, String> codes = new java.util.LinkedHashMap<>();
    ChurnException.MEANINGS.forEach((code, meaning) -> codes.put(String.valueOf(code), meaning));
    for (CommandLine c : java.util.stream.Stream.concat(java.util.stream.Stream.of(cmd),
        cmd.getSubcommands().values().stream()).toList()) {
      c.getCommandSpec().usageMessage().exitCodeListHeading("Exit codes:%n").exitCodeList(codes);
    }
    String[] configError = {null};
    try {
      root.config = ChurnConfig.fromArgs(args, System.getenv());
      root.config.validate(cmd);
      cmd.setDefaultValueProvider(root.config);
    } catch (IllegalArgumentException e) {
      configError[0] = e.getMessage();
    }
    cmd.setExecutionStrategy(parseResult -> {
      if (configError[0] != null) {
        throw new CommandLine.ParameterException(cmd, configError[0]);
      }
      return new CommandLine.RunLast().execute(parseResult);
    });
    cmd.setParameterExceptionHandler((ex, badArgs) -> {
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
      String line = oneLine(ex);
      if (!(ex instanceof ChurnException)) {
        // Not a failure churn foresaw: the whole trace goes to the log, the console gets one line naming it.
        org.apache.logging.log4j.LogManager.getLogger(ChurnCli.class).error("churn: " + line, ex);
        String log = System.getProperty("churn.log.file");
        if (log != null) {
          line += " (stack trace in " + log + ")";
        }
      }
      err.println("churn: " + line);
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
    while (!(root instanceof io.delta.exceptions.DeltaConcurrentModificationException) && root.getCause() != null
        && root.getCause() != root) {
      root = root.getCause();
    }
    if (root instanceof io.delta.exceptions.DeltaConcurrentModificationException) {
      return "another process changed a table at the same time (" + root.getClass().getSimpleName() + "): nothing "
          + "of the conflicting write was committed; rerun, as every write is idempotent for its date";
    }
    if (root instanceof OutOfMemoryError) {
      return "failed: out of memory (" + root.getMessage() + "): give the driver more with CHURN_DRIVER_MEMORY (or "
          + "spark-submit's --driver-memory) [OutOfMemoryError]";
    }
    String file = fileAtFault(ex);
    return "failed: " + (file == null ? "" : "cannot read " + file + ": ") + ChurnException.firstLine(root) + " ["
        + root.getClass().getSimpleName() + "]";
  }

  /** The file Spark names when reading it failed (its FAILED_READ_FILE error), or null. */
  private static String fileAtFault(Throwable ex) {
    for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof org.apache.spark.SparkThrowable st && st.getCondition() != null
          && st.getCondition().startsWith("FAILED_READ_FILE")) {
        String path = st.getMessageParameters().get("path");
        if (path != null) {
          return path;
        }
      }
    }
    return null;
  }

  private static LocalDate parseDate(String text) {
    try {
      return LocalDate.parse(text);
    } catch (DateTimeParseException e) {
      throw new CommandLine.TypeConversionException("'" + text + "' is not a date: use YYYY-MM-DD");
    }
  }

  /**
   * Opens the session for a command that writes to the warehouse, holding the warehouse's lock until the returned
   * handle is closed (which also stops the session, unless tests own it).
   */
  Context open(String command) {
    return open(command, true);
  }

  /**
   * Names the tables {@code churn.<table>} in the session, an empty view for each output not written yet, for a
   * command that runs SQL by name; with --metastore every command does, so that other sessions find them.
   */
  static void nameTables(Warehouse wh) {
    wh.nameTables();
    dev.churn.jobs.stages.EmptyOutputs.register(wh);
  }

  /** Opens the session for a command that only reads the warehouse (no lock). */
  Context openReadOnly(String command) {
    return open(command, false);
  }

  /** The Spark settings of the config file, overridden by {@code --conf}. */
  private Map<String, String> sparkSettings() {
    Map<String, String> merged = new LinkedHashMap<>(config.sparkConf());
    merged.putAll(conf);
    return merged;
  }

  /** A new session for {@code command}: the config file's and --conf's settings, in the metastore if one is given. */
  private SparkSession session(String command) {
    Map<String, String> settings = new LinkedHashMap<>(Metastore.settings(metastore));
    Metastore.prepare(metastore);
    settings.putAll(sparkSettings());
    return SparkSessions.create("churn " + command, settings);
  }

  private Context open(String command, boolean writes) {
    if (lockWaitMinutes < 0) {
      throw ChurnException.usage("--lock-wait-minutes must be zero or more, not " + lockWaitMinutes);
    }
    SparkSession spark = sessions != null ? sessions.apply(command) : session(command);
    WarehouseLock lock = null;
    try {
      Warehouse wh = new Warehouse(spark, warehouse);
      wh.checkIntact();
      if (writes) {
        lock = WarehouseLock.acquire(wh.root(), spark.sparkContext().hadoopConfiguration(), "churn " + command,
            java.time.Duration.ofMinutes(lockWaitMinutes));
        wh.markCommittedTables();
      }
      if (metastore != null || command.equals(SqlCommand.NAME)) {
        nameTables(wh);
      }
      return new Context(spark, wh, lock, stopSession);
    } catch (RuntimeException e) {
      new Context(spark, null, lock, stopSession).close();
      throw e;
    }
  }

  /**
   * The settings a command runs with, for its log: every option's value and the Spark settings from the config
   * file and {@code --conf}, with the values of secret-looking keys masked.
   */
  String settings(CommandLine.Model.CommandSpec command) {
    java.util.List<String> parts = new java.util.ArrayList<>();
    for (CommandLine.Model.OptionSpec o : command.options()) {
      Object v = o.getValue();
      if (o.usageHelp() || o.versionHelp() || v == null || v instanceof Map<?, ?>) {
        continue; // --conf's map is listed below with the config file's Spark settings
      }
      String name = ChurnConfig.key(o);
      parts.add(name + "=" + ChurnConfig.mask(name, String.valueOf(v)));
    }
    sparkSettings().forEach((k, v) -> parts.add(k + "=" + ChurnConfig.mask(k, v)));
    return String.join(", ", parts);
  }

  /**
   * Builds a job's options with {@code build}; a value the options refuse (IllegalArgumentException) is a usage
   * error of {@code command}, exit 2, before anything is opened.
   */
  static <T> T options(CommandLine.Model.CommandSpec command, java.util.function.Supplier<T> build) {
    try {
      return build.get();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(command.commandLine(), e.getMessage());
    }
  }

  /** A command's session and warehouse, and the warehouse lock of a writing command. */
  record Context(SparkSession spark, Warehouse warehouse, WarehouseLock lock, boolean stop) implements AutoCloseable {
    /** The collaborators of one run of {@code command} for {@code date}, printing to {@code out}. */
    StageContext stages(String command, LocalDate date, PrintWriter out) {
      if (lock != null && lock.tookOver() != null) {
        out.printf("[lock] %s%n", lock.tookOver());
      }
      return StageContext.of(warehouse, new RunLog(warehouse, command, date, out));
    }

    @Override
    public void close() {
      try {
        if (lock != null) {
          lock.close();
        }
      } finally {
        if (stop) {
          spark.stop();
        }
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
