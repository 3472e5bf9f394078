package dev.churn.jobs.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/** The listing of an ingest's input, on the local file system: no Spark. */
class InputFilesTest {

  private static List<String> names(List<String> files, Path root) {
    return files.stream().map(f -> root.toUri().relativize(java.net.URI.create(f.replace("file:/", "file:///")))
        .toString()).toList();
  }

  /**
   * #32: a link to a parent folder ({@code ln -s .. loop}) is not entered again, two links to one file read it
   * once, a folder of linked day folders is followed, and the names Spark skips are skipped.
   */
  @Test
  void linksAreFollowedButNeverIntoALoopAndAFileReachedTwiceIsListedOnce() throws Exception {
    Path root = Files.createTempDirectory("input-files").toRealPath();
    Path staging = Files.createDirectories(root.resolve("staging/event_date=2026-03-01"));
    Files.writeString(staging.resolve("part-0.jsonl"), "{}\n");
    Files.writeString(root.resolve("beside.csv"), "not the input\n");
    Path raw = Files.createDirectories(root.resolve("raw"));
    Files.writeString(raw.resolve("a.csv"), "x\n");
    Files.createSymbolicLink(raw.resolve("loop"), Path.of(".."));
    Files.createSymbolicLink(raw.resolve("same.csv"), raw.resolve("a.csv"));
    Files.createSymbolicLink(raw.resolve("event_date=2026-03-01"), staging);
    Files.writeString(raw.resolve("_SUCCESS"), "");
    Files.writeString(raw.resolve(".a.csv.crc"), "crc");
    Files.writeString(raw.resolve("b.csv._COPYING_"), "half");

    List<String> files = InputFiles.list(List.of(raw.toString()), new Configuration());
    assertEquals(List.of("raw/a.csv", "raw/event_date=2026-03-01/part-0.jsonl"), names(files, root), files.toString());
    assertTrue(files.get(0).startsWith("file:/"), "qualified as Spark's listing qualifies: " + files.get(0));

    // Two inputs naming one file: listed once.
    assertEquals(1, InputFiles.list(List.of(raw.resolve("a.csv").toString(), raw.resolve("same.csv").toString()),
        new Configuration()).size());
    // A folder holding nothing to read is passed on as it is, for Spark to report.
    Path empty = Files.createDirectories(root.resolve("empty"));
    assertEquals(List.of("file:" + empty), InputFiles.list(List.of(empty.toString()), new Configuration()));
    // A pattern is expanded here, so what Spark is given is literal (a name holding brackets included).
    Files.writeString(raw.resolve("report[1].csv"), "y\n");
    assertEquals(List.of("file:" + raw.resolve("report[1].csv")), InputFiles.list(List.of(raw + "/report*"),
        new Configuration()));
  }
}
