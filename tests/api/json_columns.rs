//! Each report's JSON line held to its column table (src/reports/columns.rs): CSV, the CLI
//! table, XLSX and the dashboard render from the columns, the JSON answer is serde of the
//! line, so every column's name must be a key of the JSON line and say what the cell says.

use chrono::NaiveDate;
use grant_ledger::domain::FinancialYear;
use grant_ledger::model::known::Known;
use grant_ledger::reports::columns::{Column, Kind};
use grant_ledger::reports::csv_out::Cell;
use grant_ledger::reports::{cash, multi_year, quarterly, run, variance};
use serde_json::Value;

use crate::backend_test;
use crate::support::TestApp;

/// Where a column's value sits in the JSON line when not under its own name (a JSON pointer).
type Moved<'a> = &'a [(&'a str, &'a str)];

/// Every column of `line` against `json`: money and text as the same string (a flag as
/// `yes`/`no`, nothing as the empty cell), whole numbers equal, a percentage to its place.
fn agrees<T>(what: &str, columns: &[Column<T>], line: &T, json: &Value, moved: Moved) -> usize {
    for c in columns {
        let pointer =
            moved.iter().find(|(n, _)| *n == c.name).map_or_else(|| format!("/{}", c.name), |(_, p)| (*p).to_owned());
        let value = json
            .pointer(&pointer)
            .unwrap_or_else(|| panic!("{what}: column {} is not in the JSON line {json}", c.name));
        let (Cell::Text(cell) | Cell::Number(cell)) = (c.cell)(line);
        let same = match (c.kind, value) {
            (_, Value::Null) => cell.is_empty(),
            (Kind::Money | Kind::Text | Kind::Quantity, Value::String(s)) => *s == cell,
            (Kind::Text, Value::Bool(b)) => cell == if *b { "yes" } else { "no" },
            (Kind::Whole, Value::Number(n)) => n.as_i64().is_some_and(|n| cell.parse() == Ok(n)),
            (Kind::Percent, Value::Number(n)) => {
                n.as_f64().zip(cell.parse::<f64>().ok()).is_some_and(|(n, c)| (n - c).abs() <= 0.05 + 1e-9)
            }
            _ => false,
        };
        assert!(same, "{what}: column {} is {cell:?} but the JSON line says {value}", c.name);
    }
    columns.len()
}

backend_test!(every_reports_json_line_says_what_its_columns_say, |app: TestApp| async move {
    grant_ledger::fixtures::load_demo(&app.store).await.unwrap();
    let today = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
    let mut checked = std::collections::BTreeMap::<&str, usize>::new();
    let mut grants = std::collections::BTreeSet::new();
    for year in ["2022-23", "2023-24", "2024-25"] {
        let year = FinancialYear::parse(year).unwrap();

        let report = cash::run(&app.store, year, None, &Known::Now, today).await.unwrap();
        for row in &report.awards {
            let json = serde_json::to_value(row).unwrap();
            *checked.entry("cash position").or_default() += agrees("cash position", &cash::COLUMNS, row, &json, &[]);
            grants.insert(row.grant.clone());
        }

        let report = run::quarterly(&app.store, year, None, None, &Known::Now).await.unwrap();
        for row in &report.rows {
            let json = serde_json::to_value(row).unwrap();
            *checked.entry("quarterly").or_default() += agrees("quarterly", &quarterly::COLUMNS, row, &json, &[]);
        }

        let report = run::variance(&app.store, year, None, &Known::Now, None, today).await.unwrap();
        let columns = variance::columns();
        for row in &report.rows {
            let json = serde_json::to_value(row).unwrap();
            let line = variance::Line {
                grant: &row.grant,
                priority: &row.priority,
                project: &row.project,
                name: &row.project_name,
                figures: &row.figures,
            };
            *checked.entry("variance").or_default() += agrees("variance", &columns, &line, &json, &[]);
        }
    }
    for grant in &grants {
        let report = run::multi_year(&app.store, grant, &Known::Now).await.unwrap();
        for row in &report.years {
            let json = serde_json::to_value(row).unwrap();
            let moved = [("cumulative_unspent", "/cumulative/unspent")];
            *checked.entry("multi-year").or_default() += agrees("multi-year", &multi_year::COLUMNS, row, &json, &moved);
        }
    }
    // Each report had lines to hold: an empty report would hold nothing.
    for report in ["cash position", "quarterly", "variance", "multi-year"] {
        assert!(checked.get(report).is_some_and(|n| *n > 0), "{report}: no lines on the demo ledger: {checked:?}");
    }
});

/// The check itself fails on a drifted column: a renamed key, and a value that differs.
#[test]
fn a_column_the_json_line_does_not_hold_is_caught() {
    let json = serde_json::json!({ "amount": "2.00", "flag": true });
    let amount: [Column<Value>; 1] = [Column::new("amount", Kind::Money, |_| Cell::Number("1.00".into()))];
    let flag: [Column<Value>; 1] = [Column::new("flag", Kind::Text, |_| Cell::Text("yes".into()))];
    let renamed: [Column<Value>; 1] = [Column::new("total", Kind::Money, |_| Cell::Number("2.00".into()))];
    assert_eq!(agrees("flag", &flag, &json, &json, &[]), 1);
    for columns in [amount, renamed] {
        let caught = std::panic::catch_unwind(|| agrees("drifted", &columns, &json, &json, &[]));
        assert!(caught.is_err(), "a drifted column passed");
    }
}
