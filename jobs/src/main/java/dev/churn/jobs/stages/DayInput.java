package dev.churn.jobs.stages;

import dev.churn.jobs.warehouse.ChurnException;
import java.io.IOException;
import java.time.LocalDate;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/** Where a night finds its day's raw files, checked before anything is written. */
public final class DayInput {
  private DayInput() {}

  /**
   * The input of {@code day} under {@code template}: {@code {date}} in it is replaced by the day; a folder of
   * {@code event_date=YYYY-MM-DD} sub-folders stands for that day's sub-folder; anything else is the day's input
   * as given (only for a single date). Fails with {@link ChurnException#NO_INPUT} when the input does not exist
   * or holds no data, before anything is written.
   */
  public static List<String> resolve(Configuration conf, String template, LocalDate day, boolean range) {
    String path = template.replace("{date}", day.toString());
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(conf);
      if (!template.contains("{date}")) {
        boolean byDay = fs.exists(p) && fs.getFileStatus(p).isDirectory() && hasDayFolders(fs, p);
        if (byDay) {
          path = path.replaceAll("/+$", "") + "/event_date=" + day;
          p = new Path(path);
        } else if (range) {
          throw ChurnException.usage("--events " + template + " has no event_date=YYYY-MM-DD folders: with --from "
              + "and --to, give a folder of such folders or a path with {date} in it");
        }
      }
      if (!fs.exists(p)) {
        throw ChurnException.noInput("no input for " + day + ": " + path + " does not exist; nothing was changed");
      }
      long bytes = 0;
      long files = 0;
      RemoteIterator<LocatedFileStatus> it = fs.listFiles(p, true);
      while (it.hasNext()) {
        LocatedFileStatus f = it.next();
        String name = f.getPath().getName();
        if (!name.startsWith("_") && !name.startsWith(".")) {
          bytes += f.getLen();
          files++;
        }
      }
      if (bytes == 0) {
        throw ChurnException.noInput("no input for " + day + ": " + path + (files == 0 ? " holds no files" : " holds only "
            + "empty files") + "; nothing was changed");
      }
      return List.of(path);
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot list the input " + path + ": " + e.getMessage(), e);
    }
  }

  private static boolean hasDayFolders(FileSystem fs, Path p) throws IOException {
    for (FileStatus s : fs.listStatus(p)) {
      if (s.isDirectory() && s.getPath().getName().startsWith("event_date=")) {
        return true;
      }
    }
    return false;
  }
}
