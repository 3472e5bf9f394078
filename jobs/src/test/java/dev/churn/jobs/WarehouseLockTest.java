package dev.churn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.ChurnException;
import dev.churn.jobs.warehouse.WarehouseLock;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/** The warehouse lock without Spark: a dead holder's lock is taken over at once, a live one's is not. */
class WarehouseLockTest {

  private static String holder(long pid) throws Exception {
    return "churn nightly 2026-05-10 (pid " + pid + " on " + InetAddress.getLocalHost().getHostName()
        + ", since 2026-05-11T02:30:00Z, lock 0000beef)";
  }

  private static List<String> files(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aLockWhoseProcessIsGoneIsTakenOverAtOnceAndLeavesNoFile() throws Exception {
    Path wh = Files.createTempDirectory("lock-wh");
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    Files.writeString(wh.resolve(WarehouseLock.FILE), holder(gone.pid()));  // fresh: not stale by age

    try (WarehouseLock lock = WarehouseLock.acquire(wh.toString(), new Configuration(), "churn nightly", Duration.ZERO)) {
      assertTrue(lock.tookOver().startsWith("took over the warehouse lock of " + holder(gone.pid())), lock.tookOver());
      assertTrue(lock.tookOver().endsWith("its process is no longer running"), lock.tookOver());
      assertEquals(List.of(WarehouseLock.FILE), files(wh), "the dead lock is not kept beside the new one");
    }
    assertEquals(List.of(), files(wh));
  }

  @Test
  void aLockWhoseProcessRunsIsRespected() throws Exception {
    Path wh = Files.createTempDirectory("lock-wh");
    Files.writeString(wh.resolve(WarehouseLock.FILE), holder(ProcessHandle.current().pid()));
    ChurnException busy = assertThrows(ChurnException.class,
        () -> WarehouseLock.acquire(wh.toString(), new Configuration(), "churn nightly", Duration.ZERO));
    assertEquals(ChurnException.BUSY, busy.exitCode());
  }
}
