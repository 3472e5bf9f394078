package dev.churn.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.internal.Alias;
import org.apache.spark.sql.internal.CaseWhenOtherwise;
import org.apache.spark.sql.internal.Cast;
import org.apache.spark.sql.internal.ColumnNode;
import org.apache.spark.sql.internal.Literal;
import org.apache.spark.sql.internal.UnresolvedAttribute;
import org.apache.spark.sql.internal.UnresolvedFunction;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Renders a Spark {@link Column} as DuckDB SQL, so the peer computes the snapshot from the very expressions of
 * {@link dev.churn.features.FeatureCatalogue} rather than from a second, hand-written copy. Covers what the
 * catalogue uses (comparisons, arithmetic, CASE, COALESCE, casts, dates, sum / count / max / max_by); anything
 * else fails loudly, so a new kind of feature is noticed here rather than silently differing.
 */
final class DuckSql {
  private DuckSql() {}

  private static final Map<String, String> INFIX = Map.ofEntries(Map.entry("<", "<"), Map.entry(">", ">"),
      Map.entry("<=", "<="), Map.entry(">=", ">="), Map.entry("=", "="), Map.entry("+", "+"), Map.entry("-", "-"),
      Map.entry("*", "*"), Map.entry("/", "/"), Map.entry("and", "AND"), Map.entry("or", "OR"));

  static String of(Column c) {
    return of(c.node());
  }

  private static String of(ColumnNode n) {
    if (n instanceof Alias a) {
      return of(a.child());
    }
    if (n instanceof UnresolvedAttribute a) {
      return String.join(".", CollectionConverters.asJava(a.nameParts()));
    }
    if (n instanceof Literal l) {
      return literal(l.value());
    }
    if (n instanceof Cast c) {
      return "CAST(" + of(c.child()) + " AS " + type(c.dataType()) + ")";
    }
    if (n instanceof CaseWhenOtherwise w) {
      StringBuilder sb = new StringBuilder("CASE");
      for (scala.Tuple2<ColumnNode, ColumnNode> b : CollectionConverters.asJava(w.branches())) {
        sb.append(" WHEN ").append(of(b._1())).append(" THEN ").append(of(b._2()));
      }
      if (w.otherwise().isDefined()) {
        sb.append(" ELSE ").append(of(w.otherwise().get()));
      }
      return sb.append(" END").toString();
    }
    if (n instanceof UnresolvedFunction f) {
      List<String> args = new ArrayList<>();
      for (ColumnNode a : CollectionConverters.asJava(f.arguments())) {
        args.add(of(a));
      }
      String name = f.functionName();
      if (INFIX.containsKey(name) && args.size() == 2) {
        return "(" + args.get(0) + " " + INFIX.get(name) + " " + args.get(1) + ")";
      }
      return switch (name) {
        case "datediff" -> "(" + args.get(0) + " - " + args.get(1) + ")"; // DATE - DATE is whole days in DuckDB
        case "date_sub" -> "CAST(" + args.get(0) + " - " + args.get(1) + " AS DATE)";
        case "isNotNull" -> "(" + args.get(0) + " IS NOT NULL)";
        case "isNull" -> "(" + args.get(0) + " IS NULL)";
        case "not", "!" -> "(NOT " + args.get(0) + ")";
        case "coalesce", "sum", "max", "min", "count", "max_by", "least", "greatest" ->
            name + "(" + String.join(", ", args) + ")";
        default -> throw new IllegalArgumentException("no DuckDB rendering for Spark function '" + name + "'");
      };
    }
    throw new IllegalArgumentException("no DuckDB rendering for " + n.getClass().getSimpleName() + ": " + n);
  }

  private static String literal(Object v) {
    if (v == null) {
      return "NULL";
    }
    if (v instanceof String s) {
      return "'" + s.replace("'", "''") + "'";
    }
    if (v instanceof java.sql.Date || v instanceof java.time.LocalDate) {
      return "DATE '" + v + "'";
    }
    if (v instanceof Boolean b) {
      return b ? "TRUE" : "FALSE";
    }
    if (v instanceof Double || v instanceof Float) {
      return "CAST(" + v + " AS DOUBLE)";
    }
    return v.toString();
  }

  private static String type(DataType t) {
    if (t.equals(DataTypes.StringType)) {
      return "VARCHAR";
    }
    if (t.equals(DataTypes.DoubleType)) {
      return "DOUBLE";
    }
    if (t.equals(DataTypes.IntegerType)) {
      return "INTEGER";
    }
    if (t.equals(DataTypes.LongType)) {
      return "BIGINT";
    }
    if (t.equals(DataTypes.DateType)) {
      return "DATE";
    }
    if (t instanceof org.apache.spark.sql.types.DecimalType d) {
      return "DECIMAL(" + d.precision() + ", " + d.scale() + ")";
    }
    throw new IllegalArgumentException("no DuckDB type for " + t);
  }
}
