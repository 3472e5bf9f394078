package dev.churn.jobs;

import dev.churn.jobs.warehouse.Settings;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Settings from a properties file ({@code --config FILE}, or the {@code CHURN_CONFIG} environment variable).
 * A key is an option's name without dashes ({@code horizon-days = 30}) and applies to every command that has that
 * option, or is prefixed by a command's name ({@code nightly.horizon-days = 30}) and applies to that command only;
 * keys starting with {@code spark.} are Spark settings. The command line wins over the file, the file over the
 * built-in defaults, and {@code --help} shows the defaults in effect. An unknown key is an error (a typo must not
 * silently fall back to a default). Values of keys that look like secrets are never printed: see {@link #mask}.
 */
final class ChurnConfig implements CommandLine.IDefaultValueProvider {
  static final String ENV = "CHURN_CONFIG";
  private static final Pattern SECRET = Pattern.compile("(?i)(password|passwd|secret|token|credential|key)");

  private final Path file;
  private final Map<String, String> values;

  private ChurnConfig(Path file, Map<String, String> values) {
    this.file = file;
    this.values = values;
  }

  static ChurnConfig none() {
    return new ChurnConfig(null, Map.of());
  }

  /** Reads the file; an unreadable file is a usage error. */
  static ChurnConfig load(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("config file does not exist: " + file);
    }
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file)) {
      p.load(in);
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage());
    }
    Map<String, String> values = new TreeMap<>();
    p.stringPropertyNames().forEach(k -> values.put(k.trim(), p.getProperty(k).trim()));
    return new ChurnConfig(file, values);
  }

  /** The file named by {@code --config FILE} / {@code --config=FILE} in {@code args}, else by the environment. */
  static ChurnConfig fromArgs(String[] args, Map<String, String> env) {
    String named = env.get(ENV);
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        named = args[i + 1];
      } else if (args[i].startsWith("--config=")) {
        named = args[i].substring("--config=".length());
      }
    }
    return named == null || named.isBlank() ? none() : load(Path.of(named));
  }

  /** Fails on a key that is neither a Spark setting nor an option of some command, naming the known ones. */
  void validate(CommandLine root) {
    Set<String> known = new TreeSet<>();
    collect(root, known);
    for (String key : values.keySet()) {
      if (!key.startsWith("spark.") && !known.contains(key)) {
        throw new IllegalArgumentException("config file " + file + ": unknown setting '" + key + "' (an option name "
            + "without dashes, optionally prefixed by a command, or a spark.* setting)");
      }
    }
  }

  private static void collect(CommandLine cmd, Set<String> known) {
    for (OptionSpec o : cmd.getCommandSpec().options()) {
      if (o.usageHelp() || o.versionHelp() || o.longestName().equals("--config")) {
        continue;
      }
      String name = key(o);
      known.add(name);
      known.add(cmd.getCommandName() + "." + name);
    }
    cmd.getSubcommands().values().forEach(sub -> collect(sub, known));
  }

  /** An option's key in the file: its longest name without dashes. */
  static String key(OptionSpec o) {
    return o.longestName().replaceFirst("^-+", "");
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec o) || values.isEmpty()) {
      return null;
    }
    String name = key(o);
    String scoped = values.get(arg.command().name() + "." + name);
    return scoped != null ? scoped : values.get(name);
  }

  /** The Spark settings ({@code spark.*} keys) of the file. */
  Map<String, String> sparkConf() {
    Map<String, String> spark = new LinkedHashMap<>();
    values.forEach((k, v) -> {
      if (k.startsWith("spark.")) {
        spark.put(k, v);
      }
    });
    return spark;
  }

  /** {@code value}, or {@code ****} when {@code key} looks like a secret (password, secret, token, key...). */
  static String mask(String key, String value) {
    return value != null && SECRET.matcher(key).find() ? "****" : value;
  }
}
