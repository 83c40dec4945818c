//! Spend import: many lines posted in ONE `db_tx`, all or nothing.
//!
//! Two engines give the same outcome:
//! - `Engine::PerLine` calls `spend_in` / `refund_in` for each line: the reference, with every
//!   check done by the single-spend path itself.
//! - `Engine::Bulk` (the default, in `import_bulk`) applies the same checks in memory, line
//!   by line in file order, on a thread of its own while this task writes the checked entries
//!   in multi-row statements. Tests run both engines on the same files and compare.
//!
//! Either way a line whose `source_ref` is already recorded, or repeats an earlier line of the
//! same file, is skipped as a duplicate. Any rejected line, or a dry run, rolls everything back.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use sqlx::Row;

use super::idempotency;
use super::import_lines::{Checked, PROGRESS_EVERY, award_key, refusal};
use super::operations::{refund_in, source_ref_exists_in, spend_in};
use super::{Backend, DbTx, Store, StoreError};
use crate::domain::FinancialYear;
use crate::model::import::{Engine, ImportLine, ImportOp, ImportOptions, ImportReport, LineError, LineWarning};

/// The most rejected lines listed in a report; the count covers them all.
pub const IMPORT_ERRORS_MAX: usize = 1_000;

/// `source_ref`s per duplicate lookup; they travel as one JSON parameter.
const REFS_PER_QUERY: usize = 10_000;
/// SQLite page cache for a connection that has imported, in KiB.
const SQLITE_CACHE_KIB: i64 = 65_536;

/// Imports `lines` in one `db_tx`. `prior` holds the lines the parser already rejected
/// (they count as rejected; the rest are still checked so every bad line is reported).
/// `progress` is called with the number of lines checked so far.
pub async fn import(
    store: &Store,
    lines: Vec<ImportLine>,
    prior: Vec<LineError>,
    opts: ImportOptions<'_>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<ImportReport, StoreError> {
    let mut db_tx = store.begin().await?;
    let locked = lock_awards(&mut db_tx, &lines).await?;
    if store.backend() == Backend::Sqlite {
        // A file's entries and index pages outgrow SQLite's default 2 MB page cache, which
        // then spills to disk mid-import. The setting stays with this pooled connection.
        sqlx::query(&format!("pragma cache_size = -{SQLITE_CACHE_KIB}")).execute(&mut *db_tx).await?;
    }
    let mut duplicates = 0usize;
    let mut seen: HashSet<String> = HashSet::new();
    let recorded = recorded_source_refs(&mut db_tx, store.backend(), &lines).await?;
    let mut fresh = Vec::with_capacity(lines.len());
    for l in lines {
        match l.op.source_ref() {
            Some(r) if recorded.contains(r) || !seen.insert(r.to_owned()) => duplicates += 1,
            _ => fresh.push(l),
        }
    }
    let mut errors = prior;
    // Lines the parser refused already doom the db_tx: the bulk engine then only checks.
    let write = !opts.dry_run && errors.is_empty();
    let checked = match opts.engine {
        Engine::PerLine => per_line(&mut db_tx, fresh, opts.created_by, progress).await?,
        Engine::Bulk => {
            super::import_bulk::import(&mut db_tx, store.backend(), &locked, fresh, opts.created_by, write, progress)
                .await?
        }
    };
    errors.extend(checked.errors);
    errors.sort_by_key(|e| e.line);
    let rejected = errors.iter().map(|e| e.line).collect::<BTreeSet<_>>().len();
    errors.truncate(IMPORT_ERRORS_MAX);
    let mut report = ImportReport {
        accepted: checked.accepted,
        duplicates,
        rejected,
        errors,
        warnings: checked.warnings,
        dry_run: opts.dry_run,
        posted: false,
    };
    if report.rejected > 0 || opts.dry_run {
        db_tx.rollback().await?;
        return Ok(report);
    }
    report.posted = true;
    idempotency::save_in(&mut db_tx, opts.idem, 200, &report).await?;
    db_tx.commit().await?;
    Ok(report)
}

/// Rule 7: takes the lock of every award the file touches, as the first statements of the
/// `db_tx` (on SQLite a first write takes the database write lock at once, so nothing read
/// after can change) and in a fixed order, so two imports cannot deadlock. Says which exist.
async fn lock_awards(
    db_tx: &mut DbTx,
    lines: &[ImportLine],
) -> Result<BTreeMap<(String, FinancialYear), bool>, StoreError> {
    let keys: BTreeSet<(String, FinancialYear)> = lines.iter().map(|l| award_key(&l.op)).collect();
    let mut locked = BTreeMap::new();
    for (grant, year) in keys {
        let exists = super::entries::lock_award_row(db_tx, &grant, year).await?;
        locked.insert((grant, year), exists);
    }
    Ok(locked)
}

/// The `source_ref`s of `lines` that entries already carry. The refs travel as one JSON
/// array per query, like the bulk inserts below.
async fn recorded_source_refs(
    db_tx: &mut DbTx,
    backend: Backend,
    lines: &[ImportLine],
) -> Result<HashSet<String>, StoreError> {
    let refs: Vec<&str> = lines.iter().filter_map(|l| l.op.source_ref()).collect();
    let sql = match backend {
        Backend::Sqlite => "select source_ref from entries where source_ref in (select value from json_each($1))",
        Backend::Postgres => {
            "select source_ref from entries where source_ref in (select jsonb_array_elements_text($1::text::jsonb))"
        }
    };
    let mut found = HashSet::new();
    for chunk in refs.chunks(REFS_PER_QUERY) {
        let json = serde_json::to_string(chunk).expect("refs serialize");
        for row in sqlx::query(sql).bind(json).fetch_all(&mut **db_tx).await? {
            found.insert(row.try_get::<String, _>("source_ref")?);
        }
    }
    Ok(found)
}

async fn per_line(
    db_tx: &mut DbTx,
    lines: Vec<ImportLine>,
    created_by: &str,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Checked, StoreError> {
    let mut out = Checked { accepted: 0, errors: Vec::new(), warnings: Vec::new() };
    for (i, l) in lines.into_iter().enumerate() {
        if i % PROGRESS_EVERY == 0 {
            progress(i);
        }
        // Duplicates were filtered out above; this re-check guards the unique index, whose
        // violation would abort the whole db_tx on PostgreSQL.
        if let Some(r) = l.op.source_ref()
            && source_ref_exists_in(db_tx, r).await?
        {
            out.errors.push(refusal(l.line, StoreError::Conflict(format!("source_ref {r} is already recorded")))?);
            continue;
        }
        let result = match l.op {
            ImportOp::Spend(c) => spend_in(db_tx, c, created_by).await.map(|r| r.warnings),
            ImportOp::Refund(c) => refund_in(db_tx, c, created_by).await.map(|_| Vec::new()),
        };
        match result {
            Ok(flags) => {
                out.accepted += 1;
                out.warnings.extend(flags.into_iter().map(|flag| LineWarning { line: l.line, flag }));
            }
            Err(e) => out.errors.push(refusal(l.line, e)?),
        }
    }
    Ok(out)
}
