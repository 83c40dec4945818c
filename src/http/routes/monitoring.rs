//! The quarterly monitoring cycle (docs/api.md): officers' forecasts, a project's indicators
//! and their quarterly returns, and the monitoring return download.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::{Fields, Query, RawBody};
use super::super::openapi::{Code, Instant, IsoDate, Prose, ProseOrEmpty, Text, TextOrEmpty};
use super::super::{AppState, Idem};
use super::postings::path_id;
use super::reports::{csv_response, parse_quarter, today};
use crate::domain::{FinancialYear, Money, ProgressRag, Quantity, is_valid_code};
use crate::model::known::Known;
use crate::model::monitoring::{
    ForecastCmd, ForecastRecord, IndicatorCmd, IndicatorRecord, IndicatorReturnCmd, IndicatorReturnRecord,
};
use crate::reports::{monitoring, run};
use crate::storage::monitoring as store;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_forecasts, record_forecast))
        .routes(routes!(withdraw_forecast))
        .routes(routes!(list_indicators, create_indicator))
        .routes(routes!(record_indicator_return))
        .routes(routes!(withdraw_indicator_return))
        .routes(routes!(monitoring_return))
}

/// The XLSX media type.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the contract of the body `Fields` parses
struct ForecastBody {
    grant: Code,
    financial_year: FinancialYear,
    /// The quarter the forecast is made in.
    #[schema(minimum = 1, maximum = 4)]
    quarter: u8,
    project: Code,
    /// The project's forecast outturn for the whole year on this grant; zero allowed.
    #[schema(value_type = super::super::openapi::AmountOrZero)]
    forecast_outturn: Money,
    /// Why the forecast differs from budget.
    explanation: Option<ProseOrEmpty>,
    progress_rag: ProgressRag,
    /// Why that rating; required (not blank) when it is red or amber.
    rag_reason: Option<ProseOrEmpty>,
    /// The day it was made, within its quarter and not after today. Default: today, or the
    /// quarter's last day when the quarter has ended.
    made_on: Option<IsoDate>,
}

/// Record an officer's forecast of a project's year-end outturn on one award, made in a
/// quarter. Forecasts are never changed: a later one for the same grant, year, quarter and
/// project supersedes it, and both are listed.
///
/// Roles: finance, approver, admin.
#[utoipa::path(post, path = "/api/v1/forecasts", tag = "monitoring", request_body = ForecastBody,
    responses((status = 201, body = ForecastRecord), (status = 403, description = "Neither finance, approver nor admin."),
        (status = 404, description = "No such grant (`not_found`)."),
        (status = 409, description = "The financial year is closed (`period_closed`)."),
        (status = 422, description = "A bad field; an unknown year or project, a year the grant has no award in, \
            a project the grant does not fund that year, a date outside the quarter (`validation_failed`, naming each).")))]
async fn record_forecast(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    body: RawBody,
) -> Result<(StatusCode, Json<ForecastRecord>), AppError> {
    auth.require(Need::Reporting)?;
    let mut f = Fields::parse(&body)?;
    let grant = f.code("grant");
    let year = f.year("financial_year");
    let quarter = f.quarter("quarter");
    let project = f.code("project");
    let forecast_outturn = f.money_zero_ok("forecast_outturn");
    let explanation = f.text_or_empty("explanation");
    let progress_rag = f.word("progress_rag", &ProgressRag::ALL, None);
    let rag_reason = f.text_or_empty("rag_reason");
    let made_on = f.has_value("made_on").then(|| f.date("made_on"));
    if progress_rag != ProgressRag::Green && rag_reason.trim().is_empty() {
        f.refuse("rag_reason", "must say why when progress_rag is red or amber");
    }
    let today = today();
    let (start, end) = (year.quarter_start(quarter), year.quarter_end(quarter));
    let made_on = match (made_on, start, end) {
        (Some(d), Some(start), Some(end)) if d != chrono::NaiveDate::MIN => {
            if d < start || d > end {
                f.refuse("made_on", format!("must lie in quarter {quarter} of {year}, {start} to {end}"));
            } else if d > today {
                f.refuse("made_on", "must not be after today");
            }
            d
        }
        (None, Some(start), Some(end)) => {
            if start > today {
                f.refuse("quarter", format!("quarter {quarter} of {year} has not begun"));
            }
            today.min(end)
        }
        _ => today,
    };
    f.finish()?;
    let cmd =
        ForecastCmd { grant, year, quarter, project, forecast_outturn, explanation, progress_rag, rag_reason, made_on };
    Ok((StatusCode::CREATED, Json(store::record_forecast(&s.store, cmd, auth.actor(&idem)).await?)))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct WithdrawBody {
    /// Why it was recorded in error; shown beside it wherever it is listed.
    reason: Prose,
}

/// The withdrawal's reason, the one field of a withdrawal's body.
fn withdraw_reason(body: &RawBody) -> Result<String, AppError> {
    let mut f = Fields::parse(body)?;
    let reason = f.text("reason");
    f.finish()?;
    Ok(reason)
}

/// Withdraw a forecast recorded in error, with a reason. It is never changed or removed: it
/// stays listed with its withdrawal, and from now on counts in no report, so the forecast
/// before it (for its quarter or an earlier one) or else the commitment position shows
/// again; a report `as_known_at` before the withdrawal still shows it.
///
/// Roles: finance, approver, admin.
#[utoipa::path(post, path = "/api/v1/forecasts/{id}/withdraw", tag = "monitoring",
    params(("id" = i64, Path, minimum = 1, description = "The forecast's id.")), request_body = WithdrawBody,
    responses((status = 201, body = ForecastRecord, description = "The forecast with its withdrawal."),
        (status = 403, description = "Neither finance, approver nor admin."),
        (status = 404, description = "No such forecast (`not_found`)."),
        (status = 409, description = "Withdrawn before (`conflict`), or its year is closed (`period_closed`)."),
        (status = 422, description = "A bad or missing `reason`, or a bad `id` (`validation_failed`).")))]
async fn withdraw_forecast(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<(StatusCode, Json<ForecastRecord>), AppError> {
    auth.require(Need::Reporting)?;
    let id = path_id(&id, "id")?;
    let reason = withdraw_reason(&body)?;
    Ok((StatusCode::CREATED, Json(store::withdraw_forecast(&s.store, id, &reason, auth.actor(&idem)).await?)))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ForecastQuery {
    financial_year: Option<FinancialYear>,
    #[param(minimum = 1, maximum = 4)]
    quarter: Option<u8>,
    project: Option<Code>,
}

/// List forecasts, oldest first, superseded and withdrawn ones included and marked (a
/// withdrawn one carries its `withdrawal`, with the reason). One page holds them all
/// (`next_cursor` is null).
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/forecasts", tag = "monitoring", params(ForecastQuery),
    responses((status = 200, body = super::super::openapi::ForecastPage)))]
async fn list_forecasts(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let year = q.year("financial_year");
    let quarter = q.text("quarter");
    let project = q.code("project");
    q.finish()?;
    let quarter = quarter.map(|t| parse_quarter(Some(t))).transpose()?;
    let items = store::list_forecasts(&s.store, year, quarter, project.as_deref()).await?;
    Ok(Json(serde_json::json!({ "items": items, "next_cursor": null })).into_response())
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct IndicatorBody {
    code: Code,
    name: Text,
    /// What it counts: sessions, people, referrals.
    unit: Text,
    financial_year: FinancialYear,
    baseline: Quantity,
    /// The whole year's target.
    target: Quantity,
    /// Each quarter's target, Q1 to Q4 (target to date adds them).
    #[schema(min_items = 4, max_items = 4)]
    quarterly_targets: Vec<Quantity>,
}

fn project_path(code: &str) -> Result<(), AppError> {
    if is_valid_code(code) { Ok(()) } else { Err(AppError::field("code", "is not a valid code")) }
}

/// Set up an indicator (an output or outcome) of a project for a financial year. A second
/// with the same code in the same year is a `conflict`.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/projects/{code}/indicators", tag = "monitoring", params(("code" = Code, Path)),
    request_body = IndicatorBody,
    responses((status = 201, body = IndicatorRecord), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such project (`not_found`)."),
        (status = 409, description = "The project has that indicator in that year (`conflict`).")))]
async fn create_indicator(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path(project): Path<String>,
    body: RawBody,
) -> Result<(StatusCode, Json<IndicatorRecord>), AppError> {
    auth.require(Need::Approver)?;
    project_path(&project)?;
    let mut f = Fields::parse(&body)?;
    let cmd = IndicatorCmd {
        project,
        code: f.code("code"),
        name: f.text("name"),
        unit: f.text("unit"),
        year: f.year("financial_year"),
        baseline: f.quantity("baseline"),
        target: f.quantity("target"),
        quarterly_targets: f.quarter_quantities("quarterly_targets"),
    };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(store::create_indicator(&s.store, cmd, auth.actor(&idem)).await?)))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct IndicatorQuery {
    financial_year: Option<FinancialYear>,
}

/// List a project's indicators with their returns (the latest of each quarter in `actuals`).
/// One page holds them all (`next_cursor` is null).
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/projects/{code}/indicators", tag = "monitoring",
    params(("code" = Code, Path), IndicatorQuery),
    responses((status = 200, body = super::super::openapi::IndicatorPage), (status = 404, description = "No such project (`not_found`).")))]
async fn list_indicators(
    State(s): State<AppState>,
    auth: Auth,
    Path(project): Path<String>,
    mut q: Query,
) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    project_path(&project)?;
    let year = q.year("financial_year");
    q.finish()?;
    let items = store::indicators(&s.store, Some(&project), year, &Known::Now).await?;
    Ok(Json(serde_json::json!({ "items": items, "next_cursor": null })).into_response())
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct IndicatorReturnBody {
    project: Code,
    indicator: Code,
    financial_year: FinancialYear,
    #[schema(minimum = 1, maximum = 4)]
    quarter: u8,
    /// What the quarter achieved (not cumulative).
    actual: Quantity,
    /// Where the evidence is kept (a file, a register).
    evidence_ref: Option<TextOrEmpty>,
    note: Option<ProseOrEmpty>,
}

/// Record one quarter's actual of an indicator. A later return for the same quarter
/// supersedes it; both are kept and listed.
///
/// Roles: finance, approver, admin.
#[utoipa::path(post, path = "/api/v1/indicator-returns", tag = "monitoring", request_body = IndicatorReturnBody,
    responses((status = 201, body = IndicatorReturnRecord), (status = 403, description = "Neither finance, approver nor admin."),
        (status = 422, description = "A bad field, an unknown project, or an indicator the project does not have \
            in that year (`validation_failed`, naming each).")))]
async fn record_indicator_return(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    body: RawBody,
) -> Result<(StatusCode, Json<IndicatorReturnRecord>), AppError> {
    auth.require(Need::Reporting)?;
    let mut f = Fields::parse(&body)?;
    let cmd = IndicatorReturnCmd {
        project: f.code("project"),
        indicator: f.code("indicator"),
        year: f.year("financial_year"),
        quarter: f.quarter("quarter"),
        actual: f.quantity("actual"),
        evidence_ref: f.text_or_empty("evidence_ref"),
        note: f.text_or_empty("note"),
    };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(store::record_indicator_return(&s.store, cmd, auth.actor(&idem)).await?)))
}

/// Withdraw an indicator return recorded in error, with a reason. It stays listed with its
/// withdrawal (under its indicator), and from now on counts in no report: the return before
/// it for the same quarter, or none, counts again; a report `as_known_at` before the
/// withdrawal still counts it.
///
/// Roles: finance, approver, admin.
#[utoipa::path(post, path = "/api/v1/indicator-returns/{id}/withdraw", tag = "monitoring",
    params(("id" = i64, Path, minimum = 1, description = "The indicator return's id.")), request_body = WithdrawBody,
    responses((status = 201, body = IndicatorReturnRecord, description = "The return with its withdrawal."),
        (status = 403, description = "Neither finance, approver nor admin."),
        (status = 404, description = "No such indicator return (`not_found`)."),
        (status = 409, description = "Withdrawn before (`conflict`)."),
        (status = 422, description = "A bad or missing `reason`, or a bad `id` (`validation_failed`).")))]
async fn withdraw_indicator_return(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<(StatusCode, Json<IndicatorReturnRecord>), AppError> {
    auth.require(Need::Reporting)?;
    let id = path_id(&id, "id")?;
    let reason = withdraw_reason(&body)?;
    Ok((StatusCode::CREATED, Json(store::withdraw_indicator_return(&s.store, id, &reason, auth.actor(&idem)).await?)))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct MonitoringReturnQuery {
    financial_year: FinancialYear,
    #[param(minimum = 1, maximum = 4)]
    quarter: u8,
    /// Figures as the ledger stood at this instant: entries, forecasts, indicators and
    /// returns recorded after it are left out.
    as_known_at: Option<Instant>,
    /// `csv` (the default) or `xlsx`.
    #[param(inline)]
    format: Option<crate::model::formats::SheetFormat>,
    /// Start a CSV with a UTF-8 byte-order mark, for Excel.
    bom: Option<bool>,
}

/// Serves a monitoring return as a download: CSV or XLSX.
pub fn monitoring_response(r: &monitoring::MonitoringReturn, xlsx: bool, bom: bool) -> Result<Response, AppError> {
    let name = format!("monitoring-return-{}-q{}", r.financial_year, r.quarter);
    if !xlsx {
        return Ok(csv_response(monitoring::csv(r, bom), &format!("{name}.csv")));
    }
    let bytes = monitoring::xlsx(r).map_err(|e| AppError::Internal(anyhow::anyhow!("writing the workbook: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, XLSX.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.xlsx\"")),
        ],
        bytes,
    )
        .into_response())
}

/// The monitoring return for a quarter: per project and grant, budget, spend, the
/// officer's forecast and RAG, and each indicator's target and actual to date, with a
/// `TOTAL` line; figures as at the quarter's end.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/exports/monitoring-return", tag = "monitoring", params(MonitoringReturnQuery),
    responses((status = 200, description = "The return, as CSV or (`format=xlsx`) an XLSX workbook.", content(
            (String = "text/csv"), (super::super::openapi::Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, description = "No such financial year (`not_found`).")))]
async fn monitoring_return(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let year = q.required_year("financial_year");
    let quarter = q.text("quarter");
    let known = q.known();
    let format = q.text("format");
    let bom = q.bool("bom").unwrap_or(false);
    q.finish()?;
    let quarter = parse_quarter(quarter)?;
    let format =
        crate::model::formats::SheetFormat::given(format.as_deref()).map_err(|e| AppError::field("format", e))?;
    let xlsx = format == crate::model::formats::SheetFormat::Xlsx;
    let r = run::monitoring_return(&s.store, year, quarter, &known).await?;
    monitoring_response(&r, xlsx, bom)
}
