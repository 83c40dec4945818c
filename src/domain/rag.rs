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

use rust_decimal::Decimal;

use crate::domain::FinancialYear;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[derive(utoipa::ToSchema)]
pub enum Rag {
    Green,
    Amber,
    Red,
}

impl Rag {
    pub fn as_str(self) -> &'static str {
        match self {
            Rag::Red => "red",
            Rag::Amber => "amber",
            Rag::Green => "green",
        }
    }
}

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

    /// Rates one set of figures against the profile band.
    pub fn rate(&self, profile: Profile, budget: i64, actual: i64, available: i64) -> Rag {
        if actual > budget || available < 0 {
            return Rag::Red;
        }
        if budget <= 0 {
            return Rag::Green;
        }
        let pct = Decimal::from(actual) * Decimal::from(100) / Decimal::from(budget);
        let drift = if pct < profile.low_pct {
            profile.low_pct - pct
        } else if pct > profile.high_pct {
            pct - profile.high_pct
        } else {
            Decimal::ZERO
        };
        if drift > self.red_pct {
            Rag::Red
        } else if drift > self.amber_pct {
            Rag::Amber
        } else {
            Rag::Green
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
