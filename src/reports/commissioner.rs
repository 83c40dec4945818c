//! The Commissioner's return: the variance report as at a quarter's end, with the spend of
//! that quarter, in the exact columns of docs/api.md and a `TOTAL` row last.

use std::collections::BTreeMap;

use super::columns::{Column, Kind, cells, money, names, text_cell};
use super::csv_out::Cell::{self, Number};
use super::variance::{Labelled, VarianceReport};
use crate::domain::FinancialYear;
use crate::model::reports::Labels;

/// A line of the return: a project and grant as at the quarter's end, or the `TOTAL` line.
pub struct Line<'a> {
    financial_year: &'a str,
    quarter: u8,
    period_end: &'a str,
    partnership: &'a str,
    row: Labelled<'a>,
    /// Actual spend dated in the quarter, in pence.
    spent_in_quarter: i64,
}

/// The return's columns, in docs/api.md's order.
pub const fn columns<'a>() -> [Column<Line<'a>>; 19] {
    use Kind::{Money, Text, Whole};
    [
        Column::new("financial_year", Text, |l| text_cell(l.financial_year)),
        Column::new("quarter", Whole, |l| Number(l.quarter.to_string())),
        Column::new("period_end", Text, |l| text_cell(l.period_end)),
        Column::new("partnership", Text, |l| text_cell(l.partnership)),
        Column::new("funder", Text, |l| text_cell(&l.row.funder)),
        Column::new("grant", Text, |l| text_cell(l.row.grant)),
        Column::new("priority", Text, |l| text_cell(l.row.priority)),
        Column::new("priority_name", Text, |l| text_cell(&l.row.priority_name)),
        Column::new("project", Text, |l| text_cell(l.row.project)),
        Column::new("project_name", Text, |l| text_cell(l.row.project_name)),
        Column::new("lead_organisation", Text, |l| text_cell(&l.row.lead_organisation)),
        Column::new("allocated", Money, |l| money(l.row.figures.budget)),
        Column::new("committed", Money, |l| money(l.row.figures.committed)),
        Column::new("spent_in_quarter", Money, |l| money(crate::domain::Money::from_pence(l.spent_in_quarter))),
        Column::new("spent_to_date", Money, |l| money(l.row.figures.actual)),
        Column::new("available", Money, |l| money(l.row.figures.available)),
        Column::new("forecast_outturn", Money, |l| money(l.row.figures.forecast_outturn)),
        Column::new("variance", Money, |l| money(l.row.figures.variance)),
        Column::new("rag", Text, |l| text_cell(l.row.figures.rag.as_str())),
    ]
}

pub const CSV_HEADER: [&str; 19] = names(&columns());

/// `at_quarter_end` is the variance report as at the quarter's last day; `spent_before` holds
/// each (grant, project)'s actual spend to the day before the quarter began, in pence.
pub fn rows(
    year: FinancialYear,
    quarter: u8,
    at_quarter_end: &VarianceReport,
    spent_before: &BTreeMap<(String, String), i64>,
    labels: &Labels,
) -> Vec<Vec<Cell>> {
    let period_end = year.quarter_end(quarter).map(|d| d.to_string()).unwrap_or_default();
    let fy = year.to_string();
    let line = |row, spent_in_quarter| Line {
        financial_year: &fy,
        quarter,
        period_end: &period_end,
        partnership: &labels.partnership,
        row,
        spent_in_quarter,
    };
    let mut lines = Vec::new();
    let mut in_quarter_total = 0;
    for r in &at_quarter_end.rows {
        let before = spent_before.get(&(r.grant.clone(), r.project.clone())).copied().unwrap_or(0);
        let in_quarter = r.figures.actual.pence() - before;
        in_quarter_total += in_quarter;
        lines.push(line(Labelled::of(r, labels), in_quarter));
    }
    lines.push(line(Labelled::total(at_quarter_end), in_quarter_total));
    let columns = columns();
    lines.iter().map(|l| cells(&columns, l)).collect()
}
