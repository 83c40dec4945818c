//! The recording routes: each creates one entry and answers 201 with the new record.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::super::auth::Need;
use super::super::error::AppError;
use super::super::input::RawBody;
use super::{Caller, Created, created};
use crate::model::agreements::{
    EvidenceCmd, EvidenceRecord, EvidenceReversal, EvidenceReverseCmd, PartCommitCmd, PartCommitRecord,
};
use crate::storage::operations::{
    self as ops, AllocationCmd, AllocationRecord, CommitmentRecord, CommitmentRequest, RefundCmd, RefundRecord,
    ReleaseCmd, ReleaseRecord, SpendCmd, SpendRecord,
};

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

pub(super) fn path_id(text: &str, field: &str) -> Result<i64, AppError> {
    text.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(|| AppError::field(field, "must be a positive whole number"))
}

recording_route! {
    /// Allocate award money to a project.
    ///
    /// Roles: approver, admin.
    allocate: "/api/v1/allocations", "postings", Approver, AllocationCmd => ops::allocate => AllocationRecord,
        (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such grant, award, financial year or project (`not_found`)."),
        (status = 409, description = "Refused by a ledger rule: `over_allocation`, `overspend`, `period_closed`, `conflict`; `as_at` names an earlier date it would break."),
        (status = 422, description = "A bad field, or a restricted grant given to a project of another priority (`restricted_fund`).")
}

/// Move budget between two projects of one award.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/virements", tag = "postings", request_body = ops::VirementCmd,
    responses((status = 201, description = "At or below the approval threshold: posted.", body = ops::VirementRecord),
        (status = 202, description = "Above the threshold: pending a second approver.", body = ops::VirementRecord),
        (status = 403, description = "Neither approver nor admin."), (status = 404, description = "No such grant, award, financial year or project (`not_found`)."),
        (status = 409, description = "Refused by a ledger rule: `over_allocation`, `overspend`, `period_closed`, `conflict`; `as_at` names an earlier date it would break."),
        (status = 422, description = "A bad field, or a restricted grant given to a project of another priority (`restricted_fund`).")))]
/// Below the approval threshold a virement posts at once (201); above it, it waits for a
/// second approver (202).
async fn vire(c: Caller, body: RawBody) -> Created<ops::VirementRecord> {
    c.require(Need::Approver)?;
    let cmd = body.cmd::<ops::VirementCmd>()?;
    if cmd.amount > crate::storage::controls::virement_threshold(c.store()).await? {
        let pending = crate::storage::controls::propose_virement(c.store(), cmd, c.actor()).await?;
        return Ok((StatusCode::ACCEPTED, Json(pending)));
    }
    created(ops::vire(c.store(), cmd, c.actor()).await?)
}

recording_route! {
    /// Record a commitment: a purchase order, or a grant agreement with a delivery partner,
    /// which may run across financial years.
    ///
    /// Roles: finance, admin.
    commit: "/api/v1/commitments", "postings", Finance, CommitmentRequest.into() => ops::commit => CommitmentRecord,
        (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such grant, award, financial year or project (`not_found`)."),
        (status = 409, description = "Refused by a ledger rule: `over_allocation`, `overspend`, `period_closed`, `conflict`; `as_at` names an earlier date it would break."),
        (status = 422, description = "A bad field: for an agreement, a schedule that does not add up to `amount` names `schedule`.")
}

recording_route! {
    /// Commit a grant agreement's part that waited for its year's award.
    ///
    /// Roles: finance, admin.
    commit_part: "/api/v1/commitments/{id}/parts", "postings", Finance,
        PartCommitCmd { commitment_id: id "The agreement's commitment id." } => ops::commit_part => PartCommitRecord,
        (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such commitment (`not_found`)."),
        (status = 409, description = "Already committed (`conflict`), or refused by a ledger rule (`overspend`, `period_closed`)."),
        (status = 422, description = "A purchase order (`id`), a year with no part or no award (`financial_year`), or a bad field.")
}

recording_route! {
    /// Record a partner's evidence of spend against a grant agreement. What is evidenced in all
    /// never exceeds what was paid under it and not clawed back.
    ///
    /// Roles: finance, admin.
    evidence: "/api/v1/commitments/{id}/evidence", "postings", Finance,
        EvidenceCmd { commitment_id: id "The agreement's commitment id." } => ops::record_evidence => EvidenceRecord,
        (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such commitment (`not_found`)."),
        (status = 409, description = "The ledger is busy or a rule refused it (`conflict`)."),
        (status = 422, description = "A purchase order (`id`), more than was paid (`amount_evidenced`), or a bad field.")
}

/// Reverse a partner's evidence recorded in error. The evidence stays as recorded, with the
/// reversal and its reason beside it, and no longer counts as evidenced.
///
/// Roles: finance, admin.
#[utoipa::path(post, path = "/api/v1/commitments/{id}/evidence/{evidence_id}/reverse", tag = "postings",
    params(("id" = i64, Path, minimum = 1, description = "The agreement's commitment id."),
        ("evidence_id" = i64, Path, minimum = 1, description = "The evidence's id, as recorded.")),
    request_body = EvidenceReverseCmd,
    responses((status = 201, body = EvidenceReversal), (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such commitment, or no such evidence of it (`not_found`)."),
        (status = 409, description = "Reversed before (`already_reversed`)."),
        (status = 422, description = "A purchase order (`id`), a date before the evidence's (`date`), or a bad field.")))]
async fn reverse_evidence(
    c: Caller,
    Path((id, evidence_id)): Path<(String, String)>,
    body: RawBody,
) -> Created<EvidenceReversal> {
    c.require(Need::Finance)?;
    let commitment_id = path_id(&id, "id")?;
    let evidence_id = path_id(&evidence_id, "evidence_id")?;
    let cmd = EvidenceReverseCmd { commitment_id, evidence_id, ..body.cmd::<EvidenceReverseCmd>()? };
    created(ops::reverse_evidence(c.store(), cmd, c.actor()).await?)
}

recording_route! {
    /// Release what a commitment will not spend.
    ///
    /// Roles: finance, admin.
    release: "/api/v1/commitments/{id}/release", "postings", Finance,
        ReleaseCmd { commitment_id: id "The commitment's id." } => ops::release => ReleaseRecord,
        (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such commitment (`not_found`)."),
        (status = 409, description = "More than is outstanding, or the year is closed (`conflict`, `period_closed`).")
}

recording_route! {
    /// Record spend.
    ///
    /// Roles: finance, admin.
    spend: "/api/v1/spend", "postings", Finance, SpendCmd => ops::spend => SpendRecord,
        (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such grant, award, financial year or project (`not_found`)."),
        (status = 409, description = "Refused by a ledger rule: `over_allocation`, `overspend`, `period_closed`, `conflict`; `as_at` names an earlier date it would break. `duplicate`: it repeats the standing spend `duplicate_of`.")
}

recording_route! {
    /// Record a refund or credit note.
    ///
    /// Roles: finance, admin.
    refund: "/api/v1/refunds", "postings", Finance, RefundCmd => ops::refund => RefundRecord,
        (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such grant, award, financial year or project (`not_found`)."),
        (status = 409, description = "Refused by a ledger rule: `over_allocation`, `overspend`, `period_closed`, `conflict`; `as_at` names an earlier date it would break. `duplicate`: it repeats the standing refund `duplicate_of`.")
}

/// Reverse an entry.
///
/// Roles: the role that records the entry's kind: approver for allocations, virements, awards
/// and year ends; finance for commitments, releases, spend and refunds; admin for any.
#[utoipa::path(post, path = "/api/v1/entries/{id}/reverse", tag = "postings",
    params(("id" = i64, Path, minimum = 1, description = "The entry's id.")), request_body = ops::ReverseCmd,
    responses((status = 201, body = ops::ReversalRecord), (status = 403, description = "The role may not reverse this kind."),
        (status = 404, description = "No such entry (`not_found`)."),
        (status = 409, description = "Reversed before (`already_reversed`), or refused by a ledger rule (`overspend`, `period_closed`, `conflict`).")))]
async fn reverse(c: Caller, Path(id): Path<String>, body: RawBody) -> Created<ops::ReversalRecord> {
    let entry_id = path_id(&id, "id")?;
    // Anyone who may record some kind of entry may ask; the entry's kind decides.
    if !(Need::Finance.allows(c.auth.0.role) || Need::Approver.allows(c.auth.0.role)) {
        return Err(AppError::Forbidden);
    }
    let kind = ops::entry_kind(c.store(), entry_id).await?;
    c.require(Need::to_reverse(kind))?;
    let cmd = ops::ReverseCmd { entry_id, ..body.cmd::<ops::ReverseCmd>()? };
    created(ops::reverse(c.store(), cmd, c.actor()).await?)
}
