/**
 * The synthetic activity-log generator: a tool beside the product, for the demo, tests and benchmarks, that
 * writes raw logs with their ground truth (each customer's daily churn hazard and every record made bad on
 * purpose). The pipeline never depends on it.
 */
package dev.churn.generator;
