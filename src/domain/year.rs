//! The UK financial year: 1 April to 31 March, written `2023-24`.

use std::fmt;

use chrono::{Datelike, NaiveDate};

/// A financial year, named by the calendar year it starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FinancialYear(i32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YearError {
    #[error("must be a financial year like \"2023-24\" (or \"2023/24\")")]
    Malformed,
    #[error("the second year must follow the first, as in \"2023-24\"")]
    NotConsecutive,
}

impl FinancialYear {
    /// Years outside this range are refused: no plausible grant lies there, and it keeps dates valid.
    const FIRST_YEAR_MIN: i32 = 2000;
    const FIRST_YEAR_MAX: i32 = 2098;

    pub fn parse(text: &str) -> Result<FinancialYear, YearError> {
        let b = text.as_bytes();
        if b.len() != 7 || !(b[4] == b'-' || b[4] == b'/') {
            return Err(YearError::Malformed);
        }
        let (first, second) = (&text[..4], &text[5..]);
        if !first.bytes().chain(second.bytes()).all(|c| c.is_ascii_digit()) {
            return Err(YearError::Malformed);
        }
        let start: i32 = first.parse().map_err(|_| YearError::Malformed)?;
        let end_short: i32 = second.parse().map_err(|_| YearError::Malformed)?;
        if !(Self::FIRST_YEAR_MIN..=Self::FIRST_YEAR_MAX).contains(&start) {
            return Err(YearError::Malformed);
        }
        if (start + 1) % 100 != end_short {
            return Err(YearError::NotConsecutive);
        }
        Ok(FinancialYear(start))
    }

    /// The financial year a date falls in.
    pub fn of(date: NaiveDate) -> FinancialYear {
        if date.month() >= 4 { FinancialYear(date.year()) } else { FinancialYear(date.year() - 1) }
    }

    pub fn start_year(self) -> i32 {
        self.0
    }

    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0, 4, 1).expect("1 April exists")
    }

    pub fn end(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0 + 1, 3, 31).expect("31 March exists")
    }

    pub fn next(self) -> FinancialYear {
        FinancialYear(self.0 + 1)
    }

    pub fn prev(self) -> FinancialYear {
        FinancialYear(self.0 - 1)
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        FinancialYear::of(date) == self
    }

    /// Quarter 1–4 of a date in this year (Q1 is April–June), or None outside it.
    pub fn quarter_of(self, date: NaiveDate) -> Option<u8> {
        self.period_of(date).map(|p| (p - 1) / 3 + 1)
    }

    /// Period 1–12 of a date in this year (period 1 is April), or None outside it.
    pub fn period_of(self, date: NaiveDate) -> Option<u8> {
        if !self.contains(date) {
            return None;
        }
        let m = date.month() as u8;
        Some(if m >= 4 { m - 3 } else { m + 9 })
    }

    /// The last day of quarter `q` (1–4).
    pub fn quarter_end(self, q: u8) -> Option<NaiveDate> {
        let (y, m, d) = match q {
            1 => (self.0, 6, 30),
            2 => (self.0, 9, 30),
            3 => (self.0, 12, 31),
            4 => (self.0 + 1, 3, 31),
            _ => return None,
        };
        NaiveDate::from_ymd_opt(y, m, d)
    }

    /// The first day of quarter `q` (1–4).
    pub fn quarter_start(self, q: u8) -> Option<NaiveDate> {
        let (y, m) = match q {
            1 => (self.0, 4),
            2 => (self.0, 7),
            3 => (self.0, 10),
            4 => (self.0 + 1, 1),
            _ => return None,
        };
        NaiveDate::from_ymd_opt(y, m, 1)
    }
}

/// The first and last day of the quarter `date` falls in. A financial year's quarters are
/// calendar quarters, so this holds for a date of any year (a cash posting's may lie outside
/// its award's year, rule 9); `quarter_balances` keys its rows by the first.
pub fn quarter_bounds(date: NaiveDate) -> (NaiveDate, NaiveDate) {
    let year = FinancialYear::of(date);
    let q = year.quarter_of(date).expect("a date lies in its own financial year");
    (year.quarter_start(q).expect("quarters 1-4 exist"), year.quarter_end(q).expect("quarters 1-4 exist"))
}

/// The first and last day of the calendar month `date` falls in; `month_balances` keys its
/// rows by the first.
pub fn month_bounds(date: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = date.with_day(1).expect("every month has a first day");
    let next = first.checked_add_months(chrono::Months::new(1)).expect("a month after a ledger date exists");
    (first, next.pred_opt().expect("the day before a month's first exists"))
}

impl fmt::Display for FinancialYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.0, (self.0 + 1) % 100)
    }
}

impl serde::Serialize for FinancialYear {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parses a `YYYY-MM-DD` date, and nothing looser.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    if text.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn parses_both_spellings() {
        assert_eq!(FinancialYear::parse("2023-24").unwrap().to_string(), "2023-24");
        assert_eq!(FinancialYear::parse("2023/24").unwrap().to_string(), "2023-24");
        assert_eq!(FinancialYear::parse("2099-00"), Err(YearError::Malformed));
        assert_eq!(FinancialYear::parse("2023-25"), Err(YearError::NotConsecutive));
        for bad in ["2023", "2023-2024", "23-24", "2023_24", "2023-2a", " 2023-24", "２０２３-24"] {
            assert!(FinancialYear::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn year_quarter_and_period_of_a_date() {
        let fy = FinancialYear::parse("2023-24").unwrap();
        assert_eq!(FinancialYear::of(d("2023-04-01")), fy);
        assert_eq!(FinancialYear::of(d("2024-03-31")), fy);
        assert_eq!(FinancialYear::of(d("2023-03-31")).to_string(), "2022-23");
        assert_eq!(fy.start(), d("2023-04-01"));
        assert_eq!(fy.end(), d("2024-03-31"));
        assert_eq!(fy.quarter_of(d("2023-06-30")), Some(1));
        assert_eq!(fy.quarter_of(d("2023-07-01")), Some(2));
        assert_eq!(fy.quarter_of(d("2023-12-31")), Some(3));
        assert_eq!(fy.quarter_of(d("2024-01-01")), Some(4));
        assert_eq!(fy.quarter_of(d("2024-04-01")), None);
        assert_eq!(fy.period_of(d("2023-04-15")), Some(1));
        assert_eq!(fy.period_of(d("2024-03-15")), Some(12));
        assert_eq!(fy.quarter_end(3), Some(d("2023-12-31")));
        assert_eq!(fy.quarter_start(4), Some(d("2024-01-01")));
        assert_eq!(fy.quarter_end(5), None);
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2023-02-29").is_none());
        assert!(parse_date("2023-2-1").is_none());
        assert!(parse_date("01/02/2023").is_none());
        assert!(parse_date("2024-02-29").is_some());
    }

    proptest! {
        #[test]
        fn every_date_lies_in_its_year_and_one_quarter(days in 0i64..35_000) {
            let date = d("2000-04-01") + chrono::Duration::days(days);
            let fy = FinancialYear::of(date);
            prop_assert!(fy.start() <= date && date <= fy.end());
            let q = fy.quarter_of(date).unwrap();
            prop_assert!(fy.quarter_start(q).unwrap() <= date && date <= fy.quarter_end(q).unwrap());
            prop_assert_eq!(FinancialYear::parse(&fy.to_string()), Ok(fy));
        }
    }
}
