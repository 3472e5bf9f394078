package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import org.apache.spark.sql.Column;

/**
 * What an id (customer_id, event_id, user_id) may be: how it is cleaned of spaces, and which ids are refused
 * (structured JSON, numbers in churn's own format, hidden characters). Events and the customers file share them.
 */
public final class IdRules {
  private IdRules() {}

  /**
   * An id as stored: every kind of space at its ends removed (a non-breaking space from a spreadsheet, an
   * ideographic space, a byte-order mark, a tab), every space inside it a plain space, so {@code "c1"} and
   * {@code "c1\u00A0"} are one customer. Empty when nothing else is left. The same rule holds for the customers
   * file's ids ({@link Customers}).
   */
  public static Column id(Column raw) {
    return regexp_replace(regexp_replace(raw, "^[\\s\\p{Z}\\x{FEFF}]+|[\\s\\p{Z}\\x{FEFF}]+$", ""), "\\p{Zs}", " ");
  }

  /**
   * Whether an id holds a control character (U+0000-U+001F, U+007F-U+009F: a NUL, a line break inside a field)
   * or an invisible format character (a zero-width space or joiner, a byte-order mark inside), or a line or
   * paragraph separator (U+2028, U+2029): two ids that print
   * the same would be two customers, and the TSV output of {@code sql} would break. Such ids are refused.
   */
  public static Column hiddenCharacter(Column id) {
    return coalesce(id.rlike("[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}]"), lit(false));
  }

  /** An id given as a JSON object or array (the reader keeps its JSON text). */
  static Column structured(Column id) {
    return id.startsWith("{").or(id.startsWith("["));
  }

  /**
   * Whether the record gives customer_id as a JSON number, which churn's own format forbids (its ids are strings:
   * a number loses leading zeros and may be rounded on the way). A foreign log's mapping accepts numeric ids.
   */
  static Column numericJsonId(SourceMapping mapping) {
    if (!mapping.name().equals(SourceMapping.DEFAULT_NAME) || !"json".equals(mapping.format())) {
      return lit(false);
    }
    String field = java.util.regex.Pattern.quote(mapping.sourceColumn(Events.CUSTOMER_ID));
    return coalesce(col(Events.RAW_RECORD).rlike("\"" + field + "\"\\s*:\\s*-?[0-9]"), lit(false));
  }
}
