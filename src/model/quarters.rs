//! A quarter's lock state: what the lock and unlock routes answer, what the quarter list
//! shows, and what the dashboard reads. Shared by storage, http and cli.

use serde::Serialize;

use utoipa::ToSchema;

use super::fields::{Fields, FromFields};
use super::wire::Prose;
use crate::domain::FinancialYear;

/// Locking or unlocking a quarter: the year and quarter come from the path.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = QuarterLockBody)]
#[serde(deny_unknown_fields)]
pub struct QuarterLockCmd {
    /// Why: recorded with the quarter's state and in the audit trail.
    #[schema(value_type = Prose)]
    pub reason: String,
}

impl FromFields for QuarterLockCmd {
    fn read(f: &mut Fields) -> Self {
        QuarterLockCmd { reason: f.text("reason") }
    }
}

/// A quarter of a financial year, locked or open. A quarter never locked has no reason,
/// `changed_by` or `changed_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QuarterState {
    pub financial_year: FinancialYear,
    /// 1 is April to June, 4 January to March.
    #[schema(minimum = 1, maximum = 4)]
    pub quarter: u8,
    /// Whether entries dated in the quarter are refused.
    pub locked: bool,
    /// Why it was last locked or unlocked; empty if never.
    pub reason: String,
    /// Who last locked or unlocked it.
    pub changed_by: Option<String>,
    /// When it was last locked or unlocked (RFC 3339, UTC, to the second).
    #[schema(format = DateTime)]
    pub changed_at: Option<String>,
}

/// A year's four quarters, Q1 first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QuarterStates(pub Vec<QuarterState>);
