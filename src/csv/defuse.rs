//! Formula injection: a spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` (or a
//! tab or carriage return before one) as a formula. Every text cell we write goes through
//! `defuse`; amounts are written as numbers and never pass through it.

use std::borrow::Cow;

/// Prefixes a cell a spreadsheet would run with `'`, which shows as text and runs nothing.
pub fn defuse(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_would_run_are_prefixed_and_others_kept() {
        for (cell, want) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("Youth Trust", "Youth Trust"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(defuse(cell), want, "{cell:?}");
        }
    }
}
