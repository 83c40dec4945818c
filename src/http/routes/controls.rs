//! Controls: four-eyes virements, year end, closing and reopening years, the audit trail
//! and the settings that govern them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::super::auth::{Auth, Need};
use super::super::error::{AppError, FieldError};
use super::super::input::{Fields, Query, RawBody};
use super::super::{AppState, Idem};
use crate::domain::{FinancialYear, Money, VirementStatus, is_valid_code};
use crate::reports::rag::RagRule;
use crate::storage::Page;
use crate::storage::audit::{self, AuditFilter, AuditRecord};
use crate::storage::controls::{self, YearEndCmd, YearEndRecord};
use crate::storage::operations::VirementRecord;
use crate::storage::reference::FinancialYearRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/virements/{id}", get(get_virement))
        .route("/api/v1/virements/{id}/approve", post(approve))
        .route("/api/v1/virements/{id}/reject", post(reject))
        .route("/api/v1/financial-years/{fy}/close", post(close_year))
        .route("/api/v1/financial-years/{fy}/reopen", post(reopen_year))
        .route("/api/v1/grants/{grant}/awards/{fy}/year-end", post(year_end))
        .route("/api/v1/audit", get(list_audit))
        .route("/api/v1/settings", get(get_settings).patch(patch_settings))
}

fn path_id(text: &str) -> Result<i64, AppError> {
    text.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(|| AppError::field("id", "must be a positive whole number"))
}

fn path_year(text: &str) -> Result<FinancialYear, AppError> {
    FinancialYear::parse(text).map_err(|e| AppError::field("fy", e.to_string()))
}

/// A body that may be empty: closing a year needs no fields.
fn optional_fields(body: &RawBody) -> Result<Fields, AppError> {
    if body.0.iter().all(u8::is_ascii_whitespace) { Fields::parse(&RawBody("{}".into())) } else { Fields::parse(body) }
}

pub async fn list_virements(
    State(s): State<AppState>,
    auth: Auth,
    mut q: Query,
) -> Result<Json<Page<VirementRecord>>, AppError> {
    auth.require(Need::ReadLedger)?;
    let status = q.text("status");
    let year = q.year("financial_year");
    let page = q.page();
    q.finish()?;
    let status = match status.as_deref().map(VirementStatus::parse) {
        None => None,
        Some(Some(st)) => Some(st),
        Some(None) => {
            let words: Vec<&str> = VirementStatus::ALL.iter().map(|w| w.as_str()).collect();
            return Err(AppError::field("status", format!("must be one of: {}", words.join(", "))));
        }
    };
    Ok(Json(controls::list_virements(&s.store, status, year, page.after_id(), page.limit).await?))
}

async fn get_virement(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<VirementRecord>, AppError> {
    auth.require(Need::ReadLedger)?;
    Ok(Json(controls::get_virement(&s.store, path_id(&id)?).await?))
}

async fn approve(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<VirementRecord>), AppError> {
    auth.require(Need::Approver)?;
    let id = path_id(&id)?;
    let record = controls::approve_virement(&s.store, id, auth.actor(&idem)).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

async fn reject(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<Json<VirementRecord>, AppError> {
    auth.require(Need::Approver)?;
    let id = path_id(&id)?;
    let mut f = Fields::parse(&body)?;
    let reason = f.text("reason");
    f.finish()?;
    Ok(Json(controls::reject_virement(&s.store, id, &reason, auth.actor(&idem)).await?))
}

async fn close_year(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path(fy): Path<String>,
    body: RawBody,
) -> Result<Json<FinancialYearRecord>, AppError> {
    auth.require(Need::Admin)?;
    let year = path_year(&fy)?;
    let mut f = optional_fields(&body)?;
    let reason = f.text_or_empty("reason");
    f.finish()?;
    Ok(Json(controls::close_year(&s.store, year, &reason, auth.actor(&idem)).await?))
}

async fn reopen_year(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path(fy): Path<String>,
    body: RawBody,
) -> Result<Json<FinancialYearRecord>, AppError> {
    auth.require(Need::Admin)?;
    let year = path_year(&fy)?;
    let mut f = Fields::parse(&body)?;
    let reason = f.text("reason");
    f.finish()?;
    Ok(Json(controls::reopen_year(&s.store, year, &reason, auth.actor(&idem)).await?))
}

async fn year_end(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path((grant, fy)): Path<(String, String)>,
    body: RawBody,
) -> Result<(StatusCode, Json<YearEndRecord>), AppError> {
    auth.require(Need::Approver)?;
    if !is_valid_code(&grant) {
        return Err(AppError::field("grant", "is not a valid code"));
    }
    let year = path_year(&fy)?;
    let mut f = Fields::parse(&body)?;
    let carry_forward = f.money_or_zero("carry_forward");
    let return_to_funder = f.money_or_zero("return_to_funder");
    let date = f.has("date").then(|| f.date("date"));
    let reason = f.text("reason");
    f.finish()?;
    let cmd = YearEndCmd { grant, year, carry_forward, return_to_funder, date, reason };
    let record = controls::year_end(&s.store, cmd, auth.actor(&idem)).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

async fn list_audit(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Json<Page<AuditRecord>>, AppError> {
    auth.require(Need::ReadLedger)?;
    let with_tokens = Need::Admin.allows(auth.0.role);
    let filter = AuditFilter {
        entity: q.text("entity"),
        key: q.text("key"),
        actor: q.text("actor"),
        action: q.text("action"),
        from: q.date("from"),
        to: q.date("to"),
        with_tokens,
    };
    let page = q.page();
    q.finish()?;
    // Viewers read everything but tokens: asking for them is refused, not answered empty.
    if filter.entity.as_deref() == Some("token") && !with_tokens {
        return Err(AppError::Forbidden);
    }
    Ok(Json(audit::list(&s.store, &filter, page.after_id(), page.limit).await?))
}

#[derive(serde::Serialize)]
struct Settings {
    /// A virement above this needs a second approver.
    virement_approval_threshold: Money,
    /// Percentage points of drift from the spend profile that rate a project amber.
    rag_amber_pct: String,
    /// Percentage points of drift that rate a project red.
    rag_red_pct: String,
    partnership: Option<String>,
}

async fn settings(s: &AppState) -> Result<Settings, AppError> {
    let rag = crate::storage::reports::rag_rule(&s.store).await?;
    Ok(Settings {
        virement_approval_threshold: controls::virement_threshold(&s.store).await?,
        rag_amber_pct: rag.amber_pct.to_string(),
        rag_red_pct: rag.red_pct.to_string(),
        partnership: crate::storage::reference::setting(&s.store, "partnership").await?,
    })
}

/// The RAG thresholds after a patch of either or both, each checked and named on its own.
fn patched_rag(current: RagRule, amber: Option<String>, red: Option<String>) -> Result<RagRule, AppError> {
    // Out of order is the fault of the value patched: amber when given, else red.
    let order_field = if amber.is_some() { "rag_amber_pct" } else { "rag_red_pct" };
    let amber = amber.unwrap_or_else(|| current.amber_pct.to_string());
    let red = red.unwrap_or_else(|| current.red_pct.to_string());
    let mut errors = Vec::new();
    if let Err(e) = RagRule::parse(&amber, "100") {
        errors.push(FieldError { field: "rag_amber_pct".into(), message: e });
    }
    if let Err(e) = RagRule::parse("0", &red) {
        errors.push(FieldError { field: "rag_red_pct".into(), message: e });
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    RagRule::parse(&amber, &red).map_err(|e| AppError::field(order_field, e))
}

async fn get_settings(State(s): State<AppState>, auth: Auth) -> Result<Json<Settings>, AppError> {
    auth.require(Need::ReadReference)?;
    Ok(Json(settings(&s).await?))
}

async fn patch_settings(State(s): State<AppState>, auth: Auth, body: RawBody) -> Result<Json<Settings>, AppError> {
    auth.require(Need::Admin)?;
    let mut f = Fields::parse(&body)?;
    let threshold = f.has("virement_approval_threshold").then(|| f.money_or_zero("virement_approval_threshold"));
    let (amber, red) = (f.opt_text("rag_amber_pct"), f.opt_text("rag_red_pct"));
    f.finish()?;
    let rag = if amber.is_some() || red.is_some() {
        Some(patched_rag(crate::storage::reports::rag_rule(&s.store).await?, amber, red)?)
    } else {
        None
    };
    controls::set_settings(&s.store, threshold, rag, auth.name()).await?;
    Ok(Json(settings(&s).await?))
}
