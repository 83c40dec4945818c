//! The audit trail of reference data: who changed what, when, from what to what. Each record
//! is written in the same `db_tx` as the change it describes.

use serde::Serialize;
use sqlx::Row;

use super::{DbTx, Page, Store, StoreError, now};
use crate::domain::chain::{self, AuditContent};
use crate::model::audit::{AuditFilter, AuditRecord};

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

/// Writes one record, chained onto the newest: the head row's lock is taken first, so two
/// db_txs never chain onto the same record. Take it after any award lock (it is held to
/// commit, and every audit write wants it).
pub async fn record_in(db_tx: &mut DbTx, c: Change<'_>) -> Result<(), StoreError> {
    sqlx::query("update audit_head set write_seq = write_seq + 1 where id = 1").execute(&mut **db_tx).await?;
    let prev: String =
        sqlx::query("select hash from audit_head where id = 1").fetch_one(&mut **db_tx).await?.try_get("hash")?;
    let (at, before, after) = (now(), c.before.map(|v| v.to_string()), c.after.map(|v| v.to_string()));
    let content = AuditContent {
        at: &at,
        actor: c.actor,
        action: c.action,
        entity: c.entity,
        entity_key: c.key,
        before: before.as_deref(),
        after: after.as_deref(),
        reason: c.reason,
    };
    let key = super::chain_key::installed();
    let (version, hash) = chain::audit_link(&prev, &content, key);
    sqlx::query(
        "insert into audit_log (at, actor, action, entity, entity_key, before_json, after_json, reason,
                                prev_hash, hash, hash_version)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&at)
    .bind(c.actor)
    .bind(c.action)
    .bind(c.entity)
    .bind(c.key)
    .bind(&before)
    .bind(&after)
    .bind(c.reason)
    .bind(&prev)
    .bind(&hash)
    .bind(version)
    .execute(&mut **db_tx)
    .await?;
    let seal = key.map(|k| chain::head_seal(k, chain::AUDIT_CHAIN, &hash)).unwrap_or_default();
    sqlx::query("update audit_head set hash = $1, head_seal = $2 where id = 1")
        .bind(&hash)
        .bind(seal)
        .execute(&mut **db_tx)
        .await?;
    Ok(())
}

/// Serializes a record for the trail.
pub fn json(record: &impl Serialize) -> Option<serde_json::Value> {
    Some(serde_json::to_value(record).expect("records serialize"))
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
        .map(|r| -> Result<_, StoreError> {
            Ok(AuditRecord {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                entity: r.try_get("entity")?,
                key: r.try_get("entity_key")?,
                before: parse(r.try_get("before_json")?),
                after: parse(r.try_get("after_json")?),
                reason: r.try_get("reason")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Page::from_rows(items, limit, crate::model::page::List::Audit, |a: &AuditRecord| a.id.to_string()))
}
