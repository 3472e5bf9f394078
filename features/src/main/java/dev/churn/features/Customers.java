package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The {@code customers} table (one row per customer) and the pure transforms that feed it: the customers
 * file's validation and the per-customer summary of a batch of accepted events.
 */
public final class Customers {
  private Customers() {}

  public static final String CUSTOMER_ID = "customer_id";
  public static final String SEGMENT = "segment";
  public static final String INDUSTRY = "industry";
  public static final String PLAN = "plan";
  public static final String MRR = "mrr";
  public static final String SIGNUP_DATE = "signup_date";
  public static final String SIGNUP_PLAN = "signup_plan";
  public static final String SIGNUP_MRR = "signup_mrr";
  public static final String TRIAL_END_DATE = "trial_end_date";
  public static final String CHURN_DATE = "churn_date";
  public static final String FIRST_EVENT_DATE = "first_event_date";
  public static final String LAST_EVENT_DATE = "last_event_date";
  public static final String PLAN_CHANGED_AT = "plan_changed_at";
  public static final String CANCELLED_ON = "cancelled_on";
  public static final String UNKNOWN = "unknown";

  public static final StructType TABLE_SCHEMA = new StructType()
      .add(CUSTOMER_ID, DataTypes.StringType, false)
      .add(SEGMENT, DataTypes.StringType)
      .add(INDUSTRY, DataTypes.StringType)
      .add(PLAN, DataTypes.StringType)
      .add(MRR, DataTypes.DoubleType)
      .add(SIGNUP_DATE, DataTypes.DateType)
      .add(SIGNUP_PLAN, DataTypes.StringType)
      .add(SIGNUP_MRR, DataTypes.DoubleType)
      .add(TRIAL_END_DATE, DataTypes.DateType)
      .add(CHURN_DATE, DataTypes.DateType)
      .add(CANCELLED_ON, DataTypes.DateType)
      .add(FIRST_EVENT_DATE, DataTypes.DateType)
      .add(LAST_EVENT_DATE, DataTypes.DateType)
      .add(PLAN_CHANGED_AT, DataTypes.TimestampType);

  /** The customers file as written by {@code generate}: CSV with a header, every field read as text. */
  public static final StructType FILE_SCHEMA = new StructType()
      .add(CUSTOMER_ID, DataTypes.StringType)
      .add(SEGMENT, DataTypes.StringType)
      .add(INDUSTRY, DataTypes.StringType)
      .add(PLAN, DataTypes.StringType)
      .add(MRR, DataTypes.StringType)
      .add(SIGNUP_DATE, DataTypes.StringType)
      .add(TRIAL_END_DATE, DataTypes.StringType);

  /**
   * Types a customers file (columns of {@link #FILE_SCHEMA} plus lineage) and sets {@link Events#REASON} to
   * {@code bad_customer_record} for rows without a customer id, a parseable signup date, or an mrr every stage can
   * carry (a number, finite, from 0 to {@link Events#MAX_MONEY}); {@link Events#DETAIL} says which.
   */
  public static Dataset<Row> validateFile(Dataset<Row> file) {
    Column id = IdRules.id(col(CUSTOMER_ID));
    Column signup = try_to_date(trim(col(SIGNUP_DATE)));
    Column mrr = trim(col(MRR)).try_cast(DataTypes.DoubleType);
    Column rawMrr = concat(lit("mrr '"), col(MRR), lit("' "));
    // What is wrong, first problem first; null when the row is usable. An mrr must be one every stage can carry.
    Column problem = when(id.isNull().or(id.equalTo("")), lit("customer_id is missing"))
        .when(IdRules.hiddenCharacter(id), lit("customer_id holds a control or invisible character"))
        .when(signup.isNull(), concat(lit("signup_date '"), coalesce(col(SIGNUP_DATE), lit("")),
            lit("' is not a date (YYYY-MM-DD)")))
        .when(mrr.isNull().and(col(MRR).isNotNull()),
            concat(rawMrr, lit("is not a number")))
        .when(isnan(mrr).or(mrr.isin(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY)),
            concat(rawMrr, lit("is not finite")))
        .when(mrr.lt(0), concat(rawMrr, lit("is negative")))
        .when(mrr.gt(Events.MAX_MONEY), concat(rawMrr, lit("is above 1e12")));
    Column bad = coalesce(problem.isNotNull(), lit(false));
    return file.select(
        col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION), col(Events.RAW_RECORD),
        id.as(CUSTOMER_ID),
        coalesce(nullif(lower(trim(col(SEGMENT))), lit("")), lit(UNKNOWN)).as(SEGMENT),
        coalesce(nullif(lower(trim(col(INDUSTRY))), lit("")), lit(UNKNOWN)).as(INDUSTRY),
        coalesce(nullif(lower(trim(col(PLAN))), lit("")), lit(UNKNOWN)).as(PLAN),
        coalesce(mrr, lit(0.0)).as(MRR),
        signup.as(SIGNUP_DATE),
        try_to_date(nullif(trim(col(TRIAL_END_DATE)), lit(""))).as(TRIAL_END_DATE),
        when(bad, lit(RejectReason.BAD_CUSTOMER_RECORD.code())).as(Events.REASON),
        problem.as(Events.DETAIL),
        lit(null).cast(DataTypes.StringType).as(Events.EVENT_KEY));
  }

  /**
   * Checks a customers file read as text (the {@link #FILE_SCHEMA} columns it has, a missing one read as null,
   * lineage and the reader's {@link EventValidation#MALFORMED} flag): {@link #validateFile} on every row,
   * {@code malformed} for a line
   * without the header's number of fields, and {@code duplicate} for a customer id already given earlier in the
   * files (by file and position). Rejected rows carry {@link Events#REASON} and {@link Events#DETAIL}.
   */
  public static Dataset<Row> checkFile(Dataset<Row> file) {
    for (String c : FILE_SCHEMA.fieldNames()) {
      if (!List.of(file.columns()).contains(c)) {
        file = file.withColumn(c, lit(null).cast(DataTypes.StringType));
      }
    }
    Dataset<Row> checked = validateFile(file.where(not(col(EventValidation.MALFORMED))))
        .unionByName(validateFile(file.where(col(EventValidation.MALFORMED)))
            .withColumn(Events.REASON, lit(RejectReason.MALFORMED.code()))
            .withColumn(Events.DETAIL, lit("customers line does not have the header's number of fields")));
    var first = Window.partitionBy(col(CUSTOMER_ID)).orderBy(col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION));
    Column later = col("_rank").gt(1);
    return checked.withColumn("_rank", when(col(Events.REASON).isNull(), row_number().over(first)))
        .withColumn(Events.DETAIL, when(later, lit("customer_id already given earlier in the file"))
            .otherwise(col(Events.DETAIL)))
        .withColumn(Events.REASON, when(later, lit(RejectReason.DUPLICATE.code())).otherwise(col(Events.REASON)))
        .drop("_rank");
  }

  /**
   * Summarises a batch of accepted events per customer: first and last event dates, the first cancellation
   * date under {@code churn} (null for inactivity churn), and the batch's last plan change.
   */
  public static Dataset<Row> eventSummary(Dataset<Row> events, ChurnDefinition churn) {
    Column type = col(Events.EVENT_TYPE);
    Column planChange = type.isin(EventType.PLAN_UPGRADE.wireName(), EventType.PLAN_DOWNGRADE.wireName())
        .and(col(Events.MRR).isNotNull());
    Column cancel = churn.byInactivity() ? lit(false) : type.isin(churn.cancellationEventTypes().toArray());
    return events.groupBy(col(Events.CUSTOMER_ID)).agg(
        min(col(Events.EVENT_DATE)).as(FIRST_EVENT_DATE),
        max(col(Events.EVENT_DATE)).as(LAST_EVENT_DATE),
        min(when(cancel, col(Events.EVENT_DATE))).as(CANCELLED_ON),
        max(when(planChange, col(Events.EVENT_TIME))).as(PLAN_CHANGED_AT),
        max_by(when(planChange, col(Events.PLAN)), when(planChange, col(Events.EVENT_TIME))).as(PLAN),
        max_by(when(planChange, col(Events.MRR)), when(planChange, col(Events.EVENT_TIME))).as(MRR));
  }
}
