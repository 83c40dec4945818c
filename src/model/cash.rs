//! The funder's cash (docs/cash.md): an award's payment schedule, receipts from the funder
//! and repayments of returned money; shared by storage, http, cli and reports.

use chrono::NaiveDate;
use serde::Serialize;

use super::fields::{Fields, FromFields};
use super::wire::{Amount, Code, IsoDate, Text, TextOrEmpty};
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

/// An award's payment schedule: its instalments, in due date order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PaymentSchedule(pub Vec<Instalment>);

/// One instalment of a schedule to set.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = InstalmentBody)]
#[serde(deny_unknown_fields)]
pub struct NewInstalment {
    #[schema(value_type = IsoDate)]
    pub due_on: NaiveDate,
    #[schema(value_type = Amount)]
    pub amount: Money,
    /// What the payment waits on, e.g. "subject to evaluation"; empty or absent when none.
    #[schema(value_type = Option<TextOrEmpty>)]
    pub condition: String,
}

impl FromFields for NewInstalment {
    fn read(f: &mut Fields) -> Self {
        NewInstalment { due_on: f.date("due_on"), amount: f.money("amount"), condition: f.text_or_empty("condition") }
    }
}

impl From<NewInstalment> for Instalment {
    fn from(n: NewInstalment) -> Instalment {
        Instalment { due_on: n.due_on, amount: n.amount, condition: n.condition }
    }
}

/// A payment schedule to set: at most 120 instalments.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = PaymentScheduleBody)]
pub struct ScheduleCmd(pub Vec<NewInstalment>);

impl From<ScheduleCmd> for Vec<Instalment> {
    fn from(ScheduleCmd(items): ScheduleCmd) -> Vec<Instalment> {
        items.into_iter().map(Instalment::from).collect()
    }
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
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = CashBody)]
#[serde(deny_unknown_fields)]
pub struct CashCmd {
    #[schema(value_type = Code)]
    pub grant: String,
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    /// When the money moved: a receipt from a year before the award's year begins to its
    /// end, a repayment from its start to two years after it ends (422 naming `date`). The
    /// year and quarter the date falls in must be open (409 `period_closed`).
    #[schema(value_type = IsoDate)]
    pub date: NaiveDate,
    #[schema(value_type = Amount)]
    pub amount: Money,
    /// The remittance or payment reference.
    #[schema(value_type = Text)]
    pub reference: String,
}

impl FromFields for CashCmd {
    fn read(f: &mut Fields) -> Self {
        CashCmd {
            grant: f.code("grant"),
            year: f.year("financial_year"),
            date: f.date("date"),
            amount: f.money("amount"),
            reference: f.text("reference"),
        }
    }
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
