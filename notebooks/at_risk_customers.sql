-- Databricks notebook source
-- MAGIC %md
-- MAGIC # Customers most likely to churn, and why
-- MAGIC For account teams: the latest scores in `churn.churn_scores`, highest risk first, with the three signals that
-- MAGIC pushed each score up. Probabilities are calibrated: their sum is the expected number of churners.

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Status: what this notebook can show yet, and what to run if something is missing

-- COMMAND ----------

-- expect rows
SELECT CASE WHEN (SELECT count(*) FROM churn.customers) = 0 THEN 'no customers yet: run ingest'
            WHEN (SELECT count(*) FROM churn.model_registry) = 0 THEN 'no model trained yet: run train'
            WHEN (SELECT count(*) FROM churn.churn_scores) = 0 THEN 'no scores yet: run score'
            ELSE 'ready: scores of ' || (SELECT max(as_of_date) FROM churn.churn_scores) END AS status

-- COMMAND ----------

-- expect rows
SELECT s.customer_id, c.segment, c.industry, c.plan, round(s.churn_probability, 3) AS churn_probability, s.risk_tier,
       s.lifecycle_stage, concat_ws('; ', transform(s.top_reasons, r -> r.phrase)) AS reasons
FROM churn.churn_scores s JOIN churn.customers c USING (customer_id)
WHERE s.as_of_date = (SELECT max(as_of_date) FROM churn.churn_scores)
ORDER BY s.churn_probability DESC
LIMIT 50

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Risk tiers by lifecycle stage

-- COMMAND ----------

-- expect rows
SELECT lifecycle_stage, risk_tier, count(*) AS customers, round(sum(churn_probability), 1) AS expected_churners
FROM churn.churn_scores
WHERE as_of_date = (SELECT max(as_of_date) FROM churn.churn_scores)
GROUP BY lifecycle_stage, risk_tier
ORDER BY lifecycle_stage, risk_tier

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## The reasons that come up most among high-risk customers

-- COMMAND ----------

SELECT coalesce(r.feature, r.phrase) AS feature, count(*) AS customers, round(avg(r.contribution), 3) AS mean_contribution
FROM churn.churn_scores LATERAL VIEW explode(top_reasons) t AS r
WHERE as_of_date = (SELECT max(as_of_date) FROM churn.churn_scores) AND risk_tier = 'high'
GROUP BY coalesce(r.feature, r.phrase)
ORDER BY customers DESC
