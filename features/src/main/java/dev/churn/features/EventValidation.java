package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
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

  static final String TS = "_ts";
  static final String AMOUNT_D = "_amount";
  static final String QUANTITY_I = "_quantity";
  static final String MRR_D = "_mrr";

  /** The mapping's exclusion a record meets (its reason code), or null. */
  public static final String EXCLUDED = "_excluded";
  /** The order a line belongs to under the mapping's order_grain (its grain values), or null. */
  public static final String GRAIN = "_grain";
  /** A numeric field whose expression gave no value although its columns hold one: the field's detail. */
  private static final String EXPRESSION_FAILED = "_expression_failed";
  private static final String ATTRIBUTE = "_attr_";

  /** The column of a record's customer attribute from the mapping's customer_columns (text, null when absent). */
  public static String attributeColumn(String attribute) {
    return ATTRIBUTE + attribute;
  }

  /**
   * Renames and fills a raw frame's columns into the canonical string fields of {@link Events#RAW_SCHEMA},
   * applying the mapping's constants, expressions ({@link SourceExpressions}) and event-name translation, and adds
   * {@link #EXCLUDED}, {@link #GRAIN} and the customer attributes of the mapping's customer_columns
   * ({@link #attributeColumn}). Source columns a mapping does not name are dropped; canonical fields absent from
   * the source are null.
   */
  public static Dataset<Row> toCanonical(Dataset<Row> raw, SourceMapping mapping) {
    List<String> present = List.of(raw.columns());
    List<Column> cols = new ArrayList<>();
    for (String lineage : List.of(Events.SOURCE_FILE, Events.SOURCE_POSITION, Events.RAW_RECORD, MALFORMED,
        FOLDER_DATE)) {
      cols.add(col(lineage));
    }
    Column failed = lit(null).cast(DataTypes.StringType);
    for (String field : Events.RAW_SCHEMA.fieldNames()) {
      Column value;
      String source = mapping.sourceColumn(field);
      if (mapping.constants().containsKey(field)) {
        value = lit(mapping.constants().get(field));
      } else if (mapping.columns().containsKey(field) || present.contains(source)) {
        value = SourceExpressions.column(source, present).cast(DataTypes.StringType);
        if (NUMERIC_FIELDS.contains(field) && !SourceExpressions.isColumn(source, present)) {
          Column inputsGiven = lit(true);
          for (List<String> ref : SourceExpressions.references(source)) {
            Column c = col("`" + String.join("`.`", ref) + "`").cast(DataTypes.StringType);
            inputsGiven = inputsGiven.and(c.isNotNull()).and(trim(c).notEqual(""));
          }
          failed = when(value.isNull().and(inputsGiven), lit(field + " = " + source + " has no value for this record"))
              .otherwise(failed);
        }
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
    cols.add(failed.as(EXPRESSION_FAILED));
    Column excluded = lit(null).cast(DataTypes.StringType);
    List<Map.Entry<String, String>> rules = new ArrayList<>(mapping.exclude().entrySet());
    java.util.Collections.reverse(rules); // the first rule a record meets names it
    for (Map.Entry<String, String> rule : rules) {
      excluded = when(coalesce(SourceExpressions.column(rule.getValue(), present).cast(DataTypes.BooleanType),
          lit(false)), lit(rule.getKey())).otherwise(excluded);
    }
    cols.add(excluded.as(EXCLUDED));
    for (Map.Entry<String, String> a : mapping.customerColumns().entrySet()) {
      cols.add(nullif(trim(SourceExpressions.column(a.getValue(), present).cast(DataTypes.StringType)), lit(""))
          .as(attributeColumn(a.getKey())));
    }
    Column grain = lit(null).cast(DataTypes.StringType);
    if (!mapping.orderGrain().isEmpty()) {
      grain = to_json(array(mapping.orderGrain().stream()
          .map(g -> SourceExpressions.column(g, present).cast(DataTypes.StringType)).toArray(Column[]::new)));
    }
    cols.add(grain.as(GRAIN));
    return raw.select(cols.toArray(Column[]::new));
  }

  /**
   * A JSON record whose top-level object names a field the mapping reads twice ({@code {"amount":"5",
   * "amount":"500"}}): JSON readers keep one of the two (Spark's the last) and which one the sender meant is not
   * known, so the record is refused as {@code duplicate_field} rather than stored with a guess. A repeated field the
   * mapping does not read is ignored, as every extra field is. Costs a second parse of each JSON line.
   */
  private static Column duplicateField(SourceMapping mapping) {
    if (!"json".equals(mapping.format())) {
      return lit(false);
    }
    java.util.Set<String> read = new java.util.TreeSet<>();
    for (String field : Events.RAW_SCHEMA.fieldNames()) {
      if (!mapping.constants().containsKey(field)) {
        read.addAll(topLevelNames(mapping.sourceColumn(field)));
      }
    }
    mapping.customerColumns().values().forEach(c -> read.addAll(topLevelNames(c)));
    Column keys = filter(json_object_keys(col(Events.RAW_RECORD)), k -> k.isin(read.toArray()));
    return coalesce(size(keys).gt(size(array_distinct(keys))), lit(false));
  }

  /** The top-level fields a mapping's value reads: itself when it is a plain name, else its expression's. */
  private static List<String> topLevelNames(String source) {
    try {
      List<String> out = new ArrayList<>(List.of(source));
      SourceExpressions.references(source).forEach(path -> out.add(path.get(0)));
      return out;
    } catch (IllegalArgumentException e) { // a name Spark does not parse as an expression (it has spaces)
      return List.of(source);
    }
  }

  private static final List<String> NUMERIC_FIELDS = List.of(Events.AMOUNT, Events.QUANTITY, Events.MRR);

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
    Column ts = timestamp(trim(rawTime), mapping);
    Column reference = runDate == null ? col(FOLDER_DATE) : coalesce(col(FOLDER_DATE), lit(java.sql.Date.valueOf(runDate)));
    Column customer = IdRules.id(col(Events.CUSTOMER_ID));
    Column eventType = lower(trim(col(Events.EVENT_TYPE)));

    Dataset<Row> typed = canonical
        .withColumn(Events.CUSTOMER_ID, customer)
        .withColumn(Events.EVENT_ID, IdRules.id(col(Events.EVENT_ID)))
        .withColumn(Events.USER_ID, IdRules.id(col(Events.USER_ID)))
        .withColumn(Events.EVENT_TYPE, eventType)
        .withColumn(TS, ts)
        .withColumn(AMOUNT_D, trim(col(Events.AMOUNT)).try_cast(DataTypes.DoubleType))
        .withColumn(QUANTITY_I, trim(col(Events.QUANTITY)).try_cast(DataTypes.IntegerType))
        .withColumn(MRR_D, trim(col(Events.MRR)).try_cast(DataTypes.DoubleType));

    Column badNumber = badNumber(Events.AMOUNT, AMOUNT_D).or(badNumber(Events.QUANTITY, QUANTITY_I))
        .or(badNumber(Events.MRR, MRR_D));
    Column nonFinite = nonFinite(AMOUNT_D).or(nonFinite(MRR_D));
    Column outOfRange = abs(col(AMOUNT_D)).gt(Events.MAX_MONEY).or(abs(col(QUANTITY_I)).gt(Events.MAX_QUANTITY))
        .or(abs(col(MRR_D)).gt(Events.MAX_MONEY));
    Column oversized = null;
    for (String field : TEXT_FIELDS) {
      Column tooLong = coalesce(length(col(field)).gt(MAX_FIELD_CHARS), lit(false));
      oversized = oversized == null ? tooLong : oversized.or(tooLong);
    }
    Column early = to_date(col(TS)).lt(lit(java.sql.Date.valueOf(mapping.earliestEventDate())));
    // A refund gives money back: its amount and quantity may be negative (an invoice's cancellation lines are).
    Column negative = col(AMOUNT_D).lt(0).or(col(QUANTITY_I).lt(0))
        .and(col(Events.EVENT_TYPE).notEqual(EventType.REFUND.wireName())).or(col(MRR_D).lt(0));
    Column future = to_date(col(TS)).gt(date_add(reference, 1));

    Column reason = when(col(MALFORMED), lit(RejectReason.MALFORMED.code()))
        .when(coalesce(col(Events.RAW_RECORD).contains(REPLACEMENT_CHARACTER), lit(false)),
            lit(RejectReason.INVALID_UTF8.code()))
        .when(col(EXCLUDED).isNotNull(), col(EXCLUDED))
        .when(duplicateField(mapping), lit(RejectReason.DUPLICATE_FIELD.code()))
        .when(col(Events.CUSTOMER_ID).isNull().or(col(Events.CUSTOMER_ID).equalTo("")),
            lit(RejectReason.MISSING_CUSTOMER_ID.code()))
        .when(IdRules.structured(col(Events.CUSTOMER_ID))
            .or(IdRules.numericJsonId(mapping)).or(IdRules.hiddenCharacter(col(Events.CUSTOMER_ID))),
            lit(RejectReason.BAD_CUSTOMER_ID.code()))
        .when(coalesce(IdRules.structured(col(Events.EVENT_ID)).or(IdRules.structured(col(Events.USER_ID)))
            .or(IdRules.hiddenCharacter(col(Events.EVENT_ID))).or(IdRules.hiddenCharacter(col(Events.USER_ID))),
            lit(false)),
            lit(RejectReason.BAD_EVENT_ID.code()))
        .when(oversized, lit(RejectReason.OVERSIZED_FIELD.code()))
        .when(col(TS).isNull(), lit(RejectReason.BAD_TIMESTAMP.code()))
        .when(coalesce(future, lit(false)), lit(RejectReason.FUTURE_TIMESTAMP.code()))
        .when(coalesce(early, lit(false)), lit(RejectReason.EARLY_TIMESTAMP.code()))
        .when(col(Events.EVENT_TYPE).isNull().or(not(col(Events.EVENT_TYPE).isin(EventType.wireNames().toArray()))),
            lit(RejectReason.UNKNOWN_EVENT_TYPE.code()))
        .when(coalesce(badNumber, lit(false)).or(col(EXPRESSION_FAILED).isNotNull()),
            lit(RejectReason.BAD_NUMBER.code()))
        .when(coalesce(nonFinite, lit(false)), lit(RejectReason.NON_FINITE_NUMBER.code()))
        .when(coalesce(outOfRange, lit(false)), lit(RejectReason.OUT_OF_RANGE.code()))
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
        .when(why.equalTo(RejectReason.DUPLICATE_FIELD.code()), lit("a field name appears twice in the record: "
            + "which value is meant is not known"))
        .when(why.equalTo(RejectReason.OUT_OF_RANGE.code()), concat_ws(" ", lit("amount"),
            coalesce(col(Events.AMOUNT), lit("-")), lit("quantity"), coalesce(col(Events.QUANTITY), lit("-")),
            lit("mrr"), coalesce(col(Events.MRR), lit("-")), lit(": |amount| and mrr at most 1e12, |quantity| at most "
                + Events.MAX_QUANTITY)))
        .when(why.equalTo(RejectReason.BAD_NUMBER.code()).and(col(EXPRESSION_FAILED).isNotNull()),
            col(EXPRESSION_FAILED))
        .when(col(EXCLUDED).isNotNull().and(why.equalTo(col(EXCLUDED))), excludedDetail(mapping))
        .when(why.isNotNull(), reasonDescription(why));

    // Reason first, then detail from the reason column: nesting the reason expression in detail multiplied
    // the plan's size and its planning time.
    return typed
        .withColumn(Events.REASON, reason)
        .withColumn(Events.DETAIL, detail)
        .withColumn(Events.EVENT_KEY, mapping.orderGrain().isEmpty() ? EventKeys.eventKey(mapping.identity())
            : concat(lit("order:"), sha2(to_json(array(col(Events.SOURCE_FILE), col(Events.CUSTOMER_ID),
                col(Events.EVENT_TYPE), col(GRAIN))), 256)));
  }

  /**
   * A raw time as a timestamp: the mapping's pattern (default ISO-8601) or epoch seconds or milliseconds; a time
   * written without an offset is in the mapping's timezone (default UTC).
   */
  private static Column timestamp(Column raw, SourceMapping mapping) {
    String format = mapping.timestampFormat();
    if (SourceMapping.EPOCH_SECONDS.equals(format)) {
      return timestamp_seconds(raw.try_cast(DataTypes.createDecimalType(20, 6)));
    }
    if (SourceMapping.EPOCH_MILLIS.equals(format)) {
      return timestamp_millis(raw.try_cast(DataTypes.LongType));
    }
    Column ts = format == null ? try_to_timestamp(raw) : try_to_timestamp(raw, lit(format));
    if (mapping.timezone() == null) {
      return ts;
    }
    Column hasOffset = raw.rlike("\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?\\s*([zZ]|(UTC|GMT)?[+-]\\d{2}(:?\\d{2})?)$");
    return when(hasOffset, ts).otherwise(to_utc_timestamp(ts, mapping.timezone()));
  }

  private static Column excludedDetail(SourceMapping mapping) {
    Column out = lit(null).cast(DataTypes.StringType);
    for (Map.Entry<String, String> rule : mapping.exclude().entrySet()) {
      out = when(col(EXCLUDED).equalTo(rule.getKey()), lit("not a customer event: the mapping excludes rows where "
          + rule.getValue())).otherwise(out);
    }
    return out;
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

  /** The day a validated record's event falls on (null when its time does not parse). */
  public static Column eventDay() {
    return to_date(col(TS));
  }

}
