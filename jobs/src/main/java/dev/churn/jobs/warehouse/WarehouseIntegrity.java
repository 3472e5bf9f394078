package dev.churn.jobs.warehouse;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.SparkSession;

/**
 * Whether a warehouse's folders still hold the tables churn committed: the checks every command runs before it
 * reads or writes, and the marker that says a table folder was committed. Driver-side file listings and small
 * reads only, no Spark job: per table, one listing of its log and two small reads per commit since its last
 * checkpoint (at most ten with Delta's default interval), about 20 calls per table on an object store.
 */
public final class WarehouseIntegrity {
  private final Warehouse warehouse;
  private final SparkSession spark;
  private final String root;

  WarehouseIntegrity(Warehouse warehouse) {
    this.warehouse = warehouse;
    this.spark = warehouse.spark();
    this.root = warehouse.root();
  }

  private String path(Table table) {
    return warehouse.path(table);
  }

  /**
   * Refuses, before a command reads or writes anything, a warehouse it would misread or damage: a root or a table
   * folder that is a file, or a table whose Delta log lost its latest commits (a checksum or checkpoint of a
   * version newer than its last commit file: a deleted or lost commit, which Delta would silently read as an older
   * table and the next write would then overwrite), or a commit since the last checkpoint that disagrees with
   * the checksum Delta wrote beside it ({@link #checkCommits}). One line names the table and what to do.
   */
  void check() {
    try {
      org.apache.hadoop.fs.Path rootPath = new org.apache.hadoop.fs.Path(root);
      FileSystem fs = rootPath.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(rootPath)) {
        return;
      }
      if (!fs.getFileStatus(rootPath).isDirectory()) {
        throw new ChurnException(ChurnException.FAILURE, "the warehouse " + root + " is a file, not a folder: pass "
            + "--warehouse a folder (or a new path); nothing was touched");
      }
      // One listing of the root, then one of each table's log: a few calls on an object store too.
      Map<String, FileStatus> entries = new LinkedHashMap<>();
      for (FileStatus f : fs.listStatus(rootPath)) {
        entries.put(f.getPath().getName(), f);
      }
      for (Table t : Table.values()) {
        FileStatus folder = entries.get(t.tableName());
        if (folder == null) {
          continue;
        }
        if (!folder.isDirectory()) {
          throw new ChurnException(ChurnException.FAILURE, "table " + t.tableName() + ": " + folder.getPath()
              + " is a file, not a table folder: move it out of the warehouse; nothing was touched");
        }
        org.apache.hadoop.fs.Path log = new org.apache.hadoop.fs.Path(folder.getPath(), DeltaLogFiles.LOG);
        FileStatus[] logFiles;
        try {
          logFiles = fs.listStatus(log);
        } catch (java.io.FileNotFoundException e) {
          // A table that was committed (its marker says so) has lost its log: writing now would start a new
          // table over the orphaned files (and a rollup rebuilt from one day of them), so it is refused. Files
          // without the marker are a first write killed before its commit, which Delta ignores and a rerun redoes.
          if (fs.exists(new org.apache.hadoop.fs.Path(folder.getPath(), COMMITTED))) {
            throw new ChurnException(ChurnException.FAILURE, "table " + t.tableName() + " is damaged: "
                + folder.getPath() + " held a committed table but has no _delta_log; restore its _delta_log from a "
                + "backup, or move the folder out of the warehouse to rebuild the table; nothing was touched");
          }
          continue;
        }
        long commit = -1;
        long recorded = -1;
        long checkpoint = -1;
        String evidence = null;
        java.util.Set<Long> checksums = new java.util.HashSet<>();
        for (FileStatus f : logFiles) {
          String name = f.getPath().getName();
          if (name.matches("\\d{20}\\.crc")) {
            checksums.add(Long.parseLong(name.substring(0, 20)));
          }
          if (name.matches("\\d{20}\\.checkpoint\\..*parquet|\\d{20}\\.checkpoint\\..*json")) {
            checkpoint = Math.max(checkpoint, Long.parseLong(name.substring(0, 20)));
          }
          long version = DeltaLogFiles.commitVersion(name);
          if (version >= 0) {
            commit = Math.max(commit, version);
          } else if (name.matches("\\d{20}\\.(crc|checkpoint\\.parquet)") && Long.parseLong(name.substring(0, 20)) > recorded) {
            recorded = Long.parseLong(name.substring(0, 20));
            evidence = name;
          }
        }
        if (recorded > commit) {
          throw new ChurnException(ChurnException.FAILURE, "table " + t.tableName() + " is damaged: its Delta log "
              + log + " ends at version " + commit + " but holds " + evidence + " of version " + recorded + " (a "
              + "commit file was deleted or lost); restore that folder from a backup, or move the table away to "
              + "rebuild it; nothing was touched");
        }
        checkCommits(fs, t, log, Math.max(checkpoint + 1, 1), commit, checksums);
      }
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot read the warehouse " + root + ": " + e.getMessage(), e);
    }
  }

  /**
   * Each commit after the last checkpoint, {@code from} to {@code to}, against the checksums Delta wrote for it and
   * for the version before (skipped where either is absent): the files it adds less the files it removes must be
   * the change in the checksums' file count (and, where every removal gives its size, in their bytes). A commit
   * file cut at a line boundary still parses, and Delta alone would read a table missing that commit's files
   * (#32: 520,082 events of 820,999, exit 0). Reads each commit and its checksum once; a checkpoint every ten
   * commits bounds them. Danger: an operation that adds a file already in the table without removing it (Delta's
   * statistics recompute) would be refused; churn runs none.
   */
  private void checkCommits(FileSystem fs, Table table, org.apache.hadoop.fs.Path log, long from, long to,
      java.util.Set<Long> checksums) throws IOException {
    JsonNode before = null; // the checksum of version v - 1, carried from the previous round: one read per version
    for (long v = from; v <= to; v++) {
      if (!checksums.contains(v) || !checksums.contains(v - 1)) {
        before = null;
        continue;
      }
      if (before == null) {
        before = checksum(fs, DeltaLogFiles.versionFile(log, v - 1, "crc"));
      }
      JsonNode after = checksum(fs, DeltaLogFiles.versionFile(log, v, "crc"));
      String commit = before == null || after == null ? null : commitText(fs, table, log, v);
      if (commit != null) {
        compare(table, log, v, commit, before, after);
      }
      before = after;
    }
  }

  /** A commit file's text; null when it vanished since the listing (another process's log cleanup). */
  private static String commitText(FileSystem fs, Table table, org.apache.hadoop.fs.Path log, long v) throws IOException {
    try {
      return DeltaLogFiles.read(fs, DeltaLogFiles.versionFile(log, v, "json"));
    } catch (java.io.FileNotFoundException e) {
      return null;
    } catch (org.apache.hadoop.fs.ChecksumException e) { // a local file system's own .json.crc beside it
      throw damaged(table, log, "its commit " + v + " differs from the checksum the file system kept for it: the "
          + "commit file was cut or edited");
    }
  }

  /** Refuses commit {@code v} when the files it adds and removes are not the change between its checksums. */
  private static void compare(Table table, org.apache.hadoop.fs.Path log, long v, String commit, JsonNode before,
      JsonNode after) {
    long files = 0;
    long bytes = 0;
    boolean sized = true;
    int line = 0;
    for (String action : commit.split("\n")) {
      line++;
      if (action.isBlank()) {
        continue;
      }
      JsonNode node;
      try {
        node = DeltaLogFiles.MAPPER.readTree(action);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw damaged(table, log, "its commit " + v + " is not valid JSON at line " + line);
      }
      if (node.has("add")) {
        files++;
        bytes += node.get("add").path("size").asLong();
      } else if (node.has("remove")) {
        files--;
        sized &= node.get("remove").has("size");
        bytes -= node.get("remove").path("size").asLong();
      }
    }
    long expected = after.path("numFiles").asLong() - before.path("numFiles").asLong();
    long expectedBytes = after.path("tableSizeBytes").asLong() - before.path("tableSizeBytes").asLong();
    if (files != expected || (sized && bytes != expectedBytes)) {
      throw damaged(table, log, String.format(java.util.Locale.ROOT, "its commit %d changes the table by %d files "
          + "(%d bytes) but its checksum by %d files (%d bytes): the commit file was cut or edited", v, files, bytes,
          expected, expectedBytes));
    }
  }

  private static ChurnException damaged(Table table, org.apache.hadoop.fs.Path log, String what) {
    return new ChurnException(ChurnException.FAILURE, "table " + table.tableName() + " is damaged: " + what + " ("
        + log + "); restore that folder from a backup, or move the table away to rebuild it; nothing was touched");
  }

  /**
   * A checksum file's content; null when it does not parse or vanished since the listing (optional in Delta's
   * protocol; another process may be writing or cleaning its log).
   */
  private static JsonNode checksum(FileSystem fs, org.apache.hadoop.fs.Path file) throws IOException {
    try {
      JsonNode node = DeltaLogFiles.MAPPER.readTree(DeltaLogFiles.read(fs, file));
      return node != null && node.has("numFiles") ? node : null;
    } catch (com.fasterxml.jackson.core.JsonProcessingException | org.apache.hadoop.fs.ChecksumException
        | java.io.FileNotFoundException e) {
      return null;
    }
  }


  /**
   * The file in a table folder that says the table was committed at least once, so a folder holding it without a
   * {@code _delta_log} lost its log ({@link #check}). Spark and Delta skip names starting with an underscore.
   */
  public static final String COMMITTED = "_churn_committed";

  /**
   * Marks every table that has a Delta log (a writing command calls this under the lock): a warehouse made before
   * the marker existed is protected from its next writing command on.
   */
  void markCommittedTables() {
    try {
      FileSystem fs = new org.apache.hadoop.fs.Path(root).getFileSystem(spark.sparkContext().hadoopConfiguration());
      for (Table t : Table.values()) {
        if (fs.exists(new org.apache.hadoop.fs.Path(path(t), DeltaLogFiles.LOG))) {
          markCommitted(t);
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot read the tables of " + root, e);
    }
  }

  void markCommitted(Table table) {
    try {
      org.apache.hadoop.fs.Path marker = new org.apache.hadoop.fs.Path(path(table), COMMITTED);
      FileSystem fs = marker.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(marker)) {
        fs.create(marker, true).close();
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot mark table " + table.tableName() + " as committed", e);
    }
  }
}
