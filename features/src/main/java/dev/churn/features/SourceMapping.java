package dev.churn.features;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How a raw activity log maps onto the canonical events, and how churn is recognised in it.
 *
 * <p>A mapping file is JSON:
 *
 * <pre>{@code
 * {
 *   "name": "cdnow",
 *   "format": "csv",                       // json (default), csv or parquet
 *   "delimiter": "whitespace",             // csv only: a character, or "whitespace" for runs of blanks
 *   "header": true,                        // csv only: first line of each file names the columns
 *   "columns": {"customer_id": "customer_id", "event_time": "date", "amount": "dollar_value"},
 *                                          // each value a source column or a Spark SQL expression over them
 *                                          // ("Quantity * UnitPrice"; backticks for odd names; a.b for nested JSON)
 *   "timestamp_format": "yyyyMMdd",        // Spark datetime pattern, epoch_seconds or epoch_millis; default ISO-8601
 *   "timezone": "Europe/London",           // the zone of times written without an offset (default UTC)
 *   "constants": {"event_type": "purchase"},
 *   "event_types": {"purchase": "payment"},
 *   "identity": "position",                // event_id (default) | position | content
 *   "earliest_event_date": "1990-01-01",   // events before it are rejected as early_timestamp (default 1971-01-01)
 *   "customer_constants": {"segment": "consumer", "industry": "retail"},
 *   "customer_columns": {"segment": "Country"},  // attributes from the records: the customer's first record's
 *                                          // value (known from its first day); constants are the fallback
 *   "exclude": {"no_customer": "CustomerID IS NULL"},  // rows that are not customer events: quarantined under
 *                                          // that reason, not counted against --max-bad-fraction
 *   "order_grain": ["InvoiceNo"],          // lines with equal values (and customer, type, file) are one event:
 *                                          // amount and quantity summed
 *   "churn": {"inactivity_days": 90}       // or {"cancellation_event_types": ["cancellation"]}; under
 *                                          // inactivity, "population": "ever_active" scores lapsed customers too
 * }
 * }</pre>
 *
 * Identity says what makes two records the same event: an {@code event_id} column; the record's source
 * file and line ({@code position}: identical lines stay separate events, re-reading a file adds nothing);
 * or the record's whole content ({@code content}: identical records are duplicates).
 */
public final class SourceMapping implements Serializable {
  private static final long serialVersionUID = 1L;

  public enum Identity { EVENT_ID, POSITION, CONTENT }

  public static final String DEFAULT_NAME = "canonical";
  private static final Set<String> KNOWN_KEYS = Set.of("name", "format", "delimiter", "header", "columns",
      "timestamp_format", "constants", "event_types", "identity", "customer_constants", "churn",
      "earliest_event_date", "customer_columns", "exclude", "order_grain", "timezone");
  /** The customer attributes {@code customer_columns} and {@code customer_constants} may set. */
  public static final List<String> CUSTOMER_ATTRIBUTES = List.of(Customers.SEGMENT, Customers.INDUSTRY,
      Customers.PLAN, Customers.MRR, Customers.SIGNUP_DATE);
  public static final String EPOCH_SECONDS = "epoch_seconds";
  public static final String EPOCH_MILLIS = "epoch_millis";
  /** Events dated before this are implausible unless a mapping says otherwise: it catches epoch-zero times. */
  public static final LocalDate DEFAULT_EARLIEST_EVENT_DATE = LocalDate.of(1971, 1, 1);

  private final String name;
  private final String format;
  private final String delimiter;
  private final boolean header;
  private final Map<String, String> columns;
  private final String timestampFormat;
  private final Map<String, String> constants;
  private final Map<String, String> eventTypes;
  private final Identity identity;
  private final Map<String, String> customerConstants;
  private final ChurnDefinition churn;
  private final LocalDate earliestEventDate;
  private final Map<String, String> customerColumns;
  private final Map<String, String> exclude;
  private final List<String> orderGrain;
  private final String timezone;

  private SourceMapping(String name, String format, String delimiter, boolean header, Map<String, String> columns,
      String timestampFormat, Map<String, String> constants, Map<String, String> eventTypes, Identity identity,
      Map<String, String> customerConstants, ChurnDefinition churn, LocalDate earliestEventDate,
      Map<String, String> customerColumns, Map<String, String> exclude, List<String> orderGrain, String timezone) {
    this.name = name;
    this.format = format;
    this.delimiter = delimiter;
    this.header = header;
    this.columns = Collections.unmodifiableMap(columns);
    this.timestampFormat = timestampFormat;
    this.constants = Collections.unmodifiableMap(constants);
    this.eventTypes = Collections.unmodifiableMap(eventTypes);
    this.identity = identity;
    this.customerConstants = Collections.unmodifiableMap(customerConstants);
    this.churn = churn;
    this.earliestEventDate = earliestEventDate;
    this.customerColumns = Collections.unmodifiableMap(customerColumns);
    this.exclude = Collections.unmodifiableMap(exclude);
    this.orderGrain = List.copyOf(orderGrain);
    this.timezone = timezone;
  }

  /** The project's own log: canonical JSON lines with event ids, ISO timestamps, churn by cancellation. */
  public static SourceMapping canonical() {
    return new SourceMapping(DEFAULT_NAME, "json", ",", true, new LinkedHashMap<>(), null, new LinkedHashMap<>(),
        new LinkedHashMap<>(), Identity.EVENT_ID, new LinkedHashMap<>(), ChurnDefinition.cancellation(
            List.of(EventType.CANCELLATION.wireName())), DEFAULT_EARLIEST_EVENT_DATE, Map.of(), Map.of(), List.of(),
        null);
  }

  public static SourceMapping load(Path file) {
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read mapping file " + file + ": " + e.getMessage(), e);
    }
  }

  public static SourceMapping parse(String json) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("mapping is not valid JSON: " + firstLine(e.getMessage()), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("mapping must be a JSON object");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!KNOWN_KEYS.contains(key)) {
        throw new IllegalArgumentException("mapping has unknown key '" + key + "'; known keys: " + KNOWN_KEYS);
      }
    }
    String format = text(root, "format", "json");
    if (!List.of("json", "csv", "parquet").contains(format)) {
      throw new IllegalArgumentException("mapping format must be json, csv or parquet, not '" + format + "'");
    }
    Map<String, String> columns = stringMap(root, "columns");
    for (String canonical : columns.keySet()) {
      if (Events.RAW_SCHEMA.getFieldIndex(canonical).isEmpty()) {
        throw new IllegalArgumentException("mapping column '" + canonical + "' is not a canonical field; use one of "
            + List.of(Events.RAW_SCHEMA.fieldNames()) + (CUSTOMER_ATTRIBUTES.contains(canonical)
                ? ", or give the customer attribute " + canonical + " in customer_columns" : ""));
      }
    }
    Map<String, String> constants = stringMap(root, "constants");
    Map<String, String> eventTypes = stringMap(root, "event_types");
    for (Map.Entry<String, String> e : eventTypes.entrySet()) {
      if (EventType.fromWire(e.getValue()).isEmpty()) {
        throw new IllegalArgumentException("mapping maps event type '" + e.getKey() + "' to '" + e.getValue()
            + "', which is not one of " + EventType.wireNames());
      }
    }
    boolean hasEventId = columns.containsKey(Events.EVENT_ID) || (columns.isEmpty() && "json".equals(format));
    String identityText = text(root, "identity", hasEventId ? "event_id" : "position");
    Identity identity;
    try {
      identity = Identity.valueOf(identityText.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("mapping identity must be event_id, position or content, not '"
          + identityText + "'");
    }
    JsonNode churnNode = root.get("churn");
    ChurnDefinition churn;
    if (churnNode == null) {
      churn = ChurnDefinition.cancellation(List.of(EventType.CANCELLATION.wireName()));
    } else if (churnNode.has("inactivity_days")) {
      int days = churnNode.get("inactivity_days").asInt(-1);
      if (days <= 0) {
        throw new IllegalArgumentException("mapping churn.inactivity_days must be a positive number of days");
      }
      String population = churnNode.path("population").asText("active");
      if (!List.of("active", ChurnDefinition.EVER_ACTIVE).contains(population)) {
        throw new IllegalArgumentException("mapping churn.population must be active or " + ChurnDefinition.EVER_ACTIVE
            + ", not '" + population + "'");
      }
      churn = population.equals("active") ? ChurnDefinition.inactivity(days) : ChurnDefinition.inactivityEverActive(days);
    } else if (churnNode.has("cancellation_event_types")) {
      List<String> types = new ArrayList<>();
      churnNode.get("cancellation_event_types").forEach(n -> types.add(n.asText()));
      churn = ChurnDefinition.cancellation(types);
    } else {
      throw new IllegalArgumentException(
          "mapping churn must give inactivity_days or cancellation_event_types");
    }
    LocalDate earliest;
    try {
      earliest = LocalDate.parse(text(root, "earliest_event_date", DEFAULT_EARLIEST_EVENT_DATE.toString()));
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException("mapping earliest_event_date must be a date (YYYY-MM-DD), not '"
          + text(root, "earliest_event_date", "") + "'");
    }
    Map<String, String> customerConstants = stringMap(root, "customer_constants");
    Map<String, String> customerColumns = stringMap(root, "customer_columns");
    for (String key : concat(customerConstants.keySet(), customerColumns.keySet())) {
      if (!CUSTOMER_ATTRIBUTES.contains(key)) {
        throw new IllegalArgumentException("mapping customer attribute '" + key + "' is not one of "
            + CUSTOMER_ATTRIBUTES);
      }
    }
    Map<String, String> exclude = stringMap(root, "exclude");
    for (String code : exclude.keySet()) {
      if (!code.matches("[a-z][a-z0-9_]*") || java.util.Arrays.stream(RejectReason.values())
          .anyMatch(r -> r.code().equals(code))) {
        throw new IllegalArgumentException("mapping exclude reason '" + code + "' must be lower-case letters, digits "
            + "and underscores, and not one of churn's own reasons");
      }
    }
    List<String> orderGrain = new ArrayList<>();
    JsonNode grain = root.get("order_grain");
    if (grain != null) {
      if (!grain.isArray() || grain.isEmpty()) {
        throw new IllegalArgumentException("mapping order_grain must be a list of columns, e.g. [\"InvoiceNo\"]");
      }
      grain.forEach(n -> orderGrain.add(n.asText()));
    }
    String timezone = text(root, "timezone", null);
    if (timezone != null) {
      try {
        java.time.ZoneId.of(timezone);
      } catch (java.time.DateTimeException e) {
        throw new IllegalArgumentException("mapping timezone '" + timezone + "' is not a time zone (use a region "
            + "such as Europe/London or an offset such as +02:00)");
      }
    }
    return new SourceMapping(text(root, "name", "custom"), format, text(root, "delimiter", ","),
        root.path("header").asBoolean(true), columns, text(root, "timestamp_format", null), constants, eventTypes,
        identity, customerConstants, churn, earliest, customerColumns, exclude, orderGrain, timezone);
  }

  private static List<String> concat(java.util.Collection<String> a, java.util.Collection<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /**
   * Every source expression of the mapping by what it is for ("amount", "customer_columns.segment",
   * "exclude.no_customer", "order_grain[0]"): the values the reader must find columns for.
   */
  public Map<String, String> expressions() {
    Map<String, String> out = new LinkedHashMap<>();
    for (String field : Events.RAW_SCHEMA.fieldNames()) {
      if (!constants.containsKey(field)) {
        out.put(field, sourceColumn(field));
      }
    }
    customerColumns.forEach((k, v) -> out.put("customer_columns." + k, v));
    exclude.forEach((k, v) -> out.put("exclude." + k, v));
    for (int i = 0; i < orderGrain.size(); i++) {
      out.put("order_grain[" + i + "]", orderGrain.get(i));
    }
    return out;
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }

  private static String text(JsonNode root, String key, String dflt) {
    JsonNode n = root.get(key);
    return n == null || n.isNull() ? dflt : n.asText();
  }

  private static Map<String, String> stringMap(JsonNode root, String key) {
    Map<String, String> out = new LinkedHashMap<>();
    JsonNode n = root.get(key);
    if (n != null) {
      if (!n.isObject()) {
        throw new IllegalArgumentException("mapping " + key + " must be an object of names to names");
      }
      n.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
    }
    return out;
  }

  /** The source column that holds a canonical field: the mapped name, or the canonical name itself. */
  public String sourceColumn(String canonical) {
    return columns.getOrDefault(canonical, canonical);
  }

  public String name() { return name; }
  public String format() { return format; }
  public String delimiter() { return delimiter; }
  public boolean header() { return header; }
  public Map<String, String> columns() { return columns; }
  public String timestampFormat() { return timestampFormat; }
  public Map<String, String> constants() { return constants; }
  public Map<String, String> eventTypes() { return eventTypes; }
  public Identity identity() { return identity; }
  public Map<String, String> customerConstants() { return customerConstants; }
  public ChurnDefinition churn() { return churn; }
  public LocalDate earliestEventDate() { return earliestEventDate; }
  public Map<String, String> customerColumns() { return customerColumns; }
  public Map<String, String> exclude() { return exclude; }
  public List<String> orderGrain() { return orderGrain; }
  /** The zone of times written without an offset, or null for UTC. */
  public String timezone() { return timezone; }

  /**
   * The log's own words for churn's event types, "canonical=source" pairs comma-separated (for example
   * "payment=purchase"): the payment type's plain-word source name, where it differs.
   */
  public String vocabulary() {
    Map<String, java.util.List<String>> sources = new java.util.TreeMap<>();
    eventTypes.forEach((source, canonical) -> sources.computeIfAbsent(canonical, k -> new java.util.ArrayList<>())
        .add(source.toLowerCase(java.util.Locale.ROOT)));
    java.util.List<String> pairs = new java.util.ArrayList<>();
    sources.forEach((canonical, words) -> {
      // Payments only: a shop's "purchase" reads right in a reason, an app's page names ("home") do not.
      if (canonical.equals(EventType.PAYMENT.wireName()) && words.size() == 1 && words.get(0).matches("[a-z][a-z ]*")
          && !words.get(0).equals(canonical)) {
        pairs.add(canonical + "=" + words.get(0));
      }
    });
    return String.join(",", pairs);
  }

  /** A copy that reads another format (the CLI's --format overrides the mapping's). */
  public SourceMapping withFormat(String newFormat) {
    return new SourceMapping(name, newFormat, delimiter, header, columns, timestampFormat, constants, eventTypes,
        identity, customerConstants, churn, earliestEventDate, customerColumns, exclude, orderGrain, timezone);
  }
}
