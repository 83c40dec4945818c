//! Virements: budget moved between projects of one award.

use super::*;
use crate::domain::AuditAction;
use crate::storage::audit::{RowKey, VIREMENTS};

/// Posts a virement at once: below the approval threshold. The row in `virements` records
/// it as `posted`.
pub async fn vire(store: &Store, c: VirementCmd, actor: Actor<'_>) -> Result<VirementRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let record = vire_in(&mut db_tx, c, actor.name, None).await?;
    commit_with(db_tx, actor, record).await
}

/// Posts a virement inside `db_tx`. `approved` names the pending virement being approved
/// and its second approver; otherwise a `posted` row is recorded for the proposer.
pub async fn vire_in(
    db_tx: &mut DbTx,
    c: VirementCmd,
    proposer: &str,
    approved: Option<(i64, &str)>,
) -> Result<VirementRecord, StoreError> {
    if c.from_project == c.to_project {
        return Err(StoreError::invalid("to_project", "must differ from from_project"));
    }
    let locked = lock_award(db_tx, &c.grant, c.year).await?;
    project_for_posting(db_tx, &c.from_project, "from_project", true).await?;
    project_for_posting(db_tx, &c.to_project, "to_project", false).await?;
    let date = decision_date(c.approved_on, c.year, "approved_on")?;
    let entry = ops::virement(award_of(&locked), date, &c.from_project, &c.to_project, c.amount)?;
    let meta = EntryMeta {
        memo: c.reason.clone(),
        details: serde_json::json!({
            "from_project": c.from_project, "to_project": c.to_project,
            "approved_on": c.approved_on, "approval_ref": c.approval_ref, "reason": c.reason,
            "proposed_by": proposer, "second_approver": approved.map(|(_, by)| by),
        }),
        created_by: approved.map(|(_, by)| by).unwrap_or(proposer).to_owned(),
        ..Default::default()
    };
    // Rule 4 applies to virements whatever the grant's rule: moving budget a project does
    // not have would be an overspend made by the partnership itself.
    let posted = post_in(db_tx, &entry, &meta, OnOverspend::Stop).await?;
    let virement_id = match approved {
        Some((id, by)) => {
            let not_pending = || format!("virement {id} is no longer pending");
            decide_in(db_tx, id, by, Decision::Approve(posted.entry_id), not_pending).await?;
            id
        }
        None => insert_virement_in(db_tx, &c, proposer, VirementStatus::Posted, Some(posted.entry_id)).await?,
    };
    let VirementCmd { grant, year, from_project, to_project, amount, approved_on, approval_ref, reason } = c;
    Ok(VirementRecord {
        virement_id,
        status: if approved.is_some() { VirementStatus::Approved } else { VirementStatus::Posted },
        entry_id: Some(posted.entry_id),
        grant,
        financial_year: year,
        from_project,
        to_project,
        amount,
        date: Some(date),
        approved_on,
        approval_ref,
        reason,
        proposed_by: proposer.to_owned(),
        decided_by: approved.map(|(_, by)| by.to_owned()),
    })
}

pub async fn insert_virement_in(
    db_tx: &mut DbTx,
    c: &VirementCmd,
    proposer: &str,
    status: VirementStatus,
    entry_id: Option<i64>,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "insert into virements (grant_code, financial_year, from_project, to_project, amount_pence, approved_on,
                                approval_ref, reason, status, proposed_by, proposed_at, entry_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id",
    )
    .bind(&c.grant)
    .bind(c.year.to_string())
    .bind(&c.from_project)
    .bind(&c.to_project)
    .bind(c.amount.pence())
    .bind(c.approved_on.to_string())
    .bind(&c.approval_ref)
    .bind(&c.reason)
    .bind(status.as_str())
    .bind(proposer)
    .bind(now())
    .bind(entry_id)
    .fetch_one(&mut **db_tx)
    .await?;
    let id = row.try_get("id")?;
    VIREMENTS.record_in(db_tx, RowKey::Id(id), (proposer, AuditAction::Create, ""), None).await?;
    Ok(id)
}

/// A second approver's decision of a pending virement: approved, posted as the entry, or
/// rejected for a reason.
pub enum Decision<'a> {
    Approve(i64),
    Reject(&'a str),
}

/// Records `by`'s decision of pending virement `id`, audited. Only a row still pending
/// changes, so of two approvers racing one decides; the other is a conflict, `not_pending`.
pub async fn decide_in(
    db_tx: &mut DbTx,
    id: i64,
    by: &str,
    decision: Decision<'_>,
    not_pending: impl FnOnce() -> String,
) -> Result<(), StoreError> {
    let before = VIREMENTS.row_in(db_tx, RowKey::Id(id)).await?;
    let (status, column, action, reason) = match decision {
        Decision::Approve(_) => (VirementStatus::Approved, "entry_id", AuditAction::Approve, ""),
        Decision::Reject(reason) => (VirementStatus::Rejected, "decision_reason", AuditAction::Reject, reason),
    };
    let sql = format!(
        "update virements set status = {}, decided_by = $2, decided_at = $3, {column} = $4
         where id = $1 and status = {}",
        status.sql(),
        VirementStatus::Pending.sql()
    );
    let query = sqlx::query(&sql).bind(id).bind(by).bind(now());
    let query = match decision {
        Decision::Approve(entry_id) => query.bind(entry_id),
        Decision::Reject(reason) => query.bind(reason),
    };
    if query.execute(&mut **db_tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict(not_pending()));
    }
    VIREMENTS.record_in(db_tx, RowKey::Id(id), (by, action, reason), before).await?;
    Ok(())
}
