//! The reference rows a posting reads inside its `db_tx`: its grant, its project (held
//! against change, rule 7) and its year's status. Below `entries`, `operations` and
//! `reference`, which all read them; `reference` re-exports them.

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
