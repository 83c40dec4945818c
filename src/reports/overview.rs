//! The funder's reports over the partnerships this service holds (docs/reports.md, "The
//! funder's overview"; docs/returns.md, "Late and overdue"): today one ledger holds one
//! partnership, so each runs over that one; tenancy will run them over each partnership the
//! funder funds. A row is built from the figures the ledger's own reports compute (the
//! variance report's grant subtotal, the cash position's award, the filed returns), never
//! from sums of its own, so a row equals those reports. `build`, `standing` and `late` are
//! pure; `run` and `returns` read through storage.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::Serialize;

use super::cash::CashPositionReport;
use super::columns::{Column, Kind, cells, money, names, text_cell};
use super::csv_out::Cell;
use super::variance::VarianceReport;
use crate::domain::rag::Rag;
use crate::domain::status::ReturnKind;
use crate::domain::{FinancialYear, Money};
use crate::model::funds::FundRecord;
use crate::model::known::Known;
use crate::model::returns::FiledReturn;
use crate::storage::{Store, StoreError};

/// The return the funder requires each quarter, by which a quarter is overdue or not: the
/// Commissioner's return (docs/returns.md says why).
pub const REQUIRED: ReturnKind = ReturnKind::CommissionerReturn;

/// A partnership as the funder's reports name it.
#[derive(Debug, Clone)]
pub struct Partnership {
    pub code: String,
    pub name: String,
}

impl Partnership {
    /// This ledger's partnership: `partnership_code` and the `partnership` name (its code
    /// while unset).
    pub async fn of_ledger(store: &Store) -> Result<Partnership, StoreError> {
        let code = crate::storage::reference::partnership_code(store).await?;
        let name = crate::storage::reference::setting(store, "partnership").await?.unwrap_or_else(|| code.clone());
        Ok(Partnership { code, name })
    }
}

/// The budget side of a row or a total: the variance report's grant subtotal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Budget {
    /// Awarded this year, carried-forward money included (the grant subtotal's `awarded`).
    pub awarded: Money,
    /// Allocated to projects: the grant subtotal's `budget`.
    pub allocated: Money,
    pub unallocated: Money,
    pub committed: Money,
    /// Spend net of refunds: the grant subtotal's `actual`.
    pub spent: Money,
    pub officer_forecast: Money,
    pub forecast_underspend: Money,
}

/// The cash side of a row or a total: the cash position's award as at today.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Paid {
    /// Paid by the funder (`received`).
    pub received: Money,
    pub owed_to_funder: Money,
}

fn plus(a: Money, b: Money) -> Money {
    a.checked_add(b).expect("report sums stay within i64")
}

impl Budget {
    fn add(&mut self, o: &Budget) {
        for (mine, theirs) in [
            (&mut self.awarded, o.awarded),
            (&mut self.allocated, o.allocated),
            (&mut self.unallocated, o.unallocated),
            (&mut self.committed, o.committed),
            (&mut self.spent, o.spent),
            (&mut self.officer_forecast, o.officer_forecast),
            (&mut self.forecast_underspend, o.forecast_underspend),
        ] {
            *mine = plus(*mine, theirs);
        }
    }
}

/// One partnership's award of one grant, as the funder sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OverviewRow {
    pub partnership: String,
    pub partnership_name: String,
    pub grant: String,
    #[serde(flatten)]
    pub budget: Budget,
    pub rag: Rag,
    pub rag_why: String,
    #[serde(flatten)]
    pub paid: Paid,
    /// When the newest Commissioner's return of the year was filed (by today); null if none.
    #[schema(format = DateTime)]
    pub last_return_filed_at: Option<String>,
    /// Quarters of the year ended and past their due date today with no Commissioner's return.
    #[schema(minimum = 0, maximum = 4)]
    pub returns_overdue: u8,
}

/// One grant's figures summed across the partnerships: the fund's side of the overview.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OverviewTotal {
    pub grant: String,
    /// How many partnerships' rows are summed.
    pub partnerships: u32,
    #[serde(flatten)]
    pub budget: Budget,
    #[serde(flatten)]
    pub paid: Paid,
    /// Quarters overdue, summed over the partnerships.
    pub returns_overdue: u32,
}

/// The funder's overview of a year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FunderOverview {
    pub financial_year: FinancialYear,
    /// Today: figures are current, the cash position and the returns overdue as at today.
    #[schema(format = Date)]
    pub as_at: NaiveDate,
    /// Days after a quarter's end a return is due (setting `return_due_days`).
    pub return_due_days: u16,
    /// One per partnership and grant, by partnership then grant.
    pub rows: Vec<OverviewRow>,
    /// One per grant, its money summed over every partnership's row of it.
    pub totals: Vec<OverviewTotal>,
    /// The funder's funds of the year, by grant: each partnership's share, the shares'
    /// total and how far it goes over the fund (over-programming).
    pub funds: Vec<FundRecord>,
}

/// Where a partnership stands with its returns of a year, as at a date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    pub last_filed_at: Option<String>,
    pub overdue: u8,
}

/// The date a quarter's return is due: `days` after the quarter's last day.
pub fn due_on(year: FinancialYear, quarter: u8, days: u16) -> Option<NaiveDate> {
    year.quarter_end(quarter)?.checked_add_days(Days::new(u64::from(days)))
}

/// The UTC date a return was filed on: `filed_at` is RFC 3339 UTC, its first ten characters.
fn filed_on(r: &FiledReturn) -> Option<NaiveDate> {
    r.filed_at.get(..10).and_then(crate::domain::parse_date)
}

/// Filed after its due date; filed on the due date is on time.
pub fn late(r: &FiledReturn, days: u16) -> bool {
    match (filed_on(r), due_on(r.financial_year, r.quarter, days)) {
        (Some(filed), Some(due)) => filed > due,
        _ => false,
    }
}

/// The newest required return filed by `today`, and the quarters of `year` whose due date
/// has passed by `today` with none filed by then.
pub fn standing(year: FinancialYear, today: NaiveDate, days: u16, filed: &[FiledReturn]) -> Standing {
    let by_today: Vec<&FiledReturn> = filed
        .iter()
        .filter(|r| r.kind == REQUIRED && r.financial_year == year && filed_on(r).is_some_and(|d| d <= today))
        .collect();
    let last_filed_at = by_today.iter().map(|r| r.filed_at.as_str()).max().map(str::to_owned);
    let overdue = (1..=4u8)
        .filter(|q| due_on(year, *q, days).is_some_and(|due| due < today))
        .filter(|q| !by_today.iter().any(|r| r.quarter == *q))
        .count();
    Standing { last_filed_at, overdue: overdue as u8 }
}

/// The partnership's rows: each grant subtotal of the variance report beside its award's
/// cash position (zero where the award has none).
pub fn build(p: &Partnership, variance: &VarianceReport, cash: &CashPositionReport, s: &Standing) -> Vec<OverviewRow> {
    variance
        .grants
        .iter()
        .map(|g| {
            let award = cash.awards.iter().find(|a| a.grant == g.grant);
            OverviewRow {
                partnership: p.code.clone(),
                partnership_name: p.name.clone(),
                grant: g.grant.clone(),
                budget: Budget {
                    awarded: g.awarded,
                    allocated: g.figures.budget,
                    unallocated: g.unallocated,
                    committed: g.figures.committed,
                    spent: g.figures.actual,
                    officer_forecast: g.figures.officer_forecast,
                    forecast_underspend: g.figures.forecast_underspend,
                },
                rag: g.figures.rag,
                rag_why: g.figures.rag_why.clone(),
                paid: award
                    .map_or_else(Paid::default, |a| Paid { received: a.received, owed_to_funder: a.owed_to_funder }),
                last_return_filed_at: s.last_filed_at.clone(),
                returns_overdue: s.overdue,
            }
        })
        .collect()
}

/// Per grant, the rows' money summed across partnerships, in grant order.
pub fn totals(rows: &[OverviewRow]) -> Vec<OverviewTotal> {
    let mut out: BTreeMap<&str, OverviewTotal> = BTreeMap::new();
    for r in rows {
        let t = out.entry(&r.grant).or_insert_with(|| OverviewTotal { grant: r.grant.clone(), ..Default::default() });
        t.partnerships += 1;
        t.budget.add(&r.budget);
        t.paid.received = plus(t.paid.received, r.paid.received);
        t.paid.owed_to_funder = plus(t.paid.owed_to_funder, r.paid.owed_to_funder);
        t.returns_overdue += u32::from(r.returns_overdue);
    }
    out.into_values().collect()
}

/// The overview's columns: the CSV header and the JSON fields of a row, in order.
pub const COLUMNS: [Column<OverviewRow>; 16] = {
    use Kind::{Money, Text, Whole};
    [
        Column::new("partnership", Text, |r| text_cell(&r.partnership)),
        Column::new("partnership_name", Text, |r| text_cell(&r.partnership_name)),
        Column::new("grant", Text, |r| text_cell(&r.grant)),
        Column::new("awarded", Money, |r| money(r.budget.awarded)),
        Column::new("allocated", Money, |r| money(r.budget.allocated)),
        Column::new("unallocated", Money, |r| money(r.budget.unallocated)),
        Column::new("committed", Money, |r| money(r.budget.committed)),
        Column::new("spent", Money, |r| money(r.budget.spent)),
        Column::new("officer_forecast", Money, |r| money(r.budget.officer_forecast)),
        Column::new("forecast_underspend", Money, |r| money(r.budget.forecast_underspend)),
        Column::new("rag", Text, |r| text_cell(r.rag.as_str())),
        Column::new("rag_why", Text, |r| text_cell(&r.rag_why)),
        Column::new("received", Money, |r| money(r.paid.received)),
        Column::new("owed_to_funder", Money, |r| money(r.paid.owed_to_funder)),
        Column::new("last_return_filed_at", Text, |r| text_cell(r.last_return_filed_at.as_deref().unwrap_or(""))),
        Column::new("returns_overdue", Whole, |r| Cell::Number(r.returns_overdue.to_string())),
    ]
};

pub const CSV_HEADER: [&str; 16] = names(&COLUMNS);

/// The totals' columns: the workbook's "Totals" sheet.
pub const TOTAL_COLUMNS: [Column<OverviewTotal>; 12] = {
    use Kind::{Money, Text, Whole};
    [
        Column::new("grant", Text, |t| text_cell(&t.grant)),
        Column::new("partnerships", Whole, |t| Cell::Number(t.partnerships.to_string())),
        Column::new("awarded", Money, |t| money(t.budget.awarded)),
        Column::new("allocated", Money, |t| money(t.budget.allocated)),
        Column::new("unallocated", Money, |t| money(t.budget.unallocated)),
        Column::new("committed", Money, |t| money(t.budget.committed)),
        Column::new("spent", Money, |t| money(t.budget.spent)),
        Column::new("officer_forecast", Money, |t| money(t.budget.officer_forecast)),
        Column::new("forecast_underspend", Money, |t| money(t.budget.forecast_underspend)),
        Column::new("received", Money, |t| money(t.paid.received)),
        Column::new("owed_to_funder", Money, |t| money(t.paid.owed_to_funder)),
        Column::new("returns_overdue", Whole, |t| Cell::Number(t.returns_overdue.to_string())),
    ]
};

/// The rows as CSV cells under `CSV_HEADER` (the totals are the workbook's and the JSON's).
pub fn csv_rows(r: &FunderOverview) -> Vec<Vec<Cell>> {
    r.rows.iter().map(|row| cells(&COLUMNS, row)).collect()
}

/// The overview as an XLSX workbook: sheet "Overview" (the CSV's rows), sheet "Totals".
pub fn xlsx(r: &FunderOverview) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    super::monitoring::write_sheet(book.add_worksheet(), "Overview", &COLUMNS, &csv_rows(r))?;
    let totals: Vec<Vec<Cell>> = r.totals.iter().map(|t| cells(&TOTAL_COLUMNS, t)).collect();
    super::monitoring::write_sheet(book.add_worksheet(), "Totals", &TOTAL_COLUMNS, &totals)?;
    book.save_to_buffer()
}

/// Every return of `year` this ledger has filed, of either kind.
async fn filed_returns(store: &Store, year: FinancialYear) -> Result<Vec<FiledReturn>, StoreError> {
    let limit = crate::model::page::PAGE_LIMIT_MAX;
    let (mut all, mut after) = (Vec::new(), 0);
    loop {
        let page = crate::storage::returns::list(store, None, Some(year), after, limit).await?;
        after = page.items.last().map_or(0, |r| r.id);
        all.extend(page.items);
        if page.next_cursor.is_none() || after == 0 {
            return Ok(all);
        }
    }
}

/// The overview of `year` over this ledger's partnership: current figures, the cash
/// position and the returns overdue as at `today`.
pub async fn run(store: &Store, year: FinancialYear, today: NaiveDate) -> Result<FunderOverview, StoreError> {
    let variance = super::run::variance(store, year, None, &Known::Now, None, today).await?;
    let cash = super::cash::run(store, year, None, &Known::Now, today).await?;
    let partnership = Partnership::of_ledger(store).await?;
    let days = crate::storage::reference::return_due_days(store).await?;
    let standing = standing(year, today, days, &filed_returns(store, year).await?);
    let rows = build(&partnership, &variance, &cash, &standing);
    let funds = match crate::storage::funds::home_funder(store).await? {
        Some(funder) => crate::storage::funds::funds_of_year(store, &funder, year).await?,
        None => Vec::new(),
    };
    Ok(FunderOverview { financial_year: year, as_at: today, return_due_days: days, totals: totals(&rows), rows, funds })
}

/// A filed return as the funder lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FunderReturn {
    pub partnership: String,
    pub id: i64,
    pub kind: ReturnKind,
    #[schema(minimum = 1, maximum = 4)]
    pub quarter: u8,
    #[schema(format = DateTime)]
    pub filed_at: String,
    pub sha256: String,
    /// The quarter's due date: its last day plus `return_due_days`.
    #[schema(format = Date)]
    pub due_on: Option<NaiveDate>,
    /// Filed (UTC date) after `due_on`.
    pub late: bool,
}

/// The returns filed for a year (one quarter's, if asked), by quarter then filing.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FunderReturns {
    pub financial_year: FinancialYear,
    pub return_due_days: u16,
    pub items: Vec<FunderReturn>,
}

/// The funder's list of filed returns of `year`, of `quarter` when given.
pub async fn returns(store: &Store, year: FinancialYear, quarter: Option<u8>) -> Result<FunderReturns, StoreError> {
    if !crate::storage::reports::year_exists(store, year).await? {
        return Err(StoreError::invalid("financial_year", format!("{year} is not a financial year of this ledger")));
    }
    let partnership = Partnership::of_ledger(store).await?;
    let days = crate::storage::reference::return_due_days(store).await?;
    let mut filed = filed_returns(store, year).await?;
    filed.retain(|r| quarter.is_none_or(|q| r.quarter == q));
    filed.sort_by_key(|r| (r.quarter, r.id));
    let items = filed
        .into_iter()
        .map(|r| FunderReturn {
            partnership: partnership.code.clone(),
            late: late(&r, days),
            due_on: due_on(r.financial_year, r.quarter, days),
            id: r.id,
            kind: r.kind,
            quarter: r.quarter,
            filed_at: r.filed_at,
            sha256: r.sha256,
        })
        .collect();
    Ok(FunderReturns { financial_year: year, return_due_days: days, items })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filed(kind: ReturnKind, quarter: u8, at: &str) -> FiledReturn {
        FiledReturn {
            id: 1,
            kind,
            financial_year: FinancialYear::parse("2023-24").unwrap(),
            quarter,
            filed_at: at.to_owned(),
            filed_by: "t".into(),
            sha256: String::new(),
            bytes: 0,
            file_name: String::new(),
            position: vec![],
        }
    }

    #[test]
    fn a_rows_json_fields_are_its_columns_in_order() {
        let row = OverviewRow {
            partnership: "TAM".into(),
            partnership_name: "Tamworth".into(),
            grant: "LDF".into(),
            budget: Budget::default(),
            rag: Rag::Green,
            rag_why: String::new(),
            paid: Paid::default(),
            last_return_filed_at: None,
            returns_overdue: 0,
        };
        let json = serde_json::to_string(&row).unwrap();
        let at: Vec<usize> = CSV_HEADER.iter().map(|n| json.find(&format!("\"{n}\":")).expect(n)).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{json}");
        assert_eq!(at.len(), json.matches("\":").count(), "no field beyond the columns: {json}");
        super::super::columns::tests::check_kinds(&COLUMNS, &[cells(&COLUMNS, &row)]);
    }

    #[test]
    fn late_is_after_the_due_date_not_on_it() {
        // Q1 2023-24 ends 30 June; 30 days on is 30 July.
        let on_time = filed(ReturnKind::CommissionerReturn, 1, "2023-07-30T23:59:59.000000Z");
        let late_one = filed(ReturnKind::CommissionerReturn, 1, "2023-07-31T00:00:00.000000Z");
        assert!(!late(&on_time, 30));
        assert!(late(&late_one, 30));
        assert!(!late(&late_one, 31), "a longer allowance");
        assert!(late(&on_time, 0), "due on the quarter's last day");
    }

    #[test]
    fn overdue_counts_ended_quarters_past_due_without_a_commissioner_return() {
        let fy = FinancialYear::parse("2023-24").unwrap();
        let d = |s: &str| crate::domain::parse_date(s).unwrap();
        assert_eq!(standing(fy, d("2023-07-30"), 30, &[]).overdue, 0, "Q1 due today: not yet overdue");
        assert_eq!(standing(fy, d("2023-07-31"), 30, &[]).overdue, 1);
        assert_eq!(standing(fy, d("2025-01-01"), 30, &[]).overdue, 4);
        let monitoring = [filed(ReturnKind::MonitoringReturn, 1, "2023-07-01T09:00:00.000000Z")];
        assert_eq!(
            standing(fy, d("2023-08-01"), 30, &monitoring).overdue,
            1,
            "a monitoring return is not the one required"
        );
        let commissioner = [filed(ReturnKind::CommissionerReturn, 1, "2023-09-01T09:00:00.000000Z")];
        let s = standing(fy, d("2023-08-01"), 30, &commissioner);
        assert_eq!((s.overdue, s.last_filed_at), (1, None), "filed after today does not count today");
        let s = standing(fy, d("2023-10-01"), 30, &commissioner);
        assert_eq!(
            (s.overdue, s.last_filed_at.as_deref()),
            (0, Some("2023-09-01T09:00:00.000000Z")),
            "late, not overdue"
        );
    }
}
