//! Named people who sign in to the pages (docs/api.md, "Users and sessions"). A password is
//! kept only as an argon2id PHC string. Every change is an audit record (entity `user`, keyed
//! by id) holding the row as `audited` reads it, which `verify` holds the row to; the record
//! names the PHC string by its SHA-256, so readers of the audit trail get nothing to crack.
//! Disabling a user or resetting their password ends their sessions in the same db_tx.

use std::sync::OnceLock;

use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::audit::{self, Change};
use super::{DbTx, Store, StoreError, now, rows};
use crate::domain::{AuditAction, AuditEntity};
use crate::model::tokens::Principal;
use crate::model::users::{NewUserCmd, Password, UserInfo, fold, password_problem};

/// Selects every row as `audited` reads it, keyed as its audit records are.
pub(crate) const AUDITED_SELECT: &str = "select cast(id as text) as audit_key, username, display_name, role,
    password_hash, disabled_at, password_set_at, funder from users";

/// A row as its audit records hold it.
pub(crate) fn audited(row: &AnyRow) -> Result<Value, StoreError> {
    let text = |c: &str| -> Result<Option<String>, StoreError> {
        row.try_get::<Option<String>, _>(c).map_err(|e| rows::corrupt(row, "users", &["audit_key"], e))
    };
    Ok(json!({
        "username": text("username")?,
        "display_name": text("display_name")?,
        "role": text("role")?,
        "password_hash_sha256": text("password_hash")?.map(|h| super::tokens::hash_secret(&h)),
        "disabled_at": text("disabled_at")?,
        "password_set_at": text("password_set_at")?,
        "funder": text("funder")?,
    }))
}

/// Records the row `id` as it now stands, in the db_tx that wrote it.
pub(super) async fn record_in(db_tx: &mut DbTx, id: i64, actor: &str, action: AuditAction) -> Result<(), StoreError> {
    let row = sqlx::query(&format!("{AUDITED_SELECT} where id = $1")).bind(id).fetch_one(&mut **db_tx).await?;
    let key = id.to_string();
    let change = Change {
        actor,
        action,
        entity: AuditEntity::User,
        key: &key,
        before: None,
        after: Some(audited(&row)?),
        reason: "",
    };
    audit::record_in(db_tx, change).await
}

/// An argon2id PHC string for `password`, with a fresh random salt. Off the async threads:
/// argon2 is slow on purpose.
async fn hash(password: &Password) -> Result<String, StoreError> {
    let password = password.0.clone();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).expect("the operating system provides randomness");
        let salt = SaltString::encode_b64(&salt).expect("16 bytes make a salt");
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .expect("hashing does not panic")
    .map_err(|e| StoreError::Corrupt(format!("argon2 could not hash: {e}")))
}

/// A hash no password is known to match, verified against when the username is unknown so
/// the answer takes as long as for a known one.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::encode_b64(b"grant-ledger-dum").expect("16 bytes make a salt");
        Argon2::default().hash_password(b"no user has this password", &salt).expect("argon2 hashes").to_string()
    })
}

/// Whether `password` matches `phc`: argon2's own comparison, which is constant-time.
async fn matches(phc: String, password: &str) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

fn check_password(username: &str, password: &Password) -> Result<(), StoreError> {
    match password_problem(username, &password.0) {
        Some(message) => Err(StoreError::invalid("password", message)),
        None => Ok(()),
    }
}

/// Adds a user. A username already taken, in any case, is refused naming `username`.
pub async fn add(store: &Store, cmd: &NewUserCmd, actor: &str) -> Result<UserInfo, StoreError> {
    let username = fold(&cmd.username);
    check_password(&username, &cmd.password)?;
    let phc = hash(&cmd.password).await?;
    let at = now();
    let mut db_tx = store.begin().await?;
    let funder = super::funder_roles::funder_for_role_in(&mut db_tx, cmd.role, None).await?;
    let row = sqlx::query(
        "insert into users (username, display_name, role, password_hash, created_at, password_set_at, funder)
         values ($1, $2, $3, $4, $5, $5, $6) returning id",
    )
    .bind(&username)
    .bind(cmd.display_name.trim())
    .bind(cmd.role.as_str())
    .bind(&phc)
    .bind(&at)
    .bind(&funder)
    .fetch_one(&mut *db_tx)
    .await
    .map_err(|e| {
        if super::is_unique_violation(&e) {
            StoreError::invalid("username", format!("{username} is already a user"))
        } else {
            e.into()
        }
    })?;
    let id: i64 = row.try_get("id")?;
    record_in(&mut db_tx, id, actor, AuditAction::Create).await?;
    db_tx.commit().await?;
    find(store, &username).await?.ok_or_else(|| StoreError::NotFound(format!("user {username}")))
}

const INFO: &str = "select id, username, display_name, role, created_at, disabled_at, password_set_at from users";

/// Every user, live and disabled, by username.
pub async fn list(store: &Store) -> Result<Vec<UserInfo>, StoreError> {
    let rows = sqlx::query(&format!("{INFO} order by username")).fetch_all(store.pool()).await?;
    rows::read_all(&rows, "users", &["id"])
}

/// The user with this username (any case), live or disabled.
pub async fn find(store: &Store, username: &str) -> Result<Option<UserInfo>, StoreError> {
    let row =
        sqlx::query(&format!("{INFO} where username = $1")).bind(fold(username)).fetch_optional(store.pool()).await?;
    row.map(|r| rows::read(&r, "users", &["id"])).transpose()
}

async fn live_id_in(db_tx: &mut DbTx, username: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("select id from users where username = $1 and disabled_at is null")
        .bind(fold(username))
        .fetch_optional(&mut **db_tx)
        .await?;
    match row {
        Some(r) => Ok(r.try_get("id")?),
        None => Err(StoreError::NotFound(format!("live user {}", fold(username)))),
    }
}

/// Disables a live user and ends their sessions, in one db_tx: they stop at once.
pub async fn disable(store: &Store, username: &str, actor: &str) -> Result<(), StoreError> {
    let mut db_tx = store.begin().await?;
    let id = live_id_in(&mut db_tx, username).await?;
    sqlx::query("update users set disabled_at = $2 where id = $1").bind(id).bind(now()).execute(&mut *db_tx).await?;
    sqlx::query("delete from sessions where user_id = $1").bind(id).execute(&mut *db_tx).await?;
    record_in(&mut db_tx, id, actor, AuditAction::Disable).await?;
    db_tx.commit().await?;
    Ok(())
}

/// Sets a live user's password (an admin's reset) and ends their sessions, in one db_tx.
pub async fn reset_password(store: &Store, username: &str, password: &Password, actor: &str) -> Result<(), StoreError> {
    check_password(&fold(username), password)?;
    let phc = hash(password).await?;
    let mut db_tx = store.begin().await?;
    let id = live_id_in(&mut db_tx, username).await?;
    set_password_in(&mut db_tx, id, &phc, None).await?;
    record_in(&mut db_tx, id, actor, AuditAction::ResetPassword).await?;
    db_tx.commit().await?;
    Ok(())
}

async fn set_password_in(db_tx: &mut DbTx, id: i64, phc: &str, keep_session: Option<&str>) -> Result<(), StoreError> {
    sqlx::query("update users set password_hash = $2, password_set_at = $3 where id = $1")
        .bind(id)
        .bind(phc)
        .bind(now())
        .execute(&mut **db_tx)
        .await?;
    sqlx::query("delete from sessions where user_id = $1 and id_hash <> $2")
        .bind(id)
        .bind(keep_session.map(super::tokens::hash_secret).unwrap_or_default())
        .execute(&mut **db_tx)
        .await?;
    Ok(())
}

/// A user changes their own password: the current one must match. Their other sessions end;
/// the one they are using (`session_secret`) goes on.
pub async fn change_password(
    store: &Store,
    username: &str,
    current: &Password,
    new: &Password,
    session_secret: &str,
) -> Result<(), StoreError> {
    if verify(store, username, &current.0).await?.is_none() {
        return Err(StoreError::invalid("current_password", "is not your current password"));
    }
    check_password(&fold(username), new)?;
    let phc = hash(new).await?;
    let mut db_tx = store.begin().await?;
    let id = live_id_in(&mut db_tx, username).await?;
    set_password_in(&mut db_tx, id, &phc, Some(session_secret)).await?;
    record_in(&mut db_tx, id, &fold(username), AuditAction::ChangePassword).await?;
    db_tx.commit().await?;
    Ok(())
}

/// The live user with this username and password. An unknown or disabled username still
/// costs one argon2 verify, against a dummy hash, so timing does not tell which exist.
pub async fn verify(store: &Store, username: &str, password: &str) -> Result<Option<Principal>, StoreError> {
    let sql = format!(
        "select id, username, display_name, role, password_hash, funder, {} from users
         where username = $1 and disabled_at is null",
        crate::model::tokens::HOME_FUNDER_SQL
    );
    let row = sqlx::query(&sql).bind(fold(username)).fetch_optional(store.pool()).await?;
    let Some(row) = row else {
        matches(dummy_hash().to_owned(), password).await;
        return Ok(None);
    };
    let phc: String = row.try_get("password_hash")?;
    if !matches(phc, password).await {
        return Ok(None);
    }
    let role: String = row.try_get("role")?;
    Ok(Some(Principal {
        token_id: None,
        user_id: Some(row.try_get("id")?),
        name: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role: crate::domain::Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("users role {role}")))?,
        funder: row.try_get("funder")?,
        home_funder: row.try_get("home_funder")?,
    }))
}

pub async fn count(store: &Store) -> Result<i64, StoreError> {
    Ok(sqlx::query("select count(*) as n from users").fetch_one(store.pool()).await?.try_get("n")?)
}
