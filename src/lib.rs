//! grant-ledger: a budgetary double-entry ledger for community safety partnership grants.
//! Modules in reading order:

/// The command line, one file per command group: serve and init, report, export, verify,
/// token, virement, year, quarter, audit, schedule, receipt, repayment, organisation, return,
/// agreement, import.
pub mod cli;
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
/// The test that the modules of `storage`, and of `cli`, name each other without a cycle.
#[cfg(test)]
mod module_cycles;
