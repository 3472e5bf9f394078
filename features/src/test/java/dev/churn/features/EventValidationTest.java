package dev.churn.features;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.churn.testing.SparkSuite;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class EventValidationTest extends SparkSuite {
  private static final StructType RECORD = new StructType()
      .add(Events.SOURCE_FILE, DataTypes.StringType)
      .add(Events.SOURCE_POSITION, DataTypes.LongType)
      .add(Events.RAW_RECORD, DataTypes.StringType)
      .add(EventValidation.MALFORMED, DataTypes.BooleanType)
      .add(EventValidation.FOLDER_DATE, DataTypes.DateType)
      .add(Events.EVENT_ID, DataTypes.StringType)
      .add(Events.CUSTOMER_ID, DataTypes.StringType)
      .add(Events.EVENT_TIME, DataTypes.StringType)
      .add(Events.EVENT_TYPE, DataTypes.StringType)
      .add(Events.AMOUNT, DataTypes.StringType);

  private static final Date DAY = Date.valueOf("2026-03-10");

  private static Row rec(long pos, boolean malformed, String id, String customer, String time, String type,
      String amount) {
    return RowFactory.create("f.jsonl", pos, "raw" + pos, malformed, DAY, id, customer, time, type, amount);
  }

  private static Dataset<Row> check(List<Row> rows, List<String> storedKeys) {
    Dataset<Row> raw = spark.createDataFrame(rows, RECORD);
    Dataset<Row> validated = EventValidation.validate(EventValidation.toCanonical(raw, SourceMapping.canonical()),
        SourceMapping.canonical(), null);
    List<Row> keys = new ArrayList<>();
    storedKeys.forEach(k -> keys.add(RowFactory.create(k)));
    Dataset<Row> stored = spark.createDataFrame(keys, new StructType().add(Events.EVENT_KEY, DataTypes.StringType));
    return EventValidation.markDuplicates(validated, EventValidation.repeatedKeys(validated), stored);
  }

  @Test
  void everyReasonCodeIsGivenToTheRecordThatEarnsIt() {
    List<Row> rows = List.of(
        rec(1, false, "e1", "c1", "2026-03-10T08:00:00Z", "login", null),
        rec(2, true, null, null, null, null, null),
        rec(3, false, "e3", "  ", "2026-03-10T08:00:00Z", "login", null),
        rec(4, false, "e4", null, "2026-03-10T08:00:00Z", "login", null),
        rec(5, false, "e5", "c1", "yesterday", "login", null),
        rec(6, false, "e6", "c1", "2099-03-10T08:00:00Z", "login", null),
        rec(7, false, "e7", "c1", "2026-03-10T08:00:00Z", "teleport", null),
        rec(8, false, "e8", "c1", "2026-03-10T08:00:00Z", "payment", "-5.0"),
        rec(9, false, "e9", "c1", "2026-03-10T08:00:00Z", "payment", "ten"),
        rec(10, false, "e1", "c1", "2026-03-10T08:00:00Z", "login", null),
        rec(11, false, "stored", "c2", "2026-03-10T09:00:00Z", "login", null),
        // late, but valid: an event of an earlier day in this day's folder
        rec(12, false, "e12", "c2", "2026-03-07T09:00:00Z", "LOGIN", "12.5"));
    Dataset<Row> actual = check(rows, List.of("stored"))
        .select(col(Events.SOURCE_POSITION), col(Events.REASON));
    StructType schema = new StructType().add(Events.SOURCE_POSITION, DataTypes.LongType)
        .add(Events.REASON, DataTypes.StringType);
    assertRows(List.of(
        RowFactory.create(1L, null),
        RowFactory.create(2L, "malformed"),
        RowFactory.create(3L, "missing_customer_id"),
        RowFactory.create(4L, "missing_customer_id"),
        RowFactory.create(5L, "bad_timestamp"),
        RowFactory.create(6L, "future_timestamp"),
        RowFactory.create(7L, "unknown_event_type"),
        RowFactory.create(8L, "negative_amount"),
        RowFactory.create(9L, "bad_number"),
        RowFactory.create(10L, "duplicate"),
        RowFactory.create(11L, "duplicate"),
        RowFactory.create(12L, null)), schema, actual);
  }

  @Test
  void acceptedEventsAreTypedAndDatedByTheirOwnTimestampNotTheirFolder() {
    Dataset<Row> checked = check(List.of(rec(1, false, "e1", " c9 ", "2026-03-07T23:30:00Z", "Payment", "12.5")),
        List.of());
    Row e = EventValidation.acceptedEvents(checked, "run-1").first();
    assertEquals("c9", e.getAs(Events.CUSTOMER_ID));
    assertEquals("payment", e.getAs(Events.EVENT_TYPE));
    assertEquals(12.5, (Double) e.getAs(Events.AMOUNT));
    assertEquals(LocalDate.parse("2026-03-07"), ((Date) e.getAs(Events.EVENT_DATE)).toLocalDate());
    assertEquals("e1", e.getAs(Events.EVENT_KEY));
  }

  @Test
  void withoutEventIdsIdenticalRecordsAtDifferentPositionsAreSeparateEvents() {
    SourceMapping byPosition = SourceMapping.parse("{\"identity\": \"position\"}");
    SourceMapping byContent = SourceMapping.parse("{\"identity\": \"content\"}");
    List<Row> twins = List.of(
        RowFactory.create("f.txt", 2L, "same line", false, null, null, "c1", "2026-03-10T08:00:00Z", "payment", "1"),
        RowFactory.create("f.txt", 3L, "same line", false, null, null, "c1", "2026-03-10T08:00:00Z", "payment", "1"));
    Dataset<Row> raw = spark.createDataFrame(twins, RECORD);
    Dataset<Row> none = spark.createDataFrame(List.of(), new StructType().add(Events.EVENT_KEY, DataTypes.StringType));
    Dataset<Row> byPos = EventValidation.validate(EventValidation.toCanonical(raw, byPosition), byPosition, null);
    Dataset<Row> byText = EventValidation.validate(EventValidation.toCanonical(raw, byContent), byContent, null);
    long keptByPosition = EventValidation.markDuplicates(byPos, EventValidation.repeatedKeys(byPos), none)
        .where(col(Events.REASON).isNull()).count();
    long keptByContent = EventValidation.markDuplicates(byText, EventValidation.repeatedKeys(byText), none)
        .where(col(Events.REASON).isNull()).count();
    assertEquals(2, keptByPosition);
    assertEquals(1, keptByContent);
  }
}
