//! The audit trail of reference data: who changed what, when, from what to what. Each record
//! is written in the same `db_tx` as the change it describes.

use serde::Serialize;
use sqlx::Row;

use super::{DbTx, Page, Store, StoreError, now};

/// One change to record.
pub struct Change<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub key: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: &'a str,
}

pub async fn record_in(db_tx: &mut DbTx, c: Change<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "insert into audit_log (at, actor, action, entity, entity_key, before_json, after_json, reason)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now())
    .bind(c.actor)
    .bind(c.action)
    .bind(c.entity)
    .bind(c.key)
    .bind(c.before.map(|v| v.to_string()))
    .bind(c.after.map(|v| v.to_string()))
    .bind(c.reason)
    .execute(&mut **db_tx)
    .await?;
    Ok(())
}

/// Serializes a record for the trail.
pub fn json(record: &impl Serialize) -> Option<serde_json::Value> {
    Some(serde_json::to_value(record).expect("records serialize"))
}

#[derive(Debug, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub key: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: String,
}

/// Filters of `GET /audit`; each optional.
#[derive(Debug, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub key: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    /// Inclusive dates, compared with the UTC date of the change.
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    /// Whether records of tokens are listed: only admin reads tokens (API.md).
    pub with_tokens: bool,
}

/// Newest first: the cursor is the last id seen.
pub async fn list(store: &Store, f: &AuditFilter, before_id: i64, limit: i64) -> Result<Page<AuditRecord>, StoreError> {
    let rows = sqlx::query(
        "select * from audit_log
         where ($1 = 0 or id < $1) and ($2 is null or entity = $2) and ($3 is null or entity_key = $3)
           and ($4 is null or actor = $4) and ($5 is null or action = $5)
           and ($6 is null or substr(at, 1, 10) >= $6) and ($7 is null or substr(at, 1, 10) <= $7)
           and ($9 = 1 or entity <> 'token')
         order by id desc limit $8",
    )
    .bind(before_id)
    .bind(&f.entity)
    .bind(&f.key)
    .bind(&f.actor)
    .bind(&f.action)
    .bind(f.from.map(|d| d.to_string()))
    .bind(f.to.map(|d| d.to_string()))
    .bind(limit + 1)
    .bind(i64::from(f.with_tokens))
    .fetch_all(store.pool())
    .await?;
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    let items = rows
        .iter()
        .map(|r| AuditRecord {
            id: r.get("id"),
            at: r.get("at"),
            actor: r.get("actor"),
            action: r.get("action"),
            entity: r.get("entity"),
            key: r.get("entity_key"),
            before: parse(r.get("before_json")),
            after: parse(r.get("after_json")),
            reason: r.get("reason"),
        })
        .collect();
    Ok(Page::from_rows(items, limit, |a: &AuditRecord| a.id.to_string()))
}
