//! One integration test binary: every test runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.

mod support;

mod agreements;
mod as_at_rules;
mod cash;
mod cli_ledger;
mod contention;
mod contract;
mod controls;
mod crash;
mod cursors;
mod default_year;
mod flow;
mod funder_cli;
mod funder_reads;
mod hardening;
mod interchange;
mod invariants;
mod measure;
mod monitoring;
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
mod tamper;
mod typed_rows;
mod vat;
