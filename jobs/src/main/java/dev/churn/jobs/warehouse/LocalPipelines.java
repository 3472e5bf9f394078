package dev.churn.jobs.warehouse;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.util.ReadWriteUtils$;

/**
 * A fitted pipeline's second copy in MLlib's local format, which loads without a Spark job. MLlib's own reader
 * reads each stage's metadata and data through Spark: 25 jobs for the churn pipeline's seven stages, 3 s in a warm
 * JVM and 11 s as a JVM's first load (the demo's model), paid by every command that scores. Inside a night most of
 * that first load is warm-up its later stages pay anyway: the demo's late night ran 25 jobs fewer, its time within
 * the machine's noise. The local format is the one Spark Connect's model cache uses
 * ({@code ReadWriteUtils.localSavingModeState}, Spark 4.0 and later): the same stages, metadata as plain text files
 * and data as binary files, written and read with {@code java.nio} in the driver: 0 jobs, some 40 ms. The transform
 * of a pipeline loaded from it equals the original's on every row ({@code LocalPipelinesTest}).
 *
 * <p>The copy is an addition: the standard copy stays beside it for anything else that reads the model
 * (PySpark's {@code PipelineModel.load}, older releases). Only a folder on the local file system ({@code file:})
 * has one; elsewhere (HDFS, an object store) the standard copy is the only one. Dangers: the local mode is a
 * thread-local switch of MLlib's, set here only for the duration of one save or load in the calling thread; a
 * local copy that cannot be read (a release whose format differs, a Spark without the local mode) is logged and the
 * standard copy loaded instead.
 */
final class LocalPipelines {
  private LocalPipelines() {}

  /** The local copy's folder name: the standard copy's with this suffix, beside it. */
  static final String SUFFIX = ".local";

  private static final org.apache.logging.log4j.Logger LOG =
      org.apache.logging.log4j.LogManager.getLogger(LocalPipelines.class);

  /** {@code folder} as a local path, or empty when it is not on the local file system. */
  static Optional<java.nio.file.Path> local(String folder, Configuration conf) throws IOException {
    Path path = new Path(folder);
    return LocalFileSystems.nioPath(path.getFileSystem(conf), path);
  }

  /**
   * Saves {@code model} in the local format at {@code folder} (which must not exist): written beside it under a
   * temporary name, then renamed, so a copy that exists is complete. A save that fails removes what it wrote, logs
   * why and returns false: the standard copy alone still loads. A Spark without the local mode (its internal API
   * changed) fails here the same way.
   */
  static boolean save(PipelineModel model, java.nio.file.Path folder) {
    java.nio.file.Path partial = folder.resolveSibling(folder.getFileName() + ".partial");
    try {
      delete(partial);
      inLocalMode(() -> {
        model.write().save(partial.toString());
        return null;
      });
      Files.move(partial, folder, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return true;
    } catch (Exception | LinkageError e) {
      LOG.warn("cannot save a local copy of the model at " + folder + "; it will load through Spark", e);
      delete(partial);
      return false;
    }
  }

  /** The pipeline of the local copy at {@code folder}, or empty when there is none or it cannot be read (logged). */
  static Optional<PipelineModel> load(java.nio.file.Path folder) {
    if (!Files.isDirectory(folder)) {
      return Optional.empty();
    }
    try {
      return Optional.of(inLocalMode(() -> PipelineModel.load(folder.toString())));
    } catch (Exception | LinkageError e) {
      LOG.warn("cannot read the local copy of the model at " + folder + "; loading it through Spark", e);
      return Optional.empty();
    }
  }

  private static <T> T inLocalMode(java.util.concurrent.Callable<T> action) throws Exception {
    ThreadLocal<Object> mode = ReadWriteUtils$.MODULE$.localSavingModeState();
    Object before = mode.get();
    mode.set(Boolean.TRUE);
    try {
      return action.call();
    } finally {
      mode.set(before);
    }
  }

  private static void delete(java.nio.file.Path folder) {
    if (!Files.exists(folder)) {
      return;
    }
    try (Stream<java.nio.file.Path> all = Files.walk(folder)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.warn("cannot remove " + folder, e);
    }
  }
}
