//! One function per operation of docs/design.md's table, each building its entry.
//! Debit comes first, as in the table.

use chrono::NaiveDate;

use super::account::{Account, AccountKind::*};
use super::entry::{EntryBuilder, EntryError, EntryKind, NewEntry, Posting};
use super::money::Money;
use super::year::FinancialYear;

/// Where an operation's money sits: one award, and a project within it where it applies.
#[derive(Debug, Clone, Copy)]
pub struct Award<'a> {
    pub grant: &'a str,
    pub year: FinancialYear,
}

impl Award<'_> {
    fn acct(&self, kind: super::account::AccountKind) -> Account {
        Account::award(kind, self.grant, self.year)
    }
    fn proj(&self, kind: super::account::AccountKind, project: &str) -> Account {
        Account::project(kind, self.grant, self.year, project)
    }
    fn builder(&self, kind: EntryKind, date: NaiveDate) -> EntryBuilder {
        EntryBuilder::new(kind, self.grant, self.year, date)
    }
    /// The common shape: one account debited, one credited, with the same amount.
    fn moves(
        &self,
        kind: EntryKind,
        date: NaiveDate,
        from: Account,
        to: Account,
        amount: Money,
    ) -> Result<NewEntry, EntryError> {
        self.builder(kind, date).debit(from, amount).credit(to, amount).build()
    }
}

/// The funder awards money: awarded → unallocated.
pub fn award(a: Award, date: NaiveDate, amount: Money) -> Result<NewEntry, EntryError> {
    a.moves(EntryKind::Award, date, a.acct(Awarded), a.acct(Unallocated), amount)
}

/// The partnership gives a project budget: unallocated → available:P.
pub fn allocation(a: Award, date: NaiveDate, project: &str, amount: Money) -> Result<NewEntry, EntryError> {
    a.moves(EntryKind::Allocation, date, a.acct(Unallocated), a.proj(Available, project), amount)
}

/// Budget moves between projects of one award: available:P → available:Q.
pub fn virement(a: Award, date: NaiveDate, from: &str, to: &str, amount: Money) -> Result<NewEntry, EntryError> {
    a.moves(EntryKind::Virement, date, a.proj(Available, from), a.proj(Available, to), amount)
}

/// Money is promised: available:P → committed:P.
pub fn commitment(a: Award, date: NaiveDate, project: &str, amount: Money) -> Result<NewEntry, EntryError> {
    a.moves(EntryKind::Commitment, date, a.proj(Available, project), a.proj(Committed, project), amount)
}

/// Money is spent. The part `covered` by an open commitment comes out of committed:P,
/// the rest out of available:P. `covered` must lie between zero and `amount`.
pub fn spend(a: Award, date: NaiveDate, project: &str, amount: Money, covered: Money) -> Result<NewEntry, EntryError> {
    assert!(covered >= Money::ZERO && covered <= amount, "covered part out of range");
    let uncovered = amount.checked_sub(covered).map_err(|_| EntryError::Overflow)?;
    let mut b = a.builder(EntryKind::Spend, date);
    if covered.is_positive() {
        b = b.debit(a.proj(Committed, project), covered);
    }
    if uncovered.is_positive() {
        b = b.debit(a.proj(Available, project), uncovered);
    }
    b.credit(a.proj(Spent, project), amount).build()
}

/// An unused commitment returns to the budget: committed:P → available:P.
pub fn release(a: Award, date: NaiveDate, project: &str, amount: Money) -> Result<NewEntry, EntryError> {
    a.moves(EntryKind::Release, date, a.proj(Committed, project), a.proj(Available, project), amount)
}

/// Spend comes back: spent:P → available:P.
pub fn refund(a: Award, date: NaiveDate, project: &str, amount: Money) -> Result<NewEntry, EntryError> {
    a.moves(EntryKind::Refund, date, a.proj(Spent, project), a.proj(Available, project), amount)
}

/// Year end: sweeps each of the award's unspent accounts (unallocated and every project's
/// available, given with the signed balance each holds) to zero, into `carried` and
/// `returned`. What is swept must equal `carry + give_back`.
pub fn year_end(
    a: Award,
    date: NaiveDate,
    sweeps: &[(Account, Money)],
    carry: Money,
    give_back: Money,
) -> Result<NewEntry, EntryError> {
    let mut b = a.builder(EntryKind::YearEnd, date);
    for (account, balance) in sweeps {
        if *balance != Money::ZERO {
            b = b.posting(Posting { account: account.clone(), amount: balance.negated() });
        }
    }
    if carry.is_positive() {
        b = b.credit(a.acct(Carried), carry);
    }
    if give_back.is_positive() {
        // The cash side: what is returned is owed to the funder until repaid.
        b = b.credit(a.acct(Returned), give_back).debit(a.acct(Claimed), give_back).credit(a.acct(Owed), give_back);
    }
    b.build()
}

/// The funder pays money against the award: cash → received.
pub fn receipt(a: Award, date: NaiveDate, amount: Money) -> Result<NewEntry, EntryError> {
    a.moves(EntryKind::Receipt, date, a.acct(Cash), a.acct(Received), amount)
}

/// Returned money is paid back to the funder: owed → cash.
pub fn repayment(a: Award, date: NaiveDate, amount: Money) -> Result<NewEntry, EntryError> {
    a.moves(EntryKind::Repayment, date, a.acct(Owed), a.acct(Cash), amount)
}

/// Money carried forward arrives in the next year's award: awarded → unallocated.
pub fn carry_forward(next: Award, date: NaiveDate, amount: Money) -> Result<NewEntry, EntryError> {
    next.builder(EntryKind::CarryForward, date)
        .debit(next.acct(Awarded), amount)
        .credit(next.acct(Unallocated), amount)
        .build()
}

/// The funder changes the award by `change` (signed): more is awarded → unallocated, less
/// unallocated → awarded, so taking money away draws on unallocated and rule 2 holds the
/// award above what is allocated from it. `kind` is `share` or `reallocation`.
pub fn award_change(a: Award, kind: EntryKind, date: NaiveDate, change: Money) -> Result<NewEntry, EntryError> {
    assert!(
        matches!(kind, EntryKind::Share | EntryKind::Reallocation),
        "an award changes by a share or a reallocation"
    );
    if change.is_positive() {
        a.moves(kind, date, a.acct(Awarded), a.acct(Unallocated), change)
    } else {
        a.moves(kind, date, a.acct(Unallocated), a.acct(Awarded), change.negated())
    }
}

/// Mirrors an entry's postings, dated `date` within the same award year.
pub fn reversal(a: Award, date: NaiveDate, original: &[Posting]) -> Result<NewEntry, EntryError> {
    original
        .iter()
        .fold(a.builder(EntryKind::Reversal, date), |b, p| {
            b.posting(Posting { account: p.account.clone(), amount: p.amount.negated() })
        })
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::year::parse_date;
    use proptest::prelude::*;

    fn ldf() -> Award<'static> {
        Award { grant: "LDF", year: FinancialYear::parse("2023-24").unwrap() }
    }

    fn lines(e: &NewEntry) -> Vec<(String, i64)> {
        e.postings().iter().map(|p| (p.account.to_string(), p.amount.pence())).collect()
    }

    fn day() -> NaiveDate {
        parse_date("2023-05-01").unwrap()
    }

    #[test]
    fn each_operation_posts_as_the_table_says() {
        let m = Money::from_pence(100);
        let check = |e: Result<NewEntry, EntryError>, expected: &[(&str, i64)]| {
            let got = lines(&e.unwrap());
            let want: Vec<(String, i64)> = expected.iter().map(|(a, n)| (a.to_string(), *n)).collect();
            assert_eq!(got, want);
        };
        check(award(ldf(), day(), m), &[("awarded:LDF:2023-24", 100), ("unallocated:LDF:2023-24", -100)]);
        check(
            award_change(ldf(), EntryKind::Share, day(), m),
            &[("awarded:LDF:2023-24", 100), ("unallocated:LDF:2023-24", -100)],
        );
        check(
            award_change(ldf(), EntryKind::Reallocation, day(), m.negated()),
            &[("unallocated:LDF:2023-24", 100), ("awarded:LDF:2023-24", -100)],
        );
        assert_eq!(award_change(ldf(), EntryKind::Share, day(), Money::ZERO), Err(EntryError::ZeroPosting));
        check(
            allocation(ldf(), day(), "P1", m),
            &[("unallocated:LDF:2023-24", 100), ("available:LDF:2023-24:P1", -100)],
        );
        check(
            virement(ldf(), day(), "P1", "P2", m),
            &[("available:LDF:2023-24:P1", 100), ("available:LDF:2023-24:P2", -100)],
        );
        check(
            commitment(ldf(), day(), "P1", m),
            &[("available:LDF:2023-24:P1", 100), ("committed:LDF:2023-24:P1", -100)],
        );
        check(
            spend(ldf(), day(), "P1", m, Money::from_pence(60)),
            &[("committed:LDF:2023-24:P1", 60), ("available:LDF:2023-24:P1", 40), ("spent:LDF:2023-24:P1", -100)],
        );
        check(
            spend(ldf(), day(), "P1", m, Money::ZERO),
            &[("available:LDF:2023-24:P1", 100), ("spent:LDF:2023-24:P1", -100)],
        );
        check(release(ldf(), day(), "P1", m), &[("committed:LDF:2023-24:P1", 100), ("available:LDF:2023-24:P1", -100)]);
        check(refund(ldf(), day(), "P1", m), &[("spent:LDF:2023-24:P1", 100), ("available:LDF:2023-24:P1", -100)]);
        check(receipt(ldf(), day(), m), &[("cash:LDF:2023-24", 100), ("received:LDF:2023-24", -100)]);
        check(repayment(ldf(), day(), m), &[("owed:LDF:2023-24", 100), ("cash:LDF:2023-24", -100)]);
        let original = allocation(ldf(), day(), "P1", m).unwrap();
        check(
            reversal(ldf(), day(), original.postings()),
            &[("unallocated:LDF:2023-24", -100), ("available:LDF:2023-24:P1", 100)],
        );
    }

    #[test]
    fn year_end_sweeps_to_carried_and_returned() {
        let una = Account::award(Unallocated, "LDF", ldf().year);
        let p1 = Account::project(Available, "LDF", ldf().year, "P1");
        let end = parse_date("2024-03-31").unwrap();
        let sweeps = [(una, Money::from_pence(-300)), (p1, Money::from_pence(-200))];
        let e = year_end(ldf(), end, &sweeps, Money::from_pence(350), Money::from_pence(150)).unwrap();
        assert_eq!(
            lines(&e),
            [
                ("unallocated:LDF:2023-24".to_owned(), 300),
                ("available:LDF:2023-24:P1".to_owned(), 200),
                ("carried:LDF:2023-24".to_owned(), -350),
                ("returned:LDF:2023-24".to_owned(), -150),
                ("claimed:LDF:2023-24".to_owned(), 150),
                ("owed:LDF:2023-24".to_owned(), -150),
            ]
        );
        assert!(matches!(
            year_end(ldf(), end, &sweeps, Money::from_pence(350), Money::from_pence(149)),
            Err(EntryError::Unbalanced(_))
        ));
        let next = Award { grant: "LDF", year: ldf().year.next() };
        let cf = carry_forward(next, parse_date("2024-04-01").unwrap(), Money::from_pence(350)).unwrap();
        assert_eq!(lines(&cf), [("awarded:LDF:2024-25".to_owned(), 350), ("unallocated:LDF:2024-25".to_owned(), -350)]);
    }

    #[test]
    fn builder_refuses_bad_entries() {
        let fy = ldf().year;
        let acct = |p: &str| Account::project(Available, "LDF", fy, p);
        let one = Money::from_pence(1);
        let b = || EntryBuilder::new(EntryKind::Virement, "LDF", fy, day());
        assert_eq!(b().build(), Err(EntryError::TooFewPostings));
        assert_eq!(b().debit(acct("P1"), one).build(), Err(EntryError::TooFewPostings));
        assert_eq!(
            b().debit(acct("P1"), one).credit(acct("P2"), Money::from_pence(2)).build(),
            Err(EntryError::Unbalanced(Money::from_pence(-1)))
        );
        assert_eq!(
            b().debit(acct("P1"), Money::ZERO).credit(acct("P2"), Money::ZERO).build(),
            Err(EntryError::ZeroPosting)
        );
        let outside = EntryBuilder::new(EntryKind::Virement, "LDF", fy, parse_date("2024-04-01").unwrap());
        assert!(matches!(
            outside.debit(acct("P1"), one).credit(acct("P2"), one).build(),
            Err(EntryError::DateOutsideYear { .. })
        ));
        let other_grant = Account::project(Available, "ASB-EI", fy, "P2");
        assert!(matches!(
            b().debit(acct("P1"), one).credit(other_grant, one).build(),
            Err(EntryError::ForeignAccount { .. })
        ));
    }

    #[test]
    fn cash_is_dated_when_it_moves() {
        let m = Money::from_pence(100);
        let d = |s: &str| parse_date(s).unwrap();
        let refused = |e: Result<NewEntry, EntryError>| matches!(e, Err(EntryError::DateOutsideYear { .. }));
        // A receipt from a year before the award's year begins to its last day.
        assert!(receipt(ldf(), d("2022-04-01"), m).is_ok(), "a year before 2023-24 begins");
        assert!(refused(receipt(ldf(), d("2022-03-31"), m)), "a day more than a year before");
        assert!(receipt(ldf(), d("2024-03-31"), m).is_ok());
        assert!(refused(receipt(ldf(), d("2024-04-01"), m)), "a receipt after the year");
        // A repayment from the year's first day to two years after it ends.
        assert!(repayment(ldf(), d("2026-03-31"), m).is_ok(), "two years after 2023-24 ends");
        assert!(refused(repayment(ldf(), d("2026-04-01"), m)), "a day more than two years after");
        assert!(refused(repayment(ldf(), d("2023-03-31"), m)), "a repayment before the year");
        // A reversal of either is dated within both spans; the budget side stays in its year.
        let repaid = repayment(ldf(), d("2024-05-10"), m).unwrap();
        assert!(reversal(ldf(), d("2026-03-31"), repaid.postings()).is_ok());
        assert!(refused(reversal(ldf(), d("2026-04-01"), repaid.postings())));
        let received = receipt(ldf(), d("2022-04-01"), m).unwrap();
        assert!(reversal(ldf(), d("2022-04-01"), received.postings()).is_ok());
        let spent = spend(ldf(), d("2024-03-31"), "P1", m, Money::ZERO).unwrap();
        assert!(refused(reversal(ldf(), d("2024-04-01"), spent.postings())), "the budget side stays in its year");
        for e in [
            allocation(ldf(), d("2024-04-01"), "P1", m),
            spend(ldf(), d("2023-03-31"), "P1", m, Money::ZERO),
            refund(ldf(), d("2024-05-10"), "P1", m),
        ] {
            let Err(EntryError::DateOutsideYear { first, last, .. }) = e else { panic!("{e:?}") };
            assert_eq!((first, last), (d("2023-04-01"), d("2024-03-31")));
        }
        let Err(e) = repayment(ldf(), d("2026-04-01"), m) else { unreachable!() };
        assert_eq!(
            e.to_string(),
            "date 2026-04-01 is outside 2023-04-01 to 2026-03-31, the dates this entry of the 2023-24 award may carry"
        );
    }

    proptest! {
        /// Whatever the amounts, every operation's entry sums to zero, and its reversal
        /// cancels it account by account.
        #[test]
        fn every_operation_balances(amount in 1i64..=crate::domain::money::AMOUNT_PENCE_MAX, covered_share in 0i64..=100) {
            let m = Money::from_pence(amount);
            let covered = Money::from_pence(amount * covered_share / 100);
            let entries = [
                award(ldf(), day(), m),
                allocation(ldf(), day(), "P1", m),
                virement(ldf(), day(), "P1", "P2", m),
                commitment(ldf(), day(), "P1", m),
                spend(ldf(), day(), "P1", m, covered),
                release(ldf(), day(), "P1", m),
                refund(ldf(), day(), "P1", m),
            ];
            for e in entries {
                let e = e.unwrap();
                let sum: i64 = e.postings().iter().map(|p| p.amount.pence()).sum();
                prop_assert_eq!(sum, 0);
                let r = reversal(ldf(), day(), e.postings()).unwrap();
                let mut net = e.net_by_account().into_iter().map(|(a, m)| (a.clone(), m.pence())).collect::<std::collections::BTreeMap<_, _>>();
                for (a, m) in r.net_by_account() {
                    *net.entry(a.clone()).or_default() += m.pence();
                }
                prop_assert!(net.values().all(|v| *v == 0));
            }
        }
    }
}
