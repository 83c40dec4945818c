//! Idempotency keys, stored per token. A successful write saves its response in the same
//! `db_tx` as the write itself, so a key is recorded exactly when its effect is.

use sqlx::Row;

use super::{DbTx, Store, StoreError};

pub use crate::model::IdemKey;

/// The response first given under a key.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

pub async fn find(store: &Store, token_id: i64, key: &str) -> Result<Option<StoredResponse>, StoreError> {
    let row =
        sqlx::query("select request_hash, status, body from idempotency_keys where token_id = $1 and idem_key = $2")
            .bind(token_id)
            .bind(key)
            .fetch_optional(store.pool())
            .await?;
    row.map(|r| -> Result<_, StoreError> {
        let status: i64 = r.try_get("status")?;
        let status = u16::try_from(status).map_err(|_| {
            StoreError::Corrupt(format!("idempotency_keys key {key}: column status: {status} is not an HTTP status"))
        })?;
        Ok(StoredResponse { request_hash: r.try_get("request_hash")?, status, body: r.try_get("body")? })
    })
    .transpose()
}

/// What a refused write answers when it may have raced a retry of itself: where `key` is
/// saved already, by a request committed before this `db_tx` took its locks, this request
/// is that one again, so it raced (and the key layer replays the saved answer). Otherwise
/// the refusal stands. A spend repeating itself is told so this way, never `duplicate`.
pub async fn raced_or(db_tx: &mut DbTx, key: Option<&IdemKey>, refusal: StoreError) -> Result<StoreError, StoreError> {
    let Some(key) = key else { return Ok(refusal) };
    let saved = sqlx::query("select 1 as one from idempotency_keys where token_id = $1 and idem_key = $2")
        .bind(key.token_id)
        .bind(&key.key)
        .fetch_optional(&mut **db_tx)
        .await?;
    Ok(if saved.is_some() { StoreError::IdempotencyRace } else { refusal })
}

/// Ends a write: `body` saved as the response to `key` (`save_in`), then the `db_tx`
/// committed, and `body` returned.
pub async fn commit_answer<T: serde::Serialize>(
    mut db_tx: DbTx,
    key: Option<&IdemKey>,
    status: u16,
    body: T,
) -> Result<T, StoreError> {
    save_in(&mut db_tx, key, status, &body).await?;
    db_tx.commit().await?;
    Ok(body)
}

/// Saves `body` as the response to `key`, inside the write's own `db_tx`. A concurrent
/// request that saved the same key first makes this fail, and the write rolls back.
pub async fn save_in(
    db_tx: &mut DbTx,
    key: Option<&IdemKey>,
    status: u16,
    body: &impl serde::Serialize,
) -> Result<(), StoreError> {
    let Some(key) = key else { return Ok(()) };
    let body = serde_json::to_string(body).expect("records serialize");
    let saved = sqlx::query(
        "insert into idempotency_keys (token_id, idem_key, request_hash, status, body, created_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key.token_id)
    .bind(&key.key)
    .bind(&key.request_hash)
    .bind(i64::from(status))
    .bind(body)
    .bind(super::now())
    .execute(&mut **db_tx)
    .await;
    match saved {
        Ok(_) => Ok(()),
        Err(e) if super::is_unique_violation(&e) => Err(StoreError::IdempotencyRace),
        Err(e) => Err(e.into()),
    }
}
