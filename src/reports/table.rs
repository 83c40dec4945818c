//! An aligned plain-text table for a terminal: text left, numbers right.

use super::csv_out::Cell;

/// The widest a text cell is shown; longer text (a project's name) ends in an ellipsis so
/// one long name cannot push the figures off the screen.
const TEXT_CHARS_MAX: usize = 32;

pub fn render(header: &[&str], rows: &[Vec<Cell>]) -> String {
    let text = |c: &Cell| match c {
        Cell::Text(t) => shorten(&t.replace(['\n', '\r', '\t'], " ")),
        Cell::Number(t) => group_thousands(t),
    };
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(text(c).chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<(String, bool)>, out: &mut String| {
        let parts: Vec<String> = cells
            .into_iter()
            .enumerate()
            .map(
                |(i, (t, right))| {
                    if right { format!("{t:>w$}", w = widths[i]) } else { format!("{t:<w$}", w = widths[i]) }
                },
            )
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    let numeric: Vec<bool> =
        (0..header.len()).map(|i| rows.first().is_some_and(|r| matches!(r.get(i), Some(Cell::Number(_))))).collect();
    line(header.iter().enumerate().map(|(i, h)| (h.to_string(), numeric[i])).collect(), &mut out);
    line(widths.iter().map(|w| ("-".repeat(*w), false)).collect(), &mut out);
    for row in rows {
        line(row.iter().map(|c| (text(c), matches!(c, Cell::Number(_)))).collect(), &mut out);
    }
    out
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= TEXT_CHARS_MAX {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(TEXT_CHARS_MAX - 1).collect();
    short.push('…');
    short
}

/// `-25000.00` → `-25,000.00`, for a reader scanning a column of money. Anything that is
/// not a plain decimal number is left as it is.
fn group_thousands(number: &str) -> String {
    let (sign, unsigned) = number.strip_prefix('-').map_or(("", number), |rest| ("-", rest));
    let (whole, fraction) = unsigned.split_once('.').map_or((unsigned, None), |(w, f)| (w, Some(f)));
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !plain(whole) || fraction.is_some_and(|f| !plain(f)) {
        return number.to_owned();
    }
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_in_thousands() {
        let cases = [
            ("0.00", "0.00"),
            ("999.99", "999.99"),
            ("1000.00", "1,000.00"),
            ("-25000.00", "-25,000.00"),
            ("1234567.5", "1,234,567.5"),
            ("61394", "61,394"),
            ("45.5", "45.5"),
            ("n/a", "n/a"),
            ("1e5", "1e5"),
            ("-", "-"),
        ];
        for (given, shown) in cases {
            assert_eq!(group_thousands(given), shown, "{given}");
        }
    }

    #[test]
    fn long_text_is_shortened_with_an_ellipsis() {
        let long = "A very long project name that would push the figures off a terminal";
        let short = shorten(long);
        assert_eq!(short.chars().count(), TEXT_CHARS_MAX);
        assert!(short.ends_with('…') && long.starts_with(short.trim_end_matches('…')));
        assert_eq!(shorten("Short"), "Short");
    }

    #[test]
    fn columns_line_up() {
        let rows = vec![
            vec![Cell::Text("P1".into()), Cell::Number("5.00".into())],
            vec![Cell::Text("LONGER".into()), Cell::Number("1500.00".into())],
        ];
        let t = render(&["project", "budget"], &rows);
        assert_eq!(t, "project    budget\n-------  --------\nP1           5.00\nLONGER   1,500.00\n");
    }
}
