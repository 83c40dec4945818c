//! Spend import: many lines posted in ONE `db_tx`, all or nothing.
//!
//! Two engines give the same outcome:
//! - `Engine::PerLine` calls `spend_in` / `refund_in` for each line: the reference, with every
//!   check done by the single-spend path itself.
//! - `Engine::Bulk` (the default, in `import_bulk`) applies the same checks in memory, line
//!   by line in file order, on a thread of its own while this task writes the checked entries
//!   in multi-row statements. Tests run both engines on the same files and compare.
//!
//! Either way a line is skipped as a duplicate, before either engine sees it, when its
//! `source_ref` is already recorded or on an earlier line of the same file, or when it
//! repeats a standing spend or refund (`duplicates`) or an earlier line as an invoice. Any
//! rejected line, or a dry run, rolls everything back.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};

use sqlx::Row;

use super::duplicates::InvoiceKey;
use super::idempotency;
use super::import_lines::{Checked, PROGRESS_EVERY, award_key, refusal};
use super::operations::{refund_in, spend_in};
use super::{Backend, DbTx, Store, StoreError};
use crate::domain::FinancialYear;
use crate::model::import::{
    DuplicateLine, Engine, ImportLine, ImportOp, ImportOptions, ImportReport, LineError, LineWarning,
};
use crate::model::imports::Outcome;

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
    import_run(store, lines, prior, opts, None, progress).await
}

/// Confirms the import `import_id` kept since its dry run (`imports`): `import` with every
/// entry naming it, and the import marked confirmed with this run's outcome, in the same
/// `db_tx`. A second confirm is refused.
pub async fn confirm(
    store: &Store,
    lines: Vec<ImportLine>,
    prior: Vec<LineError>,
    opts: ImportOptions<'_>,
    import_id: i64,
) -> Result<ImportReport, StoreError> {
    import_run(store, lines, prior, opts, Some(import_id), &|_| {}).await
}

async fn import_run(
    store: &Store,
    lines: Vec<ImportLine>,
    prior: Vec<LineError>,
    opts: ImportOptions<'_>,
    import_id: Option<i64>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<ImportReport, StoreError> {
    let mut db_tx = store.begin().await?;
    // The import's row first: of two confirms at once, the second waits here and then finds
    // it confirmed. Nothing else takes an import's row and then an award's.
    if let Some(id) = import_id {
        super::imports::claim_in(&mut db_tx, id).await?;
    }
    let parsed: Vec<u64> = lines.iter().map(|l| l.line).collect();
    let locked = lock_awards(&mut db_tx, &lines).await?;
    if store.backend() == Backend::Sqlite {
        // A file's entries and index pages outgrow SQLite's default 2 MB page cache, which
        // then spills to disk mid-import. The setting stays with this pooled connection.
        sqlx::query(&format!("pragma cache_size = -{SQLITE_CACHE_KIB}")).execute(&mut *db_tx).await?;
    }
    let (fresh, mut duplicate_lines) = without_duplicates(&mut db_tx, store.backend(), lines).await?;
    let duplicates = duplicate_lines.len();
    duplicate_lines.truncate(IMPORT_ERRORS_MAX);
    let mut errors = prior;
    let (fresh, by_reference) = with_commitments(&mut db_tx, store.backend(), fresh, &mut errors).await?;
    // Lines the parser refused already doom the db_tx: the bulk engine then only checks.
    let write = !opts.dry_run && errors.is_empty();
    // The bulk engine writes the import id into each entry; a confirm always runs it.
    let engine = if import_id.is_some() { Engine::Bulk } else { opts.engine };
    let checked = match engine {
        Engine::PerLine => per_line(&mut db_tx, fresh, opts.created_by, progress).await?,
        Engine::Bulk => {
            let who = (opts.created_by, import_id);
            super::import_bulk::import(&mut db_tx, store.backend(), &locked, fresh, who, write, progress).await?
        }
    };
    // A line naming its commitment by reference is told about that column.
    errors.extend(checked.errors.into_iter().map(|mut e| {
        if e.field == "commitment_id" && by_reference.contains(&e.line) {
            e.field = "commitment_reference".to_owned();
        }
        e
    }));
    errors.sort_by_key(|e| e.line);
    let rejected = errors.iter().map(|e| e.line).collect::<BTreeSet<_>>().len();
    errors.truncate(IMPORT_ERRORS_MAX);
    let mut report = ImportReport {
        accepted: checked.accepted,
        duplicates,
        rejected,
        errors,
        duplicate_lines,
        warnings: checked.warnings,
        dry_run: opts.dry_run,
        posted: false,
    };
    if report.rejected > 0 || opts.dry_run {
        db_tx.rollback().await?;
        return Ok(report);
    }
    report.posted = true;
    if let Some(id) = import_id {
        super::imports::confirmed_in(&mut db_tx, id, opts.created_by, &Outcome::of(&parsed, &report)).await?;
    }
    idempotency::commit_answer(db_tx, opts.idem, 200, report).await
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

/// Splits `lines` into those to check and those skipped as duplicates, in file order: a
/// `source_ref` recorded or seen on an earlier line, then an invoice repeating a standing
/// entry or an earlier line kept. The callers hold every award lock of the file, so what is
/// standing cannot change before the lines are written.
async fn without_duplicates(
    db_tx: &mut DbTx,
    backend: Backend,
    lines: Vec<ImportLine>,
) -> Result<(Vec<ImportLine>, Vec<DuplicateLine>), StoreError> {
    let recorded = recorded_source_refs(db_tx, backend, &lines).await?;
    let mut skipped = Vec::new();
    let mut refs_seen: HashMap<String, u64> = HashMap::new();
    let mut fresh = Vec::with_capacity(lines.len());
    for l in lines {
        let Some(r) = l.op.source_ref() else {
            fresh.push(l);
            continue;
        };
        let (duplicate_of, duplicate_of_line) = match (recorded.get(r), refs_seen.get(r)) {
            (Some(id), _) => (Some(*id), None),
            (None, Some(line)) => (None, Some(*line)),
            (None, None) => {
                refs_seen.insert(r.to_owned(), l.line);
                fresh.push(l);
                continue;
            }
        };
        skipped.push(DuplicateLine { line: l.line, by: "source_ref", duplicate_of, duplicate_of_line });
    }
    let standing =
        super::duplicates::recorded_in(db_tx, backend, fresh.iter().map(|l| InvoiceKey::of_line(&l.op))).await?;
    // Lines kept so far, by a hash of their key; equal hashes are compared in full.
    let mut kept_by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut kept: Vec<ImportLine> = Vec::with_capacity(fresh.len());
    for l in fresh {
        let key = InvoiceKey::of_line(&l.op);
        if let Some(id) = standing.get(&key) {
            skipped.push(DuplicateLine {
                line: l.line,
                by: "invoice",
                duplicate_of: Some(*id),
                duplicate_of_line: None,
            });
            continue;
        }
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let bucket = kept_by_hash.entry(hasher.finish()).or_default();
        if let Some(earlier) = bucket.iter().find(|i| InvoiceKey::of_line(&kept[**i].op) == key) {
            let line = Some(kept[*earlier].line);
            skipped.push(DuplicateLine { line: l.line, by: "invoice", duplicate_of: None, duplicate_of_line: line });
            continue;
        }
        bucket.push(kept.len());
        kept.push(l);
    }
    skipped.sort_by_key(|d| d.line);
    Ok((kept, skipped))
}

/// Gives each line naming its commitment by reference the id of the one commitment carrying
/// that reference, as `POST /spend` takes it, and answers which lines those were. A
/// reference no commitment carries, or more than one does, refuses the line naming
/// `commitment_reference`.
async fn with_commitments(
    db_tx: &mut DbTx,
    backend: Backend,
    lines: Vec<ImportLine>,
    errors: &mut Vec<LineError>,
) -> Result<(Vec<ImportLine>, BTreeSet<u64>), StoreError> {
    let refs: BTreeSet<&str> = lines.iter().filter_map(|l| l.commitment_reference.as_deref()).collect();
    let by_reference = lines.iter().filter(|l| l.commitment_reference.is_some()).map(|l| l.line).collect();
    if refs.is_empty() {
        return Ok((lines, by_reference));
    }
    let sql = match backend {
        Backend::Sqlite => {
            "select id, reference from commitments where reference in (select value from json_each($1)) order by id"
        }
        Backend::Postgres => {
            "select id, reference from commitments
             where reference in (select jsonb_array_elements_text($1::text::jsonb)) order by id"
        }
    };
    let mut ids: HashMap<String, Vec<i64>> = HashMap::new();
    let refs: Vec<&str> = refs.into_iter().collect();
    for chunk in refs.chunks(REFS_PER_QUERY) {
        let json = serde_json::to_string(chunk).expect("refs serialize");
        for row in sqlx::query(sql).bind(json).fetch_all(&mut **db_tx).await? {
            ids.entry(row.try_get("reference")?).or_default().push(row.try_get("id")?);
        }
    }
    let mut kept = Vec::with_capacity(lines.len());
    for mut l in lines {
        let (Some(reference), ImportOp::Spend(c)) = (&l.commitment_reference, &mut l.op) else {
            kept.push(l);
            continue;
        };
        match ids.get(reference).map(Vec::as_slice).unwrap_or_default() {
            [id] => {
                c.commitment_id = Some(*id);
                kept.push(l);
            }
            [] => errors.push(LineError::new(
                l.line,
                "commitment_reference",
                format!("no commitment has the reference {reference:?}"),
            )),
            many => errors.push(LineError::new(
                l.line,
                "commitment_reference",
                format!(
                    "{} commitments have the reference {reference:?} (ids {}): name one by commitment_id",
                    many.len(),
                    many.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }
    Ok((kept, by_reference))
}

/// The `source_ref`s of `lines` that entries already carry, with the entry carrying each.
/// The refs travel as one JSON array per query, like the bulk inserts below.
async fn recorded_source_refs(
    db_tx: &mut DbTx,
    backend: Backend,
    lines: &[ImportLine],
) -> Result<HashMap<String, i64>, StoreError> {
    let refs: Vec<&str> = lines.iter().filter_map(|l| l.op.source_ref()).collect();
    let sql = match backend {
        Backend::Sqlite => "select id, source_ref from entries where source_ref in (select value from json_each($1))",
        Backend::Postgres => {
            "select id, source_ref from entries where source_ref in (select jsonb_array_elements_text($1::text::jsonb))"
        }
    };
    let mut found = HashMap::new();
    for chunk in refs.chunks(REFS_PER_QUERY) {
        let json = serde_json::to_string(chunk).expect("refs serialize");
        for row in sqlx::query(sql).bind(json).fetch_all(&mut **db_tx).await? {
            found.insert(row.try_get::<String, _>("source_ref")?, row.try_get("id")?);
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
        // Duplicates were filtered out above. `spend_in` and `refund_in` check the source_ref
        // again before writing, which guards the unique index, whose violation would abort
        // the whole db_tx on PostgreSQL.
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
