package dev.churn.jobs.stages;

import dev.churn.features.EventValidation;
import dev.churn.features.Events;
import dev.churn.features.SourceExpressions;
import dev.churn.features.SourceMapping;
import dev.churn.jobs.warehouse.ChurnException;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** The check that a mapping fits the files it reads, before any event is read. */
final class MappedColumns {
  private MappedColumns() {}

  /**
   * Every value of the mapping must work on the input before any event is read, else a usage error (exit 2) names
   * the value, what it is for and the columns there are: a bare column the files lack, an expression that does not
   * parse, names a missing column, or does not type-check. CSV files with a header and Parquet files declare their
   * columns; JSON lines do not (a field may be absent from some records), so only their expressions are checked.
   */
  static void require(Dataset<Row> records, SourceMapping mapping) {
    boolean declared = !(mapping.format().equals("json") || (mapping.format().equals("csv") && !mapping.header()));
    List<String> lineage = List.of(Events.SOURCE_FILE, Events.SOURCE_POSITION, Events.RAW_RECORD,
        EventValidation.MALFORMED);
    List<String> have = java.util.Arrays.stream(records.columns()).filter(c -> !lineage.contains(c)).toList();
    java.util.Set<String> lower = new java.util.HashSet<>();
    have.forEach(c -> lower.add(c.toLowerCase(java.util.Locale.ROOT)));
    String prefix = "mapping " + mapping.name() + ": ";
    String columns = declared ? "; the input's columns are " + String.join(", ", have) + "; no events were read"
        : "; no events were read";
    for (Map.Entry<String, String> e : mapping.expressions().entrySet()) {
      String text = e.getValue();
      boolean field = Events.RAW_SCHEMA.getFieldIndex(e.getKey()).isDefined();
      if ((field && !mapping.columns().containsKey(e.getKey())) || SourceExpressions.isColumn(text, have)) {
        continue; // a canonical field the mapping does not name is read if present, else null
      }
      List<List<String>> refs;
      try {
        refs = SourceExpressions.references(text);
      } catch (IllegalArgumentException ex) {
        throw ChurnException.usage(prefix + e.getKey() + ": " + ex.getMessage() + columns);
      }
      if (declared) {
        for (List<String> ref : refs) {
          if (!lower.contains(ref.get(0).toLowerCase(java.util.Locale.ROOT))) {
            throw ChurnException.usage(prefix + "column '" + ref.get(0) + "' (" + (ref.size() == 1
                && ref.get(0).equals(text) ? "for " + e.getKey() + ") is not in the input files, whose columns are "
                + String.join(", ", have) + "; no events were read" : "in " + e.getKey() + " = " + text
                + ") is not in the input files" + columns));
          }
        }
      }
      try {
        RawLogReader.withoutAnsi(records.sparkSession(), () -> records.select(SourceExpressions.column(text, have)));
      } catch (Exception ex) { // AnalysisException, thrown undeclared from Scala
        if (!(ex instanceof org.apache.spark.sql.AnalysisException)) {
          throw ex;
        }
        throw ChurnException.usage(prefix + e.getKey() + " = " + text + " does not work on the input: "
            + ex.getMessage().lines().findFirst().orElse("").trim() + columns);
      }
    }
  }
}
