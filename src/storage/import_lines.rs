//! What both import engines share (the parsed lines, their errors and warnings are in
//! `model::import`): what checking found, and how a refusal of the single-line path becomes
//! a line error. Below `import` and `import_bulk`, so neither depends on the other's internals.

use super::StoreError;
use crate::domain::{FinancialYear, RuleViolation};
use crate::model::import::{ImportOp, LineError, LineWarning};

/// Turns a refusal of the single-line path into a line error; database failures stay errors.
pub(super) fn refusal(line: u64, e: StoreError) -> Result<LineError, StoreError> {
    // Rule 8: a line that fits now but breaks an earlier as-at figure is refused for its date.
    let rule_field = |v: &RuleViolation| if v.as_at().is_some() { "date" } else { "amount" };
    let (field, code, message) = match e {
        StoreError::NotFound(what) => ("grant", "validation_failed", format!("no {what}")),
        StoreError::Invalid { field, message } => return Ok(LineError::new(line, &field, message)),
        StoreError::PeriodClosed(_) | StoreError::QuarterLocked { .. } => ("date", "period_closed", e.to_string()),
        StoreError::RestrictedFund { .. } => ("project", "restricted_fund", e.to_string()),
        StoreError::Rule(ref v @ RuleViolation::Overspend { .. }) => (rule_field(v), "overspend", e.to_string()),
        StoreError::Rule(ref v @ RuleViolation::OverAllocation { .. }) => {
            (rule_field(v), "over_allocation", e.to_string())
        }
        StoreError::Rule(ref v @ RuleViolation::BelowZero { .. }) => (rule_field(v), "conflict", e.to_string()),
        StoreError::Entry(crate::domain::EntryError::DateOutsideYear { .. }) => {
            ("date", "validation_failed", e.to_string())
        }
        StoreError::Entry(_) => ("amount", "validation_failed", e.to_string()),
        StoreError::Conflict(_) => ("source_ref", "conflict", e.to_string()),
        StoreError::Duplicate { .. } => ("invoice_ref", "duplicate", e.to_string()),
        other => return Err(other),
    };
    Ok(LineError { line, field: field.to_owned(), code, message })
}

/// What checking the fresh lines found. By the time an engine returns it, the per-line
/// engine has written every accepted line, and the bulk engine has too when it was asked to
/// write and no line was rejected. The caller rolls back unless every line passed.
pub(super) struct Checked {
    pub accepted: usize,
    pub errors: Vec<LineError>,
    pub warnings: Vec<LineWarning>,
}

/// Progress is reported every this many lines, so the callback costs nothing measurable.
pub(super) const PROGRESS_EVERY: usize = 1_000;

/// The award a line posts to: its grant, and the financial year of its date.
pub(super) fn award_key(op: &ImportOp) -> (String, FinancialYear) {
    match op {
        ImportOp::Spend(c) => (c.grant.clone(), FinancialYear::of(c.date)),
        ImportOp::Refund(c) => (c.grant.clone(), FinancialYear::of(c.date)),
    }
}
