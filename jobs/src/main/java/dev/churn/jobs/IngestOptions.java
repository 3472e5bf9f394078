package dev.churn.jobs;

import dev.churn.features.SourceMapping;
import dev.churn.jobs.stages.IngestJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** How raw logs are read and checked: the options ingest and nightly share. */
final class IngestOptions {
  @Spec(Spec.Target.MIXEE) CommandSpec spec;

  @Option(names = "--format", paramLabel = "FORMAT", description = "json, csv or parquet (default: the mapping's, else json).")
  String format;

  @Option(names = "--mapping", paramLabel = "FILE", description = "Mapping file for a foreign log (JSON).")
  Path mapping;

  @Option(names = "--max-bad-fraction", defaultValue = "" + IngestJob.DEFAULT_MAX_BAD_FRACTION, paramLabel = "F",
      description = "Fail with exit 3, committing no events, above this rejected share (default: ${DEFAULT-VALUE}).")
  double maxBadFraction;

  @Option(names = "--accept-rejected", paramLabel = "RUN_ID",
      description = "Commit a batch the quality gate refused in run RUN_ID (exit 3): its valid records are stored, its "
          + "rejected ones stay quarantined, and run_log records who accepted it.")
  String acceptRejected;

  /** The quality gate of --max-bad-fraction and --accept-rejected (validated by {@link IngestJob.Gate}). */
  IngestJob.Gate gate() {
    return new IngestJob.Gate(maxBadFraction, acceptRejected);
  }

  /** The source mapping (canonical without --mapping); a usage error (exit 2) for a bad file or value. */
  SourceMapping mapping() {
    if (format != null && !List.of("json", "csv", "parquet").contains(format)) {
      throw new ParameterException(spec.commandLine(), "--format must be json, csv or parquet, not '" + format + "'");
    }
    SourceMapping m = SourceMapping.canonical();
    if (mapping != null) {
      if (!Files.isRegularFile(mapping)) {
        throw new ParameterException(spec.commandLine(), "mapping file does not exist: " + mapping);
      }
      try {
        m = SourceMapping.load(mapping);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "bad mapping file " + mapping + ": " + e.getMessage());
      }
    }
    return format == null ? m : m.withFormat(format);
  }
}
