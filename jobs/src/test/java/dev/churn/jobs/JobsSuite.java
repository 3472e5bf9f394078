package dev.churn.jobs;

import dev.churn.testing.SparkSuite;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;

/** Shared helpers for job tests: write raw files, run the CLI in-process on the suite's session. */
abstract class JobsSuite extends SparkSuite {

  /** The outcome of one CLI run: exit code and what it printed. */
  record CliRun(int exitCode, String out, String err) {}

  static CliRun cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = ChurnCli.commandLine(new ChurnCli(command -> spark, false), args);
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int code = cmd.execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }

  static Path write(Path file, List<String> lines) {
    try {
      Files.createDirectories(file.getParent());
      Files.write(file, lines);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String event(String id, String customer, String time, String type) {
    return "{\"event_id\":\"" + id + "\",\"customer_id\":\"" + customer + "\",\"event_time\":\"" + time
        + "\",\"event_type\":\"" + type + "\",\"user_id\":\"" + customer + "-u1\"}";
  }
}
