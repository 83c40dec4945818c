//! The quarterly monitoring cycle (docs/api.md): officers' forecasts, a project's indicators
//! and their quarterly returns, and the monitoring return download.

use axum::Json;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::super::auth::Need;
use super::super::error::AppError;
use super::super::input::{Fields, FromFields, Query, RawBody};
use super::super::openapi::{Code, Instant};
use super::postings::path_id;
use super::reports::csv_response;
use super::{Caller, Created, created};
use crate::domain::{FinancialYear, is_valid_code};
use crate::model::formats::SheetFormat;
use crate::model::known::Known;
use crate::model::monitoring::{
    ForecastCmd, ForecastRecord, IndicatorCmd, IndicatorRecord, IndicatorReturnCmd, IndicatorReturnRecord, WithdrawCmd,
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

/// Record an officer's forecast of a project's year-end outturn on one award, made in a
/// quarter. Forecasts are never changed: a later one for the same grant, year, quarter and
/// project supersedes it, and both are listed.
///
/// Roles: finance, approver, admin.
#[utoipa::path(post, path = "/api/v1/forecasts", tag = "monitoring", request_body = ForecastCmd,
    responses((status = 201, body = ForecastRecord), (status = 403, description = "Neither finance, approver nor admin."),
        (status = 404, description = "No such grant (`not_found`)."),
        (status = 409, description = "The financial year is closed (`period_closed`)."),
        (status = 422, description = "A bad field; an unknown year or project, a year the grant has no award in, \
            a project the grant does not fund that year, a date outside the quarter (`validation_failed`, naming each).")))]
async fn record_forecast(c: Caller, body: RawBody) -> Created<ForecastRecord> {
    c.require(Need::Reporting)?;
    let mut f = Fields::parse(&body)?;
    let cmd = ForecastCmd::read_on(&mut f, c.state.today());
    f.finish()?;
    created(store::record_forecast(c.store(), cmd, c.actor()).await?)
}

/// The withdrawal's reason, the one field of a withdrawal's body.
fn withdraw_reason(body: &RawBody) -> Result<String, AppError> {
    Ok(WithdrawCmd::from_fields(Fields::parse(body)?)?.reason)
}

/// Withdraw a forecast recorded in error, with a reason. It is never changed or removed: it
/// stays listed with its withdrawal, and from now on counts in no report, so the forecast
/// before it (for its quarter or an earlier one) or else the commitment position shows
/// again; a report `as_known_at` before the withdrawal still shows it.
///
/// Roles: finance, approver, admin.
#[utoipa::path(post, path = "/api/v1/forecasts/{id}/withdraw", tag = "monitoring",
    params(("id" = i64, Path, minimum = 1, description = "The forecast's id.")), request_body = WithdrawCmd,
    responses((status = 201, body = ForecastRecord, description = "The forecast with its withdrawal."),
        (status = 403, description = "Neither finance, approver nor admin."),
        (status = 404, description = "No such forecast (`not_found`)."),
        (status = 409, description = "Withdrawn before (`conflict`), or its year is closed (`period_closed`)."),
        (status = 422, description = "A bad or missing `reason`, or a bad `id` (`validation_failed`).")))]
async fn withdraw_forecast(c: Caller, Path(id): Path<String>, body: RawBody) -> Created<ForecastRecord> {
    c.require(Need::Reporting)?;
    let id = path_id(&id, "id")?;
    let reason = withdraw_reason(&body)?;
    created(store::withdraw_forecast(c.store(), id, &reason, c.actor()).await?)
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct ForecastQuery {
    financial_year: Option<FinancialYear>,
    #[param(minimum = 1, maximum = 4)]
    quarter: Option<u8>,
    #[param(value_type = Option<Code>)]
    project: Option<String>,
}

impl ForecastQuery {
    fn read(q: &mut Query) -> Self {
        ForecastQuery {
            financial_year: q.year("financial_year"),
            quarter: q.quarter("quarter"),
            project: q.code("project"),
        }
    }
}

/// List forecasts, oldest first, superseded and withdrawn ones included and marked (a
/// withdrawn one carries its `withdrawal`, with the reason). One page holds them all
/// (`next_cursor` is null).
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/forecasts", tag = "monitoring", params(ForecastQuery),
    responses((status = 200, body = super::super::openapi::ForecastPage)))]
async fn list_forecasts(c: Caller, mut q: Query) -> Result<Response, AppError> {
    c.require(Need::ReadReference)?;
    let p = ForecastQuery::read(&mut q);
    q.finish()?;
    let items = store::list_forecasts(c.store(), p.financial_year, p.quarter, p.project.as_deref()).await?;
    Ok(Json(serde_json::json!({ "items": items, "next_cursor": null })).into_response())
}

fn project_path(code: &str) -> Result<(), AppError> {
    if is_valid_code(code) { Ok(()) } else { Err(AppError::field("code", "is not a valid code")) }
}

/// Set up an indicator (an output or outcome) of a project for a financial year. A second
/// with the same code in the same year is a `conflict`.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/projects/{code}/indicators", tag = "monitoring", params(("code" = Code, Path)),
    request_body = IndicatorCmd,
    responses((status = 201, body = IndicatorRecord), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such project (`not_found`)."),
        (status = 409, description = "The project has that indicator in that year (`conflict`).")))]
async fn create_indicator(c: Caller, Path(project): Path<String>, body: RawBody) -> Created<IndicatorRecord> {
    c.require(Need::Approver)?;
    project_path(&project)?;
    let cmd = IndicatorCmd { project, ..body.cmd::<IndicatorCmd>()? };
    created(store::create_indicator(c.store(), cmd, c.actor()).await?)
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct IndicatorQuery {
    financial_year: Option<FinancialYear>,
}

impl IndicatorQuery {
    fn read(q: &mut Query) -> Self {
        IndicatorQuery { financial_year: q.year("financial_year") }
    }
}

/// List a project's indicators with their returns (the latest of each quarter in `actuals`).
/// One page holds them all (`next_cursor` is null).
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/projects/{code}/indicators", tag = "monitoring",
    params(("code" = Code, Path), IndicatorQuery),
    responses((status = 200, body = super::super::openapi::IndicatorPage), (status = 404, description = "No such project (`not_found`).")))]
async fn list_indicators(c: Caller, Path(project): Path<String>, mut q: Query) -> Result<Response, AppError> {
    c.require(Need::ReadReference)?;
    project_path(&project)?;
    let p = IndicatorQuery::read(&mut q);
    q.finish()?;
    let items = store::indicators(c.store(), Some(&project), p.financial_year, &Known::Now).await?;
    Ok(Json(serde_json::json!({ "items": items, "next_cursor": null })).into_response())
}

/// Record one quarter's actual of an indicator. A later return for the same quarter
/// supersedes it; both are kept and listed.
///
/// Roles: finance, approver, admin.
#[utoipa::path(post, path = "/api/v1/indicator-returns", tag = "monitoring", request_body = IndicatorReturnCmd,
    responses((status = 201, body = IndicatorReturnRecord), (status = 403, description = "Neither finance, approver nor admin."),
        (status = 422, description = "A bad field, an unknown project, or an indicator the project does not have \
            in that year (`validation_failed`, naming each).")))]
async fn record_indicator_return(c: Caller, body: RawBody) -> Created<IndicatorReturnRecord> {
    c.require(Need::Reporting)?;
    let cmd = body.cmd::<IndicatorReturnCmd>()?;
    created(store::record_indicator_return(c.store(), cmd, c.actor()).await?)
}

/// Withdraw an indicator return recorded in error, with a reason. It stays listed with its
/// withdrawal (under its indicator), and from now on counts in no report: the return before
/// it for the same quarter, or none, counts again; a report `as_known_at` before the
/// withdrawal still counts it.
///
/// Roles: finance, approver, admin.
#[utoipa::path(post, path = "/api/v1/indicator-returns/{id}/withdraw", tag = "monitoring",
    params(("id" = i64, Path, minimum = 1, description = "The indicator return's id.")), request_body = WithdrawCmd,
    responses((status = 201, body = IndicatorReturnRecord, description = "The return with its withdrawal."),
        (status = 403, description = "Neither finance, approver nor admin."),
        (status = 404, description = "No such indicator return (`not_found`)."),
        (status = 409, description = "Withdrawn before (`conflict`)."),
        (status = 422, description = "A bad or missing `reason`, or a bad `id` (`validation_failed`).")))]
async fn withdraw_indicator_return(c: Caller, Path(id): Path<String>, body: RawBody) -> Created<IndicatorReturnRecord> {
    c.require(Need::Reporting)?;
    let id = path_id(&id, "id")?;
    let reason = withdraw_reason(&body)?;
    created(store::withdraw_indicator_return(c.store(), id, &reason, c.actor()).await?)
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct MonitoringReturnQuery {
    financial_year: FinancialYear,
    #[param(minimum = 1, maximum = 4)]
    quarter: u8,
    /// Figures as the ledger stood at this instant: entries, forecasts, indicators and
    /// returns recorded after it are left out.
    #[param(value_type = Option<Instant>)]
    as_known_at: Known,
    /// `csv` (the default) or `xlsx`.
    #[param(inline)]
    format: Option<SheetFormat>,
    /// Start a CSV with a UTF-8 byte-order mark, for Excel.
    #[param(value_type = Option<bool>)]
    bom: bool,
}

impl MonitoringReturnQuery {
    fn read(q: &mut Query) -> Self {
        MonitoringReturnQuery {
            financial_year: q.required_year("financial_year"),
            quarter: q.required_quarter("quarter"),
            as_known_at: q.known(),
            format: sheet_format(q),
            bom: q.bool("bom").unwrap_or(false),
        }
    }
}

/// `format` of a monitoring return download: `None` when not given (CSV).
pub(crate) fn sheet_format(q: &mut Query) -> Option<SheetFormat> {
    q.text("format").and_then(|t| SheetFormat::given(Some(&t)).map_err(|e| q.refuse("format", e)).ok())
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
async fn monitoring_return(c: Caller, mut q: Query) -> Result<Response, AppError> {
    c.require(Need::ReadReference)?;
    let p = MonitoringReturnQuery::read(&mut q);
    q.finish()?;
    let xlsx = p.format == Some(SheetFormat::Xlsx);
    let r = run::monitoring_return(c.store(), p.financial_year, p.quarter, &p.as_known_at).await?;
    monitoring_response(&r, xlsx, p.bom)
}
