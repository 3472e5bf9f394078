package dev.churn.jobs;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Splits a Databricks SQL-source notebook (or a plain script) into the statements its cells hold. */
public final class NotebookCells {
  private NotebookCells() {}

  public static final String SEPARATOR = "-- COMMAND ----------";
  /** A comment line that marks a cell whose result must not be empty (checked by the notebooks' test). */
  public static final String EXPECT_ROWS = "-- expect rows";

  /** A cell's statement and whether it is marked {@link #EXPECT_ROWS}. */
  public record Cell(String statement, boolean expectRows) {}

  /**
   * The executable cells: split on {@link #SEPARATOR} lines; the notebook header, {@code -- MAGIC} markdown
   * cells and cells with nothing but comments are left out; a trailing semicolon is dropped.
   */
  public static List<Cell> cells(String text) {
    List<Cell> out = new ArrayList<>();
    for (String cell : text.split("(?m)^" + Pattern.quote(SEPARATOR) + "\\s*$")) {
      StringBuilder sql = new StringBuilder();
      boolean hasCode = false;
      boolean expect = false;
      for (String line : cell.split("\n", -1)) {
        String t = line.trim();
        if (t.startsWith("-- MAGIC") || t.equals("-- Databricks notebook source")) {
          continue;
        }
        expect |= t.equalsIgnoreCase(EXPECT_ROWS);
        if (!t.isEmpty() && !t.startsWith("--")) {
          hasCode = true;
        }
        sql.append(line).append('\n');
      }
      String statement = sql.toString().trim();
      while (statement.endsWith(";")) {
        statement = statement.substring(0, statement.length() - 1).trim();
      }
      if (hasCode) {
        out.add(new Cell(statement, expect));
      }
    }
    return out;
  }

  public static List<String> statements(String text) {
    return cells(text).stream().map(Cell::statement).toList();
  }
}
