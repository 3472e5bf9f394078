package dev.churn.jobs.warehouse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.testing.SparkSuite;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.feature.Imputer;
import org.apache.spark.ml.feature.OneHotEncoder;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * A pipeline of the churn model's stage kinds saved in MLlib's local format loads without a Spark job and
 * transforms every row as the original does; a copy that cannot be read gives way to the standard one. In memory.
 */
class LocalPipelinesTest extends SparkSuite {

  private static Dataset<Row> rows() {
    StructType schema = new StructType().add("id", DataTypes.IntegerType).add("plan", DataTypes.StringType)
        .add("logins", DataTypes.DoubleType).add("label", DataTypes.DoubleType);
    List<Row> rows = new ArrayList<>();
    String[] plans = {"basic", "pro", "team"};
    for (int i = 0; i < 24; i++) {
      rows.add(RowFactory.create(i, plans[i % 3], i % 5 == 0 ? null : (double) (i * 7 % 11), (double) (i % 2)));
    }
    return spark.createDataFrame(rows, schema);
  }

  private static PipelineModel fitted(Dataset<Row> rows) {
    List<PipelineStage> stages = List.of(
        new SQLTransformer().setStatement("SELECT *, log1p(logins) AS t_logins FROM __THIS__"),
        new StringIndexer().setInputCols(new String[] {"plan"}).setOutputCols(new String[] {"i_plan"})
            .setHandleInvalid("keep"),
        new OneHotEncoder().setInputCols(new String[] {"i_plan"}).setOutputCols(new String[] {"c_plan"})
            .setHandleInvalid("keep"),
        new Imputer().setInputCols(new String[] {"t_logins"}).setOutputCols(new String[] {"f_logins"})
            .setStrategy("median"),
        new VectorAssembler().setInputCols(new String[] {"f_logins", "c_plan"}).setOutputCol("assembled"),
        new StandardScaler().setInputCol("assembled").setOutputCol("scaled").setWithMean(true),
        new LogisticRegression().setFeaturesCol("scaled").setRegParam(0.01).setMaxIter(20));
    return new Pipeline().setStages(stages.toArray(PipelineStage[]::new)).fit(rows);
  }

  private static List<String> transformed(PipelineModel model, Dataset<Row> rows) {
    return model.transform(rows).select("id", "scaled", "probability").orderBy("id").collectAsList().stream()
        .map(Row::toString).toList();
  }

  /** The Spark jobs {@code action} ran (counted by a job group of its own on this thread). */
  private static int jobsOf(Runnable action) {
    String group = "local-pipelines-" + System.nanoTime();
    spark.sparkContext().setJobGroup(group, group, false);
    try {
      action.run();
    } finally {
      spark.sparkContext().clearJobGroup();
    }
    return spark.sparkContext().statusTracker().getJobIdsForGroup(group).length;
  }

  @Test
  void theLocalCopyLoadsWithoutASparkJobAndTransformsAsTheOriginal() throws Exception {
    Dataset<Row> rows = rows();
    PipelineModel model = fitted(rows);
    Path folder = LocalPipelines.local(tempDir("local-pipeline").toUri().toString() + "/v1/pipeline.local",
        spark.sparkContext().hadoopConfiguration()).orElseThrow();
    assertTrue(LocalPipelines.save(model, folder));

    PipelineModel[] loaded = new PipelineModel[1];
    assertEquals(0, jobsOf(() -> loaded[0] = LocalPipelines.load(folder).orElseThrow()));
    assertEquals(transformed(model, rows), transformed(loaded[0], rows));
    assertArrayEquals(Stream.of(model.stages()).map(s -> s.uid()).toArray(),
        Stream.of(loaded[0].stages()).map(s -> s.uid()).toArray());
    // MLlib's own reader, for comparison: the cost the copy spares.
    Path standard = folder.resolveSibling("pipeline");
    model.write().save(standard.toString());
    assertTrue(jobsOf(() -> PipelineModel.load(standard.toString())) > 10, "MLlib's reader runs Spark jobs");

    // A copy missing a stage's data is not used: the caller loads the standard copy.
    try (Stream<Path> files = Files.walk(folder.resolve("stages"))) {
      Path data = files.filter(p -> p.getFileName().toString().equals("data") && Files.isRegularFile(p))
          .findFirst().orElseThrow();
      Files.delete(data);
    }
    assertEquals(Optional.empty(), LocalPipelines.load(folder));
    assertFalse(LocalPipelines.load(folder.resolveSibling("absent")).isPresent());
  }
}
