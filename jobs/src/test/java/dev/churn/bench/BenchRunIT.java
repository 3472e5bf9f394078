package dev.churn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code bench/run} at the tiny size, for agreement only (never for time): churn and DuckDB must accept and reject
 * the same records by reason and produce the same snapshot on every customer and column. Runs against the
 * packaged product, as a user would. No model is trained ({@code --no-train}): a snapshot needs none, and the
 * training was about a fifth of the class's time (bench/results/ci-2026-12-08.md).
 */
class BenchRunIT {
  @Test
  void churnAndDuckDbAgreeOnTheTinyLog() throws Exception {
    Path root = Path.of(System.getProperty("churn.repo.root", "..")).toAbsolutePath().normalize();
    Path out = Path.of(System.getProperty("churn.target", "target"), "bench-results");
    Path log = Files.createDirectories(out).resolve("run.log");
    try (Stream<Path> old = Files.list(out)) {
      for (Path p : old.toList()) {
        Files.delete(p);
      }
    }
    ProcessBuilder builder = new ProcessBuilder("bash", root.resolve("bench/run").toString(), "--size", "tiny",
        "--repeat", "1", "--nights", "1", "--no-scaling", "--no-train", "--out", out.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    // churn's commands with C1 only (the parent POM's jvm.c1): each lives one command on a tiny log, and this
    // run's times are not read.
    builder.environment().put("CHURN_JAVA_OPTS", System.getProperty("churn.jvm.c1", ""));
    Process run = builder.start();
    assertTrue(run.waitFor(30, TimeUnit.MINUTES), "bench/run did not finish in 30 minutes");
    assertEquals(0, run.exitValue(), () -> "bench/run failed: " + tail(log));

    List<Path> results;
    try (Stream<Path> files = Files.list(out)) {
      results = files.filter(p -> p.getFileName().toString().startsWith("tiny-")).toList();
    }
    assertEquals(1, results.size(), "one results file: " + results);
    String text = Files.readString(results.get(0));
    assertTrue(text.contains("accepted and rejected by reason: yes."), text);
    assertTrue(text.contains("only_churn=0 only_peer=0 disagree=0 columns=all-equal"), text);
    // Agreement needs no model: nothing was trained (neither by bench/run nor in the night, nightly --no-train),
    // so the night scored nothing.
    assertTrue(text.contains("| nightly |"), "the last night's stages are listed: " + text);
    assertFalse(text.contains("| train ") || text.contains("| score |"), text);
    assertTrue(text.contains("--no-train: no model, no scores"), text);
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (java.io.IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
