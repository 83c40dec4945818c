//! Locked quarters: an admin locks a quarter of a financial year once its return is filed,
//! the quarters of a year in order (`in_order`), and no entry dated in it is recorded after (`lookups::refuse_locked_quarter_in`, read by
//! `entries::post_in` and the bulk import). A correction goes into an open quarter.
//!
//! Locking serialises with postings as closing a year does: every award of the year is
//! locked first, in (grant, year) order, so a posting that found the quarter open has
//! committed before the lock is written, and one after reads it. Then the year's row is
//! held for update, which an award's creation holds shared (a new award is not among the
//! rows locked), then the audit head.

use super::audit::{self, Change};
use super::entries::hold_year_awards_in;
use super::{DbTx, RowLock, Store, StoreError, idempotency, now, rows};
use crate::domain::FinancialYear;
use crate::domain::{AuditAction, AuditEntity};
use crate::model::Actor;
use crate::model::quarters::QuarterState;

#[derive(sqlx::FromRow)]
struct QuarterRow {
    quarter: i64,
    locked: i64,
    reason: String,
    changed_by: String,
    changed_at: String,
}

/// The four quarters of a year, locked or open, Q1 first. An unknown year is `NotFound`.
pub async fn quarter_states(store: &Store, year: FinancialYear) -> Result<Vec<QuarterState>, StoreError> {
    let mut db_tx = store.begin_read().await?;
    let states = quarter_states_in(&mut db_tx, year).await?;
    db_tx.rollback().await?;
    Ok(states)
}

/// The four quarters of a year as read in `db_tx`.
pub async fn quarter_states_in(db_tx: &mut DbTx, year: FinancialYear) -> Result<Vec<QuarterState>, StoreError> {
    year_exists_in(db_tx, year, None).await?;
    let found = sqlx::query(
        "select quarter, locked, reason, changed_by, changed_at from quarter_locks where financial_year = $1 order by quarter",
    )
    .bind(year.to_string())
    .fetch_all(&mut **db_tx)
    .await?;
    let found: Vec<QuarterRow> = rows::read_all(&found, "quarter_locks", &["financial_year", "quarter"])?;
    let mut states: Vec<QuarterState> = (1..=4u8)
        .map(|quarter| QuarterState {
            financial_year: year,
            quarter,
            locked: false,
            reason: String::new(),
            changed_by: None,
            changed_at: None,
        })
        .collect();
    for r in found {
        let at = |column: &str, value: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!(
                "quarter_locks {year}/{} column {column}: {value} is outside its type",
                r.quarter
            ))
        };
        let index =
            usize::try_from(r.quarter).ok().filter(|q| (1..=4).contains(q)).ok_or_else(|| at("quarter", &r.quarter))?;
        let locked = match r.locked {
            0 => false,
            1 => true,
            other => return Err(at("locked", &other)),
        };
        states[index - 1] = QuarterState {
            locked,
            reason: r.reason,
            changed_by: Some(r.changed_by),
            changed_at: Some(r.changed_at),
            ..states[index - 1].clone()
        };
    }
    Ok(states)
}

/// Locks a quarter (`lock`: from its commit, no entry dated in it is recorded) or unlocks a
/// locked one. A reason is required. Locking a locked quarter, or unlocking an open one, is a
/// `conflict`.
pub async fn set_locked(
    store: &Store,
    year: FinancialYear,
    quarter: u8,
    lock: bool,
    reason: &str,
    actor: Actor<'_>,
) -> Result<QuarterState, StoreError> {
    if !(1..=4).contains(&quarter) {
        return Err(StoreError::invalid("q", "must be a quarter, 1 to 4"));
    }
    let action = if lock { AuditAction::Lock } else { AuditAction::Unlock };
    if reason.trim().is_empty() {
        return Err(StoreError::invalid("reason", format!("is required to {action} a quarter")));
    }
    // The API's parser refuses these already; the command line reaches here directly.
    if let Some(message) = crate::domain::control_character(reason, true) {
        return Err(StoreError::invalid("reason", message));
    }
    let mut db_tx = store.begin().await?;
    // Every award of the year, in the one global order (grant, year), as closing a year does:
    // postings to them finish first, and later ones wait for this db_tx and then see it.
    hold_year_awards_in(&mut db_tx, year, RowLock::Update).await?;
    // Then the year's row, which an award being created holds shared.
    year_exists_in(&mut db_tx, year, Some(RowLock::Update)).await?;
    let mut states = quarter_states_in(&mut db_tx, year).await?;
    in_order(&states, year, quarter, lock)?;
    let before = states.swap_remove(usize::from(quarter) - 1);
    if before.locked == lock {
        let state = if lock { "locked" } else { "not locked" };
        return Err(StoreError::Conflict(format!("{year} Q{quarter} is already {state}")));
    }
    // Taken now, under every award lock: an entry dated in the quarter that was recorded
    // before the lock has a created_at no later than this, and none is recorded after.
    let changed_at = now();
    sqlx::query(
        "insert into quarter_locks (financial_year, quarter, locked, reason, changed_by, changed_at)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (financial_year, quarter)
         do update set locked = excluded.locked, reason = excluded.reason, changed_by = excluded.changed_by,
                       changed_at = excluded.changed_at",
    )
    .bind(year.to_string())
    .bind(i64::from(quarter))
    .bind(i64::from(lock))
    .bind(reason)
    .bind(actor.name)
    .bind(&changed_at)
    .execute(&mut *db_tx)
    .await?;
    let after = QuarterState {
        financial_year: year,
        quarter,
        locked: lock,
        reason: reason.to_owned(),
        changed_by: Some(actor.name.to_owned()),
        changed_at: Some(changed_at),
    };
    let key = format!("{year}/Q{quarter}");
    let change = Change {
        actor: actor.name,
        action,
        entity: AuditEntity::Quarter,
        key: &key,
        before: audit::json(&before),
        after: audit::json(&after),
        reason,
    };
    audit::record_in(&mut db_tx, change).await?;
    idempotency::commit_answer(db_tx, actor.idem, 200, after).await
}

/// Rule 8: a locked quarter never has an open quarter before it in its year. So a quarter
/// is locked only once every earlier quarter is, and unlocked only while no later one is;
/// otherwise spend dated in an open earlier quarter would still move the cumulative figures
/// of a later quarter's filed return.
fn in_order(states: &[QuarterState], year: FinancialYear, quarter: u8, lock: bool) -> Result<(), StoreError> {
    let blocking = if lock {
        states.iter().find(|s| s.quarter < quarter && !s.locked)
    } else {
        states.iter().rev().find(|s| s.quarter > quarter && s.locked)
    };
    match blocking {
        Some(s) if lock => Err(StoreError::Conflict(format!(
            "{year} Q{} is open: lock it before Q{quarter}, as a locked quarter never has an open quarter before it",
            s.quarter
        ))),
        Some(s) => Err(StoreError::Conflict(format!(
            "{year} Q{} is locked: unlock it before Q{quarter}, as a locked quarter never has an open quarter before it",
            s.quarter
        ))),
        None => Ok(()),
    }
}

/// `NotFound` unless the year is set up; with `lock`, holds its row until `db_tx` ends.
async fn year_exists_in(db_tx: &mut DbTx, year: FinancialYear, lock: Option<RowLock>) -> Result<(), StoreError> {
    let sql = format!(
        "select code from financial_years where code = $1{}",
        lock.map(|l| l.clause(db_tx)).unwrap_or_default()
    );
    let found = sqlx::query(&sql).bind(year.to_string()).fetch_optional(&mut **db_tx).await?;
    if found.is_none() {
        return Err(StoreError::NotFound(format!("financial year {year}")));
    }
    Ok(())
}
