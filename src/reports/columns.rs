//! Each report's columns, declared once: a column's name (the CSV header and the JSON
//! field), the heading a terminal table shows, its kind (how a workbook formats it, and
//! whether it is a figure) and how its cell is taken from a line of the report. The CSV
//! header, the cells of every line, the CLI table, the XLSX sheets and the dashboard's
//! reads by name all come from the same array, so a column is added, renamed or moved in
//! one place.

use super::csv_out::Cell;

/// What a column holds, and so how a workbook formats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// A count or a quarter number.
    Whole,
    /// Pounds and pence.
    Money,
    /// An indicator's quantity: up to four places.
    Quantity,
    /// A percentage to one place.
    Percent,
}

/// One column of a report whose lines are `T`.
pub struct Column<T: ?Sized> {
    /// The CSV header and the JSON field.
    pub name: &'static str,
    /// What a terminal table heads it with: the name unless a shorter word reads better.
    pub heading: &'static str,
    pub kind: Kind,
    /// The column's cell of a line.
    pub cell: fn(&T) -> Cell,
}

impl<T: ?Sized> Column<T> {
    pub const fn new(name: &'static str, kind: Kind, cell: fn(&T) -> Cell) -> Column<T> {
        Column { name, heading: name, kind, cell }
    }

    /// A column a terminal table heads with a shorter word than its name.
    pub const fn headed(name: &'static str, heading: &'static str, kind: Kind, cell: fn(&T) -> Cell) -> Column<T> {
        Column { name, heading, kind, cell }
    }
}

/// The columns' names, in order: a CSV header.
pub const fn names<T: ?Sized, const N: usize>(columns: &[Column<T>; N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = columns[i].name;
        i += 1;
    }
    out
}

/// The columns' headings, in order, leaving out the column named `except` (if any).
pub fn headings<T: ?Sized>(columns: &[Column<T>], except: Option<&str>) -> Vec<&'static str> {
    columns.iter().filter(|c| Some(c.name) != except).map(|c| c.heading).collect()
}

/// The names of the columns that are figures (money and quantities), in order: what a
/// filed return is compared by.
pub fn figures<T: ?Sized>(columns: &[Column<T>]) -> Vec<&'static str> {
    columns.iter().filter(|c| matches!(c.kind, Kind::Money | Kind::Quantity)).map(|c| c.name).collect()
}

/// A line's cells, in the columns' order.
pub fn cells<T: ?Sized>(columns: &[Column<T>], line: &T) -> Vec<Cell> {
    columns.iter().map(|c| (c.cell)(line)).collect()
}

/// Where the column `name` stands. A name no column has is a programmer's error.
pub fn position<T: ?Sized>(columns: &[Column<T>], name: &str) -> usize {
    columns.iter().position(|c| c.name == name).unwrap_or_else(|| panic!("no column {name:?} in this report"))
}

/// The text of column `name` in a row of cells under `columns` (empty past the row's end).
pub fn text<'r, T: ?Sized>(columns: &[Column<T>], row: &'r [Cell], name: &str) -> &'r str {
    match row.get(position(columns, name)) {
        Some(Cell::Text(t) | Cell::Number(t)) => t,
        None => "",
    }
}

/// A money cell.
pub fn money(m: crate::domain::Money) -> Cell {
    Cell::Number(m.to_string())
}

/// A text cell.
pub fn text_cell(t: &str) -> Cell {
    Cell::Text(t.to_owned())
}

/// How a page shows one of a report's columns: the label a reader sees, and whether it is
/// in the short set a meeting reads (the rest show when the reader asks for every column).
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    pub name: &'static str,
    pub label: &'static str,
    pub meeting: bool,
}

/// Adjacent columns of a page's table under one heading (a column group).
#[derive(Debug, Clone, Copy)]
pub struct Group {
    pub heading: &'static str,
    pub columns: &'static [Shown],
}

/// The groups with only the columns a reader asked for (`all`, or the meeting set), leaving
/// out a group with none left.
pub fn chosen(groups: &[Group], all: bool) -> Vec<(&'static str, Vec<Shown>)> {
    groups
        .iter()
        .map(|g| (g.heading, g.columns.iter().filter(|c| all || c.meeting).copied().collect::<Vec<_>>()))
        .filter(|(_, shown)| !shown.is_empty())
        .collect()
}

/// The column named `name` in `columns`; a name no column has is a programmer's error.
pub fn column<'c, T: ?Sized>(columns: &'c [Column<T>], name: &str) -> &'c Column<T> {
    &columns[position(columns, name)]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Every cell of every row sits under a column of its kind: a number only under a
    /// figure, text under text (an empty cell anywhere).
    pub fn check_kinds<T: ?Sized>(columns: &[Column<T>], rows: &[Vec<Cell>]) {
        for row in rows {
            assert_eq!(row.len(), columns.len(), "{row:?}");
            for (c, cell) in columns.iter().zip(row) {
                match cell {
                    Cell::Number(n) => assert_ne!(c.kind, Kind::Text, "{}: {n} under a text column", c.name),
                    Cell::Text(t) if !t.is_empty() => assert_eq!(c.kind, Kind::Text, "{}: {t:?}", c.name),
                    Cell::Text(_) => {}
                }
            }
        }
    }

    #[test]
    fn a_table_gives_its_header_its_cells_and_its_reads_by_name() {
        const COLUMNS: [Column<(String, i64)>; 2] = [
            Column::new("name", Kind::Text, |l| text_cell(&l.0)),
            Column::headed("amount", "£", Kind::Money, |l| money(crate::domain::Money::from_pence(l.1))),
        ];
        assert_eq!(names(&COLUMNS), ["name", "amount"]);
        assert_eq!(headings(&COLUMNS, None), ["name", "£"]);
        assert_eq!(headings(&COLUMNS, Some("amount")), ["name"]);
        let row = cells(&COLUMNS, &("Youth".to_owned(), 150));
        assert_eq!(row, [Cell::Text("Youth".into()), Cell::Number("1.50".into())]);
        assert_eq!(text(&COLUMNS, &row, "amount"), "1.50");
        check_kinds(&COLUMNS, &[row]);
        assert_eq!(column(&COLUMNS, "amount").kind, Kind::Money);
    }

    #[test]
    fn a_page_shows_the_meeting_set_or_every_column_in_their_groups() {
        const GROUPS: [Group; 2] = [
            Group { heading: "Who", columns: &[Shown { name: "name", label: "Name", meeting: true }] },
            Group { heading: "Money", columns: &[Shown { name: "amount", label: "Amount", meeting: false }] },
        ];
        let short = chosen(&GROUPS, false);
        assert_eq!(short.len(), 1, "a group with no meeting column is left out");
        assert_eq!((short[0].0, short[0].1[0].name), ("Who", "name"));
        let every = chosen(&GROUPS, true);
        assert_eq!(every.iter().map(|(h, c)| (*h, c.len())).collect::<Vec<_>>(), [("Who", 1), ("Money", 1)]);
    }
}
