package dev.churn.jobs;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import dev.churn.testing.DomainExample;
import dev.churn.testing.EndToEnd;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** docs/domain.md's worked example through ingest and the retention job, on a crafted log. */
@EndToEnd
class RetentionJobTest extends JobsSuite {

  @Test
  void twoHundredAtStartTwentyLostThirtyNewGiveNinetyPercentAndRerunsReplace() {
    Path in = tempDir("ret-in");
    String wh = tempDir("ret-wh").toString();
    List<String> customers = new ArrayList<>(List.of("customer_id,segment,industry,plan,mrr,signup_date,trial_end_date"));
    List<String> events = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      customers.add("s" + i + ",smb,retail,basic,10," + "2025-06-01,");
      events.add(event("l" + i, "s" + i, "2026-03-01T09:00:00Z", "login"));
      if (i < 20) {
        events.add(event("x" + i, "s" + i, "2026-03-1" + (i % 9) + "T12:00:00Z", "cancellation"));
      }
    }
    for (int i = 0; i < 30; i++) {
      customers.add("n" + i + ",smb,retail,basic,10,2026-03-0" + (1 + i % 9) + ",");
      events.add(event("m" + i, "n" + i, "2026-03-0" + (1 + i % 9) + "T09:00:00Z", "login"));
    }
    write(in.resolve("customers/customers.csv"), customers);
    write(in.resolve("events/day.jsonl"), events);
    assertEquals(0, cli("--warehouse", wh, "ingest", "--events", in.resolve("events").toString(), "--customers",
        in.resolve("customers").toString(), "--date", "2026-03-31").exitCode());
    for (int run = 0; run < 2; run++) {
      CliRun r = cli("--warehouse", wh, "retention", "--from", "2026-03-01", "--to", "2026-03-31");
      assertEquals(0, r.exitCode(), r.err());
    }
    Warehouse w = new Warehouse(spark, wh);
    Row all = w.read(Table.RETENTION_RATES).where("period_type = 'month' AND segment = 'ALL' AND industry = 'ALL'").first();
    DomainExample.assertWorkedExample(all);
    // month, quarter and year x (smb/retail, smb/ALL, ALL/retail, ALL/ALL), once each after two runs
    assertEquals(12, w.read(Table.RETENTION_RATES).count());
    Row cohort = w.read(Table.COHORT_RETENTION).where(col("cohort_month").equalTo("2026-03-01")
        .and(col("months_since_signup").equalTo(0))).first();
    assertEquals(30L, cohort.<Long>getAs("customers"));
    assertEquals(30L, cohort.<Long>getAs("retained"));

    // #32: dates far past the data are refused; a --from before the first signup starts there and says so.
    CliRun future = cli("--warehouse", wh, "retention", "--from", "2026-03-01", "--to", "9999-12-31");
    assertEquals(2, future.exitCode(), future.err());
    assertEquals("churn: --to 9999-12-31 is more than 31 days after the warehouse's last day of activity, 2026-03-18: "
        + "nothing is known of it; nothing was changed", future.err().strip());
    CliRun scored = cli("--warehouse", wh, "score", "--as-of", "2030-01-01");
    assertEquals(2, scored.exitCode(), scored.err());
    assertTrue(scored.err().startsWith("churn: --as-of 2030-01-01 is more than 31 days after"), scored.err());
    CliRun early = cli("--warehouse", wh, "retention", "--from", "1900-01-01", "--to", "2026-03-31");
    assertEquals(0, early.exitCode(), early.err());
    assertTrue(early.out().contains("[retention] --from 1900-01-01 is before the first signup, 2025-06-01: computed "
        + "from then") && early.out().contains("retention 2025-06-01 .. 2026-03-31: "), early.out());
  }
}
