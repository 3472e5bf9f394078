import dev.churn.jobs.ChurnCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.rules.RuleExecutor$;

/**
 * Where a command's Spark jobs come from (run by bench/job-anatomy): runs churn commands, one per line of a file,
 * in one session, and prints for each its wall time and its jobs grouped by what started them (the first churn
 * frames of the job's call site; Spark's adaptive execution runs each shuffle of a query as a job of its own,
 * started from its own thread, which shows as "CompletableFuture"). A line "!reset" starts the rule metrics afresh
 * (to leave out a history ingest, say); at the end, the analyzer's and optimizer's time per rule since then.
 */
public class JobAnatomy {
  private static final Map<Integer, Long> started = new ConcurrentHashMap<>();
  private static final Map<Integer, String> origin = new ConcurrentHashMap<>();
  private static final Map<String, long[]> byOrigin = new TreeMap<>();
  /** Each SQL execution's origin: adaptive execution's jobs for a query start on another thread. */
  private static final Map<String, String> queries = new ConcurrentHashMap<>();

  /** The name and the first two churn frames of a call site's long form. */
  private static String where(String name, String longForm) {
    StringBuilder where = new StringBuilder(name);
    int frames = 0;
    for (String line : longForm.split("\n")) {
      if (line.contains("dev.churn.") && frames++ < 2) {
        where.append(" <- ").append(line.strip().replaceAll("^.*\\.([A-Za-z$]+\\.[^.(]+)\\(.*?([A-Za-z]+\\.java:\\d+)\\)$",
            "$1 ($2)"));
      }
    }
    return where.toString();
  }

  public static void main(String[] args) throws Exception {
    SparkSession spark = dev.churn.jobs.SparkSessions.create("job-anatomy", Map.of());
    spark.sparkContext().addSparkListener(new SparkListener() {
      @Override
      public void onOtherEvent(org.apache.spark.scheduler.SparkListenerEvent e) {
        if (e instanceof org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart q) {
          queries.put(String.valueOf(q.executionId()), where("query " + q.description(), q.details()));
        }
      }

      @Override
      public void onJobStart(SparkListenerJobStart s) {
        started.put(s.jobId(), System.nanoTime());
        StageInfo first = s.stageInfos().isEmpty() ? null : s.stageInfos().head();
        String query = s.properties() == null ? null : s.properties().getProperty("spark.sql.execution.id");
        origin.put(s.jobId(), query != null && queries.containsKey(query) ? queries.get(query)
            : first == null ? "(no stage)" : where(first.name(), first.details()));
      }

      @Override
      public void onJobEnd(SparkListenerJobEnd e) {
        Long t0 = started.remove(e.jobId());
        String where = origin.remove(e.jobId());
        synchronized (byOrigin) {
          long[] n = byOrigin.computeIfAbsent(where, k -> new long[2]);
          n[0]++;
          n[1] += t0 == null ? 0 : (System.nanoTime() - t0) / 1_000_000;
        }
      }
    });
    for (String line : Files.readAllLines(Path.of(args[0]))) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      if (line.strip().equals("!reset")) {
        RuleExecutor$.MODULE$.resetMetrics();
        continue;
      }
      String[] command = line.strip().split("\\s+");
      long t0 = System.nanoTime();
      int code = ChurnCli.commandLine(new ChurnCli(c -> spark, false), command).execute(command);
      double seconds = (System.nanoTime() - t0) / 1e9;
      synchronized (byOrigin) {
        long jobs = byOrigin.values().stream().mapToLong(n -> n[0]).sum();
        System.err.printf("%n== %.1f s, exit %d, %d Spark jobs: %s%n", seconds, code, jobs, line.strip());
        byOrigin.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]))
            .forEach(en -> System.err.printf("%4d jobs %7d ms  %s%n", en.getValue()[0], en.getValue()[1], en.getKey()));
        byOrigin.clear();
      }
    }
    System.err.println(RuleExecutor$.MODULE$.dumpTimeSpent());
    spark.stop();
  }
}
