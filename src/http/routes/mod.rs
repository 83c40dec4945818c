//! Route modules, one per area, each with its own `router()`.

pub mod cash;
pub mod controls;
pub mod imports;
pub mod interchange;
pub mod ledger;
pub mod monitoring;
pub mod postings;
pub mod reference;
pub mod reports;
pub mod returns;
pub mod tokens;
pub mod users;
