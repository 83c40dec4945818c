//! Which financial year a page opens on when none is asked for. Pure: the caller gives today.

use chrono::NaiveDate;

use super::year::FinancialYear;

/// The year holding `today` if it has an award, else the latest year with one (`awarded`);
/// in a ledger with no award at all, the year holding today if it is set up, else the
/// latest set up (`set_up`), else the year holding today.
pub fn default_year(today: NaiveDate, awarded: &[FinancialYear], set_up: &[FinancialYear]) -> FinancialYear {
    let this = FinancialYear::of(today);
    let known = if awarded.is_empty() { set_up } else { awarded };
    if known.contains(&this) { this } else { known.iter().max().copied().unwrap_or(this) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fy(text: &str) -> FinancialYear {
        FinancialYear::parse(text).unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        crate::domain::parse_date(text).unwrap()
    }

    /// Every branch, each expected year written by hand.
    #[test]
    fn every_branch_with_the_year_written_by_hand() {
        let awarded = [fy("2022-23"), fy("2023-24"), fy("2024-25")];
        let set_up = [fy("2022-23"), fy("2023-24"), fy("2024-25"), fy("2025-26")];
        // (today, years with an award, years set up, the year expected, why)
        type Case<'a> = (&'a str, &'a [FinancialYear], &'a [FinancialYear], &'a str, &'a str);
        let cases: [Case; 10] = [
            ("2024-06-15", &awarded, &set_up, "2024-25", "today's year has an award"),
            ("2023-04-01", &awarded, &set_up, "2023-24", "the first day of a year with an award"),
            ("2024-03-31", &awarded, &set_up, "2023-24", "the last day of a year with an award"),
            ("2022-12-25", &awarded, &set_up, "2022-23", "the earliest year with an award holds today"),
            ("2025-06-15", &awarded, &set_up, "2024-25", "today's year is set up without an award"),
            ("2026-12-05", &awarded, &set_up, "2024-25", "today's year is not set up"),
            ("2019-05-01", &awarded, &set_up, "2024-25", "today is before every award: the latest, not the first"),
            ("2023-08-01", &[], &set_up, "2023-24", "no award: today's year is set up"),
            ("2030-01-01", &[], &set_up, "2025-26", "no award: the latest year set up"),
            ("2024-06-15", &[], &[], "2024-25", "nothing set up: today's year"),
        ];
        for (today, awarded, set_up, expected, why) in cases {
            assert_eq!(default_year(day(today), awarded, set_up).to_string(), expected, "{why}");
        }
    }

    #[test]
    fn the_order_the_years_come_in_does_not_matter() {
        let shuffled = [fy("2024-25"), fy("2022-23"), fy("2023-24")];
        assert_eq!(default_year(day("2026-01-01"), &shuffled, &[]).to_string(), "2024-25");
    }
}
