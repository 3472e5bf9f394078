package dev.churn.features;

import static dev.churn.features.Customers.*;
import static org.apache.spark.sql.functions.*;

import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The customer merge policy, as pure transforms: what a customers-file row or a batch of events makes of a
 * customer's stored row. Each returns complete {@code customers} rows (the {@link Customers#TABLE_SCHEMA}
 * columns) for the customers of its input, ready to replace the stored ones by key; a customer not stored yet
 * (no row in {@code stored}) is created.
 */
public final class CustomerMerge {
  private CustomerMerge() {}

  private static final String STORED = "_t_";

  /**
   * A validated customers file onto the stored rows: the file sets segment, industry, signup date and plan, and
   * trial end; the current plan and MRR follow the file only while no plan change was recorded from events.
   *
   * @param file rows of {@link Customers#validateFile} that passed (one per customer)
   */
  public static Dataset<Row> fromFile(Dataset<Row> file, Dataset<Row> stored) {
    Dataset<Row> j = withStored(file, stored);
    Column noPlanChange = t(PLAN_CHANGED_AT).isNull();
    return j.select(complete(Map.of(
        SEGMENT, col(SEGMENT),
        INDUSTRY, col(INDUSTRY),
        SIGNUP_DATE, col(SIGNUP_DATE),
        TRIAL_END_DATE, col(TRIAL_END_DATE),
        SIGNUP_PLAN, col(PLAN),
        SIGNUP_MRR, col(MRR),
        PLAN, when(noPlanChange, col(PLAN)).otherwise(t(PLAN)),
        MRR, when(noPlanChange, col(MRR)).otherwise(t(MRR)))));
  }

  /**
   * A batch's per-customer {@link Customers#eventSummary} onto the stored rows: first and last event dates widen,
   * the earliest cancellation wins (and is the churn date under cancellation churn), and a later plan change
   * replaces plan and MRR. A customer first seen in events signs up on its first event day (or the signup_date its
   * records give), with the attributes its records give ({@code attributes}: customer_id and text columns named by
   * {@link SourceMapping#CUSTOMER_ATTRIBUTES}, from {@link EventRows#customerAttributes}; null for none), else
   * the mapping's constants ({@code constants}), else {@link Customers#UNKNOWN}. A known customer keeps its own.
   */
  public static Dataset<Row> fromEvents(Dataset<Row> summary, Dataset<Row> stored, ChurnDefinition churn,
      Map<String, String> constants, Dataset<Row> attributes) {
    Dataset<Row> source = summary;
    List<String> given = new ArrayList<>();
    if (attributes != null) {
      for (String c : attributes.columns()) {
        if (!c.equals(CUSTOMER_ID)) {
          given.add(c);
        }
      }
      List<Column> renamed = new ArrayList<>(List.of(col(CUSTOMER_ID).as("_a_id")));
      given.forEach(c -> renamed.add(col(c).as(ATTRIBUTE + c)));
      Dataset<Row> a = attributes.select(renamed.toArray(Column[]::new));
      source = summary.join(a, summary.col(CUSTOMER_ID).equalTo(a.col("_a_id")), "left").drop("_a_id");
    }
    java.util.function.Function<String, Column> attribute = name -> {
      Column constant = constants.containsKey(name) ? lit(constants.get(name)) : lit(null).cast("string");
      return given.contains(name) ? coalesce(col(ATTRIBUTE + name), constant) : constant;
    };
    java.util.function.Function<String, Column> text = name -> coalesce(lower(trim(attribute.apply(name))), lit(UNKNOWN));
    Dataset<Row> j = withStored(source, stored);
    Column known = t(CUSTOMER_ID).isNotNull();
    Column newer = col(PLAN_CHANGED_AT).isNotNull()
        .and(t(PLAN_CHANGED_AT).isNull().or(col(PLAN_CHANGED_AT).gt(t(PLAN_CHANGED_AT))));
    Column plan = text.apply(PLAN);
    Column mrr = coalesce(trim(attribute.apply(MRR)).try_cast("double"), lit(0.0));
    Column signup = coalesce(try_to_date(trim(attribute.apply(SIGNUP_DATE))), col(FIRST_EVENT_DATE));
    Column cancelled = least(t(CANCELLED_ON), col(CANCELLED_ON));
    return j.select(complete(Map.ofEntries(
        Map.entry(SEGMENT, when(known, t(SEGMENT)).otherwise(text.apply(SEGMENT))),
        Map.entry(INDUSTRY, when(known, t(INDUSTRY)).otherwise(text.apply(INDUSTRY))),
        Map.entry(PLAN, when(known, when(newer, col(PLAN)).otherwise(t(PLAN))).otherwise(coalesce(col(PLAN), plan))),
        Map.entry(MRR, when(known, when(newer, col(MRR)).otherwise(t(MRR))).otherwise(coalesce(col(MRR), mrr))),
        Map.entry(PLAN_CHANGED_AT, when(newer, col(PLAN_CHANGED_AT)).otherwise(t(PLAN_CHANGED_AT))),
        Map.entry(SIGNUP_DATE, when(known, t(SIGNUP_DATE)).otherwise(signup)),
        Map.entry(SIGNUP_PLAN, when(known, t(SIGNUP_PLAN)).otherwise(plan)),
        Map.entry(SIGNUP_MRR, when(known, t(SIGNUP_MRR)).otherwise(mrr)),
        Map.entry(FIRST_EVENT_DATE, least(t(FIRST_EVENT_DATE), col(FIRST_EVENT_DATE))),
        Map.entry(LAST_EVENT_DATE, greatest(t(LAST_EVENT_DATE), col(LAST_EVENT_DATE))),
        Map.entry(CANCELLED_ON, cancelled),
        Map.entry(CHURN_DATE, churn.byInactivity() ? t(CHURN_DATE) : cancelled))));
  }

  /** As {@link #fromEvents(Dataset, Dataset, ChurnDefinition, Map, Dataset)} without attributes from records. */
  public static Dataset<Row> fromEvents(Dataset<Row> summary, Dataset<Row> stored, ChurnDefinition churn,
      Map<String, String> constants) {
    return fromEvents(summary, stored, churn, constants, null);
  }

  private static final String ATTRIBUTE = "_a_";

  /**
   * Under inactivity churn of {@code days} days: the day a customer's silence reached that length, if that day is
   * not after {@code dataEnd} (the last day of data); null for a customer still active or silent for less.
   */
  public static Column inactivityChurnDate(int days, LocalDate dataEnd) {
    Column reached = date_add(col(LAST_EVENT_DATE), days);
    return when(reached.leq(lit(Date.valueOf(dataEnd))), reached);
  }

  /** {@code source} with the stored row of each of its customers, as {@code _t_<column>} (null when new). */
  private static Dataset<Row> withStored(Dataset<Row> source, Dataset<Row> stored) {
    List<Column> renamed = new ArrayList<>();
    for (String c : TABLE_SCHEMA.fieldNames()) {
      renamed.add(col(c).as(STORED + c));
    }
    Dataset<Row> t = stored.select(renamed.toArray(Column[]::new));
    return source.join(t, source.col(CUSTOMER_ID).equalTo(t.col(STORED + CUSTOMER_ID)), "left");
  }

  private static Column t(String column) {
    return col(STORED + column);
  }

  /** Every table column in order: the given expressions, else the stored value. */
  private static Column[] complete(Map<String, Column> values) {
    List<Column> out = new ArrayList<>();
    out.add(col(CUSTOMER_ID));
    for (var f : TABLE_SCHEMA.fields()) {
      if (!f.name().equals(CUSTOMER_ID)) {
        out.add(values.getOrDefault(f.name(), t(f.name())).cast(f.dataType()).as(f.name()));
      }
    }
    return out.toArray(Column[]::new);
  }
}
