/**
 * The pipeline stages, one class per stage (ingest, features, train, score, retention, and the nightly that
 * chains them): each is constructed with its collaborators ({@link dev.churn.jobs.stages.StageContext}) and
 * validated options, reads from the warehouse, calls the pure transforms of {@code features} and
 * {@code models}, writes, and returns a typed result.
 */
package dev.churn.jobs.stages;
