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
    return EventKeys.markDuplicates(validated, EventKeys.repeatedKeys(validated), stored);
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
        rec(12, false, "e12", "c2", "2026-03-07T09:00:00Z", "LOGIN", "12.5"),
        // #32: amounts no later sum can carry; the largest accepted one, and a refund at the bound
        rec(13, false, "e13", "c2", "2026-03-10T09:00:00Z", "payment", "1e33"),
        rec(14, false, "e14", "c2", "2026-03-10T09:00:00Z", "refund", "-1e308"),
        rec(15, false, "e15", "c2", "2026-03-10T09:00:00Z", "payment", "1e12"),
        rec(16, false, "e16", "c2", "2026-03-10T09:00:00Z", "refund", "-1e12"),
        rec(17, false, "e17", "c2", "2026-03-10T09:00:00Z", "payment", "NaN"));
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
        RowFactory.create(12L, null),
        RowFactory.create(13L, "out_of_range"),
        RowFactory.create(14L, "out_of_range"),
        RowFactory.create(15L, null),
        RowFactory.create(16L, null),
        RowFactory.create(17L, "non_finite_number")), schema, actual);
  }

  @Test
  void acceptedEventsAreTypedAndDatedByTheirOwnTimestampNotTheirFolder() {
    Dataset<Row> checked = check(List.of(rec(1, false, "e1", " c9 ", "2026-03-07T23:30:00Z", "Payment", "12.5")),
        List.of());
    Row e = EventRows.acceptedEvents(checked, "run-1").first();
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
    long keptByPosition = EventKeys.markDuplicates(byPos, EventKeys.repeatedKeys(byPos), none)
        .where(col(Events.REASON).isNull()).count();
    long keptByContent = EventKeys.markDuplicates(byText, EventKeys.repeatedKeys(byText), none)
        .where(col(Events.REASON).isNull()).count();
    assertEquals(2, keptByPosition);
    assertEquals(1, keptByContent);
  }

  /**
   * #32: an id is the same whatever kind of space surrounds it (a spreadsheet's non-breaking space), one holding a
   * control or invisible character is refused, and a JSON record naming a field it reads twice is refused as
   * ambiguous (a repeated field it does not read is ignored).
   */
  @Test
  void idsAreOneWhateverTheirSpacesAndHiddenCharactersOrRepeatedFieldsAreRefused() {
    String t = "2026-03-10T08:00:00Z";
    List<Row> rows = List.of(
        rec(1, false, "e1", "c1\u00A0", t, "login", null),
        rec(2, false, "e2", "\u3000c1", t, "login", null),
        rec(3, false, "e3", "c\u00A01", t, "login", null),
        rec(4, false, "e4", "c\u00001", t, "login", null),
        rec(5, false, "e5\u200B", "c1", t, "login", null),
        rec(6, false, "{\"a\":1}", "c1", t, "login", null),
        rec(7, false, "e1\u00A0", "c1", t, "login", null),
        RowFactory.create("f.jsonl", 8L, "{\"event_id\":\"e8\",\"customer_id\":\"c1\",\"amount\":\"5\","
            + "\"amount\":\"500\"}", false, DAY, "e8", "c1", t, "payment", "500"),
        RowFactory.create("f.jsonl", 9L, "{\"event_id\":\"e9\",\"customer_id\":\"c1\",\"nested\":{\"a\":1,\"b\":2},"
            + "\"browser\":\"a\",\"browser\":\"b\"}",
            false, DAY, "e9", "c1", t, "login", null),
        // The name written with an escape the second time; then a name once a field, once a value.
        RowFactory.create("f.jsonl", 10L, "{\"event_id\":\"e10\",\"customer_id\":\"c1\",\"amount\":\"5\","
            + "\"am\\u006funt\":\"500\"}", false, DAY, "e10", "c1", t, "payment", "500"),
        RowFactory.create("f.jsonl", 11L, "{\"event_id\":\"e11\",\"customer_id\":\"c1\",\"note\":\"amount\","
            + "\"amount\":\"5\"}", false, DAY, "e11", "c1", t, "payment", "5"));
    Dataset<Row> checked = check(rows, List.of());
    List<String> got = checked.orderBy(Events.SOURCE_POSITION).collectAsList().stream()
        .map(r -> r.isNullAt(r.fieldIndex(Events.REASON)) ? r.<String>getAs(Events.CUSTOMER_ID)
            : r.<String>getAs(Events.REASON)).toList();
    assertEquals(List.of("c1", "c1", "c 1", "bad_customer_id", "bad_event_id", "bad_event_id", "duplicate",
        "duplicate_field", "c1", "duplicate_field", "c1"), got);
  }

  /** #32: a customers row says what is wrong with it; an mrr no stage can carry is refused, the largest one kept. */
  @Test
  void aCustomersRowIsRefusedWithWhatIsWrongWithIt() {
    StructType file = new StructType().add(Events.SOURCE_FILE, DataTypes.StringType)
        .add(Events.SOURCE_POSITION, DataTypes.LongType).add(Events.RAW_RECORD, DataTypes.StringType);
    for (String c : Customers.FILE_SCHEMA.fieldNames()) {
      file = file.add(c, DataTypes.StringType);
    }
    List<Row> rows = new ArrayList<>();
    String[][] cases = {{"c1", "1e12", "2026-01-05"}, {"c2", "NaN", "2026-01-05"}, {"c3", "1e40", "2026-01-05"},
        {"c4", "abc", "2026-01-05"}, {"c5", "-1", "2026-01-05"}, {"", "10", "2026-01-05"}, {"c7", "10", "soon"},
        {"c8", null, "2026-01-05"}, {"\u00A0c9 ", "10", "2026-01-05"}, {"c\u000010", "10", "2026-01-05"}};
    for (int i = 0; i < cases.length; i++) {
      rows.add(RowFactory.create("c.csv", (long) i + 2, "raw", cases[i][0], "smb", "retail", "pro", cases[i][1],
          cases[i][2], null));
    }
    List<Row> checked = Customers.validateFile(spark.createDataFrame(rows, file))
        .orderBy(Events.SOURCE_POSITION).select(Events.REASON, Events.DETAIL).collectAsList();
    List<String> details = checked.stream().map(r -> r.isNullAt(1) ? "ok" : r.getString(1)).toList();
    assertEquals(List.of("ok", "mrr 'NaN' is not finite", "mrr '1e40' is above 1e12", "mrr 'abc' is not a number",
        "mrr '-1' is negative", "customer_id is missing", "signup_date 'soon' is not a date (YYYY-MM-DD)", "ok", "ok",
        "customer_id holds a control or invisible character"), details);
    assertEquals("c9", Customers.validateFile(spark.createDataFrame(rows, file)).where(col(Events.SOURCE_POSITION)
        .equalTo(10L)).first().getAs(Customers.CUSTOMER_ID));
    assertEquals(7, checked.stream().filter(r -> "bad_customer_record".equals(r.getString(0))).count());
  }
}
