//! Money as whole pence. Parsed from strings by the rules of docs/design.md and
//! nothing else, so an invalid amount cannot exist past the edge.

use std::fmt;

use rust_decimal::Decimal;

/// The largest amount accepted on input: £1,000,000,000.
pub const AMOUNT_PENCE_MAX: i64 = 100_000_000_000;

/// A signed amount of money in pence. Arithmetic is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must not be empty")]
    Empty,
    #[error("must be a decimal string like \"1500.00\": digits, then optionally '.' and one or two digits")]
    Malformed,
    #[error("must have at most two decimal places")]
    TooManyPlaces,
    #[error("must not be more than £1,000,000,000")]
    TooLarge,
    #[error("must be greater than zero")]
    NotPositive,
    #[error("arithmetic overflow")]
    Overflow,
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_pence(pence: i64) -> Money {
        Money(pence)
    }

    pub fn pence(self) -> i64 {
        self.0
    }

    /// Parses an unsigned decimal string: `"61394"`, `"61394.5"`, `"61394.50"`.
    /// Signs, exponents, separators, spaces and more than two places are refused.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        if text.is_empty() {
            return Err(MoneyError::Empty);
        }
        let (whole, frac) = match text.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (text, None),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::Malformed);
        }
        let frac_pence = match frac {
            None => 0,
            Some(f) if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(MoneyError::Malformed);
            }
            Some(f) if f.len() > 2 => return Err(MoneyError::TooManyPlaces),
            Some(f) if f.len() == 1 => i64::from(f.as_bytes()[0] - b'0') * 10,
            Some(f) => i64::from(f.as_bytes()[0] - b'0') * 10 + i64::from(f.as_bytes()[1] - b'0'),
        };
        // Leading zeros are harmless; strip them so the length check below is fair.
        let digits = whole.trim_start_matches('0');
        if digits.len() > 10 {
            return Err(MoneyError::TooLarge);
        }
        let pounds: i64 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| MoneyError::Malformed)? };
        let pence = pounds * 100 + frac_pence;
        if pence > AMOUNT_PENCE_MAX {
            return Err(MoneyError::TooLarge);
        }
        Ok(Money(pence))
    }

    /// Parses an amount that must be greater than zero, as every posting request needs.
    pub fn parse_positive(text: &str) -> Result<Money, MoneyError> {
        let m = Money::parse(text)?;
        if m.0 <= 0 {
            return Err(MoneyError::NotPositive);
        }
        Ok(m)
    }

    /// Parses a signed amount, as a CSV import line carries: a leading '-' marks a refund.
    pub fn parse_signed(text: &str) -> Result<Money, MoneyError> {
        match text.strip_prefix('-') {
            Some(rest) => Money::parse(rest).map(|m| Money(-m.0)),
            None => Money::parse(text),
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.0.checked_add(other.0).map(Money).ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.0.checked_sub(other.0).map(Money).ok_or(MoneyError::Overflow)
    }

    pub fn negated(self) -> Money {
        Money(-self.0)
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    pub fn min(self, other: Money) -> Money {
        Money(self.0.min(other.0))
    }
}

impl fmt::Display for Money {
    /// Always two places: `"1500.00"`, `"-0.05"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// Whether a figure shown to a person has its thousands separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// `£61,394.00`: tables, headlines, terminals.
    Thousands,
    /// `£61394.00`: the words of a rating and a chart's description, as reports have always
    /// given them in JSON.
    Plain,
}

/// The one formatter of a figure shown to a person: `£61,394.00`, `-£250.00`.
pub fn pounds(m: Money, grouping: Grouping) -> String {
    let text = m.to_string();
    let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |d| ("-", d));
    match grouping {
        Grouping::Thousands => format!("{sign}£{}", group_thousands(digits)),
        Grouping::Plain => format!("{sign}£{digits}"),
    }
}

/// `-25000.00` → `-25,000.00`, for a reader scanning a column of money. Anything that is
/// not a plain decimal number is left as it is.
pub fn group_thousands(number: &str) -> String {
    let (sign, unsigned) = number.strip_prefix('-').map_or(("", number), |rest| ("-", rest));
    let (whole, fraction) = unsigned.split_once('.').map_or((unsigned, None), |(w, f)| (w, Some(f)));
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !plain(whole) || fraction.is_some_and(|f| !plain(f)) {
        return number.to_owned();
    }
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn figures_for_people_are_grouped_in_thousands() {
        let cases = [
            (0, "£0.00", "£0.00"),
            (6_139_400, "£61,394.00", "£61394.00"),
            (-25_000, "-£250.00", "-£250.00"),
            (-5, "-£0.05", "-£0.05"),
            (100_000_000_000, "£1,000,000,000.00", "£1000000000.00"),
        ];
        for (pence, grouped, plain) in cases {
            assert_eq!(pounds(Money::from_pence(pence), Grouping::Thousands), grouped);
            assert_eq!(pounds(Money::from_pence(pence), Grouping::Plain), plain);
        }
        let numbers = [
            ("0.00", "0.00"),
            ("999.99", "999.99"),
            ("1000.00", "1,000.00"),
            ("-25000.00", "-25,000.00"),
            ("1234567.5", "1,234,567.5"),
            ("61394", "61,394"),
            ("45.5", "45.5"),
            ("n/a", "n/a"),
            ("1e5", "1e5"),
            ("-", "-"),
        ];
        for (given, shown) in numbers {
            assert_eq!(group_thousands(given), shown, "{given}");
        }
    }

    fn check(input: &str, expected: Result<i64, MoneyError>) {
        assert_eq!(Money::parse(input).map(Money::pence), expected, "parsing {input:?}");
    }

    #[test]
    fn accepts_the_three_forms() {
        check("61394", Ok(6_139_400));
        check("61394.5", Ok(6_139_450));
        check("61394.50", Ok(6_139_450));
        check("0.01", Ok(1));
        check("0", Ok(0));
        check("1000000000", Ok(AMOUNT_PENCE_MAX));
        check("1000000000.00", Ok(AMOUNT_PENCE_MAX));
        check("007.10", Ok(710));
    }

    #[test]
    fn refuses_everything_else() {
        use MoneyError::*;
        check("", Err(Empty));
        check("1.234", Err(TooManyPlaces));
        check("1e5", Err(Malformed));
        check("1E5", Err(Malformed));
        check("+5", Err(Malformed));
        check("-5", Err(Malformed));
        check("1,000", Err(Malformed));
        check("1 000", Err(Malformed));
        check(" 5", Err(Malformed));
        check("5 ", Err(Malformed));
        check(".5", Err(Malformed));
        check("5.", Err(Malformed));
        check("£5", Err(Malformed));
        check("NaN", Err(Malformed));
        check("1000000000.01", Err(TooLarge));
        check("99999999999", Err(TooLarge));
        check("99999999999999999999999", Err(TooLarge));
        check("0x10", Err(Malformed));
        check("5.-1", Err(Malformed));
    }

    #[test]
    fn positive_and_signed() {
        assert_eq!(Money::parse_positive("0"), Err(MoneyError::NotPositive));
        assert_eq!(Money::parse_positive("0.00"), Err(MoneyError::NotPositive));
        assert_eq!(Money::parse_signed("-12.30").unwrap().pence(), -1230);
        assert_eq!(Money::parse_signed("--1"), Err(MoneyError::Malformed));
    }

    #[test]
    fn displays_two_places() {
        assert_eq!(Money::from_pence(150_000).to_string(), "1500.00");
        assert_eq!(Money::from_pence(-5).to_string(), "-0.05");
        assert_eq!(Money::from_pence(0).to_string(), "0.00");
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(pence in 0i64..=AMOUNT_PENCE_MAX) {
            let m = Money::from_pence(pence);
            prop_assert_eq!(Money::parse(&m.to_string()), Ok(m));
            prop_assert_eq!(m.to_decimal().to_string(), m.to_string());
        }

        #[test]
        fn arbitrary_strings_never_panic(s in ".{0,24}") {
            if let Ok(m) = Money::parse(&s) {
                prop_assert!(m.pence() >= 0 && m.pence() <= AMOUNT_PENCE_MAX);
            }
        }
    }
}
