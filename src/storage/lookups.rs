//! The reference rows a posting reads inside its `db_tx`: its grant, its project (held
//! against change, rule 7) and its year's status. Below `entries`, `operations` and
//! `reference`, which all read them; `reference` re-exports them.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::rows;
use super::{DbTx, RowLock, StoreError};
use crate::domain::{FinancialYear, YearStatus};
use crate::model::reference::{Grant, Project};

fn grant_from(r: &AnyRow) -> Result<Grant, StoreError> {
    rows::read(r, "grants", &["code"])
}

pub async fn get_grant_in(db_tx: &mut DbTx, code: &str) -> Result<Grant, StoreError> {
    let row = sqlx::query("select * from grants where code = $1").bind(code).fetch_optional(&mut **db_tx).await?;
    row.as_ref().map(grant_from).ok_or_else(|| StoreError::NotFound(format!("grant {code}")))?
}

pub(super) fn project_from(r: &AnyRow) -> Result<Project, StoreError> {
    rows::read(r, "projects", &["code"])
}

/// Reads a project and holds its row until `db_tx` ends (rule 7): a posting that depends on
/// its priority or status holds it shared, and a change to either holds it for update, so
/// neither can act on what the other is changing.
pub async fn lock_project_in(db_tx: &mut DbTx, code: &str, lock: RowLock) -> Result<Option<Project>, StoreError> {
    let sql = format!("select * from projects where code = $1{}", lock.clause(db_tx));
    let row = sqlx::query(&sql).bind(code).fetch_optional(&mut **db_tx).await?;
    row.as_ref().map(project_from).transpose()
}

/// A year's status, or `None` if the year is not set up; an unknown stored word is `Corrupt`.
pub(crate) async fn year_status_in(db_tx: &mut DbTx, year: FinancialYear) -> Result<Option<YearStatus>, StoreError> {
    let row = sqlx::query("select code, status from financial_years where code = $1")
        .bind(year.to_string())
        .fetch_optional(&mut **db_tx)
        .await?;
    row.map(|r| rows::parsed(&r, ("financial_years", &["code"]), "status", |t| YearStatus::try_from(t.to_owned())))
        .transpose()
}

/// Refuses an entry dated outside its award's year (rule 9: cash is dated when it moves)
/// when the year its date falls in is closed. That year's row is held shared until the
/// entry commits: closing the year and locking one of its quarters update the row, so they
/// wait for the entry, and an entry that waits for them reads what they committed. A year
/// not set up in the ledger is neither closed nor locked.
pub(crate) async fn refuse_closed_date_year_in(db_tx: &mut DbTx, year: FinancialYear) -> Result<(), StoreError> {
    let sql = format!("select code, status from financial_years where code = $1{}", RowLock::Share.clause(db_tx));
    let row = sqlx::query(&sql).bind(year.to_string()).fetch_optional(&mut **db_tx).await?;
    let status = row
        .map(|r| rows::parsed(&r, ("financial_years", &["code"]), "status", |t| YearStatus::try_from(t.to_owned())))
        .transpose()?;
    if status == Some(YearStatus::Closed) { Err(StoreError::PeriodClosed(year.to_string())) } else { Ok(()) }
}

/// Refuses an entry dated in a locked quarter (`QuarterLocked`, 409 `period_closed`). Read
/// after the award's lock: locking a quarter takes every award lock of its year first, so a
/// posting that finds the quarter open commits before the lock is taken, and one that waits
/// on its award's lock reads the lock once it is committed.
pub(crate) async fn refuse_locked_quarter_in(
    db_tx: &mut DbTx,
    year: FinancialYear,
    date: chrono::NaiveDate,
) -> Result<(), StoreError> {
    let Some(quarter) = year.quarter_of(date) else { return Ok(()) };
    let locked =
        sqlx::query("select 1 as one from quarter_locks where financial_year = $1 and quarter = $2 and locked = 1")
            .bind(year.to_string())
            .bind(i64::from(quarter))
            .fetch_optional(&mut **db_tx)
            .await?
            .is_some();
    if locked { Err(StoreError::QuarterLocked { year, quarter }) } else { Ok(()) }
}

/// The locked quarters of `years`, read in the caller's `db_tx` (the bulk import, after it
/// has locked its awards).
pub(crate) async fn locked_quarters_in(
    db_tx: &mut DbTx,
    years: impl IntoIterator<Item = FinancialYear>,
) -> Result<std::collections::BTreeSet<(FinancialYear, u8)>, StoreError> {
    let mut locked = std::collections::BTreeSet::new();
    let years: std::collections::BTreeSet<FinancialYear> = years.into_iter().collect();
    for year in years {
        let rows =
            sqlx::query("select financial_year, quarter from quarter_locks where financial_year = $1 and locked = 1")
                .bind(year.to_string())
                .fetch_all(&mut **db_tx)
                .await?;
        for r in rows {
            let q: i64 = r
                .try_get("quarter")
                .map_err(|e| rows::corrupt(&r, "quarter_locks", &["financial_year", "quarter"], e))?;
            let q = u8::try_from(q).ok().filter(|q| (1..=4).contains(q)).ok_or_else(|| {
                StoreError::Corrupt(format!("quarter_locks {year} column quarter: {q} is not a quarter"))
            })?;
            locked.insert((year, q));
        }
    }
    Ok(locked)
}

/// Holds a year's row shared until `db_tx` ends: creating an award does, so locking a quarter
/// (which holds the row for update after every existing award of the year) waits for it, and
/// it for the lock.
pub(crate) async fn hold_year_in(db_tx: &mut DbTx, year: FinancialYear) -> Result<(), StoreError> {
    let sql = format!("select code from financial_years where code = $1{}", RowLock::Share.clause(db_tx));
    sqlx::query(&sql).bind(year.to_string()).fetch_optional(&mut **db_tx).await?;
    Ok(())
}
