package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.jobs.warehouse.WarehouseLock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * spark-submit on a real Spark standalone cluster: a Master and one Worker started on 127.0.0.1 from the project's
 * own classpath (no Spark distribution: the Worker gets a SPARK_HOME whose jars/ are the Spark jars Maven resolved),
 * the shaded jar submitted in cluster deploy mode to run a history ingest and a first nightly run (which trains)
 * into a temporary warehouse, then the tables checked here. The raw log is generated in this JVM. Both processes
 * (and what the Worker started) are stopped by PID afterwards, also when the test fails, and by a shutdown hook if
 * this JVM dies first. Runs in {@code mvn verify}, after package.
 */
class ClusterIT extends JobsSuite {
  /** What the shaded jar carries, so the cluster's classpath holds only what a Spark distribution has. */
  private static final List<String> SHADED = List.of("/target/", "/io/delta/", "/io/unitycatalog/", "/info/picocli/",
      "/org/knowm/", "/jackson-datatype-jdk8/", "/vectorgraphics2d/", "/de/rototor/", "/com/madgag/");
  private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
  private static final Duration SUBMIT_TIMEOUT = Duration.ofMinutes(15);

  private static Path dir;
  private static Path jar;
  private static String sparkClasspath;
  private static final List<Process> processes = new ArrayList<>();
  private static int masterPort;

  @BeforeAll
  static void startCluster() throws Exception {
    Path target = Path.of(System.getProperty("churn.target", "target")).toAbsolutePath();
    try (Stream<Path> files = Files.list(target)) {
      jar = files.filter(p -> p.getFileName().toString().endsWith("-spark.jar")).findFirst()
          .orElseThrow(() -> new IllegalStateException("no shaded jar under " + target + ": run mvn verify"));
    }
    List<String> jars = new ArrayList<>();
    for (String file : List.of("classpath-provided.txt", "classpath-runtime.txt")) {
      for (String entry : Files.readString(target.resolve(file)).strip().split(":")) {
        if (!entry.isBlank() && SHADED.stream().noneMatch(entry::contains)) {
          jars.add(entry);
        }
      }
    }
    dir = tempDir("cluster");
    Path home = Files.createDirectories(dir.resolve("spark-home/jars"));
    for (String j : jars) {
      Files.createSymbolicLink(home.resolve(Path.of(j).getFileName()), Path.of(j));
    }
    sparkClasspath = String.join(":", jars);
    Runtime.getRuntime().addShutdownHook(new Thread(ClusterIT::stopAll));

    masterPort = freePort();
    Path masterLog = dir.resolve("master.log");
    processes.add(start(masterLog, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
        String.valueOf(masterPort), "--webui-port", String.valueOf(freePort())));
    awaitLine(masterLog, "I have been elected leader", processes.get(0));
    Path workerLog = dir.resolve("worker.log");
    processes.add(start(workerLog, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--webui-port",
        String.valueOf(freePort()), "--cores", "2", "--memory", "4g", "--work-dir",
        Files.createDirectories(dir.resolve("work")).toString(), "spark://127.0.0.1:" + masterPort));
    awaitLine(workerLog, "Successfully registered with master", processes.get(1));
  }

  @AfterAll
  static void stopCluster() {
    stopAll();
    for (Process p : processes) {
      assertFalse(ProcessHandle.of(p.pid()).map(ProcessHandle::isAlive).orElse(false), "pid " + p.pid() + " stopped");
    }
  }

  private static synchronized void stopAll() {
    for (int i = processes.size() - 1; i >= 0; i--) {
      ProcessHandle.of(processes.get(i).pid()).ifPresent(h -> {
        // The Worker's drivers and executors first, then the process itself; forcibly after 30 s.
        h.descendants().forEach(ProcessHandle::destroy);
        h.destroy();
        try {
          h.onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
          h.descendants().forEach(ProcessHandle::destroyForcibly);
          h.destroyForcibly();
        }
      });
    }
  }

  private static Process start(Path log, String mainClass, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(java());
    cmd.addAll(List.of("-Xmx512m", "-cp", sparkClasspath, mainClass));
    cmd.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("SPARK_HOME", dir.resolve("spark-home").toString());
    pb.environment().put("SPARK_SCALA_VERSION", "2.13");
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    return pb.start();
  }

  private static List<String> java() {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(Arrays.asList(flags().split("\\s+")));
    return cmd;
  }

  /**
   * Spark's flags, and C1 compilation only (the parent POM's jvm.c1, with its measurements): every JVM here (the
   * Master, the Worker, each submit's client, driver and executor) lives one command.
   */
  private static String flags() {
    return (System.getProperty("churn.jvm.flags", "") + " " + System.getProperty("churn.jvm.c1", "")).trim();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void awaitLine(Path log, String text, Process process) throws Exception {
    Instant deadline = Instant.now().plus(START_TIMEOUT);
    while (Instant.now().isBefore(deadline)) {
      if (Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains(text)) {
        return;
      }
      if (!process.isAlive()) {
        throw new IllegalStateException("process exited before '" + text + "': " + Files.readString(log));
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("no '" + text + "' within " + START_TIMEOUT + ": " + Files.readString(log));
  }

  /** Submits the shaded jar in cluster deploy mode; returns what the driver printed once it FINISHED. */
  private static String submit(String... args) throws Exception {
    Path props = dir.resolve("spark.properties");
    String flags = flags();
    Files.writeString(props, String.join("\n", "spark.driver.memory 1g", "spark.executor.memory 1g",
        "spark.driver.extraJavaOptions " + flags, "spark.executor.extraJavaOptions " + flags,
        "spark.standalone.submit.waitAppCompletion true", "spark.sql.shuffle.partitions 4", ""));
    List<String> cmd = new ArrayList<>(java());
    cmd.addAll(List.of("-cp", sparkClasspath, "org.apache.spark.deploy.SparkSubmit", "--master",
        "spark://127.0.0.1:" + masterPort, "--deploy-mode", "cluster", "--properties-file", props.toString(),
        "--class", "dev.churn.jobs.ChurnCli", jar.toString()));
    cmd.addAll(Arrays.asList(args));
    Path log = dir.resolve("submit-" + args[args.length > 2 && args[0].startsWith("--") ? 2 : 0] + ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process p = pb.start();
    if (!p.waitFor(SUBMIT_TIMEOUT.toMinutes(), TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IllegalStateException("spark-submit did not end within " + SUBMIT_TIMEOUT + ": " + Files.readString(log));
    }
    String out = Files.readString(log);
    // Standalone cluster mode: spark-submit exits 0 whatever the driver did; its final state says how it ended.
    Matcher m = Pattern.compile("State of driver (driver-\\S+) is (\\w+), exiting").matcher(out);
    assertTrue(m.find(), "no final driver state in: " + out);
    Path driverDir = dir.resolve("work").resolve(m.group(1));
    String stdout = read(driverDir.resolve("stdout"));
    assertEquals("FINISHED", m.group(2), String.join(" ", args) + ":\n" + stdout + read(driverDir.resolve("stderr")));
    return stdout;
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void ingestAndNightlyRunAsClusterDrivers() throws Exception {
    String raw = dir.resolve("raw").toString();
    String wh = dir.resolve("warehouse").toString();
    // The log is generated here, in this JVM: each submit costs three cold JVMs (client, driver, executor), and
    // what runs on the cluster is what a scheduler runs there. So `generate` (a tool for tests, demos and the
    // benchmark, whose tasks write files) is not tested under spark-submit.
    CliRun generated = cli("generate", "--out", raw, "--customers", "150", "--days", "160", "--start",
        "2026-01-01", "--seed", "4", "--bad-fraction", "0.01");
    assertEquals(0, generated.exitCode(), generated.err());

    // History up to the end of May as one batch (a glob of day folders), then the first of June as a night.
    String ingested = submit("--warehouse", wh, "ingest", "--events", raw + "/events/event_date=2026-0[1-5]-*",
        "--customers", raw + "/customers");
    assertTrue(ingested.contains("daily_activity refreshed for 151 day(s), 2026-01-01 .. 2026-05-31"), ingested);

    String night = submit("--warehouse", wh, "nightly", "--date", "2026-06-01", "--events", raw + "/events",
        "--snapshots", "1", "--reg-params", "0.01", "--elastic-net-params", "0");
    assertTrue(night.contains("nightly 2026-06-01: "), night);

    Warehouse w = new Warehouse(spark, wh);
    Row summary = w.read(Table.RUN_LOG).where(col("stage").equalTo("nightly")).first();
    assertEquals("ok", summary.getAs("status"), String.valueOf(summary));
    assertEquals(1, w.read(Table.MODEL_REGISTRY).count(), "the first night trained a model");
    long active = w.read(Table.CUSTOMERS).where(col("signup_date").leq("2026-06-01")
        .and(col("cancelled_on").isNull().or(col("cancelled_on").gt("2026-06-01")))).count();
    assertEquals(active, w.read(Table.CHURN_SCORES).where(col("as_of_date").equalTo("2026-06-01")).count(),
        "every active customer scored");
    assertFalse(w.read(Table.EVENTS).where(col("event_date").equalTo("2026-06-01")).isEmpty(), "the night's events");
    assertFalse(w.read(Table.RETENTION_RATES).isEmpty(), "retention refreshed");
    assertFalse(Files.exists(dir.resolve("warehouse").resolve(WarehouseLock.FILE)), "the lock was released");
  }
}
