//! Imports kept under an id (docs/interchange.md, "Imports with an id"): the dry run, which
//! keeps the file and answers its id and outcome line by line; confirming it, which records
//! the entries; reading it, with the entries it made; and reversing them all.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::{Fields, FromFields, Query, RawBody};
use super::super::{AppState, Idem};
use super::interchange::lines_refused;
use super::postings::path_id;
use crate::csv::mapping::Preset;
use crate::csv::{self, Ran};
use crate::model::imports::{ImportRecord, LineOutcome, Outcome, ReverseImportCmd};
use crate::storage::imports as kept;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_import))
        .routes(routes!(get_import))
        .routes(routes!(confirm_import))
        .routes(routes!(reverse_import))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct KeptImportQuery {
    /// The column layout (default `generic`).
    #[param(inline)]
    mapping: Option<Preset>,
}

impl KeptImportQuery {
    fn read(q: &mut Query) -> Self {
        KeptImportQuery { mapping: mapping_param(q) }
    }
}

/// The `mapping` parameter of an import query, if given; refused naming it when it is no layout.
pub(super) fn mapping_param(q: &mut Query) -> Option<Preset> {
    q.text("mapping").and_then(|t| mapping_of(Some(&t)).map_err(|e| q.refuse("mapping", e)).ok())
}

/// `mapping` of an import, refused naming the field when it is no layout.
pub(crate) fn mapping_of(text: Option<&str>) -> Result<Preset, String> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(Preset::Generic),
        Some(t) => Preset::parse(t).ok_or_else(|| format!("must be one of: {}", Preset::WORDS.join(", "))),
    }
}

/// Dry-run a spend file and keep it under a new import id: every line checked as the import
/// would, nothing posted; the answer lists each line as accepted, duplicate or refused, with
/// the reason. Confirm it with `POST /api/v1/imports/{id}/confirm`.
///
/// Roles: finance, admin.
#[utoipa::path(post, path = "/api/v1/imports", tag = "reports", params(KeptImportQuery),
    request_body(description = "The CSV file: as `text/csv`, or as bytes (`application/octet-stream`).",
        content((String = "text/csv"), (super::super::openapi::CsvFile = "application/octet-stream"))),
    responses((status = 201, description = "Kept: its id and its dry run line by line, refused lines included.", body = ImportRecord),
        (status = 403, description = "Neither finance nor admin."),
        (status = 422, description = "A bad parameter (`mapping`), or a file that cannot be read line by line (encoding, header, empty): nothing is kept; the problem carries `outcome` and `errors` as a confirm's refusal does.")))]
async fn create_import(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    mut q: Query,
    body: RawBody,
) -> Result<Response, AppError> {
    auth.require(Need::Finance)?;
    let preset = KeptImportQuery::read(&mut q).mapping.unwrap_or(Preset::Generic);
    q.finish()?;
    match csv::dry_run_kept(&s.store, &body.0, preset, auth.actor(&idem)).await? {
        Ran::Kept(record) => Ok((StatusCode::CREATED, Json(*record)).into_response()),
        Ran::Refused(outcome) => Ok(refused(&outcome, "the file cannot be read line by line; nothing was kept")),
    }
}

/// An import: its layout, its latest run line by line, who confirmed and who reversed it,
/// and the entries it made with their reversals.
///
/// Roles: every role but funder.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "reports",
    params(("id" = i64, Path, minimum = 1, description = "The import's id.")),
    responses((status = 200, body = ImportRecord),
        (status = 403, description = "A funder."),
        (status = 404, description = "No such import (`not_found`)."),
        (status = 422, description = "An id that is not a positive whole number.")))]
async fn get_import(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<ImportRecord>, AppError> {
    auth.require(Need::ReadAudit)?;
    Ok(Json(kept::get(&s.store, path_id(&id, "id")?).await?))
}

/// Confirm an import: run it again on its stored file, in one `db_tx`, recording its entries
/// with the import's id. The outcome may differ from the dry run's if the ledger moved since:
/// then, with any line refused, nothing is recorded and the new outcome is the answer.
///
/// Roles: finance, admin.
#[utoipa::path(post, path = "/api/v1/imports/{id}/confirm", tag = "reports",
    params(("id" = i64, Path, minimum = 1, description = "The import's id.")),
    responses((status = 200, description = "Recorded: the import with its entries.", body = ImportRecord),
        (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such import (`not_found`)."),
        (status = 409, description = "Confirmed already (`conflict`): nothing more is recorded."),
        (status = 422, description = "A line is refused now: nothing was recorded; the problem carries `outcome`, the new outcome line by line, and in `errors` each refused line as the spend import lists it (`line`, `field`, `code`, `message`). Or an id that is not a positive whole number.")))]
async fn confirm_import(State(s): State<AppState>, auth: Auth, Path(id): Path<String>) -> Result<Response, AppError> {
    auth.require(Need::Finance)?;
    match csv::confirm_kept(&s.store, path_id(&id, "id")?, auth.name()).await? {
        Ran::Kept(record) => Ok(Json(*record).into_response()),
        Ran::Refused(outcome) => Ok(refused(&outcome, "line(s) refused now; nothing was recorded")),
    }
}

/// The answer to a confirm with lines refused now.
/// Its `errors` are the refused lines as the spend import lists them.
fn refused(outcome: &Outcome, what: &str) -> Response {
    let detail = format!("{} {what}", outcome.rejected);
    let errors: Vec<serde_json::Value> = outcome
        .lines
        .iter()
        .filter(|l| l.outcome == LineOutcome::Refused)
        .map(|l| {
            serde_json::json!({ "line": l.line, "field": l.field, "code": "validation_failed", "message": l.reason })
        })
        .collect();
    lines_refused(serde_json::json!({ "outcome": outcome, "errors": errors }), &detail)
}

/// Reverse every entry an import made, in one `db_tx`, with the reason: each on its own
/// date unless `date` is given. Refused, naming the entry, if one of them is reversed
/// already or drawn on (a refund naming a spend of it); then nothing is reversed.
///
/// Roles: finance, admin.
#[utoipa::path(post, path = "/api/v1/imports/{id}/reverse", tag = "reports",
    params(("id" = i64, Path, minimum = 1, description = "The import's id.")), request_body = ReverseImportCmd,
    responses((status = 200, description = "Reversed: the import with each entry's reversal.", body = ImportRecord),
        (status = 403, description = "Neither finance nor admin."),
        (status = 404, description = "No such import (`not_found`)."),
        (status = 409, description = "Not confirmed, reversed already, or an entry of it reversed already, drawn on, or refused by a ledger rule (`conflict`, naming the entry)."),
        (status = 422, description = "A bad field: `reason` missing, or a `date` before an entry's (naming it).")))]
async fn reverse_import(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<Json<ImportRecord>, AppError> {
    auth.require(Need::Finance)?;
    let import_id = path_id(&id, "id")?;
    let cmd = ReverseImportCmd { import_id, ..ReverseImportCmd::from_fields(Fields::parse(&body)?)? };
    Ok(Json(kept::reverse(&s.store, cmd, auth.actor(&idem)).await?))
}
