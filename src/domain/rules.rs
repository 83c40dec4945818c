//! The balance rules of docs/design.md (2 and 4, and the structural ones around them),
//! checked against the balances an entry would leave as at every date from its own on
//! (rule 8). Pure: storage supplies the balances, and the postings dated after the entry,
//! from inside the `db_tx` that writes it.

use chrono::NaiveDate;

use super::account::{Account, AccountKind};
use super::entry::NewEntry;
use super::money::Money;

pub use super::status::OnOverspend;

/// Why an entry may not post. `as_at` names the earlier date at which the rule would
/// break (rule 8); it is `None` when the account's current figure is the one short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    #[error("{account}: unallocated is {unallocated}{}, requested {requested}", as_at_text(.as_at))]
    OverAllocation { account: String, unallocated: Money, requested: Money, as_at: Option<NaiveDate> },
    #[error(
        "project {project}: available {available}{}, requested {requested}, shortfall {shortfall}",
        as_at_text(.as_at)
    )]
    Overspend { project: String, available: Money, requested: Money, shortfall: Money, as_at: Option<NaiveDate> },
    #[error(
        "{account} would go below zero{}: it holds {balance}, and {requested} was asked of it",
        as_at_text(.as_at)
    )]
    BelowZero { account: String, balance: Money, requested: Money, as_at: Option<NaiveDate> },
}

impl RuleViolation {
    /// The earlier date at which the rule would break, if it is not the current figure.
    pub fn as_at(&self) -> Option<NaiveDate> {
        match self {
            RuleViolation::OverAllocation { as_at, .. }
            | RuleViolation::Overspend { as_at, .. }
            | RuleViolation::BelowZero { as_at, .. } => *as_at,
        }
    }
}

fn as_at_text(as_at: &Option<NaiveDate>) -> String {
    as_at.map(|d| format!(" as at {d}")).unwrap_or_default()
}

/// A posted overspend under a `warn` grant, flagged in the response and reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct OverspendFlag {
    pub project: String,
    pub available: Money,
    pub requested: Money,
    pub shortfall: Money,
    /// The earlier date as at which the project is overspent, when that is not now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_at: Option<NaiveDate>,
}

/// What an account holds at its lowest as at any date from an entry's date on: the figure
/// an entry drawing on it must fit within, so that no as-at report from that date breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lowest {
    /// The signed balance (debit positive) at that point.
    pub balance: Money,
    /// The first date it stood there, when that is before the latest figure; `None` when
    /// the current balance is as low as any.
    pub as_at: Option<NaiveDate>,
}

impl Lowest {
    /// An account with nothing posted after the entry's date: its current balance.
    pub fn now(balance: Money) -> Lowest {
        Lowest { balance, as_at: None }
    }
}

/// What an account of `kind` holds for a signed balance: `awarded`, `cash` and `claimed`
/// are debit-normal, every other account credit-normal.
pub fn held(kind: AccountKind, balance: Money) -> Money {
    if kind.is_debit_normal() { balance } else { balance.negated() }
}

/// How much an entry's net `change` on an account of `kind` draws on what it holds
/// (positive when it draws). Only drawing can break a rule.
pub fn drawn(kind: AccountKind, change: Money) -> Money {
    if kind.is_debit_normal() { change.negated() } else { change }
}

/// The lowest an account holds as at any date from `from` on. `now` is its current signed
/// balance; `later` the net of its postings on each date after `from`, in ascending date
/// order. As at `from` it held `now` less all of `later`; each later date adds its net.
pub fn lowest_from(
    kind: AccountKind,
    from: NaiveDate,
    now: Money,
    later: impl Iterator<Item = (NaiveDate, Money)> + Clone,
) -> Lowest {
    let after: i64 = later.clone().map(|(_, m)| m.pence()).sum();
    let mut balance = now.pence() - after;
    let mut low = Lowest { balance: Money::from_pence(balance), as_at: Some(from) };
    for (date, net) in later {
        balance += net.pence();
        if held(kind, Money::from_pence(balance)) < held(kind, low.balance) {
            low = Lowest { balance: Money::from_pence(balance), as_at: Some(date) };
        }
    }
    if held(kind, now) <= held(kind, low.balance) { Lowest::now(now) } else { low }
}

/// Checks the balances `entry` would leave as at every date from its own. `before` gives,
/// for each account, its lowest signed balance (debit positive) as at any date from the
/// entry's date on, before the entry (`lowest_from`; `Lowest::now` when nothing is dated
/// later). Only accounts the entry draws on are checked, so an existing overspend under
/// `warn` never blocks money flowing back in.
pub fn check(
    entry: &NewEntry,
    before: impl Fn(&Account) -> Lowest,
    on_overspend: OnOverspend,
) -> Result<Vec<OverspendFlag>, RuleViolation> {
    let mut flags = Vec::new();
    for (account, change) in entry.net_by_account() {
        let Lowest { balance: prior, as_at } = before(account);
        let (held_before, drawn) = (held(account.kind, prior), drawn(account.kind, change));
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
                    as_at,
                });
            }
            AccountKind::Available => {
                let project = account.project.clone().unwrap_or_default();
                // Under `warn`, the part already overspent is not reported again.
                let available = held_before.max(Money::ZERO);
                let shortfall = shortfall.min(drawn);
                match on_overspend {
                    OnOverspend::Stop => {
                        return Err(RuleViolation::Overspend {
                            project,
                            available,
                            requested: drawn,
                            shortfall,
                            as_at,
                        });
                    }
                    OnOverspend::Warn => {
                        flags.push(OverspendFlag { project, available, requested: drawn, shortfall, as_at })
                    }
                }
            }
            AccountKind::Awarded
            | AccountKind::Committed
            | AccountKind::Spent
            | AccountKind::Returned
            | AccountKind::Carried
            | AccountKind::Cash
            | AccountKind::Received
            | AccountKind::Owed
            | AccountKind::Claimed => {
                return Err(RuleViolation::BelowZero {
                    account: account.to_string(),
                    balance: held_before,
                    requested: drawn,
                    as_at,
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
        check(entry, |a| Lowest::now(b.get(a).copied().unwrap_or_default()), rule)
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
                as_at: None,
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

    fn day(n: i64) -> NaiveDate {
        parse_date("2023-04-01").unwrap() + chrono::Duration::days(n)
    }

    #[test]
    fn the_lowest_figure_from_a_date_names_when_it_was() {
        // available held: 1000 from day 0, 400 from day 61 (spend), 900 from day 153 (top-up).
        let later = [(day(61), Money::from_pence(600)), (day(153), Money::from_pence(-500))];
        let now = Money::from_pence(-900);
        let low = lowest_from(AccountKind::Available, day(30), now, later.iter().copied());
        assert_eq!(low, Lowest { balance: Money::from_pence(-400), as_at: Some(day(61)) });
        // From the top-up on, nothing is lower than now.
        assert_eq!(lowest_from(AccountKind::Available, day(153), now, std::iter::empty()), Lowest::now(now));
        // Dated before everything: the figure as at that date is the lowest, named by it.
        let spent_later = [(day(61), Money::from_pence(-600))];
        let low = lowest_from(AccountKind::Spent, day(10), Money::from_pence(-600), spent_later.iter().copied());
        assert_eq!(low, Lowest { balance: Money::ZERO, as_at: Some(day(10)) });
        // `awarded` is debit-normal: its lowest is its smallest signed balance.
        let cut = [(day(5), Money::from_pence(-100)), (day(9), Money::from_pence(50))];
        let low = lowest_from(AccountKind::Awarded, day(1), Money::from_pence(950), cut.iter().copied());
        assert_eq!(low, Lowest { balance: Money::from_pence(900), as_at: Some(day(5)) });
    }

    #[test]
    fn a_back_dated_spend_is_held_to_the_lowest_later_figure() {
        let d = parse_date("2023-05-01").unwrap();
        let spend = ops::spend(ldf(), d, "P1", Money::from_pence(500), Money::ZERO).unwrap();
        let low = Lowest { balance: Money::from_pence(-400), as_at: Some(day(61)) };
        let lowest = |a: &Account| if a.kind == AccountKind::Available { low } else { Lowest::now(Money::ZERO) };
        assert_eq!(
            check(&spend, lowest, OnOverspend::Stop),
            Err(RuleViolation::Overspend {
                project: "P1".into(),
                available: Money::from_pence(400),
                requested: Money::from_pence(500),
                shortfall: Money::from_pence(100),
                as_at: Some(day(61)),
            })
        );
        let flags = check(&spend, lowest, OnOverspend::Warn).unwrap();
        assert_eq!((flags[0].shortfall, flags[0].as_at), (Money::from_pence(100), Some(day(61))));
        let message = check(&spend, lowest, OnOverspend::Stop).unwrap_err().to_string();
        assert!(message.contains("available 4.00 as at 2023-06-01"), "{message}");
    }

    proptest::proptest! {
        /// `lowest_from` agrees with summing the postings as at every date from `from` on.
        #[test]
        fn lowest_from_is_the_minimum_of_every_as_at_figure(
            postings in proptest::collection::vec((0i64..40, -500i64..500), 0..30),
            from in 0i64..45,
            awarded in proptest::bool::ANY,
        ) {
            let kind = if awarded { AccountKind::Awarded } else { AccountKind::Available };
            let as_at = |t: i64| Money::from_pence(postings.iter().filter(|(d, _)| *d <= t).map(|(_, a)| a).sum());
            let now = as_at(i64::MAX);
            let mut later: std::collections::BTreeMap<NaiveDate, i64> = Default::default();
            for (d, a) in postings.iter().filter(|(d, _)| *d > from) {
                *later.entry(day(*d)).or_default() += a;
            }
            let low = lowest_from(kind, day(from), now, later.iter().map(|(d, a)| (*d, Money::from_pence(*a))));
            let every: Vec<(i64, Money)> = (from..=45).map(|t| (t, held(kind, as_at(t)))).collect();
            let min = every.iter().map(|(_, h)| *h).min().unwrap();
            proptest::prop_assert_eq!(held(kind, low.balance), min);
            match low.as_at {
                None => proptest::prop_assert_eq!(held(kind, now), min),
                Some(d) => {
                    let first = every.iter().find(|(_, h)| *h == min).unwrap().0;
                    proptest::prop_assert_eq!(d, day(first));
                    proptest::prop_assert!(held(kind, now) > min);
                }
            }
        }
    }
}
