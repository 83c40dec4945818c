//! `Idempotency-Key` on POST: replays the first response to a (token, key), refuses the key
//! with a different request, and otherwise hands the key to the handler, whose storage call
//! saves the response in the same `db_tx` as its write.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::error::AppError;
use super::{AppState, BODY_BYTES_MAX};
use crate::storage::idempotency::{self, IdemKey};
use crate::storage::tokens;

/// The longest key accepted.
const KEY_LEN_MAX: usize = 255;

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
    let key = key.to_str().ok().filter(|k| !k.is_empty() && k.len() <= KEY_LEN_MAX).map(str::to_owned);
    let Some(key) = key else {
        return Err(AppError::field("Idempotency-Key", format!("must be 1–{KEY_LEN_MAX} visible ASCII characters")));
    };
    let (mut parts, body) = req.into_parts();
    // Unauthenticated requests go on to be refused by the handler as usual.
    let Some(secret) = super::auth::bearer(&parts).map(str::to_owned) else {
        return Ok(next.run(Request::from_parts(parts, body)).await);
    };
    let Some(principal) = tokens::authenticate(&state.store, &secret).await? else {
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

    if let Some(stored) = idempotency::find(&state.store, principal.token_id, &key).await? {
        if stored.request_hash != request_hash {
            return Err(AppError::IdempotencyConflict);
        }
        let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
        let mut response = (status, [(header::CONTENT_TYPE, "application/json")], stored.body).into_response();
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(response);
    }
    parts.extensions.insert(IdemKey { token_id: principal.token_id, key, request_hash });
    parts.extensions.insert(principal);
    Ok(next.run(Request::from_parts(parts, Body::from(bytes))).await)
}
