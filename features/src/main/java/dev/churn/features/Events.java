package dev.churn.features;

import static org.apache.spark.sql.types.DataTypes.*;

import org.apache.spark.sql.types.StructType;

/**
 * Column names and schemas of the raw activity log, the {@code events} table and the
 * {@code events_quarantine} table. One place for them, so nothing else spells a column as a bare string.
 */
public final class Events {
  private Events() {}

  // Canonical raw fields (JSON keys of the generated log; a mapping renames a foreign log's onto these).
  public static final String EVENT_ID = "event_id";
  public static final String CUSTOMER_ID = "customer_id";
  public static final String EVENT_TIME = "event_time";
  public static final String EVENT_TYPE = "event_type";
  public static final String USER_ID = "user_id";
  public static final String AMOUNT = "amount";
  public static final String QUANTITY = "quantity";
  public static final String SEVERITY = "severity";
  public static final String PLAN = "plan";
  public static final String MRR = "mrr";

  /**
   * The largest amount (in absolute value: refunds are negative) and mrr accepted, 1e12: every later sum stays exact
   * within the decimals features and windows add money in ({@link ExactSums#DECIMAL}, {@link WindowState#MONEY}),
   * even over millions of events of one customer. Beyond it a record is quarantined as {@code out_of_range}.
   */
  public static final double MAX_MONEY = 1e12;
  /** The largest quantity accepted, in absolute value (1,000,000): sums of it stay within an integer. */
  public static final int MAX_QUANTITY = 1_000_000;

  // Lineage and derived columns of the events table.
  public static final String EVENT_KEY = "event_key";
  public static final String EVENT_DATE = "event_date";
  public static final String SOURCE_FILE = "source_file";
  public static final String SOURCE_POSITION = "source_position";
  public static final String RUN_ID = "run_id";

  // Quarantine columns.
  public static final String RAW_RECORD = "raw_record";
  public static final String REASON = "reason";
  public static final String DETAIL = "detail";

  /** The canonical raw record: every field a string, so that parsing never silently nulls a bad value. */
  public static final StructType RAW_SCHEMA = new StructType()
      .add(EVENT_ID, StringType)
      .add(CUSTOMER_ID, StringType)
      .add(EVENT_TIME, StringType)
      .add(EVENT_TYPE, StringType)
      .add(USER_ID, StringType)
      .add(AMOUNT, StringType)
      .add(QUANTITY, StringType)
      .add(SEVERITY, StringType)
      .add(PLAN, StringType)
      .add(MRR, StringType);

  /** The accepted-events table, partitioned by {@link #EVENT_DATE}. */
  public static final StructType TABLE_SCHEMA = new StructType()
      .add(EVENT_KEY, StringType, false)
      .add(EVENT_ID, StringType)
      .add(CUSTOMER_ID, StringType, false)
      .add(EVENT_TIME, TimestampType, false)
      .add(EVENT_TYPE, StringType, false)
      .add(USER_ID, StringType)
      .add(AMOUNT, DoubleType)
      .add(QUANTITY, IntegerType)
      .add(SEVERITY, StringType)
      .add(PLAN, StringType)
      .add(MRR, DoubleType)
      .add(SOURCE_FILE, StringType, false)
      .add(SOURCE_POSITION, LongType, false)
      .add(RUN_ID, StringType, false)
      .add(EVENT_DATE, DateType, false);

  /**
   * A quarantined record's standing: {@link #REJECTED} (its batch was committed; null in rows written before
   * statuses existed) or {@link #HELD} (its batch failed the quality gate and committed nothing: the next run over
   * the same files decides the record again).
   */
  public static final String QUARANTINE_STATUS = "status";
  public static final String REJECTED = "rejected";
  public static final String HELD = "held";

  /** One row per rejected raw record: its text, where it came from, and why. */
  public static final StructType QUARANTINE_SCHEMA = new StructType()
      .add(SOURCE_FILE, StringType, false)
      .add(SOURCE_POSITION, LongType, false)
      .add(RAW_RECORD, StringType)
      .add(REASON, StringType, false)
      .add(DETAIL, StringType)
      .add(EVENT_KEY, StringType)
      .add(CUSTOMER_ID, StringType)
      .add(RUN_ID, StringType, false)
      .add("quarantined_on", DateType)
      .add(QUARANTINE_STATUS, StringType);
}
