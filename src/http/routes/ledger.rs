//! Reading the ledger: entries, accounts and commitments.

use axum::Json;
use axum::extract::{Path, State};
use chrono::NaiveDate;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::Query;
use super::super::openapi::{Code, IsoDate, PageQuery};
use crate::domain::EntryKind;
use crate::domain::FinancialYear;
use crate::model::agreements::CommitmentDetail;
use crate::model::entries::{AccountBalance, EntryFilter, EntryView};
use crate::model::page::{List, Page};
use crate::model::postings::CommitmentRecord;
use crate::storage::entries;
use crate::storage::operations as ops;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_entries))
        .routes(routes!(get_entry))
        .routes(routes!(get_commitment))
        .routes(routes!(list_accounts))
}

/// The filters of `GET /entries`. `kind` is checked once the query is finished, as its own error.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct EntryFilterQuery {
    financial_year: Option<FinancialYear>,
    #[param(value_type = Option<Code>)]
    grant: Option<String>,
    #[param(value_type = Option<Code>)]
    project: Option<String>,
    #[param(inline, value_type = Option<EntryKind>)]
    kind: Option<String>,
    #[param(value_type = Option<IsoDate>)]
    from: Option<NaiveDate>,
    #[param(value_type = Option<IsoDate>)]
    to: Option<NaiveDate>,
}

impl EntryFilterQuery {
    fn read(q: &mut Query) -> Self {
        EntryFilterQuery {
            kind: q.text("kind"),
            financial_year: q.year("financial_year"),
            grant: q.code("grant"),
            project: q.code("project"),
            from: q.date("from"),
            to: q.date("to"),
        }
    }
}

/// List entries with their postings, newest last.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/entries", tag = "ledger", params(EntryFilterQuery, PageQuery),
    responses((status = 200, body = super::super::openapi::EntryPage)))]
async fn list_entries(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Json<Page<EntryView>>, AppError> {
    auth.require(Need::ReadLedger)?;
    let EntryFilterQuery { financial_year, grant, project, kind, from, to } = EntryFilterQuery::read(&mut q);
    let filter = EntryFilter {
        year: financial_year,
        grant,
        project,
        kind: kind.as_deref().and_then(EntryKind::parse),
        from,
        to,
    };
    let page = q.page(List::Entries);
    q.finish()?;
    if kind.is_some() && filter.kind.is_none() {
        return Err(AppError::field("kind", format!("must be one of: {}", EntryKind::WORDS.join(", "))));
    }
    Ok(Json(entries::list_entries(&s.store, &filter, page.after_id(), page.limit).await?))
}

/// Get an entry with its postings.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/entries/{id}", tag = "ledger",
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = EntryView),
        (status = 404, description = "No such entry (`not_found`).")))]
async fn get_entry(State(s): State<AppState>, auth: Auth, Path(id): Path<String>) -> Result<Json<EntryView>, AppError> {
    auth.require(Need::ReadLedger)?;
    let id = super::postings::path_id(&id, "id")?;
    Ok(Json(entries::get_entry(&s.store, id).await?))
}

/// The filters of `GET /accounts`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct AccountQuery {
    #[param(value_type = Option<Code>)]
    grant: Option<String>,
    financial_year: Option<FinancialYear>,
    #[param(value_type = Option<Code>)]
    project: Option<String>,
}

impl AccountQuery {
    fn read(q: &mut Query) -> Self {
        AccountQuery { grant: q.code("grant"), financial_year: q.year("financial_year"), project: q.code("project") }
    }
}

/// List account balances, e.g. `spent:LDF:2023-24:P1`; signed, debit positive.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "ledger", params(AccountQuery, PageQuery),
    responses((status = 200, body = super::super::openapi::AccountPage)))]
async fn list_accounts(
    State(s): State<AppState>,
    auth: Auth,
    mut q: Query,
) -> Result<Json<Page<AccountBalance>>, AppError> {
    auth.require(Need::ReadLedger)?;
    let AccountQuery { grant, financial_year: year, project } = AccountQuery::read(&mut q);
    let page = q.page(List::Accounts);
    q.finish()?;
    let listed =
        entries::list_accounts(&s.store, grant.as_deref(), year, project.as_deref(), &page.after, page.limit).await?;
    Ok(Json(listed))
}

/// The filters of `GET /commitments`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct CommitmentQuery {
    #[param(value_type = Option<Code>)]
    project: Option<String>,
    /// Only commitments with something outstanding.
    #[param(value_type = Option<bool>)]
    open: bool,
}

impl CommitmentQuery {
    fn read(q: &mut Query) -> Self {
        CommitmentQuery { project: q.code("project"), open: q.bool("open").unwrap_or(false) }
    }
}

/// List commitments with what is outstanding.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/commitments", tag = "ledger", params(CommitmentQuery, PageQuery),
    responses((status = 200, body = super::super::openapi::CommitmentPage)))]
pub async fn list_commitments(
    State(s): State<AppState>,
    auth: Auth,
    mut q: Query,
) -> Result<Json<Page<CommitmentRecord>>, AppError> {
    auth.require(Need::ReadLedger)?;
    let CommitmentQuery { project, open } = CommitmentQuery::read(&mut q);
    let page = q.page(List::Commitments);
    q.finish()?;
    Ok(Json(ops::list_commitments(&s.store, project.as_deref(), open, page.after_id(), page.limit).await?))
}

/// Get one commitment whole: a purchase order, or a grant agreement with its yearly parts,
/// its payments and clawbacks, the partner's evidence, and what is paid, evidenced and
/// outstanding.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/commitments/{id}", tag = "ledger",
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = CommitmentDetail),
        (status = 404, description = "No such commitment (`not_found`).")))]
async fn get_commitment(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<CommitmentDetail>, AppError> {
    auth.require(Need::ReadLedger)?;
    let id = super::postings::path_id(&id, "id")?;
    Ok(Json(ops::commitment_detail(&s.store, id).await?))
}
