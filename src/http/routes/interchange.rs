//! CSV interchange over HTTP: spend import, the journal and transparency exports, and the
//! open-data exports of grant agreements (VCSE grants, 360Giving).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::{Query, RawBody};
use super::super::openapi::{BomQuery, Code, Instant, IsoDate};
use super::super::{AppState, Idem};
use super::imports::mapping_param;
use super::reports::bom_only_with_csv;
use crate::csv::journal::Format;
use crate::csv::mapping::Preset;
use crate::domain::FinancialYear;
use crate::model::import::{Engine, ImportOptions};
use crate::model::known::Known;
use crate::reports::csv_out;
use crate::reports::open_data::{self, GivingFormat};
use crate::storage::Store;
use chrono::NaiveDate;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_spend))
        .routes(routes!(journal))
        .routes(routes!(transparency))
        .routes(routes!(vcse_grants))
        .routes(routes!(giving))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    /// Check every line and report, posting nothing.
    #[param(value_type = Option<bool>)]
    dry_run: bool,
    /// The column layout (default `generic`).
    #[param(inline)]
    mapping: Option<Preset>,
    /// The grant of lines that name none.
    #[param(value_type = Option<Code>)]
    grant: Option<String>,
}

impl ImportQuery {
    fn read(q: &mut Query) -> Self {
        let mapping = mapping_param(q);
        ImportQuery { dry_run: q.bool("dry_run").unwrap_or(false), mapping, grant: q.code("grant") }
    }
}

/// Import spend from a CSV file (the body), all lines or none.
///
/// Roles: finance, admin.
#[utoipa::path(post, path = "/api/v1/imports/spend", tag = "reports", params(ImportQuery),
    request_body(description = "The CSV file: as `text/csv`, or as bytes (`application/octet-stream`).",
        content((String = "text/csv"), (super::super::openapi::CsvFile = "application/octet-stream"))),
    responses((status = 200, description = "Every line passed: posted, unless a dry run.", body = crate::model::import::ImportReport),
        (status = 403, description = "Neither finance nor admin."),
        (status = 422, description = "A bad parameter, or lines rejected: the Problem carries the import report; nothing was posted.")))]
/// The body is the CSV file itself. All or nothing: 200 with the report when every line
/// passed (posted unless `dry_run`), 422 problem+json carrying the same report otherwise.
async fn import_spend(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    mut q: Query,
    body: RawBody,
) -> Result<Response, AppError> {
    auth.require(Need::Finance)?;
    let p = ImportQuery::read(&mut q);
    q.finish()?;
    let mapping = p.mapping.unwrap_or(Preset::Generic).mapping().with_default_grant(p.grant);
    let opts = ImportOptions { dry_run: p.dry_run, created_by: auth.name(), idem: idem.as_ref(), engine: Engine::Bulk };
    let report = crate::csv::import_spend(&s.store, &body.0, &mapping, opts, &|_| {}).await?;
    if report.rejected == 0 {
        return Ok(Json(report).into_response());
    }
    let detail = format!("{} line(s) rejected; nothing was posted", report.rejected);
    Ok(lines_refused(serde_json::to_value(&report).expect("reports serialize"), &detail))
}

/// 422 problem+json carrying `report`'s members beside the problem's: an import with lines
/// refused, of which nothing was posted.
pub(super) fn lines_refused(report: serde_json::Value, detail: &str) -> Response {
    let mut problem = report;
    let fields = serde_json::json!({
        "type": "https://grant-ledger.invalid/problems/validation_failed",
        "title": "Import refused",
        "status": 422,
        "detail": detail,
        "code": "validation_failed",
    });
    for (k, v) in fields.as_object().expect("an object") {
        problem[k] = v.clone();
    }
    let body = serde_json::to_vec(&problem).expect("problems serialize");
    (StatusCode::UNPROCESSABLE_ENTITY, [(header::CONTENT_TYPE, "application/problem+json")], body).into_response()
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct JournalQuery {
    #[param(inline)]
    format: Format,
    /// Figures as the ledger stood at this instant: entries recorded after it are left out.
    #[param(value_type = Option<Instant>)]
    as_known_at: Known,
}

impl JournalQuery {
    fn read(q: &mut Query) -> Self {
        let format = q.text("format").as_deref().and_then(Format::parse).unwrap_or_else(|| {
            q.refuse("format", "must be hledger or beancount");
            Format::Hledger
        });
        JournalQuery { format, as_known_at: q.known() }
    }
}

/// The whole ledger as an hledger or beancount journal, ending with the chain heads it vouches for.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/exports/journal", tag = "reports", params(JournalQuery),
    responses((status = 200, description = "The journal.", body = String, content_type = "text/plain")))]
async fn journal(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let p = JournalQuery::read(&mut q);
    q.finish()?;
    let text = crate::csv::export_journal(&s.store, p.format, &p.as_known_at).await?;
    let name = match p.format {
        Format::Hledger => "ledger.journal",
        Format::Beancount => "ledger.beancount",
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        text,
    )
        .into_response())
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct TransparencyQuery {
    #[param(value_type = IsoDate)]
    from: NaiveDate,
    /// Not before `from`.
    #[param(value_type = IsoDate)]
    to: NaiveDate,
    /// Figures as the ledger stood at this instant: entries recorded after it are left out.
    #[param(value_type = Option<Instant>)]
    as_known_at: Known,
}

impl TransparencyQuery {
    fn read(q: &mut Query) -> Self {
        TransparencyQuery { from: q.required_date("from"), to: q.required_date("to"), as_known_at: q.known() }
    }
}

/// Spend over £500 between two dates, as the Local Government Transparency Code CSV.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/exports/transparency", tag = "reports", params(TransparencyQuery, BomQuery),
    responses((status = 200, description = "The CSV.", body = String, content_type = "text/csv")))]
async fn transparency(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let TransparencyQuery { from, to, as_known_at } = TransparencyQuery::read(&mut q);
    let bom = BomQuery::read(&mut q).bom;
    q.finish()?;
    if from > to {
        return Err(AppError::field("to", "must not be before from"));
    }
    let text = crate::csv::export_transparency(&s.store, from, to, &as_known_at).await?;
    let name = format!("spend-over-500-{from}-{to}.csv");
    Ok(download("text/csv; charset=utf-8", &name, csv_out::with_bom(text.into_bytes(), bom)))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct VcseGrantsQuery {
    /// Agreements awarded (their commitment date) in this year.
    financial_year: FinancialYear,
    /// As the ledger stood at this instant: an agreement whose first commitment entry was
    /// recorded after it is left out.
    #[param(value_type = Option<Instant>)]
    as_known_at: Known,
}

impl VcseGrantsQuery {
    fn read(q: &mut Query) -> Self {
        VcseGrantsQuery { financial_year: q.required_year("financial_year"), as_known_at: q.known() }
    }
}

/// Grants to voluntary, community and social enterprise organisations awarded in a year, as
/// the Local Government Transparency Code 2015 CSV (docs/open-data.md).
///
/// One row per grant agreement awarded in the year whose recipient is of kind `vcse`, in award
/// date then id order; a multi-year agreement once, in its award year, with its whole amount.
/// Columns: `Date Awarded`, `Start Date`, `End Date`, `Awarding Department` (setting
/// `funding_org_name`), `Beneficiary Name`, `Beneficiary Registration Number` (charity number,
/// else company number), `Purpose`, `Amount` (the whole amount), `Amount In Financial Year`
/// (the part in the year asked for), `Agreement ID`, `Grant`, `Project`, `Beneficiary Org ID`.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/exports/vcse-grants", tag = "reports", params(VcseGrantsQuery, BomQuery),
    responses((status = 200, description = "The CSV.", body = String, content_type = "text/csv"),
        (status = 404, description = "No such financial year (`not_found`)."),
        (status = 409, description = "Setting `funding_org_name` is not set (`conflict`, naming it).")))]
async fn vcse_grants(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let p = VcseGrantsQuery::read(&mut q);
    let bom = BomQuery::read(&mut q).bom;
    q.finish()?;
    vcse_download(&s.store, p.financial_year, &p.as_known_at, bom).await
}

/// The VCSE grants file as a download: the API route's answer, and the dashboard's.
pub(crate) async fn vcse_file(store: &Store, year: FinancialYear, known: &Known) -> Result<Response, AppError> {
    vcse_download(store, year, known, false).await
}

async fn vcse_download(store: &Store, year: FinancialYear, known: &Known, bom: bool) -> Result<Response, AppError> {
    let bytes = open_data::vcse_grants(store, year, known).await?;
    Ok(download("text/csv; charset=utf-8", &format!("vcse-grants-{year}.csv"), csv_out::with_bom(bytes, bom)))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct GivingQuery {
    /// Agreements awarded (their commitment date) in this year.
    financial_year: FinancialYear,
    /// `json` (the default) or `csv`.
    #[param(inline)]
    format: Option<GivingFormat>,
    /// As the ledger stood at this instant: an agreement whose first commitment entry was
    /// recorded after it is left out.
    #[param(value_type = Option<Instant>)]
    as_known_at: Known,
}

impl GivingQuery {
    fn read(q: &mut Query) -> Self {
        GivingQuery {
            financial_year: q.required_year("financial_year"),
            format: giving_format(q),
            as_known_at: q.known(),
        }
    }
}

/// `format` of a 360Giving download: `None` when not given (JSON).
pub(crate) fn giving_format(q: &mut Query) -> Option<GivingFormat> {
    q.text("format").and_then(|t| GivingFormat::given(Some(&t)).map_err(|e| q.refuse("format", e)).ok())
}

/// Grant agreements awarded in a year in the 360Giving Data Standard, as JSON or CSV
/// (docs/open-data.md).
///
/// Every grant agreement awarded in the year, any recipient kind, in award date then id order;
/// a multi-year agreement once, in its award year, with its whole amount and planned dates.
/// Fields: Identifier (`{giving_prefix}-{agreement id}`), Title (the project's name),
/// Description (the purpose), Currency (`GBP`), Amount Awarded, Award Date, Planned Dates
/// (start, end), Recipient Org (Identifier: its org-id, else `GB-CHC-`/`GB-SC-`/`GB-NIC-` from
/// its charity number, else `GB-COH-` from its company number, else
/// `{giving_prefix}-org-{code}`; Name, Charity Number, Company Number, Postal Code, Location's
/// Country Code where the postcode is known), Funding Org (settings `funding_org_id`,
/// `funding_org_name`), Grant Programme (the grant's code and name), Beneficiary Location
/// (settings `area_name`, `area_code`, its Geographic Code Type, Country Code `GB`), Data
/// Source (setting `data_source`), Last Modified (`dateModified`). JSON leaves out optional
/// fields the ledger does not know; CSV leaves their cells empty and writes every other cell
/// exactly as the JSON's value, never defused: a data interchange file (docs/open-data.md).
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/exports/360giving", tag = "reports", params(GivingQuery, BomQuery),
    responses((status = 200, description = "The 360Giving file.", content(
            (open_data::GivingFile = "application/json"),
            (String = "text/csv"))),
        (status = 404, description = "No such financial year, or no grants to publish for it: the standard's file holds at least one (`not_found`)."),
        (status = 409, description = "A setting it needs (`giving_prefix`, `funding_org_id`, `funding_org_name`, `area_code`, `area_name`, `data_source`) is unset or refused, or a recipient's stored `org_id` is refused (`conflict`, naming it).")))]
async fn giving(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Response, AppError> {
    auth.require(Need::ReadReference)?;
    let p = GivingQuery::read(&mut q);
    let bom = BomQuery::read(&mut q).bom;
    q.finish()?;
    giving_download(&s.store, p.financial_year, &p.as_known_at, p.format.map(GivingFormat::as_str), bom).await
}

/// The 360Giving file (`format` json, the default, or csv) as a download: the API route's
/// answer, and the dashboard's.
pub(crate) async fn giving_file(
    store: &Store,
    year: FinancialYear,
    known: &Known,
    format: Option<&str>,
) -> Result<Response, AppError> {
    giving_download(store, year, known, format, false).await
}

async fn giving_download(
    store: &Store,
    year: FinancialYear,
    known: &Known,
    format: Option<&str>,
    bom: bool,
) -> Result<Response, AppError> {
    let format = GivingFormat::given(format).map_err(|e| AppError::field("format", e))?;
    let bom = bom_only_with_csv(bom, format == GivingFormat::Csv)?;
    let bytes = open_data::giving(store, year, known, format).await?;
    Ok(match format {
        GivingFormat::Json => download("application/json", &format!("360giving-{year}.json"), bytes),
        GivingFormat::Csv => {
            download("text/csv; charset=utf-8", &format!("360giving-{year}.csv"), csv_out::with_bom(bytes, bom))
        }
    })
}

/// A file to download: its type, its name and its bytes.
fn download(content_type: &str, name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}
