package dev.churn.jobs.stages;

import dev.churn.jobs.warehouse.ModelRegistry;
import dev.churn.jobs.warehouse.RunLog;
import dev.churn.jobs.warehouse.Warehouse;
import java.io.PrintWriter;

/**
 * What every stage of one run works with, passed in rather than built by the stage: the warehouse, its model
 * registry, the run's log (which labels Spark jobs and writes run_log) and the console the run prints to. Tests
 * pass their own.
 */
public record StageContext(Warehouse warehouse, ModelRegistry registry, RunLog runLog, PrintWriter console) {

  /** The usual collaborators of a run over {@code warehouse}: its registry, and the run log's console. */
  public static StageContext of(Warehouse warehouse, RunLog runLog) {
    return new StageContext(warehouse, new ModelRegistry(warehouse), runLog, runLog.console());
  }
}
