//! CSV interchange: reading spend from a council's finance-system export, and writing the
//! ledger out for transparency publishing and for plain-text accounting tools.
//! Inside this module the `csv` crate is spelt `::csv`.

pub mod import;
pub mod journal;
pub mod mapping;
pub mod transparency;

use chrono::NaiveDate;

use crate::model::Actor;
use crate::model::import::{Engine, ImportOptions, ImportReport};
use crate::model::imports::{ImportRecord, Outcome};
use crate::model::known::Known;
use crate::storage::import as store_import;
use crate::storage::{Store, StoreError, exports, imports as kept, reference};

/// Parses `bytes` with `mapping` and imports the lines in one `db_tx`. A file that cannot
/// be read line by line (encoding, header, quoting, size) never reaches the database.
pub async fn import_spend(
    store: &Store,
    bytes: &[u8],
    mapping: &mapping::Mapping,
    opts: ImportOptions<'_>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<ImportReport, StoreError> {
    let parsed = import::parse(bytes, mapping);
    if parsed.unreadable {
        return Ok(unreadable_report(parsed, opts.dry_run));
    }
    store_import::import(store, parsed.lines, parsed.errors, opts, progress).await
}

/// The report of a file that cannot be read line by line: its file-level refusal.
fn unreadable_report(parsed: import::Parsed, dry_run: bool) -> ImportReport {
    ImportReport {
        accepted: 0,
        duplicates: 0,
        rejected: parsed.errors.len(),
        errors: parsed.errors,
        duplicate_lines: Vec::new(),
        warnings: Vec::new(),
        dry_run,
        posted: false,
    }
}

/// The dry run of an upload, kept under a new import id with the file, its layout and its
/// outcome line by line (docs/interchange.md, "Imports with an id"). Nothing is posted. A file
/// that cannot be read line by line (encoding, header) is refused and not kept.
pub async fn dry_run_kept(
    store: &Store,
    bytes: &[u8],
    preset: mapping::Preset,
    actor: Actor<'_>,
) -> Result<Ran, StoreError> {
    let parsed = import::parse(bytes, &preset.mapping());
    if parsed.unreadable {
        return Ok(Ran::Refused(Outcome::of(&[], &unreadable_report(parsed, true))));
    }
    let lines: Vec<u64> = parsed.lines.iter().map(|l| l.line).collect();
    let opts = ImportOptions { dry_run: true, created_by: actor.name, idem: None, engine: Engine::Bulk };
    let report = store_import::import(store, parsed.lines, parsed.errors, opts, &|_| {}).await?;
    let record = kept::record(store, preset.as_str(), bytes, &Outcome::of(&lines, &report), actor).await?;
    Ok(Ran::Kept(Box::new(record)))
}

/// What keeping or confirming an import did.
pub enum Ran {
    /// Kept (a dry run), or its entries recorded (a confirm): the import as it now stands.
    Kept(Box<ImportRecord>),
    /// Refused, nothing kept or recorded, and why, line by line: a file that cannot be read,
    /// or on confirming a line refused now (the ledger moved since the dry run).
    Refused(Outcome),
}

/// Runs a kept import again on its stored bytes, in one `db_tx`, recording its entries with
/// the import's id; refused when it is confirmed already.
pub async fn confirm_kept(store: &Store, id: i64, created_by: &str) -> Result<Ran, StoreError> {
    let stored = kept::file(store, id).await?;
    let preset = mapping::Preset::parse(&stored.mapping)
        .ok_or_else(|| StoreError::Corrupt(format!("imports {id}: mapping {:?} is not a layout", stored.mapping)))?;
    let parsed = import::parse(&stored.file, &preset.mapping());
    if parsed.unreadable {
        return Ok(Ran::Refused(Outcome::of(&[], &unreadable_report(parsed, false))));
    }
    let lines: Vec<u64> = parsed.lines.iter().map(|l| l.line).collect();
    // The stored answer of a retry would be this report rather than the import: a confirm
    // takes no Idempotency-Key, and a second one is refused as confirmed already.
    let opts = ImportOptions { dry_run: false, created_by, idem: None, engine: Engine::Bulk };
    let report = store_import::confirm(store, parsed.lines, parsed.errors, opts, id).await?;
    if report.posted {
        Ok(Ran::Kept(Box::new(kept::get(store, id).await?)))
    } else {
        Ok(Ran::Refused(Outcome::of(&lines, &report)))
    }
}

/// The partnership's name, as returns and exports carry it.
async fn partnership(store: &Store) -> Result<String, StoreError> {
    Ok(reference::setting(store, "partnership").await?.unwrap_or_else(|| "grant-ledger".to_owned()))
}

pub async fn export_journal(store: &Store, format: journal::Format, known: &Known) -> Result<String, StoreError> {
    let (entries, balances, anchors) = exports::journal_anchored(store, known).await?;
    let title = format!("{}: grant ledger", partnership(store).await?);
    Ok(journal::write(format, &title, &entries, &balances, &anchors))
}

pub async fn export_transparency(
    store: &Store,
    from: NaiveDate,
    to: NaiveDate,
    known: &Known,
) -> Result<String, StoreError> {
    let mut rows = exports::spend_rows(store, from, to, known).await?;
    // A duplicate posted by mistake and reversed was never a payment: neither is published.
    let accidental = crate::storage::duplicates::reversed_repeats(store, known).await?;
    rows.retain(|r| !accidental.contains(&r.entry_id));
    Ok(transparency::write(&partnership(store).await?, &rows))
}
