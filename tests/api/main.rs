//! One integration test binary: every test runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.

mod support;

mod agreements;
mod append_only;
mod as_at_rules;
mod cash;
mod cash_after_year;
mod cli_ledger;
mod contention;
mod contract;
mod controls;
mod crash;
mod csv_downloads;
mod cursors;
mod default_year;
mod duplicates;
mod evidence_reversal;
mod flow;
mod forecast_corrections;
mod funder_cli;
mod funder_reads;
mod hardening;
mod import_commitments;
mod interchange;
mod invariants;
mod measure;
mod migration_parity;
mod monitoring;
mod one_rounding;
mod open_data;
mod organisations;
mod pages;
mod quarters;
mod race;
mod repeated_keys;
mod reports;
mod returns;
mod roles;
mod simulation;
mod skips;
mod standards;
mod tamper;
mod typed_rows;
mod upgrade;
mod vat;
