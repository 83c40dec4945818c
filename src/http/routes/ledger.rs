//! Reading the ledger: entries, accounts and commitments.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};

use super::super::AppState;
use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::Query;
use crate::domain::EntryKind;
use crate::storage::Page;
use crate::storage::entries::{self, AccountBalance, EntryFilter, EntryView};
use crate::storage::operations::{self as ops, CommitmentRecord};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/entries", get(list_entries))
        .route("/api/v1/entries/{id}", get(get_entry))
        .route("/api/v1/accounts", get(list_accounts))
}

async fn list_entries(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Json<Page<EntryView>>, AppError> {
    auth.require(Need::ReadLedger)?;
    let kind = q.text("kind");
    let filter = EntryFilter {
        year: q.year("financial_year"),
        grant: q.code("grant"),
        project: q.code("project"),
        kind: kind.as_deref().and_then(EntryKind::parse),
        from: q.date("from"),
        to: q.date("to"),
    };
    let page = q.page();
    q.finish()?;
    if kind.is_some() && filter.kind.is_none() {
        let names: Vec<&str> = EntryKind::ALL.iter().map(|k| k.as_str()).collect();
        return Err(AppError::field("kind", format!("must be one of: {}", names.join(", "))));
    }
    Ok(Json(entries::list_entries(&s.store, &filter, page.after_id(), page.limit).await?))
}

async fn get_entry(State(s): State<AppState>, auth: Auth, Path(id): Path<String>) -> Result<Json<EntryView>, AppError> {
    auth.require(Need::ReadLedger)?;
    let id: i64 = id.parse().map_err(|_| AppError::field("id", "must be a whole number"))?;
    Ok(Json(entries::get_entry(&s.store, id).await?))
}

async fn list_accounts(
    State(s): State<AppState>,
    auth: Auth,
    mut q: Query,
) -> Result<Json<Page<AccountBalance>>, AppError> {
    auth.require(Need::ReadLedger)?;
    let grant = q.code("grant");
    let year = q.year("financial_year");
    let project = q.code("project");
    let page = q.page();
    q.finish()?;
    let listed =
        entries::list_accounts(&s.store, grant.as_deref(), year, project.as_deref(), &page.after, page.limit).await?;
    Ok(Json(listed))
}

pub async fn list_commitments(
    State(s): State<AppState>,
    auth: Auth,
    mut q: Query,
) -> Result<Json<Page<CommitmentRecord>>, AppError> {
    auth.require(Need::ReadLedger)?;
    let project = q.code("project");
    let open = q.bool("open").unwrap_or(false);
    let page = q.page();
    q.finish()?;
    Ok(Json(ops::list_commitments(&s.store, project.as_deref(), open, page.after_id(), page.limit).await?))
}
