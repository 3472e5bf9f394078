-- Databricks notebook source
-- MAGIC %md
-- MAGIC # Whom to contact tonight, and what it is worth
-- MAGIC `churn.retention_actions` holds, for each scoring date, the customers worth a contact, ranked by expected net
-- MAGIC value = churn probability x save rate x value at stake - contact cost (`--save-rate`, `--contact-cost`,
-- MAGIC `--budget` on `retention`, `nightly` and `demo`). The value at stake is the customer's monthly value (MRR, or
-- MAGIC the last 365 days' spend over 12 on a log without MRR) times the months a customer of its segment and tenure
-- MAGIC is expected to stay, from `churn.survival_curves` (Kaplan-Meier by segment). Each listed customer has a play
-- MAGIC (what the contact does, chosen by its strongest reason the playbook covers) and a group: a share of the list
-- MAGIC (`--holdout-share`, default 10 %) is held out as the control group (`contact_group = 'holdout'`), listed but never
-- MAGIC to be contacted, so that their churn against the contacted customers' measures what the contacts save.

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Status: what this notebook can show yet, and what to run if something is missing

-- COMMAND ----------

-- expect rows
SELECT CASE WHEN (SELECT count(*) FROM churn.model_registry) = 0 THEN 'no model trained yet: run train'
            WHEN (SELECT count(*) FROM churn.churn_scores) = 0 THEN 'no scores yet: run score'
            WHEN (SELECT count(*) FROM churn.survival_curves) = 0 THEN 'no survival curves yet: run retention'
            WHEN (SELECT count(*) FROM churn.retention_actions) = 0 THEN 'no action list yet: run retention after score (or no contact is worth its cost)'
            ELSE 'ready: actions of ' || (SELECT max(as_of_date) FROM churn.retention_actions) END AS status

-- COMMAND ----------

-- expect rows
SELECT rank, customer_id, segment, round(churn_probability, 3) AS probability, risk_tier, lifecycle_stage,
       round(monthly_value, 2) AS monthly_value, round(expected_remaining_months, 1) AS months_left,
       round(expected_net_value, 2) AS expected_net_value, play, play_reason,
       concat_ws('; ', transform(top_reasons, r -> r.phrase)) AS reasons
FROM churn.retention_actions
WHERE as_of_date = (SELECT max(as_of_date) FROM churn.retention_actions)
  AND coalesce(contact_group, 'contact') = 'contact'
ORDER BY rank

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Tonight's list by play and group: the contacts to make, and the control group held out of each play

-- COMMAND ----------

-- expect rows
SELECT coalesce(play, 'unknown') AS play, count_if(contact_group = 'contact') AS contacts,
       count_if(contact_group = 'holdout') AS held_out, round(avg(churn_probability), 3) AS mean_probability
FROM churn.retention_actions
WHERE as_of_date = (SELECT max(as_of_date) FROM churn.retention_actions)
GROUP BY 1
ORDER BY contacts DESC

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## The list by segment: how many contacts, and the value they are expected to keep

-- COMMAND ----------

-- expect rows
SELECT segment, count(*) AS contacts, round(sum(expected_net_value), 2) AS expected_net_value,
       round(avg(churn_probability), 3) AS mean_probability
FROM churn.retention_actions
WHERE as_of_date = (SELECT max(as_of_date) FROM churn.retention_actions)
  AND coalesce(contact_group, 'contact') = 'contact'
GROUP BY segment
ORDER BY expected_net_value DESC

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Survival by segment: median lifetime (null while the curve has not reached one half) and survival at a year

-- COMMAND ----------

-- expect rows
SELECT dimension, group_value, max(median_days) AS median_lifetime_days,
       round(min_by(survival, abs(day - 365)), 3) AS survival_near_one_year,
       max(day) AS last_churn_day
FROM churn.survival_curves
WHERE as_of_date = (SELECT max(as_of_date) FROM churn.survival_curves)
GROUP BY dimension, group_value
ORDER BY dimension, group_value
