package dev.churn.generator;

import static org.apache.spark.sql.functions.*;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * Foreign log shapes written from a generated canonical log, each with its ground truth under {@code truth/}, so
 * the shipped mappings ({@code mappings/invoices.json}, {@code mappings/app-events.json}) are proven on data whose
 * answer is known:
 *
 * <ul>
 *   <li>{@link Shape#INVOICES}: a retailer's invoice lines, one CSV per day ({@code events/event_date=D/}): each
 *       payment becomes an invoice of 1-4 lines with a quantity and a unit price, a customer id written as a float
 *       ("10007.0"), a country per customer, local London times; some invoices are cancelled a few days later by a
 *       "C" invoice of negative lines; walk-in sales have no customer id; descriptions hold commas, quotes and now
 *       and then a line break. Truth: {@code truth/orders} (customer, invoice, UTC time, amount, quantity, whether a
 *       cancellation) and {@code truth/customers} (customer, country).
 *   <li>{@link Shape#APP_EVENTS}: an app's page events as JSON lines, the event in a {@code page} column, times in
 *       epoch milliseconds, a free/paid {@code level}, the customer's region in a nested {@code location} object,
 *       logged-out page views without a user, and the "Cancellation Confirmation" page when a customer leaves.
 *       Truth: {@code truth/churn} (customer, churn date).
 * </ul>
 */
public final class LogShapes {
  private LogShapes() {}

  public enum Shape {
    CANONICAL("canonical"), INVOICES("invoices"), APP_EVENTS("app-events");

    private final String word;

    Shape(String word) {
      this.word = word;
    }

    @Override
    public String toString() {
      return word;
    }

    /** The shape a word names (canonical, invoices, app-events). */
    public static Shape of(String word) {
      for (Shape s : values()) {
        if (s.word.equalsIgnoreCase(word)) {
          return s;
        }
      }
      throw new IllegalArgumentException("--shape must be canonical, invoices or app-events, not '" + word + "'");
    }
  }

  /** The folder under {@code out} that keeps the canonical log a shape was written from. */
  public static final String CANONICAL_FOLDER = "canonical";

  static final String[] COUNTRIES = {"United Kingdom", "Germany", "France", "Netherlands"};
  static final String[] REGIONS = {"north", "south", "east", "west"};
  private static final String[] PRODUCTS = {"WHITE HANGING HEART T-LIGHT HOLDER", "SET 2 TEA TOWELS, I LOVE LONDON",
      "REGENCY CAKESTAND 3 TIER", "PARTY BUNTING", "\"VINTAGE\" DOILY, 12 PACK", "JUMBO BAG RED RETROSPOT",
      "LUNCH BAG\nSPACEBOY DESIGN", "PACK OF 72 RETROSPOT CAKE CASES"};

  /** Writes {@code shape} under {@code out} from the canonical log in {@code canonical} (events and customers). */
  public static void write(SparkSession spark, String canonical, String out, Shape shape) {
    Dataset<Row> events = spark.read().json(canonical + "/events");
    Dataset<Row> customers = spark.read().option("header", true).csv(canonical + "/customers");
    switch (shape) {
      case INVOICES -> invoices(events, customers, out);
      case APP_EVENTS -> appEvents(events, customers, out);
      default -> throw new IllegalArgumentException("nothing to write for the canonical shape");
    }
    // Stable file names (part-00000.csv in each day's folder): the same arguments give the same files.
    GenerateJob.renameParts(spark, out + "/events", shape == Shape.INVOICES ? ".csv" : ".jsonl");
  }

  /** A deterministic number in [0, n) from the given columns and a salt. */
  private static Column pick(int n, String salt, Column... by) {
    Column[] cols = new Column[by.length + 1];
    System.arraycopy(by, 0, cols, 0, by.length);
    cols[by.length] = lit(salt);
    return pmod(xxhash64(cols), lit(n)).cast("int");
  }

  private static Column customerNumber() {
    return regexp_extract(col("customer_id"), "(\\d+)$", 1).cast("long").plus(10000);
  }

  private static void invoices(Dataset<Row> events, Dataset<Row> customers, String out) {
    Column time = date_trunc("minute", to_timestamp(col("event_time")));
    Dataset<Row> payments = events.where(col("event_type").equalTo("payment")).select(
        col("customer_id"), time.as("ts"), col("event_id"));
    Dataset<Row> country = customers.select(col("customer_id"),
        element_at(array(java.util.Arrays.stream(COUNTRIES).map(org.apache.spark.sql.functions::lit).toArray(Column[]::new)),
            pick(COUNTRIES.length, "country", col("customer_id")).plus(1)).as("country"));
    Column invoiceNo = concat(lit("5"), lpad(pick(100_000_000, "invoice", col("event_id")).cast("string"), 8, "0"));
    Dataset<Row> orders = payments.join(country, "customer_id").withColumn("invoice", invoiceNo)
        .withColumn("cancelled", pick(20, "cancel", col("event_id")).equalTo(0));
    Column lineNo = explode(sequence(lit(1), pick(4, "lines", col("event_id")).plus(1)));
    Dataset<Row> lines = orders.select(col("*"), lineNo.as("line"))
        .withColumn("quantity", pick(12, "qty", col("event_id"), col("line")).plus(1))
        .withColumn("unit_price", pick(2000, "price", col("event_id"), col("line")).plus(50).divide(100.0))
        .withColumn("stock", concat(lit("8"), lpad(pick(10000, "stock", col("event_id"), col("line"))
            .cast("string"), 4, "0")))
        .withColumn("description", element_at(array(java.util.Arrays.stream(PRODUCTS).map(org.apache.spark.sql.functions::lit)
            .toArray(Column[]::new)), pick(PRODUCTS.length, "product", col("event_id"), col("line")).plus(1)));
    // A cancellation: a "C" invoice two days later taking back the first line.
    Dataset<Row> cancellations = lines.where(col("cancelled").and(col("line").equalTo(1)))
        .withColumn("invoice", concat(lit("C"), col("invoice")))
        .withColumn("ts", col("ts").plus(expr("INTERVAL 2 DAYS")))
        .withColumn("quantity", negate(col("quantity")));
    Dataset<Row> all = lines.unionByName(cancellations);
    // Walk-in sales: invoices without a customer.
    Dataset<Row> walkIns = lines.where(pick(10, "walk-in", col("event_id")).equalTo(0).and(col("line").equalTo(1)))
        .withColumn("invoice", concat(lit("6"), substring(col("invoice"), 2, 8)))
        .withColumn("customer_id", lit(null).cast("string"))
        .withColumn("country", lit(COUNTRIES[0]));
    Column local = from_utc_timestamp(col("ts"), "Europe/London");
    Dataset<Row> rows = all.unionByName(walkIns).select(
        col("invoice").as("InvoiceNo"), col("stock").as("StockCode"), col("description").as("Description"),
        col("quantity").cast("string").as("Quantity"),
        date_format(local, "yyyy-MM-dd HH:mm").as("InvoiceDate"),
        format_number(col("unit_price"), 2).as("UnitPrice"),
        when(col("customer_id").isNull(), lit("")).otherwise(concat(customerNumber().cast("string"), lit(".0")))
            .as("CustomerID"),
        col("country").as("Country"), to_date(local).as("event_date"));
    rows.repartition(col("event_date")).sortWithinPartitions("InvoiceNo", "StockCode").write()
        .mode(SaveMode.Overwrite).partitionBy("event_date").option("header", true).option("escape", "\"")
        .csv(out + "/events");
    all.groupBy(customerNumber().cast("string").as("customer_id"), col("invoice"), col("ts"))
        .agg(sum(col("quantity").multiply(col("unit_price"))).as("amount"), sum(col("quantity")).as("quantity"))
        .withColumn("cancellation", col("invoice").startsWith("C"))
        .coalesce(1).write().mode(SaveMode.Overwrite).parquet(out + "/truth/orders");
    country.select(customerNumber().cast("string").as("customer_id"), col("country"))
        .coalesce(1).write().mode(SaveMode.Overwrite).parquet(out + "/truth/customers");
  }

  private static void appEvents(Dataset<Row> events, Dataset<Row> customers, String out) {
    Column page = when(col("event_type").equalTo("login"), "Login")
        .when(col("event_type").equalTo("session"), "Home")
        .when(col("event_type").equalTo("feature_use"), "NextSong")
        .when(col("event_type").equalTo("support_ticket"), "Help")
        .when(col("event_type").equalTo("plan_upgrade"), "Submit Upgrade")
        .when(col("event_type").equalTo("plan_downgrade"), "Submit Downgrade")
        .when(col("event_type").equalTo("cancellation"), "Cancellation Confirmation");
    Dataset<Row> who = customers.select(col("customer_id"),
        when(col("plan").isin("free"), "free").otherwise("paid").as("level"),
        element_at(array(java.util.Arrays.stream(REGIONS).map(org.apache.spark.sql.functions::lit).toArray(Column[]::new)),
            pick(REGIONS.length, "region", col("customer_id")).plus(1)).as("region"));
    Column ts = to_timestamp(col("event_time"));
    Dataset<Row> pages = events.withColumn("page", page).where(col("page").isNotNull()).join(who, "customer_id")
        .select(col("customer_id").as("userId"), (unix_millis(ts)).as("ts"), col("page"), col("level"),
            lit("Logged In").as("auth"), pick(100_000, "session", col("customer_id"), to_date(ts)).as("sessionId"),
            struct(col("region"), lit("Springfield").as("city")).as("location"), to_date(ts).as("event_date"));
    Dataset<Row> loggedOut = pages.where(pick(20, "logged-out", col("userId"), col("ts")).equalTo(0))
        .withColumn("userId", lit("")).withColumn("auth", lit("Logged Out")).withColumn("page", lit("Home"));
    pages.unionByName(loggedOut).repartition(col("event_date")).sortWithinPartitions("ts").write()
        .mode(SaveMode.Overwrite).partitionBy("event_date").json(out + "/events");
    events.where(col("event_type").equalTo("cancellation")).groupBy(col("customer_id"))
        .agg(min(to_date(to_timestamp(col("event_time")))).as("churn_date"))
        .coalesce(1).write().mode(SaveMode.Overwrite).parquet(out + "/truth/churn");
    who.select(col("customer_id"), col("region")).coalesce(1).write().mode(SaveMode.Overwrite)
        .parquet(out + "/truth/customers");
  }
}
