//! The commands a recording operation takes and the records it answers, shared by
//! storage (which runs them), http and cli (which build and show them).

use chrono::NaiveDate;
use serde::Serialize;

use utoipa::ToSchema;

use super::fields::{Fields, FromFields};
use super::wire::{Amount, Code, IsoDate, ProseOrEmpty, Text};
use crate::domain::{FinancialYear, Money, OverspendFlag, VirementStatus};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PostingView {
    pub account: String,
    pub amount: Money,
}

/// Award money allocated to a project.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = AllocationBody)]
#[serde(deny_unknown_fields)]
pub struct AllocationCmd {
    #[schema(value_type = Code)]
    pub grant: String,
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    #[schema(value_type = Code)]
    pub project: String,
    #[schema(value_type = Amount)]
    pub amount: Money,
    #[schema(value_type = IsoDate)]
    pub approved_on: NaiveDate,
    #[schema(value_type = Text)]
    pub approval_ref: String,
    #[schema(value_type = Option<ProseOrEmpty>)]
    pub memo: String,
}

impl FromFields for AllocationCmd {
    fn read(f: &mut Fields) -> Self {
        AllocationCmd {
            grant: f.code("grant"),
            year: f.year("financial_year"),
            project: f.code("project"),
            amount: f.money("amount"),
            approved_on: f.date("approved_on"),
            approval_ref: f.text("approval_ref"),
            memo: f.text_or_empty("memo"),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AllocationRecord {
    pub entry_id: i64,
    pub grant: String,
    pub financial_year: FinancialYear,
    pub project: String,
    pub amount: Money,
    pub date: NaiveDate,
    pub approved_on: NaiveDate,
    pub approval_ref: String,
    pub memo: String,
}

pub struct CommitmentCmd {
    pub grant: String,
    /// The year of the commitment; for an agreement, the year of its first part.
    pub year: FinancialYear,
    pub project: String,
    /// For an agreement, empty means the recipient's name.
    pub supplier: String,
    pub reference: String,
    /// For an agreement, its whole amount across every year.
    pub amount: Money,
    pub date: NaiveDate,
    pub memo: String,
    /// Set for a grant agreement; `None` for a purchase order.
    pub agreement: Option<super::agreements::AgreementTerms>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommitmentRecord {
    pub commitment_id: i64,
    /// The entry that committed it (an agreement's first part).
    pub entry_id: i64,
    pub kind: crate::domain::CommitmentKind,
    pub grant: String,
    pub financial_year: String,
    pub project: String,
    pub supplier: String,
    pub reference: String,
    pub amount: Money,
    /// Still committed, across every year.
    pub outstanding: Money,
    #[schema(format = Date)]
    pub date: String,
    pub memo: String,
    /// A grant agreement's partner (an organisation's code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// A grant agreement's parts, each committed or waiting for its year's award.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<super::agreements::PartState>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<OverspendFlag>,
}

pub struct ReleaseCmd {
    pub commitment_id: i64,
    pub date: NaiveDate,
    pub amount: Money,
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReleaseRecord {
    pub entry_id: i64,
    pub commitment_id: i64,
    pub date: NaiveDate,
    pub amount: Money,
    pub reason: String,
    pub outstanding: Money,
}

pub struct ReverseCmd {
    pub entry_id: i64,
    pub date: NaiveDate,
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReversalRecord {
    pub entry_id: i64,
    pub reverses: i64,
    pub date: NaiveDate,
    pub reason: String,
    pub postings: Vec<PostingView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<OverspendFlag>,
}

#[derive(Debug, Clone)]
pub struct SpendCmd {
    pub grant: String,
    pub project: String,
    pub date: NaiveDate,
    pub supplier: String,
    pub description: String,
    pub invoice_ref: String,
    /// Net of VAT, as before VAT was recorded.
    pub amount: Money,
    pub commitment_id: Option<i64>,
    pub source_ref: Option<String>,
    /// The VAT on the invoice, when given (zero or more).
    pub vat: Option<Money>,
    /// Recoverable VAT (the default) is not charged to the budget; irrecoverable VAT is.
    pub vat_recoverable: bool,
    /// Posts even when it repeats a standing spend: a confirmed second invoice.
    pub duplicate_ok: bool,
}

impl SpendCmd {
    /// What the budget bears: the net amount, plus the VAT when it is irrecoverable.
    pub fn charged(&self) -> Result<Money, crate::domain::MoneyError> {
        charged(self.amount, self.vat, self.vat_recoverable)
    }
}

/// The net amount plus VAT that is not recoverable: what a spend or refund posts.
pub fn charged(amount: Money, vat: Option<Money>, recoverable: bool) -> Result<Money, crate::domain::MoneyError> {
    match vat {
        Some(v) if !recoverable => amount.checked_add(v),
        _ => Ok(amount),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SpendRecord {
    pub entry_id: i64,
    pub grant: String,
    pub financial_year: FinancialYear,
    pub project: String,
    pub date: NaiveDate,
    pub supplier: String,
    pub description: String,
    pub invoice_ref: String,
    /// Net of VAT.
    pub amount: Money,
    /// The VAT given, if any.
    pub vat: Option<Money>,
    pub vat_recoverable: bool,
    /// What the entry posts to the budget: `amount`, plus `vat` when it is irrecoverable.
    /// The overspend rule and rule 8 see this figure.
    pub charged: Money,
    pub commitment_id: Option<i64>,
    /// The part of the charged figure drawn from the commitment; the rest came from available.
    pub covered_by_commitment: Money,
    pub source_ref: Option<String>,
    /// The standing spend this one repeats, posted as a confirmed second invoice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<OverspendFlag>,
}

#[derive(Debug, Clone)]
pub struct RefundCmd {
    pub grant: String,
    pub project: String,
    pub date: NaiveDate,
    pub amount: Money,
    pub reference: String,
    pub reason: String,
    /// The imported line this refund came from (a credit note), if any; posts once.
    pub source_ref: Option<String>,
    /// Who sent the money back, when known (an imported credit note names its supplier).
    pub supplier: Option<String>,
    /// The VAT refunded, when given; never more than `amount`, nor than the original's.
    pub vat: Option<Money>,
    /// Defaults to true; irrecoverable VAT refunded comes back to the budget with the net.
    pub vat_recoverable: bool,
    /// The spend entry this refund returns money of, when named.
    pub spend_entry_id: Option<i64>,
    /// The grant agreement this refund claws money back under, when it is a clawback.
    pub commitment_id: Option<i64>,
    /// Posts even when it repeats a standing refund: a confirmed second credit note.
    pub duplicate_ok: bool,
}

impl RefundCmd {
    /// What the refund returns to the budget: the net amount, plus irrecoverable VAT.
    pub fn charged(&self) -> Result<Money, crate::domain::MoneyError> {
        charged(self.amount, self.vat, self.vat_recoverable)
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefundRecord {
    pub entry_id: i64,
    pub grant: String,
    pub financial_year: FinancialYear,
    pub project: String,
    pub date: NaiveDate,
    /// Net of VAT.
    pub amount: Money,
    pub vat: Option<Money>,
    pub vat_recoverable: bool,
    /// What the entry returns to the budget: `amount`, plus `vat` when it is irrecoverable.
    pub charged: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spend_entry_id: Option<i64>,
    /// The grant agreement a clawback is tied to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commitment_id: Option<i64>,
    pub reference: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
    /// The standing refund this one repeats, posted as a confirmed second credit note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct VirementCmd {
    pub grant: String,
    pub year: FinancialYear,
    pub from_project: String,
    pub to_project: String,
    pub amount: Money,
    pub approved_on: NaiveDate,
    pub approval_ref: String,
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VirementRecord {
    pub virement_id: i64,
    /// `posted` (below the threshold), `pending`, `approved` or `rejected`.
    pub status: VirementStatus,
    pub entry_id: Option<i64>,
    pub grant: String,
    pub financial_year: FinancialYear,
    pub from_project: String,
    pub to_project: String,
    pub amount: Money,
    /// The entry's date, once posted.
    pub date: Option<NaiveDate>,
    pub approved_on: NaiveDate,
    pub approval_ref: String,
    pub reason: String,
    pub proposed_by: String,
    pub decided_by: Option<String>,
}
