package dev.churn.jobs.warehouse;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * One writer at a time per warehouse: a lock file {@code <warehouse>/_churn.lock} created with create-if-absent
 * (atomic on local disks and HDFS; on object stores without conditional writes it is best effort), holding who
 * took it. The holder refreshes the file's modification time every {@link #HEARTBEAT}; a lock not refreshed for
 * {@link #STALE_AFTER}, or taken on this host by a process that no longer runs (a run killed with SIGKILL, or out
 * of memory), belongs to a run that died and is taken over at once: renamed away first, so two runs cannot both
 * take it over, then deleted; {@link #tookOver()} says whose it was. A second run fails at once with
 * {@link ChurnException#BUSY}, or waits up to its patience.
 */
public final class WarehouseLock implements AutoCloseable {
  public static final String FILE = "_churn.lock";
  static final Duration HEARTBEAT = Duration.ofSeconds(20);
  static final Duration STALE_AFTER = Duration.ofMinutes(5);
  private static final Duration POLL = Duration.ofSeconds(2);

  private final FileSystem fs;
  private final Path path;
  private final String owner;
  private final ScheduledExecutorService heartbeat;
  private final String tookOver;

  private WarehouseLock(FileSystem fs, Path path, String owner, String tookOver) {
    this.fs = fs;
    this.path = path;
    this.owner = owner;
    this.tookOver = tookOver;
    this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "churn-lock-heartbeat");
      t.setDaemon(true);
      return t;
    });
    heartbeat.scheduleAtFixedRate(this::touch, HEARTBEAT.toMillis(), HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Takes the warehouse's lock for {@code what} (a command and date), waiting up to {@code patience}. */
  public static WarehouseLock acquire(String warehouseRoot, Configuration conf, String what, Duration patience) {
    Path path = new Path(warehouseRoot + "/" + FILE);
    String owner = what + " (pid " + ProcessHandle.current().pid() + " on " + host() + ", since " + Instant.now()
        + ", lock " + UUID.randomUUID().toString().substring(0, 8) + ")";
    Instant deadline = Instant.now().plus(patience);
    try {
      FileSystem fs = path.getFileSystem(conf);
      fs.mkdirs(path.getParent());
      String tookOver = null;
      while (true) {
        if (tryCreate(fs, path, owner)) {
          return new WarehouseLock(fs, path, owner, tookOver);
        }
        FileStatus held = status(fs, path);
        String holder = held == null ? "" : read(fs, path);
        String dead = held == null ? null : holderIsGone(holder) ? "its process is no longer running"
            : Instant.ofEpochMilli(held.getModificationTime()).plus(STALE_AFTER).isBefore(Instant.now())
                ? "not refreshed for " + STALE_AFTER.toMinutes() + " minutes" : null;
        if (dead != null) {
          // The holder died: take it over. Only one renamer wins; the others see no file.
          Path away = new Path(path.getParent(), FILE + ".stale-" + UUID.randomUUID());
          if (fs.rename(path, away)) {
            fs.delete(away, false);
            tookOver = "took over the warehouse lock of " + holder + ": " + dead;
          }
          continue;
        }
        if (!Instant.now().isBefore(deadline)) {
          throw new ChurnException(ChurnException.BUSY, "another run holds the warehouse " + warehouseRoot + ": "
              + (held == null ? "(it just ended)" : holder) + "; nothing was changed: retry when it ends"
              + " (--lock-wait-minutes waits for it; a lock not refreshed for " + STALE_AFTER.toMinutes()
              + " minutes is taken over; if no churn run is going on, delete " + path + " to clear it)");
        }
        Thread.sleep(POLL.toMillis());
      }
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot write to the warehouse " + warehouseRoot + " (creating "
          + "its lock file failed: " + e.getClass().getSimpleName() + ": " + e.getMessage() + "): check that the path "
          + "is a folder this user may write; nothing was touched", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ChurnException(ChurnException.FAILURE, "interrupted while waiting for the warehouse lock " + path, e);
    }
  }

  private static final Pattern HOLDER =
      Pattern.compile("\\(pid (\\d+) on (.+?), since ");

  /** A holder that took the lock on this host under a pid that no longer runs. */
  static boolean holderIsGone(String holder) {
    Matcher m = HOLDER.matcher(holder);
    if (!m.find() || !m.group(2).equals(host())) {
      return false;
    }
    long pid;
    try {
      pid = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) { // a lock file written by hand: its holder is not known to be gone
      return false;
    }
    return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
  }

  private static boolean tryCreate(FileSystem fs, Path path, String owner) throws IOException {
    java.util.Optional<java.nio.file.Path> local = LocalFileSystems.nioPath(fs, path);
    if (local.isPresent()) {
      // The local file system's create(overwrite = false) checks, then creates; NIO's CREATE_NEW is atomic.
      try {
        java.nio.file.Files.writeString(local.get(), owner, java.nio.file.StandardOpenOption.CREATE_NEW,
            java.nio.file.StandardOpenOption.WRITE);
        return true;
      } catch (java.nio.file.FileAlreadyExistsException e) {
        return false;
      }
    }
    try (OutputStream out = fs.create(path, false)) {
      out.write(owner.getBytes(StandardCharsets.UTF_8));
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    }
  }

  private static FileStatus status(FileSystem fs, Path path) throws IOException {
    try {
      return fs.getFileStatus(path);
    } catch (java.io.FileNotFoundException e) {
      return null;
    }
  }

  private static String read(FileSystem fs, Path path) {
    try (FSDataInputStream in = fs.open(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      return "(unreadable lock " + path + ")";
    }
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown host";
    }
  }

  /** Whose dead lock this one replaced, and why it was dead; null when the lock was free. */
  public String tookOver() {
    return tookOver;
  }

  /** Who holds it: the command, date, pid, host and start time. */
  public String owner() {
    return owner;
  }

  private void touch() {
    try {
      fs.setTimes(path, System.currentTimeMillis(), -1);
    } catch (IOException | RuntimeException e) {
      // A missed heartbeat only brings the takeover closer; the next one retries.
    }
  }

  @Override
  public void close() {
    heartbeat.shutdownNow();
    try {
      if (read(fs, path).equals(owner)) {
        fs.delete(path, false);
      }
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot release the warehouse lock " + path + ": "
          + e.getMessage(), e);
    }
  }
}
