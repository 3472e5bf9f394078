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

  /**
   * The start of a command that runs a main class of this test class path in a child JVM (append the class and its
   * arguments): {@code heap}, Spark on {@code master}, the given system properties, C1 only (the parent POM's
   * jvm.c1: a child lives one command), and this JVM's Spark flags and collector.
   */
  static List<String> childJvm(String heap, String master, java.util.Map<String, String> properties) {
    List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-Xmx" + heap, "-Dspark.master=" + master, "-Dspark.ui.enabled=false",
        "-Dspark.driver.host=127.0.0.1", "-Dspark.driver.bindAddress=127.0.0.1"));
    String c1 = System.getProperty("churn.jvm.c1", "");
    if (!c1.isBlank()) {
      command.addAll(List.of(c1.strip().split("\\s+")));
    }
    properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
    for (String arg : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("--add-") || arg.startsWith("-XX:+IgnoreUnrecognized") || arg.matches("-XX:\\+Use\\w+GC")
          || arg.startsWith("-Djdk.") || arg.startsWith("-Dio.netty")) {
        command.add(arg);
      }
    }
    command.addAll(List.of("-cp", System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"))));
    return command;
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
