package dev.churn.jobs.warehouse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/** Facts about the warehouse's source that later stages need, kept in the {@code source_settings} table. */
public final class Settings {
  private Settings() {}

  public static final String CHURN_DEFINITION = "churn_definition";
  public static final String SOURCE_NAME = "source_name";
  /** The log's words for churn's event types ({@link dev.churn.features.SourceMapping#vocabulary}). */
  public static final String VOCABULARY = "vocabulary";

  public static void write(Warehouse warehouse, Map<String, String> values) {
    List<Row> rows = new ArrayList<>();
    values.forEach((k, v) -> rows.add(RowFactory.create(k, v)));
    warehouse.upsert(Table.SOURCE_SETTINGS, warehouse.spark().createDataFrame(rows, Table.SOURCE_SETTINGS.schema()));
  }

  public static dev.churn.features.ChurnDefinition churn(Warehouse warehouse) {
    String stored = warehouse.setting(CHURN_DEFINITION);
    if (stored == null) {
      throw new ChurnException(ChurnException.FAILURE, "the warehouse " + warehouse.root()
          + " holds no ingested log yet: run ingest first");
    }
    return dev.churn.features.ChurnDefinition.decode(stored);
  }
}
