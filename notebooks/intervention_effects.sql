-- Databricks notebook source
-- MAGIC %md
-- MAGIC # Did our interventions work?
-- MAGIC Every action list holds out a share of its customers as a control group (`contact_group = 'holdout'` in
-- MAGIC `churn.retention_actions`, `--holdout-share`, default 10 %), drawn at random per customer and month and never to
-- MAGIC be contacted. `churn.intervention_effects` compares, per list month, play and segment, the churn within the
-- MAGIC horizon of the customers assigned to a contact with the held-out customers' (intention to treat: assigned,
-- MAGIC whether or not the call was made): the uplift (held-out churn rate - contacted churn rate, with Newcombe's 95 %
-- MAGIC interval) and the measured save rate (uplift / held-out churn rate, with Katz's 95 % interval). A customer
-- MAGIC counts once a month, from its first listing; only customers whose horizon has ended are measured.

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Status: what this notebook can show yet, and what to run if something is missing

-- COMMAND ----------

-- expect rows
SELECT CASE WHEN (SELECT count(*) FROM churn.model_registry) = 0 THEN 'no model trained yet: run train'
            WHEN (SELECT count(*) FROM churn.retention_actions) = 0 THEN 'no action list yet: run retention after score'
            WHEN (SELECT count(*) FROM churn.intervention_effects WHERE uplift IS NOT NULL) = 0
              THEN 'not enough evidence yet: ' || (SELECT coalesce(sum(assigned_contact + assigned_holdout), 0) FROM churn.intervention_effects WHERE play = 'ALL' AND segment = 'ALL') || ' customers listed, no list''s horizon has ended'
            ELSE 'ready: effects measured up to the lists of ' || (SELECT date_format(max(list_month), 'yyyy-MM') FROM churn.intervention_effects WHERE uplift IS NOT NULL) END AS status

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Who was listed: assigned to contact and held out, by month and play, and how many can be measured yet

-- COMMAND ----------

-- expect rows
SELECT date_format(list_month, 'yyyy-MM') AS list_month, play, assigned_contact, assigned_holdout,
       measured_contact, measured_holdout, horizon_days, round(contacted_share, 3) AS contacted_share,
       contacted_holdout AS held_out_but_contacted
FROM churn.intervention_effects
WHERE segment = 'ALL'
ORDER BY list_month, play

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## The effect by play: uplift and save rate with their 95 % intervals (empty until a horizon has ended)

-- COMMAND ----------

SELECT date_format(list_month, 'yyyy-MM') AS list_month, play, measured_contact, measured_holdout,
       round(contact_churn_rate, 3) AS churn_contacted, round(holdout_churn_rate, 3) AS churn_held_out,
       round(uplift, 3) AS uplift, round(uplift_ci_low, 3) AS uplift_low, round(uplift_ci_high, 3) AS uplift_high,
       round(save_rate, 3) AS save_rate, round(save_rate_ci_low, 3) AS save_rate_low,
       round(save_rate_ci_high, 3) AS save_rate_high,
       CASE WHEN uplift_ci_low > 0 THEN 'the contacts kept customers'
            WHEN uplift_ci_high < 0 THEN 'the contacted churned more'
            ELSE 'not enough evidence yet' END AS what_it_says
FROM churn.intervention_effects
WHERE segment = 'ALL' AND uplift IS NOT NULL
ORDER BY list_month, play

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## The effect by segment, all plays together

-- COMMAND ----------

SELECT date_format(list_month, 'yyyy-MM') AS list_month, segment, measured_contact, measured_holdout,
       round(uplift, 3) AS uplift, round(uplift_ci_low, 3) AS uplift_low, round(uplift_ci_high, 3) AS uplift_high,
       round(save_rate, 3) AS save_rate
FROM churn.intervention_effects
WHERE play = 'ALL' AND segment <> 'ALL' AND uplift IS NOT NULL
ORDER BY list_month, segment

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## The contacts made: per protocol, from the interventions the team logged (`ingest --interventions`)
-- MAGIC The contacted customers' churn against the control group's. The team chose whom it reached (the reachable,
-- MAGIC the responsive), and a customer called late in its horizon had to be there to be called, so this rate is
-- MAGIC biased upward by both: the save rate above (intention to treat) is the
-- MAGIC measure; a per-protocol rate far from it says the team's choice, not the contact, makes the difference.

-- COMMAND ----------

SELECT date_format(list_month, 'yyyy-MM') AS list_month, play, contacted_contact, round(contacted_share, 3) AS contacted_share,
       contacted_holdout AS held_out_but_contacted, measured_contacted, churned_contacted,
       round(per_protocol_save_rate, 3) AS per_protocol_save_rate,
       round(per_protocol_save_rate_ci_low, 3) AS low, round(per_protocol_save_rate_ci_high, 3) AS high,
       round(save_rate, 3) AS save_rate_intention_to_treat
FROM churn.intervention_effects
WHERE segment = 'ALL' AND contacted_contact > 0
ORDER BY list_month, play
