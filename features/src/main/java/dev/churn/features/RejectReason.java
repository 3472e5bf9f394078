package dev.churn.features;

/**
 * Why a raw record was quarantined. The code (lower case) is what {@code events_quarantine.reason} holds;
 * checks run in declaration order and the first that fails names the reason.
 */
public enum RejectReason {
  /** Not parseable at all: invalid JSON, wrong number of delimited fields. */
  MALFORMED("malformed record: not valid for the declared format"),
  /** Bytes that are not UTF-8 (the reader turned them into U+FFFD, which is also refused as such). */
  INVALID_UTF8("the record holds bytes that are not valid UTF-8"),
  /** A JSON record that names a field the mapping reads twice: which value is meant is not known. */
  DUPLICATE_FIELD("a field name appears twice in the record"),
  /** customer_id absent, null or blank. */
  MISSING_CUSTOMER_ID("customer_id is missing or empty"),
  /**
   * customer_id given as a JSON object or array rather than an id (or, in churn's own JSON format, a number), or
   * holding a control or invisible character.
   */
  BAD_CUSTOMER_ID("customer_id is an object, an array or a JSON number, or holds a control or invisible character"),
  /** event_id or user_id given as a JSON object or array, or holding a control or invisible character. */
  BAD_EVENT_ID("event_id or user_id is an object or an array, or holds a control or invisible character"),
  /** An id or text field longer than {@link EventValidation#MAX_FIELD_CHARS} characters. */
  OVERSIZED_FIELD("an id or text field is longer than 1000 characters"),
  /** event_time absent or not in the declared timestamp format. */
  BAD_TIMESTAMP("event_time is missing or not parseable"),
  /** event_time more than one day after the reference date of the batch (folder date or --date). */
  FUTURE_TIMESTAMP("event_time lies in the future of the batch's date"),
  /** event_time before the mapping's earliest_event_date (default 1971-01-01: epoch-zero times). */
  EARLY_TIMESTAMP("event_time lies before the earliest plausible date"),
  /** event_type not one of the canonical types (after mapping). */
  UNKNOWN_EVENT_TYPE("event_type is not a known type"),
  /** amount, quantity or mrr not a number. */
  BAD_NUMBER("a numeric field is not a number"),
  /** amount, quantity or mrr NaN or infinite (as "NaN", "Infinity" or a number beyond a double's range). */
  NON_FINITE_NUMBER("a numeric field is NaN or infinite"),
  /** amount or mrr beyond {@link Events#MAX_MONEY}, or quantity beyond {@link Events#MAX_QUANTITY}, in absolute value. */
  OUT_OF_RANGE("a number beyond what the warehouse carries: |amount| and mrr at most 1e12, |quantity| at most 1000000"),
  /** amount, quantity or mrr below zero. */
  NEGATIVE_AMOUNT("amount, quantity or mrr is negative"),
  /**
   * Same event key as an accepted event, in this batch or an earlier run (for a customers or interventions file:
   * the same customer, or customer, day and play, given before).
   */
  DUPLICATE("duplicate of an event already accepted"),
  /** A customers-file row without a usable customer_id, signup_date or mrr (its detail says which). */
  BAD_CUSTOMER_RECORD("customers record lacks a usable customer_id, signup_date or mrr"),
  /** An interventions-file row without a usable customer_id, contacted_on, play or channel (its detail says which). */
  BAD_INTERVENTION_RECORD("interventions record lacks a usable customer_id, contacted_on, play or channel"),
  /** An intervention whose contacted_on lies after the day of the run. */
  FUTURE_CONTACT("contacted_on lies after the day of the run"),
  /** An intervention whose play the playbook does not name. */
  UNKNOWN_PLAY("play is not one of the playbook's plays"),
  /** An intervention with a customer the warehouse does not know. */
  UNKNOWN_CUSTOMER("customer_id is not a customer of the warehouse");

  private final String description;

  RejectReason(String description) {
    this.description = description;
  }

  public String code() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public String description() {
    return description;
  }
}
