//! The audit trail of reference data: who changed what, when, from what to what. Each record
//! is written in the same `db_tx` as the change it describes.

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{DbTx, Page, Store, StoreError, now, rows};
use crate::domain::chain::{self, AuditContent};
use crate::domain::words::sql_list;
use crate::domain::{AuditAction, AuditEntity};
use crate::model::audit::{AuditFilter, AuditRecord};

/// One change to record.
pub struct Change<'a> {
    pub actor: &'a str,
    pub action: AuditAction,
    pub entity: AuditEntity,
    pub key: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: &'a str,
}

impl<'a> Change<'a> {
    /// The record of `actor` creating `record`, keyed `key`: nothing before it, no reason.
    pub fn created(actor: &'a str, entity: AuditEntity, key: &'a str, record: &impl Serialize) -> Self {
        Change { actor, action: AuditAction::Create, entity, key, before: None, after: json(record), reason: "" }
    }
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
        action: c.action.as_str(),
        entity: c.entity.as_str(),
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
    .bind(c.action.as_str())
    .bind(c.entity.as_str())
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

/// How one column of a table audited as stored is written in its record.
#[derive(Debug, Clone, Copy)]
pub enum Col {
    /// Text, or null.
    Text,
    /// A whole number, or null.
    Int,
    /// 0 or 1, written as false or true.
    Flag,
}

/// A table whose audit records hold each row as stored, column by column: what a write
/// records, what `verify` holds the row to, and what an upgrade records for rows stored
/// before the table was audited. The columns are named once, here.
pub struct Stored {
    pub table: &'static str,
    pub entity: AuditEntity,
    /// The key column; its value, as text, is the record's key.
    pub key: &'static str,
    pub columns: &'static [(&'static str, Col)],
}

/// The key of one row of a `Stored` table.
#[derive(Debug, Clone, Copy)]
pub enum RowKey<'a> {
    Id(i64),
    Text(&'a str),
}

impl std::fmt::Display for RowKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowKey::Id(id) => write!(f, "{id}"),
            RowKey::Text(t) => f.write_str(t),
        }
    }
}

/// Virements: a pending one moves nothing until a second approver posts it, so its amount,
/// projects and proposer must be what was proposed.
pub const VIREMENTS: Stored = Stored {
    table: "virements",
    entity: AuditEntity::Virement,
    key: "id",
    columns: &[
        ("grant_code", Col::Text),
        ("financial_year", Col::Text),
        ("from_project", Col::Text),
        ("to_project", Col::Text),
        ("amount_pence", Col::Int),
        ("approved_on", Col::Text),
        ("approval_ref", Col::Text),
        ("reason", Col::Text),
        ("status", Col::Text),
        ("proposed_by", Col::Text),
        ("proposed_at", Col::Text),
        ("decided_by", Col::Text),
        ("decided_at", Col::Text),
        ("decision_reason", Col::Text),
        ("entry_id", Col::Int),
    ],
};

/// Officers' forecasts, which the variance report and the monitoring return show.
pub const FORECASTS: Stored = Stored {
    table: "forecasts",
    entity: AuditEntity::Forecast,
    key: "id",
    columns: &[
        ("grant_code", Col::Text),
        ("financial_year", Col::Text),
        ("quarter", Col::Int),
        ("project_code", Col::Text),
        ("forecast_pence", Col::Int),
        ("explanation", Col::Text),
        ("progress_rag", Col::Text),
        ("rag_reason", Col::Text),
        ("made_on", Col::Text),
        ("made_by", Col::Text),
        ("made_at", Col::Text),
    ],
};

/// What each quarter of an indicator achieved, which the monitoring return shows.
pub const INDICATOR_RETURNS: Stored = Stored {
    table: "indicator_returns",
    entity: AuditEntity::IndicatorReturn,
    key: "id",
    columns: &[
        ("project_code", Col::Text),
        ("indicator_code", Col::Text),
        ("financial_year", Col::Text),
        ("quarter", Col::Int),
        ("actual", Col::Text),
        ("evidence_ref", Col::Text),
        ("note", Col::Text),
        ("recorded_by", Col::Text),
        ("recorded_at", Col::Text),
    ],
};

/// A forecast withdrawn in error: from its instant it counts in no report.
pub const FORECAST_WITHDRAWALS: Stored = Stored {
    table: "forecast_withdrawals",
    entity: AuditEntity::ForecastWithdrawal,
    key: "id",
    columns: &[
        ("forecast_id", Col::Int),
        ("reason", Col::Text),
        ("withdrawn_by", Col::Text),
        ("withdrawn_at", Col::Text),
    ],
};

/// An indicator return withdrawn in error, as a forecast is.
pub const INDICATOR_RETURN_WITHDRAWALS: Stored = Stored {
    table: "indicator_return_withdrawals",
    entity: AuditEntity::IndicatorReturnWithdrawal,
    key: "id",
    columns: &[
        ("indicator_return_id", Col::Int),
        ("reason", Col::Text),
        ("withdrawn_by", Col::Text),
        ("withdrawn_at", Col::Text),
    ],
};

/// Signed-in browsers: a session carries its token's or user's role to the pages, so each is the
/// sign-in that made it. The key is the SHA-256 of the cookie's secret, never the secret.
pub const SESSIONS: Stored = Stored {
    table: "sessions",
    entity: AuditEntity::Session,
    key: "id_hash",
    // `last_seen_at` is left out: it moves with every visit (idle expiry), not by sign-in.
    columns: &[("token_id", Col::Int), ("user_id", Col::Int), ("created_at", Col::Text), ("expires_at", Col::Text)],
};

impl Stored {
    /// Every row: its key as text (`audit_key`), then the audited columns, in key order.
    pub fn select(&self) -> String {
        format!("{} order by {}", self.rows_sql(), self.key)
    }

    fn rows_sql(&self) -> String {
        let columns: Vec<&str> = self.columns.iter().map(|(c, _)| *c).collect();
        format!("select cast({} as text) as audit_key, {} from {}", self.key, columns.join(", "), self.table)
    }

    /// One row as its audit record holds it.
    pub fn value(&self, row: &AnyRow) -> Result<Value, StoreError> {
        row_value(row, self.table, self.columns)
    }

    /// The row with this key as it now stands in `db_tx`, if there is one.
    pub async fn row_in(&self, db_tx: &mut DbTx, key: RowKey<'_>) -> Result<Option<Value>, StoreError> {
        let sql = format!("{} where {} = $1", self.rows_sql(), self.key);
        let query = sqlx::query(&sql);
        let query = match key {
            RowKey::Id(id) => query.bind(id),
            RowKey::Text(t) => query.bind(t),
        };
        query.fetch_optional(&mut **db_tx).await?.map(|r| self.value(&r)).transpose()
    }

    /// Records the row with this key as it now stands, in the `db_tx` that wrote it.
    pub async fn record_in(
        &self,
        db_tx: &mut DbTx,
        key: RowKey<'_>,
        (actor, action, reason): (&str, AuditAction, &str),
        before: Option<Value>,
    ) -> Result<(), StoreError> {
        let after = self.row_in(db_tx, key).await?;
        let key = key.to_string();
        record_in(db_tx, Change { actor, action, entity: self.entity, key: &key, before, after, reason }).await
    }
}

/// The named columns of `row` as a JSON object, each as `Col` says.
pub(crate) fn row_value(row: &AnyRow, table: &str, columns: &[(&str, Col)]) -> Result<Value, StoreError> {
    let mut fields = serde_json::Map::new();
    for (column, kind) in columns {
        let value = match kind {
            Col::Text => row.try_get::<Option<String>, _>(*column).map(|v| v.map_or(Value::Null, Value::String)),
            Col::Int => row.try_get::<Option<i64>, _>(*column).map(|v| v.map_or(Value::Null, Value::from)),
            Col::Flag => row.try_get::<Option<i64>, _>(*column).map(|v| v.map_or(Value::Null, |n| Value::Bool(n != 0))),
        }
        .map_err(|e| rows::corrupt(row, table, &["audit_key"], e))?;
        fields.insert((*column).to_owned(), value);
    }
    Ok(Value::Object(fields))
}

/// Serializes a record for the trail.
pub fn json(record: &impl Serialize) -> Option<serde_json::Value> {
    Some(serde_json::to_value(record).expect("records serialize"))
}

/// Newest first: the cursor is the last id seen.
pub async fn list(store: &Store, f: &AuditFilter, before_id: i64, limit: i64) -> Result<Page<AuditRecord>, StoreError> {
    let admin_only: Vec<AuditEntity> = AuditEntity::ALL.into_iter().filter(|e| e.admin_only()).collect();
    let sql = format!(
        "select * from audit_log
         where ($1 = 0 or id < $1) and ($2 is null or entity = $2) and ($3 is null or entity_key = $3)
           and ($4 is null or actor = $4) and ($5 is null or action = $5)
           and ($6 is null or substr(at, 1, 10) >= $6) and ($7 is null or substr(at, 1, 10) <= $7)
           and ($9 = 1 or entity not in ({}))
         order by id desc limit $8",
        sql_list(&admin_only)
    );
    let rows = sqlx::query(&sql)
        .bind(before_id)
        .bind(f.entity.map(AuditEntity::as_str))
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
