package dev.churn.models;

import static org.apache.spark.sql.functions.*;

import dev.churn.features.EventValidation;
import dev.churn.features.Events;
import dev.churn.features.IdRules;
import dev.churn.features.RejectReason;
import java.time.LocalDate;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What the retention team did: the interventions file it logs (CSV with a header: customer_id, contacted_on,
 * play, channel and an optional outcome) and the {@code interventions} table, one row per customer, day and play.
 * {@link #check} decides each row: stored, a replay of a row stored from the same file and line, or rejected with
 * a reason (malformed, a missing or unreadable field, a play the playbook does not name, a contact more than a day
 * after the day of the run, a customer the warehouse does not know, a customer, day and play logged before). Dangers: a contact
 * of a held-out customer is stored (it happened), and it is what {@link Effects} counts as the control group's
 * contamination; plays are the playbook's of the ingest, so a team that logs a play a later playbook drops keeps
 * its rows.
 */
public final class Interventions {
  private Interventions() {}

  public static final String CUSTOMER_ID = "customer_id";
  public static final String CONTACTED_ON = "contacted_on";
  public static final String PLAY = "play";
  public static final String CHANNEL = "channel";
  public static final String OUTCOME = "outcome";
  /** What identifies an intervention: the table's key. */
  public static final List<String> KEY = List.of(CUSTOMER_ID, CONTACTED_ON, PLAY);
  /** Set by {@link #check} on a row stored before from the same file and line: neither stored nor rejected again. */
  public static final String REPLAY = "_replay";

  /** The file's columns, read as text. */
  public static final StructType FILE_SCHEMA = new StructType()
      .add(CUSTOMER_ID, DataTypes.StringType)
      .add(CONTACTED_ON, DataTypes.StringType)
      .add(PLAY, DataTypes.StringType)
      .add(CHANNEL, DataTypes.StringType)
      .add(OUTCOME, DataTypes.StringType);

  public static final StructType TABLE_SCHEMA = new StructType()
      .add(CUSTOMER_ID, DataTypes.StringType, false)
      .add(CONTACTED_ON, DataTypes.DateType, false)
      .add(PLAY, DataTypes.StringType, false)
      .add(CHANNEL, DataTypes.StringType, false)
      .add(OUTCOME, DataTypes.StringType)
      .add(Events.SOURCE_FILE, DataTypes.StringType, false)
      .add(Events.SOURCE_POSITION, DataTypes.LongType, false)
      .add(Events.RUN_ID, DataTypes.StringType, false);

  /** The plays an intervention may name: every play of {@code playbook}, and {@link Playbook#CHECK_IN}. */
  public static Set<String> plays(Playbook playbook) {
    Set<String> plays = new TreeSet<>(playbook.rules().stream().map(Playbook.Rule::play).toList());
    plays.add(Playbook.CHECK_IN);
    return plays;
  }

  /**
   * Checks an interventions file read as text (the {@link #FILE_SCHEMA} columns it has, a missing one read as null,
   * with lineage and the reader's {@link EventValidation#MALFORMED} flag). Returns its rows typed as the table's
   * ({@link #TABLE_SCHEMA} without the run id) with {@link Events#REASON} and {@link Events#DETAIL} set on a
   * rejected row (first problem first) and {@link #REPLAY} on a row {@code stored} holds from the same file and line.
   *
   * @param customers the warehouse's customer ids ({@code customer_id})
   * @param stored the interventions table's rows
   * @param today the day of the run: a contact more than a day after it is {@code future_contact}
   */
  public static Dataset<Row> check(Dataset<Row> file, Set<String> plays, LocalDate today, Dataset<Row> customers,
      Dataset<Row> stored) {
    for (String c : FILE_SCHEMA.fieldNames()) {
      if (!List.of(file.columns()).contains(c)) {
        file = file.withColumn(c, lit(null).cast(DataTypes.StringType));
      }
    }
    Column id = IdRules.id(col(CUSTOMER_ID));
    // ISO dates only: a bare cast reads "2026" as 2026-01-01 and "2026-3" as March.
    Column day = when(trim(col(CONTACTED_ON)).rlike("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
        try_to_date(trim(col(CONTACTED_ON)), "yyyy-MM-dd"));
    Column play = lower(trim(col(PLAY)));
    Column channel = nullif(lower(trim(col(CHANNEL))), lit(""));
    Column outcome = nullif(trim(col(OUTCOME)), lit(""));
    String known = String.join(", ", plays);
    Column longest = greatest(length(id), length(channel), length(outcome), length(play));
    Column[] problem = {
        when(col(EventValidation.MALFORMED), lit(RejectReason.MALFORMED.code())),
        when(col(EventValidation.MALFORMED), lit("interventions line does not have the header's number of fields"))};
    problem = first(problem, id.isNull().or(id.equalTo("")), RejectReason.BAD_INTERVENTION_RECORD,
        lit("customer_id is missing"));
    problem = first(problem, IdRules.hiddenCharacter(id).or(IdRules.hiddenCharacter(channel))
        .or(IdRules.hiddenCharacter(coalesce(outcome, lit("")))), RejectReason.BAD_INTERVENTION_RECORD,
        lit("customer_id, channel or outcome holds a control or invisible character"));
    problem = first(problem, coalesce(longest.gt(EventValidation.MAX_FIELD_CHARS), lit(false)),
        RejectReason.OVERSIZED_FIELD, lit("a field is longer than " + EventValidation.MAX_FIELD_CHARS + " characters"));
    problem = first(problem, day.isNull(), RejectReason.BAD_INTERVENTION_RECORD, concat(lit("contacted_on '"),
        coalesce(col(CONTACTED_ON), lit("")), lit("' is not a date (YYYY-MM-DD)")));
    problem = first(problem, play.isNull().or(play.equalTo("")), RejectReason.BAD_INTERVENTION_RECORD,
        lit("play is missing"));
    problem = first(problem, channel.isNull(), RejectReason.BAD_INTERVENTION_RECORD, lit("channel is missing"));
    problem = first(problem, not(play.isin(plays.toArray())), RejectReason.UNKNOWN_PLAY,
        concat(lit("play '"), play, lit("' is not one of the playbook's: " + known)));
    // A day of slack, as for events: a team a time zone ahead of UTC logs tomorrow's date tonight.
    problem = first(problem, day.gt(lit(java.sql.Date.valueOf(today.plusDays(1)))), RejectReason.FUTURE_CONTACT,
        concat(lit("contacted_on "), day.cast("string"), lit(" is more than a day after the day of the run, " + today)));
    Dataset<Row> typed = file.select(col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION), col(Events.RAW_RECORD),
        id.as(CUSTOMER_ID), day.as(CONTACTED_ON), play.as(PLAY), channel.as(CHANNEL), outcome.as(OUTCOME),
        problem[0].as(Events.REASON), problem[1].as(Events.DETAIL));
    // A customer the warehouse does not know: the team's log names someone no event or customers file did.
    Dataset<Row> ids = customers.select(col(CUSTOMER_ID).as("_known")).distinct();
    Column unknown = col(Events.REASON).isNull().and(col("_known").isNull());
    typed = typed.join(ids, typed.col(CUSTOMER_ID).equalTo(ids.col("_known")), "left")
        .withColumn(Events.DETAIL, when(unknown, concat(lit("customer_id '"), col(CUSTOMER_ID),
            lit("' is in neither the events nor the customers file"))).otherwise(col(Events.DETAIL)))
        .withColumn(Events.REASON, when(unknown, lit(RejectReason.UNKNOWN_CUSTOMER.code())).otherwise(col(Events.REASON)))
        .drop("_known");
    // Logged before: stored from another file or line (from the same one it is a replay), or earlier in this batch.
    Dataset<Row> before = stored.select(col(CUSTOMER_ID).as("_s_customer"), col(CONTACTED_ON).as("_s_day"),
        col(PLAY).as("_s_play"), col(Events.SOURCE_FILE).as("_s_file"), col(Events.SOURCE_POSITION).as("_s_pos"));
    typed = typed.join(before, typed.col(CUSTOMER_ID).equalTo(before.col("_s_customer"))
        .and(typed.col(CONTACTED_ON).equalTo(before.col("_s_day"))).and(typed.col(PLAY).equalTo(before.col("_s_play")))
        .and(col(Events.REASON).isNull()), "left");
    Column replay = coalesce(col("_s_file").equalTo(col(Events.SOURCE_FILE))
        .and(col("_s_pos").equalTo(col(Events.SOURCE_POSITION))), lit(false));
    Column elsewhere = col("_s_file").isNotNull().and(not(replay));
    // Numbered among the rows that could be stored only: a rejected line does not make its corrected copy a duplicate.
    Column storable = col(Events.REASON).isNull().and(not(replay));
    var order = Window.partitionBy(col(CUSTOMER_ID), col(CONTACTED_ON), col(PLAY), storable)
        .orderBy(col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION));
    Column later = storable.and(col("_rank").gt(1));
    return typed.withColumn(REPLAY, replay)
        .withColumn("_rank", when(storable, row_number().over(order)))
        .withColumn(Events.DETAIL, when(elsewhere, concat(lit("the same customer, day and play was logged from "),
                col("_s_file"), lit(" line "), col("_s_pos").cast("string")))
            .when(later, lit("the same customer, day and play is logged earlier in the batch"))
            .otherwise(col(Events.DETAIL)))
        .withColumn(Events.REASON, when(elsewhere.or(later), lit(RejectReason.DUPLICATE.code()))
            .otherwise(col(Events.REASON)))
        .withColumn(Events.EVENT_KEY, lit(null).cast(DataTypes.StringType))
        .drop("_rank", "_s_customer", "_s_day", "_s_play", "_s_file", "_s_pos");
  }

  /** {reason, detail} of {@code problem}, else of {@code bad} when it holds. */
  private static Column[] first(Column[] problem, Column bad, RejectReason reason, Column detail) {
    Column b = coalesce(bad, lit(false));
    return new Column[] {problem[0].when(b, lit(reason.code())), problem[1].when(b, detail)};
  }
}
