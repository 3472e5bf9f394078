package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;

import dev.churn.models.ModelSpec;
import java.io.IOException;
import java.io.OutputStream;
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
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Versioned models under {@code <warehouse>/models/v<N>/} (the fitted pipeline and {@code spec.json}) with one
 * {@code model_registry} row per version. Versions count up from 1; the latest is the default for scoring.
 */
public final class ModelRegistry {
  public static final StructType SCHEMA = new StructType()
      .add("model_version", DataTypes.IntegerType, false)
      .add("trained_at", DataTypes.TimestampType)
      .add("as_of_date", DataTypes.DateType)
      .add("horizon_days", DataTypes.IntegerType)
      .add("validation_date", DataTypes.DateType)
      .add("train_dates", DataTypes.StringType)
      .add("roc_auc", DataTypes.DoubleType)
      .add("pr_auc", DataTypes.DoubleType)
      .add("log_loss", DataTypes.DoubleType)
      .add("brier", DataTypes.DoubleType)
      .add("top_decile_lift", DataTypes.DoubleType)
      .add("baseline_roc_auc", DataTypes.DoubleType)
      .add("baseline_pr_auc", DataTypes.DoubleType)
      .add("oracle_roc_auc", DataTypes.DoubleType)
      .add("reg_param", DataTypes.DoubleType)
      .add("elastic_net_param", DataTypes.DoubleType)
      .add("feature_list", DataTypes.createArrayType(DataTypes.StringType))
      .add("fingerprint", DataTypes.StringType)
      .add("path", DataTypes.StringType)
      .add("spec_json", DataTypes.StringType);

  /** A loaded model version. */
  public record Loaded(PipelineModel model, ModelSpec spec) {}

  private final Warehouse warehouse;

  public ModelRegistry(Warehouse warehouse) {
    this.warehouse = warehouse;
  }

  private String dir(int version) {
    return warehouse.root() + "/models/v" + version;
  }

  public Integer latestVersion() {
    if (!warehouse.exists(Table.MODEL_REGISTRY)) {
      return null;
    }
    Row r = warehouse.read(Table.MODEL_REGISTRY).agg(max("model_version")).first();
    return r.isNullAt(0) ? null : r.getInt(0);
  }

  /** Saves the model as the next version and returns its spec with the version set. */
  public ModelSpec register(PipelineModel model, ModelSpec spec, Instant trainedAt) {
    Integer latest = latestVersion();
    int version = latest == null ? 1 : latest + 1;
    ModelSpec v = spec.withVersion(version);
    try {
      model.write().overwrite().save(dir(version) + "/pipeline");
      Path specPath = new Path(dir(version) + "/spec.json");
      FileSystem fs = specPath.getFileSystem(warehouse.spark().sparkContext().hadoopConfiguration());
      try (OutputStream out = fs.create(specPath, true)) {
        out.write(v.toJson().getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot save model v" + version + ": " + e.getMessage(), e);
    }
    Map<String, Double> m = v.validationMetrics();
    Row row = RowFactory.create(version, Timestamp.from(trainedAt), Date.valueOf(LocalDate.parse(v.asOfDate())),
        v.horizonDays(), Date.valueOf(LocalDate.parse(v.validationDate())), String.join(",", v.trainDates()),
        m.get("roc_auc"), m.get("pr_auc"), m.get("log_loss"), m.get("brier"), m.get("top_decile_lift"),
        v.baselineMetrics().get("roc_auc"), v.baselineMetrics().get("pr_auc"), m.get("oracle_roc_auc"),
        v.regParam(), v.elasticNetParam(), scala.jdk.javaapi.CollectionConverters.asScala(
            ModelSpecs.features(v)).toSeq(), v.fingerprint(), dir(version), v.toJson());
    warehouse.upsert(Table.MODEL_REGISTRY, warehouse.spark().createDataFrame(List.of(row), SCHEMA),
        "t.model_version = s.model_version");
    return v;
  }

  public Loaded load(Integer requested) {
    Integer version = requested != null ? requested : latestVersion();
    if (version == null) {
      throw new ChurnException(ChurnException.FAILURE, "no model is registered in " + warehouse.root()
          + ": run train first");
    }
    if (warehouse.read(Table.MODEL_REGISTRY).where(col("model_version").equalTo(version)).isEmpty()) {
      throw ChurnException.usage("model version " + version + " is not registered (latest: " + latestVersion() + ")");
    }
    try {
      Path specPath = new Path(dir(version) + "/spec.json");
      FileSystem fs = specPath.getFileSystem(warehouse.spark().sparkContext().hadoopConfiguration());
      String json;
      try (FSDataInputStream in = fs.open(specPath)) {
        json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      return new Loaded(PipelineModel.load(dir(version) + "/pipeline"), ModelSpec.fromJson(json));
    } catch (IOException e) {
      throw new ChurnException(ChurnException.FAILURE, "cannot load model v" + version + ": " + e.getMessage(), e);
    }
  }

  /** Helpers on specs that need no Spark. */
  static final class ModelSpecs {
    private ModelSpecs() {}

    static List<String> features(ModelSpec s) {
      List<String> all = new java.util.ArrayList<>(s.numericFeatures());
      all.addAll(s.categoricalFeatures());
      return all;
    }
  }
}
