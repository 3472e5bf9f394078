package dev.churn.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.datediff;
import static org.apache.spark.sql.functions.lit;

import dev.churn.features.Customers;
import dev.churn.features.DailyActivity;
import dev.churn.features.EventType;
import dev.churn.features.EventValidation;
import dev.churn.features.FeatureBuilder;
import dev.churn.features.FeatureCatalogue;
import dev.churn.features.RejectReason;
import dev.churn.features.SourceMapping;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.sql.Column;

/**
 * The single-node peer of the benchmark: DuckDB doing the work churn does, on the same files. {@code ingest}
 * validates raw JSON lines with the same reason codes, de-duplicates by event key against the batch and the
 * stored events, and stores events, rejects and customers; {@code snapshot} recomputes the feature snapshot of
 * a date from all stored events (rollup, then the catalogue's own expressions rendered by {@link DuckSql});
 * {@code compare} checks churn's snapshot against the peer's on every customer and column. Each command prints
 * one line, {@code seconds=... key=value ...}, timed in-process (the JVM start is not DuckDB's cost).
 *
 * <pre>
 * ingest   DB EVENTS_GLOB[,GLOB...] [CUSTOMERS_CSV_GLOB]
 * snapshot DB AS_OF OUT.tsv
 * compare  CHURN.tsv PEER.tsv
 * </pre>
 */
public final class Peer {
  private Peer() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      throw new IllegalArgumentException("usage: ingest DB GLOBS [CUSTOMERS] | snapshot DB AS_OF OUT | compare A B");
    }
    long t0 = System.nanoTime();
    String result;
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:" + (args[0].equals("compare") ? "" : args[1]))) {
      try (Statement s = db.createStatement()) {
        s.execute("SET TimeZone = 'UTC'");
        s.execute("SET threads = " + Integer.getInteger("bench.threads", Runtime.getRuntime().availableProcessors()));
      }
      result = switch (args[0]) {
        case "ingest" -> ingest(db, List.of(args[2].split(",")), args.length > 3 ? args[3] : null);
        case "snapshot" -> snapshot(db, LocalDate.parse(args[2]), args[3]);
        case "compare" -> compare(db, args[1], args[2]);
        default -> throw new IllegalArgumentException("unknown command " + args[0]);
      };
    }
    System.out.printf(Locale.ROOT, "seconds=%.3f %s%n", (System.nanoTime() - t0) / 1e9, result);
    if (result.contains("disagree=") && !result.contains("disagree=0 ")) {
      System.exit(1);
    }
  }

  private static String ingest(Connection db, List<String> globs, String customers) throws SQLException {
    String files = globs.stream().map(g -> "'" + g + "'").collect(Collectors.joining(", ", "[", "]"));
    String types = EventType.wireNames().stream().map(t -> "'" + t + "'").collect(Collectors.joining(", "));
    try (Statement s = db.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS events (event_key VARCHAR, customer_id VARCHAR, event_time TIMESTAMP, "
          + "event_type VARCHAR, user_id VARCHAR, amount DOUBLE, quantity INTEGER, severity VARCHAR, plan VARCHAR, "
          + "mrr DOUBLE, event_date DATE)");
      s.execute("CREATE TABLE IF NOT EXISTS quarantine (filename VARCHAR, pos BIGINT, reason VARCHAR)");
      s.execute("CREATE OR REPLACE TEMP TABLE lines AS WITH f AS (SELECT filename, string_split(content, chr(10)) AS ls "
          + "FROM read_text(" + files + ")) SELECT filename, unnest(generate_series(1, len(ls))) AS pos, "
          + "unnest(ls) AS line FROM f");
      s.execute("CREATE OR REPLACE TEMP TABLE typed AS SELECT filename, pos, "
          + "CAST(regexp_extract(filename, 'event_date=(\\d{4}-\\d{2}-\\d{2})', 1) AS DATE) AS folder_date, "
          + "j IS NULL AS malformed, contains(line, chr(65533)) AS invalid_utf8, "
          + "trim(j->>'customer_id') AS customer_id, j->>'event_id' AS event_id, "
          + "CAST(try_cast(trim(j->>'event_time') AS TIMESTAMPTZ) AS TIMESTAMP) AS ts, "
          + "lower(trim(j->>'event_type')) AS event_type, nullif(trim(j->>'user_id'), '') AS user_id, "
          + "j->>'amount' AS amount_raw, j->>'quantity' AS quantity_raw, j->>'mrr' AS mrr_raw, "
          + "try_cast(trim(j->>'amount') AS DOUBLE) AS amount, try_cast(trim(j->>'quantity') AS INTEGER) AS quantity, "
          + "try_cast(trim(j->>'mrr') AS DOUBLE) AS mrr, lower(nullif(trim(j->>'severity'), '')) AS severity, "
          + "nullif(trim(j->>'plan'), '') AS plan "
          + "FROM (SELECT *, CASE WHEN json_valid(line) AND json_type(line) = 'OBJECT' THEN CAST(line AS JSON) END AS j "
          + "FROM lines WHERE trim(line) <> '')");
      s.execute("CREATE OR REPLACE TEMP TABLE checked AS SELECT *, CASE "
          + "WHEN malformed THEN '" + RejectReason.MALFORMED.code() + "' "
          + "WHEN invalid_utf8 THEN '" + RejectReason.INVALID_UTF8.code() + "' "
          + "WHEN customer_id IS NULL OR customer_id = '' THEN '" + RejectReason.MISSING_CUSTOMER_ID.code() + "' "
          + "WHEN starts_with(customer_id, '{') OR starts_with(customer_id, '[') THEN '"
          + RejectReason.BAD_CUSTOMER_ID.code() + "' "
          + "WHEN greatest(length(customer_id), length(event_id), length(user_id), length(event_type), length(plan), "
          + "length(severity)) > " + EventValidation.MAX_FIELD_CHARS + " THEN '" + RejectReason.OVERSIZED_FIELD.code() + "' "
          + "WHEN ts IS NULL THEN '" + RejectReason.BAD_TIMESTAMP.code() + "' "
          + "WHEN CAST(ts AS DATE) > folder_date + 1 THEN '" + RejectReason.FUTURE_TIMESTAMP.code() + "' "
          + "WHEN CAST(ts AS DATE) < DATE '" + SourceMapping.DEFAULT_EARLIEST_EVENT_DATE + "' THEN '"
          + RejectReason.EARLY_TIMESTAMP.code() + "' "
          + "WHEN event_type IS NULL OR event_type NOT IN (" + types + ") THEN '" + RejectReason.UNKNOWN_EVENT_TYPE.code() + "' "
          + "WHEN " + badNumber("amount") + " OR " + badNumber("quantity") + " OR " + badNumber("mrr")
          + " THEN '" + RejectReason.BAD_NUMBER.code() + "' "
          + "WHEN isnan(amount) OR isinf(amount) OR isnan(mrr) OR isinf(mrr) THEN '"
          + RejectReason.NON_FINITE_NUMBER.code() + "' "
          + "WHEN amount < 0 OR quantity < 0 OR mrr < 0 THEN '" + RejectReason.NEGATIVE_AMOUNT.code() + "' END AS reason, "
          + "coalesce(nullif(trim(event_id), ''), 'pos:' || sha256(filename || ':' || pos)) AS event_key FROM typed");
      s.execute("CREATE OR REPLACE TEMP TABLE decided AS SELECT c.*, CASE WHEN c.reason IS NOT NULL THEN c.reason "
          + "WHEN row_number() OVER (PARTITION BY c.event_key, c.reason IS NULL ORDER BY c.filename, c.pos) > 1 "
          + "OR c.event_key IN (SELECT event_key FROM events) THEN '" + RejectReason.DUPLICATE.code() + "' END AS verdict "
          + "FROM checked c");
      s.execute("INSERT INTO events SELECT event_key, customer_id, ts, event_type, user_id, amount, quantity, severity, "
          + "plan, mrr, CAST(ts AS DATE) FROM decided WHERE verdict IS NULL");
      s.execute("INSERT INTO quarantine SELECT filename, pos, verdict FROM decided WHERE verdict IS NOT NULL");
      if (customers != null) {
        s.execute("CREATE OR REPLACE TABLE customers AS SELECT customer_id, segment, industry, plan AS "
            + Customers.SIGNUP_PLAN + ", try_cast(mrr AS DOUBLE) AS " + Customers.SIGNUP_MRR + ", "
            + "try_cast(signup_date AS DATE) AS " + Customers.SIGNUP_DATE + ", try_cast(trial_end_date AS DATE) AS "
            + Customers.TRIAL_END_DATE + " FROM read_csv('" + customers + "', header = true, all_varchar = true)");
      }
      Map<String, Long> reasons = new LinkedHashMap<>();
      try (ResultSet r = s.executeQuery("SELECT coalesce(verdict, 'accepted'), count(*) FROM decided GROUP BY 1 ORDER BY 1")) {
        while (r.next()) {
          reasons.put(r.getString(1), r.getLong(2));
        }
      }
      long records = reasons.values().stream().mapToLong(Long::longValue).sum();
      s.execute("DROP TABLE lines; DROP TABLE typed; DROP TABLE checked; DROP TABLE decided");
      return "records=" + records + " " + reasons.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
          .collect(Collectors.joining(" "));
    }
  }

  private static String badNumber(String field) {
    return "(" + field + "_raw IS NOT NULL AND trim(" + field + "_raw) <> '' AND " + field + " IS NULL)";
  }

  /** The day rollup of {@link DailyActivity}, over stored events in the lookback of {@code asOf}. */
  private static String rollup(LocalDate asOf) {
    List<String> cols = new ArrayList<>();
    for (DailyActivity.Signal s : DailyActivity.Signal.values()) {
      String type = switch (s) {
        case EVENTS, ACTIVE_USERS, TICKETS_HIGH, PAYMENT_AMOUNT, REFUND_AMOUNT -> null;
        case REFUNDS -> "refund";
        case LOGINS -> "login";
        case SESSIONS -> "session";
        case FEATURE_USES -> "feature_use";
        case EMAIL_OPENS -> "email_open";
        case EMAIL_CLICKS -> "email_click";
        case UNSUBSCRIBES -> "newsletter_unsubscribe";
        case TICKETS -> "support_ticket";
        case PAYMENTS -> "payment";
        case FAILED_PAYMENTS -> "payment_failed";
        case UPGRADES -> "plan_upgrade";
        case DOWNGRADES -> "plan_downgrade";
        case TRIAL_STARTS -> "trial_start";
        case TRIAL_ENDS -> "trial_end";
        case CANCELLATIONS -> "cancellation";
      };
      String agg = switch (s) {
        case EVENTS -> "count(*)";
        case ACTIVE_USERS -> "count(DISTINCT CASE WHEN event_type IN ('login', 'session', 'feature_use') THEN user_id END)";
        case TICKETS_HIGH -> "count(*) FILTER (WHERE event_type = 'support_ticket' AND severity IN ('high', 'urgent', 'critical'))";
        case PAYMENT_AMOUNT -> "coalesce(sum(amount) FILTER (WHERE event_type = 'payment'), 0.0)";
        case REFUND_AMOUNT -> "coalesce(sum(abs(amount)) FILTER (WHERE event_type = 'refund'), 0.0)";
        default -> "count(*) FILTER (WHERE event_type = '" + type + "')";
      };
      cols.add("CAST(" + agg + " AS " + (s.money() ? "DOUBLE" : "INTEGER") + ") AS "
          + s.column());
    }
    String change = "event_type IN ('plan_upgrade', 'plan_downgrade') AND mrr IS NOT NULL";
    cols.add("arg_max(mrr, event_time) FILTER (WHERE " + change + ") AS " + DailyActivity.MRR_END);
    cols.add("arg_max(plan, event_time) FILTER (WHERE " + change + ") AS " + DailyActivity.PLAN_END);
    return "SELECT customer_id, event_date AS " + DailyActivity.ACTIVITY_DATE + ", " + String.join(", ", cols)
        + " FROM events WHERE event_date <= DATE '" + asOf + "' GROUP BY ALL";
  }

  private static String snapshot(Connection db, LocalDate asOf, String out) throws SQLException {
    Column asOfLit = lit(java.sql.Date.valueOf(asOf));
    FeatureCatalogue.Inputs in = new FeatureCatalogue.Inputs(asOfLit,
        datediff(asOfLit, col(DailyActivity.ACTIVITY_DATE)), col(DailyActivity.Signal.EVENTS.column()).gt(0));
    Map<String, String> aggs = new LinkedHashMap<>();
    List<String> values = new ArrayList<>();
    for (FeatureCatalogue.Feature f : FeatureCatalogue.features()) {
      f.aggregates().forEach((name, agg) -> aggs.putIfAbsent(name, DuckSql.of(agg.scratch(in)) + " AS " + name));
      if (!f.name().equals(FeatureBuilder.LIFECYCLE_STAGE)) {
        values.add("CAST(" + DuckSql.of(f.value().apply(in)) + " AS " + (f.categorical() ? "VARCHAR" : "DOUBLE")
            + ") AS " + f.name());
      }
    }
    String d = "DATE '" + asOf + "'";
    String active = "SELECT c.* FROM customers c LEFT JOIN (SELECT customer_id AS cid, min(event_date) AS cancelled_on "
        + "FROM events WHERE event_type = 'cancellation' GROUP BY ALL) x ON c.customer_id = x.cid "
        + "WHERE c." + Customers.SIGNUP_DATE + " <= " + d + " AND (x.cancelled_on IS NULL OR x.cancelled_on > " + d + ")";
    String sql = "COPY (SELECT *, " + DuckSql.of(FeatureBuilder.lifecycleStage(
            FeatureBuilder.LifecycleRules.defaults(dev.churn.features.SourceMapping.canonical().churn())))
        + " AS " + FeatureBuilder.LIFECYCLE_STAGE + " FROM (SELECT customer_id, " + String.join(", ", values)
        + " FROM (" + active + ") a LEFT JOIN (SELECT customer_id AS _cid, " + String.join(", ", aggs.values())
        + " FROM (" + rollup(asOf) + ") GROUP BY ALL) g ON a.customer_id = g._cid)) TO '" + out
        + "' (HEADER, DELIMITER '\t')";
    try (Statement s = db.createStatement()) {
      long rows = s.executeUpdate(sql);
      return "customers=" + rows;
    }
  }

  /** Every customer and column of two snapshots (TSV with a header): numbers within 1e-9 relative, text equal. */
  private static String compare(Connection db, String churn, String peer) throws SQLException {
    try (Statement s = db.createStatement()) {
      s.execute("CREATE TABLE a AS SELECT * FROM read_csv('" + churn + "', header = true, delim = '\t', all_varchar = true)");
      s.execute("CREATE TABLE b AS SELECT * FROM read_csv('" + peer + "', header = true, delim = '\t', all_varchar = true)");
      List<String> checks = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (FeatureCatalogue.Feature f : FeatureCatalogue.features()) {
        String x = "a." + f.name();
        String y = "b." + f.name();
        names.add(f.name());
        checks.add(f.categorical()
            ? "CAST(coalesce(" + x + ", '') <> coalesce(" + y + ", '') AS INTEGER)"
            : "CAST(abs(coalesce(try_cast(" + x + " AS DOUBLE), -1e300) - coalesce(try_cast(" + y + " AS DOUBLE), -1e300)) "
                + "> 1e-9 * greatest(1, abs(coalesce(try_cast(" + y + " AS DOUBLE), 0))) AS INTEGER)");
      }
      StringBuilder q = new StringBuilder("SELECT count(*) FILTER (WHERE a.customer_id IS NULL), "
          + "count(*) FILTER (WHERE b.customer_id IS NULL), count(*) FILTER (WHERE a.customer_id IS NOT NULL AND b.customer_id IS NOT NULL)");
      for (String c : checks) {
        q.append(", sum(").append(c).append(")");
      }
      q.append(" FROM a FULL JOIN b ON a.customer_id = b.customer_id");
      try (ResultSet r = s.executeQuery(q.toString())) {
        r.next();
        long onlyPeer = r.getLong(1);
        long onlyChurn = r.getLong(2);
        long both = r.getLong(3);
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
          long n = r.getLong(4 + i);
          if (n > 0) {
            bad.add(names.get(i) + ":" + n);
          }
        }
        long disagree = onlyPeer + onlyChurn + bad.size();
        return "customers=" + both + " only_churn=" + onlyChurn + " only_peer=" + onlyPeer + " disagree=" + disagree
            + " " + (bad.isEmpty() ? "columns=all-equal" : "columns=" + String.join(",", bad));
      }
    }
  }
}
