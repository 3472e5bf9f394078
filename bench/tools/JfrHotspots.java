import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a JVM's CPU went (run by bench/jfr-hotspots), from the execution samples of Java Flight Recorder files:
 * the share of each thread kind, then of each method that the samples of a thread kind stop in first among Spark's
 * operators, writers, projections and parsers (what a task was doing, however deep in the iterators), then the
 * callers of one method, a few frames up. Samples are what the recorder's stack depth kept (64 frames unless
 * {@code -XX:FlightRecorderOptions=stackdepth=} says more), so a caller deeper than that does not show; and they are
 * of Java code on Java threads only: garbage collection, the JIT compilers and native code are not in them.
 */
public class JfrHotspots {
  /** A frame that says what a task was doing: an operator, a writer, a projection, a parser, a serializer. */
  private static final java.util.regex.Pattern OPERATOR = java.util.regex.Pattern.compile(
      "(org\\.apache\\.spark|io\\.delta|org\\.apache\\.parquet)\\..*(Exec|Writer|WriteSupport|TaskStatisticsTracker"
      + "|ColumnBuilder|Accessor|Reader|JsonParser|Serializer|Iterator|Sorter|Projection|Predicate|Ordering)(\\$.*)?$");

  public static void main(String[] args) throws Exception {
    String threads = "Executor task launch worker";
    String callersOf = null;
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if ((args[i].equals("--threads") || args[i].equals("--callers")) && i + 1 == args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value");
      }
      switch (args[i]) {
        case "--threads" -> threads = args[++i];
        case "--callers" -> callersOf = args[++i];
        default -> {
          if (args[i].startsWith("--")) {
            throw new IllegalArgumentException("unknown option " + args[i]);
          }
          files.add(Path.of(args[i]));
        }
      }
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException("no .jfr file given");
    }
    Map<String, Integer> kinds = new HashMap<>();
    Map<String, Integer> operators = new HashMap<>();
    Map<String, Integer> callers = new HashMap<>();
    int total = 0;
    int ofKind = 0;
    int withCaller = 0;
    for (Path file : files) {
      try (RecordingFile recording = new RecordingFile(file)) {
        while (recording.hasMoreEvents()) {
          RecordedEvent e = recording.readEvent();
          if (!e.getEventType().getName().equals("jdk.ExecutionSample") || e.getStackTrace() == null) {
            continue;
          }
          total++;
          var thread = e.getThread("sampledThread");
          String name = thread == null || thread.getJavaName() == null ? "?" : thread.getJavaName();
          kinds.merge(name.replaceAll("[0-9]+", "#"), 1, Integer::sum);
          List<RecordedFrame> frames = e.getStackTrace().getFrames();
          if (callersOf != null) {
            for (int f = frames.size() - 1; f >= 0; f--) {
              if (method(frames.get(f)).contains(callersOf)) {
                StringBuilder up = new StringBuilder();
                for (int g = f + 1; g < Math.min(frames.size(), f + 4); g++) {
                  up.append(" < ").append(method(frames.get(g)));
                }
                callers.merge(up.toString(), 1, Integer::sum);
                withCaller++;
                break;
              }
            }
          }
          if (!name.startsWith(threads)) {
            continue;
          }
          ofKind++;
          String doing = "(no operator frame)";
          for (RecordedFrame f : frames) {
            if (OPERATOR.matcher(f.getMethod().getType().getName()).matches()) {
              doing = method(f);
              break;
            }
          }
          operators.merge(doing, 1, Integer::sum);
        }
      }
    }
    System.out.printf("%d samples in %d file(s)%n", total, files.size());
    print("thread kinds, share of all samples", kinds, total, 12);
    print("what '" + threads + "' threads were doing (first operator-like frame), share of all samples", operators,
        total, 30);
    if (callersOf != null) {
      print("callers of " + callersOf + " (in " + withCaller + " samples, " + String.format("%.1f%%",
          100.0 * withCaller / Math.max(1, total)) + "), share of all samples", callers, total, 20);
    }
    System.out.printf("(%d samples of '%s' threads)%n", ofKind, threads);
  }

  private static String method(RecordedFrame f) {
    return f.getMethod().getType().getName().replaceAll("^.*\\.", "") + "." + f.getMethod().getName();
  }

  private static void print(String title, Map<String, Integer> counts, int total, int top) {
    System.out.println("== " + title);
    counts.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(top)
        .forEach(c -> System.out.printf("%7d %5.1f%%  %s%n", c.getValue(), 100.0 * c.getValue() / total, c.getKey()));
  }
}
