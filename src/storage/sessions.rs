//! Browser sessions of the HTML pages. The cookie holds a random secret; only its SHA-256 is
//! stored, mapped to the token that signed in. Sign-out deletes the row; sign-in and
//! sign-out both clear out expired ones, so the table holds live sessions only. Each
//! sign-in is an audit record (entity `session`), which `verify` holds the row to.

use super::{Store, StoreError, now};
use super::{audit, tokens};
use crate::domain::AuditAction;
use crate::model::tokens::Principal;

/// How long a session lasts: a working day, so a forgotten browser does not stay signed in.
pub const SESSION_HOURS: i64 = 12;

/// Starts a session for `principal` (a token's holder) and returns its secret for the
/// cookie. The session the browser held before (`replacing`), if any, ends in the same
/// db_tx: signing in always gives a new id, so an id known before sign-in is never a live
/// one afterwards. Expired sessions are cleared out too, so they do not pile up between
/// sign-outs.
pub async fn start(store: &Store, principal: &Principal, replacing: Option<&str>) -> Result<String, StoreError> {
    let secret = tokens::generate_secret();
    let expires = chrono::Utc::now() + chrono::Duration::hours(SESSION_HOURS);
    let id_hash = tokens::hash_secret(&secret);
    let mut db_tx = store.begin().await?;
    sqlx::query("delete from sessions where expires_at <= $1 or id_hash = $2")
        .bind(now())
        .bind(replacing.map(tokens::hash_secret).unwrap_or_default())
        .execute(&mut *db_tx)
        .await?;
    sqlx::query("insert into sessions (id_hash, token_id, created_at, expires_at) values ($1, $2, $3, $4)")
        .bind(&id_hash)
        .bind(principal.token_id)
        .bind(now())
        .bind(expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .execute(&mut *db_tx)
        .await?;
    // The sign-in is in the audit trail, which `verify` holds every session row to: a row
    // written straight into the database would otherwise carry a token's role to the pages.
    let by = (principal.name.as_str(), AuditAction::SignIn, "");
    audit::SESSIONS.record_in(&mut db_tx, audit::RowKey::Text(&id_hash), by, None).await?;
    db_tx.commit().await?;
    Ok(secret)
}

/// The caller behind a session secret, if the session is live and its token not revoked.
pub async fn authenticate(store: &Store, session_secret: &str) -> Result<Option<Principal>, StoreError> {
    let row = sqlx::query(
        "select t.id, t.name, t.role from sessions s join tokens t on t.id = s.token_id
         where s.id_hash = $1 and s.expires_at > $2 and t.revoked_at is null",
    )
    .bind(tokens::hash_secret(session_secret))
    .bind(now())
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| super::rows::read(&r, "tokens", &["id"])).transpose()
}

/// Ends a session, and clears out expired ones while here.
pub async fn delete(store: &Store, session_secret: &str) -> Result<(), StoreError> {
    sqlx::query("delete from sessions where id_hash = $1 or expires_at <= $2")
        .bind(tokens::hash_secret(session_secret))
        .bind(now())
        .execute(store.pool())
        .await?;
    Ok(())
}
