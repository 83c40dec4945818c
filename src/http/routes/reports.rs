//! Reports and exports (docs/api.md, "Reports and exports"): readable by every role.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::Query;
use super::super::input::{Fields, RawBody};
use super::super::openapi::{BomQuery, Code, Instant, IsoDate};
use super::super::{AppState, Idem};
use crate::domain::FinancialYear;
use crate::model::formats::DataFormat;
use crate::model::reports::SpendProfile;
use crate::reports::{commissioner, csv_out, quarterly, run, variance};
use crate::storage::reports as sql;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(variance_report))
        .routes(routes!(quarterly_report))
        .routes(routes!(multi_year_report))
        .routes(routes!(commissioner_return))
        .routes(routes!(list_spend_profiles, set_spend_profile))
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

/// `bom` (`openapi::BomQuery`): whether a CSV download starts with a byte-order mark.
/// Every CSV route reads it here; `csv_out::with_bom` adds the mark.
pub fn bom(q: &mut Query) -> bool {
    q.bool("bom").unwrap_or(false)
}

/// `bom=true` on a route that answers JSON unless asked for CSV: refused when the answer is JSON.
pub fn bom_only_with_csv(bom: bool, csv: bool) -> Result<bool, AppError> {
    if bom && !csv {
        return Err(AppError::field("bom", "applies to the CSV form only: add format=csv"));
    }
    Ok(bom)
}

/// `json` (the default) or `csv`.
fn wants_csv(q: &mut Query) -> Result<bool, AppError> {
    let format = DataFormat::given(q.text("format").as_deref()).map_err(|e| AppError::field("format", e))?;
    Ok(format == DataFormat::Csv)
}

/// `quarter`: 1 to 4, required.
pub fn parse_quarter(text: Option<String>) -> Result<u8, AppError> {
    match text.as_deref().map(str::parse::<u8>) {
        Some(Ok(q)) if (1..=4).contains(&q) => Ok(q),
        None => Err(AppError::field("quarter", "is required")),
        _ => Err(AppError::field("quarter", "must be 1, 2, 3 or 4")),
    }
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // the contract of the parameters `Query` parses
struct VarianceQuery {
    financial_year: FinancialYear,
    /// Figures as at the end of this date; default now.
    as_at: Option<IsoDate>,
    /// Figures as the ledger stood at this instant: entries recorded after it are left out.
    as_known_at: Option<Instant>,
    grant: Option<Code>,
    /// Whose officer forecasts to show: default the quarter holding `as_at` (or today),
    /// clamped to the year. With `as_at`, each project's latest forecast made on or before it.
    #[param(minimum = 1, maximum = 4)]
    quarter: Option<u8>,
    #[param(inline)]
    format: Option<DataFormat>,
}

/// The variance report: budget, committed, actual, available and RAG per project and grant,
/// with priority and grant subtotals.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/reports/variance", tag = "reports", params(VarianceQuery, BomQuery),
    responses((status = 200, description = "The report as JSON, or as CSV with `format=csv`.", content(
            (crate::reports::variance::VarianceReport = "application/json"),
            (String = "text/csv"))), (status = 404, description = "No such financial year or grant (`not_found`).")))]
async fn variance_report(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let year = q.required_year("financial_year");
    let as_at = q.date("as_at");
    let known = q.known();
    let grant = q.code("grant");
    let quarter = q.text("quarter");
    let csv = wants_csv(&mut q);
    let bom = bom(&mut q);
    q.finish()?;
    let csv = csv?;
    let bom = bom_only_with_csv(bom, csv)?;
    let quarter = quarter.map(|t| parse_quarter(Some(t))).transpose()?;
    let report = run::variance_in_quarter(&s.store, year, as_at, &known, grant.as_deref(), quarter, today()).await?;
    if csv {
        let body = csv_out::write(&variance::CSV_HEADER, &variance::csv_rows(&report), bom);
        return Ok(csv_response(body, &format!("variance-{year}.csv")));
    }
    Ok(Json(report).into_response())
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct QuarterlyQuery {
    financial_year: FinancialYear,
    /// Spend dated up to the end of this date; default all.
    as_at: Option<IsoDate>,
    /// Figures as the ledger stood at this instant: entries recorded after it are left out.
    as_known_at: Option<Instant>,
    grant: Option<Code>,
    #[param(inline)]
    format: Option<DataFormat>,
}

/// Actual spend per quarter per project, priority and grant.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/reports/quarterly", tag = "reports", params(QuarterlyQuery, BomQuery),
    responses((status = 200, description = "The report as JSON, or as CSV with `format=csv`.", content(
            (crate::reports::quarterly::QuarterlyReport = "application/json"),
            (String = "text/csv"))), (status = 404, description = "No such financial year or grant (`not_found`).")))]
async fn quarterly_report(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let year = q.required_year("financial_year");
    let as_at = q.date("as_at");
    let known = q.known();
    let grant = q.code("grant");
    let csv = wants_csv(&mut q);
    let bom = bom(&mut q);
    q.finish()?;
    let csv = csv?;
    let bom = bom_only_with_csv(bom, csv)?;
    let report = run::quarterly(&s.store, year, grant.as_deref(), as_at, &known).await?;
    if csv {
        let body = csv_out::write(&quarterly::CSV_HEADER, &quarterly::csv_rows(&report), bom);
        return Ok(csv_response(body, &format!("quarterly-{year}.csv")));
    }
    Ok(Json(report).into_response())
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct MultiYearQuery {
    grant: Code,
    /// Figures as the ledger stood at this instant: entries recorded after it are left out.
    as_known_at: Option<Instant>,
}

/// One grant across its award years, with cumulative figures.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/reports/multi-year", tag = "reports", params(MultiYearQuery),
    responses((status = 200, body = crate::reports::multi_year::MultiYearReport),
        (status = 404, description = "No such grant (`not_found`).")))]
async fn multi_year_report(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let grant = q.code("grant");
    let known = q.known();
    q.finish()?;
    let grant = grant.ok_or_else(|| AppError::field("grant", "is required"))?;
    Ok(Json(run::multi_year(&s.store, &grant, &known).await?).into_response())
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ReturnQuery {
    financial_year: FinancialYear,
    #[param(minimum = 1, maximum = 4)]
    quarter: u8,
    /// Figures as the ledger stood at this instant: entries recorded after it are left out.
    as_known_at: Option<Instant>,
}

/// The Commissioner's return for a quarter, as CSV.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/exports/commissioner-return", tag = "reports", params(ReturnQuery, BomQuery),
    responses((status = 200, description = "The return.", body = String, content_type = "text/csv"),
        (status = 404, description = "No such financial year (`not_found`).")))]
async fn commissioner_return(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let year = q.required_year("financial_year");
    let quarter = q.text("quarter");
    let bom = bom(&mut q);
    let known = q.known();
    q.finish()?;
    let quarter = parse_quarter(quarter)?;
    let rows = run::commissioner_return(&s.store, year, quarter, &known).await?;
    let body = csv_out::write(&commissioner::CSV_HEADER, &rows, bom);
    Ok(csv_response(body, &format!("commissioner-return-{year}-q{quarter}.csv")))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the contract of the body `Fields` parses
struct SpendProfileBody {
    grant: Code,
    financial_year: FinancialYear,
    project: Code,
    /// Whole percent of the budget planned for each quarter; the four sum to 100.
    #[schema(minimum = 0, maximum = 100)]
    q1: u8,
    #[schema(minimum = 0, maximum = 100)]
    q2: u8,
    #[schema(minimum = 0, maximum = 100)]
    q3: u8,
    #[schema(minimum = 0, maximum = 100)]
    q4: u8,
}

/// Set a project's quarterly spend plan for an award, which the RAG rule measures from.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/spend-profiles", tag = "reports", request_body = SpendProfileBody,
    responses((status = 201, body = SpendProfile), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such award or project (`not_found`)."),
        (status = 422, description = "A bad field, or q1 to q4 do not sum to 100 (`validation_failed`, naming each).")))]
/// A project's quarterly spend plan for one award, which the RAG rule measures drift from.
/// Setting a plan is a budget decision: approvers (and admin) only.
async fn set_spend_profile(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    body: RawBody,
) -> Result<(axum::http::StatusCode, Json<SpendProfile>), AppError> {
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

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct SpendProfileQuery {
    financial_year: Option<FinancialYear>,
    grant: Option<Code>,
}

/// List projects' quarterly spend plans. One page holds them all (`next_cursor` is null).
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/spend-profiles", tag = "reports", params(SpendProfileQuery),
    responses((status = 200, body = super::super::openapi::SpendProfilePage)))]
async fn list_spend_profiles(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let year = q.year("financial_year");
    let grant = q.code("grant");
    q.finish()?;
    let items = sql::spend_profiles(&s.store, year, grant.as_deref()).await?;
    Ok(Json(serde_json::json!({ "items": items, "next_cursor": null })).into_response())
}
