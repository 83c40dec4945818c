//! Grant agreements with delivery partners (docs/agreements.md): their terms and yearly
//! parts, the partner's evidence of spend, and one commitment seen whole, with what has been
//! paid, clawed back, evidenced and is still outstanding. Shared by storage, http, cli and
//! the open-data exports.

use chrono::NaiveDate;
use serde::Serialize;

use super::fields::{Fields, FromFields};
use super::wire::{Amount, AmountOrZero, IsoDate, Prose, ProseOrEmpty};
use crate::domain::{CommitmentKind, EvidenceStatus, FinancialYear, Money};

/// One financial year's part of an agreement, as given when it is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = AgreementPartBody)]
#[serde(deny_unknown_fields)]
pub struct AgreementPart {
    pub financial_year: FinancialYear,
    #[schema(value_type = Amount)]
    pub amount: Money,
}

impl FromFields for AgreementPart {
    fn read(f: &mut Fields) -> Self {
        AgreementPart { financial_year: f.year("financial_year"), amount: f.money("amount") }
    }
}

/// What makes a commitment a grant agreement.
#[derive(Debug, Clone)]
pub struct AgreementTerms {
    /// The delivery partner: an organisation's code.
    pub recipient: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub purpose: String,
    /// The amount per financial year, in year order; it adds up to the agreement's amount.
    pub schedule: Vec<AgreementPart>,
}

crate::domain::words::word_set!(
    /// Whether a year's part is committed in that year's award yet.
    PartStatus, "part status", {
        /// A commitment entry of that year holds it.
        Committed => "committed",
        /// It waits for that year's award (or for `POST /commitments/{id}/parts`).
        Waiting => "waiting",
    }
);

/// A year's part as it stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartState {
    pub financial_year: FinancialYear,
    pub amount: Money,
    pub status: PartStatus,
    /// The commitment entry that committed it, while it stands.
    pub entry_id: Option<i64>,
    /// What that year's part still holds committed.
    pub outstanding: Money,
}

/// Commits a waiting part in its year's award, on `date` (in that year).
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = PartBody)]
#[serde(deny_unknown_fields)]
pub struct PartCommitCmd {
    /// From the route's path, not the body: `read` leaves it 0 for the route to set.
    #[serde(skip)]
    pub commitment_id: i64,
    /// The year of the part: its award must exist now.
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    /// In that year, and not before the agreement's date.
    #[schema(value_type = IsoDate)]
    pub date: NaiveDate,
}

impl FromFields for PartCommitCmd {
    fn read(f: &mut Fields) -> Self {
        PartCommitCmd { commitment_id: 0, year: f.year("financial_year"), date: f.date("date") }
    }
}

/// The partner's evidence of what it spent of an agreement's money.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = EvidenceBody)]
#[serde(deny_unknown_fields)]
pub struct EvidenceCmd {
    /// From the route's path, not the body: `read` leaves it 0 for the route to set.
    #[serde(skip)]
    pub commitment_id: i64,
    /// When the partner's evidence was received; not before the agreement's date.
    #[schema(value_type = IsoDate)]
    pub date: NaiveDate,
    /// What the evidence accounts for: more than zero, unless `status` is `none`.
    #[schema(value_type = AmountOrZero)]
    pub amount_evidenced: Money,
    pub status: EvidenceStatus,
    #[schema(value_type = Option<ProseOrEmpty>)]
    pub note: String,
}

impl FromFields for EvidenceCmd {
    fn read(f: &mut Fields) -> Self {
        EvidenceCmd {
            commitment_id: 0,
            date: f.date("date"),
            amount_evidenced: f.money_zero_ok("amount_evidenced"),
            status: f.word("status", &EvidenceStatus::ALL, None),
            note: f.text_or_empty("note"),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvidenceRecord {
    pub id: i64,
    pub commitment_id: i64,
    pub date: NaiveDate,
    pub amount_evidenced: Money,
    pub status: EvidenceStatus,
    pub note: String,
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The reversal that corrected it, when it was recorded in error: it then counts for
    /// nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversal: Option<EvidenceReversal>,
}

/// Reverses a partner's evidence recorded in error, giving the reason.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = EvidenceReverseBody)]
#[serde(deny_unknown_fields)]
pub struct EvidenceReverseCmd {
    /// From the route's path, not the body: `read` leaves it 0 for the route to set.
    #[serde(skip)]
    pub commitment_id: i64,
    /// From the route's path, as `commitment_id`.
    #[serde(skip)]
    pub evidence_id: i64,
    /// When the error was found and corrected; not before the evidence's own date.
    #[schema(value_type = IsoDate)]
    pub date: NaiveDate,
    /// Why the evidence was recorded in error; shown beside it.
    #[schema(value_type = Prose)]
    pub reason: String,
}

impl FromFields for EvidenceReverseCmd {
    fn read(f: &mut Fields) -> Self {
        EvidenceReverseCmd { commitment_id: 0, evidence_id: 0, date: f.date("date"), reason: f.text("reason") }
    }
}

/// The correction of evidence recorded in error. The evidence itself is kept as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EvidenceReversal {
    pub evidence_id: i64,
    pub commitment_id: i64,
    /// When it was corrected; never before the evidence's own date.
    pub date: NaiveDate,
    pub reason: String,
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A payment to the partner (a spend against the commitment) or a clawback (a refund tied
/// to it). `amount` is what it charged or returned to the budget, positive both ways.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommitmentPayment {
    pub entry_id: i64,
    /// `spend` or `refund`.
    pub kind: String,
    pub date: NaiveDate,
    pub financial_year: FinancialYear,
    pub amount: Money,
    /// The invoice reference of a payment, or the reference of a clawback.
    pub reference: String,
    /// A clawback's reason; a payment's description.
    pub memo: String,
    /// The entry that reversed it, if any: a reversed payment counts for nothing.
    pub reversed_by: Option<i64>,
}

/// One commitment seen whole: `GET /api/v1/commitments/{id}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommitmentDetail {
    pub commitment_id: i64,
    pub kind: CommitmentKind,
    pub grant: String,
    /// The year of its first part.
    pub financial_year: FinancialYear,
    pub project: String,
    pub supplier: String,
    pub reference: String,
    /// The whole amount, across every year.
    pub amount: Money,
    pub date: NaiveDate,
    pub memo: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Each year's part; a purchase order has one.
    pub schedule: Vec<PartState>,
    /// Paid against it, not counting reversed payments.
    pub paid: Money,
    /// Clawed back from the partner (refunds tied to it), not counting reversed ones.
    pub clawed_back: Money,
    /// Still committed, across every year.
    pub outstanding: Money,
    /// The sum of the partner's evidenced amounts, less any evidence reversed.
    pub evidenced: Money,
    /// Paid, less clawed back, less evidenced: what the partner has yet to account for.
    pub unevidenced: Money,
    /// The status of the latest evidence not reversed; none before any.
    pub evidence_status: Option<EvidenceStatus>,
    pub payments: Vec<CommitmentPayment>,
    pub evidence: Vec<EvidenceRecord>,
}

/// A later part of an agreement, committed in its year's award.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartCommitRecord {
    pub commitment_id: i64,
    pub entry_id: i64,
    pub financial_year: FinancialYear,
    pub date: NaiveDate,
    pub amount: Money,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<crate::domain::OverspendFlag>,
}

impl CommitmentDetail {
    /// Its part in `year`; nothing where it has none.
    pub fn part_in(&self, year: FinancialYear) -> Money {
        self.schedule.iter().find(|p| p.financial_year == year).map(|p| p.amount).unwrap_or(Money::ZERO)
    }

    /// An agreement's period, `2023-10-01 to 2024-09-30`; empty for a purchase order.
    pub fn period(&self) -> String {
        match (self.start_date, self.end_date) {
            (Some(s), Some(e)) => format!("{s} to {e}"),
            _ => String::new(),
        }
    }
}
