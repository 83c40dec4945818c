//! Pagination of every list: a page, its cursor, and the bounds of `limit`.
//!
//! A cursor is the key of the last row shown, in hex, then `.` and a check: the first eight
//! bytes of SHA-256 over the list's name and that key. A cursor this server did not give out
//! (`30`, `00`, a key edited by hand) fails the check, and so does one given out by another
//! list, so neither silently restarts a list at its first page. The check is not a secret:
//! a cursor is a position, not a permission, and every row it could name is one the caller
//! may read anyway; what it prevents is a mistyped or foreign cursor being taken for a start.

use sha2::{Digest, Sha256};

/// A page of a list, and the cursor for the next. Its schema is declared per item type
/// (`http::openapi`, `EntryPage` …), so each item is one named component.
#[derive(Debug, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The most rows one page may hold.
pub const PAGE_LIMIT_MAX: i64 = 500;
pub const PAGE_LIMIT_DEFAULT: i64 = 50;

/// Each list that pages. A cursor carries its list, so one list refuses another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Entries,
    Accounts,
    Commitments,
    Virements,
    Audit,
    Tokens,
    Returns,
    FinancialYears,
    Funders,
    Priorities,
    Grants,
    Awards,
    Projects,
    Organisations,
}

impl List {
    pub const ALL: [List; 14] = [
        List::Entries,
        List::Accounts,
        List::Commitments,
        List::Virements,
        List::Audit,
        List::Tokens,
        List::Returns,
        List::FinancialYears,
        List::Funders,
        List::Priorities,
        List::Grants,
        List::Awards,
        List::Projects,
        List::Organisations,
    ];

    fn name(self) -> &'static str {
        match self {
            List::Entries => "entries",
            List::Accounts => "accounts",
            List::Commitments => "commitments",
            List::Virements => "virements",
            List::Audit => "audit",
            List::Tokens => "tokens",
            List::Returns => "returns",
            List::FinancialYears => "financial-years",
            List::Funders => "funders",
            List::Priorities => "priorities",
            List::Grants => "grants",
            List::Awards => "awards",
            List::Projects => "projects",
            List::Organisations => "organisations",
        }
    }

    /// Lists whose rows are keyed by a numeric id; the others by a code, a year or an account.
    fn by_id(self) -> bool {
        matches!(self, List::Entries | List::Commitments | List::Virements | List::Audit | List::Tokens | List::Returns)
    }
}

impl<T> Page<T> {
    /// Builds a page of `list` from up to `limit + 1` rows: the extra row only says there is more.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, list: List, key: impl Fn(&T) -> String) -> Page<T> {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(|r| cursor(list, &key(r))) } else { None };
        Page { items: rows, next_cursor }
    }
}

/// The cursor of `list` that starts after the row keyed `key`.
pub fn cursor(list: List, key: &str) -> String {
    format!("{}.{}", hex::encode(key), check(list, key))
}

fn check(list: List, key: &str) -> String {
    let digest = Sha256::digest(format!("grant-ledger cursor\n{}\n{key}", list.name()));
    hex::encode(&digest[..8])
}

/// The key a cursor of `list` starts after; `None` for any text `cursor` did not make for
/// this list, or whose key is not of the list's form (a positive id for lists keyed by id).
pub fn decode_cursor(list: List, text: &str) -> Option<String> {
    let (key_hex, given) = text.split_once('.')?;
    let key = String::from_utf8(hex::decode(key_hex).ok()?).ok()?;
    if key.is_empty() || given != check(list, &key) {
        return None;
    }
    if list.by_id() && key.parse::<i64>().ok().filter(|id| *id > 0).map(|id| id.to_string()) != Some(key.clone()) {
        return None;
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_on_its_own_list_only() {
        for list in List::ALL {
            let key = if list.by_id() { "42" } else { "P-7" };
            let made = cursor(list, key);
            assert_eq!(decode_cursor(list, &made).as_deref(), Some(key), "{list:?}");
            for other in List::ALL.into_iter().filter(|o| *o != list) {
                assert_eq!(decode_cursor(other, &made), None, "{list:?}'s cursor on {other:?}");
            }
        }
    }

    #[test]
    fn forged_cursors_are_refused() {
        let good = cursor(List::Entries, "42");
        let (key_hex, check_hex) = good.split_once('.').unwrap();
        let forged = [
            "30".to_owned(),
            "00".to_owned(),
            "ff".to_owned(),
            hex::encode("42"),
            format!("{key_hex}."),
            format!(".{check_hex}"),
            format!("{}.{check_hex}", hex::encode("43")),
            format!("{key_hex}.{}", &check_hex[..15]),
            format!("{good}.{check_hex}"),
            cursor(List::Entries, "0"),
            cursor(List::Entries, "-1"),
            cursor(List::Entries, "042"),
            cursor(List::Entries, "P1"),
            cursor(List::Projects, ""),
        ];
        for text in &forged {
            assert_eq!(decode_cursor(List::Entries, text), None, "{text}");
            assert_eq!(decode_cursor(List::Projects, text), None, "{text} on projects");
        }
    }
}
