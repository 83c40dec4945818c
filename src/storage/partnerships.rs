//! The service's partnerships (migration 0025). The ledger tables hold one partnership's
//! ledger, the home partnership's: its row is written at start from the ledger it adopts
//! (`ensure_home`), and a funder's token or user is bound to the funder that funds it.
//! Every write is an audit record (entity `partnership`, keyed by id) that `verify` holds
//! the row to.

use serde_json::json;
use sqlx::Row;

use super::audit::{self, Change, Col, RowKey, Stored};
use super::reference::{PARTNERSHIP_CODE_DEFAULT, PARTNERSHIP_CODE_KEY};
use super::{DbTx, Store, StoreError, idempotency, now, rows};
use crate::domain::{AuditAction, AuditEntity, Role};
use crate::model::Actor;
use crate::model::partnerships::{NewPartnership, Partnership, PartnershipHealth};

/// Partnerships, each row recorded whole.
pub const PARTNERSHIPS: Stored = Stored {
    table: "partnerships",
    entity: AuditEntity::Partnership,
    key: "id",
    columns: &[
        ("code", Col::Text),
        ("name", Col::Text),
        ("funder", Col::Text),
        ("area_code", Col::Text),
        ("home", Col::Flag),
        ("created_at", Col::Text),
    ],
};

/// Who the home partnership is when the ledger does not say: Tamworth's (docs/api.md).
const HOME_NAME_DEFAULT: &str = "Tamworth Community Safety Partnership";
const HOME_AREA_DEFAULT: &str = "E07000199";
/// The settings key of the partnership's name (`fixtures`, the pages' heading).
const PARTNERSHIP_NAME_KEY: &str = "partnership";
/// Who writes what the ledger's start adopts, in the audit trail.
const ACTOR: &str = "upgrade";
/// The upgrade recorded once the funders' columns of 0025 are under the audit trail.
const VERSION: &str = "0025";

const SELECT: &str = "select id, code, name, funder, area_code, home, created_at from partnerships";

/// The home partnership, once the ledger has adopted one.
pub async fn home(store: &Store) -> Result<Option<Partnership>, StoreError> {
    let row = sqlx::query(&format!("{SELECT} where home = 1")).fetch_optional(store.pool()).await?;
    row.map(|r| rows::read(&r, "partnerships", &["id"])).transpose()
}

/// Every partnership, by code.
pub async fn list(store: &Store) -> Result<Vec<Partnership>, StoreError> {
    let rows = sqlx::query(&format!("{SELECT} order by code")).fetch_all(store.pool()).await?;
    rows::read_all(&rows, "partnerships", &["id"])
}

/// At start: brings the funders' columns of 0025 under the audit trail once, then adopts the
/// ledger as the home partnership's if it has none and its funder can be told.
pub async fn on_start(store: &Store) -> Result<(), StoreError> {
    upgrade(store).await?;
    ensure_home(store).await?;
    Ok(())
}

/// Baselines each funder's `over_programming_percent` and `return_due_days` as 0025 set
/// them, in one `db_tx` with the upgrade's own record, unless that is recorded.
async fn upgrade(store: &Store) -> Result<(), StoreError> {
    let mut read = store.begin_read().await?;
    let done = upgraded_in(&mut read).await?;
    read.rollback().await?;
    if done {
        return Ok(());
    }
    let mut db_tx = store.begin().await?;
    // The audit head's lock first, as `upgrade::run` takes it: two starts upgrade once.
    sqlx::query("update audit_head set write_seq = write_seq + 1 where id = 1").execute(&mut *db_tx).await?;
    if upgraded_in(&mut db_tx).await? {
        db_tx.rollback().await?;
        return Ok(());
    }
    let funders = sqlx::query("select code, over_programming_percent, return_due_days from funders order by code")
        .fetch_all(&mut *db_tx)
        .await?;
    for r in &funders {
        let code: String = r.try_get("code")?;
        let after = json!({
            "over_programming_percent": r.try_get::<i64, _>("over_programming_percent")?,
            "return_due_days": r.try_get::<i64, _>("return_due_days")?,
        });
        let change = Change {
            actor: ACTOR,
            action: AuditAction::Baseline,
            entity: AuditEntity::Funder,
            key: &code,
            before: None,
            after: Some(after),
            reason: "recorded as it stood when the ledger was upgraded to 0025",
        };
        audit::record_in(&mut db_tx, change).await?;
    }
    let change = Change {
        actor: ACTOR,
        action: AuditAction::Upgrade,
        entity: AuditEntity::Ledger,
        key: VERSION,
        before: None,
        after: Some(json!({ "baselined": { "funder": funders.len() } })),
        reason: "partnerships, and each funder's over-programming and return due days, are audited from 0025 on",
    };
    audit::record_in(&mut db_tx, change).await?;
    db_tx.commit().await?;
    Ok(())
}

async fn upgraded_in(db_tx: &mut DbTx) -> Result<bool, StoreError> {
    let sql = format!(
        "select 1 as one from audit_log where entity = {} and entity_key = $1 and action = {}",
        AuditEntity::Ledger.sql(),
        AuditAction::Upgrade.sql()
    );
    Ok(sqlx::query(&sql).bind(VERSION).fetch_optional(&mut **db_tx).await?.is_some())
}

/// Adopts the ledger as the home partnership's, unless one is recorded: its code is the
/// setting `partnership_code` (`TAM` unset), its name the setting `partnership` (else
/// Tamworth's), its area Tamworth's, and its funder the funder of most of the ledger's
/// grants (the fewest code first), or the only funder when it has no grant. A ledger with
/// no funder yet (a fresh one, before its fixtures) adopts nothing: `open` calls this again
/// once they are loaded. Funder tokens and users made before 0025 are bound to that funder.
pub async fn ensure_home(store: &Store) -> Result<Option<Partnership>, StoreError> {
    if let Some(home) = home(store).await? {
        return Ok(Some(home));
    }
    let mut db_tx = store.begin().await?;
    sqlx::query("update audit_head set write_seq = write_seq + 1 where id = 1").execute(&mut *db_tx).await?;
    if super::funder_roles::home_funder_in(&mut db_tx).await?.is_some() {
        db_tx.rollback().await?;
        return home(store).await;
    }
    let Some(funder) = adopted_funder_in(&mut db_tx).await? else {
        db_tx.rollback().await?;
        return Ok(None);
    };
    let setting = |key: &'static str| async move {
        let row = sqlx::query("select value from settings where key = $1").bind(key);
        row.fetch_optional(store.pool()).await.map(|r| r.and_then(|r| r.try_get::<String, _>("value").ok()))
    };
    let code = setting(PARTNERSHIP_CODE_KEY)
        .await?
        .filter(|c| crate::domain::is_valid_code(c))
        .unwrap_or_else(|| PARTNERSHIP_CODE_DEFAULT.to_owned());
    let name = setting(PARTNERSHIP_NAME_KEY)
        .await?
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| HOME_NAME_DEFAULT.to_owned());
    let p = NewPartnership { code, name, funder, area_code: HOME_AREA_DEFAULT.to_owned() };
    insert_in(&mut db_tx, &p, true, ACTOR).await?;
    bind_funder_roles_in(&mut db_tx, &p.funder).await?;
    db_tx.commit().await?;
    home(store).await
}

/// The funder of most grants, or the only funder of a ledger with no grant.
async fn adopted_funder_in(db_tx: &mut DbTx) -> Result<Option<String>, StoreError> {
    let by_grants = sqlx::query(
        "select funder, count(*) as grants from grants group by funder order by count(*) desc, funder limit 1",
    )
    .fetch_optional(&mut **db_tx)
    .await?;
    if let Some(r) = by_grants {
        return Ok(Some(r.try_get("funder")?));
    }
    let funders = sqlx::query("select code from funders order by code limit 2").fetch_all(&mut **db_tx).await?;
    match funders.as_slice() {
        [only] => Ok(Some(only.try_get("code")?)),
        _ => Ok(None),
    }
}

/// Binds every funder token and user that names no funder to `funder`, each change recorded.
async fn bind_funder_roles_in(db_tx: &mut DbTx, funder: &str) -> Result<(), StoreError> {
    let roles = crate::domain::words::sql_list(&[Role::Funder, Role::FunderAdmin]);
    for table in ["tokens", "users"] {
        let sql = format!("select id from {table} where funder is null and role in ({roles}) order by id");
        let ids: Vec<i64> = sqlx::query(&sql)
            .fetch_all(&mut **db_tx)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
        for id in ids {
            sqlx::query(&format!("update {table} set funder = $2 where id = $1"))
                .bind(id)
                .bind(funder)
                .execute(&mut **db_tx)
                .await?;
            if table == "tokens" {
                super::tokens::record_funder_in(db_tx, id, funder, ACTOR).await?;
            } else {
                super::users::record_in(db_tx, id, ACTOR, AuditAction::Update).await?;
            }
        }
    }
    Ok(())
}

/// Inserts a partnership and its audit record. A code taken is refused naming `code`; a
/// funder the service does not know, naming `funder`.
async fn insert_in(db_tx: &mut DbTx, p: &NewPartnership, home: bool, actor: &str) -> Result<i64, StoreError> {
    funder_exists_in(db_tx, &p.funder).await?;
    let row = sqlx::query(
        "insert into partnerships (code, name, funder, area_code, home, created_at)
         values ($1, $2, $3, $4, $5, $6) returning id",
    )
    .bind(&p.code)
    .bind(p.name.trim())
    .bind(&p.funder)
    .bind(&p.area_code)
    .bind(i64::from(home))
    .bind(now())
    .fetch_one(&mut **db_tx)
    .await
    .map_err(|e| {
        if super::is_unique_violation(&e) {
            StoreError::Conflict(format!("code: partnership {} already exists", p.code))
        } else {
            e.into()
        }
    })?;
    let id: i64 = row.try_get("id")?;
    PARTNERSHIPS.record_in(db_tx, RowKey::Id(id), (actor, AuditAction::Create, ""), None).await?;
    Ok(id)
}

async fn funder_exists_in(db_tx: &mut DbTx, funder: &str) -> Result<(), StoreError> {
    let found =
        sqlx::query("select code from funders where code = $1").bind(funder).fetch_optional(&mut **db_tx).await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::invalid("funder", format!("{funder} is not a funder this service knows"))),
    }
}

/// Registers a partnership funded by a funder the service knows. It is not home: its ledger
/// has no tables yet, so nothing of the ledger is reachable as it (docs/api.md).
pub async fn create(store: &Store, p: &NewPartnership, actor: Actor<'_>) -> Result<Partnership, StoreError> {
    let mut db_tx = store.begin().await?;
    let id = insert_with_lock_in(&mut db_tx, p, false, actor.name).await?;
    let made = by_id_in(&mut db_tx, id).await?;
    idempotency::commit_answer(db_tx, actor.idem, 201, made).await
}

async fn insert_with_lock_in(db_tx: &mut DbTx, p: &NewPartnership, home: bool, actor: &str) -> Result<i64, StoreError> {
    // The audit head's lock first: a partnership written at start waits, or is seen.
    sqlx::query("update audit_head set write_seq = write_seq + 1 where id = 1").execute(&mut **db_tx).await?;
    insert_in(db_tx, p, home, actor).await
}

async fn by_id_in(db_tx: &mut DbTx, id: i64) -> Result<Partnership, StoreError> {
    let row = sqlx::query(&format!("{SELECT} where id = $1")).bind(id).fetch_one(&mut **db_tx).await?;
    rows::read(&row, "partnerships", &["id"])
}

/// Sets the home partnership's identity, or adopts the ledger as `p`'s if it has none, while
/// the service holds no other partnership: the settings `partnership_code` and `partnership`
/// follow it. A funder's token or user bound to another funder then reads nothing.
pub async fn adopt(store: &Store, p: &NewPartnership, actor: &str) -> Result<Partnership, StoreError> {
    let mut db_tx = store.begin().await?;
    sqlx::query("update audit_head set write_seq = write_seq + 1 where id = 1").execute(&mut *db_tx).await?;
    let others = sqlx::query("select code from partnerships where home = 0 order by code")
        .fetch_all(&mut *db_tx)
        .await?
        .iter()
        .map(|r| r.try_get("code"))
        .collect::<Result<Vec<String>, _>>()?;
    if !others.is_empty() {
        return Err(StoreError::Conflict(format!(
            "the service holds other partnerships ({}): the home partnership is adopted only while it is the only one",
            others.join(", ")
        )));
    }
    let home = sqlx::query("select id from partnerships where home = 1").fetch_optional(&mut *db_tx).await?;
    let id = match home {
        None => {
            let id = insert_in(&mut db_tx, p, true, actor).await?;
            bind_funder_roles_in(&mut db_tx, &p.funder).await?;
            id
        }
        Some(row) => {
            let id: i64 = row.try_get("id")?;
            funder_exists_in(&mut db_tx, &p.funder).await?;
            let before = PARTNERSHIPS.row_in(&mut db_tx, RowKey::Id(id)).await?;
            sqlx::query("update partnerships set code = $2, name = $3, funder = $4, area_code = $5 where id = $1")
                .bind(id)
                .bind(&p.code)
                .bind(p.name.trim())
                .bind(&p.funder)
                .bind(&p.area_code)
                .execute(&mut *db_tx)
                .await?;
            PARTNERSHIPS.record_in(&mut db_tx, RowKey::Id(id), (actor, AuditAction::Update, ""), before).await?;
            id
        }
    };
    super::reference::set_setting_in(&mut db_tx, PARTNERSHIP_CODE_KEY, &p.code, actor).await?;
    super::reference::set_setting_in(&mut db_tx, PARTNERSHIP_NAME_KEY, p.name.trim(), actor).await?;
    let adopted = by_id_in(&mut db_tx, id).await?;
    db_tx.commit().await?;
    Ok(adopted)
}

/// What the operator sees of each partnership: how much its ledger holds, never what.
pub async fn health(store: &Store) -> Result<Vec<PartnershipHealth>, StoreError> {
    let mut read = store.begin_read().await?;
    let ledger = sqlx::query(
        "select (select count(*) from entries) as entries, (select max(created_at) from entries) as last_entry_at,
                (select count(*) from users) as users, (select count(*) from tokens where revoked_at is null) as tokens",
    )
    .fetch_one(&mut *read)
    .await?;
    let mut out = Vec::new();
    for p in sqlx::query(&format!("{SELECT} order by code")).fetch_all(&mut *read).await? {
        let p: Partnership = rows::read(&p, "partnerships", &["id"])?;
        // Only the home partnership has a ledger: the tables hold its rows.
        let holds = p.home.0;
        out.push(PartnershipHealth {
            code: p.code,
            funder: p.funder,
            home: p.home.0,
            entries: if holds { ledger.try_get("entries")? } else { 0 },
            users: if holds { ledger.try_get("users")? } else { 0 },
            tokens: if holds { ledger.try_get("tokens")? } else { 0 },
            last_entry_at: if holds { ledger.try_get("last_entry_at")? } else { None },
        });
    }
    read.rollback().await?;
    Ok(out)
}
