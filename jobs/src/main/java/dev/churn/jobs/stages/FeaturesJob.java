package dev.churn.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;

import dev.churn.features.ChurnDefinition;
import dev.churn.features.Customers;
import dev.churn.features.FeatureBuilder;
import dev.churn.features.FeatureCatalogue;
import dev.churn.features.WindowState;
import dev.churn.jobs.warehouse.KillPoints;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Settings;
import dev.churn.jobs.warehouse.Table;
import dev.churn.jobs.warehouse.Warehouse;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Writes the {@code customer_features} snapshots of one or more as-of dates (customer x as_of_date, partitioned by
 * as_of_date) from {@code daily_activity} and {@code customers}, through the running window state
 * ({@code feature_state}, one row per customer with activity on or before it, per as-of date).
 *
 * <p>The state of a date is the state of an earlier date at most {@link #MAX_ADVANCE} days before it (the
 * previous date of the run, or the latest stored state) advanced one day at a time with the rollup day entering
 * the windows and the days leaving them ({@link WindowState#advance}); with none, it is built from the rollup up
 * to the date, every such date of the run in one aggregation (a training's snapshots are one pass, not one per
 * date), or, for the nightly job, {@link #MAX_ADVANCE} days before the date and advanced to it (a lead-in, see the
 * constructor). So a night's snapshot costs the customers plus a handful of rollup days, not the history. The chain
 * is kept in memory; every state it went through and every snapshot (all dates in one plan) are written at the
 * end, one commit per table. An ingest drops the states its new days make stale. Idempotent: a rerun replaces
 * those dates' states and snapshots, and writes no state the first run did not (its lead-ins' states are kept, so
 * the rerun advances from them).
 */
public final class FeaturesJob {
  /** The most days a state is advanced through (an advance costs about a third of a rebuild on 20,000 customers). */
  public static final int MAX_ADVANCE = 3;

  private final StageContext ctx;
  private final List<LocalDate> dates;
  private final boolean leadIn;

  public FeaturesJob(StageContext ctx, LocalDate asOf) {
    this(ctx, List.of(asOf));
  }

  /** The snapshots of {@code dates} (any order; built oldest first). */
  public FeaturesJob(StageContext ctx, Collection<LocalDate> dates) {
    this(ctx, dates, false);
  }

  /**
   * With {@code leadIn}, as the nightly job runs it: a date with no state to advance from gets the state of
   * {@link #MAX_ADVANCE} days earlier built from the lookback, advanced to the date, and the states in between
   * kept. The next nights, unless their late events reach further back than those, advance from one of them instead
   * of rebuilding from the lookback (docs/production.md; after a training, whose states are its snapshot dates only,
   * each of the next three nights rebuilt one: bench/results/m-2026-12-07-lead-in.md). The run that leads in pays
   * three advances more; snapshots are the same either way.
   */
  public FeaturesJob(StageContext ctx, Collection<LocalDate> dates, boolean leadIn) {
    if (dates.isEmpty()) {
      throw new IllegalArgumentException("no snapshot date");
    }
    this.ctx = ctx;
    this.dates = List.copyOf(new TreeSet<>(dates));
    this.leadIn = leadIn;
  }

  /**
   * The dates of {@code days} whose snapshot is missing or was built by older feature code, in order: one query for
   * all of them.
   */
  public static List<LocalDate> stale(Warehouse warehouse, Collection<LocalDate> days) {
    TreeSet<LocalDate> stale = new TreeSet<>(days);
    if (!warehouse.exists(Table.CUSTOMER_FEATURES)) {
      return List.copyOf(stale);
    }
    Dataset<Row> t = warehouse.read(Table.CUSTOMER_FEATURES);
    if (List.of(t.columns()).contains(FeatureBuilder.FEATURE_SET)) {
      t.where(col(FeatureBuilder.AS_OF_DATE).isin(days.stream().map(Date::valueOf).toArray())
              .and(col(FeatureBuilder.FEATURE_SET).equalTo(FeatureCatalogue.featureSet())))
          .select(FeatureBuilder.AS_OF_DATE).distinct().collectAsList()
          .forEach(r -> stale.remove(r.getDate(0).toLocalDate()));
    }
    return List.copyOf(stale);
  }

  /** Builds and writes the snapshots; returns the rows written (customers, summed over the dates). */
  public long run() {
    Warehouse warehouse = ctx.warehouse();
    ChurnDefinition churn = Settings.churn(warehouse);
    FeatureBuilder.LifecycleRules rules = FeatureBuilder.LifecycleRules.defaults(churn);
    LocalDate last = dates.get(dates.size() - 1);
    String stage = "features " + (dates.size() == 1 ? last : dates.get(0) + ".." + last);
    RunLog.StageResult written = ctx.runLog().stage(stage, () -> {
      Dataset<Row> customers = warehouse.read(Table.CUSTOMERS);
      LocalDate stored = latestState(dates.get(0));
      List<LocalDate> scratch = fromLookback(dates, stored, leadIn);
      // Rows read: every rollup row up to each date built from the lookback, a customer's state per day advanced.
      long rows = warehouse.rows(Table.DAILY_ACTIVITY) * scratch.size() + warehouse.rows(Table.CUSTOMERS)
          * (dates.size() - scratch.size() + (leadIn ? MAX_ADVANCE * scratch.size() : 0));
      return CodeGeneration.forRows(warehouse.spark(), rows, () -> build(customers, stored, scratch, churn, rules));
    });
    warehouse.refreshNames();
    return written.rowsOut();
  }

  /**
   * The dates whose state is built from the lookback, all in one aggregation: each of {@code dates} (sorted) that no
   * state within {@link #MAX_ADVANCE} days leads to (the one before it, or {@code stored}, the latest stored state
   * within that many days of the first; null when none), or with {@code leadIn} the date that many days before it.
   */
  static List<LocalDate> fromLookback(List<LocalDate> dates, LocalDate stored, boolean leadIn) {
    List<LocalDate> scratch = new ArrayList<>();
    LocalDate before = stored;
    for (LocalDate d : dates) {
      if (before == null || before.plusDays(MAX_ADVANCE).isBefore(d)) {
        scratch.add(restart(d, leadIn));
      }
      before = d;
    }
    return scratch;
  }

  /** Where the chain of {@code d}'s state starts when no state leads to it: the date itself, or its lead-in. */
  private static LocalDate restart(LocalDate d, boolean leadIn) {
    return leadIn ? d.minusDays(MAX_ADVANCE) : d;
  }

  /**
   * Builds the states of {@code scratch} ({@link #fromLookback}) from the lookback, advances each date from the
   * state before it ({@code stored}'s, its lead-in's, or the previous date's), and writes.
   */
  private RunLog.StageResult build(Dataset<Row> customers, LocalDate stored, List<LocalDate> scratch,
      ChurnDefinition churn, FeatureBuilder.LifecycleRules rules) {
    Warehouse warehouse = ctx.warehouse();
    List<Dataset<Row>> states = new ArrayList<>();
    Dataset<Row> built = scratch.isEmpty() ? null
        : WindowState.fromScratch(warehouse.read(Table.DAILY_ACTIVITY), scratch).localCheckpoint();
    if (built != null) {
      states.add(built);
    }
    TreeSet<LocalDate> stateDates = new TreeSet<>(scratch);
    List<String> how = new ArrayList<>();
    LocalDate at = stored;
    Dataset<Row> state = at == null ? null : stateOf(at);
    for (LocalDate d : dates) {
      LocalDate restart = restart(d, leadIn);
      if (scratch.contains(restart)) {
        how.add(restart + " built from the lookback");
        state = built.where(col(FeatureBuilder.AS_OF_DATE).equalTo(lit(Date.valueOf(restart))));
        at = restart;
      }
      if (!d.equals(at)) {
        how.add(d + " advanced from " + at);
        for (LocalDate x = at.plusDays(1); !x.isAfter(d); x = x.plusDays(1)) {
          state = WindowState.advance(state, warehouse.read(Table.DAILY_ACTIVITY), x).localCheckpoint();
          states.add(state);
          stateDates.add(x);
        }
      }
      at = d;
    }
    Dataset<Row> allStates = union(states);
    warehouse.replaceDates(Table.FEATURE_STATE, allStates, stateDates);
    KillPoints.reached(KillPoints.FEATURE_STATE_COMMITTED);
    // One file per date, sorted by customer, as when each date was its own plan: training reads the rows in file
    // order, and L-BFGS's sums (so a model's last digits) follow the order and the partitions they come in.
    Dataset<Row> snapshots = FeatureBuilder.fromState(allStates, customers, dates, churn, rules)
        .repartition(col(FeatureBuilder.AS_OF_DATE))
        .sortWithinPartitions(FeatureBuilder.AS_OF_DATE, Customers.CUSTOMER_ID);
    long n = warehouse.replaceDates(Table.CUSTOMER_FEATURES, snapshots, dates);
    return new RunLog.StageResult(n, n, 0, "window state " + String.join("; ", how));
  }

  private static Dataset<Row> union(Collection<Dataset<Row>> parts) {
    return parts.stream().reduce(Dataset::unionByName).orElseThrow();
  }

  /** The latest as-of date before {@code first}, within {@link #MAX_ADVANCE} days, with a state of the current features. */
  private LocalDate latestState(LocalDate first) {
    Warehouse warehouse = ctx.warehouse();
    if (!warehouse.exists(Table.FEATURE_STATE)) {
      return null;
    }
    Row r = warehouse.read(Table.FEATURE_STATE)
        .where(col(FeatureBuilder.AS_OF_DATE).lt(lit(Date.valueOf(first)))
            .and(col(FeatureBuilder.AS_OF_DATE).geq(lit(Date.valueOf(first.minusDays(MAX_ADVANCE)))))
            .and(col(FeatureBuilder.FEATURE_SET).equalTo(FeatureCatalogue.featureSet())))
        .agg(max(FeatureBuilder.AS_OF_DATE)).first();
    return r.isNullAt(0) ? null : r.getDate(0).toLocalDate();
  }

  private Dataset<Row> stateOf(LocalDate day) {
    return ctx.warehouse().read(Table.FEATURE_STATE).where(col(FeatureBuilder.AS_OF_DATE).equalTo(lit(Date.valueOf(day))));
  }
}
