-- Databricks notebook source
-- MAGIC %md
-- MAGIC # Cohort retention
-- MAGIC Customers grouped by signup month (`churn.cohort_retention`): the share still customers at the end of each
-- MAGIC month after signup (month 0 = the signup month), to see when customers leave.

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Status: what this notebook can show yet, and what to run if something is missing

-- COMMAND ----------

-- expect rows
SELECT CASE WHEN (SELECT count(*) FROM churn.customers) = 0 THEN 'no customers yet: run ingest'
            WHEN (SELECT count(*) FROM churn.cohort_retention) = 0 THEN 'no cohorts yet: run retention'
            ELSE 'ready: cohorts from ' || (SELECT min(cohort_month) FROM churn.cohort_retention) END AS status

-- COMMAND ----------

-- expect rows
SELECT cohort_month, months_since_signup, customers, retained, round(retention_rate, 3) AS retention_rate
FROM churn.cohort_retention
ORDER BY cohort_month, months_since_signup

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## The same as a triangle: one row per cohort, one column per month since signup

-- COMMAND ----------

-- expect rows
SELECT cohort_month,
       max(customers) AS customers,
       round(max(CASE WHEN months_since_signup = 0 THEN retention_rate END), 3) AS m0,
       round(max(CASE WHEN months_since_signup = 1 THEN retention_rate END), 3) AS m1,
       round(max(CASE WHEN months_since_signup = 2 THEN retention_rate END), 3) AS m2,
       round(max(CASE WHEN months_since_signup = 3 THEN retention_rate END), 3) AS m3,
       round(max(CASE WHEN months_since_signup = 6 THEN retention_rate END), 3) AS m6
FROM churn.cohort_retention
GROUP BY cohort_month
ORDER BY cohort_month
