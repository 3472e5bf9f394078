/**
 * The churn model without I/O or command line: the out-of-time split, training and tuning, calibrated scoring
 * with reasons, metrics, drift, the retrain decision and the forecast against actual churn.
 */
package dev.churn.models;
