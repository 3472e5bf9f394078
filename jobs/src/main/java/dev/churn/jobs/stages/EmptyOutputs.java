package dev.churn.jobs.stages;

import dev.churn.features.Customers;
import dev.churn.features.DailyActivity;
import dev.churn.features.Events;
import dev.churn.features.Retention;
import dev.churn.features.Survival;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.models.Actions;
import dev.churn.models.Forecast;
import java.time.LocalDate;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The output tables the notebooks and the report read, empty, for a warehouse that has not written them yet:
 * whatever order the commands ran in, {@code churn.retention_actions} and the others answer "no rows" (and the
 * notebooks' status cell says what is missing) instead of TABLE_OR_VIEW_NOT_FOUND. Each is a view of no rows with
 * the columns its transform computes, in the session's catalog only (a shared one with {@code --metastore}):
 * nothing is written to the warehouse, and the first real write replaces the view with the table.
 */
public final class EmptyOutputs {
  private EmptyOutputs() {}

  /** The tables given an empty stand-in while missing. */
  static final List<Table> OUTPUTS = List.of(Table.CUSTOMERS, Table.MODEL_REGISTRY, Table.FEATURE_DRIFT,
      Table.CHURN_SCORES, Table.RETENTION_RATES, Table.COHORT_RETENTION, Table.CHURN_FORECAST, Table.SURVIVAL_CURVES,
      Table.RETENTION_ACTIONS, Table.INTERVENTIONS, Table.INTERVENTION_EFFECTS);

  /** Registers an empty view for each output table the warehouse does not have yet. */
  public static void register(Warehouse warehouse) {
    for (Table t : OUTPUTS) {
      if (!warehouse.exists(t)) {
        warehouse.registerEmpty(t, () -> select(of(t, warehouse.spark()).schema()));
      }
    }
  }

  private static String select(StructType schema) {
    return "SELECT " + java.util.Arrays.stream(schema.fields())
        .map(f -> "CAST(NULL AS " + f.dataType().sql() + ") AS `" + f.name() + "`").collect(Collectors.joining(", "))
        + " WHERE false";
  }

  /** No rows of {@code table}, with the columns its transform computes. */
  static Dataset<Row> of(Table table, SparkSession spark) {
    LocalDate day = LocalDate.of(2000, 1, 1);
    Dataset<Row> customers = spark.createDataFrame(List.of(), Customers.TABLE_SCHEMA);
    if (table.schema() != null) {
      return spark.createDataFrame(List.of(), table.schema());
    }
    return switch (table) {
      case CHURN_SCORES -> scores(spark);
      case RETENTION_RATES -> Retention.rates(customers, DailyActivity.rollup(spark.createDataFrame(List.of(),
          Events.TABLE_SCHEMA)), Retention.periods(spark, day, day));
      case COHORT_RETENTION -> Retention.cohorts(customers, day, day);
      case CHURN_FORECAST -> Forecast.expectedVsActual(values(spark, customers), customers, day);
      case SURVIVAL_CURVES -> Survival.kaplanMeier(customers, day);
      case RETENTION_ACTIONS -> Actions.rank(values(spark, customers), Actions.Options.defaults());
      default -> throw new IllegalArgumentException(table + " has no empty stand-in");
    };
  }

  /** No churn_scores rows, with the table's columns. */
  static Dataset<Row> scores(SparkSession spark) {
    return spark.createDataFrame(List.of(), new StructType().add("customer_id", DataTypes.StringType)
        .add("as_of_date", DataTypes.DateType).add("churn_probability", DataTypes.DoubleType)
        .add("risk_tier", DataTypes.StringType).add("lifecycle_stage", DataTypes.StringType)
        .add("top_reasons", DataTypes.createArrayType(new StructType().add("feature", DataTypes.StringType)
            .add("value", DataTypes.StringType).add("contribution", DataTypes.DoubleType)
            .add("phrase", DataTypes.StringType)))
        .add("model_version", DataTypes.IntegerType));
  }

  /** No {@link Actions#values} rows. */
  static Dataset<Row> values(SparkSession spark, Dataset<Row> customers) {
    Dataset<Row> features = spark.createDataFrame(List.of(), new StructType().add("customer_id", DataTypes.StringType)
        .add("as_of_date", DataTypes.DateType).add("mrr", DataTypes.DoubleType)
        .add("payment_amount_365d", DataTypes.DoubleType).add("tenure_days", DataTypes.DoubleType));
    return Actions.values(scores(spark).withColumn("horizon_days", functions.lit(0)), features, customers, List.of());
  }
}
