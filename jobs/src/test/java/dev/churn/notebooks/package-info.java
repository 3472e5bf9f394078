/**
 * The analyst notebooks' test: builds a warehouse from generated data and runs every cell of every notebook in
 * {@code notebooks/*.sql}.
 */
package dev.churn.notebooks;
