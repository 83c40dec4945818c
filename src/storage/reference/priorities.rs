//! Priorities: listed and created.

use super::*;
use crate::domain::AuditEntity;

pub async fn list_priorities(store: &Store, after: &str, limit: i64) -> Result<Page<Priority>, StoreError> {
    page_by_code(store, ("priorities", "*"), after, limit, crate::model::page::List::Priorities, |p: &Priority| {
        p.code.clone()
    })
    .await
}

pub async fn create_priority(store: &Store, p: Priority, actor: Actor<'_>) -> Result<Priority, StoreError> {
    let mut db_tx = store.begin().await?;
    create_priority_in(&mut db_tx, &p, actor.name).await?;
    idempotency::commit_answer(db_tx, actor.idem, 201, p).await
}

pub async fn create_priority_in(db_tx: &mut DbTx, p: &Priority, actor: &str) -> Result<(), StoreError> {
    sqlx::query("insert into priorities (code, name, description) values ($1, $2, $3)")
        .bind(&p.code)
        .bind(&p.name)
        .bind(&p.description)
        .execute(&mut **db_tx)
        .await
        .map_err(|e| conflict_if_exists(e, format!("priority {}", p.code)))?;
    audit::record_in(db_tx, Change::created(actor, AuditEntity::Priority, &p.code, p)).await?;
    Ok(())
}
