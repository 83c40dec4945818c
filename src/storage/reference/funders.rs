//! Funders: listed and created (by admin).

use super::*;
use crate::domain::AuditEntity;

pub async fn list_funders(store: &Store, after: &str, limit: i64) -> Result<Page<Funder>, StoreError> {
    page_by_code(
        store,
        ("funders", "code, name, over_programming_percent, return_due_days"),
        after,
        limit,
        crate::model::page::List::Funders,
        |f: &Funder| f.code.clone(),
    )
    .await
}

pub async fn create_funder(store: &Store, f: Funder, actor: Actor<'_>) -> Result<Funder, StoreError> {
    let mut db_tx = store.begin().await?;
    create_funder_in(&mut db_tx, &f, actor.name).await?;
    idempotency::commit_answer(db_tx, actor.idem, 201, f).await
}

pub async fn create_funder_in(db_tx: &mut DbTx, f: &Funder, actor: &str) -> Result<(), StoreError> {
    // The other columns take their defaults, which `Funder::new` names for the record: so
    // the fixtures still load into a ledger migrated only as far as before 0025 (`upgrade`).
    sqlx::query("insert into funders (code, name) values ($1, $2)")
        .bind(&f.code)
        .bind(&f.name)
        .execute(&mut **db_tx)
        .await
        .map_err(|e| conflict_if_exists(e, format!("a funder with code {}", f.code)))?;
    let stored = Funder::new(f.code.clone(), f.name.clone());
    audit::record_in(db_tx, Change::created(actor, AuditEntity::Funder, &f.code, &stored)).await?;
    Ok(())
}
