package dev.churn.models;

import dev.churn.features.ExactSums;
import java.sql.Date;
import java.time.LocalDate;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The churn forecast against what happened: per scoring date, segment and industry (with {@code ALL} rows), the
 * expected churners (the sum of calibrated probabilities), the MRR at risk (their monthly MRR) and the revenue
 * expected to be lost over the model's horizon (probability x MRR x horizon months), and, once the
 * horizon has ended within the data, the customers that actually churned in it and their MRR.
 */
public final class Forecast {
  private Forecast() {}

  /**
   * @param scores churn_scores rows with the scoring model's {@code horizon_days}
   * @param mrr customer_id, as_of_date, mrr (the feature snapshots)
   * @param customers customer_id, segment, industry, churn_date
   * @param dataEnd the last day of data: horizons ending after it have no actuals yet
   */
  public static Dataset<Row> expectedVsActual(Dataset<Row> scores, Dataset<Row> mrr, Dataset<Row> customers,
      LocalDate dataEnd) {
    Dataset<Row> joined = scores.join(mrr.select("customer_id", "as_of_date", "mrr"),
            new String[] {"customer_id", "as_of_date"}, "left")
        .join(customers.select("customer_id", "segment", "industry", "churn_date"), "customer_id");
    String ended = "date_add(as_of_date, horizon_days) <= DATE'" + Date.valueOf(dataEnd) + "'";
    String churnedInHorizon = "churn_date > as_of_date AND churn_date <= date_add(as_of_date, horizon_days)";
    joined.createOrReplaceTempView("_forecast_input");
    return joined.sparkSession().sql("SELECT as_of_date, model_version, horizon_days, "
        + "date_add(as_of_date, horizon_days) AS horizon_end, "
        + "coalesce(segment, 'ALL') AS segment, coalesce(industry, 'ALL') AS industry, "
        + "count(*) AS customers_scored, " + ExactSums.sql("churn_probability") + " AS expected_churners, "
        + ExactSums.sql("churn_probability * coalesce(mrr, 0D)") + " AS expected_mrr_at_risk, "
        + ExactSums.sql("churn_probability * coalesce(mrr, 0D) * horizon_days / " + Actions.DAYS_PER_MONTH)
        + " AS expected_mrr_lost, "
        + "CASE WHEN " + ended + " THEN count_if(" + churnedInHorizon + ") END AS actual_churners, "
        + "CASE WHEN " + ended + " THEN coalesce(" + ExactSums.sql("CASE WHEN " + churnedInHorizon + " THEN mrr END")
        + ", 0D) END AS actual_mrr_lost "
        + "FROM _forecast_input GROUP BY as_of_date, model_version, horizon_days, "
        + "GROUPING SETS ((segment, industry), (segment), (industry), ())");
  }
}
