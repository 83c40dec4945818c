//! The one error type of the HTTP layer, answered as `application/problem+json` with the
//! codes of docs/api.md. A database or unexpected error is logged and answered as a bare 500.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::{EntryError, RuleViolation};
use crate::storage::StoreError;

pub use crate::model::fields::FieldError;

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
    /// Too many failed sign-ins or bearer tokens from one address; try after `retry_after` seconds.
    #[error("too many failed authentications from this address; try again in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    /// A request under the same `Idempotency-Key` is still running past the wait's bound.
    #[error("a request with this Idempotency-Key is still being processed; retry it shortly")]
    KeyStillInUse { retry_after: u64 },
    #[error("this route does not take that method")]
    MethodNotAllowed,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// Marks the response to a write whose idempotent response could not be saved because a
/// request elsewhere saved the key first, so the middleware can replay that one instead.
#[derive(Debug, Clone, Copy)]
pub struct KeyRaced;

/// Every bad field of a request, as its one answer.
impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> AppError {
        AppError::Validation(errors)
    }
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError { field: field.to_owned(), message: message.into() }])
    }
}

/// An error, `application/problem+json` (RFC 9457), with the API's fixed codes.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    detail: String,
    #[schema(pattern = "^[a-z_]+$", examples("validation_failed", "not_found", "overspend"))]
    code: &'static str,
    /// One per bad field; empty for errors of no field.
    errors: Vec<FieldError>,
    /// What some errors add, e.g. an import's report; not part of the common shape.
    #[serde(flatten)]
    #[schema(ignore)]
    extra: serde_json::Map<String, serde_json::Value>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut extra = serde_json::Map::new();
        let mut errors = Vec::new();
        let detail = self.to_string();
        // A refusal on one partnership's side is answered as the refusal, naming it.
        let this = match self {
            AppError::Store(StoreError::OfPartnership { partnership, refusal }) => {
                extra.insert("partnership".into(), partnership.into());
                AppError::Store(*refusal)
            }
            other => other,
        };
        let (status, code, title) = match &this {
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
            AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Too many requests"),
            AppError::KeyStillInUse { .. } => (StatusCode::SERVICE_UNAVAILABLE, "busy", "Busy"),
            AppError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed"),
            AppError::Store(e) => match e {
                StoreError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
                StoreError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", "Not found"),
                StoreError::Conflict(_) | StoreError::OfPartnership { .. } => {
                    (StatusCode::CONFLICT, "conflict", "Conflict")
                }
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
                StoreError::QuarterLocked { year, quarter } => {
                    extra.insert("financial_year".into(), year.to_string().into());
                    extra.insert("quarter".into(), (*quarter).into());
                    (StatusCode::CONFLICT, "period_closed", "Period closed")
                }
                StoreError::AlreadyReversed(_) | StoreError::EvidenceReversed(_) => {
                    (StatusCode::CONFLICT, "already_reversed", "Already reversed")
                }
                StoreError::Duplicate { of, .. } => {
                    extra.insert("duplicate_of".into(), (*of).into());
                    (StatusCode::CONFLICT, "duplicate", "Duplicate")
                }
                StoreError::IdempotencyRace => (StatusCode::CONFLICT, "idempotency_conflict", "Idempotency conflict"),
                StoreError::Entry(EntryError::DateOutsideYear { .. }) => {
                    errors.push(FieldError { field: "date".into(), message: detail.clone() });
                    (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Validation failed")
                }
                StoreError::Entry(_) => {
                    errors.push(FieldError { field: "amount".into(), message: detail.clone() });
                    (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Validation failed")
                }
                StoreError::Busy => {
                    tracing::warn!("a write waited past its bound or was chosen to break a deadlock; answered 503");
                    (StatusCode::SERVICE_UNAVAILABLE, "busy", "Busy")
                }
                StoreError::Corrupt(what) => return internal(&format!("corrupt stored value: {what}")),
                StoreError::Db(err) => return internal(&format!("{err:?}")),
            },
            AppError::Internal(err) => return internal(&format!("{err:?}")),
        };
        // Rule 8: a refusal as at an earlier date names it.
        if let AppError::Store(StoreError::Rule(v)) = &this
            && let Some(date) = v.as_at()
        {
            extra.insert("as_at".into(), date.to_string().into());
        }
        let detail = match &this {
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
        let mut response = problem_response(status, &problem);
        let retry_after = match this {
            AppError::RateLimited { retry_after } | AppError::KeyStillInUse { retry_after } => Some(retry_after),
            AppError::Store(StoreError::Busy) => Some(BUSY_RETRY_AFTER_SECS),
            _ => None,
        };
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        if let AppError::Store(StoreError::IdempotencyRace) = this {
            response.extensions_mut().insert(KeyRaced);
        }
        response
    }
}

/// Answers that axum and tower-http make themselves (405 with an empty body, 413 in text)
/// become problem+json like every other error; a 405 keeps its `Allow` header.
pub async fn bare_errors_as_problems(response: Response) -> Response {
    let is_problem = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v == "application/problem+json");
    let error = match response.status() {
        _ if is_problem => return response,
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
        _ => return response,
    };
    let mut problem = error.into_response();
    if let Some(allow) = response.headers().get(header::ALLOW) {
        problem.headers_mut().insert(header::ALLOW, allow.clone());
    }
    problem
}

fn problem_response(status: StatusCode, body: &impl Serialize) -> Response {
    let body = serde_json::to_vec(body).expect("problems serialize");
    (status, [(header::CONTENT_TYPE, "application/problem+json")], body).into_response()
}

/// How long a client is asked to wait before retrying a write the ledger was too busy for:
/// the lock it waited on is usually free again within a second.
const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// A handler that panicked: a bug. The panic's message is logged, and the client gets the
/// same bare 500 problem as any unexpected error, never a dropped connection. A `db_tx` the
/// handler held was dropped with it and rolled back, so nothing is half-written.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic with no message");
    internal(&format!("handler panicked: {message}"))
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
