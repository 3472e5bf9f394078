package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The {@code daily_activity} rollup: one row per customer and day with a count per signal. Features are built
 * from it, never from raw events, so a snapshot costs customers x window days, not the length of history.
 */
public final class DailyActivity {
  private DailyActivity() {}

  public static final String CUSTOMER_ID = "customer_id";
  public static final String ACTIVITY_DATE = "activity_date";
  public static final String MRR_END = "mrr_end";
  public static final String PLAN_END = "plan_end";

  /** A per-day count (or sum) in the rollup, and how it is computed from events. */
  public enum Signal {
    EVENTS("events", "events of any type"),
    LOGINS("logins", "logins", EventType.LOGIN),
    SESSIONS("sessions", "product sessions", EventType.SESSION),
    FEATURE_USES("feature_uses", "feature uses", EventType.FEATURE_USE),
    ACTIVE_USERS("active_users", "distinct users (seats) who logged in, had a session or used a feature"),
    EMAIL_OPENS("email_opens", "email opens", EventType.EMAIL_OPEN),
    EMAIL_CLICKS("email_clicks", "email clicks", EventType.EMAIL_CLICK),
    UNSUBSCRIBES("unsubscribes", "newsletter unsubscribes", EventType.NEWSLETTER_UNSUBSCRIBE),
    TICKETS("tickets", "support tickets", EventType.SUPPORT_TICKET),
    TICKETS_HIGH("tickets_high", "high-severity support tickets"),
    PAYMENTS("payments", "successful payments", EventType.PAYMENT),
    PAYMENT_AMOUNT("payment_amount", "amount paid (currency units)"),
    FAILED_PAYMENTS("failed_payments", "failed payments", EventType.PAYMENT_FAILED),
    REFUNDS("refunds", "refunds", EventType.REFUND),
    REFUND_AMOUNT("refund_amount", "amount refunded (currency units, as a positive sum)"),
    UPGRADES("upgrades", "plan upgrades", EventType.PLAN_UPGRADE),
    DOWNGRADES("downgrades", "plan downgrades", EventType.PLAN_DOWNGRADE),
    TRIAL_STARTS("trial_starts", "trial starts", EventType.TRIAL_START),
    TRIAL_ENDS("trial_ends", "trial ends", EventType.TRIAL_END),
    CANCELLATIONS("cancellations", "cancellation events", EventType.CANCELLATION);

    private final String column;
    private final String meaning;
    private final EventType type;

    Signal(String column, String meaning) {
      this(column, meaning, null);
    }

    Signal(String column, String meaning, EventType type) {
      this.column = column;
      this.meaning = meaning;
      this.type = type;
    }

    public String column() { return column; }
    public String meaning() { return meaning; }

    /** Whether the signal sums money (a double) rather than counting (an int). */
    public boolean money() {
      return this == PAYMENT_AMOUNT || this == REFUND_AMOUNT;
    }
  }

  /**
   * Rolls accepted events up to customer x day. Input: rows of the {@code events} table (any subset of days;
   * the result holds exactly the customer-days present in it). Output: {@link #CUSTOMER_ID},
   * {@link #ACTIVITY_DATE}, one column per {@link Signal}, and {@link #MRR_END}, the MRR after the day's last
   * plan change and {@link #PLAN_END} the plan it moved to (both null when the plan did not change that day).
   */
  public static Dataset<Row> rollup(Dataset<Row> events) {
    Column type = col(Events.EVENT_TYPE);
    Column engagement = type.isin(EventType.LOGIN.wireName(), EventType.SESSION.wireName(),
        EventType.FEATURE_USE.wireName());
    Column planChange = type.isin(EventType.PLAN_UPGRADE.wireName(), EventType.PLAN_DOWNGRADE.wireName())
        .and(col(Events.MRR).isNotNull());
    List<Column> aggs = new ArrayList<>();
    for (Signal s : Signal.values()) {
      Column agg = switch (s) {
        case EVENTS -> count(lit(1));
        case ACTIVE_USERS -> size(collect_set(when(engagement, col(Events.USER_ID))));
        case TICKETS_HIGH -> count(when(type.equalTo(EventType.SUPPORT_TICKET.wireName())
            .and(col(Events.SEVERITY).isin("high", "urgent", "critical")), lit(1)));
        case PAYMENT_AMOUNT -> coalesce(sum(when(type.equalTo(EventType.PAYMENT.wireName()), col(Events.AMOUNT))), lit(0.0));
        case REFUND_AMOUNT -> coalesce(sum(when(type.equalTo(EventType.REFUND.wireName()), abs(col(Events.AMOUNT)))),
            lit(0.0));
        default -> count(when(type.equalTo(s.type.wireName()), lit(1)));
      };
      aggs.add(agg.cast(s.money() ? "double" : "int").as(s.column));
    }
    aggs.add(max_by(when(planChange, col(Events.MRR)), when(planChange, col(Events.EVENT_TIME))).as(MRR_END));
    aggs.add(max_by(when(planChange, col(Events.PLAN)), when(planChange, col(Events.EVENT_TIME))).as(PLAN_END));
    return events
        .groupBy(col(Events.CUSTOMER_ID), col(Events.EVENT_DATE).as(ACTIVITY_DATE))
        .agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(Column[]::new));
  }
}
