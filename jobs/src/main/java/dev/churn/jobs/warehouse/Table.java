package dev.churn.jobs.warehouse;

/** The Delta tables of a warehouse: each lives in {@code <warehouse>/<name>} and is registered as {@code churn.<name>}. */
public enum Table {
  EVENTS("events"),
  EVENTS_QUARANTINE("events_quarantine"),
  CUSTOMERS("customers"),
  DAILY_ACTIVITY("daily_activity"),
  CUSTOMER_FEATURES("customer_features"),
  MODEL_REGISTRY("model_registry"),
  CHURN_SCORES("churn_scores"),
  FEATURE_DRIFT("feature_drift"),
  RETENTION_RATES("retention_rates"),
  COHORT_RETENTION("cohort_retention"),
  CHURN_FORECAST("churn_forecast"),
  RUN_LOG("run_log"),
  SOURCE_SETTINGS("source_settings");

  public static final String DATABASE = "churn";

  private final String tableName;

  Table(String tableName) {
    this.tableName = tableName;
  }

  public String tableName() {
    return tableName;
  }

  public String qualifiedName() {
    return DATABASE + "." + tableName;
  }
}
