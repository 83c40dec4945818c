//! Filed returns (docs/api.md, "Returns"): file a return, list them, read one back byte for
//! byte, and see what changed since it was filed.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::super::auth::Need;
use super::super::error::AppError;
use super::super::input::{Query, RawBody};
use super::super::openapi::IsoDate;
use super::postings::path_id;
use super::{Caller, Created, created};
use crate::domain::FinancialYear;
use crate::domain::status::ReturnKind;
use crate::model::lists::ReturnFilter;
use crate::model::returns::{FileReturnCmd, FiledReturn, ReturnChanges};
use crate::reports::filing;
use crate::storage::returns;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(file_return, list_returns))
        .routes(routes!(get_return))
        .routes(routes!(return_file))
        .routes(routes!(return_changes))
}

/// File a return: generate it at the ledger's current position and store it byte for byte,
/// with its SHA-256, who filed it, when, and the position (every chain head). It can be read
/// back unchanged, and `verify` holds the ledger to it.
///
/// Roles: finance, approver, admin.
#[utoipa::path(post, path = "/api/v1/returns", tag = "returns", request_body = FileReturnCmd,
    responses((status = 201, body = FiledReturn),
        (status = 403, description = "Not finance, approver or admin."),
        (status = 404, description = "No such financial year (`not_found`)."),
        (status = 409, description = "The idempotency key was used with another request (`conflict`)."),
        (status = 422, description = "A bad field (`validation_failed`), naming it.")))]
async fn file_return(c: Caller, body: RawBody) -> Created<FiledReturn> {
    c.require(Need::Reporting)?;
    let FileReturnCmd { kind, year, quarter } = body.cmd::<FileReturnCmd>()?;
    let record = filing::file(c.store(), kind, year, quarter, c.actor()).await?;
    created(record)
}

/// The filters of the filed returns list: `GET /api/v1/returns` and the page `/returns`
/// read them.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReturnsQuery {
    kind: Option<ReturnKind>,
    financial_year: Option<FinancialYear>,
    /// Inclusive, on the UTC date it was filed.
    #[param(value_type = Option<IsoDate>)]
    from: Option<chrono::NaiveDate>,
    #[param(value_type = Option<IsoDate>)]
    to: Option<chrono::NaiveDate>,
}

impl ReturnsQuery {
    pub(crate) fn read(q: &mut Query) -> Self {
        ReturnsQuery {
            kind: q.word("kind", ReturnKind::parse, &ReturnKind::WORDS),
            financial_year: q.year("financial_year"),
            from: q.date("from"),
            to: q.date("to"),
        }
    }

    pub(crate) fn filter(self) -> ReturnFilter {
        let ReturnsQuery { kind, financial_year, from, to } = self;
        ReturnFilter { kind, financial_year, from, to }
    }
}

filtered_list! {
    /// List filed returns, newest first.
    ///
    /// Roles: every role.
    list_returns: "/api/v1/returns", "returns", ReadReference,
        ReturnsQuery, Returns => returns::search => FiledReturn, ReturnPage
}

record_route! {
    /// Get a filed return's record: who filed it, when, its SHA-256, size and ledger position.
    ///
    /// Roles: every role.
    get_return: "/api/v1/returns/{id}", "returns", ReadReference, id => returns::get => FiledReturn,
        (status = 404, description = "No such filed return (`not_found`).")
}

/// The filed return's file: the stored bytes, unchanged, with its content type and file name.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/returns/{id}/file", tag = "returns", params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, description = "The file as filed.", body = String, content_type = "text/csv"),
        (status = 404, description = "No such filed return (`not_found`).")))]
async fn return_file(c: Caller, Path(id): Path<String>) -> Result<Response, AppError> {
    c.require(Need::ReadReference)?;
    stored_file(&c.state, &id).await
}

/// A filed return's stored bytes as a download, for this route and the dashboard's.
pub async fn stored_file(s: &AppState, id: &str) -> Result<Response, AppError> {
    let (record, content_type, body) = returns::file(&s.store, path_id(id, "id")?).await?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", record.file_name)),
        ],
        body,
    )
        .into_response())
}

record_route! {
    /// What changed since the return was filed: every entry recorded after its position and
    /// dated within its period, and each line whose figures differ, as filed and now.
    ///
    /// Roles: every role.
    return_changes: "/api/v1/returns/{id}/changes", "returns", ReadLedger, id => filing::changes => ReturnChanges,
        (status = 404, description = "No such filed return (`not_found`).")
}
