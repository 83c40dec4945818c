//! grant-ledger: a budgetary double-entry ledger for community safety partnership grants.
//! Modules in reading order:

/// Command-line subcommands: serve, token, verify, import, export.
pub mod cli;
/// Command-line grant agreements: list, show, evidence.
pub mod cli_agreements;
/// Command-line controls: virements, years, audit.
pub mod cli_controls;
/// Command-line funder's cash and organisations: schedule, receipt, repayment, organisation.
pub mod cli_funder;
/// Command-line filed returns: file, list, show, changes.
pub mod cli_returns;
/// Command-line tokens: create, list, revoke.
pub mod cli_tokens;
/// CSV interchange: spend import, Transparency Code export, hledger and beancount journals.
pub mod csv;
/// Pure core: money, financial years, accounts, entries, operations and rules.
pub mod domain;
/// The Tamworth reference data and the illustrative demo, loaded into an empty ledger.
pub mod fixtures;
/// The only axum and JSON: routes, auth, problem+json errors.
pub mod http;
/// Types shared by storage, http, cli, csv and reports: commands, records, `Page`, `Actor`.
pub mod model;
/// Budget reports: variance, quarterly, multi-year, the Commissioner's return; CSV and tables.
pub mod reports;
/// The only SQL: both backends, balances, idempotency, verification.
pub mod storage;

/// The test that each layer names only the layers below it.
#[cfg(test)]
mod layers;
