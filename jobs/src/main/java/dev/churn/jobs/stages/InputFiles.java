package dev.churn.jobs.stages;

import dev.churn.jobs.warehouse.ChurnException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The files an ingest reads: its input paths (files, folders or globs) listed down to files, as Spark's recursive
 * lookup would list them (the same paths, so stored {@code source_file} values are what earlier runs stored, and
 * the same names skipped: {@code _SUCCESS}, {@code .hidden}, {@code ._COPYING_}), with two differences. Symbolic
 * links are followed (a folder of symlinked day folders is a normal staging layout) but a folder is entered once
 * (a link to a parent, {@code ln -s .. loop}, made Spark read the tree again and again, to some depth); and a file
 * reached twice (two links to one file) is read once. On the local file system a file or folder is known by its
 * real path; on others (HDFS, object stores, which have no links) by its path.
 */
final class InputFiles {
  private InputFiles() {}

  /**
   * The files under {@code paths}, each once, in a stable order (by path within each input path); the paths the
   * inputs matched when they hold no file, so Spark reports an empty input as it always did. Every path returned
   * is literal (globs expanded here): read them with Spark's globbing off, or a name holding {@code [ ]} or
   * {@code { }} would be taken for a pattern.
   */
  static List<String> list(List<String> paths, Configuration conf) {
    List<String> files = new ArrayList<>();
    List<String> matched = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (String p : paths) {
      try {
        Path path = new Path(p);
        FileSystem fs = path.getFileSystem(conf);
        FileStatus[] matches = fs.globStatus(path);
        if (matches == null) {
          continue;
        }
        Arrays.sort(matches, Comparator.comparing(s -> s.getPath().toString()));
        for (FileStatus match : matches) {
          matched.add(match.getPath().toString());
          walk(fs, match, "", seen, files);
        }
      } catch (IOException e) {
        throw new ChurnException(ChurnException.FAILURE, "cannot list input path " + p + ": " + e.getMessage(), e);
      }
    }
    return files.isEmpty() ? matched : files;
  }

  /** Lists {@code status} into {@code files}; {@code parent} is the identity of the folder it was found in. */
  private static void walk(FileSystem fs, FileStatus status, String parent, Set<String> seen, List<String> files)
      throws IOException {
    String id = identity(fs, status.getPath());
    if (status.isDirectory() && (parent.equals(id) || parent.startsWith(id.endsWith("/") ? id : id + "/"))) {
      return; // a link to the folder itself or to one it lies in: a loop, whose other contents are not the input
    }
    if (!seen.add(id)) {
      return; // a folder entered before, or a file listed already
    }
    if (!status.isDirectory()) {
      files.add(status.getPath().toString());
      return;
    }
    FileStatus[] children = fs.listStatus(status.getPath());
    Arrays.sort(children, Comparator.comparing(s -> s.getPath().getName()));
    for (FileStatus child : children) {
      if (!hidden(child.getPath().getName())) {
        walk(fs, child, id, seen, files);
      }
    }
  }

  /** Spark's rule for names a folder listing skips (InMemoryFileIndex.shouldFilterOutPathName). */
  static boolean hidden(String name) {
    boolean exclude = (name.startsWith("_") && !name.contains("=")) || name.startsWith(".")
        || name.endsWith("._COPYING_");
    boolean include = name.startsWith("_common_metadata") || name.startsWith("_metadata");
    return exclude && !include;
  }

  private static String identity(FileSystem fs, Path path) {
    if ("file".equals(fs.getUri().getScheme())) {
      try {
        return java.nio.file.Path.of(fs.makeQualified(path).toUri()).toRealPath().toString();
      } catch (IOException | RuntimeException e) {
        return path.toString(); // a dangling link: listed as Spark lists it, and reported by the read
      }
    }
    return fs.makeQualified(path).toString();
  }
}
