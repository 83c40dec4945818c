//! One grant across its award years: awarded, allocated, committed, actual and unspent per
//! year, and the same figures cumulated year on year.

use serde::Serialize;

use super::AccountFigure;
use crate::domain::{AccountKind, Money};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sums {
    awarded: i64,
    allocated: i64,
    committed: i64,
    actual: i64,
}

impl Sums {
    fn unspent(&self) -> i64 {
        self.awarded - self.actual
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct YearFigures {
    pub awarded: Money,
    /// Project budgets: allocations net of reversals.
    pub allocated: Money,
    pub committed: Money,
    pub actual: Money,
    /// Awarded less actual.
    pub unspent: Money,
}

impl YearFigures {
    fn of(s: &Sums) -> YearFigures {
        let m = Money::from_pence;
        YearFigures {
            awarded: m(s.awarded),
            allocated: m(s.allocated),
            committed: m(s.committed),
            actual: m(s.actual),
            unspent: m(s.unspent()),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct YearRow {
    pub financial_year: String,
    #[serde(flatten)]
    pub figures: YearFigures,
    pub cumulative: YearFigures,
}

#[derive(Debug, Clone, Serialize)]
pub struct MultiYearReport {
    pub grant: String,
    pub years: Vec<YearRow>,
    pub totals: YearFigures,
}

/// `years` holds each award year of the grant with its accounts, oldest first.
pub fn build(grant: &str, years: &[(String, Vec<AccountFigure>)]) -> MultiYearReport {
    let mut running = Sums::default();
    let mut rows = Vec::new();
    for (year, accounts) in years {
        let mut s = Sums::default();
        for a in accounts.iter().filter(|a| a.grant == grant) {
            match a.kind {
                AccountKind::Awarded => s.awarded += a.pence,
                AccountKind::Available => s.allocated -= a.pence,
                AccountKind::Committed => {
                    s.allocated -= a.pence;
                    s.committed -= a.pence;
                }
                AccountKind::Spent => {
                    s.allocated -= a.pence;
                    s.actual -= a.pence;
                }
                _ => {}
            }
        }
        running.awarded += s.awarded;
        running.allocated += s.allocated;
        running.committed += s.committed;
        running.actual += s.actual;
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

    #[test]
    fn cumulates_year_on_year() {
        let a = |kind, project: Option<&str>, pence| AccountFigure {
            kind,
            grant: "LDF".into(),
            project: project.map(Into::into),
            pence,
        };
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
}
