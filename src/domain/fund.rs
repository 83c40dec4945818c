//! A funder's fund for a year and the partnerships' shares of it (ARCHITECTURE.md,
//! "Partnerships and funders"): the arithmetic that setting the shares and moving money
//! between two partnerships' awards must hold to. The storage operations that will write
//! those changes are not built yet; they are to check these inside the `db_tx` that writes
//! the change, with figures read in that `db_tx`.

use std::collections::BTreeSet;

use super::money::Money;

/// How far a funder lets its shares go over the fund, in whole percent (Warwickshire awards
/// about 10% over budget because partners underspend). 0 means the shares never exceed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OverProgramming(u32);

/// The most a funder may over-programme: double its fund is no longer a budget.
pub const OVER_PROGRAMMING_MAX_PCT: u32 = 100;

impl OverProgramming {
    pub fn percent(pct: u32) -> Result<OverProgramming, FundError> {
        if pct > OVER_PROGRAMMING_MAX_PCT {
            return Err(FundError::OverProgrammingTooHigh(pct));
        }
        Ok(OverProgramming(pct))
    }

    pub fn pct(self) -> u32 {
        self.0
    }

    /// What the shares of `fund` may add up to: the fund and the allowed part of it over,
    /// rounded down to the penny so the allowance is never exceeded.
    pub fn ceiling(self, fund: Money) -> Money {
        let over = i128::from(fund.pence()) * i128::from(self.0) / 100;
        Money::from_pence(fund.pence() + i64::try_from(over).expect("at most double an amount that fits"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FundError {
    #[error("over-programming must be at most {OVER_PROGRAMMING_MAX_PCT}%, not {0}%")]
    OverProgrammingTooHigh(u32),
    #[error("the fund must be more than zero")]
    EmptyFund,
    #[error("{0} is given a share twice")]
    RepeatedShare(String),
    #[error("{0}'s share must not be negative")]
    NegativeShare(String),
    #[error("the shares add up to {total}, more than the {ceiling} the fund allows")]
    SharesExceedFund { total: Money, ceiling: Money },
    #[error("a reallocation must be more than zero")]
    NotPositive,
    #[error("a reallocation moves money between two partnerships, not within {0}")]
    SamePartnership(String),
    #[error("{partnership} has {available} of its award not allocated at some date from then on, less than {amount}")]
    BelowAllocated { partnership: String, available: Money, amount: Money },
}

/// One partnership's share of a fund: its award of the fund's grant for the year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub partnership: String,
    pub amount: Money,
}

/// Checks a whole set of shares of `fund` and answers their total: each partnership once,
/// none negative, and together within what the fund allows.
pub fn check_shares(fund: Money, shares: &[Share], over: OverProgramming) -> Result<Money, FundError> {
    if !fund.is_positive() {
        return Err(FundError::EmptyFund);
    }
    let mut seen = BTreeSet::new();
    let mut total = Money::ZERO;
    for s in shares {
        if !seen.insert(s.partnership.as_str()) {
            return Err(FundError::RepeatedShare(s.partnership.clone()));
        }
        if s.amount < Money::ZERO {
            return Err(FundError::NegativeShare(s.partnership.clone()));
        }
        total = total.checked_add(s.amount).map_err(|_| FundError::SharesExceedFund {
            total: Money::from_pence(i64::MAX),
            ceiling: over.ceiling(fund),
        })?;
    }
    let ceiling = over.ceiling(fund);
    if total > ceiling {
        return Err(FundError::SharesExceedFund { total, ceiling });
    }
    Ok(total)
}

/// A partnership's award as a reallocation finds it: the award, and the least of the award
/// less what the partnership has allocated, as at each date from the reallocation's date on
/// (rule 8 holds as at every date, so a later allocation counts too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardPosition {
    pub partnership: String,
    pub award: Money,
    pub least_unallocated_from_then: Money,
}

/// Moves `amount` from one partnership's award to another's: the two awards after it. The
/// pair's total is unchanged, so the fund's is too.
pub fn reallocate(from: &AwardPosition, to: &AwardPosition, amount: Money) -> Result<(Money, Money), FundError> {
    if !amount.is_positive() {
        return Err(FundError::NotPositive);
    }
    if from.partnership == to.partnership {
        return Err(FundError::SamePartnership(from.partnership.clone()));
    }
    if amount > from.least_unallocated_from_then {
        return Err(FundError::BelowAllocated {
            partnership: from.partnership.clone(),
            available: from.least_unallocated_from_then.max(Money::ZERO),
            amount,
        });
    }
    let overflow = |_| FundError::NotPositive;
    Ok((from.award.checked_sub(amount).map_err(overflow)?, to.award.checked_add(amount).map_err(overflow)?))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn gbp(pounds: i64) -> Money {
        Money::from_pence(pounds * 100)
    }

    fn share(p: &str, pounds: i64) -> Share {
        Share { partnership: p.to_owned(), amount: gbp(pounds) }
    }

    #[test]
    fn shares_stay_within_the_fund_and_its_allowance() {
        let none = OverProgramming::default();
        assert_eq!(check_shares(gbp(100), &[share("A", 60), share("B", 40)], none), Ok(gbp(100)));
        assert_eq!(
            check_shares(gbp(100), &[share("A", 60), share("B", 41)], none),
            Err(FundError::SharesExceedFund { total: gbp(101), ceiling: gbp(100) })
        );
        let ten = OverProgramming::percent(10).unwrap();
        assert_eq!(check_shares(gbp(100), &[share("A", 60), share("B", 50)], ten), Ok(gbp(110)));
        assert!(check_shares(gbp(100), &[share("A", 60), share("B", 51)], ten).is_err());
        assert_eq!(
            check_shares(gbp(100), &[share("A", 1), share("A", 1)], none),
            Err(FundError::RepeatedShare("A".into()))
        );
        assert_eq!(check_shares(gbp(100), &[share("A", -1)], none), Err(FundError::NegativeShare("A".into())));
        assert_eq!(check_shares(Money::ZERO, &[], none), Err(FundError::EmptyFund));
        assert_eq!(OverProgramming::percent(101), Err(FundError::OverProgrammingTooHigh(101)));
        // 10% of £0.09 is 0.9p: the allowance rounds down, never up.
        assert_eq!(ten.ceiling(Money::from_pence(9)), Money::from_pence(9));
    }

    #[test]
    fn a_reallocation_never_takes_an_award_below_what_is_allocated() {
        let from =
            AwardPosition { partnership: "CAN".into(), award: gbp(85_000), least_unallocated_from_then: gbp(5_000) };
        let to = AwardPosition { partnership: "TAM".into(), award: gbp(61_394), least_unallocated_from_then: gbp(0) };
        assert_eq!(reallocate(&from, &to, gbp(5_000)), Ok((gbp(80_000), gbp(66_394))));
        assert_eq!(
            reallocate(&from, &to, gbp(5_001)),
            Err(FundError::BelowAllocated { partnership: "CAN".into(), available: gbp(5_000), amount: gbp(5_001) })
        );
        assert_eq!(reallocate(&from, &from, gbp(1)), Err(FundError::SamePartnership("CAN".into())));
        assert_eq!(reallocate(&from, &to, Money::ZERO), Err(FundError::NotPositive));
    }

    proptest! {
        #[test]
        fn shares_are_accepted_exactly_when_they_fit(
            fund in 1i64..1_000_000_000,
            pct in 0u32..=100,
            amounts in proptest::collection::vec(0i64..200_000_000, 0..12),
        ) {
            let over = OverProgramming::percent(pct).unwrap();
            let shares: Vec<Share> = amounts
                .iter()
                .enumerate()
                .map(|(i, a)| Share { partnership: format!("P{i}"), amount: Money::from_pence(*a) })
                .collect();
            let total: i64 = amounts.iter().sum();
            let fits = i128::from(total) * 100 <= i128::from(fund) * i128::from(100 + pct);
            prop_assert_eq!(check_shares(Money::from_pence(fund), &shares, over).is_ok(), fits);
        }

        #[test]
        fn a_reallocation_keeps_the_pair_total_and_rule_8(
            award in 0i64..100_000_000,
            allocated_share in 0i64..=100,
            other in 0i64..100_000_000,
            amount in 1i64..100_000_000,
        ) {
            let headroom = award - award * allocated_share / 100;
            let from = AwardPosition { partnership: "A".into(), award: Money::from_pence(award),
                least_unallocated_from_then: Money::from_pence(headroom) };
            let to = AwardPosition { partnership: "B".into(), award: Money::from_pence(other),
                least_unallocated_from_then: Money::ZERO };
            match reallocate(&from, &to, Money::from_pence(amount)) {
                Ok((f, t)) => {
                    prop_assert_eq!(f.pence() + t.pence(), award + other);
                    // What was allocated still fits in the award after it.
                    prop_assert!(f.pence() >= award - headroom);
                }
                Err(FundError::BelowAllocated { .. }) => prop_assert!(amount > headroom),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
    }
}
