//! The shape of a grant agreement's terms, checked before anything is read or written: its
//! period, and a schedule of one part per financial year that adds up to its amount.

use chrono::NaiveDate;

use super::{FinancialYear, Money};

/// The most yearly parts one agreement may have.
pub const PARTS_MAX: usize = 10;

/// A refusal of an agreement's terms: the field it names, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsError {
    pub field: String,
    pub message: String,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> Result<(), TermsError> {
    Err(TermsError { field: field.into(), message: message.into() })
}

/// Checks an agreement made on `date`, running `start`..=`end`, committing `amount` in
/// `year` (its first part's year) and after, as `schedule` gives it per year.
pub fn check_terms(
    year: FinancialYear,
    date: NaiveDate,
    amount: Money,
    (start, end): (NaiveDate, NaiveDate),
    schedule: &[(FinancialYear, Money)],
) -> Result<(), TermsError> {
    if end < start {
        return refuse("end_date", format!("{end} is before the start date {start}"));
    }
    if date > end {
        return refuse("date", format!("{date} is after the agreement ends on {end}"));
    }
    if schedule.is_empty() {
        return refuse("schedule", "must give at least one financial year's part");
    }
    if schedule.len() > PARTS_MAX {
        return refuse("schedule", format!("must have at most {PARTS_MAX} parts"));
    }
    let mut total = Money::ZERO;
    for (i, (part_year, part)) in schedule.iter().enumerate() {
        if i > 0 && *part_year <= schedule[i - 1].0 {
            return refuse(
                format!("schedule[{i}].financial_year"),
                "parts must be in year order, one per financial year",
            );
        }
        if part_year.end() < start || part_year.start() > end {
            return refuse(
                format!("schedule[{i}].financial_year"),
                format!("{part_year} is outside the agreement's period {start} to {end}"),
            );
        }
        if !part.is_positive() {
            return refuse(format!("schedule[{i}].amount"), "must be more than zero");
        }
        total = total.checked_add(*part).map_err(|_| TermsError {
            field: "schedule".into(),
            message: "adds up to more than the ledger holds".into(),
        })?;
    }
    if schedule[0].0 != year {
        return refuse("financial_year", format!("is {year}, but the schedule's first part is for {}", schedule[0].0));
    }
    if total != amount {
        return refuse("schedule", format!("its parts add up to {total}, not the agreement's amount {amount}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn y(s: &str) -> FinancialYear {
        FinancialYear::parse(s).unwrap()
    }
    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }
    const PERIOD: (&str, &str) = ("2023-10-01", "2024-09-30");

    fn check(year: &str, date: &str, amount: &str, period: (&str, &str), parts: &[(&str, &str)]) -> Option<String> {
        let schedule: Vec<_> = parts.iter().map(|(a, b)| (y(a), m(b))).collect();
        check_terms(y(year), d(date), m(amount), (d(period.0), d(period.1)), &schedule).err().map(|e| e.field)
    }

    #[test]
    fn an_october_to_september_agreement_across_two_years_passes() {
        assert_eq!(check("2023-24", "2023-09-20", "12000", PERIOD, &[("2023-24", "6000"), ("2024-25", "6000")]), None);
    }

    #[test]
    fn each_bad_term_is_named() {
        let two = [("2023-24", "6000"), ("2024-25", "6000")];
        assert_eq!(check("2023-24", "2023-09-20", "12000.01", PERIOD, &two).as_deref(), Some("schedule"));
        assert_eq!(check("2024-25", "2023-09-20", "12000", PERIOD, &two).as_deref(), Some("financial_year"));
        assert_eq!(
            check("2023-24", "2023-09-20", "12000", ("2024-09-30", "2023-10-01"), &two).as_deref(),
            Some("end_date")
        );
        assert_eq!(check("2023-24", "2024-10-01", "12000", PERIOD, &two).as_deref(), Some("date"));
        assert_eq!(check("2023-24", "2023-09-20", "0", PERIOD, &[]).as_deref(), Some("schedule"));
        let reversed = [("2024-25", "6000"), ("2023-24", "6000")];
        assert_eq!(
            check("2024-25", "2023-09-20", "12000", PERIOD, &reversed).as_deref(),
            Some("schedule[1].financial_year")
        );
        let twice = [("2023-24", "6000"), ("2023-24", "6000")];
        assert_eq!(
            check("2023-24", "2023-09-20", "12000", PERIOD, &twice).as_deref(),
            Some("schedule[1].financial_year")
        );
        let outside = [("2023-24", "6000"), ("2025-26", "6000")];
        assert_eq!(
            check("2023-24", "2023-09-20", "12000", PERIOD, &outside).as_deref(),
            Some("schedule[1].financial_year")
        );
        let nothing = [("2023-24", "12000"), ("2024-25", "0")];
        assert_eq!(check("2023-24", "2023-09-20", "12000", PERIOD, &nothing).as_deref(), Some("schedule[1].amount"));
    }
}
