//! The monitoring return (docs/api.md): per project and grant, the variance report as at a
//! quarter's end with the officer's forecast, and each of the project's indicators with
//! its target and actual to date and the cost per output; a `TOTAL` line last. As CSV (the
//! Commissioner's return's writer: RFC 4180, optional BOM, formula defusing) or as an XLSX
//! workbook with the variance report on a second sheet. Pure: `run::monitoring_return`
//! reads what it needs, and `csv` and `xlsx` return the bytes a download (or a filed
//! return) holds.

use rust_decimal::{Decimal, RoundingStrategy};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};

use super::columns::{Column, Kind, cells, money, names, text_cell};
use super::csv_out::{self, Cell};
use super::variance::{self, FigureSet, ForecastBasis, Labelled, VarianceReport};
use crate::domain::{FinancialYear, Money, Quantity};
use crate::model::monitoring::IndicatorRecord;
use crate::model::reports::Labels;

/// A line of the return: a project and grant's figures with one of the project's
/// indicators (or none), or the `TOTAL` line.
pub struct Line<'a> {
    financial_year: &'a str,
    quarter: u8,
    row: Labelled<'a>,
    total: bool,
    indicator: Option<IndicatorLine<'a>>,
}

/// An indicator's part of a line: its target and actual to date and the cost per output.
struct IndicatorLine<'a> {
    record: &'a IndicatorRecord,
    target: Decimal,
    actual: Option<Decimal>,
    cost: Option<Money>,
}

/// A cell of the indicator's part of a line, empty where the line has no indicator.
fn of_indicator(l: &Line, cell: fn(&IndicatorLine) -> Cell) -> Cell {
    l.indicator.as_ref().map_or_else(|| text_cell(""), cell)
}

/// The return's columns, in docs/api.md's order.
pub const fn columns<'a>() -> [Column<Line<'a>>; 23] {
    use Kind::{Money, Quantity, Text, Whole};
    [
        Column::new("funder", Text, |l| text_cell(&l.row.funder)),
        Column::new("grant", Text, |l| text_cell(l.row.grant)),
        Column::new("financial_year", Text, |l| text_cell(l.financial_year)),
        Column::new("quarter", Whole, |l| Cell::Number(l.quarter.to_string())),
        Column::new("priority_code", Text, |l| text_cell(l.row.priority)),
        Column::new("priority_name", Text, |l| text_cell(&l.row.priority_name)),
        Column::new("project_code", Text, |l| text_cell(l.row.project)),
        Column::new("project_name", Text, |l| text_cell(l.row.project_name)),
        Column::new("lead_organisation", Text, |l| text_cell(&l.row.lead_organisation)),
        Column::new("budget", Money, |l| money(l.row.figures.budget)),
        Column::new("spent_to_date", Money, |l| money(l.row.figures.actual)),
        Column::new("committed", Money, |l| money(l.row.figures.committed)),
        Column::new("officer_forecast_outturn", Money, |l| money(l.row.figures.officer_forecast)),
        Column::new("forecast_underspend", Money, |l| money(l.row.figures.forecast_underspend)),
        Column::new("variance_explanation", Text, |l| Cell::Text(explanation(l.row.figures, l.total, l.quarter))),
        Column::new("progress_rag", Text, |l| text_cell(l.row.figures.progress_rag.map_or("", |r| r.as_str()))),
        Column::new("rag_reason", Text, |l| text_cell(&l.row.figures.rag_reason)),
        Column::new("indicator_code", Text, |l| of_indicator(l, |i| text_cell(&i.record.code))),
        Column::new("indicator_name", Text, |l| of_indicator(l, |i| text_cell(&i.record.name))),
        Column::new("unit", Text, |l| of_indicator(l, |i| text_cell(&i.record.unit))),
        Column::new("target_to_date", Quantity, |l| of_indicator(l, |i| Cell::Number(quantity_text(i.target)))),
        Column::new("actual_to_date", Quantity, |l| {
            of_indicator(l, |i| i.actual.map_or_else(|| text_cell(""), |a| Cell::Number(quantity_text(a))))
        }),
        Column::new("cost_per_output", Money, |l| of_indicator(l, |i| i.cost.map_or_else(|| text_cell(""), money))),
    ]
}

pub const CSV_HEADER: [&str; 23] = names(&columns());

/// What `variance_explanation` says where no officer forecast was made for the quarter, so
/// a reader never takes the commitment position for the officer's forecast.
pub const NO_FORECAST: &str = "No officer forecast this quarter: actual plus committed shown";
/// The `TOTAL` line's explanation when some of its rows had no officer forecast.
pub const PARTLY_FORECAST: &str = "Includes actual plus committed where no officer forecast was made";

/// One return: its lines (the last is `TOTAL`) and the variance report they were taken from.
#[derive(Debug, Clone)]
pub struct MonitoringReturn {
    pub financial_year: FinancialYear,
    pub quarter: u8,
    pub lines: Vec<Vec<Cell>>,
    pub variance: VarianceReport,
}

/// The sum of the first `quarter` quarters' figures, and whether any was given.
fn to_date(values: &[Option<Quantity>; 4], quarter: u8) -> Option<Decimal> {
    let given: Vec<Quantity> = values.iter().take(usize::from(quarter)).flatten().copied().collect();
    (!given.is_empty()).then(|| Quantity::sum(given))
}

fn quantity_text(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Spend per unit of output, to the penny (half away from zero): shown only where output
/// to date is above zero.
pub fn cost_per_output(spent_pence: i64, output: Decimal) -> Option<Money> {
    if output <= Decimal::ZERO {
        return None;
    }
    let pence = (Decimal::from(spent_pence) / output).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(pence).ok().map(Money::from_pence)
}

/// A line's `variance_explanation`: the officer's words, saying so when the forecast was
/// made for an earlier quarter and stands because none replaced it.
fn explanation(f: &FigureSet, total: bool, quarter: u8) -> String {
    let earlier = f.forecast_quarter.filter(|q| *q < quarter);
    match (f.forecast_basis, total, earlier) {
        (ForecastBasis::Officer, false, None) => f.explanation.clone(),
        (ForecastBasis::Officer, false, Some(q)) if f.explanation.is_empty() => not_updated(q, quarter),
        (ForecastBasis::Officer, false, Some(q)) => format!("{}: {}", not_updated(q, quarter), f.explanation),
        (ForecastBasis::Officer, true, None) => String::new(),
        (ForecastBasis::Officer, true, Some(_)) => {
            format!("Includes forecasts made before Q{quarter}, not updated since")
        }
        (ForecastBasis::Commitments, false, _) => NO_FORECAST.to_owned(),
        (_, _, _) => PARTLY_FORECAST.to_owned(),
    }
}

/// What a line says of a forecast carried forward from quarter `made` into `quarter`.
pub fn not_updated(made: u8, quarter: u8) -> String {
    format!("Forecast made in Q{made}, not updated in Q{quarter}")
}

/// The return's lines, in the report's order (priority, project, grant), each project's
/// indicators by code; the `TOTAL` line counts each project and grant once.
///
/// `target_to_date` adds the quarterly targets up to `quarter`; `actual_to_date` the latest
/// return of each quarter up to it (empty where none was made); `cost_per_output` divides
/// the project's spend to date from every grant by `actual_to_date`, since the output is
/// the project's and not one grant's.
pub fn lines(
    year: FinancialYear,
    quarter: u8,
    at_quarter_end: &VarianceReport,
    indicators: &[IndicatorRecord],
    labels: &Labels,
) -> Vec<Vec<Cell>> {
    let fy = year.to_string();
    let spent_by_project = |project: &str| -> i64 {
        at_quarter_end.rows.iter().filter(|r| r.project == project).map(|r| r.figures.actual.pence()).sum()
    };
    let line = |row, total, indicator| Line { financial_year: &fy, quarter, row, total, indicator };
    let mut out: Vec<Line> = Vec::new();
    for r in &at_quarter_end.rows {
        let mine: Vec<&IndicatorRecord> =
            indicators.iter().filter(|i| i.project == r.project && i.financial_year == year).collect();
        if mine.is_empty() {
            out.push(line(Labelled::of(r, labels), false, None));
            continue;
        }
        for i in mine {
            let targets = i.quarterly_targets.map(Some);
            let actual = to_date(&i.actuals, quarter);
            out.push(line(
                Labelled::of(r, labels),
                false,
                Some(IndicatorLine {
                    record: i,
                    target: to_date(&targets, quarter).unwrap_or_default(),
                    actual,
                    cost: actual.and_then(|a| cost_per_output(spent_by_project(&r.project), a)),
                }),
            ));
        }
    }
    out.push(line(Labelled::total(at_quarter_end), true, None));
    let columns = columns();
    out.iter().map(|l| cells(&columns, l)).collect()
}

/// The return as CSV, by the Commissioner's return's rules.
pub fn csv(r: &MonitoringReturn, bom: bool) -> Vec<u8> {
    csv_out::write(&CSV_HEADER, &r.lines, bom)
}

/// The widest a workbook column is made, in characters: long names wrap no further.
const COLUMN_CHARS_MAX: usize = 80;

/// One sheet of a workbook: a bold frozen header, money in £ (`overview` writes with it too).
pub(super) fn write_sheet<T>(
    ws: &mut Worksheet,
    name: &str,
    columns: &[Column<T>],
    rows: &[Vec<Cell>],
) -> Result<(), XlsxError> {
    let header: Vec<&str> = columns.iter().map(|c| c.name).collect();
    let bold = Format::new().set_bold().set_border_bottom(rust_xlsxwriter::FormatBorder::Thin);
    let pounds = Format::new().set_num_format("£#,##0.00;[Red]-£#,##0.00");
    let quantity = Format::new().set_num_format("#,##0.####").set_align(FormatAlign::Right);
    let percent = Format::new().set_num_format("0.0");
    let whole = Format::new().set_num_format("0");
    ws.set_name(name)?;
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let at = (r + 1) as u32;
        for (c, cell) in row.iter().enumerate() {
            let col = c as u16;
            match cell {
                // A string cell is never run as a formula, so text goes in as written.
                Cell::Text(t) if t.is_empty() => {}
                Cell::Text(t) => {
                    ws.write_string(at, col, t)?;
                    widths[c] = widths[c].max(t.chars().count());
                }
                Cell::Number(n) => {
                    // The one place money meets a float: a spreadsheet keeps numbers as
                    // doubles, and this one is read from the same text the CSV carries.
                    // Written from `Money`, `Quantity` or a count, so it always parses; a cell
                    // that did not is an error, never a silent zero.
                    let value: f64 = n.parse().map_err(|_| {
                        XlsxError::ParameterError(format!("row {at} column {c}: {n:?} is not a number"))
                    })?;
                    let format = match columns.get(c).map_or(Kind::Text, |col| col.kind) {
                        Kind::Money => &pounds,
                        Kind::Quantity => &quantity,
                        Kind::Percent => &percent,
                        Kind::Whole | Kind::Text => &whole,
                    };
                    ws.write_number_with_format(at, col, value, format)?;
                    // "£" and thousands separators widen a figure by up to a third.
                    let shown = n.len() + 1 + n.len() / 3;
                    widths[c] = widths[c].max(shown);
                }
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, (w.min(&COLUMN_CHARS_MAX) + 2) as f64)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// The return as an XLSX workbook: sheet "Monitoring return" (the CSV's columns, numbers
/// stored as numbers, money in £), sheet "Variance" (the variance report as at the quarter's
/// end with its subtotals); each with a frozen header row and columns wide enough to read.
pub fn xlsx(r: &MonitoringReturn) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    write_sheet(sheet, "Monitoring return", &columns(), &r.lines)?;
    let sheet = book.add_worksheet();
    write_sheet(sheet, "Variance", &variance::columns(), &variance::all_rows(&r.variance))?;
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_per_output_rounds_to_the_penny_and_needs_output() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let cases = [
            (370_000, "24", Some(15_417)), // £3,700 / 24 = £154.1666…
            (100, "3", Some(33)),
            (5, "2", Some(3)), // 2.5p rounds away from zero
            (370_000, "0", None),
            (0, "5", Some(0)),
        ];
        for (spent, output, pence) in cases {
            assert_eq!(cost_per_output(spent, d(output)), pence.map(Money::from_pence), "{spent} / {output}");
        }
    }

    #[test]
    fn to_date_adds_the_quarters_given() {
        let q = |s: &str| Some(Quantity::parse(s).unwrap());
        let values = [q("10"), None, q("2.5"), q("7")];
        assert_eq!(to_date(&values, 1), Some(Decimal::from(10)));
        assert_eq!(to_date(&values, 3), Some("12.5".parse().unwrap()));
        assert_eq!(to_date(&[None, None, None, q("1")], 3), None, "nothing returned by Q3");
    }
}
