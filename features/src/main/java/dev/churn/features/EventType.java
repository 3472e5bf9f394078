package dev.churn.features;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The canonical activity-log event types. Raw logs name them with {@link #wireName()}; a mapping file
 * maps a foreign log's names onto these.
 */
public enum EventType {
  LOGIN("login"),
  SESSION("session"),
  FEATURE_USE("feature_use"),
  EMAIL_OPEN("email_open"),
  EMAIL_CLICK("email_click"),
  NEWSLETTER_UNSUBSCRIBE("newsletter_unsubscribe"),
  SUPPORT_TICKET("support_ticket"),
  PLAN_UPGRADE("plan_upgrade"),
  PLAN_DOWNGRADE("plan_downgrade"),
  PAYMENT("payment"),
  PAYMENT_FAILED("payment_failed"),
  /** Money given back (an invoice's cancellation): amount and quantity may be negative. */
  REFUND("refund"),
  TRIAL_START("trial_start"),
  TRIAL_END("trial_end"),
  CANCELLATION("cancellation");

  private final String wireName;

  EventType(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  public static List<String> wireNames() {
    return Arrays.stream(values()).map(EventType::wireName).toList();
  }

  public static Optional<EventType> fromWire(String name) {
    return Arrays.stream(values()).filter(t -> t.wireName.equals(name)).findFirst();
  }
}
