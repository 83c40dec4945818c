//! An aligned plain-text table for a terminal: text left, numbers right.

use super::csv_out::Cell;
use crate::domain::money::group_thousands;

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

#[cfg(test)]
mod tests {
    use super::*;

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
