//! Reading the ledger: entries, accounts and commitments.

use axum::Json;
use axum::extract::{Path, State};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::Query;
use super::super::openapi::{AmountOrZero, Code, IsoDate, PageQuery, Text};
use crate::domain::FinancialYear;
use crate::domain::{AccountKind, EntryKind};
use crate::model::agreements::CommitmentDetail;
use crate::model::entries::{AccountBalance, EntryFilter, EntryView};
use crate::model::lists::{CommitmentFilter, EntrySort, Standing};
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

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // the contract of the parameters `Query` parses
struct EntryFilterQuery {
    financial_year: Option<FinancialYear>,
    grant: Option<Code>,
    project: Option<Code>,
    #[param(inline)]
    kind: Option<EntryKind>,
    from: Option<IsoDate>,
    to: Option<IsoDate>,
    /// Case-insensitive, anywhere in the entry's supplier.
    supplier: Option<Text>,
    /// The invoice reference exactly.
    invoice_ref: Option<Text>,
    /// Case-insensitive, anywhere in the memo (a spend's memo is its description); `%` and
    /// `_` are matched as themselves.
    q: Option<Text>,
    /// The least amount: the entry's total (the sum of its debits), or with `account` its
    /// net posting to those accounts.
    min: Option<AmountOrZero>,
    /// The most amount, as `min`.
    max: Option<AmountOrZero>,
    /// Only entries posting to an account of this kind (of the `grant`, `project` and
    /// `financial_year` asked for); each one's amount is then its net posting to them.
    #[param(inline)]
    account: Option<AccountKind>,
    /// `id` (the default: as recorded) or `date` (entry date, then id). A cursor is good
    /// only for the order and filters it was given under.
    #[param(inline)]
    sort: Option<EntrySort>,
}

/// The filters of the entries list, as the API and the page read them.
pub(crate) fn entry_filter(q: &mut Query) -> EntryFilter {
    EntryFilter {
        year: q.year("financial_year"),
        grant: q.code("grant"),
        project: q.code("project"),
        kind: q.word("kind", EntryKind::parse, &EntryKind::WORDS),
        from: q.date("from"),
        to: q.date("to"),
        supplier: q.text("supplier"),
        invoice_ref: q.text("invoice_ref"),
        q: q.text("q"),
        min: q.money("min"),
        max: q.money("max"),
        account: q.word("account", AccountKind::parse, &AccountKind::WORDS),
        sort: q.word("sort", EntrySort::parse, &EntrySort::WORDS).unwrap_or_default(),
    }
}

/// The page of a filtered list of entries: its cursor is of the list in the filter's order.
pub(crate) fn entry_page(q: &mut Query, f: &EntryFilter) -> super::super::input::PageParams {
    match f.sort {
        EntrySort::Id => q.page(List::Entries),
        EntrySort::Date => q.page_in(List::EntriesByDate, &f.scope()),
    }
}

/// List entries with their postings, newest last.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/entries", tag = "ledger", params(EntryFilterQuery, PageQuery),
    responses((status = 200, body = super::super::openapi::EntryPage)))]
async fn list_entries(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Json<Page<EntryView>>, AppError> {
    auth.require(Need::ReadLedger)?;
    let filter = entry_filter(&mut q);
    let page = entry_page(&mut q, &filter);
    q.finish()?;
    Ok(Json(entries::list_entries(&s.store, &filter, &page.after, page.limit).await?))
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

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct AccountQuery {
    grant: Option<Code>,
    financial_year: Option<FinancialYear>,
    project: Option<Code>,
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
    let grant = q.code("grant");
    let year = q.year("financial_year");
    let project = q.code("project");
    let page = q.page(List::Accounts);
    q.finish()?;
    let listed =
        entries::list_accounts(&s.store, grant.as_deref(), year, project.as_deref(), &page.after, page.limit).await?;
    Ok(Json(listed))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct CommitmentQuery {
    project: Option<Code>,
    /// Only commitments with something outstanding (as `status=open`).
    open: Option<bool>,
    /// `open` (something outstanding) or `all` (the default).
    #[param(inline)]
    status: Option<Standing>,
    grant: Option<Code>,
    financial_year: Option<FinancialYear>,
    /// Case-insensitive, anywhere in the supplier (a grant agreement's partner's name).
    supplier: Option<Text>,
    /// Inclusive, on the commitment's date.
    from: Option<IsoDate>,
    to: Option<IsoDate>,
}

/// The filters of the commitments list, as the API and the page read them.
pub(crate) fn commitment_filter(q: &mut Query) -> CommitmentFilter {
    let project = q.code("project");
    let open = q.bool("open").unwrap_or(false);
    let status = q.word("status", Standing::parse, &Standing::WORDS);
    CommitmentFilter {
        open_only: open || status == Some(Standing::Open),
        grant: q.code("grant"),
        financial_year: q.year("financial_year"),
        project,
        supplier: q.text("supplier"),
        from: q.date("from"),
        to: q.date("to"),
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
    let filter = commitment_filter(&mut q);
    let page = q.page(List::Commitments);
    q.finish()?;
    Ok(Json(ops::search_commitments(&s.store, &filter, page.after_id(), page.limit).await?))
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
