//! Imports kept under an id (docs/interchange.md, "Imports with an id"): the dry run stores
//! the file, its layout and its outcome line by line; confirming runs the import again on
//! the stored bytes (`import::confirm`, which claims and marks the row here in its `db_tx`);
//! reversing reverses every entry the import made in one `db_tx`. Every write is audited
//! (entity `import`), and `verify` holds the rows to their records (`IMPORTS`) and each file
//! to its SHA-256 (`check_files`).

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::audit::{Col, RowKey, Stored};
use super::operations::{ReverseCmd, reverse_in};
use super::{DbTx, RowLock, Store, StoreError, idempotency, now, rows};
use crate::domain::{AccountKind, AuditAction, AuditEntity, FinancialYear};
use crate::model::Actor;
use crate::model::imports::{ImportRecord, ImportedEntry, Outcome, ReverseImportCmd};

/// Imports: the file is held by its SHA-256, which the records hold; the outcome, which a
/// confirm rewrites from the file, is left out.
pub const IMPORTS: Stored = Stored {
    table: "imports",
    entity: AuditEntity::Import,
    key: "id",
    columns: &[
        ("mapping", Col::Text),
        ("file_sha256", Col::Text),
        ("created_by", Col::Text),
        ("created_at", Col::Text),
        ("confirmed_by", Col::Text),
        ("confirmed_at", Col::Text),
        ("reversed_by", Col::Text),
        ("reversed_at", Col::Text),
        ("reverse_reason", Col::Text),
    ],
};

/// An import's file and layout, as a confirm reads them.
#[derive(Debug)]
pub struct StoredFile {
    pub mapping: String,
    pub file: Vec<u8>,
}

/// Stores a dry run: the file, its layout and its outcome, under a new id.
pub async fn record(
    store: &Store,
    mapping: &str,
    file: &[u8],
    outcome: &Outcome,
    actor: Actor<'_>,
) -> Result<ImportRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let id: i64 = sqlx::query(
        "insert into imports (mapping, file, file_sha256, outcome, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6) returning id",
    )
    .bind(mapping)
    .bind(file.to_vec())
    .bind(sha256_hex(file))
    .bind(serde_json::to_string(outcome).expect("outcomes serialize"))
    .bind(actor.name)
    .bind(now())
    .fetch_one(&mut *db_tx)
    .await?
    .try_get("id")?;
    IMPORTS.record_in(&mut db_tx, RowKey::Id(id), (actor.name, AuditAction::Create, ""), None).await?;
    let record = get_in(&mut db_tx, id).await?;
    idempotency::commit_answer(db_tx, actor.idem, 201, record).await
}

/// The file and layout of an import, for its confirm.
pub async fn file(store: &Store, id: i64) -> Result<StoredFile, StoreError> {
    let row = sqlx::query("select mapping, file from imports where id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("import {id}")))?;
    let bad = |e| rows::corrupt(&row, "imports", &["id"], e);
    Ok(StoredFile { mapping: row.try_get("mapping").map_err(bad)?, file: row.try_get("file").map_err(bad)? })
}

/// Holds the import's row for a confirm, first in its `db_tx`; refuses one confirmed already.
pub(super) async fn claim_in(db_tx: &mut DbTx, id: i64) -> Result<(), StoreError> {
    let sql = format!("select confirmed_at from imports where id = $1{}", RowLock::Update.clause(db_tx));
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut **db_tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("import {id}")))?;
    match row.try_get::<Option<String>, _>("confirmed_at")? {
        Some(at) => {
            Err(StoreError::Conflict(format!("import {id} is already confirmed: its entries were recorded at {at}")))
        }
        None => Ok(()),
    }
}

/// Marks the import confirmed with the outcome of the run that recorded its entries.
pub(super) async fn confirmed_in(db_tx: &mut DbTx, id: i64, by: &str, outcome: &Outcome) -> Result<(), StoreError> {
    let before = IMPORTS.row_in(db_tx, RowKey::Id(id)).await?;
    sqlx::query("update imports set confirmed_by = $2, confirmed_at = $3, outcome = $4 where id = $1")
        .bind(id)
        .bind(by)
        .bind(now())
        .bind(serde_json::to_string(outcome).expect("outcomes serialize"))
        .execute(&mut **db_tx)
        .await?;
    IMPORTS.record_in(db_tx, RowKey::Id(id), (by, AuditAction::Confirm, ""), before).await
}

/// An import with its outcome and the entries it made.
pub async fn get(store: &Store, id: i64) -> Result<ImportRecord, StoreError> {
    let mut db_tx = store.begin_read().await?;
    let record = get_in(&mut db_tx, id).await?;
    db_tx.rollback().await?;
    Ok(record)
}

async fn get_in(db_tx: &mut DbTx, id: i64) -> Result<ImportRecord, StoreError> {
    let row = sqlx::query(
        "select id, mapping, file_sha256, outcome, created_by, created_at, confirmed_by, confirmed_at, reversed_by,
                reversed_at, reverse_reason
         from imports where id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **db_tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("import {id}")))?;
    let bad = |e| rows::corrupt(&row, "imports", &["id"], e);
    let outcome: String = row.try_get("outcome").map_err(bad)?;
    let outcome = serde_json::from_str(&outcome)
        .map_err(|e| rows::named(&row, "imports", &["id"], "outcome", &format!("is not an outcome: {e}")))?;
    Ok(ImportRecord {
        id,
        mapping: row.try_get("mapping").map_err(bad)?,
        file_sha256: row.try_get("file_sha256").map_err(bad)?,
        created_by: row.try_get("created_by").map_err(bad)?,
        created_at: row.try_get("created_at").map_err(bad)?,
        outcome,
        confirmed_by: row.try_get("confirmed_by").map_err(bad)?,
        confirmed_at: row.try_get("confirmed_at").map_err(bad)?,
        reversed_by: row.try_get("reversed_by").map_err(bad)?,
        reversed_at: row.try_get("reversed_at").map_err(bad)?,
        reverse_reason: row.try_get("reverse_reason").map_err(bad)?,
        entries: entries_in(db_tx, id).await?.into_iter().map(|e| e.shown).collect(),
    })
}

/// An entry of the import, with what reversing it needs.
struct Made {
    shown: ImportedEntry,
    grant: String,
    year: FinancialYear,
}

/// The entries the import made, in id order, each with its reversal if any.
async fn entries_in(db_tx: &mut DbTx, id: i64) -> Result<Vec<Made>, StoreError> {
    let sql = format!(
        "select e.id, e.kind, e.entry_date, e.grant_code, e.financial_year, e.project, e.supplier,
                (select r.id from entries r where r.reverses = e.id) as reversed_by,
                (select cast(-coalesce(sum(p.amount_pence), 0) as bigint) from postings p
                 where p.entry_id = e.id and p.account like {}) as spent_pence
         from entries e where e.import_id = $1 order by e.id",
        AccountKind::Spent.sql_like()
    );
    let found = sqlx::query(&sql).bind(id).fetch_all(&mut **db_tx).await?;
    found
        .iter()
        .map(|r| {
            let at = ("entries", &["id"][..]);
            let bad = |e| rows::corrupt(r, "entries", &["id"], e);
            Ok(Made {
                shown: ImportedEntry {
                    entry_id: r.try_get("id").map_err(bad)?,
                    kind: r.try_get("kind").map_err(bad)?,
                    date: rows::date(r, at, "entry_date")?,
                    project: r.try_get("project").map_err(bad)?,
                    supplier: r.try_get("supplier").map_err(bad)?,
                    spent: crate::domain::Money::from_pence(r.try_get("spent_pence").map_err(bad)?),
                    reversed_by: r.try_get("reversed_by").map_err(bad)?,
                },
                grant: r.try_get("grant_code").map_err(bad)?,
                year: rows::year(r, at, "financial_year")?,
            })
        })
        .collect()
}

/// Reverses every entry of a confirmed import in one `db_tx`, with the reason, and marks
/// the import reversed. Refused, naming the entry, when one is reversed already or drawn on
/// by a standing refund outside the import, or when the reversal of one is refused by the
/// rules an entry's own reversal is held to; then nothing is reversed.
pub async fn reverse(store: &Store, c: ReverseImportCmd, actor: Actor<'_>) -> Result<ImportRecord, StoreError> {
    let id = c.import_id;
    let mut db_tx = store.begin().await?;
    let sql = format!("select confirmed_at, reversed_at from imports where id = $1{}", RowLock::Update.clause(&db_tx));
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *db_tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("import {id}")))?;
    if row.try_get::<Option<String>, _>("confirmed_at")?.is_none() {
        return Err(StoreError::Conflict(format!("import {id} is not confirmed: it has recorded no entries")));
    }
    if let Some(at) = row.try_get::<Option<String>, _>("reversed_at")? {
        return Err(StoreError::Conflict(format!("import {id} is already reversed (at {at})")));
    }
    let made = entries_in(&mut db_tx, id).await?;
    // Every award the reversals post to, locked in one order as an import's are, so this
    // cannot deadlock with another import.
    let awards: BTreeSet<(&str, FinancialYear)> = made.iter().map(|m| (m.grant.as_str(), m.year)).collect();
    for (grant, year) in awards {
        super::entries::lock_award_row(&mut db_tx, grant, year).await?;
    }
    for m in &made {
        if let Some(by) = m.shown.reversed_by {
            return Err(StoreError::Conflict(format!(
                "entry {} of import {id} has already been reversed (by entry {by}); nothing was reversed",
                m.shown.entry_id
            )));
        }
        let refund = sqlx::query(
            "select r.id from entries r
             where r.refund_of = $1 and (r.import_id is null or r.import_id <> $2)
               and not exists (select 1 from entries x where x.reverses = r.id)
             order by r.id",
        )
        .bind(m.shown.entry_id)
        .bind(id)
        .fetch_optional(&mut *db_tx)
        .await?;
        if let Some(r) = refund {
            let refund_id: i64 = r.try_get("id")?;
            return Err(StoreError::Conflict(format!(
                "entry {} of import {id} is drawn on by refund {refund_id}, which names it: reverse the refund \
                 first; nothing was reversed",
                m.shown.entry_id
            )));
        }
    }
    // Newest first: a refund in the import is reversed before the spend it names.
    for m in made.iter().rev() {
        let entry_id = m.shown.entry_id;
        let cmd = ReverseCmd { entry_id, date: c.date.unwrap_or(m.shown.date), reason: c.reason.clone() };
        reverse_in(&mut db_tx, cmd, actor.name).await.map_err(|e| naming(e, entry_id, id))?;
    }
    let before = IMPORTS.row_in(&mut db_tx, RowKey::Id(id)).await?;
    sqlx::query("update imports set reversed_by = $2, reversed_at = $3, reverse_reason = $4 where id = $1")
        .bind(id)
        .bind(actor.name)
        .bind(now())
        .bind(&c.reason)
        .execute(&mut *db_tx)
        .await?;
    IMPORTS.record_in(&mut db_tx, RowKey::Id(id), (actor.name, AuditAction::Reverse, &c.reason), before).await?;
    let record = get_in(&mut db_tx, id).await?;
    idempotency::commit_answer(db_tx, actor.idem, 200, record).await
}

/// A refusal of one entry's reversal, naming the entry: a bad date stays a bad `date`, a
/// wait past its bound stays `Busy`; any other refusal is the import's conflict.
fn naming(e: StoreError, entry_id: i64, import_id: i64) -> StoreError {
    match e {
        StoreError::Invalid { field, message } => {
            StoreError::Invalid { field, message: format!("{message} (entry {entry_id} of import {import_id})") }
        }
        e @ (StoreError::Busy | StoreError::Corrupt(_) | StoreError::Db(_)) => e,
        e => StoreError::Conflict(format!(
            "entry {entry_id} of import {import_id} cannot be reversed: {e}; nothing was reversed"
        )),
    }
}

/// Lower-case hex SHA-256 of a file, as `file_sha256` holds it. (`returns` has the same for
/// filed returns; naming it there would make `verify` reach `returns` through `held`.)
fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `verify`: each import's file against its SHA-256, which its audit records hold.
pub async fn check_files(store: &Store) -> Result<Vec<String>, StoreError> {
    let found = sqlx::query("select id, file, file_sha256 from imports order by id").fetch_all(store.pool()).await?;
    let mut problems = Vec::new();
    for r in &found {
        let bad = |e| rows::corrupt(r, "imports", &["id"], e);
        let id: i64 = r.try_get("id").map_err(bad)?;
        let file: Vec<u8> = r.try_get("file").map_err(bad)?;
        let sha: String = r.try_get("file_sha256").map_err(bad)?;
        if sha256_hex(&file) != sha {
            problems.push(format!("imports {id}: file does not match its file_sha256"));
        }
    }
    Ok(problems)
}
