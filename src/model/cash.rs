//! The funder's cash (docs/cash.md): an award's payment schedule, receipts from the funder
//! and repayments of returned money; shared by storage, http, cli and reports.

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::{FinancialYear, Money};

/// One instalment of an award's payment schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Instalment {
    /// The date the funder is to pay it.
    pub due_on: NaiveDate,
    pub amount: Money,
    /// What the payment waits on, e.g. "subject to evaluation"; empty when unconditional.
    pub condition: String,
}

/// An instalment with its award, as the cash-position report reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledInstalment {
    pub grant: String,
    pub financial_year: FinancialYear,
    pub due_on: NaiveDate,
    pub amount: Money,
}

/// Which movement of the funder's cash a `CashCmd` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CashMove {
    /// Money received from the funder.
    Receipt,
    /// Returned money paid back to the funder.
    Repayment,
}

/// A receipt or a repayment.
#[derive(Debug, Clone)]
pub struct CashCmd {
    pub grant: String,
    pub year: FinancialYear,
    pub date: NaiveDate,
    pub amount: Money,
    /// The funder's remittance or the council's payment reference.
    pub reference: String,
}

/// A recorded receipt or repayment, with the award's cash figures after it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CashRecord {
    pub entry_id: i64,
    pub grant: String,
    pub financial_year: FinancialYear,
    pub date: NaiveDate,
    pub amount: Money,
    pub reference: String,
    /// All the funder has paid against the award, this included.
    pub received: Money,
    /// Returned money still owed to the funder.
    pub owed_to_funder: Money,
}
