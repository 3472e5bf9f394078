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

@Command(name = "sql", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs Spark SQL against the warehouse tables (churn.<table>, or the bare name) and prints each "
        + "result as tab-separated text with a header line.",
        "A file is a notebook or script whose cells are split on '-- COMMAND ----------' lines and run in order."})
final class SqlCommand implements Callable<Integer> {
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
    try (ChurnCli.Context ctx = root.openReadOnly("sql")) {
      PrintWriter out = spec.commandLine().getOut();
      int n = 0;
      for (String statement : statements) {
        n++;
        Dataset<Row> result;
        try {
          result = ctx.spark().sql(statement);
        } catch (Exception e) { // AnalysisException is checked in Spark 4
          String where = statements.size() > 1 ? " in cell " + n : "";
          throw new ChurnException(ChurnException.FAILURE, "SQL error" + where + ": "
              + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (statements.size() > 1) {
          out.println("-- cell " + n);
        }
        print(out, result, maxRows);
      }
    }
    return 0;
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
        sb.append(v == null ? "" : String.valueOf(v).replace('\t', ' ').replace('\n', ' '));
      }
      out.println(sb);
    }
    if (rows.size() > maxRows) {
      out.println("... (more than " + maxRows + " rows; raise --max-rows)");
    }
    out.flush();
  }

}
