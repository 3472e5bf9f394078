-- Databricks notebook source
-- MAGIC %md
-- MAGIC # Retention by segment and industry, against the industry yardsticks
-- MAGIC Reads `churn.retention_rates` (written by `churn retention`). Definitions (docs/domain.md): churn rate = lost / S;
-- MAGIC retention = (E - N) / S. The yardsticks are yearly retention, so month rates are compared after annualising
-- MAGIC (`retention_rate_annualized` = monthly retention ^ 12). Partial periods are flagged and left out here.

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Status: what this notebook can show yet, and what to run if something is missing

-- COMMAND ----------

-- expect rows
SELECT CASE WHEN (SELECT count(*) FROM churn.customers) = 0 THEN 'no customers yet: run ingest'
            WHEN (SELECT count(*) FROM churn.retention_rates) = 0 THEN 'no retention rates yet: run retention'
            ELSE 'ready: periods up to ' || (SELECT max(period_end) FROM churn.retention_rates) END AS status

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Each industry's own retention next to its yardstick (latest full month)

-- COMMAND ----------

-- expect rows
SELECT industry,
       customers_start,
       customers_lost,
       round(retention_rate, 4) AS monthly_retention,
       round(retention_rate_annualized, 3) AS annualised_retention,
       benchmark_retention_rate AS yardstick,
       round(gap_to_benchmark, 3) AS gap
FROM churn.retention_rates
WHERE period_type = 'month' AND NOT is_partial AND segment = 'ALL' AND industry <> 'ALL'
  AND period_start = (SELECT max(period_start) FROM churn.retention_rates WHERE period_type = 'month' AND NOT is_partial)
ORDER BY gap NULLS LAST

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Churn counted four ways, by segment and month

-- COMMAND ----------

-- expect rows
SELECT period_start, segment, customers_lost, round(churn_rate, 4) AS churn_rate, round(mrr_lost, 2) AS mrr_lost,
       round(mrr_churn_rate, 4) AS mrr_churn_rate, round(mrr_contraction, 2) AS mrr_lost_to_downgrades
FROM churn.retention_rates
WHERE period_type = 'month' AND NOT is_partial AND industry = 'ALL' AND segment <> 'ALL'
ORDER BY period_start, segment

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Quarters, all customers

-- COMMAND ----------

SELECT period_start, is_partial, customers_start, customers_new, customers_lost, customers_end,
       round(retention_rate, 4) AS retention_rate, round(mrr_churn_rate, 4) AS mrr_churn_rate
FROM churn.retention_rates
WHERE period_type = 'quarter' AND segment = 'ALL' AND industry = 'ALL'
ORDER BY period_start
