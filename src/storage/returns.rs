//! Filed returns: stored byte for byte with the ledger position they were generated at.
//! Filing is two steps around the generation, which lives above storage (in `reports`):
//! `begin_filing` takes the position, the caller generates the file at that position, and
//! `finish_filing` stores it, audits it and commits.

use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::entries::hold_year_awards_in;
use super::known::Cut;
use super::{DbTx, Page, RowLock, Store, StoreError, audit, idempotency, rows};
use crate::domain::anchor::{self, Anchor};
use crate::domain::status::ReturnKind;
use crate::domain::{AuditAction, AuditEntity, FinancialYear};
use crate::model::Actor;
use crate::model::known::{Known, Position};
use crate::model::lists::ReturnFilter;
use crate::model::returns::{FiledReturn, LaterEntry, NewReturn};

/// A filing under way: its `db_tx` and the position it is generated at.
pub struct Filing {
    db_tx: DbTx,
    pub position: Position,
}

/// Opens a filing for `year`: holds every award of the year shared (PostgreSQL; a SQLite
/// write `db_tx` holds the database), in (grant, year) order as every writer takes them,
/// then reads the position and its time. A writer of the year that committed before is in
/// the position; one that commits after waits for the filing and records a later time, so
/// the return regenerated `as_known_at` the filing time is the file.
pub async fn begin_filing(store: &Store, year: FinancialYear) -> Result<Filing, StoreError> {
    let mut db_tx = store.begin().await?;
    let known = sqlx::query("select code from financial_years where code = $1")
        .bind(year.to_string())
        .fetch_optional(&mut *db_tx)
        .await?;
    if known.is_none() {
        return Err(StoreError::NotFound(format!("financial year {year}")));
    }
    hold_year_awards_in(&mut db_tx, year, RowLock::Share).await?;
    let anchors = super::anchors::current_in(&mut db_tx).await?;
    Ok(Filing { db_tx, position: Position { anchors, at: chrono::Utc::now() } })
}

/// Stores the generated file with its position, records the filing in the audit trail
/// (whose chain then vouches for the file's hash), and commits.
pub async fn finish_filing(filing: Filing, new: NewReturn, actor: Actor<'_>) -> Result<FiledReturn, StoreError> {
    let Filing { mut db_tx, position } = filing;
    let sha256 = sha256_hex(&new.body);
    let filed_at = crate::model::known::instant_text(position.at);
    let anchors: String = position.anchors.iter().map(|a| format!("{a}\n")).collect();
    let id: i64 = sqlx::query(
        "insert into filed_returns (kind, financial_year, quarter, filed_at, filed_by, file_name, content_type,
                                    body, sha256, anchors)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id",
    )
    .bind(new.kind.as_str())
    .bind(new.year.to_string())
    .bind(i64::from(new.quarter))
    .bind(&filed_at)
    .bind(actor.name)
    .bind(&new.file_name)
    .bind(&new.content_type)
    .bind(new.body.clone())
    .bind(&sha256)
    .bind(&anchors)
    .fetch_one(&mut *db_tx)
    .await?
    .try_get("id")?;
    let record = FiledReturn {
        id,
        kind: new.kind,
        financial_year: new.year,
        quarter: new.quarter,
        filed_at,
        filed_by: actor.name.to_owned(),
        sha256,
        bytes: new.body.len() as i64,
        file_name: new.file_name,
        position: anchors.lines().map(str::to_owned).collect(),
    };
    audit::record_in(
        &mut db_tx,
        audit::Change {
            actor: actor.name,
            action: AuditAction::File,
            entity: AuditEntity::Return,
            key: &id.to_string(),
            before: None,
            after: audit::json(&record),
            reason: "",
        },
    )
    .await?;
    idempotency::commit_answer(db_tx, actor.idem, 201, record).await
}

const COLUMNS: &str = "id, kind, financial_year, quarter, filed_at, filed_by, file_name, sha256, anchors, \
                       cast(length(body) as bigint) as bytes";

fn record_from(r: &AnyRow) -> Result<FiledReturn, StoreError> {
    let at = ("filed_returns", &["id"][..]);
    let anchors: String = r.try_get("anchors")?;
    let quarter: i64 = r.try_get("quarter")?;
    Ok(FiledReturn {
        id: r.try_get("id")?,
        kind: rows::parsed(r, at, "kind", |t| ReturnKind::try_from(t.to_owned()))?,
        financial_year: rows::year(r, at, "financial_year")?,
        quarter: u8::try_from(quarter)
            .ok()
            .filter(|q| (1..=4).contains(q))
            .ok_or_else(|| rows::named(r, at.0, at.1, "quarter", "is not 1 to 4"))?,
        filed_at: r.try_get("filed_at")?,
        filed_by: r.try_get("filed_by")?,
        sha256: r.try_get("sha256")?,
        bytes: r.try_get("bytes")?,
        file_name: r.try_get("file_name")?,
        position: anchors.lines().map(str::to_owned).collect(),
    })
}

/// Filed returns, newest first, optionally of one kind and year.
pub async fn list(
    store: &Store,
    kind: Option<ReturnKind>,
    year: Option<FinancialYear>,
    after: i64,
    limit: i64,
) -> Result<Page<FiledReturn>, StoreError> {
    let filter = ReturnFilter { kind, financial_year: year, ..ReturnFilter::default() };
    search(store, &filter, after, limit).await
}

/// The filed returns `f` finds, newest first, a page after (below) `after`.
pub async fn search(store: &Store, f: &ReturnFilter, after: i64, limit: i64) -> Result<Page<FiledReturn>, StoreError> {
    let mut w = super::search::Where::default();
    if after > 0 {
        let p = w.int(after);
        w.and(format!("id < {p}"));
    }
    if let Some(k) = f.kind {
        w.and(format!("kind = {}", k.sql()));
    }
    w.compare("financial_year", "=", f.financial_year);
    // `filed_at` is UTC RFC 3339: its first ten characters are its date.
    w.compare("substr(filed_at, 1, 10)", ">=", f.from);
    w.compare("substr(filed_at, 1, 10)", "<=", f.to);
    let limit_p = w.int(limit + 1);
    let sql = format!("select {COLUMNS} from filed_returns where {} order by id desc limit {limit_p}", w.sql());
    let found = w.bind(sqlx::query(&sql)).fetch_all(store.pool()).await?;
    let items = found.iter().map(record_from).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, limit, crate::model::page::List::Returns, |r| r.id.to_string()))
}

pub async fn get(store: &Store, id: i64) -> Result<FiledReturn, StoreError> {
    let sql = format!("select {COLUMNS} from filed_returns where id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(store.pool()).await?;
    row.as_ref().map(record_from).transpose()?.ok_or_else(|| StoreError::NotFound(format!("filed return {id}")))
}

/// The stored file: its content type and its bytes, unchanged.
pub async fn file(store: &Store, id: i64) -> Result<(FiledReturn, String, Vec<u8>), StoreError> {
    let record = get(store, id).await?;
    let row = sqlx::query("select content_type, body from filed_returns where id = $1")
        .bind(id)
        .fetch_one(store.pool())
        .await?;
    Ok((record, row.try_get("content_type")?, row.try_get("body")?))
}

/// The position a return was filed at, read back from its anchor lines.
pub fn position_of(record: &FiledReturn) -> Result<Position, StoreError> {
    let anchors = anchor::parse(&record.position.join("\n"))
        .map_err(|e| StoreError::Corrupt(format!("filed_returns (id {}) column anchors: {e}", record.id)))?;
    let at = crate::model::known::parse_instant(&record.filed_at).ok_or_else(|| {
        StoreError::Corrupt(format!("filed_returns (id {}) column filed_at: is not an RFC 3339 instant", record.id))
    })?;
    Ok(Position { anchors, at })
}

/// Entries of `year` dated on or before `to` that the position does not hold: recorded
/// after the filing, in id order.
pub async fn entries_since(
    store: &Store,
    position: &Position,
    year: FinancialYear,
    to: chrono::NaiveDate,
) -> Result<Vec<LaterEntry>, StoreError> {
    let cut = Cut::of(&Known::Position(position.clone()), "e", 3);
    let sql = format!(
        "select e.id, e.kind, e.entry_date, e.financial_year, e.grant_code, e.memo, e.created_by, e.created_at,
                e.reverses
         from entries e
         where e.financial_year = $1 and e.entry_date <= $2 and not {}
         order by e.id",
        cut.sql
    );
    let found = cut.bind(sqlx::query(&sql).bind(year.to_string()).bind(to.to_string())).fetch_all(store.pool()).await?;
    rows::read_all(&found, "entries", &["id"])
}

/// One filed return as `verify` reads it: the record, the bytes, and what the audit trail
/// recorded of it when it was filed.
pub struct Stored {
    pub record: FiledReturn,
    pub body: Vec<u8>,
    /// The audit record of the filing, as JSON; `None` if there is none.
    pub audited: Option<serde_json::Value>,
}

/// Every filed return, oldest first, with its bytes and its audit record; and the ids the
/// audit trail says were filed, so a return removed outside the ledger is named.
pub async fn all_stored(store: &Store) -> Result<(Vec<Stored>, Vec<i64>), StoreError> {
    let mut db_tx = store.begin_read().await?;
    let sql = format!("select {COLUMNS}, body from filed_returns order by id");
    let found = sqlx::query(&sql).fetch_all(&mut *db_tx).await?;
    let audits_sql = format!(
        "select entity_key, after_json from audit_log where entity = {} and action = {}",
        AuditEntity::Return.sql(),
        AuditAction::File.sql()
    );
    let audits = sqlx::query(&audits_sql).fetch_all(&mut *db_tx).await?;
    db_tx.rollback().await?;
    let mut audited = std::collections::BTreeMap::new();
    for a in &audits {
        let key: String = a.try_get("entity_key")?;
        let json: Option<String> = a.try_get("after_json")?;
        if let (Ok(id), Some(json)) = (key.parse::<i64>(), json) {
            audited.insert(id, serde_json::from_str::<serde_json::Value>(&json).unwrap_or(serde_json::Value::Null));
        }
    }
    let audited_ids: Vec<i64> = audited.keys().copied().collect();
    let mut out = Vec::new();
    for r in &found {
        let record = record_from(r)?;
        let body: Vec<u8> = r.try_get("body")?;
        let audit = audited.remove(&record.id);
        out.push(Stored { record, body, audited: audit });
    }
    Ok((out, audited_ids))
}

/// The SHA-256 of bytes, as stored.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Anchors of a position that are awards' (for `verify`'s held-chain check).
pub fn award_anchors(position: &Position) -> impl Iterator<Item = &Anchor> {
    position.anchors.iter().filter(|a| matches!(a, Anchor::Award { .. }))
}
