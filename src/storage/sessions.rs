//! Browser sessions of the HTML pages. The cookie holds a random secret; only its SHA-256 is
//! stored, mapped to the token or the user that signed in. Sign-out deletes the row; sign-in
//! and sign-out both clear out expired ones, so the table holds live sessions only. Each
//! sign-in is an audit record (entity `session`), which `verify` holds the row to.
//!
//! A session ends at its maximum age (`SESSION_HOURS`), after an idle spell (no page asked
//! for within the idle limit, `IDLE_MINUTES` unless set otherwise), when its token is revoked,
//! and when its user is disabled or their password is reset.

use std::time::Duration;

use sqlx::Row;

use super::{Store, StoreError, now};
use super::{audit, tokens};
use crate::domain::AuditAction;
use crate::model::tokens::Principal;

/// How long a session lasts: a working day, so a forgotten browser does not stay signed in.
pub const SESSION_HOURS: i64 = 12;

/// How long a session lasts without a request.
pub const IDLE_MINUTES: u64 = 30;

/// `last_seen_at` is written at most this often, so a page view is not always a write.
/// The idle limit is therefore kept to within this much.
pub const SEEN_EVERY_SECS: i64 = 60;

fn text_at(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Starts a session for `principal` (a token's holder or a user) and returns its secret for
/// the cookie. The session the browser held before (`replacing`), if any, ends in the same
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
    sqlx::query(
        "insert into sessions (id_hash, token_id, user_id, created_at, expires_at, last_seen_at)
         values ($1, $2, $3, $4, $5, $4)",
    )
    .bind(&id_hash)
    .bind(principal.token_id)
    .bind(principal.user_id)
    .bind(now())
    .bind(text_at(expires))
    .execute(&mut *db_tx)
    .await?;
    // The sign-in is in the audit trail, which `verify` holds every session row to: a row
    // written straight into the database would otherwise carry a token's role to the pages.
    let by = (principal.name.as_str(), AuditAction::SignIn, "");
    audit::SESSIONS.record_in(&mut db_tx, audit::RowKey::Text(&id_hash), by, None).await?;
    db_tx.commit().await?;
    Ok(secret)
}

/// The caller behind a session secret, with the default idle limit (`IDLE_MINUTES`).
pub async fn authenticate(store: &Store, session_secret: &str) -> Result<Option<Principal>, StoreError> {
    authenticate_within(store, session_secret, Duration::from_secs(IDLE_MINUTES * 60)).await
}

/// The caller behind a session secret, if the session is live: not past its maximum age,
/// seen within `idle`, and its token not revoked or its user not disabled. A live session
/// seen more than `SEEN_EVERY_SECS` ago is marked seen now.
pub async fn authenticate_within(
    store: &Store,
    session_secret: &str,
    idle: Duration,
) -> Result<Option<Principal>, StoreError> {
    let now_at = chrono::Utc::now();
    let idle = chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::MAX);
    let seen_after = now_at.checked_sub_signed(idle).map(text_at).unwrap_or_default();
    let id_hash = tokens::hash_secret(session_secret);
    let row = sqlx::query(
        "select s.token_id, s.user_id, s.last_seen_at, t.name as token_name, t.role as token_role,
                u.username, u.display_name, u.role as user_role, coalesce(t.funder, u.funder) as funder,
                (select p.funder from partnerships p where p.home = 1) as home_funder
         from sessions s left join tokens t on t.id = s.token_id left join users u on u.id = s.user_id
         where s.id_hash = $1 and s.expires_at > $2 and s.last_seen_at > $3
           and ((t.id is not null and t.revoked_at is null) or (u.id is not null and u.disabled_at is null))",
    )
    .bind(&id_hash)
    .bind(text_at(now_at))
    .bind(&seen_after)
    .fetch_optional(store.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let token_id: Option<i64> = row.try_get("token_id")?;
    let user_id: Option<i64> = row.try_get("user_id")?;
    let (name, display_name, role): (String, String, String) = if token_id.is_some() {
        (row.try_get("token_name")?, String::new(), row.try_get("token_role")?)
    } else {
        (row.try_get("username")?, row.try_get("display_name")?, row.try_get("user_role")?)
    };
    let role = crate::domain::Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("session role {role}")))?;
    let last_seen: String = row.try_get("last_seen_at")?;
    let stale = chrono::DateTime::parse_from_rfc3339(&last_seen)
        .map(|t| now_at.signed_duration_since(t) >= chrono::Duration::seconds(SEEN_EVERY_SECS))
        .unwrap_or(true);
    if stale {
        // `last_seen_at` is not in the session's audit record: it moves with every visit.
        sqlx::query("update sessions set last_seen_at = $2 where id_hash = $1")
            .bind(&id_hash)
            .bind(text_at(now_at))
            .execute(store.pool())
            .await?;
    }
    let (funder, home_funder) = (row.try_get("funder")?, row.try_get("home_funder")?);
    Ok(Some(Principal { token_id, user_id, name, display_name, role, funder, home_funder }))
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
