package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * The rows a checked batch ({@link EventValidation#validate}) becomes: accepted events (folded per order under an
 * order_grain), quarantined records with their raw text, and the customer attributes the mapping reads from events.
 */
public final class EventRows {
  private EventRows() {}

  private static final String TS = EventValidation.TS;
  private static final String AMOUNT_D = EventValidation.AMOUNT_D;
  private static final String QUANTITY_I = EventValidation.QUANTITY_I;
  private static final String MRR_D = EventValidation.MRR_D;

  /**
   * Under an order_grain, one event per order: the accepted lines ({@link #acceptedEvents} rows) of each event key
   * (source file, customer, type and grain values) folded into one, amount and quantity summed, at its first
   * line's time, with the first line's (by position) other fields and lineage.
   */
  public static Dataset<Row> foldOrders(Dataset<Row> lines) {
    List<Column> aggs = new ArrayList<>();
    for (String c : lines.columns()) {
      if (c.equals(Events.EVENT_KEY) || c.equals(Events.EVENT_DATE)) {
        continue;
      }
      Column agg = switch (c) {
        case Events.AMOUNT -> sum(col(c)).cast(DataTypes.DoubleType);
        case Events.QUANTITY -> sum(col(c)).cast(DataTypes.IntegerType);
        case Events.EVENT_TIME, Events.SOURCE_POSITION -> min(col(c));
        default -> min_by(col(c), col(Events.SOURCE_POSITION));
      };
      aggs.add(agg.as(c));
    }
    Dataset<Row> folded = lines.groupBy(col(Events.EVENT_KEY)).agg(aggs.get(0), aggs.subList(1, aggs.size())
        .toArray(Column[]::new));
    return folded.withColumn(Events.EVENT_DATE, to_date(col(Events.EVENT_TIME))).select(
        java.util.Arrays.stream(lines.columns()).map(functions::col).toArray(Column[]::new));
  }

  /**
   * The customer attributes of the mapping's customer_columns, one row per customer of the accepted records: the
   * value of the customer's first record (by time, then file and position) that gives one, so an attribute is known
   * from the customer's first day on and no snapshot sees a later value. Null when the mapping has none.
   */
  public static Dataset<Row> customerAttributes(Dataset<Row> checked, SourceMapping mapping) {
    if (mapping.customerColumns().isEmpty()) {
      return null;
    }
    Column order = struct(col(TS), col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION));
    List<Column> aggs = new ArrayList<>();
    for (String a : mapping.customerColumns().keySet()) {
      aggs.add(min_by(col(EventValidation.attributeColumn(a)), when(col(EventValidation.attributeColumn(a)).isNotNull(), order)).as(a));
    }
    return checked.where(col(Events.REASON).isNull()).groupBy(col(Events.CUSTOMER_ID))
        .agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(Column[]::new));
  }

  /** The accepted records as rows of the {@code events} table. */
  public static Dataset<Row> acceptedEvents(Dataset<Row> checked, String runId) {
    return checked.where(col(Events.REASON).isNull())
        .select(
            col(Events.EVENT_KEY),
            nullif(trim(col(Events.EVENT_ID)), lit("")).as(Events.EVENT_ID),
            col(Events.CUSTOMER_ID),
            col(TS).as(Events.EVENT_TIME),
            col(Events.EVENT_TYPE),
            nullif(trim(col(Events.USER_ID)), lit("")).as(Events.USER_ID),
            col(AMOUNT_D).as(Events.AMOUNT),
            col(QUANTITY_I).as(Events.QUANTITY),
            lower(nullif(trim(col(Events.SEVERITY)), lit(""))).as(Events.SEVERITY),
            nullif(trim(col(Events.PLAN)), lit("")).as(Events.PLAN),
            col(MRR_D).as(Events.MRR),
            col(Events.SOURCE_FILE),
            col(Events.SOURCE_POSITION),
            lit(runId).as(Events.RUN_ID),
            to_date(col(TS)).as(Events.EVENT_DATE));
  }

  /**
   * The rejected records as rows of the {@code events_quarantine} table. A raw record longer than
   * {@link EventValidation#MAX_RAW_CHARS} characters is stored cut there with a note of its length (the whole
   * record stays in its file, at source_file and source_position); an oversized customer_id is not repeated in its
   * column.
   */
  public static Dataset<Row> rejectedRecords(Dataset<Row> checked, String runId, LocalDate runDate, String status) {
    Column raw = col(Events.RAW_RECORD);
    return checked.where(col(Events.REASON).isNotNull())
        .select(
            col(Events.SOURCE_FILE),
            col(Events.SOURCE_POSITION),
            when(length(raw).gt(EventValidation.MAX_RAW_CHARS), concat(substring(raw, 1, EventValidation.MAX_RAW_CHARS),
                lit(" ... [cut: "),
                length(raw).cast("string"), lit(" characters in all; the whole record is at source_file, "
                    + "source_position]"))).otherwise(raw).as(Events.RAW_RECORD),
            col(Events.REASON),
            col(Events.DETAIL),
            col(Events.EVENT_KEY),
            when(length(col(Events.CUSTOMER_ID)).leq(EventValidation.MAX_FIELD_CHARS),
                nullif(col(Events.CUSTOMER_ID), lit("")))
                .as(Events.CUSTOMER_ID),
            lit(runId).as(Events.RUN_ID),
            lit(runDate == null ? null : java.sql.Date.valueOf(runDate)).cast(DataTypes.DateType).as("quarantined_on"),
            lit(status).as(Events.QUARANTINE_STATUS));
  }
}
