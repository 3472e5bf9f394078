package dev.churn.jobs.warehouse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CreateFlag;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-process local file system does what Hadoop's does, permissions, checksums, renames and links included. */
class LocalFileSystemsTest {
  @TempDir java.nio.file.Path dir;

  private static Configuration conf() {
    Configuration conf = new Configuration(false);
    LocalFileSystems.SETTINGS.forEach((k, v) -> conf.set(k.substring("spark.hadoop.".length()), v));
    conf.set("fs.permissions.umask-mode", "022");
    conf.setBoolean("fs.file.impl.disable.cache", true);
    return conf;
  }

  @Test
  void filesAndFoldersGetThePermissionsHadoopGivesWithTheirChecksums() throws Exception {
    FileSystem fs = new Path(dir.toUri()).getFileSystem(conf());
    assertTrue(fs instanceof LocalFileSystems.Checksummed, fs.getClass().getName());
    Path folder = new Path(dir.toUri().toString(), "a/b");
    assertTrue(fs.mkdirs(folder, new FsPermission((short) 0750)));
    assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("a/b"))));
    Path file = new Path(folder, "part.txt");
    try (OutputStream out = fs.create(file, new FsPermission((short) 0666), false, 4096, (short) 1, 1 << 20, null)) {
      out.write("hello".getBytes(StandardCharsets.UTF_8));
    }
    // The umask (022) applies, as it does to Hadoop's chmod; the checksum file is written beside it.
    assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("a/b/part.txt"))));
    assertTrue(Files.exists(dir.resolve("a/b/.part.txt.crc")));
    fs.setPermission(file, new FsPermission((short) 0600));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("a/b/part.txt"))));
    try (var in = fs.open(file)) {
      assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), in.readAllBytes());
    }
  }

  /** Delta's log store writes a temporary file and renames it through FileContext, refusing to overwrite. */
  @Test
  void aFileContextRenameMovesOnceAndRefusesToOverwrite() throws Exception {
    FileContext fc = FileContext.getFileContext(dir.toUri(), conf());
    Path tmp = new Path(dir.toUri().toString(), ".00001.json.tmp");
    Path commit = new Path(dir.toUri().toString(), "00001.json");
    try (OutputStream out = fc.create(tmp, EnumSet.of(CreateFlag.CREATE), Options.CreateOpts.createParent())) {
      out.write("{}".getBytes(StandardCharsets.UTF_8));
    }
    fc.rename(tmp, commit, Options.Rename.NONE);
    assertFalse(Files.exists(dir.resolve(".00001.json.tmp")));
    assertEquals("{}", Files.readString(dir.resolve("00001.json")));
    try (OutputStream out = fc.create(tmp, EnumSet.of(CreateFlag.CREATE), Options.CreateOpts.createParent())) {
      out.write("{\"other\":1}".getBytes(StandardCharsets.UTF_8));
    }
    assertThrows(org.apache.hadoop.fs.FileAlreadyExistsException.class,
        () -> fc.rename(tmp, commit, Options.Rename.NONE));
    assertEquals("{}", Files.readString(dir.resolve("00001.json")), "the commit is never replaced");
    assertThrows(FileNotFoundException.class, () -> fc.getFileLinkStatus(new Path(dir.toUri().toString(), "none")));
  }

  /** A link is left to Hadoop (one readlink process): what it says of one is what Hadoop's own classes say. */
  @Test
  void aLinkIsJudgedAsHadoopJudgesIt() throws Exception {
    Files.writeString(dir.resolve("target.txt"), "x");
    Files.createSymbolicLink(dir.resolve("link.txt"), dir.resolve("target.txt"));
    Configuration stock = new Configuration(false);
    stock.set("fs.AbstractFileSystem.file.impl", org.apache.hadoop.fs.local.LocalFs.class.getName());
    for (String name : java.util.List.of("link.txt", "target.txt")) {
      Path p = new Path(dir.toUri().toString(), name);
      var ours = FileContext.getFileContext(dir.toUri(), conf()).getFileLinkStatus(p);
      var hadoops = FileContext.getFileContext(dir.toUri(), stock).getFileLinkStatus(p);
      assertEquals(hadoops.isSymlink(), ours.isSymlink(), name);
      assertEquals(hadoops.getLen(), ours.getLen(), name);
      assertEquals(hadoops.isFile(), ours.isFile(), name);
    }
  }
}
