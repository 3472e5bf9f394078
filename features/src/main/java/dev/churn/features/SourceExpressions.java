package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.catalyst.analysis.UnresolvedAttribute;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.parser.CatalystSqlParser$;
import org.apache.spark.sql.catalyst.parser.ParseException;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A mapping's values as source columns or Spark SQL expressions. A value that names a column of the input exactly
 * is that column (so a CSV header such as {@code Unit Price} needs no quoting); anything else is an expression
 * over the input's columns ({@code Quantity * UnitPrice}, {@code `Unit Price` * 2}, {@code location.city}).
 */
public final class SourceExpressions {
  private SourceExpressions() {}

  /** The column {@code text} means over an input with columns {@code present}. */
  public static Column column(String text, Collection<String> present) {
    return present.contains(text) ? col("`" + text.replace("`", "``") + "`") : expr(text);
  }

  /** Whether {@code text} is a plain column of the input rather than an expression. */
  public static boolean isColumn(String text, Collection<String> present) {
    return present.contains(text);
  }

  /**
   * The column paths {@code text} reads (each a list of name parts: {@code location.city} is [location, city]).
   *
   * @throws IllegalArgumentException naming the text when it is not an expression Spark can parse
   */
  public static List<List<String>> references(String text) {
    Expression parsed;
    try {
      parsed = CatalystSqlParser$.MODULE$.parseExpression(text);
    } catch (Exception e) { // ParseException, thrown undeclared from Scala
      if (!(e instanceof ParseException)) {
        throw new IllegalStateException(e);
      }
      String why = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
      throw new IllegalArgumentException("'" + text + "' is neither a column of the input nor a Spark SQL expression ("
          + why.trim() + ")");
    }
    List<List<String>> out = new ArrayList<>();
    collect(parsed, out);
    return out;
  }

  private static void collect(Expression e, List<List<String>> out) {
    if (e instanceof UnresolvedAttribute a) {
      List<String> parts = CollectionConverters.asJava(a.nameParts());
      if (!out.contains(parts)) {
        out.add(List.copyOf(parts));
      }
      return;
    }
    for (Expression child : CollectionConverters.asJava(e.children())) {
      collect(child, out);
    }
  }
}
