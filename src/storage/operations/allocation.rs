//! Allocations: budget from a grant's unallocated into a project's available.

use super::*;

pub async fn allocate(store: &Store, c: AllocationCmd, actor: Actor<'_>) -> Result<AllocationRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let locked = lock_award(&mut db_tx, &c.grant, c.year).await?;
    project_for_posting(&mut db_tx, &c.project, "project", false).await?;
    let date = decision_date(c.approved_on, c.year, "approved_on")?;
    let entry = ops::allocation(award_of(&locked), date, &c.project, c.amount)?;
    let meta = EntryMeta {
        memo: c.memo.clone(),
        details: serde_json::json!({ "project": c.project, "approved_on": c.approved_on, "approval_ref": c.approval_ref }),
        created_by: actor.name.to_owned(),
        ..Default::default()
    };
    let posted = post_in(&mut db_tx, &entry, &meta, locked.grant.rule()).await?;
    let AllocationCmd { grant, year, project, amount, approved_on, approval_ref, memo } = c;
    let record = AllocationRecord {
        entry_id: posted.entry_id,
        grant,
        financial_year: year,
        project,
        amount,
        date,
        approved_on,
        approval_ref,
        memo,
    };
    commit_with(db_tx, actor, record).await
}
