//! The one error type of the HTTP layer, answered as `application/problem+json` with the
//! codes of API.md. A database or unexpected error is logged and answered as a bare 500.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::{EntryError, RuleViolation};
use crate::storage::StoreError;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("a bearer token is required")]
    Unauthorized,
    #[error("this token's role may not do this")]
    Forbidden,
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("the request body is larger than allowed")]
    TooLarge,
    #[error("this Idempotency-Key was used before with a different request")]
    IdempotencyConflict,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError { field: field.to_owned(), message: message.into() }])
    }
}

#[derive(Serialize)]
struct Problem {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    detail: String,
    code: &'static str,
    errors: Vec<FieldError>,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut extra = serde_json::Map::new();
        let mut errors = Vec::new();
        let detail = self.to_string();
        let (status, code, title) = match &self {
            AppError::Validation(e) => {
                errors = e.clone();
                (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Validation failed")
            }
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            AppError::TooLarge => {
                errors.push(FieldError { field: "body".into(), message: detail.clone() });
                (StatusCode::PAYLOAD_TOO_LARGE, "validation_failed", "Request body too large")
            }
            AppError::IdempotencyConflict => (StatusCode::CONFLICT, "idempotency_conflict", "Idempotency conflict"),
            AppError::Store(e) => match e {
                StoreError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
                StoreError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", "Not found"),
                StoreError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
                StoreError::Invalid { field, message } => {
                    errors.push(FieldError { field: field.clone(), message: message.clone() });
                    (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Validation failed")
                }
                StoreError::Rule(RuleViolation::OverAllocation { unallocated, requested, .. }) => {
                    extra.insert("unallocated".into(), unallocated.to_string().into());
                    extra.insert("requested".into(), requested.to_string().into());
                    (StatusCode::CONFLICT, "over_allocation", "Over-allocation")
                }
                StoreError::Rule(RuleViolation::Overspend { project, available, requested, shortfall, .. }) => {
                    extra.insert("project".into(), project.clone().into());
                    extra.insert("available".into(), available.to_string().into());
                    extra.insert("requested".into(), requested.to_string().into());
                    extra.insert("shortfall".into(), shortfall.to_string().into());
                    (StatusCode::CONFLICT, "overspend", "Overspend")
                }
                StoreError::Rule(RuleViolation::BelowZero { .. }) => (StatusCode::CONFLICT, "conflict", "Conflict"),
                StoreError::RestrictedFund { .. } => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "restricted_fund", "Restricted fund")
                }
                StoreError::PeriodClosed(_) => (StatusCode::CONFLICT, "period_closed", "Period closed"),
                StoreError::AlreadyReversed(_) => (StatusCode::CONFLICT, "already_reversed", "Already reversed"),
                StoreError::IdempotencyRace => (StatusCode::CONFLICT, "idempotency_conflict", "Idempotency conflict"),
                StoreError::Entry(EntryError::DateOutsideYear { .. }) => {
                    errors.push(FieldError { field: "date".into(), message: detail.clone() });
                    (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Validation failed")
                }
                StoreError::Entry(_) => {
                    errors.push(FieldError { field: "amount".into(), message: detail.clone() });
                    (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Validation failed")
                }
                StoreError::Busy => return busy(&detail),
                StoreError::Db(err) => return internal(&format!("{err:?}")),
            },
            AppError::Internal(err) => return internal(&format!("{err:?}")),
        };
        // Rule 8: a refusal as at an earlier date names it.
        if let AppError::Store(StoreError::Rule(v)) = &self
            && let Some(date) = v.as_at()
        {
            extra.insert("as_at".into(), date.to_string().into());
        }
        let detail = match &self {
            AppError::Validation(e) => {
                e.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
            }
            _ => detail,
        };
        let problem = Problem {
            kind: format!("https://grant-ledger.invalid/problems/{code}"),
            title,
            status: status.as_u16(),
            detail,
            code,
            errors,
            extra,
        };
        problem_response(status, &problem)
    }
}

fn problem_response(status: StatusCode, body: &impl Serialize) -> Response {
    let body = serde_json::to_vec(body).expect("problems serialize");
    (status, [(header::CONTENT_TYPE, "application/problem+json")], body).into_response()
}

/// How long a client is asked to wait before retrying a write the ledger was too busy for.
const RETRY_AFTER_SECS: &str = "1";

/// 503 with `Retry-After`: the write was not recorded and may be sent again.
fn busy(detail: &str) -> Response {
    tracing::warn!("a write waited past its bound or was chosen to break a deadlock; answered 503");
    let problem = serde_json::json!({
        "type": "https://grant-ledger.invalid/problems/busy",
        "title": "Busy",
        "status": 503,
        "detail": detail,
        "code": "busy",
        "errors": [],
    });
    let mut response = problem_response(StatusCode::SERVICE_UNAVAILABLE, &problem);
    response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from_static(RETRY_AFTER_SECS));
    response
}

/// Logs the cause; the body says nothing about it.
fn internal(cause: &str) -> Response {
    tracing::error!(%cause, "request failed");
    let problem = serde_json::json!({
        "type": "https://grant-ledger.invalid/problems/internal",
        "title": "Internal error",
        "status": 500,
        "detail": "The server could not complete this request. It has been logged.",
        "code": "internal",
        "errors": [],
    });
    problem_response(StatusCode::INTERNAL_SERVER_ERROR, &problem)
}
