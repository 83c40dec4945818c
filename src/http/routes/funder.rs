//! The funder's reports (docs/api.md, "The funder's reports"): the overview of a year over
//! the partnerships the service holds (today this ledger's one), and the returns they filed,
//! each marked late or not. Read by the funder and admin.

use axum::Json;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::super::auth::Need;
use super::super::error::AppError;
use super::super::input::Query;
use super::super::openapi::BomQuery;
use super::monitoring::XLSX;
use super::reports::{bom, bom_only_with_csv, json_or_csv};
use super::{Answer, Caller};
use crate::domain::FinancialYear;
use crate::model::formats::ReportFormat;
use crate::reports::overview::{self, FunderOverview, FunderReturns};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(funder_overview)).routes(routes!(funder_returns)).merge(super::funds::router())
}

/// The parameters of the overview. `format` is checked once the query is finished.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct OverviewQuery {
    financial_year: FinancialYear,
    /// `json` (the default), `csv` or `xlsx`.
    #[param(inline, value_type = Option<ReportFormat>)]
    format: Option<String>,
}

/// The funder's overview of a year: per partnership and grant, the award, what is allocated,
/// committed and spent, the officers' forecast and RAG (the variance report's grant subtotal),
/// what the funder paid and is owed (the cash position), the newest Commissioner's return and
/// the quarters overdue; `totals` per grant across partnerships. Figures are current; the cash
/// position and the returns overdue are as at today.
///
/// Roles: funder, funder_admin, admin.
#[utoipa::path(get, path = "/api/v1/funder/overview", tag = "funder", params(OverviewQuery, BomQuery),
    responses((status = 200, description = "The overview as JSON, as CSV (`format=csv`, its rows) or as an XLSX workbook (`format=xlsx`, sheets Overview and Totals).", content(
            (FunderOverview = "application/json"),
            (String = "text/csv"),
            (super::super::openapi::Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, description = "Neither funder nor admin."),
        (status = 422, description = "A bad or unknown `financial_year`, or a bad `format` or `bom` (`validation_failed`).")))]
async fn funder_overview(c: Caller, mut q: Query) -> Result<Response, AppError> {
    c.require(Need::FunderReports)?;
    let OverviewQuery { financial_year: year, format } =
        OverviewQuery { financial_year: q.required_year("financial_year"), format: q.text("format") };
    let bom = bom(&mut q);
    q.finish()?;
    let format = ReportFormat::given(format.as_deref()).map_err(|e| AppError::field("format", e))?;
    let bom = bom_only_with_csv(bom, format == ReportFormat::Csv)?;
    let report = overview::run(c.store(), year, c.state.today()).await?;
    if format != ReportFormat::Xlsx {
        let csv = (format == ReportFormat::Csv).then_some(bom);
        let name = format!("funder-overview-{year}.csv");
        return Ok(json_or_csv(report, csv, &overview::CSV_HEADER, overview::csv_rows, &name));
    }
    overview_xlsx(&report)
}

/// The overview as an XLSX workbook download (sheets Overview and Totals): the API route's
/// and the funder's page's.
pub fn overview_xlsx(report: &FunderOverview) -> Result<Response, AppError> {
    let bytes = overview::xlsx(report).map_err(|e| AppError::Internal(anyhow::anyhow!("writing the workbook: {e}")))?;
    let disposition = format!("attachment; filename=\"funder-overview-{}.xlsx\"", report.financial_year);
    Ok(([(header::CONTENT_TYPE, XLSX.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}

/// The parameters of the funder's list of returns.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct ReturnsQuery {
    financial_year: FinancialYear,
    /// Only this quarter's returns.
    #[param(minimum = 1, maximum = 4)]
    quarter: Option<u8>,
}

/// The returns filed for a year (or one quarter of it), by quarter, each with its due date
/// (the quarter's end plus the setting `return_due_days`) and whether it was filed after it.
///
/// Roles: funder, funder_admin, admin.
#[utoipa::path(get, path = "/api/v1/funder/returns", tag = "funder", params(ReturnsQuery),
    responses((status = 200, body = FunderReturns), (status = 403, description = "Neither funder nor admin."),
        (status = 422, description = "A bad or unknown `financial_year`, or a bad `quarter` (`validation_failed`).")))]
async fn funder_returns(c: Caller, mut q: Query) -> Answer<FunderReturns> {
    c.require(Need::FunderReports)?;
    let ReturnsQuery { financial_year: year, quarter } =
        ReturnsQuery { financial_year: q.required_year("financial_year"), quarter: q.quarter("quarter") };
    q.finish()?;
    Ok(Json(overview::returns(c.store(), year, quarter).await?))
}
