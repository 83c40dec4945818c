//! Types shared by storage, http, cli, csv and reports, below all of them: who is acting,
//! and under which idempotency key; and, one module per area, the commands storage runs and
//! the records it answers. Model names only `domain` (and derive macros); roles, the status
//! enums and the RAG rule live there (`domain::status`, `domain::rag`).

pub mod agreements;
pub mod audit;
pub mod cash;
pub mod controls;
pub mod entries;
pub mod exports;
pub mod fields;
pub mod formats;
pub mod funds;
pub mod import;
pub mod imports;
pub mod known;
pub mod lists;
pub mod monitoring;
pub mod open_data;
pub mod page;
pub mod partnerships;
pub mod postings;
pub mod quarters;
pub mod reference;
pub mod repeated_keys;
pub mod reports;
pub mod returns;
pub mod tokens;
pub mod users;
pub mod wire;

/// A request's claim on an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct IdemKey {
    pub token_id: i64,
    pub key: String,
    /// SHA-256 of method, path, query and body: a reuse with anything else is a conflict.
    pub request_hash: String,
}

/// Who is recording, and under which idempotency key.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub name: &'a str,
    pub idem: Option<&'a IdemKey>,
}
