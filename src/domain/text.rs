//! What text the ledger stores: no control characters, so nothing reaches PostgreSQL (which
//! refuses NUL), a CSV cell or a page that a reader cannot see.

/// Why `value` cannot be stored, if it holds a control character: C0 (NUL included), DEL or
/// C1 (U+0080–U+009F). Tab and newline pass where `free_text` allows them (memos, reasons,
/// descriptions); codes, names and references are one line.
pub fn control_character(value: &str, free_text: bool) -> Option<String> {
    let bad = value.chars().find(|c| c.is_control() && !(free_text && matches!(c, '\t' | '\n')))?;
    let allowed = if free_text { " (tab and newline are allowed)" } else { "" };
    Some(format!("must not contain control characters such as U+{:04X}{allowed}", u32::from(bad)))
}

#[cfg(test)]
mod tests {
    use super::control_character;

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
}
