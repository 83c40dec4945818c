//! The commands a recording operation takes and the records it answers, shared by
//! storage (which runs them), http and cli (which build and show them).

use chrono::NaiveDate;
use serde::Serialize;

use utoipa::ToSchema;

use super::agreements::{AgreementPart, AgreementTerms};
use super::fields::{Fields, FromFields};
use super::wire::{Amount, AmountOrZero, Code, IsoDate, Prose, ProseOrEmpty, Text, TextOrEmpty};
use crate::domain::agreement::PARTS_MAX;
use crate::domain::{CommitmentKind, FinancialYear, Money, OverspendFlag, VirementStatus};

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

/// A commitment as a route is asked for it: a purchase order or a grant agreement, told
/// apart by `kind`. Each form states the fields it requires, so the document requires what
/// the server does. Storage runs it as a `CommitmentCmd`.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = CommitmentBody)]
#[serde(untagged)]
pub enum CommitmentRequest {
    PurchaseOrder(PurchaseOrderCmd),
    GrantAgreement(GrantAgreementCmd),
}

/// The fields only a grant agreement has, refused on a purchase order.
const AGREEMENT_ONLY: [&str; 5] = ["recipient", "start_date", "end_date", "purpose", "schedule"];

impl FromFields for CommitmentRequest {
    /// `kind` chooses the form; a purchase order is refused each agreement field by name.
    fn read(f: &mut Fields) -> Self {
        let kind = f.word("kind", &CommitmentKind::ALL, Some(CommitmentKind::PurchaseOrder));
        match kind {
            CommitmentKind::GrantAgreement => CommitmentRequest::GrantAgreement(GrantAgreementCmd::read_rest(f, kind)),
            CommitmentKind::PurchaseOrder => {
                for name in AGREEMENT_ONLY {
                    f.forbid(name, "belongs to a grant agreement only (kind grant_agreement)");
                }
                CommitmentRequest::PurchaseOrder(PurchaseOrderCmd::read_rest(f, kind))
            }
        }
    }
}

/// The schema of a `kind` that must be one word: `word`, or (when `optional`) null.
fn kind_schema(word: CommitmentKind, optional: bool) -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    use utoipa::openapi::schema::{Object, ObjectBuilder, OneOfBuilder, Type};
    let only = ObjectBuilder::new().schema_type(Type::String).enum_values(Some([word.as_str()]));
    if optional {
        OneOfBuilder::new()
            .item(Object::with_type(Type::Null))
            .item(only.description(Some(format!("Default `{word}`."))))
            .into()
    } else {
        only.into()
    }
}

fn purchase_order_kind() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    kind_schema(CommitmentKind::PurchaseOrder, true)
}

fn grant_agreement_kind() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    kind_schema(CommitmentKind::GrantAgreement, false)
}

/// A purchase order: `kind` left out or `purchase_order`; `supplier` is required, and a grant
/// agreement's fields are refused.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = PurchaseOrderBody)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderCmd {
    #[schema(value_type = Code)]
    pub grant: String,
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    #[schema(value_type = Code)]
    pub project: String,
    #[schema(value_type = Text)]
    pub supplier: String,
    #[schema(value_type = Option<TextOrEmpty>)]
    pub reference: String,
    #[schema(value_type = Amount)]
    pub amount: Money,
    /// The date it was placed.
    #[schema(value_type = IsoDate)]
    pub date: NaiveDate,
    #[schema(value_type = Option<ProseOrEmpty>)]
    pub memo: String,
    /// Always `purchase_order`.
    #[schema(schema_with = purchase_order_kind, required = false)]
    pub kind: CommitmentKind,
}

impl PurchaseOrderCmd {
    /// Everything but `kind`, which chose this form.
    fn read_rest(f: &mut Fields, kind: CommitmentKind) -> Self {
        PurchaseOrderCmd {
            grant: f.code("grant"),
            year: f.year("financial_year"),
            project: f.code("project"),
            supplier: f.text("supplier"),
            reference: f.text_or_empty("reference"),
            amount: f.money("amount"),
            date: f.date("date"),
            memo: f.text_or_empty("memo"),
            kind,
        }
    }
}

impl FromFields for PurchaseOrderCmd {
    fn read(f: &mut Fields) -> Self {
        let kind = f.word("kind", &[CommitmentKind::PurchaseOrder], Some(CommitmentKind::PurchaseOrder));
        Self::read_rest(f, kind)
    }
}

/// A grant agreement with a delivery partner (`kind: grant_agreement`), which may run across
/// financial years: `recipient`, `start_date`, `end_date`, `purpose` and `schedule` are required.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = GrantAgreementBody)]
#[serde(deny_unknown_fields)]
pub struct GrantAgreementCmd {
    #[schema(value_type = Code)]
    pub grant: String,
    /// The year of its first part.
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    #[schema(value_type = Code)]
    pub project: String,
    /// Defaults to the recipient's name.
    #[schema(value_type = Option<Text>)]
    pub supplier: String,
    #[schema(value_type = Option<TextOrEmpty>)]
    pub reference: String,
    /// Its whole amount: the schedule's parts add up to it.
    #[schema(value_type = Amount)]
    pub amount: Money,
    /// The date it was awarded.
    #[schema(value_type = IsoDate)]
    pub date: NaiveDate,
    #[schema(value_type = Option<ProseOrEmpty>)]
    pub memo: String,
    #[schema(schema_with = grant_agreement_kind)]
    pub kind: CommitmentKind,
    /// The delivery partner: an organisation's code.
    #[schema(value_type = Code)]
    pub recipient: String,
    /// When the agreement's period starts.
    #[schema(value_type = IsoDate)]
    pub start_date: NaiveDate,
    /// When it ends; not before `start_date`, nor before `date`.
    #[schema(value_type = IsoDate)]
    pub end_date: NaiveDate,
    /// What the grant is for, not blank: the open-data exports publish it (docs/open-data.md).
    #[schema(value_type = Text)]
    pub purpose: String,
    /// One part per financial year, in year order, adding up to `amount`. Each part is
    /// committed in its year's award: now where that award exists, later
    /// (`POST /api/v1/commitments/{id}/parts`) where it does not.
    #[schema(min_items = 1, max_items = 10)]
    pub schedule: Vec<AgreementPart>,
}

impl GrantAgreementCmd {
    /// Everything but `kind`, which chose this form; the agreement's own fields first.
    fn read_rest(f: &mut Fields, kind: CommitmentKind) -> Self {
        let recipient = f.code("recipient");
        let start_date = f.date("start_date");
        let end_date = f.date("end_date");
        let purpose = f.text("purpose");
        let schedule = match f.items("schedule", PARTS_MAX) {
            Some(mut items) => {
                let parts = items.iter_mut().map(AgreementPart::read).collect();
                f.end_items("schedule", items);
                parts
            }
            None => {
                f.refuse("schedule", "is required for a grant agreement");
                Vec::new()
            }
        };
        GrantAgreementCmd {
            grant: f.code("grant"),
            year: f.year("financial_year"),
            project: f.code("project"),
            supplier: f.text_or_empty("supplier"),
            reference: f.text_or_empty("reference"),
            amount: f.money("amount"),
            date: f.date("date"),
            memo: f.text_or_empty("memo"),
            kind,
            recipient,
            start_date,
            end_date,
            purpose,
            schedule,
        }
    }
}

impl FromFields for GrantAgreementCmd {
    fn read(f: &mut Fields) -> Self {
        let kind = f.word("kind", &[CommitmentKind::GrantAgreement], None);
        Self::read_rest(f, kind)
    }
}

impl From<CommitmentRequest> for CommitmentCmd {
    fn from(request: CommitmentRequest) -> Self {
        match request {
            CommitmentRequest::PurchaseOrder(o) => CommitmentCmd {
                grant: o.grant,
                year: o.year,
                project: o.project,
                supplier: o.supplier,
                reference: o.reference,
                amount: o.amount,
                date: o.date,
                memo: o.memo,
                agreement: None,
            },
            CommitmentRequest::GrantAgreement(a) => CommitmentCmd {
                grant: a.grant,
                year: a.year,
                project: a.project,
                supplier: a.supplier,
                reference: a.reference,
                amount: a.amount,
                date: a.date,
                memo: a.memo,
                agreement: Some(AgreementTerms {
                    recipient: a.recipient,
                    start_date: a.start_date,
                    end_date: a.end_date,
                    purpose: a.purpose,
                    schedule: a.schedule,
                }),
            },
        }
    }
}

/// A commitment as storage records it, from either form of `CommitmentRequest` (or the
/// demo fixtures).
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

/// Releases what a commitment will not spend.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = ReleaseBody)]
#[serde(deny_unknown_fields)]
pub struct ReleaseCmd {
    /// From the route's path, not the body: `read` leaves it 0 for the route to set.
    #[serde(skip)]
    pub commitment_id: i64,
    #[schema(value_type = IsoDate)]
    pub date: NaiveDate,
    #[schema(value_type = Amount)]
    pub amount: Money,
    #[schema(value_type = Prose)]
    pub reason: String,
}

impl FromFields for ReleaseCmd {
    fn read(f: &mut Fields) -> Self {
        ReleaseCmd { commitment_id: 0, date: f.date("date"), amount: f.money("amount"), reason: f.text("reason") }
    }
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

/// Reverses an entry.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = ReverseBody)]
#[serde(deny_unknown_fields)]
pub struct ReverseCmd {
    /// From the route's path, not the body: `read` leaves it 0 for the route to set.
    #[serde(skip)]
    pub entry_id: i64,
    /// Never before the entry reversed.
    #[schema(value_type = IsoDate)]
    pub date: NaiveDate,
    #[schema(value_type = Prose)]
    pub reason: String,
}

impl FromFields for ReverseCmd {
    fn read(f: &mut Fields) -> Self {
        ReverseCmd { entry_id: 0, date: f.date("date"), reason: f.text("reason") }
    }
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

/// Spend against a project; the CSV import builds it too.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = SpendBody)]
#[serde(deny_unknown_fields)]
pub struct SpendCmd {
    #[schema(value_type = Code)]
    pub grant: String,
    #[schema(value_type = Code)]
    pub project: String,
    /// The financial year follows from it.
    #[schema(value_type = IsoDate)]
    pub date: NaiveDate,
    #[schema(value_type = Text)]
    pub supplier: String,
    #[schema(value_type = Prose)]
    pub description: String,
    #[schema(value_type = Option<TextOrEmpty>)]
    pub invoice_ref: String,
    /// Net of VAT.
    #[schema(value_type = Amount)]
    pub amount: Money,
    /// The commitment this spend draws on first.
    #[schema(minimum = 1)]
    pub commitment_id: Option<i64>,
    /// A reference from the source system; recorded once only.
    #[schema(value_type = Option<TextOrEmpty>)]
    pub source_ref: Option<String>,
    /// The VAT on the invoice; `amount` stays net of it.
    #[schema(value_type = Option<AmountOrZero>)]
    pub vat: Option<Money>,
    /// Default true. Irrecoverable VAT is charged to the budget with the net amount.
    #[schema(value_type = Option<bool>)]
    pub vat_recoverable: bool,
    /// Default false. True posts a spend that repeats a standing one (same grant, project,
    /// supplier, `invoice_ref`, amount and date): a real second invoice. The entry records
    /// the one it repeats (`duplicate_of`).
    #[serde(rename = "duplicate_of_entry_ok")]
    #[schema(value_type = Option<bool>)]
    pub duplicate_ok: bool,
}

impl FromFields for SpendCmd {
    fn read(f: &mut Fields) -> Self {
        SpendCmd {
            grant: f.code("grant"),
            project: f.code("project"),
            date: f.date("date"),
            supplier: f.text("supplier"),
            description: f.text("description"),
            invoice_ref: f.text_or_empty("invoice_ref"),
            amount: f.money("amount"),
            commitment_id: f.opt_id("commitment_id"),
            source_ref: f.opt_text("source_ref"),
            vat: f.opt_money("vat"),
            vat_recoverable: f.opt_flag("vat_recoverable").unwrap_or(true),
            duplicate_ok: f.opt_flag("duplicate_of_entry_ok").unwrap_or(false),
        }
    }
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

/// A refund or credit note; the CSV import builds it too.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = RefundBody)]
#[serde(deny_unknown_fields)]
pub struct RefundCmd {
    #[schema(value_type = Code)]
    pub grant: String,
    #[schema(value_type = Code)]
    pub project: String,
    #[schema(value_type = IsoDate)]
    pub date: NaiveDate,
    /// Net of VAT.
    #[schema(value_type = Amount)]
    pub amount: Money,
    #[schema(value_type = Option<TextOrEmpty>)]
    pub reference: String,
    #[schema(value_type = Prose)]
    pub reason: String,
    /// The imported line this refund came from (a credit note), if any; posts once. Only
    /// the CSV import sets it: the route's body has no such field.
    #[serde(skip)]
    pub source_ref: Option<String>,
    /// Who sent the money back, when known (an imported credit note names its supplier).
    /// Only the CSV import sets it.
    #[serde(skip)]
    pub supplier: Option<String>,
    /// The VAT refunded: no more than `amount`, nor than the VAT of the spend named.
    #[schema(value_type = Option<AmountOrZero>)]
    pub vat: Option<Money>,
    /// Default true. Irrecoverable VAT comes back to the budget with the net amount.
    #[schema(value_type = Option<bool>)]
    pub vat_recoverable: bool,
    /// The spend entry this refund returns money of: then the refund's VAT is held to that
    /// spend's.
    #[schema(minimum = 1)]
    pub spend_entry_id: Option<i64>,
    /// The grant agreement this refund claws money back under: a clawback, which `reason`
    /// explains. Never more than was paid under it and not clawed back already.
    #[schema(minimum = 1)]
    pub commitment_id: Option<i64>,
    /// Default false. True posts a refund that repeats a standing one (same grant, project,
    /// `reference`, amount and date): a real second credit note. The entry records the one
    /// it repeats (`duplicate_of`).
    #[serde(rename = "duplicate_of_entry_ok")]
    #[schema(value_type = Option<bool>)]
    pub duplicate_ok: bool,
}

impl FromFields for RefundCmd {
    fn read(f: &mut Fields) -> Self {
        RefundCmd {
            grant: f.code("grant"),
            project: f.code("project"),
            date: f.date("date"),
            amount: f.money("amount"),
            reference: f.text_or_empty("reference"),
            reason: f.text("reason"),
            source_ref: None,
            supplier: None,
            vat: f.opt_money("vat"),
            vat_recoverable: f.opt_flag("vat_recoverable").unwrap_or(true),
            spend_entry_id: f.opt_id("spend_entry_id"),
            commitment_id: f.opt_id("commitment_id"),
            duplicate_ok: f.opt_flag("duplicate_of_entry_ok").unwrap_or(false),
        }
    }
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

/// Budget moved between two projects of one award.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = VirementBody)]
#[serde(deny_unknown_fields)]
pub struct VirementCmd {
    #[schema(value_type = Code)]
    pub grant: String,
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    #[schema(value_type = Code)]
    pub from_project: String,
    #[schema(value_type = Code)]
    pub to_project: String,
    #[schema(value_type = Amount)]
    pub amount: Money,
    #[schema(value_type = IsoDate)]
    pub approved_on: NaiveDate,
    #[schema(value_type = Text)]
    pub approval_ref: String,
    #[schema(value_type = Prose)]
    pub reason: String,
}

impl FromFields for VirementCmd {
    fn read(f: &mut Fields) -> Self {
        VirementCmd {
            grant: f.code("grant"),
            year: f.year("financial_year"),
            from_project: f.code("from_project"),
            to_project: f.code("to_project"),
            amount: f.money("amount"),
            approved_on: f.date("approved_on"),
            approval_ref: f.text("approval_ref"),
            reason: f.text("reason"),
        }
    }
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

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use super::*;
    use crate::model::fields::agrees_in_forms;

    fn read(body: serde_json::Value) -> Result<CommitmentRequest, Vec<String>> {
        let fields = Fields::parse(body.to_string().as_bytes()).expect("an object");
        CommitmentRequest::from_fields(fields)
            .map_err(|e| e.into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect())
    }

    #[test]
    fn a_commitment_reads_the_form_its_kind_chooses() {
        let order = serde_json::json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1",
            "supplier": "Acme", "amount": "10.00", "date": "2023-05-01" });
        assert!(matches!(read(order.clone()), Ok(CommitmentRequest::PurchaseOrder(_))));

        let mut with_terms = order.clone();
        with_terms["purpose"] = "Youth work".into();
        with_terms["kind"] = "purchase_order".into();
        assert_eq!(
            read(with_terms).err(),
            Some(vec!["purpose: belongs to a grant agreement only (kind grant_agreement)".to_owned()])
        );

        let mut agreement = order;
        agreement["kind"] = "grant_agreement".into();
        let errors = read(agreement.clone()).expect_err("refused");
        for field in ["recipient", "start_date", "end_date", "purpose"] {
            assert!(errors.contains(&format!("{field}: is required")), "{errors:?}");
        }
        assert!(errors.contains(&"schedule: is required for a grant agreement".to_owned()), "{errors:?}");

        agreement["recipient"] = "ORG1".into();
        agreement["start_date"] = "2023-05-01".into();
        agreement["end_date"] = "2024-04-30".into();
        agreement["purpose"] = "Youth work".into();
        agreement["schedule"] = serde_json::json!([{ "financial_year": "2023-24", "amount": "10.00", "extra": 1 }]);
        assert_eq!(
            read(agreement.clone()).err(),
            Some(vec!["schedule[0].extra: is not a field of this request".to_owned()])
        );
        agreement["schedule"] = serde_json::json!([{ "financial_year": "2023-24", "amount": "10.00" }]);
        let Ok(CommitmentRequest::GrantAgreement(a)) = read(agreement) else { panic!("an agreement") };
        let cmd = CommitmentCmd::from(CommitmentRequest::GrantAgreement(a));
        assert_eq!(cmd.agreement.expect("terms").schedule.len(), 1);
    }

    /// The check of a request of several forms tells a form from the wrong choice of it.
    #[test]
    fn a_form_checked_under_the_wrong_choice_disagrees() {
        let wrong = [(PurchaseOrderCmd::schema(), serde_json::json!({ "kind": "grant_agreement" }))];
        assert!(agrees_in_forms::<CommitmentRequest>(&wrong).is_err());
        let one_form = [(PurchaseOrderCmd::schema(), serde_json::json!({}))];
        assert!(agrees_in_forms::<CommitmentRequest>(&one_form).is_err(), "agreement fields are read, undocumented");
    }
}
