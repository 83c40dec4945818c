//! One grant across its award years: awarded, allocated, committed, actual and unspent per
//! year, and the same figures cumulated year on year. Money carried forward at a year end is
//! shown leaving one year (`carried_forward`) and arriving in the next (`brought_forward`);
//! `awarded` is the funder's money only, so the cumulative figures count it once.

use serde::Serialize;

use super::columns::{Column, Kind, cells, money, names, text_cell};
use super::csv_out::Cell;
use crate::domain::{AccountKind, Money};
use crate::model::reports::AccountFigure;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sums {
    /// From the funder: the award's `awarded` account less what was brought forward.
    awarded: i64,
    brought_forward: i64,
    allocated: i64,
    committed: i64,
    actual: i64,
    carried_forward: i64,
    returned: i64,
}

impl Sums {
    /// What the year still holds: neither spent nor resolved at year end.
    fn unspent(&self) -> i64 {
        self.awarded + self.brought_forward - self.actual - self.carried_forward - self.returned
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct YearFigures {
    /// The funder's award for the year (cumulated: the funder's awards so far).
    pub awarded: Money,
    /// Carried forward into this year from the year before.
    pub brought_forward: Money,
    /// Project budgets: allocations net of reversals.
    pub allocated: Money,
    pub committed: Money,
    pub actual: Money,
    /// Carried forward out of this year at its year end.
    pub carried_forward: Money,
    /// Given back to the funder at year end.
    pub returned: Money,
    /// Awarded and brought forward, less actual, carried forward and returned.
    pub unspent: Money,
}

impl YearFigures {
    fn of(s: &Sums) -> YearFigures {
        let m = Money::from_pence;
        YearFigures {
            awarded: m(s.awarded),
            brought_forward: m(s.brought_forward),
            allocated: m(s.allocated),
            committed: m(s.committed),
            actual: m(s.actual),
            carried_forward: m(s.carried_forward),
            returned: m(s.returned),
            unspent: m(s.unspent()),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct YearRow {
    pub financial_year: String,
    #[serde(flatten)]
    pub figures: YearFigures,
    pub cumulative: YearFigures,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MultiYearReport {
    pub grant: String,
    pub years: Vec<YearRow>,
    pub totals: YearFigures,
}

/// The report's columns as CSV and as the CLI prints them: a year's figures and the unspent
/// money cumulated to it.
pub const COLUMNS: [Column<YearRow>; 7] = {
    use Kind::{Money, Text};
    [
        Column::new("financial_year", Text, |y| text_cell(&y.financial_year)),
        Column::new("awarded", Money, |y| money(y.figures.awarded)),
        Column::new("allocated", Money, |y| money(y.figures.allocated)),
        Column::new("committed", Money, |y| money(y.figures.committed)),
        Column::new("actual", Money, |y| money(y.figures.actual)),
        Column::new("unspent", Money, |y| money(y.figures.unspent)),
        Column::new("cumulative_unspent", Money, |y| money(y.cumulative.unspent)),
    ]
};

pub const CSV_HEADER: [&str; 7] = names(&COLUMNS);

pub fn csv_rows(r: &MultiYearReport) -> Vec<Vec<Cell>> {
    r.years.iter().map(|y| cells(&COLUMNS, y)).collect()
}

/// `years` holds each award year of the grant with its accounts, oldest first.
pub fn build(grant: &str, years: &[(String, Vec<AccountFigure>)]) -> MultiYearReport {
    let mut running = Sums::default();
    let mut rows = Vec::new();
    let mut carried_out_of_last: Option<(String, i64)> = None;
    for (year, accounts) in years {
        let mut s = Sums::default();
        // A carry-forward always lands in the next year, whose award it creates if need be.
        if let Some((last, carried)) = carried_out_of_last.take()
            && crate::domain::FinancialYear::parse(&last).is_ok_and(|l| l.next().to_string() == *year)
        {
            s.brought_forward = carried;
        }
        for a in accounts.iter().filter(|a| a.grant == grant) {
            match a.kind {
                AccountKind::Awarded => s.awarded += a.pence,
                AccountKind::Carried => s.carried_forward -= a.pence,
                AccountKind::Returned => s.returned -= a.pence,
                AccountKind::Available => s.allocated -= a.pence,
                AccountKind::Committed => {
                    s.allocated -= a.pence;
                    s.committed -= a.pence;
                }
                AccountKind::Spent => {
                    s.allocated -= a.pence;
                    s.actual -= a.pence;
                }
                AccountKind::Unallocated
                | AccountKind::Cash
                | AccountKind::Received
                | AccountKind::Owed
                | AccountKind::Claimed => {}
            }
        }
        s.awarded -= s.brought_forward;
        carried_out_of_last = Some((year.clone(), s.carried_forward));
        // Across years the carried money is one sum moving, not new money: the cumulative
        // figures take it out where it leaves and do not add it where it arrives.
        running.awarded += s.awarded;
        running.allocated += s.allocated;
        running.committed += s.committed;
        running.actual += s.actual;
        running.returned += s.returned;
        rows.push(YearRow {
            financial_year: year.clone(),
            figures: YearFigures::of(&s),
            cumulative: YearFigures::of(&running),
        });
    }
    MultiYearReport { grant: grant.to_owned(), years: rows, totals: YearFigures::of(&running) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One LDF account's figure.
    fn a(kind: AccountKind, project: Option<&str>, pence: i64) -> AccountFigure {
        AccountFigure { kind, grant: "LDF".into(), project: project.map(Into::into), pence }
    }

    #[test]
    fn cumulates_year_on_year() {
        use AccountKind::*;
        let years = vec![
            (
                "2022-23".to_owned(),
                vec![a(Awarded, None, 1000), a(Available, Some("P"), -300), a(Spent, Some("P"), -200)],
            ),
            ("2023-24".to_owned(), vec![a(Awarded, None, 1000), a(Committed, Some("P"), -100)]),
        ];
        let r = build("LDF", &years);
        assert_eq!(r.years[0].figures.allocated.pence(), 500);
        assert_eq!(r.years[0].figures.unspent.pence(), 800);
        assert_eq!(r.years[1].cumulative.awarded.pence(), 2000);
        assert_eq!(r.years[1].cumulative.allocated.pence(), 600);
        assert_eq!(r.years[1].cumulative.unspent.pence(), 1800);
        assert_eq!(r.totals.committed.pence(), 100);
    }

    #[test]
    fn carried_money_leaves_one_year_arrives_in_the_next_and_is_counted_once() {
        use AccountKind::*;
        // 2022-23: 1000 awarded, 200 spent, 500 carried, 300 returned.
        // 2023-24: 1000 awarded by the funder, plus the 500 carried in.
        let years = vec![
            (
                "2022-23".to_owned(),
                vec![
                    a(Awarded, None, 1000),
                    a(Spent, Some("P"), -200),
                    a(Carried, None, -500),
                    a(Returned, None, -300),
                ],
            ),
            ("2023-24".to_owned(), vec![a(Awarded, None, 1500), a(Unallocated, None, -1500)]),
        ];
        let r = build("LDF", &years);
        let (y0, y1) = (&r.years[0], &r.years[1]);
        assert_eq!(
            (y0.figures.carried_forward.pence(), y0.figures.returned.pence(), y0.figures.unspent.pence()),
            (500, 300, 0)
        );
        assert_eq!(
            (y1.figures.awarded.pence(), y1.figures.brought_forward.pence(), y1.figures.unspent.pence()),
            (1000, 500, 1500)
        );
        assert_eq!(r.totals.awarded.pence(), 2000, "the funder's money, counted once");
        assert_eq!(r.totals.unspent.pence(), 2000 - 200 - 300);
    }
}
