/**
 * The command line: the picocli root {@link dev.churn.jobs.ChurnCli} (the spark-submit main class), one
 * command per subcommand, the option mixins they share, the config file and the Spark session. Commands parse
 * and validate, open the warehouse and hand over to a stage; they hold no business logic.
 */
package dev.churn.jobs;
