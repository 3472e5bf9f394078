package dev.churn.models;

import static org.apache.spark.sql.functions.col;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Whether the contacts worked, measured against the control group (intention to treat): per list month, play
 * (and {@code ALL}) and segment (and {@code ALL}), the customers the lists assigned to contact and those held out,
 * how many of each churned within the horizon after they were first listed that month, both churn rates, the
 * uplift (held-out rate - contacted rate, Newcombe's hybrid score interval) and the measured save rate (uplift /
 * held-out rate = 1 - relative risk, Katz's log interval). A customer counts once per month, with the play, group
 * and segment of its first listing that month (the holdout is drawn once per customer, so every listing agrees
 * on the group). Only entries whose horizon has ended within the data are measured: until then the counts
 * of entries are there and the rates are null. Beside it, from the interventions the team logged: the share of the
 * customers assigned to a contact who were contacted within [first listed, first listed + horizon], the held-out
 * customers contacted all the same (contamination), and the per-protocol save rate of the contacted against the
 * held out. Dangers: the per-protocol rate compares customers the team chose to reach (the reachable, the
 * responsive), who had to be there on the day of the call, with a random group, so it is biased upward by both
 * (intention to treat is the measure); a rate over
 * few customers has a wide interval, and the intervals say so; churn is the warehouse's, as the forecast's actual
 * churners ({@code churn_date} in (first listed, first listed + horizon]); a held-out customer the team contacts
 * all the same ({@code contacted_holdout}) biases the uplift toward 0.
 */
public final class Effects {
  private Effects() {}

  /** The normal quantile of a two-sided 95 % interval. */
  static final double Z = 1.959963984540054;

  public static final StructType SCHEMA = new StructType()
      .add("list_month", DataTypes.DateType)
      .add("play", DataTypes.StringType)
      .add("segment", DataTypes.StringType)
      .add("horizon_days", DataTypes.IntegerType)
      .add("assigned_contact", DataTypes.LongType)
      .add("assigned_holdout", DataTypes.LongType)
      .add("measured_contact", DataTypes.LongType)
      .add("measured_holdout", DataTypes.LongType)
      .add("churned_contact", DataTypes.LongType)
      .add("churned_holdout", DataTypes.LongType)
      .add("contact_churn_rate", DataTypes.DoubleType)
      .add("holdout_churn_rate", DataTypes.DoubleType)
      .add("uplift", DataTypes.DoubleType)
      .add("uplift_ci_low", DataTypes.DoubleType)
      .add("uplift_ci_high", DataTypes.DoubleType)
      .add("save_rate", DataTypes.DoubleType)
      .add("save_rate_ci_low", DataTypes.DoubleType)
      .add("save_rate_ci_high", DataTypes.DoubleType)
      .add("contacted_contact", DataTypes.LongType)
      .add("contacted_holdout", DataTypes.LongType)
      .add("contacted_share", DataTypes.DoubleType)
      .add("measured_contacted", DataTypes.LongType)
      .add("churned_contacted", DataTypes.LongType)
      .add("per_protocol_save_rate", DataTypes.DoubleType)
      .add("per_protocol_save_rate_ci_low", DataTypes.DoubleType)
      .add("per_protocol_save_rate_ci_high", DataTypes.DoubleType);

  /**
   * @param actions retention_actions rows (as_of_date, customer_id, segment, play, contact_group) with the
   *     horizon_days of the model that scored them; rows without a group (lists written before the control group
   *     existed) are left out
   * @param customers customer_id, churn_date
   * @param interventions the interventions table's customer_id and contacted_on (none logged: no rows)
   * @param dataEnd the data's last day: an entry is measured once its horizon ends on or before it
   */
  public static Dataset<Row> measure(Dataset<Row> actions, Dataset<Row> customers, Dataset<Row> interventions,
      LocalDate dataEnd) {
    // Temporary views of this session (Forecast's way): the SQL reads as the definition above.
    actions.where(col(Actions.CONTACT_GROUP).isNotNull()).createOrReplaceTempView("_effects_actions");
    customers.select("customer_id", "churn_date").createOrReplaceTempView("_effects_customers");
    interventions.select(Interventions.CUSTOMER_ID, Interventions.CONTACTED_ON)
        .createOrReplaceTempView("_effects_contacts");
    String end = "DATE'" + dataEnd + "'";
    String entries = "SELECT customer_id, trunc(as_of_date, 'MM') AS list_month, min(as_of_date) AS listed_on, "
        + "min_by(play, as_of_date) AS play, min_by(segment, as_of_date) AS segment, "
        + "min_by(" + Actions.CONTACT_GROUP + ", as_of_date) AS contact_group, "
        + "min_by(horizon_days, as_of_date) AS horizon_days "
        + "FROM _effects_actions GROUP BY customer_id, trunc(as_of_date, 'MM')";
    String reached = "SELECT e.customer_id, e.list_month, count(i.customer_id) > 0 AS contacted FROM (" + entries
        + ") e LEFT JOIN _effects_contacts i ON i.customer_id = e.customer_id AND i.contacted_on >= e.listed_on "
        + "AND i.contacted_on <= date_add(e.listed_on, e.horizon_days) GROUP BY e.customer_id, e.list_month";
    String outcomes = "SELECT e.*, r.contacted, date_add(listed_on, horizon_days) <= " + end + " AS measured, "
        + "coalesce(c.churn_date > listed_on AND c.churn_date <= date_add(listed_on, horizon_days), false) "
        + "AS churned FROM (" + entries + ") e JOIN (" + reached + ") r USING (customer_id, list_month) "
        + "LEFT JOIN _effects_customers c USING (customer_id)";
    String contact = "contact_group = '" + Actions.CONTACT + "'";
    String counts = "SELECT list_month, coalesce(play, 'ALL') AS play, coalesce(segment, 'ALL') AS segment, "
        + "horizon_days, "
        + "count_if(contact_group = '" + Actions.CONTACT + "') AS assigned_contact, "
        + "count_if(contact_group = '" + Actions.HOLDOUT + "') AS assigned_holdout, "
        + "count_if(measured AND contact_group = '" + Actions.CONTACT + "') AS measured_contact, "
        + "count_if(measured AND contact_group = '" + Actions.HOLDOUT + "') AS measured_holdout, "
        + "count_if(measured AND churned AND contact_group = '" + Actions.CONTACT + "') AS churned_contact, "
        + "count_if(measured AND churned AND contact_group = '" + Actions.HOLDOUT + "') AS churned_holdout, "
        + "count_if(contacted AND " + contact + ") AS contacted_contact, "
        + "count_if(contacted AND contact_group = '" + Actions.HOLDOUT + "') AS contacted_holdout, "
        + "count_if(measured AND contacted AND " + contact + ") AS measured_contacted, "
        + "count_if(measured AND churned AND contacted AND " + contact + ") AS churned_contacted "
        + "FROM (" + outcomes + ") GROUP BY list_month, horizon_days, "
        + "GROUPING SETS ((play, segment), (play), (segment), ())";
    // One row per month, play and segment: a few hundred at most, so the intervals are computed here.
    List<Row> out = new ArrayList<>();
    for (Row r : actions.sparkSession().sql(counts).collectAsList()) {
      long nc = r.getLong(6);
      long nh = r.getLong(7);
      long cc = r.getLong(8);
      long ch = r.getLong(9);
      Double pc = nc == 0 ? null : (double) cc / nc;
      Double ph = nh == 0 ? null : (double) ch / nh;
      double[] uplift = pc == null || ph == null ? null : newcombe(ch, nh, cc, nc);
      double[] save = pc == null || ph == null || ch == 0 ? null : saveRate(cc, nc, ch, nh);
      long assigned = r.getLong(4);
      long reachedContact = r.getLong(10);
      long np = r.getLong(12);
      long cp = r.getLong(13);
      double[] perProtocol = np == 0 || ph == null || ch == 0 ? null : saveRate(cp, np, ch, nh);
      out.add(RowFactory.create(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), nc, nh, cc, ch, pc, ph,
          uplift == null ? null : uplift[0], uplift == null ? null : uplift[1], uplift == null ? null : uplift[2],
          save == null ? null : save[0], save == null ? null : save[1], save == null ? null : save[2],
          reachedContact, r.getLong(11), assigned == 0 ? null : (double) reachedContact / assigned, np, cp,
          perProtocol == null ? null : perProtocol[0], perProtocol == null ? null : perProtocol[1],
          perProtocol == null ? null : perProtocol[2]));
    }
    return actions.sparkSession().createDataFrame(out, SCHEMA);
  }

  /** Wilson's score interval of {@code x} events in {@code n}: {low, high}. */
  static double[] wilson(long x, long n) {
    double p = (double) x / n;
    double z2 = Z * Z;
    double centre = p + z2 / (2 * n);
    double half = Z * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
    double denominator = 1 + z2 / n;
    return new double[] {(centre - half) / denominator, (centre + half) / denominator};
  }

  /**
   * The difference of two proportions x1/n1 - x2/n2 with Newcombe's hybrid score interval (his method 10, from
   * Wilson's intervals of each): {difference, low, high}. It stays within [-1, 1] and keeps its coverage on small
   * groups and rates near 0 or 1, where the Wald interval does not.
   */
  public static double[] newcombe(long x1, long n1, long x2, long n2) {
    double p1 = (double) x1 / n1;
    double p2 = (double) x2 / n2;
    double[] w1 = wilson(x1, n1);
    double[] w2 = wilson(x2, n2);
    double d = p1 - p2;
    return new double[] {d, d - Math.sqrt(Math.pow(p1 - w1[0], 2) + Math.pow(w2[1] - p2, 2)),
        d + Math.sqrt(Math.pow(w1[1] - p1, 2) + Math.pow(p2 - w2[0], 2))};
  }

  /**
   * The save rate 1 - RR, where RR = (cc/nc) / (ch/nh) is the contacted customers' churn rate over the held-out
   * ones', with Katz's log interval for RR: {save rate, low, high}. When a cell of the 2 x 2 table is zero (no
   * churner, or no one kept, in a group) one half is added to every cell (Haldane), to the estimate as to the
   * interval, so that both exist and the estimate lies within its interval.
   */
  static double[] saveRate(long cc, long nc, long ch, long nh) {
    double half = cc == 0 || ch == 0 || cc == nc || ch == nh ? 0.5 : 0;
    double a = cc + half;
    double n1 = nc + 2 * half;
    double b = ch + half;
    double n2 = nh + 2 * half;
    double logRr = Math.log((a / n1) / (b / n2));
    double sd = Math.sqrt(1 / a - 1 / n1 + 1 / b - 1 / n2);
    return new double[] {1 - Math.exp(logRr), 1 - Math.exp(logRr + Z * sd), 1 - Math.exp(logRr - Z * sd)};
  }
}
