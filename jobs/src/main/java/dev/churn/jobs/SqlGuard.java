package dev.churn.jobs;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.analysis.UnresolvedFunction;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.SubqueryExpression;
import org.apache.spark.sql.catalyst.plans.QueryPlan;
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
      "UnresolvedHaving", "UnresolvedSubqueryColumnAliases", "PlanWithUnresolvedIdentifier", "Expand",
      "PipeOperator");

  /** Why {@code statement} may not run (one line naming what it is), or null when it only reads. */
  static String refusal(SparkSession spark, String statement) throws Exception {
    return refusal(spark.sessionState().sqlParser().parsePlan(statement));
  }

  static String refusal(LogicalPlan plan) {
    return check(plan);
  }

  private static String check(TreeNode<?> node) {
    String kind = node.getClass().getSimpleName();
    if (node instanceof ExplainCommand explain) {
      return check(explain.logicalPlan());
    }
    if (node instanceof LogicalPlan) {
      // Inspection (Spark's commands, Delta's DescribeDeltaHistory plan) runs no query: its names are not read.
      if (kind.startsWith("Describe") || kind.startsWith("Show")) {
        return null;
      }
      if (node instanceof Command || !QUERY.contains(kind)) {
        return kind;
      }
    }
    if (node instanceof UnresolvedFunction f) {
      List<String> name = CollectionConverters.asJava(f.nameParts());
      String last = name.get(name.size() - 1).toLowerCase(Locale.ROOT);
      if (CALLS_JAVA.contains(last)) {
        return "the function " + last + " (it calls Java methods)";
      }
    }
    if (node instanceof SubqueryExpression s) {
      String inner = check(s.plan());
      if (inner != null) {
        return inner;
      }
    }
    for (TreeNode<?> child : CollectionConverters.asJava(node.children())) {
      String inner = check(child);
      if (inner != null) {
        return inner;
      }
    }
    if (node instanceof QueryPlan<?> plan) {
      for (TreeNode<?> inner : CollectionConverters.asJava(plan.innerChildren())) {
        String found = check(inner);
        if (found != null) {
          return found;
        }
      }
      for (Expression e : CollectionConverters.asJava(plan.expressions())) {
        String found = check(e);
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }
}
