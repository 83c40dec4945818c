//! The quarterly monitoring cycle's commands and records: officers' forecasts, a project's
//! indicators (outputs and outcomes) and their quarterly returns. Shared by storage (which
//! keeps them), http and cli (which build and show them).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::{FinancialYear, Money, ProgressRag, Quantity};

/// An officer's forecast of a project's year-end outturn on one award, made in `quarter`.
pub struct ForecastCmd {
    pub grant: String,
    pub year: FinancialYear,
    pub quarter: u8,
    pub project: String,
    pub forecast_outturn: Money,
    pub explanation: String,
    pub progress_rag: ProgressRag,
    pub rag_reason: String,
    /// The day the forecast was made; it lies in its quarter and is not after today.
    pub made_on: NaiveDate,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ForecastRecord {
    pub id: i64,
    pub grant: String,
    pub financial_year: FinancialYear,
    #[schema(minimum = 1, maximum = 4)]
    pub quarter: u8,
    pub project: String,
    pub forecast_outturn: Money,
    pub explanation: String,
    pub progress_rag: ProgressRag,
    pub rag_reason: String,
    pub made_on: NaiveDate,
    pub made_by: String,
    /// When it was recorded: RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub made_at: String,
    /// True when a later forecast for the same grant, year, quarter and project, not itself
    /// withdrawn, replaced it.
    pub superseded: bool,
    /// Its withdrawal, when it was recorded in error: it then counts in no report known after.
    pub withdrawal: Option<Withdrawal>,
}

/// A forecast or indicator return withdrawn as recorded in error (docs/design.md rule 10). The
/// record stays; from `withdrawn_at` on it counts in no report, and the one before it (or,
/// for a forecast, the commitment position) shows again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Withdrawal {
    pub reason: String,
    pub withdrawn_by: String,
    /// When it was withdrawn: RFC 3339, UTC. A report `as_known_at` before it still counts the record.
    #[schema(format = DateTime)]
    pub withdrawn_at: String,
}

/// A project's indicator for one financial year.
pub struct IndicatorCmd {
    pub project: String,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub year: FinancialYear,
    pub baseline: Quantity,
    pub target: Quantity,
    pub quarterly_targets: [Quantity; 4],
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorRecord {
    pub project: String,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub financial_year: FinancialYear,
    pub baseline: Quantity,
    pub target: Quantity,
    /// The target of each quarter, Q1 to Q4.
    pub quarterly_targets: [Quantity; 4],
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The latest return of each quarter, Q1 to Q4 (null where none was made).
    pub actuals: [Option<Quantity>; 4],
    /// Every return made, oldest first, superseded ones included.
    pub returns: Vec<IndicatorReturnRecord>,
}

/// One quarter's actual of an indicator.
pub struct IndicatorReturnCmd {
    pub project: String,
    pub indicator: String,
    pub year: FinancialYear,
    pub quarter: u8,
    pub actual: Quantity,
    pub evidence_ref: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorReturnRecord {
    pub id: i64,
    pub project: String,
    pub indicator: String,
    pub financial_year: FinancialYear,
    #[schema(minimum = 1, maximum = 4)]
    pub quarter: u8,
    /// What the quarter achieved (not cumulative).
    pub actual: Quantity,
    pub evidence_ref: String,
    pub note: String,
    pub recorded_by: String,
    /// When it was recorded: RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub recorded_at: String,
    /// True when a later return for the same quarter, not itself withdrawn, replaced it.
    pub superseded: bool,
    /// Its withdrawal, when it was recorded in error: it then counts in no report known after.
    pub withdrawal: Option<Withdrawal>,
}

/// An officer's forecast as a report shows it (`storage::monitoring::latest_forecasts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    pub pence: i64,
    pub explanation: String,
    pub progress_rag: ProgressRag,
    pub rag_reason: String,
    pub made_on: NaiveDate,
    /// The quarter it was made for: the report's, or an earlier one it carries forward from.
    pub quarter: u8,
}

/// The forecast each (grant, project) shows for a report's quarter.
pub type Forecasts = BTreeMap<(String, String), Forecast>;
