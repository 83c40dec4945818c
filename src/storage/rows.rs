//! Reading rows without panicking. Every column is read with `try_get` or through a
//! `FromRow` struct; a stored value outside its type (text in an amount, a word outside a
//! status's set, a malformed date or year) is `StoreError::Corrupt`, which names the table,
//! the row's key and the column, so the HTTP layer answers a logged 500 and `verify` can
//! say which row to look at.

use std::fmt::Display;

use chrono::NaiveDate;
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::StoreError;
use crate::domain::{FinancialYear, parse_date};

/// Reads `row` into `T`, naming `table` and the row's `key` columns if a value does not decode.
pub(crate) fn read<T>(row: &AnyRow, table: &str, key: &[&str]) -> Result<T, StoreError>
where
    T: for<'r> FromRow<'r, AnyRow>,
{
    T::from_row(row).map_err(|e| corrupt(row, table, key, e))
}

/// Reads all `rows` into `T`s; the first that does not decode is named.
pub(crate) fn read_all<T>(rows: &[AnyRow], table: &str, key: &[&str]) -> Result<Vec<T>, StoreError>
where
    T: for<'r> FromRow<'r, AnyRow>,
{
    rows.iter().map(|r| read(r, table, key)).collect()
}

/// One text column parsed into a domain type; a value `parse` refuses is named.
pub(crate) fn parsed<T, E: Display>(
    row: &AnyRow,
    (table, key): (&str, &[&str]),
    column: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    let text: String = row.try_get(column).map_err(|e| corrupt(row, table, key, e))?;
    parse(&text).map_err(|e| named(row, table, key, column, &format!("{text:?}: {e}")))
}

/// A stored financial year such as `2023-24`.
pub(crate) fn year(row: &AnyRow, at: (&str, &[&str]), column: &str) -> Result<FinancialYear, StoreError> {
    parsed(row, at, column, FinancialYear::parse)
}

/// A stored ISO date.
pub(crate) fn date(row: &AnyRow, at: (&str, &[&str]), column: &str) -> Result<NaiveDate, StoreError> {
    parsed(row, at, column, |t| parse_date(t).ok_or("is not a date (YYYY-MM-DD)"))
}

/// A stored ISO date that may be null (an agreement's dates, absent on a purchase order).
pub(crate) fn opt_date(row: &AnyRow, at: (&str, &[&str]), column: &str) -> Result<Option<NaiveDate>, StoreError> {
    match row.try_get::<Option<String>, _>(column).map_err(|e| corrupt(row, at.0, at.1, e))? {
        None => Ok(None),
        Some(_) => date(row, at, column).map(Some),
    }
}

/// Names the row of a decode failure; any other failure passes through unchanged.
pub(crate) fn corrupt(row: &AnyRow, table: &str, key: &[&str], e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::ColumnDecode { index, source } => {
            let column = index.trim_matches('"');
            // sqlx's FromRow derive cannot print a `try_from` error, so the stored text says it.
            let what = match row.try_get::<String, _>(column) {
                Ok(text) if source.to_string().starts_with("unprintable") => format!("{text:?} is not a known value"),
                Ok(text) => format!("{source} (stored {text:?})"),
                Err(_) => source.to_string(),
            };
            named(row, table, key, column, &what)
        }
        e => e.into(),
    }
}

pub(crate) fn named(row: &AnyRow, table: &str, key: &[&str], column: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("{table} {}: column {column}: {what}", key_text(row, key)))
}

/// `code ALPHA` or `grant_code LDF, financial_year 2023-24`: the row's key as stored.
fn key_text(row: &AnyRow, key: &[&str]) -> String {
    let value = |k: &str| {
        row.try_get::<i64, _>(k)
            .map(|n| n.to_string())
            .or_else(|_| row.try_get::<String, _>(k))
            .unwrap_or_else(|_| "?".to_owned())
    };
    key.iter().map(|k| format!("{k} {}", value(k))).collect::<Vec<_>>().join(", ")
}
