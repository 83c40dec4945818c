//! Pagination of every list: a page, its cursor, and the bounds of `limit`.
//!
//! A cursor is the key of the last row shown, in hex, then `.` and a check: the first eight
//! bytes of SHA-256 over the list's name and that key. A cursor this server did not give out
//! (`30`, `00`, a key edited by hand) fails the check, and so does one given out by another
//! list, so neither silently restarts a list at its first page. The check is not a secret:
//! a cursor is a position, not a permission, and every row it could name is one the caller
//! may read anyway; what it prevents is a mistyped or foreign cursor being taken for a start.
//!
//! A list in another order is another list (`EntriesByDate`, keyed `date/id`), and its
//! cursor's check also covers a scope, the filters it was given out under (`cursor_in`), so
//! a cursor carried over to other filters is refused rather than starting at a position the
//! new filters never showed.

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
    /// The entries by entry date, then id.
    EntriesByDate,
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
    pub const ALL: [List; 15] = [
        List::Entries,
        List::EntriesByDate,
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
            List::EntriesByDate => "entries-by-date",
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

    /// Whether `key` has the form of this list's keys.
    fn holds(self, key: &str) -> bool {
        let id = |t: &str| t.parse::<i64>().ok().filter(|id| *id > 0).map(|id| id.to_string()).as_deref() == Some(t);
        if self == List::EntriesByDate {
            return key.split_once('/').is_some_and(|(date, rest)| {
                chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok_and(|d| d.to_string() == date) && id(rest)
            });
        }
        !key.is_empty() && (!self.by_id() || id(key))
    }
}

/// The key of an entry in `EntriesByDate`: its date, then its id.
pub fn date_key(date: &str, id: i64) -> String {
    format!("{date}/{id}")
}

/// The date and id of an `EntriesByDate` key that `decode_cursor_in` answered.
pub fn split_date_key(key: &str) -> Option<(String, i64)> {
    let (date, id) = key.split_once('/')?;
    Some((date.to_owned(), id.parse().ok()?))
}

impl<T> Page<T> {
    /// Builds a page of `list` from up to `limit + 1` rows: the extra row only says there is more.
    pub fn from_rows(rows: Vec<T>, limit: i64, list: List, key: impl Fn(&T) -> String) -> Page<T> {
        Page::from_rows_in(rows, limit, list, "", key)
    }

    /// `from_rows` whose cursor is good only under `scope` (`cursor_in`).
    pub fn from_rows_in(mut rows: Vec<T>, limit: i64, list: List, scope: &str, key: impl Fn(&T) -> String) -> Page<T> {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(|r| cursor_in(list, scope, &key(r))) } else { None };
        Page { items: rows, next_cursor }
    }
}

/// The cursor of `list` that starts after the row keyed `key`.
pub fn cursor(list: List, key: &str) -> String {
    cursor_in(list, "", key)
}

/// The cursor of `list` under `scope` (e.g. the filters, as text): `decode_cursor_in` with
/// another scope refuses it. The empty scope is `cursor`'s.
pub fn cursor_in(list: List, scope: &str, key: &str) -> String {
    format!("{}.{}", hex::encode(key), check(list, scope, key))
}

fn check(list: List, scope: &str, key: &str) -> String {
    let text = if scope.is_empty() {
        format!("grant-ledger cursor\n{}\n{key}", list.name())
    } else {
        format!("grant-ledger cursor\n{}\n{scope}\n{key}", list.name())
    };
    hex::encode(&Sha256::digest(text)[..8])
}

/// The key a cursor of `list` starts after; `None` for any text `cursor` did not make for
/// this list, or whose key is not of the list's form (a positive id for lists keyed by id).
pub fn decode_cursor(list: List, text: &str) -> Option<String> {
    decode_cursor_in(list, "", text)
}

/// `decode_cursor` of a cursor given out under `scope`.
pub fn decode_cursor_in(list: List, scope: &str, text: &str) -> Option<String> {
    let (key_hex, given) = text.split_once('.')?;
    let key = String::from_utf8(hex::decode(key_hex).ok()?).ok()?;
    (given == check(list, scope, &key) && list.holds(&key)).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_on_its_own_list_only() {
        for list in List::ALL {
            let key = match list {
                List::EntriesByDate => "2023-05-01/42",
                _ if list.by_id() => "42",
                _ => "P-7",
            };
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
            cursor(List::Entries, "2023-05-01/42"),
        ];
        for text in &forged {
            assert_eq!(decode_cursor(List::Entries, text), None, "{text}");
            assert_eq!(decode_cursor(List::Projects, text), None, "{text} on projects");
        }
    }

    #[test]
    fn a_dated_cursor_holds_its_form_and_its_scope() {
        let good = cursor_in(List::EntriesByDate, "supplier=Acme", "2023-05-01/42");
        assert_eq!(decode_cursor_in(List::EntriesByDate, "supplier=Acme", &good).as_deref(), Some("2023-05-01/42"));
        assert_eq!(decode_cursor_in(List::EntriesByDate, "supplier=Other", &good), None, "another filter");
        assert_eq!(decode_cursor(List::EntriesByDate, &good), None, "no filter");
        assert_eq!(decode_cursor(List::Entries, &good), None, "the list by id");
        for bad in ["2023-05-01/0", "2023-5-1/42", "2023-02-30/4", "42", "2023-05-01", "2023-05-01/042"] {
            assert_eq!(decode_cursor(List::EntriesByDate, &cursor(List::EntriesByDate, bad)), None, "{bad}");
        }
        assert_eq!(split_date_key("2023-05-01/42"), Some(("2023-05-01".to_owned(), 42)));
    }
}
