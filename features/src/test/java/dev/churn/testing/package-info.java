/**
 * Test support shared by every module's tests: one local Spark session per test class, temporary folders,
 * and row comparisons that ignore order.
 */
package dev.churn.testing;
