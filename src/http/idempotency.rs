//! `Idempotency-Key` on POST: replays the first response to a (token, key), refuses the key
//! with a different request, and otherwise hands the key to the handler, whose storage call
//! saves the response in the same `db_tx` as its write.
//!
//! Identical retries that overlap wait for the first rather than being refused: in one
//! server, requests under one (token, key) queue on an in-memory lock, so the second finds
//! the first's stored response; across servers sharing a database, a write whose save hits
//! the key (`StoreError::IdempotencyRace`, rolled back) polls for the other's stored response
//! and replays it. A refused request stores nothing, so the next in the queue runs itself.
//! Either wait is bounded by `KEY_WAIT_MAX`, then answered 503 with `Retry-After`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::error::{AppError, KeyRaced};
use super::{AppState, BODY_BYTES_MAX};
use crate::model::IdemKey;
use crate::storage::idempotency;
use crate::storage::tokens;

/// The longest key accepted.
const KEY_LEN_MAX: usize = 255;

/// How long a request waits for another under the same key before answering 503: well
/// inside the request timeout, long past any ordinary write.
const KEY_WAIT_MAX: Duration = Duration::from_secs(30);
/// How often a request raced by another server looks for that server's stored response.
const KEY_POLL_EVERY: Duration = Duration::from_millis(25);
/// What `Retry-After` says when the wait's bound passes.
const RETRY_AFTER_SECS: u64 = 2;

type KeyId = (i64, String);

/// One lock per (token, key) with a request in flight. Entries are weak, so a key's lock
/// goes when its last request does; the table holds only keys in flight.
pub struct KeyLocks {
    held: Mutex<HashMap<KeyId, Weak<tokio::sync::Mutex<()>>>>,
    /// How long a request waits for another under its key.
    wait_max: Duration,
}

impl Default for KeyLocks {
    fn default() -> Self {
        KeyLocks::with_wait(KEY_WAIT_MAX)
    }
}

impl KeyLocks {
    pub fn with_wait(wait_max: Duration) -> KeyLocks {
        KeyLocks { held: Mutex::default(), wait_max }
    }

    /// The lock requests under (token, key) take in turn.
    pub fn lock_for(&self, token_id: i64, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let id = (token_id, key.to_owned());
        let mut held = self.held.lock().expect("key lock table is never poisoned");
        if let Some(lock) = held.get(&id).and_then(Weak::upgrade) {
            return lock;
        }
        held.retain(|_, w| w.strong_count() > 0);
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        held.insert(id, Arc::downgrade(&lock));
        lock
    }
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match handle(state, req, next).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle(state: AppState, req: Request, next: Next) -> Result<Response, AppError> {
    let Some(key) = req.headers().get("idempotency-key") else { return Ok(next.run(req).await) };
    if req.method() != Method::POST {
        return Ok(next.run(req).await);
    }
    // Visible ASCII only, as the error says: a space inside a key used to pass.
    let visible = |k: &&str| !k.is_empty() && k.len() <= KEY_LEN_MAX && k.bytes().all(|b| b.is_ascii_graphic());
    let key = key.to_str().ok().filter(visible);
    let key = key.map(str::to_owned);
    let Some(key) = key else {
        return Err(AppError::field("Idempotency-Key", format!("must be 1–{KEY_LEN_MAX} visible ASCII characters")));
    };
    let (mut parts, body) = req.into_parts();
    // A throttled address gets no replay; unauthenticated requests go on to be refused
    // (and counted) by the handler as usual.
    state.throttle.check(&state.throttle.client(&parts))?;
    let Some(secret) = super::auth::bearer(&parts).map(str::to_owned) else {
        return Ok(next.run(Request::from_parts(parts, body)).await);
    };
    // Keys belong to bearer tokens only: a user acts through the pages, whose forms are
    // post/redirect/get under a CSRF token and carry no `Idempotency-Key`, so a user has no
    // keys and a session never replays a token's answers.
    let Some(principal) = tokens::authenticate(&state.store, &secret).await? else {
        return Ok(next.run(Request::from_parts(parts, body)).await);
    };
    let Some(token_id) = principal.token_id else {
        return Ok(next.run(Request::from_parts(parts, body)).await);
    };
    let bytes = to_bytes(body, BODY_BYTES_MAX).await.map_err(|_| AppError::TooLarge)?;
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("").as_bytes());
    hasher.update(b"\n");
    hasher.update(&bytes);
    let request_hash = hex::encode(hasher.finalize());

    let lock = state.key_locks.lock_for(token_id, &key);
    let wait_max = state.key_locks.wait_max;
    let _turn = tokio::time::timeout(wait_max, lock.lock_owned()).await.map_err(|_| still_in_use())?;
    if let Some(stored) = idempotency::find(&state.store, token_id, &key).await? {
        return replay(stored, &request_hash);
    }
    parts.extensions.insert(IdemKey { token_id, key: key.clone(), request_hash: request_hash.clone() });
    parts.extensions.insert(principal);
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    if response.extensions().get::<KeyRaced>().is_none() {
        return Ok(response);
    }
    // Another server saved this key first and this write rolled back: answer as it did.
    let deadline = tokio::time::Instant::now() + wait_max;
    loop {
        if let Some(stored) = idempotency::find(&state.store, token_id, &key).await? {
            return replay(stored, &request_hash);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(still_in_use());
        }
        tokio::time::sleep(KEY_POLL_EVERY).await;
    }
}

fn still_in_use() -> AppError {
    AppError::KeyStillInUse { retry_after: RETRY_AFTER_SECS }
}

/// The stored answer, if it answered this same request; a different request is a conflict.
fn replay(stored: idempotency::StoredResponse, request_hash: &str) -> Result<Response, AppError> {
    if stored.request_hash != request_hash {
        return Err(AppError::IdempotencyConflict);
    }
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], stored.body).into_response();
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(response)
}
