//! What storage refuses, in the ledger's words. The HTTP layer maps each to a code of API.md.

use crate::domain::{EntryError, RuleViolation};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Refused for who is asking, beyond their role: e.g. approving one's own virement.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A field whose value the ledger cannot accept, e.g. a closed project.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    #[error("grant {grant} is restricted to priority {restricted_to}; project {project} is under {priority}")]
    RestrictedFund { grant: String, restricted_to: String, project: String, priority: String },
    #[error("financial year {0} is closed")]
    PeriodClosed(String),
    #[error("entry {0} has already been reversed")]
    AlreadyReversed(i64),
    #[error("this Idempotency-Key is in use by a request still being processed")]
    IdempotencyRace,
    #[error("entry could not be built: {0}")]
    Entry(#[from] EntryError),
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

impl StoreError {
    pub fn invalid(field: &str, message: impl Into<String>) -> StoreError {
        StoreError::Invalid { field: field.to_owned(), message: message.into() }
    }
}
