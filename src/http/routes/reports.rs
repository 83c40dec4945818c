//! Reports and exports (docs/api.md, "Reports and exports"): readable by every role.

use axum::Json;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::super::auth::Need;
use super::super::error::AppError;
use super::super::input::Query;
use super::super::input::RawBody;
use super::super::openapi::{BomQuery, Code, Instant, IsoDate, PartnershipQuery};
use super::{Caller, Created, created};
use crate::domain::FinancialYear;
use crate::model::formats::DataFormat;
use crate::model::known::Known;
use crate::model::reports::{SpendProfile, SpendProfileCmd};
use crate::reports::{commissioner, csv_out, quarterly, run, variance};
use crate::storage::StoreError;
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

/// A report as JSON, or as a CSV download when `csv` is `Some` (holding whether it starts with
/// a byte-order mark): the report's header and rows, written by `csv_out`.
pub fn json_or_csv<R: serde::Serialize>(
    report: R,
    csv: Option<bool>,
    header: &[&str],
    rows: fn(&R) -> Vec<Vec<csv_out::Cell>>,
    filename: &str,
) -> Response {
    match csv {
        Some(bom) => csv_response(csv_out::write(header, &rows(&report), bom), filename),
        None => Json(report).into_response(),
    }
}

/// Whose ledger a report is of (`?partnership=`, read before the query is finished): the
/// home partnership's, the only one this service holds, by default or by its code. A
/// partnership the caller's funder funds is 404 saying its ledger is not held here; any other
/// code, unknown or not the caller's to see, is 404 as one that does not exist, so a
/// partnership's registration is told to no one outside it and its funder.
pub async fn whose(c: &Caller, code: Option<&str>) -> Result<(), AppError> {
    let Some(code) = code else { return Ok(()) };
    let who = &c.auth.0;
    let found = crate::storage::partnerships::list(c.store()).await?.into_iter().find(|p| p.code == code);
    match found {
        Some(p) if p.home.0 => Ok(()),
        Some(p) if who.role.is_funders() && who.funder.as_ref() == Some(&p.funder) => Err(AppError::Store(
            StoreError::NotFound(format!("partnership {code}'s ledger: it is not held in this service")),
        )),
        _ => Err(AppError::Store(StoreError::NotFound(format!("partnership {code}")))),
    }
}

/// `format`: `json` (the default) or `csv`.
fn wants_csv(format: Option<String>) -> Result<bool, AppError> {
    let format = DataFormat::given(format.as_deref()).map_err(|e| AppError::field("format", e))?;
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

/// The parameters of the variance report. `quarter` and `format` are checked once the query is
/// finished, each as its own error.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct VarianceQuery {
    financial_year: FinancialYear,
    /// Figures as at the end of this date; default now.
    #[param(value_type = Option<IsoDate>)]
    as_at: Option<NaiveDate>,
    /// Figures as the ledger stood at this instant: entries recorded after it are left out.
    #[param(value_type = Option<Instant>)]
    as_known_at: Known,
    #[param(value_type = Option<Code>)]
    grant: Option<String>,
    /// Whose officer forecasts to show: default the quarter holding `as_at` (or today),
    /// clamped to the year. With `as_at`, each project's latest forecast made on or before it.
    #[param(minimum = 1, maximum = 4, value_type = Option<u8>)]
    quarter: Option<String>,
    #[param(inline, value_type = Option<DataFormat>)]
    format: Option<String>,
}

/// What the variance and quarterly reports are of: the year, as at a date, as known at an
/// instant, and a grant or all, read in that order.
fn year_scope(q: &mut Query) -> (FinancialYear, Option<NaiveDate>, Known, Option<String>) {
    (q.required_year("financial_year"), q.date("as_at"), q.known(), q.code("grant"))
}

/// The rest of a query that may ask for CSV: `bom` and the end of the query, then `format`,
/// each refused on its own. `Some` when CSV was asked for, holding whether with a byte-order mark.
fn finish_csv_choice(mut q: Query, format: Option<String>) -> Result<Option<bool>, AppError> {
    let bom = bom(&mut q);
    q.finish()?;
    let csv = wants_csv(format)?;
    Ok(csv.then_some(bom_only_with_csv(bom, csv)?))
}

impl VarianceQuery {
    fn read(q: &mut Query) -> Self {
        let (financial_year, as_at, as_known_at, grant) = year_scope(q);
        VarianceQuery {
            financial_year,
            as_at,
            as_known_at,
            grant,
            quarter: q.text("quarter"),
            format: q.text("format"),
        }
    }
}

/// The variance report: budget, committed, actual, available and RAG per project and grant,
/// with priority and grant subtotals.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/reports/variance", tag = "reports", params(VarianceQuery, BomQuery, PartnershipQuery),
    responses((status = 200, description = "The report as JSON, or as CSV with `format=csv`.", content(
            (crate::reports::variance::VarianceReport = "application/json"),
            (String = "text/csv"))), (status = 404, description = "No such financial year or grant (`not_found`).")))]
async fn variance_report(c: Caller, mut q: Query) -> Result<Response, AppError> {
    c.require(Need::ReadReference)?;
    let VarianceQuery { financial_year: year, as_at, as_known_at: known, grant, quarter, format } =
        VarianceQuery::read(&mut q);
    let partnership = q.code("partnership");
    let csv = finish_csv_choice(q, format)?;
    whose(&c, partnership.as_deref()).await?;
    let quarter = quarter.map(|t| parse_quarter(Some(t))).transpose()?;
    let report = run::variance_in_quarter(c.store(), year, as_at, &known, grant.as_deref(), quarter, today()).await?;
    Ok(json_or_csv(report, csv, &variance::CSV_HEADER, variance::csv_rows, &format!("variance-{year}.csv")))
}

/// The parameters of the quarterly report. `format` is checked once the query is finished.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct QuarterlyQuery {
    financial_year: FinancialYear,
    /// Spend dated up to the end of this date; default all.
    #[param(value_type = Option<IsoDate>)]
    as_at: Option<NaiveDate>,
    /// Figures as the ledger stood at this instant: entries recorded after it are left out.
    #[param(value_type = Option<Instant>)]
    as_known_at: Known,
    #[param(value_type = Option<Code>)]
    grant: Option<String>,
    #[param(inline, value_type = Option<DataFormat>)]
    format: Option<String>,
}

impl QuarterlyQuery {
    fn read(q: &mut Query) -> Self {
        let (financial_year, as_at, as_known_at, grant) = year_scope(q);
        QuarterlyQuery { financial_year, as_at, as_known_at, grant, format: q.text("format") }
    }
}

/// Actual spend per quarter per project, priority and grant.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/reports/quarterly", tag = "reports", params(QuarterlyQuery, BomQuery, PartnershipQuery),
    responses((status = 200, description = "The report as JSON, or as CSV with `format=csv`.", content(
            (crate::reports::quarterly::QuarterlyReport = "application/json"),
            (String = "text/csv"))), (status = 404, description = "No such financial year or grant (`not_found`).")))]
async fn quarterly_report(c: Caller, mut q: Query) -> Result<Response, AppError> {
    c.require(Need::ReadReference)?;
    let QuarterlyQuery { financial_year: year, as_at, as_known_at: known, grant, format } =
        QuarterlyQuery::read(&mut q);
    let partnership = q.code("partnership");
    let csv = finish_csv_choice(q, format)?;
    whose(&c, partnership.as_deref()).await?;
    let report = run::quarterly(c.store(), year, grant.as_deref(), as_at, &known).await?;
    Ok(json_or_csv(report, csv, &quarterly::CSV_HEADER, quarterly::csv_rows, &format!("quarterly-{year}.csv")))
}

/// The parameters of the multi-year report. A missing `grant` is refused once the query is finished.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct MultiYearQuery {
    #[param(value_type = Code)]
    grant: Option<String>,
    /// Figures as the ledger stood at this instant: entries recorded after it are left out.
    #[param(value_type = Option<Instant>)]
    as_known_at: Known,
}

impl MultiYearQuery {
    fn read(q: &mut Query) -> Self {
        MultiYearQuery { grant: q.code("grant"), as_known_at: q.known() }
    }
}

/// One grant across its award years, with cumulative figures.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/reports/multi-year", tag = "reports", params(MultiYearQuery, PartnershipQuery),
    responses((status = 200, body = crate::reports::multi_year::MultiYearReport),
        (status = 404, description = "No such grant (`not_found`).")))]
async fn multi_year_report(c: Caller, mut q: Query) -> Result<Response, AppError> {
    c.require(Need::ReadReference)?;
    let MultiYearQuery { grant, as_known_at: known } = MultiYearQuery::read(&mut q);
    let partnership = q.code("partnership");
    q.finish()?;
    whose(&c, partnership.as_deref()).await?;
    let grant = grant.ok_or_else(|| AppError::field("grant", "is required"))?;
    Ok(Json(run::multi_year(c.store(), &grant, &known).await?).into_response())
}

/// The parameters of the Commissioner's return. `quarter` is checked once the query is finished.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct ReturnQuery {
    financial_year: FinancialYear,
    #[param(minimum = 1, maximum = 4, value_type = u8)]
    quarter: Option<String>,
    /// Figures as the ledger stood at this instant: entries recorded after it are left out.
    #[param(value_type = Option<Instant>)]
    as_known_at: Known,
}

impl ReturnQuery {
    fn read(q: &mut Query) -> Self {
        ReturnQuery {
            financial_year: q.required_year("financial_year"),
            quarter: q.text("quarter"),
            as_known_at: q.known(),
        }
    }
}

/// The Commissioner's return for a quarter, as CSV.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/exports/commissioner-return", tag = "reports", params(ReturnQuery, BomQuery),
    responses((status = 200, description = "The return.", body = String, content_type = "text/csv"),
        (status = 404, description = "No such financial year (`not_found`).")))]
async fn commissioner_return(c: Caller, mut q: Query) -> Result<Response, AppError> {
    c.require(Need::ReadReference)?;
    let ReturnQuery { financial_year: year, quarter, as_known_at: known } = ReturnQuery::read(&mut q);
    let bom = bom(&mut q);
    q.finish()?;
    let quarter = parse_quarter(quarter)?;
    let rows = run::commissioner_return(c.store(), year, quarter, &known).await?;
    let body = csv_out::write(&commissioner::CSV_HEADER, &rows, bom);
    Ok(csv_response(body, &format!("commissioner-return-{year}-q{quarter}.csv")))
}

/// Set a project's quarterly spend plan for an award, which the RAG rule measures from.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/spend-profiles", tag = "reports", request_body = SpendProfileCmd,
    responses((status = 201, body = SpendProfile), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such award or project (`not_found`)."),
        (status = 422, description = "A bad field, or q1 to q4 do not sum to 100 (`validation_failed`, naming each).")))]
/// A project's quarterly spend plan for one award, which the RAG rule measures drift from.
/// Setting a plan is a budget decision: approvers (and admin) only.
async fn set_spend_profile(c: Caller, body: RawBody) -> Created<SpendProfile> {
    c.require(Need::Approver)?;
    let cmd = body.cmd::<SpendProfileCmd>()?;
    let plan = cmd.plan();
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
    let rec =
        sql::set_spend_profile(c.store(), &cmd.grant, cmd.year, &cmd.project, plan, c.name(), c.idem.as_ref()).await?;
    created(rec)
}

/// The filters of `GET /spend-profiles`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct SpendProfileQuery {
    financial_year: Option<FinancialYear>,
    #[param(value_type = Option<Code>)]
    grant: Option<String>,
}

impl SpendProfileQuery {
    fn read(q: &mut Query) -> Self {
        SpendProfileQuery { financial_year: q.year("financial_year"), grant: q.code("grant") }
    }
}

/// List projects' quarterly spend plans. One page holds them all (`next_cursor` is null).
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/spend-profiles", tag = "reports", params(SpendProfileQuery),
    responses((status = 200, body = super::super::openapi::SpendProfilePage)))]
async fn list_spend_profiles(c: Caller, mut q: Query) -> Result<Response, AppError> {
    c.require(Need::ReadReference)?;
    let SpendProfileQuery { financial_year: year, grant } = SpendProfileQuery::read(&mut q);
    q.finish()?;
    let items = sql::spend_profiles(c.store(), year, grant.as_deref()).await?;
    Ok(Json(serde_json::json!({ "items": items, "next_cursor": null })).into_response())
}
