//! Budget reports, computed from balances and postings read by `storage::reports` (their
//! records are in `model::reports`, the RAG rule in `domain::rag`). Pure: no I/O and no clock
//! (the report date is passed in). Figures are whole pence (`i64`); percentages are
//! `rust_decimal::Decimal`.

pub mod agreements;
pub mod cash;
pub mod columns;
pub mod commissioner;
pub mod csv_out;
pub mod filing;
pub mod lists;
pub mod monitoring;
pub mod multi_year;
pub mod open_data;
pub mod overview;
pub mod quarterly;
pub mod reconciliation;
pub mod run;
pub mod table;
pub mod variance;

pub use variance::{Figures, VarianceReport};
