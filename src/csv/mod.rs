//! CSV interchange: reading spend from a council's finance-system export, and writing the
//! ledger out for transparency publishing and for plain-text accounting tools.
//! Inside this module the `csv` crate is spelt `::csv`.

pub mod import;
pub mod journal;
pub mod mapping;
pub mod transparency;

use chrono::NaiveDate;

use crate::model::import::{ImportOptions, ImportReport};
use crate::model::known::Known;
use crate::storage::import as store_import;
use crate::storage::{Store, StoreError, exports, reference};

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
        let rejected = parsed.errors.len();
        return Ok(ImportReport {
            accepted: 0,
            duplicates: 0,
            rejected,
            errors: parsed.errors,
            duplicate_lines: Vec::new(),
            warnings: Vec::new(),
            dry_run: opts.dry_run,
            posted: false,
        });
    }
    store_import::import(store, parsed.lines, parsed.errors, opts, progress).await
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
