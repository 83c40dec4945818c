//! Actual spend per quarter (Q1–Q4) of one financial year, per project, priority and grant.

use std::collections::BTreeMap;

use serde::Serialize;

use super::columns::{Column, Kind, cells, money, names, text_cell};
use super::csv_out::Cell;
use crate::domain::Money;
use crate::model::reports::{Labels, QuarterSpend};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Quarters {
    pub q1: Money,
    pub q2: Money,
    pub q3: Money,
    pub q4: Money,
    pub total: Money,
}

impl Quarters {
    fn of(p: &[i64; 4]) -> Quarters {
        let m = Money::from_pence;
        Quarters { q1: m(p[0]), q2: m(p[1]), q3: m(p[2]), q4: m(p[3]), total: m(p.iter().sum()) }
    }

    pub fn as_array(&self) -> [Money; 4] {
        [self.q1, self.q2, self.q3, self.q4]
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuarterRow {
    pub grant: String,
    pub priority: String,
    pub project: String,
    pub project_name: String,
    #[serde(flatten)]
    pub quarters: Quarters,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuarterSubtotal {
    pub code: String,
    pub name: String,
    #[serde(flatten)]
    pub quarters: Quarters,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuarterlyReport {
    pub financial_year: String,
    /// Spend counted up to the end of this date; null counts every posting of the year.
    #[schema(format = Date)]
    pub as_at: Option<String>,
    pub rows: Vec<QuarterRow>,
    pub priorities: Vec<QuarterSubtotal>,
    pub grants: Vec<QuarterSubtotal>,
    pub totals: Quarters,
}

fn add(into: &mut [i64; 4], from: &[i64; 4]) {
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

pub fn build(year: &str, as_at: Option<chrono::NaiveDate>, spend: &[QuarterSpend], labels: &Labels) -> QuarterlyReport {
    let mut per: BTreeMap<(String, String, String), [i64; 4]> = BTreeMap::new();
    for s in spend {
        if !(1..=4).contains(&s.quarter) {
            continue;
        }
        let priority = labels.project(&s.project).priority;
        per.entry((priority, s.project.clone(), s.grant.clone())).or_default()[s.quarter as usize - 1] -= s.pence;
    }
    let (mut by_priority, mut by_grant) = (BTreeMap::new(), BTreeMap::new());
    let mut total = [0i64; 4];
    let rows = per
        .into_iter()
        .map(|((priority, project, grant), q)| {
            add(by_priority.entry(priority.clone()).or_insert([0; 4]), &q);
            add(by_grant.entry(grant.clone()).or_insert([0; 4]), &q);
            add(&mut total, &q);
            QuarterRow {
                project_name: labels.project(&project).name,
                grant,
                priority,
                project,
                quarters: Quarters::of(&q),
            }
        })
        .collect();
    QuarterlyReport {
        financial_year: year.to_owned(),
        as_at: as_at.map(|d| d.to_string()),
        rows,
        priorities: by_priority
            .into_iter()
            .map(|(p, q)| QuarterSubtotal { name: labels.priority_name(&p), code: p, quarters: Quarters::of(&q) })
            .collect(),
        grants: by_grant
            .into_iter()
            .map(|(g, q)| QuarterSubtotal {
                name: labels.funders.get(&g).cloned().unwrap_or_default(),
                code: g,
                quarters: Quarters::of(&q),
            })
            .collect(),
        totals: Quarters::of(&total),
    }
}

/// The report's columns: a project's spend per quarter and for the year.
pub const COLUMNS: [Column<QuarterRow>; 9] = {
    use Kind::{Money, Text};
    [
        Column::new("grant", Text, |r| text_cell(&r.grant)),
        Column::new("priority", Text, |r| text_cell(&r.priority)),
        Column::new("project", Text, |r| text_cell(&r.project)),
        Column::new("project_name", Text, |r| text_cell(&r.project_name)),
        Column::new("q1", Money, |r| money(r.quarters.q1)),
        Column::new("q2", Money, |r| money(r.quarters.q2)),
        Column::new("q3", Money, |r| money(r.quarters.q3)),
        Column::new("q4", Money, |r| money(r.quarters.q4)),
        Column::new("total", Money, |r| money(r.quarters.total)),
    ]
};

pub const CSV_HEADER: [&str; 9] = names(&COLUMNS);

pub fn csv_rows(r: &QuarterlyReport) -> Vec<Vec<Cell>> {
    r.rows.iter().map(|row| cells(&COLUMNS, row)).collect()
}
