package dev.churn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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

  /** #32: a lock file whose pid does not parse (written by hand) is a busy warehouse that says how to clear it. */
  @Test
  void aLockWithAnUnreadablePidIsBusyAndSaysHowToClearIt() throws Exception {
    Path wh = Files.createTempDirectory("lock-wh");
    Files.writeString(wh.resolve(WarehouseLock.FILE), holder(0).replace("pid 0", "pid 99999999999999999999999"));
    ChurnException busy = assertThrows(ChurnException.class,
        () -> WarehouseLock.acquire(wh.toString(), new Configuration(), "churn nightly", Duration.ZERO));
    assertEquals(ChurnException.BUSY, busy.exitCode());
    assertTrue(busy.getMessage().contains("if no churn run is going on, delete ")
        && busy.getMessage().contains(WarehouseLock.FILE + " to clear it"), busy.getMessage());
  }

  /** A writer given patience waits while the lock is held, and takes it once the holder releases it. */
  @Test
  void aWriterThatWaitsTakesTheLockWhenTheHolderReleasesIt() throws Exception {
    Path wh = Files.createTempDirectory("lock-wait");
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      java.util.concurrent.Future<WarehouseLock> waiting;
      try (WarehouseLock first = WarehouseLock.acquire(wh.toString(), new Configuration(), "churn nightly", Duration.ZERO)) {
        waiting = pool.submit(() -> WarehouseLock.acquire(wh.toString(), new Configuration(), "churn ingest",
            Duration.ofMinutes(1)));
        Thread.sleep(3_000);
        assertFalse(waiting.isDone(), "the second writer took a held lock");
        assertEquals(first.owner(), Files.readString(wh.resolve(WarehouseLock.FILE)));
      }
      try (WarehouseLock second = waiting.get(1, java.util.concurrent.TimeUnit.MINUTES)) {
        assertTrue(second.owner().startsWith("churn ingest"), second.owner());
        assertNull(second.tookOver(), "released, not taken over");
      }
      assertEquals(List.of(), files(wh));
    } finally {
      pool.shutdownNow();
    }
  }

  /** #32: two writers starting at the same moment: one holds the warehouse, the other is told it is busy. */
  @Test
  void twoWritersAtTheSameMomentOneRunsTheOtherIsBusy() throws Exception {
    for (int round = 0; round < 20; round++) {
      Path wh = Files.createTempDirectory("lock-race");
      java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
      java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
      try {
        List<java.util.concurrent.Future<Object>> runs = new java.util.ArrayList<>();
        for (int i = 0; i < 2; i++) {
          runs.add(pool.submit(() -> {
            start.await();
            try {
              return WarehouseLock.acquire(wh.toString(), new Configuration(), "churn ingest", Duration.ZERO);
            } catch (ChurnException e) {
              return e;
            }
          }));
        }
        Object a = runs.get(0).get();
        Object b = runs.get(1).get();
        long held = Stream.of(a, b).filter(o -> o instanceof WarehouseLock).count();
        assertEquals(1, held, "exactly one writer holds the warehouse");
        ChurnException busy = (ChurnException) (a instanceof ChurnException ? a : b);
        assertEquals(ChurnException.BUSY, busy.exitCode());
        ((WarehouseLock) (a instanceof WarehouseLock ? a : b)).close();
        assertEquals(List.of(), files(wh), "the lock is released, nothing else left");
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
