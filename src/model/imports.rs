//! Imports kept under an id (docs/interchange.md, "Imports with an id"): the dry run's
//! line-by-line outcome, the import's record with the entries it made, and the command that
//! reverses them all.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::fields::{Fields, FromFields};
use super::import::ImportReport;
use super::wire::{IsoDate, Prose};
use crate::domain::Money;

crate::domain::words::word_set!(
    /// What became of one line of an import file.
    LineOutcome, "line outcome", {
        /// Checked and recorded, or recorded on confirming.
        Accepted => "accepted",
        /// Skipped: it repeats a recorded entry or an earlier line.
        Duplicate => "duplicate",
        /// Refused, for the reason given: while any line is, nothing is recorded.
        Refused => "refused",
    }
);

/// One line of the file and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeLine {
    /// The line of the file (the header is line 1).
    pub line: u64,
    #[serde(deserialize_with = "outcome_word")]
    pub outcome: LineOutcome,
    /// The field a refusal names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Why it was refused, or what it repeats; empty when accepted.
    #[serde(default)]
    pub reason: String,
}

/// Reads a stored outcome's word.
fn outcome_word<'de, D: serde::Deserializer<'de>>(d: D) -> Result<LineOutcome, D::Error> {
    let word = String::deserialize(d)?;
    LineOutcome::parse(&word).ok_or_else(|| serde::de::Error::custom(format!("{word:?} is not a line outcome")))
}

/// A run's outcome, line by line, as stored with the import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Outcome {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    /// Every line of the file in line order; a line refused for several fields once for each.
    pub lines: Vec<OutcomeLine>,
}

impl Outcome {
    /// The lines of a run: `parsed`, the lines the parser read as spend or refunds, are
    /// accepted unless the report refuses or skips them; the lines the parser refused are in
    /// the report's errors. The report lists at most `IMPORT_ERRORS_MAX` of each, as here.
    pub fn of(parsed: &[u64], report: &ImportReport) -> Outcome {
        let mut by_line: BTreeMap<u64, Vec<OutcomeLine>> = BTreeMap::new();
        for e in &report.errors {
            by_line.entry(e.line).or_default().push(OutcomeLine {
                line: e.line,
                outcome: LineOutcome::Refused,
                field: Some(e.field.clone()),
                reason: e.message.clone(),
            });
        }
        for d in &report.duplicate_lines {
            let what = match (d.duplicate_of, d.duplicate_of_line) {
                (Some(id), _) => format!("entry {id}"),
                (None, Some(line)) => format!("line {line}"),
                (None, None) => "a recorded entry".to_owned(),
            };
            let by = if d.by == "source_ref" { "its source_ref" } else { "its invoice" };
            by_line.entry(d.line).or_default().push(OutcomeLine {
                line: d.line,
                outcome: LineOutcome::Duplicate,
                field: None,
                reason: format!("repeats {what} by {by}"),
            });
        }
        let listed: BTreeSet<u64> = by_line.keys().copied().collect();
        for line in parsed.iter().filter(|l| !listed.contains(l)) {
            by_line.entry(*line).or_default().push(OutcomeLine {
                line: *line,
                outcome: LineOutcome::Accepted,
                field: None,
                reason: String::new(),
            });
        }
        Outcome {
            accepted: report.accepted,
            duplicates: report.duplicates,
            rejected: report.rejected,
            lines: by_line.into_values().flatten().collect(),
        }
    }
}

/// One entry an import made, and its reversal once reversed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportedEntry {
    pub entry_id: i64,
    /// `spend` or `refund`.
    pub kind: String,
    #[schema(value_type = IsoDate)]
    pub date: NaiveDate,
    pub project: Option<String>,
    pub supplier: Option<String>,
    /// What it moved on the project's spent account: positive for spend, negative for a refund.
    pub spent: Money,
    /// The entry reversing it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversed_by: Option<i64>,
}

/// An import: the file and layout it was given, its latest run line by line, who confirmed
/// it and who reversed it, and the entries it made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportRecord {
    pub id: i64,
    /// The layout the file is read by.
    pub mapping: String,
    /// SHA-256 of the file, lower-case hex.
    pub file_sha256: String,
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The dry run's outcome until confirmed, then the confirming run's.
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub confirmed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub reversed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverse_reason: Option<String>,
    /// In id order; none until confirmed.
    pub entries: Vec<ImportedEntry>,
}

/// Reverses every entry of an import in one `db_tx`.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = ReverseImportBody)]
#[serde(deny_unknown_fields)]
pub struct ReverseImportCmd {
    /// From the route's path, not the body.
    #[serde(skip)]
    pub import_id: i64,
    /// The reversals' date; each entry's own date when not given. Never before an entry reversed.
    #[schema(value_type = Option<IsoDate>)]
    pub date: Option<NaiveDate>,
    #[schema(value_type = Prose)]
    pub reason: String,
}

impl FromFields for ReverseImportCmd {
    fn read(f: &mut Fields) -> Self {
        let date = f.has_value("date").then(|| f.date("date"));
        ReverseImportCmd { import_id: 0, date, reason: f.text("reason") }
    }
}
