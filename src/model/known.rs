//! Which entries a figure counts, by when the ledger learned of them: everything recorded
//! so far, what was recorded by an instant (`as_known_at`), or what a filed return's ledger
//! position held. It combines with `as_at`, which cuts by entry date.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::domain::anchor::Anchor;

/// The entries a report counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Known {
    /// Every entry recorded so far.
    #[default]
    Now,
    /// Entries recorded at or before this instant (`as_known_at`); later ones, reversals
    /// included, are left out.
    At(DateTime<Utc>),
    /// A filed return's ledger position.
    Position(Position),
}

/// A ledger position: for each award, its entries up to its newest then (its chain head).
/// An award's entries take ids in the order they commit (each is written under the award's
/// lock), so "id ≤ newest" is exactly what had committed, on either backend. Records that
/// are not entries (forecasts, indicator returns) count by `at`, the instant it was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub anchors: Vec<Anchor>,
    pub at: DateTime<Utc>,
}

impl Known {
    /// `--as-known-at` as the CLI takes it: absent is now.
    pub fn from_arg(arg: Option<&str>) -> Result<Known, String> {
        match arg {
            None => Ok(Known::Now),
            Some(text) => parse_instant(text).map(Known::At).ok_or_else(|| {
                format!(
                    "--as-known-at must be an RFC 3339 instant with its offset, e.g. 2024-01-10T09:30:00Z, not {text:?}"
                )
            }),
        }
    }

    /// The instant records other than entries are cut at: `as_known_at`, or a position's
    /// time; `None` for everything.
    pub fn instant(&self) -> Option<DateTime<Utc>> {
        match self {
            Known::Now => None,
            Known::At(t) => Some(*t),
            Known::Position(p) => Some(p.at),
        }
    }

    /// The instant `as_known_at` names, as the report shows it.
    pub fn label(&self) -> Option<String> {
        match self {
            Known::At(t) => Some(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            _ => None,
        }
    }
}

/// How entries' `created_at` is written from now on: UTC to the microsecond, fixed width,
/// so it sorts as text, and two records a moment apart are never the same instant.
pub fn instant_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses an `as_known_at` value: an RFC 3339 instant with its offset.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_sort_as_text_at_fixed_width() {
        let a = parse_instant("2024-01-10T09:00:00Z").unwrap();
        let b = parse_instant("2024-01-10T09:00:00.000001Z").unwrap();
        assert_eq!(instant_text(a), "2024-01-10T09:00:00.000000Z");
        assert!(instant_text(a) < instant_text(b));
        assert_eq!(parse_instant("2024-01-10T10:00:00+01:00"), Some(a));
        assert_eq!(parse_instant("2024-01-10"), None);
        assert_eq!(parse_instant("2024-01-10T09:00:00"), None, "an instant needs its offset");
    }
}
