//! Grants: listed and created; `Grant` itself is in `model::reference`.

use super::*;
use crate::domain::AuditEntity;

pub async fn list_grants(store: &Store, after: &str, limit: i64) -> Result<Page<Grant>, StoreError> {
    page_by_code(store, ("grants", "*"), after, limit, crate::model::page::List::Grants, |g: &Grant| g.code.clone())
        .await
}

pub async fn grant_exists(store: &Store, code: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("select 1 from grants where code = $1").bind(code).fetch_optional(store.pool()).await?.is_some())
}

pub async fn create_grant(store: &Store, g: Grant, actor: Actor<'_>) -> Result<Grant, StoreError> {
    let mut db_tx = store.begin().await?;
    create_grant_in(&mut db_tx, &g, actor.name).await?;
    idempotency::commit_answer(db_tx, actor.idem, 201, g).await
}

pub async fn create_grant_in(db_tx: &mut DbTx, g: &Grant, actor: &str) -> Result<(), StoreError> {
    let funder =
        sqlx::query("select 1 from funders where code = $1").bind(&g.funder).fetch_optional(&mut **db_tx).await?;
    if funder.is_none() {
        return Err(StoreError::invalid("funder", format!("no funder {}", g.funder)));
    }
    if let Some(p) = &g.restricted_to_priority
        && !priority_exists_in(db_tx, p).await?
    {
        return Err(StoreError::invalid("restricted_to_priority", format!("no priority {p}")));
    }
    sqlx::query(
        "insert into grants (code, name, funder, restricted_to_priority, on_overspend) values ($1, $2, $3, $4, $5)",
    )
    .bind(&g.code)
    .bind(&g.name)
    .bind(&g.funder)
    .bind(&g.restricted_to_priority)
    .bind(g.on_overspend.as_str())
    .execute(&mut **db_tx)
    .await
    .map_err(|e| conflict_if_exists(e, format!("grant {}", g.code)))?;
    audit::record_in(db_tx, Change::created(actor, AuditEntity::Grant, &g.code, g)).await?;
    Ok(())
}
