//! CSV as the Commissioner's Office and Excel read it: RFC 4180 (CRLF, quotes only where
//! needed), UTF-8, an optional byte-order mark, and text cells defused against formula
//! injection. Numbers are never altered.

use crate::domain::text::defuse;

/// One cell. Only `Text` is defused: a negative `Number` must stay a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Number(String),
}

impl Cell {
    /// The cell's text as written, whatever its kind.
    pub fn into_text(self) -> String {
        match self {
            Cell::Text(t) | Cell::Number(t) => t,
        }
    }
}

/// The UTF-8 byte-order mark Excel looks for before it will read UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A file with the byte-order mark in front when `bom` is asked for (and not there already):
/// the one way every CSV download gets one.
pub fn with_bom(body: Vec<u8>, bom: bool) -> Vec<u8> {
    if !bom || body.starts_with(BOM) {
        return body;
    }
    let mut out = Vec::with_capacity(BOM.len() + body.len());
    out.extend_from_slice(BOM);
    out.extend_from_slice(&body);
    out
}

/// Writes a header and rows, text defused.
pub fn write(header: &[&str], rows: &[Vec<Cell>], bom: bool) -> Vec<u8> {
    let rows = rows.iter().map(|row| {
        row.iter()
            .map(|c| match c {
                Cell::Text(t) => defuse(t).into_owned(),
                Cell::Number(n) => n.clone(),
            })
            .collect()
    });
    records(header, rows, bom)
}

/// Writes a header and rows exactly as given, nothing defused: for a data interchange file
/// whose readers take each cell literally (the 360Giving CSV), never for one meant to be
/// opened in a spreadsheet as it is.
pub fn write_literal(header: &[&str], rows: &[Vec<String>], bom: bool) -> Vec<u8> {
    records(header, rows.iter().cloned(), bom)
}

fn records(header: &[&str], rows: impl Iterator<Item = Vec<String>>, bom: bool) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    w.write_record(header).expect("writing to memory cannot fail");
    for row in rows {
        w.write_record(row).expect("writing to memory cannot fail");
    }
    with_bom(w.into_inner().expect("flushing to memory cannot fail"), bom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_defused_numbers_are_not() {
        let out = write(&["a", "b"], &[vec![Cell::Text("-x".into()), Cell::Number("-5.00".into())]], false);
        assert_eq!(String::from_utf8(out).unwrap(), "a,b\r\n'-x,-5.00\r\n");
    }

    #[test]
    fn quotes_commas_quotes_and_newlines_and_adds_a_bom() {
        let out = write(&["n"], &[vec![Cell::Text("Smith, \"Jo\"\nLtd".into())]], true);
        assert_eq!(out, b"\xEF\xBB\xBFn\r\n\"Smith, \"\"Jo\"\"\nLtd\"\r\n");
    }
}
