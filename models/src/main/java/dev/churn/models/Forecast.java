package dev.churn.models;

import dev.churn.features.ExactSums;
import java.sql.Date;
import java.time.LocalDate;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The churn forecast against what happened: per scoring date, segment and industry (with {@code ALL} rows), the
 * expected churners (the sum of calibrated probabilities), the MRR at risk (their monthly MRR), the revenue
 * expected to be lost over the model's horizon (probability x MRR x horizon months), the expected remaining
 * lifetime value of the customers scored and the part of it at risk (probability x lifetime value), and, once the
 * horizon has ended within the data, the customers that actually churned in it and their MRR.
 */
public final class Forecast {
  private Forecast() {}

  /**
   * @param values {@link Actions#values} rows: a score with its model's {@code horizon_days}, the customer's
   *     segment, industry and mrr on the scoring date, expected_mrr_lost and expected_ltv
   * @param customers customer_id, churn_date
   * @param dataEnd the last day of data: horizons ending after it have no actuals yet
   */
  public static Dataset<Row> expectedVsActual(Dataset<Row> values, Dataset<Row> customers, LocalDate dataEnd) {
    Dataset<Row> joined = values.join(customers.select("customer_id", "churn_date"), "customer_id");
    String ended = "date_add(as_of_date, horizon_days) <= DATE'" + Date.valueOf(dataEnd) + "'";
    String churnedInHorizon = "churn_date > as_of_date AND churn_date <= date_add(as_of_date, horizon_days)";
    joined.createOrReplaceTempView("_forecast_input");
    return joined.sparkSession().sql("SELECT as_of_date, model_version, horizon_days, "
        + "date_add(as_of_date, horizon_days) AS horizon_end, "
        + "coalesce(segment, 'ALL') AS segment, coalesce(industry, 'ALL') AS industry, "
        + "count(*) AS customers_scored, " + ExactSums.sql("churn_probability") + " AS expected_churners, "
        + ExactSums.sql("churn_probability * coalesce(mrr, 0D)") + " AS expected_mrr_at_risk, "
        + ExactSums.sql("expected_mrr_lost") + " AS expected_mrr_lost, "
        + ExactSums.sql("expected_ltv") + " AS expected_ltv, "
        + ExactSums.sql("churn_probability * expected_ltv") + " AS expected_ltv_at_risk, "
        + "CASE WHEN " + ended + " THEN count_if(" + churnedInHorizon + ") END AS actual_churners, "
        + "CASE WHEN " + ended + " THEN coalesce(" + ExactSums.sql("CASE WHEN " + churnedInHorizon + " THEN mrr END")
        + ", 0D) END AS actual_mrr_lost "
        + "FROM _forecast_input GROUP BY as_of_date, model_version, horizon_days, "
        + "GROUPING SETS ((segment, industry), (segment), (industry), ())");
  }
}
