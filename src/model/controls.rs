//! The year-end command and its record, shared by storage (which runs it), http and cli.

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::{FinancialYear, Money};

pub struct YearEndCmd {
    pub grant: String,
    pub year: FinancialYear,
    pub carry_forward: Money,
    pub return_to_funder: Money,
    /// Defaults to the last day of the year.
    pub date: Option<NaiveDate>,
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct YearEndRecord {
    pub grant: String,
    pub financial_year: FinancialYear,
    pub carried_forward: Money,
    pub returned: Money,
    pub entry_id: i64,
    pub next_financial_year: Option<FinancialYear>,
    pub carry_forward_entry_id: Option<i64>,
    pub reason: String,
}
