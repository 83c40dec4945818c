//! The recording routes: each creates one entry and answers 201 with the new record.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};

use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::{Fields, RawBody};
use super::super::{AppState, Idem};
use crate::storage::operations as ops;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/allocations", post(allocate))
        .route("/api/v1/virements", post(vire).get(super::controls::list_virements))
        .route("/api/v1/commitments", post(commit).get(super::ledger::list_commitments))
        .route("/api/v1/commitments/{id}/release", post(release))
        .route("/api/v1/spend", post(spend))
        .route("/api/v1/refunds", post(refund))
        .route("/api/v1/entries/{id}/reverse", post(reverse))
}

type Created<T> = Result<(StatusCode, Json<T>), AppError>;

fn path_id(text: &str, field: &str) -> Result<i64, AppError> {
    text.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(|| AppError::field(field, "must be a positive whole number"))
}

async fn allocate(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    body: RawBody,
) -> Created<ops::AllocationRecord> {
    auth.require(Need::Approver)?;
    let mut f = Fields::parse(&body)?;
    let cmd = ops::AllocationCmd {
        grant: f.code("grant"),
        year: f.year("financial_year"),
        project: f.code("project"),
        amount: f.money("amount"),
        approved_on: f.date("approved_on"),
        approval_ref: f.text("approval_ref"),
        memo: f.text_or_empty("memo"),
    };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(ops::allocate(&s.store, cmd, auth.actor(&idem)).await?)))
}

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

async fn commit(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    body: RawBody,
) -> Created<ops::CommitmentRecord> {
    auth.require(Need::Finance)?;
    let mut f = Fields::parse(&body)?;
    let cmd = ops::CommitmentCmd {
        grant: f.code("grant"),
        year: f.year("financial_year"),
        project: f.code("project"),
        supplier: f.text("supplier"),
        reference: f.text_or_empty("reference"),
        amount: f.money("amount"),
        date: f.date("date"),
        memo: f.text_or_empty("memo"),
    };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(ops::commit(&s.store, cmd, auth.actor(&idem)).await?)))
}

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
    };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(ops::spend(&s.store, cmd, auth.actor(&idem)).await?)))
}

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
    };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(ops::refund(&s.store, cmd, auth.actor(&idem)).await?)))
}

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
