//! Spend import: the parsed lines csv builds, the options http and cli pass, and the report
//! storage answers, with its line errors and warnings.

use serde::Serialize;

use super::IdemKey;
use super::postings::{RefundCmd, SpendCmd};
use crate::domain::OverspendFlag;

/// One line of an import file, already parsed: a spend, or a refund for a negative amount.
#[derive(Debug)]
pub enum ImportOp {
    Spend(SpendCmd),
    Refund(RefundCmd),
}

impl ImportOp {
    pub(crate) fn source_ref(&self) -> Option<&str> {
        match self {
            ImportOp::Spend(c) => c.source_ref.as_deref(),
            ImportOp::Refund(c) => c.source_ref.as_deref(),
        }
    }
}

#[derive(Debug)]
pub struct ImportLine {
    /// The line of the file the record starts on (the header is line 1).
    pub line: u64,
    pub op: ImportOp,
    /// The reference of the commitment a spend line draws on, where the file names it so
    /// rather than by id; storage finds the one commitment carrying it.
    pub commitment_reference: Option<String>,
}

/// Why one line was refused. `code` is the API code the single-line operation would answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineError {
    pub line: u64,
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl LineError {
    pub fn new(line: u64, field: &str, message: impl Into<String>) -> LineError {
        LineError { line, field: field.to_owned(), code: "validation_failed", message: message.into() }
    }
}

/// A line that posts, or would post, past a project's budget under a `warn` grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineWarning {
    pub line: u64,
    #[serde(flatten)]
    pub flag: OverspendFlag,
}

/// A line skipped as a duplicate, and what it repeats: a recorded entry, or an earlier line
/// of the same file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DuplicateLine {
    pub line: u64,
    /// `source_ref`: its `source_ref` is recorded already, or on an earlier line. `invoice`:
    /// it repeats a standing spend or refund (same grant, project, supplier, invoice
    /// reference, amount and date), or an earlier line.
    pub by: &'static str,
    /// The recorded entry it repeats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<i64>,
    /// The earlier line of this file it repeats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of_line: Option<u64>,
}

/// What an import did, or what it would do (dry run). `errors` and `duplicate_lines` each
/// list at most `IMPORT_ERRORS_MAX` lines; `rejected` and `duplicates` count every one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    pub errors: Vec<LineError>,
    /// Each line counted in `duplicates`, with what it repeats.
    pub duplicate_lines: Vec<DuplicateLine>,
    pub warnings: Vec<LineWarning>,
    pub dry_run: bool,
    /// True only when the accepted lines were written and committed.
    pub posted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    PerLine,
    Bulk,
}

pub struct ImportOptions<'a> {
    pub dry_run: bool,
    pub created_by: &'a str,
    pub idem: Option<&'a IdemKey>,
    pub engine: Engine,
}
