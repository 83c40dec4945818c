//! What `verify` reads and reports, below `verify` and `chains`, which both use it.

use super::entry_columns::EntryColumns;
use crate::domain::chain::PostingContent;

/// What verify found: `problems` break the ledger's promises; `notes` say what could not
/// be checked (keyed links without the key). Empty problems means the ledger is sound.
#[derive(Debug, Default)]
pub struct Report {
    pub problems: Vec<String>,
    pub notes: Vec<String>,
}

/// One entry row as stored, with its postings in line order.
pub(crate) struct StoredEntry {
    pub id: i64,
    pub kind: String,
    pub date: String,
    pub year: String,
    pub grant: String,
    pub memo: String,
    pub details: String,
    pub created_by: String,
    pub created_at: String,
    pub reverses: Option<i64>,
    pub commitment_id: Option<i64>,
    pub source_ref: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    pub hash_version: i64,
    /// The typed columns, held to `details` by `verify::check_entry_columns`.
    pub columns: EntryColumns,
    pub postings: Vec<PostingContent>,
}
