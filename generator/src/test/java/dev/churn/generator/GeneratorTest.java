package dev.churn.generator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.features.RejectReason;
import dev.churn.testing.SparkSuite;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The generator on its own: lines written as the canonical JSON, the same seed giving the same log (in memory and as
 * files, byte for byte), and every injected bad record being what its truth line says it is. The end-to-end check,
 * that ingest quarantines each with that reason, is GenerateIngestTest's.
 */
class GeneratorTest extends SparkSuite {
  private static final LocalDate START = LocalDate.parse("2026-01-05");
  private static final Pattern ID = Pattern.compile("\"event_id\":\"([^\"]+)\"");
  private static final Pattern TIME = Pattern.compile("\"event_time\":\"([^\"]*)\"");

  /** Everything a simulation sends to its sink, in order. */
  private static final class Recorder implements SyntheticCustomer.Sink {
    final List<String> events = new ArrayList<>();
    final List<String> truth = new ArrayList<>();
    final List<String[]> bad = new ArrayList<>();

    @Override
    public void event(LocalDate folder, String line) {
      events.add(folder + " " + line);
    }

    @Override
    public void truth(String customerId, LocalDate d, double hazard, double engagement) {
      truth.add(customerId + " " + d + " " + hazard + " " + engagement);
    }

    @Override
    public void bad(String eventId, LocalDate folder, String reason) {
      bad.add(new String[] {eventId, folder.toString(), reason});
    }
  }

  private static Recorder simulate(long seed, int customers, int days, double badFraction) {
    Recorder r = new Recorder();
    for (int i = 0; i < customers; i++) {
      new SyntheticCustomer(seed, i, START, days).simulate(START, days, badFraction, r);
    }
    return r;
  }

  /**
   * A change of behaviour on purpose (#31's drift test): from its day on, logins come at the factor's rate; every
   * record before it is the one the unchanged log has.
   */
  @Test
  void anActivityChangeLeavesTheDaysBeforeItAndCutsLoginsFromItsDayOn() {
    LocalDate from = START.plusDays(40);
    Recorder same = new Recorder();
    Recorder changed = new Recorder();
    for (int i = 0; i < 60; i++) {
      new SyntheticCustomer(3, i, START, 80).simulate(START, 80, 0, same, null, 1.0, null);
      new SyntheticCustomer(3, i, START, 80).simulate(START, 80, 0, changed, null, 1.0,
          new GenerateJob.ActivityChange(from, 0.25));
    }
    java.util.function.Predicate<String> before = e -> LocalDate.parse(e.substring(0, 10)).isBefore(from);
    assertEquals(same.events.stream().filter(before).toList(), changed.events.stream().filter(before).toList());
    long logins = same.events.stream().filter(before.negate()).filter(e -> e.contains("\"login\"")).count();
    long fewer = changed.events.stream().filter(before.negate()).filter(e -> e.contains("\"login\"")).count();
    assertTrue(logins > 500 && fewer > 0.15 * logins && fewer < 0.35 * logins, fewer + " logins of " + logins);
    assertEquals("--activity-change takes DATE=FACTOR (2026-07-01=0.5), not '2026-07-01'",
        assertThrows(IllegalArgumentException.class, () -> GenerateJob.ActivityChange.parse("2026-07-01")).getMessage());
    assertThrows(IllegalArgumentException.class, () -> GenerateJob.ActivityChange.parse("2026-07-01=-1"));
    assertThrows(IllegalArgumentException.class, () -> GenerateJob.ActivityChange.parse("2026-07-01=1.5"));
    assertThrows(IllegalArgumentException.class, () -> GenerateJob.ActivityChange.parse("2026-07-01=NaN"));
    assertEquals(new GenerateJob.ActivityChange(from, 0.5), GenerateJob.ActivityChange.parse(from + "=0.5"));
  }

  @Test
  void anEventLineIsCanonicalJsonWithNumbersBareAndAbsentFieldsLeftOut() {
    assertEquals("{\"event_id\":\"E1\",\"customer_id\":\"C1\",\"event_time\":\"2026-01-05T08:00:00Z\","
        + "\"event_type\":\"payment\",\"amount\":49.0}",
        EventLines.line(new String[] {"E1", "C1", "2026-01-05T08:00:00Z", "payment", null, "49.0", null, null, null}));
    assertEquals("{\"event_id\":\"E2\",\"customer_id\":null,\"event_time\":\"t\",\"event_type\":\"plan_upgrade\","
        + "\"user_id\":\"u\",\"severity\":\"high\",\"plan\":\"pro\",\"mrr\":199.0}",
        EventLines.line(new String[] {"E2", null, "t", "plan_upgrade", "u", null, "high", "pro", "199.0"}),
        "a missing customer_id is written as null, the other absent fields are left out");
  }

  @Test
  void theSameSeedSimulatesTheSameLogAndAnotherSeedAnother() {
    Recorder a = simulate(3, 20, 60, 0.1);
    Recorder b = simulate(3, 20, 60, 0.1);
    assertTrue(a.events.size() > 1000, "a log worth comparing: " + a.events.size());
    assertEquals(a.events, b.events);
    assertEquals(a.truth, b.truth);
    assertEquals(a.bad.stream().map(Arrays::toString).toList(), b.bad.stream().map(Arrays::toString).toList());
    assertNotEquals(a.events, simulate(4, 20, 60, 0.1).events);
  }

  /**
   * Each injected bad record, found by its event id under the folder its truth line names, is broken the way its
   * reason says (and a late event is intact, filed one to three days after its own date); a line without a truth
   * line is good.
   */
  @Test
  void everyInjectedBadRecordIsWhatItsTruthLineSays() {
    Recorder r = simulate(11, 150, 60, 0.2);
    Map<String, List<String>> byFolderAndId = new LinkedHashMap<>();
    for (String e : r.events) {
      Matcher id = ID.matcher(e);
      assertTrue(id.find(), "every line, even a cut one, starts with its event id: " + e);
      byFolderAndId.computeIfAbsent(e.substring(0, 10) + " " + id.group(1), k -> new ArrayList<>())
          .add(e.substring(11));
    }
    Map<String, Integer> kinds = new TreeMap<>();
    Set<String> injected = new TreeSet<>();
    for (String[] b : r.bad) {
      String key = b[1] + " " + b[0];
      List<String> lines = byFolderAndId.get(key);
      assertTrue(lines != null, "the truth's record is filed where it says: " + key);
      injected.add(key);
      String line = lines.get(lines.size() - 1);
      String reason = b[2];
      kinds.merge(reason, 1, Integer::sum);
      String time = time(line);
      if (reason.equals(RejectReason.MALFORMED.code())) {
        assertFalse(line.endsWith("}"), "cut in half: " + line);
      } else if (reason.equals(RejectReason.MISSING_CUSTOMER_ID.code())) {
        assertTrue(line.contains("\"customer_id\":\"\"") || line.contains("\"customer_id\":null"), line);
      } else if (reason.equals(RejectReason.BAD_TIMESTAMP.code())) {
        assertTrue(time.equals("yesterday") || time.equals(b[1] + "T25:61:00Z"), line);
      } else if (reason.equals(RejectReason.FUTURE_TIMESTAMP.code())) {
        assertTrue(time.startsWith("2099-"), line);
      } else if (reason.equals(RejectReason.UNKNOWN_EVENT_TYPE.code())) {
        assertTrue(line.contains("\"event_type\":\"teleport\""), line);
      } else if (reason.equals(RejectReason.NEGATIVE_AMOUNT.code())) {
        assertTrue(line.contains("\"amount\":-"), line);
      } else if (reason.equals(RejectReason.DUPLICATE.code())) {
        assertEquals(2, lines.size(), "the event and its copy: " + lines);
        assertEquals(lines.get(0), lines.get(1));
        assertGood(b[1], line);
      } else {
        assertEquals(EventLines.LATE, reason);
        long daysLate = LocalDate.parse(b[1]).toEpochDay() - OffsetDateTime.parse(time).toLocalDate().toEpochDay();
        assertTrue(daysLate >= 1 && daysLate <= 3, "filed 1 to 3 days after its date: " + b[1] + " " + line);
        assertTrue(line.endsWith("}") && !line.contains("teleport"), line);
      }
    }
    assertEquals(Set.of(RejectReason.MALFORMED.code(), RejectReason.MISSING_CUSTOMER_ID.code(),
        RejectReason.BAD_TIMESTAMP.code(), RejectReason.FUTURE_TIMESTAMP.code(), RejectReason.UNKNOWN_EVENT_TYPE.code(),
        RejectReason.NEGATIVE_AMOUNT.code(), RejectReason.DUPLICATE.code(), EventLines.LATE), kinds.keySet(),
        "all eight kinds are injected: " + kinds);
    assertEquals(r.bad.size(), injected.size(), "one truth line per injected record");
    int good = 0;
    for (Map.Entry<String, List<String>> e : byFolderAndId.entrySet()) {
      if (!injected.contains(e.getKey())) {
        assertEquals(1, e.getValue().size(), "an event id is written once unless duplicated on purpose: " + e);
        assertGood(e.getKey().substring(0, 10), e.getValue().get(0));
        good++;
      }
    }
    double share = (double) r.bad.size() / (r.bad.size() + good);
    assertTrue(share > 0.17 && share < 0.23, "about the asked fraction of 0.2 is bad: " + share);
  }

  /** A line ingest accepts: whole, a customer, a known type, a time on its folder's day, no negative amount. */
  private static void assertGood(String folder, String line) {
    assertTrue(line.startsWith("{") && line.endsWith("}"), line);
    assertTrue(line.matches(".*\"customer_id\":\"C\\d{7}\".*"), line);
    assertFalse(line.contains("teleport") || line.contains("\"amount\":-"), line);
    assertEquals(folder, OffsetDateTime.parse(time(line)).toLocalDate().toString(), line);
  }

  private static String time(String line) {
    Matcher m = TIME.matcher(line);
    return m.find() ? m.group(1) : "";
  }

  /** Two runs of the job with one seed write the same files, byte for byte (the hazard truth: the same rows). */
  @Test
  void theSameSeedWritesTheSameFiles() {
    GenerateJob.Options options = new GenerateJob.Options(null, 40, 20, START, 9, 0.1);
    Path a = tempDir("gen-a");
    Path b = tempDir("gen-b");
    GenerateJob.Result ra = new GenerateJob(spark, options.withOut(a.toString())).run();
    GenerateJob.Result rb = new GenerateJob(spark, options.withOut(b.toString())).run();
    assertEquals(ra, rb);
    Map<String, byte[]> filesA = files(a);
    Map<String, byte[]> filesB = files(b);
    assertEquals(filesA.keySet(), filesB.keySet());
    assertTrue(filesA.keySet().stream().filter(f -> f.startsWith("events/")).count() >= 20, "a file per day");
    for (String f : filesA.keySet()) {
      assertArrayEquals(filesA.get(f), filesB.get(f), f);
    }
    assertEquals(spark.read().parquet(a + "/truth/hazard").orderBy("customer_id", "date").collectAsList(),
        spark.read().parquet(b + "/truth/hazard").orderBy("customer_id", "date").collectAsList());
    Recorder memory = simulate(9, 40, 20, 0.1);
    assertEquals(memory.bad.size(), ra.badRecords(), "the job writes what the simulation injects");
    assertEquals(memory.events.size(), ra.events());
  }

  /** #32: the generator replaces only its own output; a warehouse or a folder of other files is refused untouched. */
  @Test
  void theGeneratorWritesOnlyIntoANewEmptyOrItsOwnFolder() throws IOException {
    Path fresh = tempDir("gen-claim").resolve("new");
    GenerateJob.claim(spark, fresh.toString());
    assertTrue(Files.exists(fresh.resolve(GenerateJob.MARKER)), "marked as the generator's");
    Files.createDirectories(fresh.resolve("events/event_date=2026-01-05"));
    Files.createDirectories(fresh.resolve("truth"));
    GenerateJob.claim(spark, fresh.toString());

    Path warehouse = tempDir("gen-claim-wh");
    Files.createDirectories(warehouse.resolve("events/_delta_log"));
    Files.writeString(warehouse.resolve("events/_delta_log/00000000000000000000.json"), "{}");
    IllegalArgumentException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> GenerateJob.claim(spark, warehouse.toString()));
    assertTrue(refused.getMessage().contains("holds events, which the generator did not write"), refused.getMessage());
    assertFalse(Files.exists(warehouse.resolve(GenerateJob.MARKER)), "a refused folder is left as it was");

    Path other = tempDir("gen-claim-other");
    Files.writeString(other.resolve("notes.txt"), "mine");
    assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> GenerateJob.claim(spark, other.toString())).getMessage().contains("holds notes.txt"));
  }

  /** The events, customers and bad-record truth files under {@code root}, by relative path. */
  private static Map<String, byte[]> files(Path root) {
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.filter(Files::isRegularFile)
          .filter(p -> !root.relativize(p).toString().startsWith("truth/hazard"))
          .filter(p -> !p.getFileName().toString().startsWith("."))
          .collect(Collectors.toMap(p -> root.relativize(p).toString(), GeneratorTest::bytes, (x, y) -> x,
              TreeMap::new));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] bytes(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
