//! A quantity an indicator counts (sessions, people, referrals): a decimal with its unit
//! beside it, never money. Parsed from a decimal string by one rule, so an out-of-range
//! quantity cannot exist past the edge.

use std::fmt;

use rust_decimal::Decimal;

/// The most decimal places a quantity may have: enough for hours to the minute or a rate.
pub const QUANTITY_PLACES_MAX: u32 = 4;

/// The largest quantity accepted: one thousand million of anything a project counts.
pub const QUANTITY_MAX: i64 = 1_000_000_000;

/// A quantity of zero or more, at most `QUANTITY_MAX`, with at most `QUANTITY_PLACES_MAX`
/// places. Shown as written without trailing zeros: `12`, `2.5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity(Decimal);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error(
        "must be a decimal string like \"12\" or \"2.5\": digits without leading zeros, then optionally '.' and up to four digits"
    )]
    Malformed,
    #[error("must have at most four decimal places")]
    TooManyPlaces,
    #[error("must not be more than 1000000000")]
    TooLarge,
}

impl Quantity {
    pub const ZERO: Quantity = Quantity(Decimal::ZERO);

    /// Parses an unsigned decimal string: `"12"`, `"2.5"`, `"0.0625"`. Signs, exponents,
    /// separators, spaces and more than four places are refused.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let (whole, frac) = text.split_once('.').map_or((text, None), |(w, f)| (w, Some(f)));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || frac.is_some_and(|f| !digits(f)) {
            return Err(QuantityError::Malformed);
        }
        // One way to write each number: no leading zeros (as the schema's pattern says).
        if whole.len() > 1 && whole.starts_with('0') {
            return Err(QuantityError::Malformed);
        }
        if frac.is_some_and(|f| f.len() > QUANTITY_PLACES_MAX as usize) {
            return Err(QuantityError::TooManyPlaces);
        }
        // At most 10 whole digits survive this check, so the parse cannot overflow.
        if whole.len() > 10 {
            return Err(QuantityError::TooLarge);
        }
        let value: Decimal = text.parse().map_err(|_| QuantityError::Malformed)?;
        if value > Decimal::from(QUANTITY_MAX) {
            return Err(QuantityError::TooLarge);
        }
        Ok(Quantity(value.normalize()))
    }

    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// The sum of quantities, which stays a quantity's kind of number (it may pass the input bound).
    pub fn sum(items: impl IntoIterator<Item = Quantity>) -> Decimal {
        items.into_iter().map(|q| q.0).sum()
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl TryFrom<String> for Quantity {
    type Error = QuantityError;
    fn try_from(text: String) -> Result<Quantity, QuantityError> {
        Quantity::parse(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_by_one_rule() {
        let good = [("12", "12"), ("2.5", "2.5"), ("2.50", "2.5"), ("0", "0"), ("0.0625", "0.0625"), ("0.5", "0.5")];
        for (text, shown) in good {
            assert_eq!(Quantity::parse(text).map(|q| q.to_string()), Ok(shown.to_owned()), "{text}");
        }
        assert_eq!(Quantity::parse("1000000000").unwrap().to_string(), "1000000000");
        let bad = [
            ("", QuantityError::Malformed),
            ("-1", QuantityError::Malformed),
            ("+1", QuantityError::Malformed),
            ("1e3", QuantityError::Malformed),
            ("1,000", QuantityError::Malformed),
            (" 1", QuantityError::Malformed),
            ("1.", QuantityError::Malformed),
            (".5", QuantityError::Malformed),
            ("NaN", QuantityError::Malformed),
            ("007", QuantityError::Malformed),
            ("1.23456", QuantityError::TooManyPlaces),
            ("1000000000.0001", QuantityError::TooLarge),
            ("99999999999999999999999999999999", QuantityError::TooLarge),
        ];
        for (text, err) in bad {
            assert_eq!(Quantity::parse(text), Err(err), "{text:?}");
        }
    }
}
