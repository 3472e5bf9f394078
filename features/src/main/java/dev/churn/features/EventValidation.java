package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;

/**
 * Pure transforms that turn raw records into canonical events and decide, for each record, whether it is
 * accepted or why it is rejected. No reads, no writes: the ingest job supplies the records and the keys
 * already stored.
 *
 * <p>The record frame every step works on has the lineage columns {@link Events#SOURCE_FILE},
 * {@link Events#SOURCE_POSITION} (1-based line or row in the file), {@link Events#RAW_RECORD}, a boolean
 * {@link #MALFORMED} and a nullable {@link #FOLDER_DATE} (the {@code event_date=} folder the file sat in).
 */
public final class EventValidation {
  private EventValidation() {}

  public static final String MALFORMED = "_malformed";
  public static final String FOLDER_DATE = "_folder_date";
  /** Marks a record whose file and position an earlier run already stored (accepted or quarantined). */
  public static final String REPLAY = "_replay";

  private static final String TS = "_ts";
  private static final String AMOUNT_D = "_amount";
  private static final String QUANTITY_I = "_quantity";
  private static final String MRR_D = "_mrr";

  /**
   * Renames and fills a raw frame's columns into the canonical string fields of {@link Events#RAW_SCHEMA},
   * applying the mapping's constants and event-name translation. Source columns a mapping does not name are
   * dropped; canonical fields absent from the source are null.
   */
  public static Dataset<Row> toCanonical(Dataset<Row> raw, SourceMapping mapping) {
    List<String> present = List.of(raw.columns());
    List<Column> cols = new ArrayList<>();
    for (String lineage : List.of(Events.SOURCE_FILE, Events.SOURCE_POSITION, Events.RAW_RECORD, MALFORMED,
        FOLDER_DATE)) {
      cols.add(col(lineage));
    }
    for (String field : Events.RAW_SCHEMA.fieldNames()) {
      Column value;
      if (mapping.constants().containsKey(field)) {
        value = lit(mapping.constants().get(field));
      } else if (present.contains(mapping.sourceColumn(field))) {
        value = col("`" + mapping.sourceColumn(field) + "`").cast(DataTypes.StringType);
      } else {
        value = lit(null).cast(DataTypes.StringType);
      }
      if (field.equals(Events.EVENT_TYPE) && !mapping.eventTypes().isEmpty()) {
        Column mapped = null;
        for (Map.Entry<String, String> e : mapping.eventTypes().entrySet()) {
          mapped = (mapped == null ? when(value.equalTo(e.getKey()), e.getValue())
              : mapped.when(value.equalTo(e.getKey()), e.getValue()));
        }
        value = mapped.otherwise(value);
      }
      cols.add(value.as(field));
    }
    return raw.select(cols.toArray(Column[]::new));
  }

  /**
   * Whether the record gives customer_id as a JSON number, which churn's own format forbids (its ids are strings:
   * a number loses leading zeros and may be rounded on the way). A foreign log's mapping accepts numeric ids.
   */
  private static Column numericJsonId(SourceMapping mapping) {
    if (!mapping.name().equals(SourceMapping.DEFAULT_NAME) || !"json".equals(mapping.format())) {
      return lit(false);
    }
    String field = java.util.regex.Pattern.quote(mapping.sourceColumn(Events.CUSTOMER_ID));
    return coalesce(col(Events.RAW_RECORD).rlike("\"" + field + "\"\\s*:\\s*-?[0-9]"), lit(false));
  }

  /**
   * Types the canonical fields and names each record's first failing check in {@link Events#REASON} (null
   * when the record is valid) with a human-readable {@link Events#DETAIL}, and derives
   * {@link Events#EVENT_KEY} from the mapping's identity rule.
   *
   * @param runDate the batch's reference date when files do not sit in an {@code event_date=} folder;
   *     null disables the future-timestamp check for such files
   */
  public static Dataset<Row> validate(Dataset<Row> canonical, SourceMapping mapping, LocalDate runDate) {
    Column rawTime = col(Events.EVENT_TIME);
    Column ts = mapping.timestampFormat() == null
        ? try_to_timestamp(trim(rawTime))
        : try_to_timestamp(trim(rawTime), lit(mapping.timestampFormat()));
    Column reference = runDate == null ? col(FOLDER_DATE) : coalesce(col(FOLDER_DATE), lit(java.sql.Date.valueOf(runDate)));
    Column customer = trim(col(Events.CUSTOMER_ID));
    Column eventType = lower(trim(col(Events.EVENT_TYPE)));

    Dataset<Row> typed = canonical
        .withColumn(Events.CUSTOMER_ID, customer)
        .withColumn(Events.EVENT_TYPE, eventType)
        .withColumn(TS, ts)
        .withColumn(AMOUNT_D, trim(col(Events.AMOUNT)).try_cast(DataTypes.DoubleType))
        .withColumn(QUANTITY_I, trim(col(Events.QUANTITY)).try_cast(DataTypes.IntegerType))
        .withColumn(MRR_D, trim(col(Events.MRR)).try_cast(DataTypes.DoubleType));

    Column badNumber = badNumber(Events.AMOUNT, AMOUNT_D).or(badNumber(Events.QUANTITY, QUANTITY_I))
        .or(badNumber(Events.MRR, MRR_D));
    Column nonFinite = nonFinite(AMOUNT_D).or(nonFinite(MRR_D));
    Column oversized = null;
    for (String field : TEXT_FIELDS) {
      Column tooLong = coalesce(length(col(field)).gt(MAX_FIELD_CHARS), lit(false));
      oversized = oversized == null ? tooLong : oversized.or(tooLong);
    }
    Column early = to_date(col(TS)).lt(lit(java.sql.Date.valueOf(mapping.earliestEventDate())));
    Column negative = col(AMOUNT_D).lt(0).or(col(QUANTITY_I).lt(0)).or(col(MRR_D).lt(0));
    Column future = to_date(col(TS)).gt(date_add(reference, 1));

    Column reason = when(col(MALFORMED), lit(RejectReason.MALFORMED.code()))
        .when(coalesce(col(Events.RAW_RECORD).contains(REPLACEMENT_CHARACTER), lit(false)),
            lit(RejectReason.INVALID_UTF8.code()))
        .when(col(Events.CUSTOMER_ID).isNull().or(col(Events.CUSTOMER_ID).equalTo("")),
            lit(RejectReason.MISSING_CUSTOMER_ID.code()))
        .when(col(Events.CUSTOMER_ID).startsWith("{").or(col(Events.CUSTOMER_ID).startsWith("["))
            .or(numericJsonId(mapping)), lit(RejectReason.BAD_CUSTOMER_ID.code()))
        .when(oversized, lit(RejectReason.OVERSIZED_FIELD.code()))
        .when(col(TS).isNull(), lit(RejectReason.BAD_TIMESTAMP.code()))
        .when(coalesce(future, lit(false)), lit(RejectReason.FUTURE_TIMESTAMP.code()))
        .when(coalesce(early, lit(false)), lit(RejectReason.EARLY_TIMESTAMP.code()))
        .when(col(Events.EVENT_TYPE).isNull().or(not(col(Events.EVENT_TYPE).isin(EventType.wireNames().toArray()))),
            lit(RejectReason.UNKNOWN_EVENT_TYPE.code()))
        .when(coalesce(badNumber, lit(false)), lit(RejectReason.BAD_NUMBER.code()))
        .when(coalesce(nonFinite, lit(false)), lit(RejectReason.NON_FINITE_NUMBER.code()))
        .when(coalesce(negative, lit(false)), lit(RejectReason.NEGATIVE_AMOUNT.code()));

    Column why = col(Events.REASON);
    Column detail = when(why.equalTo(RejectReason.BAD_TIMESTAMP.code()), concat(lit("event_time '"),
            coalesce(rawTime, lit("null")), lit("' does not parse"
                + (mapping.timestampFormat() == null ? " as ISO-8601" : " with pattern " + mapping.timestampFormat()))))
        .when(why.equalTo(RejectReason.FUTURE_TIMESTAMP.code()), concat(lit("event_time "), col(TS).cast("string"),
            lit(" is after the batch date "), reference.cast("string")))
        .when(why.equalTo(RejectReason.EARLY_TIMESTAMP.code()), concat(lit("event_time "), col(TS).cast("string"),
            lit(" is before the earliest plausible date " + mapping.earliestEventDate()
                + " (the mapping's earliest_event_date)")))
        .when(why.equalTo(RejectReason.UNKNOWN_EVENT_TYPE.code()),
            concat(lit("event_type '"), coalesce(col(Events.EVENT_TYPE), lit("null")), lit("' is not known")))
        .when(why.equalTo(RejectReason.MALFORMED.code()), lit("the record could not be parsed as " + mapping.format()))
        .when(why.isNotNull(), reasonDescription(why));

    // Reason first, then detail from the reason column: nesting the reason expression in detail multiplied
    // the plan's size and its planning time.
    return typed
        .withColumn(Events.REASON, reason)
        .withColumn(Events.DETAIL, detail)
        .withColumn(Events.EVENT_KEY, eventKey(mapping.identity()));
  }

  /** Ids and texts longer than this are refused as {@code oversized_field}: no real id or plan name is. */
  public static final int MAX_FIELD_CHARS = 1000;
  /** Quarantined raw records are stored up to this many characters (100,000), with a note of the rest. */
  public static final int MAX_RAW_CHARS = 100_000;
  private static final List<String> TEXT_FIELDS = List.of(Events.CUSTOMER_ID, Events.EVENT_ID, Events.USER_ID,
      Events.EVENT_TYPE, Events.PLAN, Events.SEVERITY);
  /** What readers put in place of bytes that are not UTF-8. */
  private static final String REPLACEMENT_CHARACTER = "\uFFFD";

  private static Column nonFinite(String typed) {
    return isnan(col(typed)).or(col(typed).isin(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY));
  }

  private static Column badNumber(String raw, String typed) {
    return col(raw).isNotNull().and(trim(col(raw)).notEqual("")).and(col(typed).isNull());
  }

  private static Column reasonDescription(Column reason) {
    Column out = null;
    for (RejectReason r : RejectReason.values()) {
      out = out == null ? when(reason.equalTo(r.code()), r.description())
          : out.when(reason.equalTo(r.code()), r.description());
    }
    return out;
  }

  static Column positionKey() {
    return concat(lit("pos:"), sha2(concat_ws(":", col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION).cast("string")), 256));
  }

  private static Column eventKey(SourceMapping.Identity identity) {
    return switch (identity) {
      case EVENT_ID -> coalesce(nullif(trim(col(Events.EVENT_ID)), lit("")), positionKey());
      case POSITION -> positionKey();
      case CONTENT -> concat(lit("content:"), sha2(col(Events.RAW_RECORD), 256));
    };
  }

  /**
   * The event keys that more than one valid record of the batch carries, with the first such record's (file,
   * position) in {@code _first}: the input of {@link #markDuplicates}. Only keys travel, never whole records.
   */
  public static Dataset<Row> repeatedKeys(Dataset<Row> validated) {
    return validated.where(col(Events.REASON).isNull())
        .groupBy(col(Events.EVENT_KEY).as(REPEATED_KEY))
        .agg(count(lit(1)).as("_n"), min(struct(col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION))).as(FIRST))
        .where(col("_n").gt(1)).drop("_n");
  }

  private static final String REPEATED_KEY = "_repeated_key";
  private static final String FIRST = "_first";

  /**
   * Marks records that repeat an accepted event as {@link RejectReason#DUPLICATE}: within the batch every
   * record of an event key after the first (by file, then position; {@code repeated} is
   * {@link #repeatedKeys}; null when no key repeats) and every record whose key is in {@code storedKeys} (one
   * column, {@link Events#EVENT_KEY}; null when nothing stored can match). Both are small next to the batch: pass them
   * with a broadcast hint where they are.
   */
  public static Dataset<Row> markDuplicates(Dataset<Row> validated, Dataset<Row> repeated, Dataset<Row> storedKeys) {
    Dataset<Row> joined = validated;
    Column inBatch = lit(false);
    if (repeated != null) {
      joined = joined.join(repeated, col(Events.EVENT_KEY).equalTo(col(REPEATED_KEY))
          .and(col(Events.REASON).isNull()), "left");
      inBatch = col(Events.REASON).isNull().and(col(REPEATED_KEY).isNotNull())
          .and(not(struct(col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION)).equalTo(col(FIRST))));
    }
    Column earlier = lit(false);
    if (storedKeys != null) {
      Dataset<Row> stored = storedKeys.select(col(Events.EVENT_KEY).as("_stored_key"));
      joined = joined.join(stored, col(Events.EVENT_KEY).equalTo(col("_stored_key"))
          .and(col(Events.REASON).isNull()), "left");
      earlier = col(Events.REASON).isNull().and(col("_stored_key").isNotNull());
    }
    return joined
        .withColumn(Events.DETAIL, when(inBatch, lit("same event key as an earlier record of this batch"))
            .when(earlier, lit("event key already stored by an earlier run")).otherwise(col(Events.DETAIL)))
        .withColumn(Events.REASON, when(inBatch.or(earlier), lit(RejectReason.DUPLICATE.code()))
            .otherwise(col(Events.REASON)))
        .drop(REPEATED_KEY, FIRST, "_stored_key");
  }

  /** The day a validated record's event falls on (null when its time does not parse). */
  public static Column eventDay() {
    return to_date(col(TS));
  }

  /**
   * Flags, in {@link #REPLAY}, records whose (file, position) an earlier run stored already; they are neither
   * new events nor new rejects. {@code storedPositions} has columns {@link Events#SOURCE_FILE} and
   * {@link Events#SOURCE_POSITION}, each pair once (null when nothing stored can match).
   */
  public static Dataset<Row> markReplays(Dataset<Row> records, Dataset<Row> storedPositions) {
    if (storedPositions == null) {
      return records.withColumn(REPLAY, lit(false));
    }
    Dataset<Row> stored = storedPositions
        .select(col(Events.SOURCE_FILE).as("_sf"), col(Events.SOURCE_POSITION).as("_sp"), lit(true).as(REPLAY));
    Dataset<Row> joined = records.join(stored, col(Events.SOURCE_FILE).equalTo(col("_sf"))
        .and(col(Events.SOURCE_POSITION).equalTo(col("_sp"))), "left");
    return joined.withColumn(REPLAY, coalesce(col(REPLAY), lit(false))).drop("_sf", "_sp");
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
   * {@link #MAX_RAW_CHARS} characters is stored cut there with a note of its length (the whole record stays in
   * its file, at source_file and source_position); an oversized customer_id is not repeated in its column.
   */
  public static Dataset<Row> rejectedRecords(Dataset<Row> checked, String runId, LocalDate runDate, String status) {
    Column raw = col(Events.RAW_RECORD);
    return checked.where(col(Events.REASON).isNotNull())
        .select(
            col(Events.SOURCE_FILE),
            col(Events.SOURCE_POSITION),
            when(length(raw).gt(MAX_RAW_CHARS), concat(substring(raw, 1, MAX_RAW_CHARS), lit(" ... [cut: "),
                length(raw).cast("string"), lit(" characters in all; the whole record is at source_file, "
                    + "source_position]"))).otherwise(raw).as(Events.RAW_RECORD),
            col(Events.REASON),
            col(Events.DETAIL),
            col(Events.EVENT_KEY),
            when(length(col(Events.CUSTOMER_ID)).leq(MAX_FIELD_CHARS), nullif(col(Events.CUSTOMER_ID), lit("")))
                .as(Events.CUSTOMER_ID),
            lit(runId).as(Events.RUN_ID),
            lit(runDate == null ? null : java.sql.Date.valueOf(runDate)).cast(DataTypes.DateType).as("quarantined_on"),
            lit(status).as(Events.QUARANTINE_STATUS));
  }
}
