//! What the exports read out of storage: entries for the journals, spend rows for the
//! Transparency Code file.

use crate::domain::Money;

/// One entry with its postings, as the journal writers need it.
#[derive(Debug, Clone)]
pub struct JournalEntry {
    pub id: i64,
    pub kind: String,
    pub date: String,
    pub memo: String,
    pub reverses: Option<i64>,
    /// A confirmed second invoice: the standing entry it repeats.
    pub duplicate_of: Option<i64>,
    /// (account, signed amount), in line order.
    pub postings: Vec<(String, Money)>,
}

/// One entry's effect on spend: positive for a spend, negative for a refund or a reversal.
#[derive(Debug, Clone)]
pub struct SpendRow {
    pub entry_id: i64,
    pub date: String,
    pub kind: String,
    pub grant: String,
    pub memo: String,
    pub supplier: String,
    /// What the entry charged to `spent`: the net plus any irrecoverable VAT.
    pub amount: Money,
    /// The irrecoverable VAT within `amount`, with its sign; zero when none.
    pub irrecoverable_vat: Money,
}
