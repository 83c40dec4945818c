//! The cash position (docs/cash.md): per award, what the funder awarded, was due to pay by
//! the report date, paid, and is owed back, beside what was spent. Every figure is an
//! account's balance as at the report date (a sum of balanced entries) or, for
//! `scheduled_to_date`, a sum of the award's payment schedule. `build` is pure; `run` reads
//! through storage and builds, so the API and the CLI agree.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::columns::{self, Column, Kind, cells, names, text_cell};
use super::csv_out::Cell;
use crate::domain::rules::held;
use crate::domain::{AccountKind, FinancialYear, Money};
use crate::model::cash::ScheduledInstalment;
use crate::model::known::Known;
use crate::model::reports::AccountFigure;
use crate::storage::{Store, StoreError};

/// One award's cash position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CashPositionRow {
    pub grant: String,
    pub financial_year: FinancialYear,
    /// The award, carried-forward money included (`awarded`).
    pub awarded: Money,
    /// The instalments of the payment schedule due on or before the report date.
    pub scheduled_to_date: Money,
    /// What the funder has paid (`received`).
    pub received: Money,
    /// max(0, scheduled_to_date − received).
    pub due_not_received: Money,
    /// Spend net of refunds, all projects (`spent`).
    pub spent: Money,
    /// received − spent − repaid.
    pub cash_held: Money,
    /// Given back at year end (`returned`).
    pub returned: Money,
    /// Paid back to the funder (received − `cash`).
    pub repaid: Money,
    /// Returned money not yet repaid (`owed`): returned − repaid.
    pub owed_to_funder: Money,
    /// Money neither committed nor spent: `unallocated` plus every project's `available`.
    pub underspend: Money,
    /// The underspend is above the clawback threshold (setting `clawback_threshold`).
    pub underspend_flag: bool,
}

/// The cash position of a year's awards.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CashPositionReport {
    pub financial_year: FinancialYear,
    /// The report date: figures as at the end of it, instalments due on or before it.
    pub as_at: NaiveDate,
    /// The instant the figures stood at, when asked for with `as_known_at`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub as_known_at: Option<String>,
    pub clawback_threshold: Money,
    pub awards: Vec<CashPositionRow>,
}

#[derive(Default)]
struct Sums {
    awarded: i64,
    received: i64,
    cash: i64,
    spent: i64,
    returned: i64,
    owed: i64,
    underspend: i64,
    scheduled: i64,
}

fn money(pence: i64) -> Money {
    Money::from_pence(pence)
}

/// Builds the report from a year's account figures as at `as_at` and its schedule.
pub fn build(
    year: FinancialYear,
    as_at: NaiveDate,
    accounts: &[AccountFigure],
    schedule: &[ScheduledInstalment],
    threshold: Money,
) -> CashPositionReport {
    let mut sums: BTreeMap<&str, Sums> = BTreeMap::new();
    for a in accounts {
        let s = sums.entry(a.grant.as_str()).or_default();
        let h = held(a.kind, money(a.pence)).pence();
        match a.kind {
            AccountKind::Awarded => s.awarded += h,
            AccountKind::Received => s.received += h,
            AccountKind::Cash => s.cash += h,
            AccountKind::Spent => s.spent += h,
            AccountKind::Returned => s.returned += h,
            AccountKind::Owed => s.owed += h,
            AccountKind::Unallocated | AccountKind::Available => s.underspend += h,
            AccountKind::Committed | AccountKind::Carried | AccountKind::Claimed => {}
        }
    }
    for i in schedule.iter().filter(|i| i.financial_year == year) {
        let s = sums.entry(i.grant.as_str()).or_default();
        if i.due_on <= as_at {
            s.scheduled += i.amount.pence();
        }
    }
    let awards = sums
        .into_iter()
        .map(|(grant, s)| {
            let repaid = s.received - s.cash;
            CashPositionRow {
                grant: grant.to_owned(),
                financial_year: year,
                awarded: money(s.awarded),
                scheduled_to_date: money(s.scheduled),
                received: money(s.received),
                due_not_received: money((s.scheduled - s.received).max(0)),
                spent: money(s.spent),
                cash_held: money(s.received - s.spent - repaid),
                returned: money(s.returned),
                repaid: money(repaid),
                owed_to_funder: money(s.owed),
                underspend: money(s.underspend),
                underspend_flag: s.underspend > threshold.pence(),
            }
        })
        .collect();
    CashPositionReport { financial_year: year, as_at, as_known_at: None, clawback_threshold: threshold, awards }
}

/// The report's columns, as CSV and as the CLI prints them.
pub const COLUMNS: [Column<CashPositionRow>; 13] = {
    use Kind::{Money, Text};
    [
        Column::new("grant", Text, |r| text_cell(&r.grant)),
        Column::new("financial_year", Text, |r| Cell::Text(r.financial_year.to_string())),
        Column::new("awarded", Money, |r| columns::money(r.awarded)),
        Column::new("scheduled_to_date", Money, |r| columns::money(r.scheduled_to_date)),
        Column::new("received", Money, |r| columns::money(r.received)),
        Column::new("due_not_received", Money, |r| columns::money(r.due_not_received)),
        Column::new("spent", Money, |r| columns::money(r.spent)),
        Column::new("cash_held", Money, |r| columns::money(r.cash_held)),
        Column::new("returned", Money, |r| columns::money(r.returned)),
        Column::new("repaid", Money, |r| columns::money(r.repaid)),
        Column::new("owed_to_funder", Money, |r| columns::money(r.owed_to_funder)),
        Column::new("underspend", Money, |r| columns::money(r.underspend)),
        Column::new("underspend_flag", Text, |r| text_cell(if r.underspend_flag { "yes" } else { "no" })),
    ]
};

pub const CSV_HEADER: [&str; 13] = names(&COLUMNS);

pub fn csv_rows(report: &CashPositionReport) -> Vec<Vec<Cell>> {
    report.awards.iter().map(|r| cells(&COLUMNS, r)).collect()
}

/// The cash position as at the end of `as_at` (default `today`), counting what `known` keeps.
pub async fn run(
    store: &Store,
    year: FinancialYear,
    as_at: Option<NaiveDate>,
    known: &Known,
    today: NaiveDate,
) -> Result<CashPositionReport, StoreError> {
    use crate::storage::reports as sql;
    if !sql::year_exists(store, year).await? {
        return Err(StoreError::invalid("financial_year", format!("{year} is not a financial year of this ledger")));
    }
    let date = as_at.unwrap_or(today);
    // Figures at the entries' true dates: a receipt before the year or a repayment after it
    // (rule 9) counts only from its date, so as at 31 March a repayment in May is not yet made.
    let accounts = sql::account_figures(store, year, None, Some(date), known).await?;
    let schedule = crate::storage::cash::scheduled(store, year).await?;
    let threshold = crate::storage::cash::clawback_threshold(store).await?;
    let mut report = build(year, date, &accounts, &schedule, threshold);
    report.as_known_at = known.label();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse_date;

    fn fig(kind: AccountKind, project: Option<&str>, pence: i64) -> AccountFigure {
        AccountFigure { kind, grant: "LDF".into(), project: project.map(str::to_owned), pence }
    }

    #[test]
    fn every_figure_by_hand() {
        use AccountKind::*;
        let fy = FinancialYear::parse("2023-24").unwrap();
        // Awarded 100,000; received 80,000; spent 60,000; returned 20,000 of which 5,000
        // repaid (cash 75,000, owed 15,000); 16,000 still unallocated or available.
        let accounts = [
            fig(Awarded, None, 10_000_000),
            fig(Received, None, -8_000_000),
            fig(Cash, None, 7_500_000),
            fig(Spent, Some("P1"), -6_000_000),
            fig(Returned, None, -2_000_000),
            fig(Owed, None, -1_500_000),
            fig(Claimed, None, 2_000_000),
            fig(Unallocated, None, -1_000_000),
            fig(Available, Some("P1"), -600_000),
        ];
        let inst = |d: &str, p: i64| ScheduledInstalment {
            grant: "LDF".into(),
            financial_year: fy,
            due_on: parse_date(d).unwrap(),
            amount: Money::from_pence(p),
        };
        let schedule = [inst("2023-04-01", 8_500_000), inst("2024-03-01", 1_500_000)];
        let r = build(fy, parse_date("2023-12-31").unwrap(), &accounts, &schedule, Money::from_pence(1_500_000));
        let row = &r.awards[0];
        let m = |p: i64| Money::from_pence(p);
        assert_eq!(row.awarded, m(10_000_000));
        assert_eq!(row.scheduled_to_date, m(8_500_000));
        assert_eq!(row.received, m(8_000_000));
        assert_eq!(row.due_not_received, m(500_000));
        assert_eq!(row.spent, m(6_000_000));
        assert_eq!(row.repaid, m(500_000));
        assert_eq!(row.cash_held, m(1_500_000));
        assert_eq!(row.returned, m(2_000_000));
        assert_eq!(row.owed_to_funder, m(1_500_000));
        assert_eq!(row.underspend, m(1_600_000));
        assert!(row.underspend_flag);
        super::super::columns::tests::check_kinds(&COLUMNS, &csv_rows(&r));
        let json = serde_json::to_string(row).unwrap();
        let at: Vec<usize> = CSV_HEADER
            .iter()
            .map(|n| json.find(&format!("\"{n}\":")).unwrap_or_else(|| panic!("{n}: {json}")))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "JSON fields in the columns' order: {json}");
        let r = build(fy, parse_date("2023-12-31").unwrap(), &accounts, &schedule, Money::from_pence(1_600_000));
        assert!(!r.awards[0].underspend_flag, "at the threshold is not above it");
    }
}
