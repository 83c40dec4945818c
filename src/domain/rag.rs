//! The red/amber/green rule of the variance report.
//!
//! - **red**: overspent (actual above budget, or available below zero), or spend more than
//!   `red_pct` percentage points outside the profile band;
//! - **amber**: spend more than `amber_pct` points outside the profile band;
//! - **green**: otherwise.
//!
//! The profile is straight-line by elapsed quarter: at a date in quarter q the project should
//! have spent between (q−1)/4 of its budget (the quarters already ended) and q/4 (the quarter
//! under way). On a quarter's last day both ends are q/4. Before the year: 0; after it: 100%.
//!
//! One figure, one rounding: a percentage is taken to one place, half away from zero
//! (`percent_one_place`), once. The report's `percent_spent`, the rating and every word of
//! `why` use that one figure, so no text can say 43.6% beside a 43.7.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::domain::FinancialYear;
use crate::domain::words::word_set;

word_set!(
    /// The variance report's rating of a project, worst last: the order is the comparison.
    Rag, "RAG rating", { Green => "green", Amber => "amber", Red => "red" }
);

/// Thresholds in percentage points of budget, outside the profile band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RagRule {
    pub amber_pct: Decimal,
    pub red_pct: Decimal,
}

impl Default for RagRule {
    /// 10 points adrift is worth a question at the quarterly review; 25 points is a whole
    /// quarter's profile, which needs action.
    fn default() -> RagRule {
        RagRule { amber_pct: Decimal::from(10), red_pct: Decimal::from(25) }
    }
}

impl RagRule {
    /// Builds a rule from settings text; amber must not exceed red, both 0–100.
    pub fn parse(amber: &str, red: &str) -> Result<RagRule, String> {
        let read = |name: &str, s: &str| -> Result<Decimal, String> {
            let d: Decimal =
                s.trim().parse().map_err(|_| format!("{name} must be a number of percentage points, got {s:?}"))?;
            if d < Decimal::ZERO || d > Decimal::from(100) {
                return Err(format!("{name} must lie between 0 and 100, got {s}"));
            }
            Ok(d)
        };
        let rule = RagRule { amber_pct: read("amber", amber)?, red_pct: read("red", red)? };
        if rule.amber_pct > rule.red_pct {
            return Err(format!("amber ({}) must not exceed red ({})", rule.amber_pct, rule.red_pct));
        }
        Ok(rule)
    }

    /// Rates one set of figures against the profile band: the percentage spent as shown (to
    /// one place) against the band as shown.
    pub fn rate(&self, profile: Profile, budget: i64, actual: i64, available: i64) -> Rag {
        if actual > budget || available < 0 {
            return Rag::Red;
        }
        if budget <= 0 {
            return Rag::Green;
        }
        let drift = drift(profile, percent_one_place(actual, budget));
        if drift > self.red_pct {
            Rag::Red
        } else if drift > self.amber_pct {
            Rag::Amber
        } else {
            Rag::Green
        }
    }
}

/// Pounds for the words of a rating: `£1234.50`.
fn pounds(pence: i64) -> String {
    crate::domain::money::pounds(crate::domain::Money::from_pence(pence), crate::domain::money::Grouping::Plain)
}

/// `part` as a percentage of `whole` (not zero), to one place, half away from zero: the one
/// rounding of every percentage a report shows, as a figure or in words.
pub fn percent_one_place(part: i64, whole: i64) -> Decimal {
    one_place(Decimal::from(part) * Decimal::from(100) / Decimal::from(whole))
}

/// A percentage to one place, half away from zero.
pub fn one_place(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
}

/// Signed points outside the band: below it negative, above it positive, inside it zero.
fn drift_signed(profile: Profile, pct: Decimal) -> Decimal {
    let (low, high) = (one_place(profile.low_pct), one_place(profile.high_pct));
    if pct < low {
        pct - low
    } else if pct > high {
        pct - high
    } else {
        Decimal::ZERO
    }
}

fn drift(profile: Profile, pct: Decimal) -> Decimal {
    drift_signed(profile, pct).abs()
}

/// A band's end as words show it: the one-place figure, without a trailing `.0` (`25`, `41.7`).
fn band_end(d: Decimal) -> String {
    one_place(d).normalize().to_string()
}

impl RagRule {
    /// Why `rate` gave its rating, in words for the page. `year_ended` is a report dated on
    /// or after the year's last day, where the band is 100% and the rating is the outturn's.
    pub fn why(&self, profile: Profile, budget: i64, actual: i64, available: i64, year_ended: bool) -> String {
        if actual > budget {
            return format!("overspent: actual {} is {} above budget", pounds(actual), pounds(actual - budget));
        }
        if available < 0 {
            return format!("overcommitted: available is {}", pounds(available));
        }
        if budget <= 0 {
            return "no budget".into();
        }
        let spent = percent_one_place(actual, budget);
        if year_ended {
            return format!("year ended {spent:.1}% spent, {} unspent", pounds(budget - actual));
        }
        let (low, high) = (band_end(profile.low_pct), band_end(profile.high_pct));
        let band = if low == high { format!("{low}%") } else { format!("{low}–{high}%") };
        let off = drift_signed(profile, spent);
        if off < Decimal::ZERO {
            format!("{spent:.1}% spent, {:.1} points behind the profile ({band})", -off)
        } else if off > Decimal::ZERO {
            format!("{spent:.1}% spent, {off:.1} points ahead of the profile ({band})")
        } else {
            format!("{spent:.1}% spent, on profile ({band})")
        }
    }

    /// Rates an award's unallocated money by its share of the award. While the first quarter
    /// is under way allocations are still being made, so it is green; from then on (and at
    /// the year's end, when it will be returned or carried forward) it is red above the red
    /// threshold, amber above the amber one.
    pub fn rate_unallocated(
        &self,
        profile: Profile,
        awarded: i64,
        unallocated: i64,
        year_ended: bool,
    ) -> (Rag, String) {
        if awarded <= 0 || unallocated <= 0 {
            return (Rag::Green, "all of the award is allocated".into());
        }
        let share = percent_one_place(unallocated, awarded);
        let what = format!("{} ({share:.1}% of the award) unallocated", pounds(unallocated));
        if profile.low_pct.is_zero() && !year_ended {
            return (Rag::Green, format!("{what} while the first quarter is under way"));
        }
        let rag = if share > self.red_pct {
            Rag::Red
        } else if share > self.amber_pct {
            Rag::Amber
        } else {
            Rag::Green
        };
        let when =
            if year_ended { "at the year's end: to be returned or carried forward" } else { "after the first quarter" };
        (rag, format!("{what} {when}"))
    }

    /// What each colour means on a report of a year under way, or of a year that has ended.
    pub fn meaning(&self, year_ended: bool) -> String {
        let (amber, red) = (self.amber_pct, self.red_pct);
        if year_ended {
            format!(
                "The year has ended, so each line is rated on its outturn: red if it was overspent or \
                 more than {red}% of its budget was left unspent, amber if more than {amber}% was, \
                 green otherwise. Unallocated money is rated on its share of the award: red above \
                 {red}%, amber above {amber}%."
            )
        } else {
            format!(
                "Red: overspent, or spend more than {red} points of budget outside the spend profile; \
                 amber: more than {amber} points outside it; green: on profile. Unallocated money is \
                 rated on its share of the award once the first quarter has ended: red above {red}%, \
                 amber above {amber}%."
            )
        }
    }
}

/// The band of percent spent that is on profile at a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Profile {
    #[schema(value_type = String, pattern = r"^\d+(\.\d+)?$")]
    pub low_pct: Decimal,
    #[schema(value_type = String, pattern = r"^\d+(\.\d+)?$")]
    pub high_pct: Decimal,
}

/// A project's planned spend per quarter, in whole percent of its budget, summing to 100.
pub type QuarterPlan = [u8; 4];

/// The plan of a project without one: a quarter of the budget each quarter.
pub const STRAIGHT_LINE: QuarterPlan = [25, 25, 25, 25];

impl Profile {
    pub fn straight_line(year: FinancialYear, date: chrono::NaiveDate) -> Profile {
        Profile::planned(year, date, STRAIGHT_LINE)
    }

    /// The band at `date` of a quarterly plan: from the plan's cumulative percentage at the
    /// end of the quarters already ended to that at the end of the quarter under way.
    pub fn planned(year: FinancialYear, date: chrono::NaiveDate, plan: QuarterPlan) -> Profile {
        let to_end_of = |q: u8| Decimal::from(plan.iter().take(q as usize).map(|p| u32::from(*p)).sum::<u32>());
        if date < year.start() {
            return Profile { low_pct: Decimal::ZERO, high_pct: Decimal::ZERO };
        }
        let Some(q) = year.quarter_of(date) else {
            return Profile { low_pct: to_end_of(4), high_pct: to_end_of(4) };
        };
        let ended = if Some(date) == year.quarter_end(q) { q } else { q - 1 };
        Profile { low_pct: to_end_of(ended), high_pct: to_end_of(q) }
    }

    /// The budget-weighted band of several projects: what they should have spent together.
    /// `parts` holds (budget in pence, band); parts without a budget carry no weight.
    pub fn weighted(parts: &[(i64, Profile)], fallback: Profile) -> Profile {
        let (mut budget, mut low, mut high) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for (b, p) in parts.iter().filter(|(b, _)| *b > 0) {
            let b = Decimal::from(*b);
            budget += b;
            low += b * p.low_pct;
            high += b * p.high_pct;
        }
        if budget.is_zero() {
            return fallback;
        }
        Profile { low_pct: low / budget, high_pct: high / budget }
    }
}

#[cfg(test)]
mod tests {

    fn band(low: u32, high: u32) -> Profile {
        Profile { low_pct: Decimal::from(low), high_pct: Decimal::from(high) }
    }

    #[test]
    fn unallocated_money_is_rated_by_its_share_after_the_first_quarter() {
        let rule = RagRule::default();
        let all = 6_139_400;
        // The whole award unallocated: green while Q1 is under way, red after it and at year end.
        assert_eq!(rule.rate_unallocated(band(0, 25), all, all, false).0, Rag::Green);
        let (rag, why) = rule.rate_unallocated(band(25, 50), all, all, false);
        assert_eq!(
            (rag, why.as_str()),
            (Rag::Red, "£61394.00 (100.0% of the award) unallocated after the first quarter")
        );
        assert_eq!(rule.rate_unallocated(band(100, 100), all, all, true).0, Rag::Red);
        // 15% unallocated is amber (above 10), 10% green, nothing unallocated green.
        assert_eq!(rule.rate_unallocated(band(25, 50), 100_000, 15_000, false).0, Rag::Amber);
        assert_eq!(rule.rate_unallocated(band(25, 50), 100_000, 10_000, false).0, Rag::Green);
        assert_eq!(rule.rate_unallocated(band(25, 50), 100_000, 0, false).0, Rag::Green);
    }

    #[test]
    fn one_figure_one_rounding_at_the_five_boundaries() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        // (actual, budget, shown): exact .x5 midpoints go away from zero, never to even, never down.
        let cases = [
            (4_365, 10_000, "43.7"),  // 43.65
            (4_355, 10_000, "43.6"),  // 43.55: away from zero, not to even (43.6 either way)
            (4_345, 10_000, "43.5"),  // 43.45
            (5, 10_000, "0.1"),       // 0.05
            (9_995, 10_000, "100.0"), // 99.95
            (1, 800, "0.1"),          // 0.125: below the midpoint
            (1, 400, "0.3"),          // 0.25
            (1, 3, "33.3"),           // 33.33…
            (2, 3, "66.7"),           // 66.66…
            (43_649_999, 100_000_000, "43.6"),
        ];
        for (actual, budget, shown) in cases {
            let pct = percent_one_place(actual, budget);
            assert_eq!(pct, d(shown), "{actual} / {budget}");
            assert_eq!(format!("{pct:.1}"), shown, "{actual} / {budget} as text");
        }
        // The words say the figure: 43.65% is 43.7% spent, and 50 − 43.7 = 6.3 points behind.
        let rule = RagRule::default();
        assert_eq!(
            rule.why(band(50, 75), 10_000, 4_365, 5_635, false),
            "43.7% spent, 6.3 points behind the profile (50–75%)"
        );
        assert_eq!(
            rule.why(band(0, 25), 10_000, 2_535, 7_465, false),
            "25.4% spent, 0.4 points ahead of the profile (0–25%)"
        );
        assert_eq!(rule.why(band(100, 100), 10_000, 4_365, 5_635, true), "year ended 43.7% spent, £56.35 unspent");
        assert_eq!(
            rule.rate_unallocated(band(25, 50), 10_000, 1_235, false).1,
            "£12.35 (12.4% of the award) unallocated after the first quarter"
        );
        // The rating reads the same figure: 64.95% shows as 65.0%, 10.0 points behind 75%,
        // which is not more than the amber threshold of 10.
        assert_eq!(
            rule.why(band(75, 75), 10_000, 6_495, 3_505, false),
            "65.0% spent, 10.0 points behind the profile (75%)"
        );
        assert_eq!(rule.rate(band(75, 75), 10_000, 6_495, 3_505), Rag::Green);
        assert_eq!(rule.rate(band(75, 75), 10_000, 6_494, 3_506), Rag::Amber, "64.9%: 10.1 points behind");
        // A weighted band shows, and rates, to one place too.
        let third = Profile { low_pct: d("100") / d("3"), high_pct: d("200") / d("3") };
        assert_eq!(
            rule.why(third, 10_000, 2_000, 8_000, false),
            "20.0% spent, 13.3 points behind the profile (33.3–66.7%)"
        );
    }

    #[test]
    fn a_rating_says_why() {
        let rule = RagRule::default();
        assert_eq!(
            rule.why(band(25, 50), 100_000, 10_000, 90_000, false),
            "10.0% spent, 15.0 points behind the profile (25–50%)"
        );
        assert_eq!(rule.why(band(25, 50), 100_000, 30_000, 70_000, false), "30.0% spent, on profile (25–50%)");
        assert_eq!(rule.why(band(100, 100), 100_000, 80_000, 20_000, true), "year ended 80.0% spent, £200.00 unspent");
        assert_eq!(
            rule.why(band(25, 50), 100_000, 100_050, -50, false),
            "overspent: actual £1000.50 is £0.50 above budget"
        );
        assert!(rule.meaning(true).starts_with("The year has ended"));
        assert!(rule.meaning(false).contains("more than 25 points"));
    }

    use super::*;

    fn d(s: &str) -> chrono::NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn profile_band_follows_elapsed_quarters() {
        let y = FinancialYear::parse("2023-24").unwrap();
        let check = |date: &str, low: i64, high: i64| {
            let p = Profile::straight_line(y, d(date));
            assert_eq!((p.low_pct, p.high_pct), (Decimal::from(low), Decimal::from(high)), "profile at {date}");
        };
        check("2023-03-31", 0, 0);
        check("2023-04-01", 0, 25);
        check("2023-06-30", 25, 25);
        check("2023-07-01", 25, 50);
        check("2023-12-31", 75, 75);
        check("2024-02-10", 75, 100);
        check("2024-03-31", 100, 100);
        check("2025-01-01", 100, 100);
    }

    #[test]
    fn a_planned_profile_moves_the_band() {
        let y = FinancialYear::parse("2023-24").unwrap();
        let plan = [10, 20, 30, 40];
        let check = |date: &str, low: i64, high: i64| {
            let p = Profile::planned(y, d(date), plan);
            assert_eq!((p.low_pct, p.high_pct), (Decimal::from(low), Decimal::from(high)), "plan at {date}");
        };
        check("2023-05-01", 0, 10);
        check("2023-09-30", 30, 30);
        check("2023-11-01", 30, 60);
        check("2024-03-31", 100, 100);
        let band = |l: i64, h: i64| Profile { low_pct: Decimal::from(l), high_pct: Decimal::from(h) };
        let w = Profile::weighted(&[(300, band(30, 30)), (100, band(70, 70)), (0, band(0, 0))], band(1, 1));
        assert_eq!((w.low_pct, w.high_pct), (Decimal::from(40), Decimal::from(40)), "weighted by budget");
        assert_eq!(Profile::weighted(&[], band(1, 2)), band(1, 2));
    }

    #[test]
    fn rag_rule_cases() {
        let rule = RagRule::default();
        let band = |l: i64, h: i64| Profile { low_pct: Decimal::from(l), high_pct: Decimal::from(h) };
        // (profile, budget, actual, available, expected, why)
        let cases = [
            (band(75, 75), 1000, 750, 250, Rag::Green, "exactly on profile"),
            (band(75, 75), 1000, 650, 350, Rag::Green, "10 points behind is not more than amber"),
            (band(75, 75), 1000, 649, 351, Rag::Amber, "just over 10 points behind"),
            (band(75, 75), 1000, 500, 500, Rag::Amber, "25 points behind is amber, not red"),
            (band(75, 75), 1000, 499, 501, Rag::Red, "over 25 points behind"),
            (band(50, 75), 1000, 990, 10, Rag::Amber, "24 points ahead of the band"),
            (band(100, 100), 1000, 1001, -1, Rag::Red, "overspent"),
            (band(0, 25), 0, 0, 0, Rag::Green, "no budget, no spend"),
            (band(0, 25), 0, 5, -5, Rag::Red, "spend with no budget"),
            (band(100, 100), 1000, 900, -1, Rag::Red, "available below zero"),
        ];
        for (profile, budget, actual, available, expected, why) in cases {
            assert_eq!(rule.rate(profile, budget, actual, available), expected, "{why}");
        }
    }

    #[test]
    fn thresholds_are_checked() {
        assert!(RagRule::parse("10", "25").is_ok());
        assert!(RagRule::parse("30", "25").is_err(), "amber above red");
        assert!(RagRule::parse("x", "25").is_err());
        assert!(RagRule::parse("10", "101").is_err());
    }
}
