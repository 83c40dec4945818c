//! What text the ledger stores: no control characters, so nothing reaches PostgreSQL (which
//! refuses NUL), a CSV cell or a page that a reader cannot see.

use std::borrow::Cow;

/// Why `value` cannot be stored, if it holds a control character: C0 (NUL included), DEL or
/// C1 (U+0080–U+009F). Tab and newline pass where `free_text` allows them (memos, reasons,
/// descriptions); codes, names and references are one line.
pub fn control_character(value: &str, free_text: bool) -> Option<String> {
    let bad = value.chars().find(|c| c.is_control() && !(free_text && matches!(c, '\t' | '\n')))?;
    let allowed = if free_text { " (tab and newline are allowed)" } else { "" };
    Some(format!("must not contain control characters such as U+{:04X}{allowed}", u32::from(bad)))
}

/// Formula injection: a spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` (or a
/// tab or carriage return before one) as a formula. Every text cell of a CSV meant to be
/// opened in a spreadsheet goes through here, and gets a leading `'`, which shows as text and
/// runs nothing; amounts are written as numbers and never pass through it.
pub fn defuse(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::{control_character, defuse};

    #[test]
    fn control_characters_are_refused_and_line_breaks_only_in_free_text() {
        for bad in ['\0', '\u{1}', '\r', '\u{1b}', '\u{7f}', '\u{80}', '\u{85}', '\u{9f}'] {
            let value = format!("a{bad}b");
            assert!(control_character(&value, false).is_some(), "{bad:?}");
            assert!(control_character(&value, true).is_some(), "{bad:?} in free text");
        }
        for ok in ['\t', '\n'] {
            let value = format!("a{ok}b");
            assert!(control_character(&value, false).is_some(), "{ok:?} outside free text");
            assert_eq!(control_character(&value, true), None, "{ok:?} in free text");
        }
        for fine in ["Café £5 — ok", "\u{a0}non-breaking", "emoji 🙂", "\u{200b}"] {
            assert_eq!(control_character(fine, false), None, "{fine:?}");
        }
    }

    #[test]
    fn cells_that_would_run_are_prefixed_and_others_kept() {
        for (cell, want) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("=SUM(A1)", "'=SUM(A1)"),
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
