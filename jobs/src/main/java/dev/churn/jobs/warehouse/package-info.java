/**
 * The warehouse: the table contract ({@link dev.churn.jobs.warehouse.Table}: each Delta table's schema,
 * partitioning and key), the idempotent writes built from it, the one-writer lock, the run log, the model
 * registry, the source settings, and the exceptions that carry exit codes.
 */
package dev.churn.jobs.warehouse;
