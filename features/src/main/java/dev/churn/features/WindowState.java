package dev.churn.features;

import static org.apache.spark.sql.functions.*;

import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * Running per-customer window state: everything the snapshot's aggregates need, kept per as-of date so that the
 * state of day D is the state of D - 1 updated with the rollup day that enters the windows (D) and the days that
 * leave them (D - w for each window w), instead of an aggregation over the whole lookback.
 *
 * <p>The catalogue declares its aggregates as one of four kinds ({@link Aggregate}); each kind has a from-scratch
 * expression over the rollup rows (what {@link FeatureBuilder#engagementFeatures} and the benchmark's
 * DuckDB peer compute) and a state it can be advanced with:
 * <ul>
 *   <li>{@link Sum} over days [from, to) ago: running sums over [0, w) for each window end w (a running total
 *   when {@code to} is {@link #ALL_HISTORY}); the sum is their difference. Counts are whole numbers and money is a
 *   decimal, so updating by addition and subtraction is exact and equals the from-scratch sum to the last
 *   digit.</li>
 *   <li>{@link Max} over the last w days: per column, the days of the longest such window whose value is larger
 *   than every later day's (a monotonic queue: a few entries, not the window's rows); the maximum over any w is
 *   its earliest entry within w days. Advancing drops the entries that left the window and those the entering
 *   day's value reaches, then appends that day.</li>
 *   <li>{@link Latest}: the latest day matching a condition, over all history (recency is not capped).</li>
 *   <li>{@link LastChange}: the value after the latest plan change at least {@code minAge} days old, over all
 *   history (a plan chosen two years ago is still the plan).</li>
 * </ul>
 * A customer is in the state of D once it has any rollup row on or before D; the state's columns equal those of
 * {@link #fromScratch} on the same rollup, which a test asserts for a month of consecutive nights.
 */
public final class WindowState {
  private WindowState() {}

  /** The {@code to} of a {@link Sum} over all history: a running total nothing leaves. */
  public static final int ALL_HISTORY = Integer.MAX_VALUE;

  /** The exact type money is summed in (both from scratch and in the state). */
  public static final DataType MONEY = DataTypes.createDecimalType(38, 6);
  public static final String CUSTOMER_ID = DailyActivity.CUSTOMER_ID;

  /** An aggregate of the catalogue over the rollup rows up to the as-of date. */
  public sealed interface Aggregate permits Sum, Max, Latest, LastChange {
    /** The aggregate computed from the rollup rows on or before the as-of date (windows bound themselves). */
    Column scratch(FeatureCatalogue.Inputs in);

    /** The aggregate from a row of the state. */
    Column fromState();
  }

  /**
   * The sum of {@code value} over the rows {@code from} to {@code to - 1} days old; {@code key} names the value
   * (sums of one value share their running sums); {@code money} sums it as an exact decimal.
   */
  public record Sum(String key, Function<FeatureCatalogue.Inputs, Column> value, int from, int to, boolean money)
      implements Aggregate {
    @Override
    public Column scratch(FeatureCatalogue.Inputs in) {
      Column inWindow = from == 0 ? in.age().lt(to) : in.age().geq(from).and(in.age().lt(to));
      return sum(when(inWindow, typed(in)));
    }

    @Override
    public Column fromState() {
      Column upTo = col(StateColumns.sum(key, to));
      return from == 0 ? upTo : upTo.minus(col(StateColumns.sum(key, from))).cast(money ? MONEY : DataTypes.LongType);
    }

    Column typed(FeatureCatalogue.Inputs in) {
      return value.apply(in).cast(money ? MONEY : DataTypes.LongType);
    }
  }

  /** The largest {@code column} over the last {@code days} days. */
  public record Max(String column, int days) implements Aggregate {
    @Override
    public Column scratch(FeatureCatalogue.Inputs in) {
      return max(when(in.age().lt(days), col(column)));
    }

    @Override
    public Column fromState() {
      Column inWindow = filter(col(StateColumns.queue(column)),
          e -> e.getField("d").gt(date_sub(col(FeatureBuilder.AS_OF_DATE), days)));
      return try_element_at(inWindow, lit(1)).getField("v");
    }
  }

  /** The latest day on or before the as-of date whose row matches {@code condition}; {@code key} names it. */
  public record Latest(String key, Function<FeatureCatalogue.Inputs, Column> condition) implements Aggregate {
    @Override
    public Column scratch(FeatureCatalogue.Inputs in) {
      return max(when(condition.apply(in), col(DailyActivity.ACTIVITY_DATE)));
    }

    @Override
    public Column fromState() {
      return col(StateColumns.latest(this));
    }
  }

  /** {@code column} on the latest day with a plan change ({@link DailyActivity#MRR_END} set) at least {@code minAge} days old. */
  public record LastChange(String column, int minAge) implements Aggregate {
    @Override
    public Column scratch(FeatureCatalogue.Inputs in) {
      Column changed = changed(in.age().geq(minAge));
      return max_by(when(changed, col(column)), when(changed, col(DailyActivity.ACTIVITY_DATE)));
    }

    @Override
    public Column fromState() {
      return col(StateColumns.change(this));
    }

    Column changed(Column ageOk) {
      Column c = col(DailyActivity.MRR_END).isNotNull();
      return minAge == 0 ? c : c.and(ageOk);
    }
  }

  /** What the catalogue's aggregates need kept, by kind, with each running column named once. */
  /** A running sum of {@code sum}'s value over the last {@code window} days. */
  private record Running(Sum sum, int window) {}

  private record Spec(TreeMap<String, Running> sumColumns, Map<String, Integer> queues,
      Map<String, Latest> latests, Map<String, LastChange> changes) {}

  private static final Spec SPEC = spec();

  private static Spec spec() {
    TreeMap<String, Running> sumColumns = new TreeMap<>();
    Map<String, Integer> queues = new LinkedHashMap<>();
    Map<String, Latest> latests = new LinkedHashMap<>();
    Map<String, LastChange> changes = new LinkedHashMap<>();
    for (FeatureCatalogue.Feature f : FeatureCatalogue.features()) {
      f.aggregates().forEach((name, agg) -> {
        if (agg instanceof Sum s) {
          if (s.from() > 0) {
            sumColumns.putIfAbsent(StateColumns.sum(s.key(), s.from()), new Running(s, s.from()));
          }
          sumColumns.putIfAbsent(StateColumns.sum(s.key(), s.to()), new Running(s, s.to()));
        } else if (agg instanceof Max m) {
          queues.merge(m.column(), m.days(), Math::max);
        } else if (agg instanceof Latest l) {
          latests.putIfAbsent(StateColumns.latest(l), l);
        } else if (agg instanceof LastChange c) {
          changes.putIfAbsent(StateColumns.change(c), c);
        }
      });
    }
    return new Spec(sumColumns, queues, latests, changes);
  }

  /** The days whose rollup rows {@link #advance} reads for {@code asOf}: the day entering and those leaving. */
  private static List<LocalDate> daysRead(LocalDate asOf) {
    TreeSet<Integer> ages = new TreeSet<>();
    ages.add(0);
    SPEC.sumColumns().values().stream().filter(r -> r.window() != ALL_HISTORY).forEach(r -> ages.add(r.window()));
    SPEC.changes().values().forEach(c -> ages.add(c.minAge()));
    return ages.stream().map(a -> asOf.minusDays(a)).sorted().toList();
  }

  /**
   * The state of {@code asOf} from the rollup rows up to it.
   *
   * @param daily rollup rows (all of them: recency and plan changes reach back to the first day; rows after asOf
   *     are ignored)
   */
  public static Dataset<Row> fromScratch(Dataset<Row> daily, LocalDate asOf) {
    return fromScratch(daily, List.of(asOf));
  }

  /**
   * The states of every date of {@code asOfs} in one aggregation: each rollup row is paired with every as-of date on
   * or after its day, and the pairs are grouped by customer and date. One plan and one pass for a training's
   * snapshots, not one per date; the rows read are those of the latest date times the dates at most, the same work
   * as one aggregation per date.
   *
   * @param daily rollup rows (all of them, as for one date)
   */
  public static Dataset<Row> fromScratch(Dataset<Row> daily, Collection<LocalDate> asOfs) {
    Column asOf = col(FeatureBuilder.AS_OF_DATE);
    // One date (a night's rebuild) needs no pairing: a literal column and a filter, without the broadcast's job.
    Dataset<Row> paired = asOfs.size() == 1
        ? daily.withColumn(FeatureBuilder.AS_OF_DATE, lit(Date.valueOf(asOfs.iterator().next())))
            .where(col(DailyActivity.ACTIVITY_DATE).leq(asOf))
        : daily.join(broadcast(FeatureBuilder.asOfDates(daily.sparkSession(), asOfs)),
            col(DailyActivity.ACTIVITY_DATE).leq(asOf));
    FeatureCatalogue.Inputs in = FeatureBuilder.inputs(asOf);
    List<Column> aggs = new ArrayList<>();
    SPEC.sumColumns().forEach((c, r) ->
        aggs.add(coalesce(sum(when(in.age().lt(r.window()), r.sum().typed(in))), zero(r.sum())).as(c)));
    SPEC.queues().forEach((c, w) -> aggs.add(queue(c, w, in).as(StateColumns.queue(c))));
    SPEC.latests().forEach((c, l) -> aggs.add(l.scratch(in).as(c)));
    SPEC.changes().forEach((c, ch) -> {
      aggs.add(ch.scratch(in).as(c));
      aggs.add(max(when(ch.changed(in.age().geq(ch.minAge())), col(DailyActivity.ACTIVITY_DATE)))
          .as(c + StateColumns.ON));
    });
    Dataset<Row> agg = paired.groupBy(col(CUSTOMER_ID), asOf)
        .agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(Column[]::new));
    return ordered(agg, asOf);
  }

  /**
   * The monotonic queue of {@code column} over the last {@code days} days: (day, value) of each day whose value
   * is larger than every later day's, by day.
   */
  private static Column queue(String column, int days, FeatureCatalogue.Inputs in) {
    // sort_array compares with the type's ordering; array_sort evaluates its comparator lambda per comparison
    // (5 % of a demo's CPU, profiled). The elements are never null, so both give the same order.
    Column all = sort_array(collect_list(when(in.age().lt(days).and(col(column).isNotNull()),
        struct(col(DailyActivity.ACTIVITY_DATE).as("d"), col(column).as("v")))));
    return filter(all, (e, i) -> forall(slice(all, i.plus(2), size(all)), later -> e.getField("v").gt(later.getField("v"))));
  }

  private static DataType type(Running r) {
    return r.sum().money() ? MONEY : DataTypes.LongType;
  }

  private static Column zero(Sum s) {
    return s.money() ? lit(0).cast(MONEY) : lit(0L);
  }

  /**
   * The state of {@code asOf} from the state of the day before.
   *
   * @param previous the state of asOf - 1
   * @param daily daily_activity rows (only those of the day entering and the days leaving the windows are read)
   */
  public static Dataset<Row> advance(Dataset<Row> previous, Dataset<Row> daily, LocalDate asOf) {
    Column day = lit(Date.valueOf(asOf));
    FeatureCatalogue.Inputs in = FeatureBuilder.inputs(day);
    Dataset<Row> moved = daily.where(col(DailyActivity.ACTIVITY_DATE).isin(
        daysRead(asOf).stream().map(Date::valueOf).toArray()));
    // One row per customer with what enters (age 0) and what leaves (age w) each window.
    List<Column> aggs = new ArrayList<>();
    SPEC.sumColumns().forEach((c, r) -> {
      aggs.add(sum(when(in.age().equalTo(0), r.sum().typed(in))).as("e_" + c));
      aggs.add(r.window() == ALL_HISTORY ? lit(null).cast(type(r)).as("x_" + c)
          : sum(when(in.age().equalTo(r.window()), r.sum().typed(in))).as("x_" + c));
    });
    SPEC.queues().forEach((c, w) -> aggs.add(max(when(in.age().equalTo(0), col(c))).as("e_" + StateColumns.queue(c))));
    SPEC.latests().forEach((c, l) -> aggs.add(max(when(in.age().equalTo(0).and(l.condition().apply(in)),
        col(DailyActivity.ACTIVITY_DATE))).as("e_" + c)));
    SPEC.changes().forEach((c, ch) -> {
      Column at = ch.changed(lit(true)).and(in.age().equalTo(ch.minAge()));
      aggs.add(max(when(at, col(ch.column()))).as("e_" + c));
      aggs.add(max(when(at, col(DailyActivity.ACTIVITY_DATE))).as("e_" + c + StateColumns.ON));
    });
    Dataset<Row> delta = moved.groupBy(col(CUSTOMER_ID)).agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(Column[]::new));
    Dataset<Row> p = previous.drop(FeatureBuilder.AS_OF_DATE, FeatureBuilder.FEATURE_SET);
    Dataset<Row> j = p.join(delta, new String[] {CUSTOMER_ID}, "full_outer");

    List<Column> out = new ArrayList<>();
    out.add(col(CUSTOMER_ID));
    SPEC.sumColumns().forEach((c, r) -> {
      Sum s = r.sum();
      out.add(coalesce(col(c), zero(s)).plus(coalesce(col("e_" + c), zero(s))).minus(coalesce(col("x_" + c), zero(s)))
          .cast(s.money() ? MONEY : DataTypes.LongType).as(c));
    });
    SPEC.queues().forEach((c, w) -> {
      String q = StateColumns.queue(c);
      Column entering = col("e_" + q);
      Column kept = filter(col(q), e -> e.getField("d").gt(date_sub(day, w))
          .and(entering.isNull().or(e.getField("v").gt(entering))));
      Column added = array(struct(day.as("d"), entering.as("v")));
      out.add(when(col(q).isNull(), when(entering.isNotNull(), added))
          .when(entering.isNull(), kept).otherwise(concat(kept, added)).as(q));
    });
    SPEC.latests().forEach((c, l) -> out.add(coalesce(col("e_" + c), col(c)).as(c)));
    SPEC.changes().forEach((c, ch) -> {
      Column entering = col("e_" + c + StateColumns.ON).isNotNull();
      out.add(when(entering, col("e_" + c)).otherwise(col(c)).as(c));
      out.add(when(entering, col("e_" + c + StateColumns.ON)).otherwise(col(c + StateColumns.ON))
          .as(c + StateColumns.ON));
    });
    return ordered(j.select(out.toArray(Column[]::new)), day);
  }

  /** The state's columns in their fixed order: customer_id, as_of_date, the running values, feature_set. */
  private static Dataset<Row> ordered(Dataset<Row> state, Column asOf) {
    List<Column> cols = new ArrayList<>();
    cols.add(col(CUSTOMER_ID));
    cols.add(asOf.as(FeatureBuilder.AS_OF_DATE));
    SPEC.sumColumns().keySet().forEach(c -> cols.add(col(c)));
    SPEC.queues().keySet().forEach(c -> cols.add(col(StateColumns.queue(c))));
    SPEC.latests().keySet().forEach(c -> cols.add(col(c)));
    SPEC.changes().keySet().forEach(c -> {
      cols.add(col(c));
      cols.add(col(c + StateColumns.ON));
    });
    cols.add(lit(FeatureCatalogue.featureSet()).as(FeatureBuilder.FEATURE_SET));
    return state.select(cols.toArray(Column[]::new));
  }

  /**
   * The catalogue's aggregates from states, one row per customer and as-of date in them: {@code _cid},
   * {@code _asof} and a column per aggregate name, equal to the from-scratch aggregation of the same rollup.
   */
  public static Dataset<Row> aggregates(Dataset<Row> state) {
    Map<String, Column> out = new LinkedHashMap<>();
    out.put("_cid", col(CUSTOMER_ID));
    out.put("_asof", col(FeatureBuilder.AS_OF_DATE));
    for (FeatureCatalogue.Feature f : FeatureCatalogue.features()) {
      f.aggregates().forEach((name, agg) -> {
        out.putIfAbsent(name, agg.fromState());
      });
    }
    return state.select(out.entrySet().stream().map(e -> e.getValue().as(e.getKey())).toArray(Column[]::new));
  }
}
