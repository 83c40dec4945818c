//! A funder's funds, the partnerships' shares of them, reallocations between shares and the
//! funder's payments (docs/api.md, "Funds" and "Reconciliation"): the commands storage runs
//! and the records it answers.

use chrono::NaiveDate;
use serde::Serialize;

use super::fields::{Fields, FromFields};
use super::wire::{Amount, AmountOrZero, Code, IsoDate, Prose, Text};
use crate::domain::{FinancialYear, Money};

/// A fund to declare: `POST /api/v1/funder/funds`.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = FundBody)]
#[serde(deny_unknown_fields)]
pub struct FundCmd {
    /// One of the funder's grants.
    #[schema(value_type = Code)]
    pub grant: String,
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    /// The fund: what the shares add up to, with the funder's over-programming allowance.
    #[schema(value_type = Amount)]
    pub amount: Money,
}

impl FromFields for FundCmd {
    fn read(f: &mut Fields) -> Self {
        FundCmd { grant: f.code("grant"), year: f.year("financial_year"), amount: f.money("amount") }
    }
}

/// One partnership's share to set: an item of `PUT /api/v1/funder/funds/{grant}/{fy}/shares`.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = ShareBody)]
#[serde(deny_unknown_fields)]
pub struct ShareItem {
    /// A partnership's code.
    #[schema(value_type = Code)]
    pub partnership: String,
    /// Its share, zero or more: its award of the grant for the year.
    #[schema(value_type = AmountOrZero)]
    pub amount: Money,
}

impl FromFields for ShareItem {
    fn read(f: &mut Fields) -> Self {
        ShareItem { partnership: f.code("partnership"), amount: f.money_zero_ok("amount") }
    }
}

/// One partnership's share of a fund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ShareRecord {
    pub partnership: String,
    pub amount: Money,
}

/// A fund with its shares and how far they go over it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FundRecord {
    pub grant: String,
    pub financial_year: FinancialYear,
    pub funder: String,
    /// The fund declared.
    pub amount: Money,
    /// The funder's allowance over the fund, in whole percent.
    pub over_programming_percent: u32,
    /// What the shares may add up to: the fund and the allowance, rounded down to the penny.
    pub ceiling: Money,
    /// By partnership code.
    pub shares: Vec<ShareRecord>,
    pub shares_total: Money,
    /// How far the shares go over the fund; zero when they do not.
    pub over_by: Money,
}

/// Money moved from one partnership's share to another's: `POST /api/v1/funder/reallocations`.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = ReallocationBody)]
#[serde(deny_unknown_fields)]
pub struct ReallocationCmd {
    #[schema(value_type = Code)]
    pub grant: String,
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    #[schema(value_type = Code)]
    pub from_partnership: String,
    /// Not the partnership it is moved from (422).
    #[schema(value_type = Code)]
    pub to_partnership: String,
    #[schema(value_type = Amount)]
    pub amount: Money,
    /// When it takes effect, in the fund's year: the home ledger's entry is dated so, and
    /// rule 8 holds its award from then on.
    #[schema(value_type = IsoDate)]
    pub date: NaiveDate,
    /// Why: shown with the entry in the home ledger and in both audit records.
    #[schema(value_type = Prose)]
    pub reason: String,
}

impl FromFields for ReallocationCmd {
    fn read(f: &mut Fields) -> Self {
        ReallocationCmd {
            grant: f.code("grant"),
            year: f.year("financial_year"),
            from_partnership: f.code("from_partnership"),
            to_partnership: f.code("to_partnership"),
            amount: f.money("amount"),
            date: f.date("date"),
            reason: f.text("reason"),
        }
    }
}

/// One side of a reallocation: the partnership's share (its award) before and after.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AwardChange {
    pub partnership: String,
    pub before: Money,
    pub after: Money,
    /// The home ledger's entry of the change: null for a partnership whose ledger this
    /// service does not hold.
    pub entry_id: Option<i64>,
}

/// A recorded reallocation, with the change to both awards.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReallocationRecord {
    pub id: i64,
    pub grant: String,
    pub financial_year: FinancialYear,
    pub amount: Money,
    pub date: NaiveDate,
    pub reason: String,
    pub from: AwardChange,
    pub to: AwardChange,
    pub created_by: String,
}

/// A payment the funder made to a partnership: `POST /api/v1/funder/payments`.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = FunderPaymentBody)]
#[serde(deny_unknown_fields)]
pub struct PaymentCmd {
    /// A partnership the funder funds (404 otherwise).
    #[schema(value_type = Code)]
    pub partnership: String,
    #[schema(value_type = Code)]
    pub grant: String,
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    /// When the funder paid.
    #[schema(value_type = IsoDate)]
    pub date: NaiveDate,
    #[schema(value_type = Amount)]
    pub amount: Money,
    /// The remittance reference: once per partnership (409 `conflict` on a repeat).
    #[schema(value_type = Text)]
    pub reference: String,
}

impl FromFields for PaymentCmd {
    fn read(f: &mut Fields) -> Self {
        PaymentCmd {
            partnership: f.code("partnership"),
            grant: f.code("grant"),
            year: f.year("financial_year"),
            date: f.date("date"),
            amount: f.money("amount"),
            reference: f.text("reference"),
        }
    }
}

/// A recorded funder payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PaymentRecord {
    pub id: i64,
    pub partnership: String,
    pub grant: String,
    pub financial_year: FinancialYear,
    pub date: NaiveDate,
    pub amount: Money,
    pub reference: String,
    pub created_by: String,
}
