//! The Commissioner's return: the variance report as at a quarter's end, with the spend of
//! that quarter, in the exact columns of API.md and a `TOTAL` row last.

use std::collections::BTreeMap;

use super::csv_out::Cell::{self, Number, Text};
use super::variance::{FigureSet, VarianceReport};
use crate::domain::{FinancialYear, Money};
use crate::model::reports::Labels;

pub const CSV_HEADER: [&str; 19] = [
    "financial_year",
    "quarter",
    "period_end",
    "partnership",
    "funder",
    "grant",
    "priority",
    "priority_name",
    "project",
    "project_name",
    "lead_organisation",
    "allocated",
    "committed",
    "spent_in_quarter",
    "spent_to_date",
    "available",
    "forecast_outturn",
    "variance",
    "rag",
];

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
    let lead = |fy: &str, q: &str, pe: &str| vec![Text(fy.into()), Number(q.into()), Text(pe.into())];
    let (fy, q) = (year.to_string(), quarter.to_string());
    let money = |m: Money| Number(m.to_string());
    let figures = |f: &FigureSet, in_quarter: i64| {
        vec![
            money(f.budget),
            money(f.committed),
            Number(Money::from_pence(in_quarter).to_string()),
            money(f.actual),
            money(f.available),
            money(f.forecast_outturn),
            money(f.variance),
            Text(f.rag.as_str().into()),
        ]
    };
    let mut out = Vec::new();
    let mut in_quarter_total = 0;
    for r in &at_quarter_end.rows {
        let info = labels.project(&r.project);
        let before = spent_before.get(&(r.grant.clone(), r.project.clone())).copied().unwrap_or(0);
        let in_quarter = r.figures.actual.pence() - before;
        in_quarter_total += in_quarter;
        let mut row = lead(&fy, &q, &period_end);
        row.extend([
            Text(labels.partnership.clone()),
            Text(labels.funders.get(&r.grant).cloned().unwrap_or_default()),
            Text(r.grant.clone()),
            Text(r.priority.clone()),
            Text(labels.priority_name(&r.priority)),
            Text(r.project.clone()),
            Text(r.project_name.clone()),
            Text(info.lead_organisation),
        ]);
        row.extend(figures(&r.figures, in_quarter));
        out.push(row);
    }
    let mut total = lead(&fy, &q, &period_end);
    total.extend([
        Text(labels.partnership.clone()),
        Text(String::new()),
        Text(String::new()),
        Text(String::new()),
        Text(String::new()),
        Text("TOTAL".into()),
        Text(String::new()),
        Text(String::new()),
    ]);
    total.extend(figures(&at_quarter_end.totals.figures, in_quarter_total));
    out.push(total);
    out
}
