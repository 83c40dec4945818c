//! Reference data: financial years, funders, priorities, grants, awards, projects,
//! organisations, settings,
//! one module each; this one holds what they share and re-exports them, so callers name
//! `storage::reference::X` whichever module defines it.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::audit::{self, Change};
use super::idempotency;
use super::rows;
use super::{DbTx, Page, RowLock, Store, StoreError, is_unique_violation, now};
use crate::domain::{FinancialYear, Money, OnOverspend, YearStatus, operations};
use crate::model::Actor;
use crate::model::reference::{
    AwardRecord, FinancialYearRecord, Funder, Grant, NewAward, Organisation, OrganisationPatch, Priority, Project,
    ProjectPatch,
};

use super::lookups::project_from;
pub(crate) use super::lookups::year_status_in;
pub use super::lookups::{get_grant_in, lock_project_in};

/// Maps a unique violation on insert to a `conflict` naming what already exists.
pub(super) fn conflict_if_exists(e: sqlx::Error, what: String) -> StoreError {
    if is_unique_violation(&e) { StoreError::Conflict(format!("{what} already exists")) } else { e.into() }
}

pub(super) fn limit_rows(limit: i64) -> i64 {
    limit + 1
}

/// One page of `columns` from a reference table keyed by `code`: the rows after `after`, in
/// code order, with the cursor of `list` when more follow.
pub(super) async fn page_by_code<T>(
    store: &Store,
    (table, columns): (&str, &str),
    after: &str,
    limit: i64,
    list: crate::model::page::List,
    code: impl Fn(&T) -> String,
) -> Result<Page<T>, StoreError>
where
    T: for<'r> sqlx::FromRow<'r, AnyRow>,
{
    let sql = format!("select {columns} from {table} where code > $1 order by code limit $2");
    let rows = sqlx::query(&sql).bind(after).bind(limit_rows(limit)).fetch_all(store.pool()).await?;
    Ok(Page::from_rows(rows::read_all(&rows, table, &["code"])?, limit, list, code))
}

/// What the ledger holds beyond the fixtures an empty ledger is given: projects, and entries
/// other than the fixtures' awards. The demo loads only where both are zero.
pub async fn own_records(store: &Store) -> Result<(i64, i64), StoreError> {
    let row = sqlx::query(&format!(
        "select (select count(*) from projects) as projects,
                (select count(*) from entries where kind <> {}) as entries",
        crate::domain::EntryKind::Award.sql()
    ))
    .fetch_one(store.pool())
    .await?;
    Ok((row.try_get("projects")?, row.try_get("entries")?))
}

mod awards;
mod funders;
mod grants;
mod organisations;
mod priorities;
mod projects;
mod settings;
mod years;

pub use awards::*;
pub use funders::*;
pub use grants::*;
pub use organisations::*;
pub use priorities::*;
pub use projects::*;
pub use settings::*;
pub use years::*;

pub(super) async fn priority_exists_in(db_tx: &mut DbTx, code: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("select 1 from priorities where code = $1").bind(code).fetch_optional(&mut **db_tx).await?.is_some())
}

/// True when nothing has been loaded yet: `serve` then loads the fixtures.
pub async fn is_empty(store: &Store) -> Result<bool, StoreError> {
    let row = sqlx::query("select count(*) as n from funders").fetch_one(store.pool()).await?;
    Ok(row.try_get::<i64, _>("n")? == 0)
}
