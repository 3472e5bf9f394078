-- Databricks notebook source
-- MAGIC %md
-- MAGIC # Model health across versions
-- MAGIC `churn.model_registry` holds one row per trained version with its out-of-time metrics on the test snapshot
-- MAGIC (`roc_auc`, `pr_auc`, ...: what the model scores like on dates it never saw), the recency-only baseline there,
-- MAGIC and apart, the validation snapshot's figures that chose its regularisation (`validation_roc_auc`,
-- MAGIC `validation_pr_auc`); `evaluation` says "test", or how it fell back when history was short; `churn.feature_drift` holds each feature's population stability index at every scoring date.

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Status: what this notebook can show yet, and what to run if something is missing

-- COMMAND ----------

-- expect rows
SELECT CASE WHEN (SELECT count(*) FROM churn.model_registry) = 0 THEN 'no model trained yet: run train'
            WHEN (SELECT count(*) FROM churn.feature_drift) = 0 THEN 'no scores yet: run score (drift is measured when scoring)'
            WHEN (SELECT count(*) FROM churn.churn_forecast) = 0 THEN 'no forecast yet: run retention after score'
            ELSE 'ready: model v' || (SELECT max(model_version) FROM churn.model_registry) END AS status

-- COMMAND ----------

-- expect rows
SELECT model_version, trained_at, as_of_date, test_date, evaluation, horizon_days, round(roc_auc, 3) AS roc_auc,
       round(pr_auc, 3) AS pr_auc, round(log_loss, 4) AS log_loss, round(brier, 4) AS brier,
       round(top_decile_lift, 2) AS top_decile_lift, round(baseline_roc_auc, 3) AS recency_baseline_auc,
       round(oracle_roc_auc, 3) AS oracle_auc, validation_date, round(validation_roc_auc, 3) AS validation_roc_auc,
       round(validation_pr_auc, 3) AS validation_pr_auc
FROM churn.model_registry
ORDER BY model_version DESC

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Features that drifted most at the latest scoring date (PSI above 0.25 is worth a look)
-- MAGIC `cause` says why a moved feature moved: `history` when its window reaches back further than the model's first
-- MAGIC training snapshot could see and the log has grown since (it grows with the log, whatever the customers do),
-- MAGIC `population` otherwise.

-- COMMAND ----------

-- expect rows
SELECT feature, model_version, round(psi, 3) AS psi, status, cause
FROM churn.feature_drift
WHERE as_of_date = (SELECT max(as_of_date) FROM churn.feature_drift)
ORDER BY psi DESC
LIMIT 15

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Forecast against what happened (once the horizon has passed)

-- COMMAND ----------

SELECT as_of_date, horizon_end, customers_scored, round(expected_churners, 1) AS expected_churners, actual_churners,
       round(expected_mrr_at_risk, 0) AS expected_mrr_at_risk, round(expected_mrr_lost, 0) AS expected_mrr_lost,
       actual_mrr_lost, round(expected_ltv_at_risk, 0) AS lifetime_value_at_risk
FROM churn.churn_forecast
WHERE segment = 'ALL' AND industry = 'ALL'
ORDER BY as_of_date
