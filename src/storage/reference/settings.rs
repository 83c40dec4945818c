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

/// The settings key of the days after a quarter's end by which the funder wants its return.
pub const RETURN_DUE_DAYS_KEY: &str = "return_due_days";
/// A return is due 30 days after its quarter ends unless the funder says otherwise.
pub const RETURN_DUE_DAYS_DEFAULT: u16 = 30;
/// The settings key of the partnership's code (its name is the `partnership` setting).
pub const PARTNERSHIP_CODE_KEY: &str = "partnership_code";
/// A fresh service's first partnership is Tamworth, code `TAM` (docs/api.md, "The county").
pub const PARTNERSHIP_CODE_DEFAULT: &str = "TAM";

/// Days after a quarter's end a return is due (`return_due_days`). A stored value outside
/// 0..=365 is `Corrupt`, never read as the default: a default could call late returns on time.
pub async fn return_due_days(store: &Store) -> Result<u16, StoreError> {
    match setting(store, RETURN_DUE_DAYS_KEY).await? {
        None => Ok(RETURN_DUE_DAYS_DEFAULT),
        Some(s) => {
            s.parse::<u16>().ok().filter(|d| *d <= crate::model::controls::RETURN_DUE_DAYS_MAX).ok_or_else(|| {
                StoreError::Corrupt(format!("settings key {RETURN_DUE_DAYS_KEY}: column value: {s:?}: not 0 to 365"))
            })
        }
    }
}

/// The partnership's code (`partnership_code`), `TAM` while unset. A stored value that is
/// not a code is `Corrupt`.
pub async fn partnership_code(store: &Store) -> Result<String, StoreError> {
    match setting(store, PARTNERSHIP_CODE_KEY).await? {
        None => Ok(PARTNERSHIP_CODE_DEFAULT.to_owned()),
        Some(s) if crate::domain::is_valid_code(&s) => Ok(s),
        Some(s) => {
            Err(StoreError::Corrupt(format!("settings key {PARTNERSHIP_CODE_KEY}: column value: {s:?}: not a code")))
        }
    }
}

/// Sets the funder's reporting settings given, in the caller's `db_tx`.
pub async fn set_reporting_in(
    db_tx: &mut DbTx,
    s: &crate::model::controls::ReportingSettings,
    actor: &str,
) -> Result<(), StoreError> {
    if let Some(days) = s.return_due_days {
        set_setting_in(db_tx, RETURN_DUE_DAYS_KEY, &days.to_string(), actor).await?;
    }
    if let Some(code) = &s.partnership_code {
        set_setting_in(db_tx, PARTNERSHIP_CODE_KEY, code, actor).await?;
    }
    Ok(())
}
