package dev.churn.jobs;

import dev.churn.jobs.warehouse.ChurnException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = SqlCommand.NAME, mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs Spark SQL against the warehouse tables (churn.<table>, or the bare name) and prints each "
        + "result as tab-separated text with a header line.",
        "Reads only: queries, DESCRIBE, SHOW and EXPLAIN run; any statement that writes, deletes, alters, caches, "
        + "changes a setting or runs code is refused before anything runs (exit 2), and files are not read by path.",
        "A file is a notebook or script whose cells are split on '-- COMMAND ----------' lines and run in order."})
final class SqlCommand implements Callable<Integer> {
  /** The command's name: the one whose session names the tables without --metastore (ChurnCli.open). */
  static final String NAME = "sql";

  @ParentCommand ChurnCli root;
  @Spec CommandSpec spec;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  static final class Source {
    @Parameters(arity = "1", paramLabel = "QUERY", description = "One SQL statement.")
    String query;

    @Option(names = "--file", paramLabel = "FILE", description = "A notebook (Databricks SQL source) or SQL script.")
    Path file;
  }

  @Option(names = "--max-rows", defaultValue = "1000", description = "Rows printed per result at most (default: ${DEFAULT-VALUE}).")
  int maxRows;

  @Override
  public Integer call() {
    List<String> statements;
    if (source.file != null) {
      try {
        statements = NotebookCells.statements(Files.readString(source.file));
      } catch (IOException e) {
        throw new ParameterException(spec.commandLine(), "cannot read SQL file " + source.file + ": " + e.getMessage());
      }
    } else {
      statements = List.of(source.query);
    }
    if (maxRows < 1) {
      throw new ParameterException(spec.commandLine(), "--max-rows must be at least 1, not " + maxRows);
    }
    try (ChurnCli.Context ctx = root.openReadOnly(NAME)) {
      SparkSession spark = ctx.spark();
      for (int n = 1; n <= statements.size(); n++) {
        String refused;
        try {
          refused = SqlGuard.refusal(spark, statements.get(n - 1));
        } catch (Exception e) { // ParseException is checked in Spark 4
          throw sqlError(e, n, statements.size());
        }
        if (refused != null) {
          throw ChurnException.usage("sql only reads: " + (statements.size() > 1 ? "cell " + n + " is " : "")
              + refused + ", refused before anything ran (queries, DESCRIBE, SHOW and EXPLAIN run); nothing was "
              + "changed");
        }
      }
      // No format.`path` relations: the warehouse's tables are what sql reads. Restored for the shared session.
      String onFiles = spark.conf().get(SqlGuard.RUN_SQL_ON_FILES, "true");
      spark.conf().set(SqlGuard.RUN_SQL_ON_FILES, "false");
      try {
        run(spark, statements);
      } finally {
        spark.conf().set(SqlGuard.RUN_SQL_ON_FILES, onFiles);
      }
    }
    return 0;
  }

  private void run(SparkSession spark, List<String> statements) {
    PrintWriter out = spec.commandLine().getOut();
    for (int n = 1; n <= statements.size(); n++) {
      Dataset<Row> result;
      try {
        result = spark.sql(statements.get(n - 1));
      } catch (Exception e) { // AnalysisException is checked in Spark 4
        throw sqlError(e, n, statements.size());
      }
      if (statements.size() > 1) {
        out.println("-- cell " + n);
      }
      print(out, result, maxRows);
    }
  }

  /** Spark's message, its first line that says something. */
  private static ChurnException sqlError(Exception e, int cell, int cells) {
    return new ChurnException(ChurnException.FAILURE, "SQL error" + (cells > 1 ? " in cell " + cell : "") + ": "
        + ChurnException.firstLine(e), e);
  }

  /**
   * Arrays, maps and structs as JSON (Spark's own rendering of them is Scala's, e.g. "ArraySeq(...)"). Columns
   * are taken by position, so a result with two columns of one name (two unaliased subqueries) prints too.
   */
  private static Dataset<Row> asText(Dataset<Row> result) {
    StructField[] fields = result.schema().fields();
    Dataset<Row> positional = result.toDF(java.util.stream.IntStream.range(0, fields.length)
        .mapToObj(i -> "_c" + i).toArray(String[]::new));
    Column[] cols = new Column[fields.length];
    for (int i = 0; i < fields.length; i++) {
      DataType t = fields[i].dataType();
      Column c = positional.col("_c" + i);
      cols[i] = t instanceof ArrayType || t instanceof MapType || t instanceof StructType ? functions.to_json(c) : c;
    }
    return positional.select(cols);
  }

  /** A value on one TSV line: tab, line feed, carriage return and NUL (which break a reader's rows) as spaces. */
  static String cell(String v) {
    return v.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ').replace('\0', ' ');
  }

  static void print(PrintWriter out, Dataset<Row> result, int maxRows) {
    String[] columns = result.columns();
    if (columns.length == 0) {
      return;
    }
    out.println(String.join("\t", columns));
    List<Row> rows = asText(result).limit(maxRows + 1).collectAsList();
    for (int i = 0; i < Math.min(rows.size(), maxRows); i++) {
      Row r = rows.get(i);
      StringBuilder sb = new StringBuilder();
      for (int c = 0; c < columns.length; c++) {
        if (c > 0) {
          sb.append('\t');
        }
        Object v = r.get(c);
        sb.append(v == null ? "" : cell(String.valueOf(v)));
      }
      out.println(sb);
    }
    if (rows.size() > maxRows) {
      out.println("... (more than " + maxRows + " rows; raise --max-rows)");
    }
    out.flush();
  }

}
