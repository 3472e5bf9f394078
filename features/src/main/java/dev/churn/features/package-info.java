/**
 * The activity-log contract and the pure transforms built on it: canonical event types and schemas, source
 * mappings, record validation with reject reasons, the daily rollup, the customer merge policy, the feature
 * snapshot and its catalogue, labels and retention. No I/O and no knowledge of models: every function takes and
 * returns Datasets, and is tested in memory.
 */
package dev.churn.features;
