//! The balance rules of DESIGN.md (2 and 4, and the structural ones around them),
//! checked against the balances an entry would leave. Pure: storage supplies the
//! balances from inside the `db_tx` that writes the entry.

use super::account::{Account, AccountKind};
use super::entry::NewEntry;
use super::money::Money;

/// A grant's overspend rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnOverspend {
    Stop,
    Warn,
}

impl OnOverspend {
    pub fn parse(text: &str) -> Option<OnOverspend> {
        match text {
            "stop" => Some(OnOverspend::Stop),
            "warn" => Some(OnOverspend::Warn),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            OnOverspend::Stop => "stop",
            OnOverspend::Warn => "warn",
        }
    }
}

/// Why an entry may not post.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    #[error("{account}: unallocated is {unallocated}, requested {requested}")]
    OverAllocation { account: String, unallocated: Money, requested: Money },
    #[error("project {project}: available {available}, requested {requested}, shortfall {shortfall}")]
    Overspend { project: String, available: Money, requested: Money, shortfall: Money },
    #[error("{account} would go below zero: it holds {balance}, and {requested} was asked of it")]
    BelowZero { account: String, balance: Money, requested: Money },
}

/// A posted overspend under a `warn` grant, flagged in the response and reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OverspendFlag {
    pub project: String,
    pub available: Money,
    pub requested: Money,
    pub shortfall: Money,
}

/// Checks the balances `entry` would leave. `before` gives each account's signed balance
/// (debit positive) before the entry. Only accounts the entry draws on are checked, so an
/// existing overspend under `warn` never blocks money flowing back in.
pub fn check(
    entry: &NewEntry,
    before: impl Fn(&Account) -> Money,
    on_overspend: OnOverspend,
) -> Result<Vec<OverspendFlag>, RuleViolation> {
    let mut flags = Vec::new();
    for (account, change) in entry.net_by_account() {
        let prior = before(account);
        // Every account but `awarded` is credit-normal: what it holds is minus its balance.
        let (held_before, drawn) = match account.kind {
            AccountKind::Awarded => (prior, change.negated()),
            _ => (prior.negated(), change),
        };
        if !drawn.is_positive() {
            continue;
        }
        let held_after = Money::from_pence(held_before.pence() - drawn.pence());
        if held_after >= Money::ZERO {
            continue;
        }
        let shortfall = held_after.negated();
        match account.kind {
            AccountKind::Unallocated => {
                return Err(RuleViolation::OverAllocation {
                    account: account.to_string(),
                    unallocated: held_before,
                    requested: drawn,
                });
            }
            AccountKind::Available => {
                let project = account.project.clone().unwrap_or_default();
                // Under `warn`, the part already overspent is not reported again.
                let available = held_before.max(Money::ZERO);
                let shortfall = shortfall.min(drawn);
                match on_overspend {
                    OnOverspend::Stop => {
                        return Err(RuleViolation::Overspend { project, available, requested: drawn, shortfall });
                    }
                    OnOverspend::Warn => flags.push(OverspendFlag { project, available, requested: drawn, shortfall }),
                }
            }
            _ => {
                return Err(RuleViolation::BelowZero {
                    account: account.to_string(),
                    balance: held_before,
                    requested: drawn,
                });
            }
        }
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::operations::{self as ops, Award};
    use crate::domain::year::{FinancialYear, parse_date};
    use std::collections::HashMap;

    fn ldf() -> Award<'static> {
        Award { grant: "LDF", year: FinancialYear::parse("2023-24").unwrap() }
    }

    fn balances(pairs: &[(&str, i64)]) -> HashMap<Account, Money> {
        pairs.iter().map(|(a, p)| (Account::parse(a).unwrap(), Money::from_pence(*p))).collect()
    }

    fn run(
        entry: &NewEntry,
        b: &HashMap<Account, Money>,
        rule: OnOverspend,
    ) -> Result<Vec<OverspendFlag>, RuleViolation> {
        check(entry, |a| b.get(a).copied().unwrap_or_default(), rule)
    }

    #[test]
    fn allocation_beyond_unallocated_is_refused_and_up_to_it_passes() {
        let d = parse_date("2023-04-01").unwrap();
        let b = balances(&[("unallocated:LDF:2023-24", -1000)]);
        let fits = ops::allocation(ldf(), d, "P1", Money::from_pence(1000)).unwrap();
        assert_eq!(run(&fits, &b, OnOverspend::Stop), Ok(vec![]));
        let too_much = ops::allocation(ldf(), d, "P1", Money::from_pence(1001)).unwrap();
        assert!(matches!(run(&too_much, &b, OnOverspend::Stop), Err(RuleViolation::OverAllocation { .. })));
        // Rule 2 holds under `warn` too: `warn` is about project budgets only.
        assert!(run(&too_much, &b, OnOverspend::Warn).is_err());
    }

    #[test]
    fn overspend_stops_or_warns_by_the_grant_rule() {
        let d = parse_date("2023-06-01").unwrap();
        let b = balances(&[("available:LDF:2023-24:P1", -10_000)]);
        let spend = ops::spend(ldf(), d, "P1", Money::from_pence(12_500), Money::ZERO).unwrap();
        assert_eq!(
            run(&spend, &b, OnOverspend::Stop),
            Err(RuleViolation::Overspend {
                project: "P1".into(),
                available: Money::from_pence(10_000),
                requested: Money::from_pence(12_500),
                shortfall: Money::from_pence(2_500),
            })
        );
        let flags = run(&spend, &b, OnOverspend::Warn).unwrap();
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].shortfall, Money::from_pence(2_500));
        let exact = ops::spend(ldf(), d, "P1", Money::from_pence(10_000), Money::ZERO).unwrap();
        assert_eq!(run(&exact, &b, OnOverspend::Stop), Ok(vec![]));
    }

    #[test]
    fn money_flowing_back_into_an_overspent_project_is_not_blocked() {
        let d = parse_date("2023-06-01").unwrap();
        let b = balances(&[("available:LDF:2023-24:P1", 500), ("spent:LDF:2023-24:P1", -1500)]);
        let refund = ops::refund(ldf(), d, "P1", Money::from_pence(200)).unwrap();
        assert_eq!(run(&refund, &b, OnOverspend::Stop), Ok(vec![]));
    }

    #[test]
    fn structural_accounts_never_go_below_zero() {
        let d = parse_date("2023-06-01").unwrap();
        let b = balances(&[("committed:LDF:2023-24:P1", -100), ("spent:LDF:2023-24:P1", -100)]);
        let release = ops::release(ldf(), d, "P1", Money::from_pence(101)).unwrap();
        assert!(matches!(run(&release, &b, OnOverspend::Warn), Err(RuleViolation::BelowZero { .. })));
        let refund = ops::refund(ldf(), d, "P1", Money::from_pence(101)).unwrap();
        assert!(matches!(run(&refund, &b, OnOverspend::Warn), Err(RuleViolation::BelowZero { .. })));
    }
}
