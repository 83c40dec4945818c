//! The recording routes: each creates one entry and answers 201 with the new record.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::{Fields, FromFields, RawBody};
use super::super::openapi::{Amount, AmountOrZero, Code, IsoDate, Prose, ProseOrEmpty, Text, TextOrEmpty};
use super::super::{AppState, Idem};
use crate::domain::agreement::PARTS_MAX;
use crate::domain::{CommitmentKind, EvidenceStatus, FinancialYear};
use crate::model::agreements::{
    AgreementPart, AgreementTerms, EvidenceCmd, EvidenceRecord, EvidenceReversal, EvidenceReverseCmd, PartCommitCmd,
    PartCommitRecord,
};
use crate::storage::operations as ops;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(allocate))
        .routes(routes!(vire, super::controls::list_virements))
        .routes(routes!(commit, super::ledger::list_commitments))
        .routes(routes!(release))
        .routes(routes!(commit_part))
        .routes(routes!(evidence))
        .routes(routes!(reverse_evidence))
        .routes(routes!(spend))
        .routes(routes!(refund))
        .routes(routes!(reverse))
}

type Created<T> = Result<(StatusCode, Json<T>), AppError>;

pub(super) fn path_id(text: &str, field: &str) -> Result<i64, AppError> {
    text.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(|| AppError::field(field, "must be a positive whole number"))
}

/// Allocate award money to a project.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/allocations", tag = "postings", request_body = ops::AllocationCmd,
    responses((status = 201, body = ops::AllocationRecord), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such grant, award, financial year or project (`not_found`)."),
        (status = 409, description = "Refused by a ledger rule: `over_allocation`, `overspend`, `period_closed`, `conflict`; `as_at` names an earlier date it would break."),
        (status = 422, description = "A bad field, or a restricted grant given to a project of another priority (`restricted_fund`).")))]
async fn allocate(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    body: RawBody,
) -> Created<ops::AllocationRecord> {
    auth.require(Need::Approver)?;
    let cmd = ops::AllocationCmd::from_fields(Fields::parse(&body)?)?;
    Ok((StatusCode::CREATED, Json(ops::allocate(&s.store, cmd, auth.actor(&idem)).await?)))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct VirementBody {
    grant: Code,
    financial_year: FinancialYear,
    from_project: Code,
    to_project: Code,
    amount: Amount,
    approved_on: IsoDate,
    approval_ref: Text,
    reason: Prose,
}

/// Move budget between two projects of one award.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/virements", tag = "postings", request_body = VirementBody,
    responses((status = 201, description = "At or below the approval threshold: posted.", body = ops::VirementRecord),
        (status = 202, description = "Above the threshold: pending a second approver.", body = ops::VirementRecord),
        (status = 403, description = "Neither approver nor admin."), (status = 404, description = "No such grant, award, financial year or project (`not_found`)."),
        (status = 409, description = "Refused by a ledger rule: `over_allocation`, `overspend`, `period_closed`, `conflict`; `as_at` names an earlier date it would break."),
        (status = 422, description = "A bad field, or a restricted grant given to a project of another priority (`restricted_fund`).")))]
/// Below the approval threshold a virement posts at once (201); above it, it waits for a
/// second approver (202).
async fn vire(State(s): State<AppState>, auth: Auth, Idem(idem): Idem, body: RawBody) -> Created<ops::VirementRecord> {
    auth.require(Need::Approver)?;
    let mut f = Fields::parse(&body)?;
    let cmd = ops::VirementCmd {
        grant: f.code("grant"),
        year: f.year("financial_year"),
        from_project: f.code("from_project"),
        to_project: f.code("to_project"),
        amount: f.money("amount"),
        approved_on: f.date("approved_on"),
        approval_ref: f.text("approval_ref"),
        reason: f.text("reason"),
    };
    f.finish()?;
    if cmd.amount > crate::storage::controls::virement_threshold(&s.store).await? {
        let pending = crate::storage::controls::propose_virement(&s.store, cmd, auth.actor(&idem)).await?;
        return Ok((StatusCode::ACCEPTED, Json(pending)));
    }
    Ok((StatusCode::CREATED, Json(ops::vire(&s.store, cmd, auth.actor(&idem)).await?)))
}

/// A commitment: a purchase order or a grant agreement, told apart by `kind`. Each form
/// states the fields it requires, so the document requires what the server does.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // the contract of the body `Fields` parses
enum CommitmentBody {
    PurchaseOrder(PurchaseOrderBody),
    GrantAgreement(GrantAgreementBody),
}

/// A purchase order: `kind` left out or `purchase_order`; `supplier` is required, and a grant
/// agreement's fields are refused.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct PurchaseOrderBody {
    grant: Code,
    financial_year: FinancialYear,
    project: Code,
    supplier: Text,
    reference: Option<TextOrEmpty>,
    amount: Amount,
    /// The date it was placed.
    date: IsoDate,
    memo: Option<ProseOrEmpty>,
    /// Default `purchase_order`.
    kind: Option<PurchaseOrderKind>,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum PurchaseOrderKind {
    PurchaseOrder,
}

/// A grant agreement with a delivery partner (`kind: grant_agreement`), which may run across
/// financial years: `recipient`, `start_date`, `end_date`, `purpose` and `schedule` are required.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct GrantAgreementBody {
    grant: Code,
    /// The year of its first part.
    financial_year: FinancialYear,
    project: Code,
    /// Defaults to the recipient's name.
    supplier: Option<Text>,
    reference: Option<TextOrEmpty>,
    /// Its whole amount: the schedule's parts add up to it.
    amount: Amount,
    /// The date it was awarded.
    date: IsoDate,
    memo: Option<ProseOrEmpty>,
    kind: GrantAgreementKind,
    /// The delivery partner: an organisation's code.
    recipient: Code,
    /// When the agreement's period starts.
    start_date: IsoDate,
    /// When it ends; not before `start_date`, nor before `date`.
    end_date: IsoDate,
    /// What the grant is for, not blank: the open-data exports publish it (docs/open-data.md).
    purpose: Text,
    /// One part per financial year, in year order, adding up to `amount`. Each part is
    /// committed in its year's award: now where that award exists, later
    /// (`POST /api/v1/commitments/{id}/parts`) where it does not.
    #[schema(min_items = 1, max_items = 10)]
    schedule: Vec<AgreementPartBody>,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum GrantAgreementKind {
    GrantAgreement,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AgreementPartBody {
    financial_year: FinancialYear,
    amount: Amount,
}

/// Record a commitment: a purchase order, or a grant agreement with a delivery partner,
/// which may run across financial years.
///
/// Roles: finance, admin.
#[utoipa::path(post, path = "/api/v1/commitments", tag = "postings", request_body = CommitmentBody,
    responses((status = 201, body = ops::CommitmentRecord), (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such grant, award, financial year or project (`not_found`)."),
        (status = 409, description = "Refused by a ledger rule: `over_allocation`, `overspend`, `period_closed`, `conflict`; `as_at` names an earlier date it would break."),
        (status = 422, description = "A bad field: for an agreement, a schedule that does not add up to `amount` names `schedule`.")))]
async fn commit(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    body: RawBody,
) -> Created<ops::CommitmentRecord> {
    auth.require(Need::Finance)?;
    let mut f = Fields::parse(&body)?;
    let kind = f.word("kind", &CommitmentKind::ALL, Some(CommitmentKind::PurchaseOrder));
    let agreement = if kind == CommitmentKind::GrantAgreement {
        let recipient = f.code("recipient");
        let start_date = f.date("start_date");
        let end_date = f.date("end_date");
        let purpose = f.text("purpose");
        let schedule = match f.items("schedule", PARTS_MAX) {
            Some(mut items) => {
                let parts = items
                    .iter_mut()
                    .map(|p| AgreementPart { financial_year: p.year("financial_year"), amount: p.money("amount") })
                    .collect();
                f.end_items("schedule", items);
                parts
            }
            None => {
                f.refuse("schedule", "is required for a grant agreement");
                Vec::new()
            }
        };
        Some(AgreementTerms { recipient, start_date, end_date, purpose, schedule })
    } else {
        for name in ["recipient", "start_date", "end_date", "purpose", "schedule"] {
            f.forbid(name, "belongs to a grant agreement only (kind grant_agreement)");
        }
        None
    };
    let cmd = ops::CommitmentCmd {
        grant: f.code("grant"),
        year: f.year("financial_year"),
        project: f.code("project"),
        supplier: if agreement.is_some() { f.text_or_empty("supplier") } else { f.text("supplier") },
        reference: f.text_or_empty("reference"),
        amount: f.money("amount"),
        date: f.date("date"),
        memo: f.text_or_empty("memo"),
        agreement,
    };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(ops::commit(&s.store, cmd, auth.actor(&idem)).await?)))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct PartBody {
    /// The year of the part: its award must exist now.
    financial_year: FinancialYear,
    /// In that year, and not before the agreement's date.
    date: IsoDate,
}

/// Commit a grant agreement's part that waited for its year's award.
///
/// Roles: finance, admin.
#[utoipa::path(post, path = "/api/v1/commitments/{id}/parts", tag = "postings",
    params(("id" = i64, Path, minimum = 1, description = "The agreement's commitment id.")), request_body = PartBody,
    responses((status = 201, body = PartCommitRecord), (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such commitment (`not_found`)."),
        (status = 409, description = "Already committed (`conflict`), or refused by a ledger rule (`overspend`, `period_closed`)."),
        (status = 422, description = "A purchase order (`id`), a year with no part or no award (`financial_year`), or a bad field.")))]
async fn commit_part(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path(id): Path<String>,
    body: RawBody,
) -> Created<PartCommitRecord> {
    auth.require(Need::Finance)?;
    let commitment_id = path_id(&id, "id")?;
    let mut f = Fields::parse(&body)?;
    let cmd = PartCommitCmd { commitment_id, year: f.year("financial_year"), date: f.date("date") };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(ops::commit_part(&s.store, cmd, auth.actor(&idem)).await?)))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct EvidenceBody {
    /// When the partner's evidence was received; not before the agreement's date.
    date: IsoDate,
    /// What the evidence accounts for: more than zero, unless `status` is `none`.
    amount_evidenced: AmountOrZero,
    status: EvidenceStatus,
    note: Option<ProseOrEmpty>,
}

/// Record a partner's evidence of spend against a grant agreement. What is evidenced in all
/// never exceeds what was paid under it and not clawed back.
///
/// Roles: finance, admin.
#[utoipa::path(post, path = "/api/v1/commitments/{id}/evidence", tag = "postings",
    params(("id" = i64, Path, minimum = 1, description = "The agreement's commitment id.")), request_body = EvidenceBody,
    responses((status = 201, body = EvidenceRecord), (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such commitment (`not_found`)."),
        (status = 409, description = "The ledger is busy or a rule refused it (`conflict`)."),
        (status = 422, description = "A purchase order (`id`), more than was paid (`amount_evidenced`), or a bad field.")))]
async fn evidence(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path(id): Path<String>,
    body: RawBody,
) -> Created<EvidenceRecord> {
    auth.require(Need::Finance)?;
    let commitment_id = path_id(&id, "id")?;
    let mut f = Fields::parse(&body)?;
    let cmd = EvidenceCmd {
        commitment_id,
        date: f.date("date"),
        amount_evidenced: f.money_zero_ok("amount_evidenced"),
        status: f.word("status", &EvidenceStatus::ALL, None),
        note: f.text_or_empty("note"),
    };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(ops::record_evidence(&s.store, cmd, auth.actor(&idem)).await?)))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct EvidenceReverseBody {
    /// When the error was found and corrected; not before the evidence's own date.
    date: IsoDate,
    /// Why the evidence was recorded in error; shown beside it.
    reason: Prose,
}

/// Reverse a partner's evidence recorded in error. The evidence stays as recorded, with the
/// reversal and its reason beside it, and no longer counts as evidenced.
///
/// Roles: finance, admin.
#[utoipa::path(post, path = "/api/v1/commitments/{id}/evidence/{evidence_id}/reverse", tag = "postings",
    params(("id" = i64, Path, minimum = 1, description = "The agreement's commitment id."),
        ("evidence_id" = i64, Path, minimum = 1, description = "The evidence's id, as recorded.")),
    request_body = EvidenceReverseBody,
    responses((status = 201, body = EvidenceReversal), (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such commitment, or no such evidence of it (`not_found`)."),
        (status = 409, description = "Reversed before (`already_reversed`)."),
        (status = 422, description = "A purchase order (`id`), a date before the evidence's (`date`), or a bad field.")))]
async fn reverse_evidence(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path((id, evidence_id)): Path<(String, String)>,
    body: RawBody,
) -> Created<EvidenceReversal> {
    auth.require(Need::Finance)?;
    let commitment_id = path_id(&id, "id")?;
    let evidence_id = path_id(&evidence_id, "evidence_id")?;
    let mut f = Fields::parse(&body)?;
    let cmd = EvidenceReverseCmd { commitment_id, evidence_id, date: f.date("date"), reason: f.text("reason") };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(ops::reverse_evidence(&s.store, cmd, auth.actor(&idem)).await?)))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ReleaseBody {
    date: IsoDate,
    amount: Amount,
    reason: Prose,
}

/// Release what a commitment will not spend.
///
/// Roles: finance, admin.
#[utoipa::path(post, path = "/api/v1/commitments/{id}/release", tag = "postings",
    params(("id" = i64, Path, minimum = 1, description = "The commitment's id.")), request_body = ReleaseBody,
    responses((status = 201, body = ops::ReleaseRecord), (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such commitment (`not_found`)."),
        (status = 409, description = "More than is outstanding, or the year is closed (`conflict`, `period_closed`).")))]
async fn release(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path(id): Path<String>,
    body: RawBody,
) -> Created<ops::ReleaseRecord> {
    auth.require(Need::Finance)?;
    let commitment_id = path_id(&id, "id")?;
    let mut f = Fields::parse(&body)?;
    let cmd =
        ops::ReleaseCmd { commitment_id, date: f.date("date"), amount: f.money("amount"), reason: f.text("reason") };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(ops::release(&s.store, cmd, auth.actor(&idem)).await?)))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct SpendBody {
    grant: Code,
    project: Code,
    /// The financial year follows from it.
    date: IsoDate,
    supplier: Text,
    description: Prose,
    invoice_ref: Option<TextOrEmpty>,
    amount: Amount,
    /// The commitment this spend draws on first.
    #[schema(minimum = 1)]
    commitment_id: Option<i64>,
    /// A reference from the source system; recorded once only.
    source_ref: Option<TextOrEmpty>,
    /// The VAT on the invoice; `amount` stays net of it.
    vat: Option<AmountOrZero>,
    /// Default true. Irrecoverable VAT is charged to the budget with the net amount.
    vat_recoverable: Option<bool>,
    /// Default false. True posts a spend that repeats a standing one (same grant, project,
    /// supplier, `invoice_ref`, amount and date): a real second invoice. The entry records
    /// the one it repeats (`duplicate_of`).
    duplicate_of_entry_ok: Option<bool>,
}

/// Record spend.
///
/// Roles: finance, admin.
#[utoipa::path(post, path = "/api/v1/spend", tag = "postings", request_body = SpendBody,
    responses((status = 201, body = ops::SpendRecord), (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such grant, award, financial year or project (`not_found`)."),
        (status = 409, description = "Refused by a ledger rule: `over_allocation`, `overspend`, `period_closed`, `conflict`; `as_at` names an earlier date it would break. `duplicate`: it repeats the standing spend `duplicate_of`.")))]
async fn spend(State(s): State<AppState>, auth: Auth, Idem(idem): Idem, body: RawBody) -> Created<ops::SpendRecord> {
    auth.require(Need::Finance)?;
    let mut f = Fields::parse(&body)?;
    let cmd = ops::SpendCmd {
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
    };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(ops::spend(&s.store, cmd, auth.actor(&idem)).await?)))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RefundBody {
    grant: Code,
    project: Code,
    date: IsoDate,
    /// Net of VAT.
    amount: Amount,
    reference: Option<TextOrEmpty>,
    reason: Prose,
    /// The VAT refunded: no more than `amount`, nor than the VAT of the spend named.
    vat: Option<AmountOrZero>,
    /// Default true. Irrecoverable VAT comes back to the budget with the net amount.
    vat_recoverable: Option<bool>,
    /// The spend entry this refund returns money of: then the refund's VAT is held to that
    /// spend's.
    #[schema(minimum = 1)]
    spend_entry_id: Option<i64>,
    /// The grant agreement this refund claws money back under: a clawback, which `reason`
    /// explains. Never more than was paid under it and not clawed back already.
    #[schema(minimum = 1)]
    commitment_id: Option<i64>,
    /// Default false. True posts a refund that repeats a standing one (same grant, project,
    /// `reference`, amount and date): a real second credit note. The entry records the one
    /// it repeats (`duplicate_of`).
    duplicate_of_entry_ok: Option<bool>,
}

/// Record a refund or credit note.
///
/// Roles: finance, admin.
#[utoipa::path(post, path = "/api/v1/refunds", tag = "postings", request_body = RefundBody,
    responses((status = 201, body = ops::RefundRecord), (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such grant, award, financial year or project (`not_found`)."),
        (status = 409, description = "Refused by a ledger rule: `over_allocation`, `overspend`, `period_closed`, `conflict`; `as_at` names an earlier date it would break. `duplicate`: it repeats the standing refund `duplicate_of`.")))]
async fn refund(State(s): State<AppState>, auth: Auth, Idem(idem): Idem, body: RawBody) -> Created<ops::RefundRecord> {
    auth.require(Need::Finance)?;
    let mut f = Fields::parse(&body)?;
    let cmd = ops::RefundCmd {
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
    };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(ops::refund(&s.store, cmd, auth.actor(&idem)).await?)))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ReverseBody {
    /// Never before the entry reversed.
    date: IsoDate,
    reason: Prose,
}

/// Reverse an entry.
///
/// Roles: the role that records the entry's kind: approver for allocations, virements, awards
/// and year ends; finance for commitments, releases, spend and refunds; admin for any.
#[utoipa::path(post, path = "/api/v1/entries/{id}/reverse", tag = "postings",
    params(("id" = i64, Path, minimum = 1, description = "The entry's id.")), request_body = ReverseBody,
    responses((status = 201, body = ops::ReversalRecord), (status = 403, description = "The role may not reverse this kind."),
        (status = 404, description = "No such entry (`not_found`)."),
        (status = 409, description = "Reversed before (`already_reversed`), or refused by a ledger rule (`overspend`, `period_closed`, `conflict`).")))]
async fn reverse(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path(id): Path<String>,
    body: RawBody,
) -> Created<ops::ReversalRecord> {
    let entry_id = path_id(&id, "id")?;
    // Anyone who may record some kind of entry may ask; the entry's kind decides.
    if !(Need::Finance.allows(auth.0.role) || Need::Approver.allows(auth.0.role)) {
        return Err(AppError::Forbidden);
    }
    let kind = ops::entry_kind(&s.store, entry_id).await?;
    auth.require(Need::to_reverse(kind))?;
    let mut f = Fields::parse(&body)?;
    let cmd = ops::ReverseCmd { entry_id, date: f.date("date"), reason: f.text("reason") };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(ops::reverse(&s.store, cmd, auth.actor(&idem)).await?)))
}
