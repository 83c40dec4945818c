//! Reports and exports (API.md, "Reports and exports"): readable by every role.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::super::AppState;
use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::Query;
use crate::reports::{commissioner, csv_out, quarterly, run, variance};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/variance", get(variance_report))
        .route("/api/v1/reports/quarterly", get(quarterly_report))
        .route("/api/v1/reports/multi-year", get(multi_year_report))
        .route("/api/v1/exports/commissioner-return", get(commissioner_return))
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
