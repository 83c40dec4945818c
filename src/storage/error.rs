//! What storage refuses, in the ledger's words. The HTTP layer maps each to a code of docs/api.md.

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
    /// A refusal on one partnership's side of a fund's change (its share, a reallocation):
    /// answered as `refusal` is, naming the partnership.
    #[error("{partnership}: {refusal}")]
    OfPartnership { partnership: String, refusal: Box<StoreError> },
    /// A field whose value the ledger cannot accept, e.g. a closed project.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    #[error("grant {grant} is restricted to priority {restricted_to}; project {project} is under {priority}")]
    RestrictedFund { grant: String, restricted_to: String, project: String, priority: String },
    #[error("financial year {0} is closed")]
    PeriodClosed(String),
    /// A quarter an admin has locked: no entry may be dated in it (409 `period_closed`).
    #[error("{year} Q{quarter} is locked: no entry may be dated in it; record a correction in an open quarter")]
    QuarterLocked { year: crate::domain::FinancialYear, quarter: u8 },
    #[error("entry {0} has already been reversed")]
    AlreadyReversed(i64),
    /// Partners' evidence is reversed at most once (409 `already_reversed`).
    #[error("evidence {0} has already been reversed")]
    EvidenceReversed(i64),
    /// A spend or refund repeating one recorded and not reversed (409 `duplicate`).
    #[error(
        "this {what} repeats entry {of}, recorded and not reversed, with the same supplier and reference; \
         if it is a second invoice, send it again with \"duplicate_of_entry_ok\": true"
    )]
    Duplicate { of: i64, what: String },
    #[error("this Idempotency-Key is in use by a request still being processed")]
    IdempotencyRace,
    #[error("entry could not be built: {0}")]
    Entry(#[from] EntryError),
    /// The ledger was too busy to take this write in time (a lock wait outlasted its bound,
    /// or PostgreSQL broke a deadlock). Nothing was written; the request may be retried.
    #[error("the ledger is busy with other writes; nothing was recorded, retry shortly")]
    Busy,
    /// A stored value the ledger cannot read (a date, year, amount or status outside its
    /// type), naming table, key and column: written outside the ledger, never by it.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    #[error("database error")]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        match e {
            // A column read outside its type: a bad stored value, named by its column.
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => StoreError::Corrupt(e.to_string()),
            e if is_busy(&e) => StoreError::Busy,
            e => StoreError::Db(e),
        }
    }
}

/// A wait that ran out or a conflict the database resolved by aborting one side: safe to
/// retry, and never a fault of the request. PostgreSQL: deadlock (40P01), serialisation
/// failure (40001), lock not available (55P03). SQLite: BUSY (5) and LOCKED (6) with their
/// extended codes (the low byte is the primary code).
fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            matches!(code.as_ref(), "40P01" | "40001" | "55P03")
                || code.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
        }),
        _ => false,
    }
}

impl StoreError {
    /// `self` as a refusal on `partnership`'s side, where it is a ledger rule or a closed
    /// period; anything else is left as it is.
    pub fn of_partnership(self, partnership: &str) -> StoreError {
        match self {
            StoreError::Rule(_) | StoreError::PeriodClosed(_) | StoreError::QuarterLocked { .. } => {
                StoreError::OfPartnership { partnership: partnership.to_owned(), refusal: Box::new(self) }
            }
            other => other,
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> StoreError {
        StoreError::Invalid { field: field.to_owned(), message: message.into() }
    }
}
