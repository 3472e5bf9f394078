package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A record's identity (its event key, from the mapping's identity rule) and what it says about the batch: records
 * that repeat an accepted event ({@link RejectReason#DUPLICATE}) and records an earlier run stored from the same
 * file and position (replays). Pure transforms: the ingest job supplies the keys and positions already stored.
 */
public final class EventKeys {
  private EventKeys() {}

  /** Marks a record whose file and position an earlier run already stored (accepted or quarantined). */
  public static final String REPLAY = "_replay";
  private static final String REPEATED_KEY = "_repeated_key";
  private static final String FIRST = "_first";

  static Column positionKey() {
    return concat(lit("pos:"), sha2(concat_ws(":", col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION).cast("string")), 256));
  }

  static Column eventKey(SourceMapping.Identity identity) {
    return switch (identity) {
      case EVENT_ID -> coalesce(nullif(trim(col(Events.EVENT_ID)), lit("")), positionKey());
      case POSITION -> positionKey();
      case CONTENT -> concat(lit("content:"), sha2(col(Events.RAW_RECORD), 256));
    };
  }

  /**
   * The event keys that more than one valid record of the batch carries, with the first such record's (file,
   * position) in {@code _first}: the input of {@link #markDuplicates}. Only keys travel, never whole records.
   */
  public static Dataset<Row> repeatedKeys(Dataset<Row> validated) {
    return validated.where(col(Events.REASON).isNull())
        .groupBy(col(Events.EVENT_KEY).as(REPEATED_KEY))
        .agg(count(lit(1)).as("_n"), min(struct(col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION))).as(FIRST))
        .where(col("_n").gt(1)).drop("_n");
  }

  /**
   * Marks records that repeat an accepted event as {@link RejectReason#DUPLICATE}: within the batch every
   * record of an event key after the first (by file, then position; {@code repeated} is
   * {@link #repeatedKeys}; null when no key repeats) and every record whose key is in {@code storedKeys} (one
   * column, {@link Events#EVENT_KEY}; null when nothing stored can match). Both are small next to the batch: pass them
   * with a broadcast hint where they are.
   */
  public static Dataset<Row> markDuplicates(Dataset<Row> validated, Dataset<Row> repeated, Dataset<Row> storedKeys) {
    Dataset<Row> joined = validated;
    Column inBatch = lit(false);
    if (repeated != null) {
      joined = joined.join(repeated, col(Events.EVENT_KEY).equalTo(col(REPEATED_KEY))
          .and(col(Events.REASON).isNull()), "left");
      inBatch = col(Events.REASON).isNull().and(col(REPEATED_KEY).isNotNull())
          .and(not(struct(col(Events.SOURCE_FILE), col(Events.SOURCE_POSITION)).equalTo(col(FIRST))));
    }
    Column earlier = lit(false);
    if (storedKeys != null) {
      Dataset<Row> stored = storedKeys.select(col(Events.EVENT_KEY).as("_stored_key"));
      joined = joined.join(stored, col(Events.EVENT_KEY).equalTo(col("_stored_key"))
          .and(col(Events.REASON).isNull()), "left");
      earlier = col(Events.REASON).isNull().and(col("_stored_key").isNotNull());
    }
    return joined
        .withColumn(Events.DETAIL, when(inBatch, lit("same event key as an earlier record of this batch"))
            .when(earlier, lit("event key already stored by an earlier run")).otherwise(col(Events.DETAIL)))
        .withColumn(Events.REASON, when(inBatch.or(earlier), lit(RejectReason.DUPLICATE.code()))
            .otherwise(col(Events.REASON)))
        .drop(REPEATED_KEY, FIRST, "_stored_key");
  }

  /**
   * Flags, in {@link #REPLAY}, records whose (file, position) an earlier run stored already; they are neither
   * new events nor new rejects. {@code storedPositions} has columns {@link Events#SOURCE_FILE} and
   * {@link Events#SOURCE_POSITION}, each pair once (null when nothing stored can match).
   */
  public static Dataset<Row> markReplays(Dataset<Row> records, Dataset<Row> storedPositions) {
    return markReplays(records, storedPositions, false);
  }

  /**
   * As {@link #markReplays(Dataset, Dataset)}; under an order_grain ({@code orders}) an order is one stored event
   * keyed by its file, customer and grain values, so a valid line whose key is stored ({@code storedPositions}
   * then holds {@link Events#EVENT_KEY}) is a replay of its file.
   */
  public static Dataset<Row> markReplays(Dataset<Row> records, Dataset<Row> storedPositions, boolean orders) {
    if (orders && storedPositions != null) {
      Dataset<Row> stored = storedPositions.select(col(Events.EVENT_KEY).as("_sk"), lit(true).as(REPLAY));
      return records.join(stored, col(Events.EVENT_KEY).equalTo(col("_sk")).and(col(Events.REASON).isNull()), "left")
          .withColumn(REPLAY, coalesce(col(REPLAY), lit(false))).drop("_sk");
    }
    if (storedPositions == null) {
      return records.withColumn(REPLAY, lit(false));
    }
    Dataset<Row> stored = storedPositions
        .select(col(Events.SOURCE_FILE).as("_sf"), col(Events.SOURCE_POSITION).as("_sp"), lit(true).as(REPLAY));
    Dataset<Row> joined = records.join(stored, col(Events.SOURCE_FILE).equalTo(col("_sf"))
        .and(col(Events.SOURCE_POSITION).equalTo(col("_sp"))), "left");
    return joined.withColumn(REPLAY, coalesce(col(REPLAY), lit(false))).drop("_sf", "_sp");
  }
}
