package dev.churn.jobs.warehouse;

import dev.churn.features.Customers;
import dev.churn.features.DailyActivity;
import dev.churn.features.Events;
import dev.churn.features.FeatureBuilder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The table contract: every Delta table of a warehouse, declared once with its schema, its partition column and
 * its key. Each lives in {@code <warehouse>/<name>} and is registered as {@code churn.<name>}. The
 * {@link Warehouse} builds every write (replace a date, replace a range, upsert on the key, insert the new) from
 * this declaration, so no caller spells a partition column or a merge condition.
 *
 * <p>A null schema means the table holds what its transform computes (the feature snapshot, scores, retention):
 * the transform is the one place its columns are defined, and the first write creates the table.
 */
public enum Table {
  EVENTS("events", Events.TABLE_SCHEMA, Events.EVENT_DATE, Events.EVENT_DATE, Events.EVENT_KEY),
  EVENTS_QUARANTINE("events_quarantine", Events.QUARANTINE_SCHEMA, null, Events.SOURCE_FILE, Events.SOURCE_POSITION),
  INGESTED_FILES("ingested_files", Schemas.INGESTED_FILES, null, Events.SOURCE_FILE, Schemas.FINGERPRINT),
  CUSTOMERS("customers", Customers.TABLE_SCHEMA, null, Customers.CUSTOMER_ID),
  DAILY_ACTIVITY("daily_activity", null, DailyActivity.ACTIVITY_DATE, DailyActivity.CUSTOMER_ID,
      DailyActivity.ACTIVITY_DATE),
  CUSTOMER_FEATURES("customer_features", null, FeatureBuilder.AS_OF_DATE, Customers.CUSTOMER_ID,
      FeatureBuilder.AS_OF_DATE),
  FEATURE_STATE("feature_state", null, FeatureBuilder.AS_OF_DATE, Customers.CUSTOMER_ID, FeatureBuilder.AS_OF_DATE),
  MODEL_REGISTRY("model_registry", Schemas.MODEL_REGISTRY, null, "model_version"),
  CHURN_SCORES("churn_scores", null, FeatureBuilder.AS_OF_DATE, Customers.CUSTOMER_ID, FeatureBuilder.AS_OF_DATE),
  FEATURE_DRIFT("feature_drift", Schemas.FEATURE_DRIFT, FeatureBuilder.AS_OF_DATE, FeatureBuilder.AS_OF_DATE, "feature"),
  RETENTION_RATES("retention_rates", null, null, "period_type", "period_start", "segment", "industry"),
  COHORT_RETENTION("cohort_retention", null, null, "cohort_month", "months_since_signup"),
  CHURN_FORECAST("churn_forecast", null, null, FeatureBuilder.AS_OF_DATE, "segment", "industry"),
  SURVIVAL_CURVES("survival_curves", null, null, FeatureBuilder.AS_OF_DATE, "dimension", "group_value", "day"),
  RETENTION_ACTIONS("retention_actions", null, null, FeatureBuilder.AS_OF_DATE, "rank"),
  INTERVENTIONS("interventions", dev.churn.models.Interventions.TABLE_SCHEMA, null,
      dev.churn.models.Interventions.KEY.toArray(String[]::new)),
  INTERVENTION_EFFECTS("intervention_effects", dev.churn.models.Effects.SCHEMA, null, "list_month", "horizon_days",
      "play", "segment"),
  RUN_LOG("run_log", Schemas.RUN_LOG, null, "run_id", "stage"),
  SOURCE_SETTINGS("source_settings", Schemas.SOURCE_SETTINGS, null, "key");

  public static final String DATABASE = "churn";

  private final String tableName;
  private final StructType schema;
  private final String partitionColumn;
  private final List<String> key;

  Table(String tableName, StructType schema, String partitionColumn, String... key) {
    this.tableName = tableName;
    this.schema = schema;
    this.partitionColumn = partitionColumn;
    this.key = List.of(key);
  }

  public String tableName() {
    return tableName;
  }

  public String qualifiedName() {
    return DATABASE + "." + tableName;
  }

  /** The declared schema, or null when the table holds what its transform computes. */
  public StructType schema() {
    return schema;
  }

  /** The partition column, or null for an unpartitioned table. */
  public String partitionColumn() {
    return partitionColumn;
  }

  /** The columns that identify a row: what merges match on. */
  public List<String> key() {
    return key;
  }

  /**
   * The columns whose minimum, maximum and null count Delta keeps in each data file's statistics
   * ({@code delta.dataSkippingStatsColumns}, set when the table is created): the key's, but the partition column,
   * whose value is the file's partition, and of the snapshot tables {@code feature_set}, which a night filters on to
   * find the rows of another catalogue. Every file still records its row count, which {@code Warehouse.rows} reads.
   * Delta's default, the first 32 columns, makes a write update three statistics per column for every row, up to
   * about 100; interpreted (as small stages run, {@code CodeGeneration}), Spark evaluates that update in time
   * quadratic in their number (its mutable projection indexes a linked list): 7.7 % of all the CPU samples of the
   * jobs module's tests (2026-12-07, {@code bench/results/profile-2026-12-07.md}). Commands filter these tables by
   * date (their partitions), key and feature set; no command filtered on another column's statistics.
   */
  public List<String> statisticsColumns() {
    List<String> columns = new java.util.ArrayList<>(key.stream().filter(k -> !k.equals(partitionColumn)).toList());
    if (this == CUSTOMER_FEATURES || this == FEATURE_STATE) {
      columns.add(FeatureBuilder.FEATURE_SET);
    }
    return List.copyOf(columns);
  }

  /**
   * CHECK constraints Delta enforces on every write to the table (name to SQL), added when the table is created:
   * keys of the computed tables present, and the values the contract bounds. A bug or another writer that breaks
   * one fails its commit and stores nothing. (A declared schema's NOT NULL is not one: Delta stores every column of
   * a table a DataFrame write creates as nullable, so the declared tables' keys are present by their writers.)
   */
  public Map<String, String> constraints() {
    Map<String, String> c = new LinkedHashMap<>();
    if (schema == null && List.of(DAILY_ACTIVITY, CUSTOMER_FEATURES, FEATURE_STATE, CHURN_SCORES).contains(this)) {
      c.put("key_present", String.join(" AND ", key.stream().map(k -> k + " IS NOT NULL").toList()));
    }
    if (this == CHURN_SCORES) {
      c.put("probability_in_0_1", "churn_probability BETWEEN 0 AND 1");
    }
    if (this == RETENTION_RATES) {
      for (String rate : List.of("churn_rate", "retention_rate", "retention_rate_annualized")) {
        c.put(rate + "_in_0_1", rate + " IS NULL OR " + rate + " BETWEEN 0 AND 1");
      }
    }
    if (this == COHORT_RETENTION) {
      c.put("retention_rate_in_0_1", "retention_rate BETWEEN 0 AND 1");
    }
    return c;
  }

  /** The merge condition on the key, over aliases {@code t} (the table) and {@code s} (the source). */
  String keyCondition() {
    return String.join(" AND ", key.stream().map(c -> "t." + c + " = s." + c).toList());
  }

  /** The schemas of the tables only the jobs write (the others are defined beside their transforms). */
  public static final class Schemas {
    private Schemas() {}

    public static final StructType MODEL_REGISTRY = new StructType()
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
        .add("spec_json", DataTypes.StringType)
        .add("status", DataTypes.StringType)
        .add("decision", DataTypes.StringType)
        .add("test_date", DataTypes.DateType)
        .add("evaluation", DataTypes.StringType)
        .add("validation_roc_auc", DataTypes.DoubleType)
        .add("validation_pr_auc", DataTypes.DoubleType);

    public static final StructType FEATURE_DRIFT = new StructType()
        .add("as_of_date", DataTypes.DateType, false)
        .add("model_version", DataTypes.IntegerType, false)
        .add("feature", DataTypes.StringType, false)
        .add("psi", DataTypes.DoubleType)
        .add("status", DataTypes.StringType)
        .add("cause", DataTypes.StringType);

    /** Spark jobs the Spark context ran during a stage (nested stages' included; {@link CommandCost}). */
    public static final String SPARK_JOBS = "spark_jobs";
    /** Delta commits the command made, on its outermost stage's row only (its run_log commit included). */
    public static final String DELTA_COMMITS = "delta_commits";

    public static final StructType RUN_LOG = new StructType()
        .add("run_id", DataTypes.StringType, false)
        .add("command", DataTypes.StringType, false)
        .add("run_date", DataTypes.DateType)
        .add("stage", DataTypes.StringType, false)
        .add("started_at", DataTypes.TimestampType, false)
        .add("duration_ms", DataTypes.LongType, false)
        .add("rows_in", DataTypes.LongType)
        .add("rows_out", DataTypes.LongType)
        .add("rows_rejected", DataTypes.LongType)
        .add("status", DataTypes.StringType, false)
        .add("message", DataTypes.StringType)
        .add(SPARK_JOBS, DataTypes.LongType)
        .add(DELTA_COMMITS, DataTypes.LongType);

    /** The record count of an ingested file ({@code ingested_files}). */
    public static final String RECORDS = "records";
    /**
     * The content fingerprint of an ingested file: the XOR over its records of xxhash64(position, raw record), so
     * a file moved or copied elsewhere has the fingerprint it had, and any changed, added or removed line changes it.
     */
    public static final String FINGERPRINT = "fingerprint";

    /** One row per raw file and content an ingest read: what a moved or copied file is recognised by. */
    public static final StructType INGESTED_FILES = new StructType()
        .add(Events.SOURCE_FILE, DataTypes.StringType, false)
        .add(RECORDS, DataTypes.LongType, false)
        .add(FINGERPRINT, DataTypes.LongType, false)
        .add(Events.RUN_ID, DataTypes.StringType);

    public static final StructType SOURCE_SETTINGS = new StructType()
        .add("key", DataTypes.StringType, false)
        .add("value", DataTypes.StringType);
  }
}
