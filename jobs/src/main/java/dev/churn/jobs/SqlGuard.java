package dev.churn.jobs;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.analysis.UnresolvedFunction;
import org.apache.spark.sql.catalyst.analysis.UnresolvedTableValuedFunction;
import org.apache.spark.sql.catalyst.plans.logical.Command;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.trees.TreeNode;
import org.apache.spark.sql.execution.command.ExplainCommand;
import scala.jdk.javaapi.CollectionConverters;

/**
 * What {@code churn sql} lets run: queries and read-only inspection, decided on Spark's parsed plan (never on the
 * text, which comments, case and quoting make unreliable), before anything runs. Parsing only: analysis is not
 * side-effect free (Delta's analysis of {@code RESTORE} restores the table).
 *
 * <p>Allowed, by an allow-list of plan nodes: a query made of the operators {@link #QUERY} names (SELECT, WITH,
 * VALUES, TABLE, joins, set operations, window, pivot, time travel, hints, pipe syntax), {@code DESCRIBE ...} and
 * {@code SHOW ...} of any kind (Delta's {@code DESCRIBE HISTORY} and {@code DESCRIBE DETAIL} included), and {@code
 * EXPLAIN} of an allowed statement. Refused: every other command (writes, deletes, DDL, {@code CACHE}, {@code SET},
 * {@code USE}, {@code ADD JAR}, {@code CREATE FUNCTION}, Delta's {@code VACUUM}, {@code OPTIMIZE}, {@code RESTORE},
 * {@code CLONE}, ...), {@code INSERT} in any form, {@code CALL}, {@code EXECUTE IMMEDIATE}, {@code TRANSFORM ...
 * USING} (runs a program), any operator not on the list, and the functions that call arbitrary Java methods
 * ({@code reflect}, {@code java_method}, {@code try_reflect}), wherever they occur (subqueries and CTEs included).
 * Reading files by path ({@code json.`/etc/passwd`}, {@code delta.`/any/table`}) is switched off for the
 * statement's run by {@link #RUN_SQL_ON_FILES}. Danger: an analyst query using an operator the list lacks is refused
 * (exit 2, naming it) until the operator is added here.
 */
final class SqlGuard {
  private SqlGuard() {}

  /** Spark's switch for {@code format.`path`} relations; false while a user's statement runs. */
  static final String RUN_SQL_ON_FILES = "spark.sql.runSQLOnFiles";

  private static final Set<String> CALLS_JAVA = Set.of("reflect", "java_method", "try_reflect");

  /** The parsed plan nodes a query is made of: they read, and nothing else. */
  static final Set<String> QUERY = Set.of("Project", "Filter", "Aggregate", "Join", "LateralJoin", "Sort",
      "GlobalLimit", "LocalLimit", "Offset", "Tail", "Distinct", "Deduplicate", "Union", "Intersect", "Except",
      "SubqueryAlias", "UnresolvedRelation", "RelationTimeTravel", "UnresolvedWith", "WithCTE", "CTERelationDef",
      "CTERelationRef", "OneRowRelation", "LocalRelation", "UnresolvedInlineTable", "Range",
      "UnresolvedTableValuedFunction", "UnresolvedTVFAliases", "Generate", "Window", "WithWindowDefinition", "Pivot",
      "Unpivot", "Sample", "RepartitionByExpression", "Repartition", "RebalancePartitions", "UnresolvedHint",
      "UnresolvedHaving", "UnresolvedSubqueryColumnAliases", "Expand", "PipeOperator");

  /**
   * Nodes refused wherever they occur: a name given by an expression ({@code IDENTIFIER(...)}) is only known at
   * analysis, so what it names (a table to insert into, a Java-calling function) cannot be checked here.
   */
  private static final Set<String> UNKNOWN_UNTIL_ANALYSIS = Set.of("PlanWithUnresolvedIdentifier",
      "ExpressionWithUnresolvedIdentifier");

  /** Table-valued functions that read by path. */
  private static final Set<String> READS_PATHS = Set.of("table_changes_by_path");

  /** Why {@code statement} may not run (one line naming what it is), or null when it only reads. */
  static String refusal(SparkSession spark, String statement) throws Exception {
    return check(spark.sessionState().sqlParser().parsePlan(statement));
  }

  private static String check(TreeNode<?> node) {
    String kind = node.getClass().getSimpleName();
    if (node instanceof ExplainCommand explain) {
      return check(explain.logicalPlan());
    }
    if (UNKNOWN_UNTIL_ANALYSIS.contains(kind)) {
      return "IDENTIFIER(...) (" + kind + ")";
    }
    if (node instanceof LogicalPlan) {
      // Inspection (Spark's commands, Delta's DescribeDeltaHistory plan) runs no query; it may not name a path.
      if (kind.startsWith("Describe") || kind.startsWith("Show")) {
        String path = pathIn(node);
        return path == null ? null : kind + " of a path (" + path + ")";
      }
      if (node instanceof Command || !QUERY.contains(kind)) {
        return kind;
      }
    }
    if (node instanceof UnresolvedFunction f && CALLS_JAVA.contains(last(f.nameParts()))) {
      return "the function " + last(f.nameParts()) + " (it calls Java methods)";
    }
    if (node instanceof UnresolvedTableValuedFunction f && READS_PATHS.contains(last(f.name()))) {
      return "the table function " + last(f.name()) + " (it reads by path)";
    }
    // Every node the plan holds, wherever it holds it: children, expressions, and fields Spark's own traversals
    // skip (a WINDOW clause's definitions sit in a map, a CTE's relations in a list of pairs).
    for (TreeNode<?> inner : nodesIn(node.productIterator(), new java.util.ArrayList<>())) {
      String found = check(inner);
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  private static String last(scala.collection.Seq<String> name) {
    List<String> parts = CollectionConverters.asJava(name);
    return parts.get(parts.size() - 1).toLowerCase(Locale.ROOT);
  }

  /** The tree nodes among {@code values}: directly, or inside options, tuples, sequences and maps. */
  private static List<TreeNode<?>> nodesIn(scala.collection.Iterator<?> values, List<TreeNode<?>> out) {
    while (values.hasNext()) {
      Object v = values.next();
      if (v instanceof TreeNode<?> n) {
        out.add(n);
      } else if (v instanceof scala.collection.Iterable<?> it) {
        nodesIn(it.iterator(), out);
      } else if (v instanceof scala.Product p) {
        nodesIn(p.productIterator(), out);
      }
    }
    return out;
  }

  /** A path named anywhere in {@code node}'s fields (a string starting with / or holding :/), or null. */
  private static String pathIn(Object node) {
    if (node instanceof String text) {
      return text.startsWith("/") || text.contains(":/") ? text : null;
    }
    if (node instanceof scala.collection.Iterable<?> it) {
      node = it.iterator();
    } else if (node instanceof scala.Product p) {
      node = p.productIterator();
    }
    if (node instanceof scala.collection.Iterator<?> values) {
      while (values.hasNext()) {
        Object v = values.next();
        if (v instanceof org.apache.spark.sql.catalyst.expressions.Literal l && l.value() != null) {
          v = l.value().toString();
        }
        String found = pathIn(v);
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }
}
