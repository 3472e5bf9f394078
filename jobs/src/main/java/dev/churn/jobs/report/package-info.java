/**
 * The HTML report: a self-contained page of charts drawn headless with XChart, each with its numbers in a
 * table beside it, read from the warehouse's output tables only.
 */
package dev.churn.jobs.report;
