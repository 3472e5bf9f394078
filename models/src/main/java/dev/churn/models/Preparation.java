package dev.churn.models;

import dev.churn.features.FeatureCatalogue;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.feature.Imputer;
import org.apache.spark.ml.feature.OneHotEncoder;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The model's input preparation, read from the {@link FeatureCatalogue}: log(1 + x) of the features it marks
 * log-scaled, median imputation, one-hot categoricals, assembly and standard scaling; and the map from each slot
 * of the resulting vector back to its feature, which the reasons need.
 */
final class Preparation {
  private Preparation() {}

  /** Whether the model takes log(1 + x) of {@code feature} ({@link FeatureCatalogue.Feature#logScaled}). */
  static boolean logged(String feature) {
    FeatureCatalogue.Feature f = FeatureCatalogue.named(feature);
    return f != null && f.logScaled();
  }

  /** Log transform, imputation, encoding, assembly and scaling: fitted once per training set. */
  static List<PipelineStage> stages(List<String> numeric, List<String> categorical) {
    List<PipelineStage> stages = new ArrayList<>();
    StringBuilder select = new StringBuilder("SELECT *");
    for (String f : numeric) {
      select.append(", ").append(logged(f) ? "log1p(greatest(`" + f + "`, 0D))" : "`" + f + "`").append(" AS `t__")
          .append(f).append('`');
    }
    stages.add(new SQLTransformer().setStatement(select + " FROM __THIS__"));
    String[] idx = categorical.stream().map(c -> "i__" + c).toArray(String[]::new);
    String[] hot = categorical.stream().map(c -> "c__" + c).toArray(String[]::new);
    String[] imputed = numeric.stream().map(c -> "f__" + c).toArray(String[]::new);
    stages.add(new StringIndexer().setInputCols(categorical.toArray(String[]::new)).setOutputCols(idx)
        .setHandleInvalid("keep").setStringOrderType("alphabetAsc"));
    stages.add(new OneHotEncoder().setInputCols(idx).setOutputCols(hot).setHandleInvalid("keep").setDropLast(false));
    stages.add(new Imputer().setInputCols(numeric.stream().map(c -> "t__" + c).toArray(String[]::new))
        .setOutputCols(imputed).setStrategy("median"));
    List<String> assembled = new ArrayList<>(List.of(imputed));
    assembled.addAll(List.of(hot));
    stages.add(new VectorAssembler().setInputCols(assembled.toArray(String[]::new)).setOutputCol(ChurnTrainer.ASSEMBLED)
        .setHandleInvalid("keep"));
    stages.add(new StandardScaler().setInputCol(ChurnTrainer.ASSEMBLED).setOutputCol(ChurnTrainer.SCALED).setWithMean(true).setWithStd(true));
    return stages;
  }

  /** The preparation stages fitted on {@code rows}. */
  static PipelineModel fit(Dataset<Row> rows, List<String> numeric, List<String> categorical) {
    return new Pipeline().setStages(stages(numeric, categorical).toArray(PipelineStage[]::new)).fit(rows);
  }

  /** For each slot of the model's input vector, the feature it belongs to (a categorical has one slot per value). */
  static List<String> slotFeatures(Dataset<Row> transformed, List<String> numeric, List<String> categorical) {
    AttributeGroup group = AttributeGroup.fromStructField(transformed.schema().apply(ChurnTrainer.ASSEMBLED));
    Attribute[] attrs = group.attributes().get();
    List<String> out = new ArrayList<>();
    for (Attribute a : attrs) {
      String name = a.name().get();
      String feature = null;
      if (name.startsWith("f__")) {
        feature = name.substring(3);
      } else if (name.startsWith("c__")) {
        for (String c : categorical) {
          if (name.startsWith("c__" + c + "_") && (feature == null || c.length() > feature.length())) {
            feature = c;
          }
        }
      }
      if (feature == null || !(numeric.contains(feature) || categorical.contains(feature))) {
        throw new IllegalStateException("cannot map model input slot '" + name + "' to a feature");
      }
      out.add(feature);
    }
    return out;
  }
}
