package dev.churn.jobs.warehouse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.churn.features.StateColumns;
import dev.churn.testing.SparkSuite;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.api.Test;

/** The tables' meanings (no Spark): declared for every declared column, and docs/tables.md generated from them. */
class TableDocsTest {
  @Test
  void everyDeclaredColumnHasAMeaningAndTheDocIsCurrent() throws Exception {
    for (Table t : Table.values()) {
      assertNotNull(TableDocs.description(t), t.tableName());
      if (t.schema() != null) {
        for (StructField f : t.schema().fields()) {
          assertNotNull(TableDocs.column(t, f.name()), t.tableName() + "." + f.name());
        }
      }
      for (String k : t.key()) {
        assertNotNull(TableDocs.column(t, k), t.tableName() + "'s key " + k);
      }
    }
    assertEquals("MRR after the day's last plan change (null on a day without one)",
        TableDocs.column(Table.DAILY_ACTIVITY, "mrr_end"));
    assertEquals("logins on the day", TableDocs.column(Table.DAILY_ACTIVITY, "logins"));
    assertEquals("logins in the last 7 days", TableDocs.column(Table.CUSTOMER_FEATURES, "logins_7d"));
    assertNull(TableDocs.column(Table.CUSTOMER_FEATURES, "no_such_feature"));

    String current = TableDocs.markdown();
    Path doc = SparkSuite.repoRoot().resolve("docs/tables.md");
    if (!current.equals(Files.readString(doc))) {
      Path fresh = Path.of(System.getProperty("churn.target", "target"), "docs", "tables.md");
      Files.createDirectories(fresh.getParent());
      Files.writeString(fresh, current);
      assertEquals(current, Files.readString(doc), "docs/tables.md is stale: cp jobs/target/docs/tables.md docs/");
    }
  }

  @Test
  void theWindowStatesColumnsAreReadFromTheirNames() {
    assertEquals("running sum of daily `payment_amount` over the last 30 days to the as-of date",
        StateColumns.meaning("s_payment_amount_30"));
    assertEquals("running sum of daily `active_days` over all history to the as-of date",
        StateColumns.meaning("s_active_days_all"));
    assertEquals("(day, value) queue of daily `active_users` window maxima are read from",
        StateColumns.meaning("q_active_users"));
    assertEquals("the latest day of `login` on or before the as-of date", StateColumns.meaning("l_login"));
    assertEquals("`mrr_end` after the latest plan change at least 90 days before the as-of date",
        StateColumns.meaning("c_mrr_end_90"));
    assertEquals("the day of the latest plan change at least 0 days before the as-of date",
        StateColumns.meaning("c_plan_end_0_on"));
    assertNull(StateColumns.meaning("s_logins"));
    assertNull(StateColumns.meaning("feature_set"));
  }
}
