//! Reports and exports (API.md, "Reports and exports"): readable by every role.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::Query;
use super::super::input::{Fields, RawBody};
use super::super::{AppState, Idem};
use crate::reports::{commissioner, csv_out, quarterly, run, variance};
use crate::storage::reports as sql;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/variance", get(variance_report))
        .route("/api/v1/reports/quarterly", get(quarterly_report))
        .route("/api/v1/reports/multi-year", get(multi_year_report))
        .route("/api/v1/exports/commissioner-return", get(commissioner_return))
        .route("/api/v1/spend-profiles", get(list_spend_profiles).post(set_spend_profile))
}

/// Today's date, which sets the spend profile of a current report.
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A CSV download with a file name.
pub fn csv_response(body: Vec<u8>, filename: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response()
}

/// `json` (the default) or `csv`.
fn wants_csv(q: &mut Query) -> Result<bool, AppError> {
    match q.text("format").as_deref() {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(_) => Err(AppError::field("format", "must be json or csv")),
    }
}

/// `quarter`: 1 to 4, required.
pub fn parse_quarter(text: Option<String>) -> Result<u8, AppError> {
    match text.as_deref().map(str::parse::<u8>) {
        Some(Ok(q)) if (1..=4).contains(&q) => Ok(q),
        None => Err(AppError::field("quarter", "is required")),
        _ => Err(AppError::field("quarter", "must be 1, 2, 3 or 4")),
    }
}

async fn variance_report(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let year = q.required_year("financial_year");
    let as_at = q.date("as_at");
    let grant = q.code("grant");
    let csv = wants_csv(&mut q);
    q.finish()?;
    let csv = csv?;
    let report = run::variance(&s.store, year, as_at, grant.as_deref(), today()).await?;
    if csv {
        let body = csv_out::write(&variance::CSV_HEADER, &variance::csv_rows(&report), false);
        return Ok(csv_response(body, &format!("variance-{year}.csv")));
    }
    Ok(Json(report).into_response())
}

async fn quarterly_report(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let year = q.required_year("financial_year");
    let grant = q.code("grant");
    let csv = wants_csv(&mut q);
    q.finish()?;
    let csv = csv?;
    let report = run::quarterly(&s.store, year, grant.as_deref()).await?;
    if csv {
        let body = csv_out::write(&quarterly::CSV_HEADER, &quarterly::csv_rows(&report), false);
        return Ok(csv_response(body, &format!("quarterly-{year}.csv")));
    }
    Ok(Json(report).into_response())
}

async fn multi_year_report(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let grant = q.code("grant");
    q.finish()?;
    let grant = grant.ok_or_else(|| AppError::field("grant", "is required"))?;
    Ok(Json(run::multi_year(&s.store, &grant).await?).into_response())
}

async fn commissioner_return(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let year = q.required_year("financial_year");
    let quarter = q.text("quarter");
    let bom = q.bool("bom").unwrap_or(false);
    q.finish()?;
    let quarter = parse_quarter(quarter)?;
    let rows = run::commissioner_return(&s.store, year, quarter).await?;
    let body = csv_out::write(&commissioner::CSV_HEADER, &rows, bom);
    Ok(csv_response(body, &format!("commissioner-return-{year}-q{quarter}.csv")))
}

/// A project's quarterly spend plan for one award, which the RAG rule measures drift from.
/// Setting a plan is a budget decision: approvers (and admin) only.
async fn set_spend_profile(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    body: RawBody,
) -> Result<(axum::http::StatusCode, Json<sql::SpendProfile>), AppError> {
    auth.require(Need::Approver)?;
    let mut f = Fields::parse(&body)?;
    let grant = f.code("grant");
    let year = f.year("financial_year");
    let project = f.code("project");
    let plan = [f.percent("q1"), f.percent("q2"), f.percent("q3"), f.percent("q4")];
    f.finish()?;
    let total: u32 = plan.iter().map(|p| u32::from(*p)).sum();
    if total != 100 {
        let message = format!("q1 to q4 must sum to 100, not {total}");
        return Err(AppError::Validation(
            ["q1", "q2", "q3", "q4"]
                .iter()
                .map(|q| super::super::error::FieldError { field: (*q).to_owned(), message: message.clone() })
                .collect(),
        ));
    }
    let rec = sql::set_spend_profile(&s.store, &grant, year, &project, plan, auth.name(), idem.as_ref()).await?;
    Ok((axum::http::StatusCode::CREATED, Json(rec)))
}

async fn list_spend_profiles(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let year = q.year("financial_year");
    let grant = q.code("grant");
    q.finish()?;
    let items = sql::spend_profiles(&s.store, year, grant.as_deref()).await?;
    Ok(Json(serde_json::json!({ "items": items, "next_cursor": null })).into_response())
}
