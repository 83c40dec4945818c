//! Entries recorded while the audit trail says their year was closed or the quarter they are
//! dated in was locked. Both refuse such an entry when it is posted; a year set open in the
//! database, an entry posted, and the year set closed again leaves the year's row as it was,
//! but the entry's `created_at` (hashed in its chain) falls inside the closed span that the
//! chained audit trail records.
//!
//! The spans are sound, so no honest entry is named:
//! - closing a year and locking or unlocking a quarter hold every award lock of the year
//!   before their time is taken, and a posting takes its `created_at` under its award's lock,
//!   so an entry that found the year open or the quarter unlocked was recorded before the
//!   close or the lock (an award being created holds the year's row, which they wait for);
//! - reopening a year or unlocking a quarter commits before a posting can read it open, and
//!   the posting takes its `created_at` after that read.
//!
//! Span times are kept to the second (`audit_log.at`, `quarter_locks.changed_at`), so an entry
//! is named only when recorded in a later second than the close or lock and an earlier one
//! than the reopen or unlock: one slipped in within the same second is not seen.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value;

use super::chains::AuditRow;
use super::held::lay_over;
use super::scanned::StoredEntry;
use crate::domain::{AuditEntity, FinancialYear, parse_date};
use crate::model::known::parse_instant;

/// A time as recorded, and to the second.
type At = (String, DateTime<Utc>);

/// When a year or quarter was closed (as recorded, and to the second), and when it opened
/// again, if it has.
struct Span {
    from: At,
    until: Option<At>,
}

impl Span {
    /// Whether `at` (to the second) falls strictly inside the span.
    fn holds(&self, at: DateTime<Utc>) -> bool {
        self.from.1 < at && self.until.as_ref().is_none_or(|(_, until)| at < *until)
    }
}

/// The closed spans of each key of `entity`: from a key's state after each record, `shut`
/// says whether it was closed and `time` when that took effect.
fn spans(
    audit: &[AuditRow],
    entity: AuditEntity,
    shut: impl Fn(&Value) -> bool,
    time: impl Fn(&AuditRow, &Value) -> String,
) -> HashMap<&str, Vec<Span>> {
    let mut state: HashMap<&str, (Value, Option<At>)> = HashMap::new();
    let mut spans: HashMap<&str, Vec<Span>> = HashMap::new();
    for a in audit.iter().filter(|a| a.entity == entity.as_str()) {
        let (value, closed_from) = state.entry(a.key.as_str()).or_insert((Value::Null, None));
        lay_over(value, a.after.as_deref());
        let text = time(a, value);
        let Some(at) = parse_instant(&text).map(|t| t.trunc_subsecs(0)) else { continue };
        match (shut(value), closed_from.take()) {
            (true, None) => *closed_from = Some((text, at)),
            (true, still) => *closed_from = still,
            (false, Some(from)) => {
                spans.entry(a.key.as_str()).or_default().push(Span { from, until: Some((text, at)) })
            }
            (false, None) => {}
        }
    }
    for (key, (_, closed_from)) in state {
        if let Some(from) = closed_from {
            spans.entry(key).or_default().push(Span { from, until: None });
        }
    }
    spans
}

/// Names every entry recorded inside a span when its year was closed, or when the quarter it
/// is dated in was locked.
pub(crate) fn check(entries: &[StoredEntry], audit: &[AuditRow], problems: &mut Vec<String>) {
    let closed = spans(audit, AuditEntity::FinancialYear, |s| s["status"] == "closed", |a, _| a.at.clone());
    // A lock's own time, taken under the award locks; the record's, if it has none.
    let locked = spans(
        audit,
        AuditEntity::Quarter,
        |s| s["locked"] == true,
        |a, s| s["changed_at"].as_str().unwrap_or(&a.at).to_owned(),
    );
    if closed.is_empty() && locked.is_empty() {
        return;
    }
    for e in entries {
        let Some(at) = parse_instant(&e.created_at).map(|t| t.trunc_subsecs(0)) else {
            problems.push(format!("entry {}: created_at {:?} is not an instant", e.id, e.created_at));
            continue;
        };
        // A date or year that does not parse is named by `verify::check_entries`.
        let (Ok(_), Some(date)) = (FinancialYear::parse(&e.year), parse_date(&e.date)) else { continue };
        let closed_at = |y: &str| closed.get(y).into_iter().flatten().find(|s| s.holds(at));
        // An entry dated outside its award's year is named only when the year of its date
        // was closed too: whichever of the two a posting is refused by, no honest one is named.
        let dated_in = FinancialYear::of(date).to_string();
        if let Some(span) = closed_at(&e.year).filter(|_| dated_in == e.year || closed_at(&dated_in).is_some()) {
            let until = span.until.as_ref().map(|(t, _)| format!(" until {t}")).unwrap_or_default();
            problems.push(format!(
                "entry {}: recorded at {} in {}, which the audit trail says was closed from {}{until}: recorded \
                 while its year was closed",
                e.id, e.created_at, e.year, span.from.0
            ));
        }
        // The quarter of the year the date falls in: for cash dated outside its award's
        // year (rule 9) that is another year's quarter, which its lock refuses as any other.
        let year = FinancialYear::of(date);
        let Some(quarter) = year.quarter_of(date) else { continue };
        let key = format!("{year}/Q{quarter}");
        for span in locked.get(key.as_str()).into_iter().flatten().filter(|s| s.holds(at)) {
            let until =
                span.until.as_ref().map(|(t, _)| format!(", before it was unlocked at {t}")).unwrap_or_default();
            problems.push(format!(
                "entry {}: dated {} in {year} Q{quarter}, locked at {}, but recorded after it, at {}{until}",
                e.id, e.date, span.from.0, e.created_at
            ));
        }
    }
}
