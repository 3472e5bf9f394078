package dev.churn.models;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.FeatureCatalogue;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF3;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;

/**
 * What a scored customer is worth and whom to call: per customer, the value a month brings (MRR, or on a log
 * without MRR the spend of the last 365 days over 12), the MRR expected to be lost over the model's horizon
 * (probability x MRR x horizon months), and the expected remaining lifetime value (monthly value x the months a
 * customer of its segment and tenure is expected to stay, from the segment's Kaplan-Meier curve, restricted to the
 * span the curve has seen). The action list ranks customers by expected net value of a contact =
 * probability x save rate x remaining lifetime value - contact cost, keeps those worth more than they cost, up to
 * the budget.
 */
public final class Actions {
  private Actions() {}

  /** Days in an average month. */
  public static final double DAYS_PER_MONTH = 365.25 / 12;

  /**
   * How contacts are valued: the share of contacted churners a contact keeps, what one contact costs (currency
   * units) and how many contacts can be made per night; the share of the list held out as the control group, and
   * the playbook that gives each contact its play.
   */
  public record Options(double saveRate, double contactCost, int budget, double holdoutShare, Playbook playbook)
      implements Serializable {
    public static final double DEFAULT_SAVE_RATE = 0.25;
    public static final double DEFAULT_CONTACT_COST = 10.0;
    public static final int DEFAULT_BUDGET = 100;
    public static final double DEFAULT_HOLDOUT_SHARE = 0.10;
    /** More than half held out is an experiment, not a contact list. */
    public static final double MAX_HOLDOUT_SHARE = 0.5;

    /** With the default playbook. */
    public Options(double saveRate, double contactCost, int budget, double holdoutShare) {
      this(saveRate, contactCost, budget, holdoutShare, Playbook.DEFAULT);
    }

    public Options {
      if (playbook == null) {
        throw new IllegalArgumentException("a playbook is needed");
      }
      if (!(holdoutShare >= 0 && holdoutShare <= MAX_HOLDOUT_SHARE)) {
        throw new IllegalArgumentException("--holdout-share must be between 0 and " + MAX_HOLDOUT_SHARE + ", not "
            + holdoutShare);
      }
      if (!(saveRate > 0 && saveRate <= 1)) {
        throw new IllegalArgumentException("--save-rate must be in (0, 1], not " + saveRate);
      }
      if (!(contactCost >= 0) || Double.isInfinite(contactCost)) {
        throw new IllegalArgumentException("--contact-cost must be zero or more, not " + contactCost);
      }
      if (budget <= 0) {
        throw new IllegalArgumentException("--budget must be a positive number of contacts, not " + budget);
      }
    }

    public static Options defaults() {
      return new Options(DEFAULT_SAVE_RATE, DEFAULT_CONTACT_COST, DEFAULT_BUDGET, DEFAULT_HOLDOUT_SHARE);
    }
  }

  /**
   * Per scored customer: the score's columns, segment and industry, {@code monthly_value}, {@code
   * expected_mrr_lost}, {@code expected_remaining_months} and {@code expected_ltv}.
   *
   * @param scores churn_scores rows with the scoring model's {@code horizon_days}
   * @param features customer_features rows of the scoring dates (customer_id, as_of_date, mrr,
   *     payment_amount_365d, tenure_days)
   * @param customers customer_id, segment, industry
   * @param curves {@code survival_curves} rows by segment as of the scoring dates (as_of_date, group_value, day,
   *     survival)
   */
  public static Dataset<Row> values(Dataset<Row> scores, Dataset<Row> features, Dataset<Row> customers,
      List<Row> curves) {
    UserDefinedFunction remaining = udf(new RemainingDays(curves), DataTypes.DoubleType);
    Column mrr = coalesce(col("mrr"), lit(0.0));
    Column monthly = when(mrr.gt(0), mrr).otherwise(coalesce(col("payment_amount_365d"), lit(0.0)).divide(12));
    return scores.join(features.select("customer_id", "as_of_date", "mrr", "payment_amount_365d", FeatureCatalogue.TENURE_DAYS),
            new String[] {"customer_id", "as_of_date"})
        .join(customers.select("customer_id", "segment", "industry"), "customer_id")
        .withColumn("monthly_value", monthly)
        .withColumn("expected_mrr_lost", col("churn_probability").multiply(mrr)
            .multiply(col("horizon_days")).divide(DAYS_PER_MONTH))
        .withColumn("expected_remaining_months", remaining.apply(col("as_of_date"), col("segment"),
            col(FeatureCatalogue.TENURE_DAYS).cast("int")).divide(DAYS_PER_MONTH))
        .withColumn("expected_ltv", col("monthly_value").multiply(col("expected_remaining_months")));
  }

  /** The action list's column that says whether a listed customer is to be contacted or held out. */
  public static final String CONTACT_GROUP = "contact_group";
  /** {@code contact_group} of a customer the team contacts. */
  public static final String CONTACT = "contact";
  /** {@code contact_group} of a customer held out as the control group: listed, never contacted. */
  public static final String HOLDOUT = "holdout";

  /** The action list of {@link #values}' rows with the assumed save rate for every play (nothing measured yet). */
  public static Dataset<Row> rank(Dataset<Row> values, Options options) {
    return rank(values, options, Map.of());
  }

  /**
   * The action list of {@link #values}' rows, per scoring date: ranked, worth more than a contact costs, within the
   * budget; each with its play ({@link Options#playbook}) and its group: a share of the list ({@link
   * Options#holdoutShare}) is held out as the control group that tells later whether the contacts worked. A
   * contact's expected net value uses its play's save rate: {@link SaveRates#used} of the assumed rate and the
   * play's pooled measurement in {@code measured} ({@link SaveRates#pooled}), the assumed rate for a play not
   * measured yet; {@code save_rate} and {@code save_rate_source} say which.
   */
  public static Dataset<Row> rank(Dataset<Row> values, Options options, Map<String, SaveRates.Measured> measured) {
    Playbook playbook = options.playbook();
    Column rate = lit(options.saveRate());
    Column source = lit(SaveRates.ASSUMED);
    for (Map.Entry<String, SaveRates.Measured> m : measured.entrySet()) {
      Column isPlay = col("play").equalTo(m.getKey());
      rate = when(isPlay, lit(SaveRates.used(options.saveRate(), m.getValue()))).otherwise(rate);
      source = when(isPlay, lit(SaveRates.MEASURED)).otherwise(source);
    }
    Column net = col("churn_probability").multiply(col("save_rate")).multiply(col("expected_ltv"))
        .minus(options.contactCost());
    return values.withColumn("play", playbook.play(col("top_reasons")))
        .withColumn("play_reason", playbook.playReason(col("top_reasons")))
        .withColumn("save_rate", rate).withColumn("save_rate_source", source)
        .withColumn("expected_net_value", net).where(col("expected_net_value").gt(0))
        .withColumn("rank", row_number().over(Window.partitionBy("as_of_date").orderBy(col("expected_net_value").desc(), col("customer_id"))))
        .where(col("rank").leq(options.budget()))
        .select(col("as_of_date"), col("rank"), col("customer_id"), col("segment"), col("industry"),
            col("churn_probability"), col("risk_tier"), col("lifecycle_stage"), col("monthly_value"),
            col("expected_remaining_months"), col("expected_ltv"), col("expected_mrr_lost"),
            col("expected_net_value"), col("top_reasons"), col("save_rate"),
            lit(options.contactCost()).as("contact_cost"), col("model_version"), col("play"), col("play_reason"),
            when(holdoutDraw(col("customer_id")).lt(options.holdoutShare()), lit(HOLDOUT))
                .otherwise(lit(CONTACT)).as(CONTACT_GROUP),
            lit(options.holdoutShare()).as("holdout_share"), col("save_rate_source"));
  }

  /**
   * A customer's draw for the control group, uniform in [0, 1): the first 32 bits of the SHA-256 of
   * "holdout|customer_id" over 2^32. Random across customers, yet fixed for a customer whatever the night, the run,
   * the partitioning or the engine (any SQL engine with sha2 recomputes it): a rerun or a killed run's redo holds out
   * the same customers, and a held-out customer is never on a call list, so it is never contacted while a horizon
   * it is measured over runs (a universal control group, as CRM tools keep). Danger: the same share of customers is
   * never called by the list; a draw renewed each month was tried first and let a customer held out late in a
   * month be called the next, which biased the measured effect toward zero.
   */
  public static Column holdoutDraw(Column customerId) {
    Column hex = substring(sha2(concat(lit("holdout|"), customerId), 256), 1, 8);
    return conv(hex, 16, 10).cast("double").divide(4294967296.0);
  }

  /**
   * Expected remaining days of a customer of a segment alive at a tenure: the area under the segment's survival
   * curve from the tenure to the curve's last day, over S(tenure). A segment without a curve (nobody churned) has
   * S = 1 throughout: its remaining days are the span the data has seen, which the caller cannot know, so 0.
   * Curves are told apart by their as-of date: a customer scored on a day is valued with that day's curve.
   */
  static final class RemainingDays implements UDF3<java.sql.Date, String, Integer, Double> {
    private final Map<String, double[][]> curves = new HashMap<>();

    RemainingDays(List<Row> rows) {
      Map<String, List<double[]>> points = new HashMap<>();
      for (Row r : rows) {
        points.computeIfAbsent(r.getAs("as_of_date") + "|" + r.getAs("group_value"), k -> new ArrayList<>())
            .add(new double[] {((Number) r.getAs("day")).doubleValue(), ((Number) r.getAs("survival")).doubleValue()});
      }
      points.forEach((segment, list) -> {
        list.sort((a, b) -> Double.compare(a[0], b[0]));
        curves.put(segment, list.toArray(double[][]::new));
      });
    }

    @Override
    public Double call(java.sql.Date asOf, String segment, Integer tenure) {
      double[][] curve = segment == null ? null : curves.get(asOf + "|" + segment);
      if (curve == null || tenure == null) {
        return 0.0;
      }
      double end = curve[curve.length - 1][0];
      double t = Math.max(0, tenure);
      if (t >= end) {
        return 0.0;
      }
      double area = 0;
      double s = 1.0;
      double from = 0;
      double sAtT = -1;
      for (double[] p : curve) {
        double day = p[0];
        if (day > t) {
          if (sAtT < 0) {
            sAtT = s;
            from = t;
          }
          area += s * (day - Math.max(from, t));
          from = day;
        }
        s = p[1];
      }
      if (sAtT <= 0) {
        return 0.0;
      }
      return area / sAtT;
    }
  }
}
