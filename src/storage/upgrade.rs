//! Rows stored before their table was audited, brought under the audit trail once, when the
//! ledger is opened after migrating (`Store::migrate`).
//!
//! From migration 0016 on, every write of a virement, forecast, indicator return and sign-in
//! is recorded in the audit trail, and a token's record holds its secret's SHA-256; `verify`
//! holds each row to its records (`held`). A ledger written before then holds rows whose
//! records lack that. Each such row gets a `baseline` record of what it holds now, written in
//! one `db_tx` with the `upgrade` record (entity `ledger`, key `0016`) that says it was done:
//! the trail vouches for them from the upgrade on. Only what was not recorded before is
//! baselined: a token's role and name stay held to its creation's record, and a row with no
//! record where one was always written (a token inserted outside the ledger) is left for
//! `verify` to name. Sessions are not baselined: migration 0016 ends them, and people sign in
//! again.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sqlx::Row;

use super::audit::{self, Change};
use super::held;
use super::{DbTx, Store, StoreError};
use crate::domain::words::sql_list;
use crate::domain::{AuditAction, AuditEntity};

/// The upgrade this module records.
const VERSION: &str = "0016";
const ACTOR: &str = "upgrade";

/// Baselines what an upgrade to 0016 leaves unrecorded, unless that upgrade is recorded.
pub(super) async fn run(store: &Store) -> Result<(), StoreError> {
    // Read first, so opening an upgraded ledger takes no write lock.
    let mut read = store.begin_read().await?;
    let done = upgraded_in(&mut read).await?;
    read.rollback().await?;
    if done {
        return Ok(());
    }
    let mut db_tx = store.begin().await?;
    // The audit head's lock, as every audit write takes it first, then the same question
    // again: two processes opening the ledger at once upgrade it once.
    sqlx::query("update audit_head set write_seq = write_seq + 1 where id = 1").execute(&mut *db_tx).await?;
    if upgraded_in(&mut db_tx).await? {
        db_tx.rollback().await?;
        return Ok(());
    }
    let stored = [&audit::VIREMENTS, &audit::FORECASTS, &audit::INDICATOR_RETURNS];
    let trail = trail_in(&mut db_tx).await?;
    let state = held::recorded(trail.iter().map(|(e, k, a)| (e.as_str(), k.as_str(), a.as_deref())));
    let mut baselined: BTreeMap<&str, u64> = BTreeMap::new();
    let mut due: Vec<(AuditEntity, String, Value)> = Vec::new();
    for r in sqlx::query("select cast(id as text) as audit_key, secret_hash from tokens order by id")
        .fetch_all(&mut *db_tx)
        .await?
    {
        let key: String = r.try_get("audit_key")?;
        if state
            .get(&(AuditEntity::Token.as_str(), key.as_str()))
            .is_some_and(|s| s.is_object() && s.get("secret_hash").is_none())
        {
            due.push((AuditEntity::Token, key, json!({ "secret_hash": r.try_get::<String, _>("secret_hash")? })));
        }
    }
    for table in stored {
        for r in sqlx::query(&table.select()).fetch_all(&mut *db_tx).await? {
            let key: String = r.try_get("audit_key")?;
            if !state.contains_key(&(table.entity.as_str(), key.as_str())) {
                due.push((table.entity, key, table.value(&r)?));
            }
        }
    }
    for (entity, key, after) in due {
        *baselined.entry(entity.as_str()).or_default() += 1;
        let reason = "recorded as it stood when the ledger was upgraded to 0016";
        let change = Change {
            actor: ACTOR,
            action: AuditAction::Baseline,
            entity,
            key: &key,
            before: None,
            after: Some(after),
            reason,
        };
        audit::record_in(&mut db_tx, change).await?;
    }
    let change = Change {
        actor: ACTOR,
        action: AuditAction::Upgrade,
        entity: AuditEntity::Ledger,
        key: VERSION,
        before: None,
        after: Some(json!({ "baselined": baselined })),
        reason: "virements, forecasts, indicator returns, sign-ins and token secrets are audited from 0016 on",
    };
    audit::record_in(&mut db_tx, change).await?;
    db_tx.commit().await?;
    Ok(())
}

/// Whether this upgrade is recorded.
async fn upgraded_in(db_tx: &mut DbTx) -> Result<bool, StoreError> {
    let sql = format!(
        "select 1 as one from audit_log where entity = {} and entity_key = $1 and action = {}",
        AuditEntity::Ledger.sql(),
        AuditAction::Upgrade.sql()
    );
    let found = sqlx::query(&sql).bind(VERSION).fetch_optional(&mut **db_tx).await?;
    Ok(found.is_some())
}

/// The records of the entities baselined here, in order.
async fn trail_in(db_tx: &mut DbTx) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
    let entities =
        [AuditEntity::Token, audit::VIREMENTS.entity, audit::FORECASTS.entity, audit::INDICATOR_RETURNS.entity];
    let sql = format!(
        "select entity, entity_key, after_json from audit_log where entity in ({}) order by id",
        sql_list(&entities)
    );
    let rows = sqlx::query(&sql).fetch_all(&mut **db_tx).await?;
    rows.iter().map(|r| Ok((r.try_get("entity")?, r.try_get("entity_key")?, r.try_get("after_json")?))).collect()
}
