package dev.churn.jobs.warehouse;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFs;
import org.apache.hadoop.fs.DelegateToFileSystem;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * Hadoop's local file system ({@code file:}) without a new process per file. Without Hadoop's native library,
 * which Spark does not ship, {@code RawLocalFileSystem} sets the permission of every file and folder it creates by
 * running {@code chmod}, and looks for a link before every rename by running {@code readlink}: one process each.
 * An ingest of the demo's 828,299 records started 2,806 of them (Java Flight Recorder), each about 5.4 ms from a
 * JVM with a 4 GB heap on this machine, in the driver and in every task that writes a Parquet file. These classes
 * do both through {@code java.nio} instead (the same permission bits; a link is still resolved by Hadoop); every
 * other operation is Hadoop's own.
 *
 * <p>{@link #SETTINGS} registers them for the {@code file:} scheme only: a warehouse on HDFS or an object store is
 * untouched. Danger: a permission with the sticky bit, or a file system without POSIX permissions, falls back to
 * Hadoop's {@code chmod}.
 */
public final class LocalFileSystems {
  private LocalFileSystems() {}

  /** The Hadoop settings that use these classes for {@code file:} (as {@code spark.hadoop.*} keys). */
  public static final Map<String, String> SETTINGS = Map.of(
      "spark.hadoop.fs.file.impl", Checksummed.class.getName(),
      "spark.hadoop.fs.AbstractFileSystem.file.impl", Context.class.getName());

  /**
   * {@code path} of {@code fs} as a {@code java.nio} path when {@code fs} is the local file system ({@code file:}),
   * else empty: where the warehouse's own code reads or writes a local file directly.
   */
  public static java.util.Optional<java.nio.file.Path> nioPath(org.apache.hadoop.fs.FileSystem fs, Path path) {
    return "file".equals(fs.getUri().getScheme())
        ? java.util.Optional.of(java.nio.file.Path.of(fs.makeQualified(path).toUri())) : java.util.Optional.empty();
  }

  /** {@code fs.file.impl}: Hadoop's checksummed local file system over {@link Raw}. */
  public static final class Checksummed extends LocalFileSystem {
    public Checksummed() {
      super(new Raw());
    }
  }

  /** {@code fs.AbstractFileSystem.file.impl} (what {@code FileContext}, and so Delta's log store, uses). */
  public static final class Context extends ChecksumFs {
    public Context(URI uri, Configuration conf) throws IOException, URISyntaxException {
      super(new Delegate(uri, conf));
    }
  }

  /** As Hadoop's {@code RawLocalFs}, over {@link Raw}. */
  static final class Delegate extends DelegateToFileSystem {
    Delegate(URI uri, Configuration conf) throws IOException, URISyntaxException {
      super(uri, new Raw(), conf, "file", false);
    }

    @Override
    public int getUriDefaultPort() {
      return -1; // file: has no port
    }

    @Override
    public boolean isValidName(String src) {
      return true; // as RawLocalFs: a local name may hold ':'
    }
  }

  /** The raw local file system, permissions and link checks in process. */
  static final class Raw extends RawLocalFileSystem {
    @Override
    public void setPermission(Path p, FsPermission permission) throws IOException {
      if (permission.getStickyBit()) {
        super.setPermission(p, permission);
        return;
      }
      try {
        Files.setPosixFilePermissions(pathToFile(p).toPath(), PosixFilePermissions.fromString(
            permission.getUserAction().SYMBOL + permission.getGroupAction().SYMBOL
                + permission.getOtherAction().SYMBOL));
      } catch (UnsupportedOperationException e) {
        super.setPermission(p, permission);
      }
    }

    @Override
    public FileStatus getFileLinkStatus(Path f) throws IOException {
      // Not a link (or not there: getFileStatus says so as Hadoop would): no readlink process needed.
      return Files.isSymbolicLink(pathToFile(f).toPath()) ? super.getFileLinkStatus(f) : getFileStatus(f);
    }
  }
}
