//! Bearer tokens. The secret is shown once at creation; only its SHA-256 is stored.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::audit::{self, Change};
use super::idempotency::{self, IdemKey};
use super::rows;
use super::{DbTx, Page, Store, StoreError, now};

pub use crate::domain::Role;
use crate::domain::{AuditAction, AuditEntity};
use crate::model::tokens::{NewToken, Principal, TokenInfo};

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A fresh secret: 32 random bytes from the operating system, hex-encoded behind a prefix
/// that makes a leaked token easy to recognise.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    format!("gl_{}", hex::encode(bytes))
}

/// Creates a token for a named person. `actor` is who asked, for the audit trail. A
/// funder's role belongs to the home partnership's funder (`partnerships::funder_for_role_in`).
pub async fn create(store: &Store, name: &str, role: Role, actor: &str) -> Result<NewToken, StoreError> {
    create_keyed(store, (name, role, None), actor, None).await
}

/// Creates a token of a funder's role for `funder`, e.g. its first `funder_admin`.
pub async fn create_for_funder(
    store: &Store,
    name: &str,
    role: Role,
    funder: &str,
    actor: &str,
    idem: Option<&IdemKey>,
) -> Result<NewToken, StoreError> {
    create_keyed(store, (name, role, Some(funder)), actor, idem).await
}

/// Creates a token and claims `idem` in the same `db_tx`, so concurrent requests under one
/// key make one token: the others' claim hits the key and rolls their token back. The
/// stored answer leaves the secret out, as the secret is never stored.
pub async fn create_keyed(
    store: &Store,
    (name, role, funder): (&str, Role, Option<&str>),
    actor: &str,
    idem: Option<&IdemKey>,
) -> Result<NewToken, StoreError> {
    let secret = generate_secret();
    let mut db_tx = store.begin().await?;
    let funder = super::funder_roles::funder_for_role_in(&mut db_tx, role, funder).await?;
    let id = insert_with_secret_in(&mut db_tx, (name, role, funder.as_deref()), &secret, actor).await?;
    let replay = serde_json::json!({ "id": id, "name": name, "role": role, "funder": funder, "token": null,
        "note": "the token secret is shown only in the first response" });
    idempotency::save_in(&mut db_tx, idem, 201, &replay).await?;
    db_tx.commit().await?;
    Ok(NewToken { id, name: name.to_owned(), role, funder, token: secret })
}

/// What became of a token whose secret was given, e.g. `GRANT_LEDGER_ADMIN_TOKEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    Created,
    /// A live token already had the secret: restarting with the same variable is harmless.
    AlreadyLive,
    /// A token with the secret was revoked: it stays revoked, since reviving it would undo
    /// the revocation of a secret that may have leaked.
    Revoked,
}

/// Stores a token whose secret is given, unless a token with that secret exists, live or revoked.
pub async fn ensure_secret(
    store: &Store,
    name: &str,
    role: Role,
    secret: &str,
    actor: &str,
) -> Result<Ensured, StoreError> {
    let found = sqlx::query("select revoked_at from tokens where secret_hash = $1")
        .bind(hash_secret(secret))
        .fetch_optional(store.pool())
        .await?;
    match found {
        Some(row) if row.try_get::<Option<String>, _>("revoked_at")?.is_some() => Ok(Ensured::Revoked),
        Some(_) => Ok(Ensured::AlreadyLive),
        None => {
            let mut db_tx = store.begin().await?;
            let funder = super::funder_roles::funder_for_role_in(&mut db_tx, role, None).await?;
            insert_with_secret_in(&mut db_tx, (name, role, funder.as_deref()), secret, actor).await?;
            db_tx.commit().await?;
            Ok(Ensured::Created)
        }
    }
}

async fn insert_with_secret_in(
    db_tx: &mut DbTx,
    (name, role, funder): (&str, Role, Option<&str>),
    secret: &str,
    actor: &str,
) -> Result<i64, StoreError> {
    let secret_hash = hash_secret(secret);
    let row = sqlx::query(
        "insert into tokens (name, role, secret_hash, created_at, funder) values ($1, $2, $3, $4, $5) returning id",
    )
    .bind(name)
    .bind(role.as_str())
    .bind(&secret_hash)
    .bind(now())
    .bind(funder)
    .fetch_one(&mut **db_tx)
    .await
    .map_err(|e| {
        if super::is_unique_violation(&e) {
            StoreError::Conflict("that token secret is already in use".into())
        } else {
            e.into()
        }
    })?;
    let id: i64 = row.try_get("id")?;
    // The secret's SHA-256 (never the secret) is recorded, so `verify` names a token whose
    // stored hash was swapped for one whose secret someone else knows.
    let after =
        serde_json::json!({ "id": id, "name": name, "role": role, "secret_hash": secret_hash, "funder": funder });
    let change = Change {
        actor,
        action: AuditAction::Create,
        entity: AuditEntity::Token,
        key: &id.to_string(),
        before: None,
        after: Some(after),
        reason: "",
    };
    audit::record_in(db_tx, change).await?;
    Ok(id)
}

/// Records a funder token bound to `funder` (at the upgrade that adopts the ledger).
pub(super) async fn record_funder_in(db_tx: &mut DbTx, id: i64, funder: &str, actor: &str) -> Result<(), StoreError> {
    let change = Change {
        actor,
        action: AuditAction::Update,
        entity: AuditEntity::Token,
        key: &id.to_string(),
        before: Some(serde_json::json!({ "funder": null })),
        after: Some(serde_json::json!({ "funder": funder })),
        reason: "a funder's token belongs to the funder of the partnership it reads",
    };
    audit::record_in(db_tx, change).await
}

/// Finds the live token with this secret.
pub async fn authenticate(store: &Store, secret: &str) -> Result<Option<Principal>, StoreError> {
    let sql = format!(
        "select id, name, role, funder, {} from tokens where secret_hash = $1 and revoked_at is null",
        crate::model::tokens::HOME_FUNDER_SQL
    );
    let row = sqlx::query(&sql).bind(hash_secret(secret)).fetch_optional(store.pool()).await?;
    row.map(|r| rows::read(&r, "tokens", &["id"])).transpose()
}

pub async fn list(store: &Store, after: i64, limit: i64) -> Result<Page<TokenInfo>, StoreError> {
    let rows = sqlx::query(
        "select id, name, role, created_at, revoked_at, funder from tokens where id > $1 order by id limit $2",
    )
    .bind(after)
    .bind(limit + 1)
    .fetch_all(store.pool())
    .await?;
    let items = rows::read_all(&rows, "tokens", &["id"])?;
    Ok(Page::from_rows(items, limit, crate::model::page::List::Tokens, |t: &TokenInfo| t.id.to_string()))
}

pub async fn revoke(store: &Store, id: i64, actor: &str) -> Result<(), StoreError> {
    let mut db_tx = store.begin().await?;
    let at = now();
    let done = sqlx::query("update tokens set revoked_at = $2 where id = $1 and revoked_at is null")
        .bind(id)
        .bind(&at)
        .execute(&mut *db_tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("live token {id}")));
    }
    let change = Change {
        actor,
        action: AuditAction::Revoke,
        entity: AuditEntity::Token,
        key: &id.to_string(),
        before: Some(serde_json::json!({ "revoked_at": null })),
        after: Some(serde_json::json!({ "revoked_at": at })),
        reason: "",
    };
    audit::record_in(&mut db_tx, change).await?;
    db_tx.commit().await?;
    Ok(())
}

pub async fn count(store: &Store) -> Result<i64, StoreError> {
    Ok(sqlx::query("select count(*) as n from tokens").fetch_one(store.pool()).await?.try_get("n")?)
}
