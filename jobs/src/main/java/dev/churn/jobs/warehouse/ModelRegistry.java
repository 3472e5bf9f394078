package dev.churn.jobs.warehouse;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.churn.models.ModelSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Versioned models under {@code <warehouse>/models/v<N>/} (the fitted pipeline, on a local warehouse its copy in
 * MLlib's local format in {@code pipeline.local} ({@link LocalPipelines}), and {@code spec.json}) with one
 * {@code model_registry} row per version. Versions count up from 1. A version is {@link #ACCEPTED} (scoring's
 * default: the latest accepted) or {@link #REJECTED} (a nightly retrain that validated worse than the model in
 * use); rows written before statuses existed count as accepted.
 */
public final class ModelRegistry {
  /** A version scoring uses by default. */
  public static final String ACCEPTED = "accepted";
  /** A retrained candidate that validated worse than the model in use: kept for audit, used only when named. */
  public static final String REJECTED = "rejected";

  /** A version's fitted pipeline, in MLlib's standard format: the folder any MLlib reader loads. */
  static final String PIPELINE = "pipeline";

  /** A registered version's date, status and churn horizon in days (null in a row without one). */
  public record Entry(int version, LocalDate asOf, String status, Integer horizonDays) {}

  /** A loaded model version. */
  public record Loaded(PipelineModel model, ModelSpec spec) {}

  private final Warehouse warehouse;
  /** The registry's rows as last read (null: not read yet, or stale after a registration). */
  private List<Entry> entries;
  /**
   * Versions loaded or registered by this object: a version's files never change once registered, and a load
   * without a local copy costs 25 Spark jobs (each stage's metadata and data), which a night scoring several dates
   * paid each time.
   */
  private final Map<Integer, Loaded> loaded = new java.util.HashMap<>();
  /**
   * Pipelines loaded in this JVM, by Spark application, folder and spec: a nightly range, the demo's loop and the
   * tests run many commands in one JVM, each a registry object of its own. A registered version's files never
   * change (an interrupted training's leftovers are never loaded: {@link #load} asks the registry first); the spec,
   * read at every load, is part of the key so that a folder written again anyway (a warehouse deleted and made
   * again at the same path) is loaded again. The application is, because a fitted pipeline holds Datasets of the
   * session that loaded it. The four last used are kept.
   */
  private static final Map<String, PipelineModel> PIPELINES = java.util.Collections.synchronizedMap(
      new java.util.LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, PipelineModel> eldest) {
          return size() > 4;
        }
      });

  public ModelRegistry(Warehouse warehouse) {
    this.warehouse = warehouse;
  }

  private String dir(int version) {
    return warehouse.root() + "/models/v" + version;
  }

  /** A version's local-format copy of its pipeline, where its folder is on the local file system. */
  private java.util.Optional<java.nio.file.Path> localCopy(int version) throws IOException {
    return LocalPipelines.local(dir(version) + "/" + PIPELINE + LocalPipelines.SUFFIX,
        warehouse.spark().sparkContext().hadoopConfiguration());
  }

  /** The latest accepted version, or null. */
  public Integer latestVersion() {
    Entry e = latest(null, true);
    return e == null ? null : e.version();
  }

  /**
   * The version in use on {@code day}: the latest accepted model trained as of that day or before (a backfill
   * never scores the past with a model that learnt from its future), or null when there is none.
   */
  public Entry inUse(LocalDate day) {
    return latest(day, true);
  }

  /** The shortest churn horizon of any registered version, or null when none has one. */
  public Integer shortestHorizon() {
    return entries().stream().map(Entry::horizonDays).filter(java.util.Objects::nonNull).min(Integer::compare)
        .orElse(null);
  }

  /** The latest version of any status trained as of {@code day} or before: the last training attempt. */
  public Entry lastAttempt(LocalDate day) {
    return latest(day, false);
  }

  private Entry latest(LocalDate day, boolean acceptedOnly) {
    return entries().stream()
        .filter(e -> (day == null || !e.asOf().isAfter(day)) && (!acceptedOnly || ACCEPTED.equals(e.status())))
        .max(java.util.Comparator.comparing(Entry::asOf).thenComparingInt(Entry::version)).orElse(null);
  }

  /**
   * Every registered version, read once per registry object (one small Spark job) and again after it registers
   * one: a night asks which model is in use on each of its dates, and each question was a job of its own.
   */
  private List<Entry> entries() {
    if (entries == null) {
      entries = !warehouse.exists(Table.MODEL_REGISTRY) ? List.of()
          : withStatus(warehouse.read(Table.MODEL_REGISTRY))
              .select("model_version", "as_of_date", "status", "horizon_days").collectAsList().stream()
              .map(r -> new Entry(r.getInt(0), r.getDate(1).toLocalDate(), r.getString(2),
                  r.isNullAt(3) ? null : r.getInt(3))).toList();
    }
    return entries;
  }

  private static Dataset<Row> withStatus(Dataset<Row> registry) {
    return registry.withColumn("status", List.of(registry.columns()).contains("status")
        ? coalesce(col("status"), lit(ACCEPTED)) : lit(ACCEPTED));
  }

  /**
   * Saves the model as the next version with a status and the reason for it; returns its spec with the version.
   * The version exists once its model_registry row is committed: a training killed before that leaves files the
   * next training removes ({@link #claimVersion}), saying so on {@code console}.
   */
  public ModelSpec register(PipelineModel model, ModelSpec spec, Instant trainedAt, String status, String decision,
      PrintWriter console) {
    int version = claimVersion(console);
    ModelSpec v = spec.withVersion(version);
    try {
      model.write().overwrite().save(dir(version) + "/" + PIPELINE);
      localCopy(version).ifPresent(folder -> LocalPipelines.save(model, folder));
      KillPoints.reached(KillPoints.MODEL_HALF_WRITTEN);
      Path specPath = new Path(dir(version) + "/spec.json");
      FileSystem fs = specPath.getFileSystem(warehouse.spark().sparkContext().hadoopConfiguration());
      try (OutputStream out = fs.create(specPath, true)) {
        out.write(v.toJson().getBytes(StandardCharsets.UTF_8));
      }
      KillPoints.reached(KillPoints.MODEL_FILES_WRITTEN);
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot save model v" + version + ": " + e.getMessage(), e);
    }
    Map<String, Double> m = v.quality().reported();
    Map<String, Double> tuned = v.quality().validation();
    ModelSpec.Split split = v.split();
    Row row = RowFactory.create(version, Timestamp.from(trainedAt), Date.valueOf(LocalDate.parse(split.asOfDate())),
        split.horizonDays(), Date.valueOf(LocalDate.parse(split.validationDate())), String.join(",", split.trainDates()),
        m.get("roc_auc"), m.get("pr_auc"), m.get("log_loss"), m.get("brier"), m.get("top_decile_lift"),
        v.quality().baseline().get("roc_auc"), v.quality().baseline().get("pr_auc"), m.get("oracle_roc_auc"),
        v.fit().regParam(), v.fit().elasticNetParam(), scala.jdk.javaapi.CollectionConverters.asScala(
            v.inputs().all()).toSeq(), v.inputs().fingerprint(), dir(version), v.toJson(), status, decision,
        Date.valueOf(LocalDate.parse(split.reportedDate())), split.evaluation(), tuned.get("roc_auc"),
        tuned.get("pr_auc"));
    warehouse.ensure(Table.MODEL_REGISTRY); // adds the columns a registry from an older release lacks
    warehouse.upsert(Table.MODEL_REGISTRY, warehouse.spark().createDataFrame(List.of(row), Table.MODEL_REGISTRY.schema()));
    entries = null;
    loaded.put(version, new Loaded(model, v));
    return v;
  }

  /**
   * The next version number: one more than the last registered. Trainings run under the warehouse lock, so a
   * folder of that version already on disk was left by a training stopped before it registered (killed, or failed
   * while saving): it is removed, with a line saying so, and the version is reused, so a rerun registers the
   * version an uninterrupted run would have.
   */
  private int claimVersion(PrintWriter console) {
    int version = entries().stream().mapToInt(Entry::version).max().orElse(0) + 1;
    try {
      Path folder = new Path(dir(version));
      FileSystem fs = folder.getFileSystem(warehouse.spark().sparkContext().hadoopConfiguration());
      if (fs.exists(folder)) {
        fs.delete(folder, true);
        console.printf("[train] removed %s: left by a training interrupted before it registered model v%d%n",
            folder, version);
      }
      fs.mkdirs(folder);
      return version;
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot create a model folder under " + warehouse.root()
          + "/models: " + e.getMessage(), e);
    }
  }

  /** The version {@code requested}, or the latest accepted one when it is null; loaded once per registry object. */
  public Loaded load(Integer requested) {
    Integer version = requested != null ? requested : latestVersion();
    if (version == null) {
      throw new ChurnException(ChurnException.FAILURE, "no model is registered in " + warehouse.root()
          + ": run train first");
    }
    if (entries().stream().noneMatch(e -> e.version() == version)) {
      throw ChurnException.usage("model version " + version + " is not registered (latest: " + latestVersion() + ")");
    }
    Loaded cached = loaded.get(version);
    if (cached != null) {
      return cached;
    }
    try {
      Path specPath = new Path(dir(version) + "/spec.json");
      FileSystem fs = specPath.getFileSystem(warehouse.spark().sparkContext().hadoopConfiguration());
      String json;
      try (FSDataInputStream in = fs.open(specPath)) {
        json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      String key = warehouse.spark().sparkContext().applicationId() + "|" + dir(version) + "|" + json;
      PipelineModel pipeline = PIPELINES.get(key);
      if (pipeline == null) {
        // A version registered before local copies existed, or not on the local file system, has none.
        pipeline = localCopy(version).flatMap(LocalPipelines::load)
            .orElseGet(() -> PipelineModel.load(dir(version) + "/" + PIPELINE));
        PIPELINES.put(key, pipeline);
      }
      Loaded l = new Loaded(pipeline, ModelSpec.fromJson(json));
      loaded.put(version, l);
      return l;
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot load model v" + version + ": " + e.getMessage(), e);
    }
  }
}
