//! The recording operations: each one `db_tx` that locks its award, checks, posts one entry,
//! saves the idempotent response, and commits. Nothing is half-written: any refusal rolls
//! the whole `db_tx` back.
//!
//! One module per kind of entry; this one holds what they share and re-exports them, so
//! callers name `storage::operations::X` whichever module defines it.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use super::entries::{EntryMeta, LockedAward, lock_award, lock_award_dated, lock_award_row, post_in, postings_in};
use super::idempotency;
use super::lookups::lock_project_in;
use super::{DbTx, RowLock, Store, StoreError, now, rows};
use crate::domain::operations::{self as ops, Award};
use crate::domain::{
    Account, AccountKind, EntryKind, FinancialYear, Money, OnOverspend, ProjectStatus, VirementStatus,
};
use crate::model::Actor;
pub use crate::model::postings::*;

mod agreement;
mod allocation;
mod commitment;
mod reversal;
mod spend;
mod virement;

pub use agreement::*;
pub use allocation::*;
pub use commitment::*;
pub use reversal::*;
pub use spend::*;
pub use virement::*;

/// Checks a project exists and, unless `closed_ok`, that it is active.
/// The project's row is held shared until the posting commits, so its status cannot change
/// under it (rule 7).
pub(super) async fn project_for_posting(
    db_tx: &mut DbTx,
    code: &str,
    field: &str,
    closed_ok: bool,
) -> Result<(), StoreError> {
    let p = lock_project_in(db_tx, code, RowLock::Share)
        .await?
        .ok_or_else(|| StoreError::invalid(field, format!("no project {code}")))?;
    if !closed_ok && p.status != ProjectStatus::Active {
        return Err(StoreError::invalid(field, format!("project {code} is closed")));
    }
    Ok(())
}

/// A decision taken before its year begins is dated the year's first day (rule 5).
pub(super) fn decision_date(decided_on: NaiveDate, year: FinancialYear, field: &str) -> Result<NaiveDate, StoreError> {
    if decided_on > year.end() {
        return Err(StoreError::invalid(field, format!("is after the end of {year}")));
    }
    Ok(decided_on.max(year.start()))
}

pub(super) fn award_of(locked: &LockedAward) -> Award<'_> {
    Award { grant: &locked.grant.code, year: locked.year }
}

pub(super) async fn commit_with<T: Serialize>(db_tx: DbTx, actor: Actor<'_>, record: T) -> Result<T, StoreError> {
    idempotency::commit_answer(db_tx, actor.idem, 201, record).await
}

/// What is still committed under one commitment: its share of `committed:P`.
pub(crate) async fn outstanding_in(
    db_tx: &mut DbTx,
    commitment_id: i64,
    account: &Account,
) -> Result<Money, StoreError> {
    let held: i64 = sqlx::query(
        "select cast(coalesce(sum(p.amount_pence), 0) as bigint) as s from postings p join entries e on e.id = p.entry_id
         where e.commitment_id = $1 and p.account = $2",
    )
    .bind(commitment_id)
    .bind(account.to_string())
    .fetch_one(&mut **db_tx)
    .await?
    .try_get("s")?;
    Ok(Money::from_pence(-held))
}

/// Rule 8: a correction is never dated before what it corrects. Dates are stored as
/// `YYYY-MM-DD`, so their text orders as the dates do.
pub(super) fn not_before(date: NaiveDate, original: &str, what: impl FnOnce() -> String) -> Result<(), StoreError> {
    if date.to_string().as_str() < original {
        return Err(StoreError::invalid("date", format!("is before {original}, the date of {}", what())));
    }
    Ok(())
}
