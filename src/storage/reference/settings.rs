//! Settings: read and set, each change audited.

use super::*;
use crate::domain::{AuditAction, AuditEntity};

pub async fn set_setting_in(db_tx: &mut DbTx, key: &str, value: &str, actor: &str) -> Result<(), StoreError> {
    let before =
        sqlx::query("select value from settings where key = $1").bind(key).fetch_optional(&mut **db_tx).await?;
    let before: Option<String> = before.map(|r| r.try_get("value")).transpose()?;
    if before.as_deref() == Some(value) {
        return Ok(());
    }
    let change = Change {
        actor,
        action: if before.is_some() { AuditAction::Update } else { AuditAction::Create },
        entity: AuditEntity::Setting,
        key,
        before: before.map(serde_json::Value::String),
        after: Some(serde_json::Value::String(value.to_owned())),
        reason: "",
    };
    audit::record_in(db_tx, change).await?;
    sqlx::query(
        "insert into settings (key, value) values ($1, $2) on conflict (key) do update set value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(&mut **db_tx)
    .await?;
    Ok(())
}

pub async fn setting(store: &Store, key: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("select value from settings where key = $1").bind(key).fetch_optional(store.pool()).await?;
    Ok(row.map(|r| r.try_get("value")).transpose()?)
}
