//! Entries: balanced sets of postings, built only through `EntryBuilder`.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::account::Account;
use super::money::Money;
use super::words::word_set;
use super::year::FinancialYear;

word_set!(
    /// What an entry records.
    EntryKind, "entry kind", {
        Award => "award",
        Allocation => "allocation",
        Virement => "virement",
        Commitment => "commitment",
        Spend => "spend",
        Release => "release",
        Refund => "refund",
        Reversal => "reversal",
        /// Year end: the award's unspent and unallocated money moved to carried and returned.
        YearEnd => "year_end",
        /// The next year's side of a carry-forward: the money arrives in that year's award.
        CarryForward => "carry_forward",
        /// Money arrives from the funder: cash → received.
        Receipt => "receipt",
        /// Returned money paid back to the funder: owed → cash.
        Repayment => "repayment",
        /// The funder sets the partnership's share of its fund anew: the award moves by the
        /// difference, awarded ↔ unallocated.
        Share => "share",
        /// The funder moves money between two partnerships' awards: this ledger's side,
        /// awarded ↔ unallocated.
        Reallocation => "reallocation",
    }
);

impl EntryKind {
    /// Budget decisions belong to approvers; commitments and spend to finance officers.
    /// Reversing an entry needs the role that may record it.
    pub fn is_budget_decision(self) -> bool {
        use EntryKind::*;
        match self {
            Award | Allocation | Virement | YearEnd | CarryForward | Share | Reallocation => true,
            Commitment | Spend | Release | Refund | Reversal | Receipt | Repayment => false,
        }
    }
}

impl EntryKind {
    /// Year-end entries come in pairs across two years: reversing one alone would leave
    /// money counted twice, so they are not reversed one by one. A share or reallocation
    /// follows the funder's fund, which a reversal here would leave behind: the funder
    /// corrects it with another.
    pub fn is_reversible(self) -> bool {
        use EntryKind::*;
        match self {
            Reversal | YearEnd | CarryForward | Share | Reallocation => false,
            Award | Allocation | Virement | Commitment | Spend | Release | Refund | Receipt | Repayment => true,
        }
    }
}

/// One line of an entry. The amount is signed: debit positive, credit negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: Account,
    pub amount: Money,
}

/// A balanced entry, not yet stored. It can only be made by `EntryBuilder::build`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    kind: EntryKind,
    date: NaiveDate,
    year: FinancialYear,
    grant: String,
    postings: Vec<Posting>,
}

impl NewEntry {
    pub fn kind(&self) -> EntryKind {
        self.kind
    }
    pub fn date(&self) -> NaiveDate {
        self.date
    }
    pub fn year(&self) -> FinancialYear {
        self.year
    }
    pub fn grant(&self) -> &str {
        &self.grant
    }
    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }

    /// The net change each account sees, in account order.
    pub fn net_by_account(&self) -> BTreeMap<&Account, Money> {
        let mut net: BTreeMap<&Account, Money> = BTreeMap::new();
        for p in &self.postings {
            let slot = net.entry(&p.account).or_default();
            *slot = Money::from_pence(slot.pence() + p.amount.pence());
        }
        net
    }

    /// Re-checks the invariants the builder established. Storage calls this just before
    /// commit, so a bug between building and writing cannot post an unbalanced entry.
    pub fn assert_balanced(&self) {
        assert!(self.postings.len() >= 2, "entry has fewer than two postings");
        let sum: i128 = self.postings.iter().map(|p| i128::from(p.amount.pence())).sum();
        assert_eq!(sum, 0, "entry postings do not sum to zero");
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("an entry needs at least two postings")]
    TooFewPostings,
    #[error("a posting amount must not be zero")]
    ZeroPosting,
    #[error("the postings do not sum to zero (they sum to {0})")]
    Unbalanced(Money),
    #[error("{}", outside(*.date, *.year, *.first, *.last))]
    DateOutsideYear { date: NaiveDate, year: FinancialYear, first: NaiveDate, last: NaiveDate },
    #[error("every posting must belong to grant {grant} in {year}")]
    ForeignAccount { grant: String, year: FinancialYear },
    #[error("amount overflow")]
    Overflow,
}

/// Why a date was refused, naming the span an entry of `year` may carry.
fn outside(date: NaiveDate, year: FinancialYear, first: NaiveDate, last: NaiveDate) -> String {
    if (first, last) == (year.start(), year.end()) {
        format!("date {date} is not in financial year {year}")
    } else {
        format!("date {date} is outside {first} to {last}, the dates this entry of the {year} award may carry")
    }
}

/// The first and last date an entry of an award of `year` may carry. Every entry lies in
/// its award's year (rule 5), except cash, which is dated when it moves (rule 9): a receipt
/// up to a year before the year begins, a repayment up to two years after it ends, and the
/// reversal of either within both spans. `cash_only` says every posting is on the award's
/// cash side (docs/cash.md); a receipt or repayment always is, and a reversal is when it
/// reverses one. Verify holds stored entries to the same span.
pub fn date_window(kind: EntryKind, year: FinancialYear, cash_only: bool) -> (NaiveDate, NaiveDate) {
    let (year_before, two_years_after) = (year.prev().start(), year.next().next().end());
    use EntryKind::*;
    match (kind, cash_only) {
        (Receipt, true) => (year_before, year.end()),
        (Repayment, true) => (year.start(), two_years_after),
        (Reversal, true) => (year_before, two_years_after),
        (Receipt | Repayment | Reversal, false)
        | (
            Award | Allocation | Virement | Commitment | Spend | Release | Refund | YearEnd | CarryForward | Share
            | Reallocation,
            _,
        ) => (year.start(), year.end()),
    }
}

/// Collects postings and refuses to build anything unbalanced, empty or out of its dates.
#[derive(Debug)]
pub struct EntryBuilder {
    kind: EntryKind,
    date: NaiveDate,
    year: FinancialYear,
    grant: String,
    postings: Vec<Posting>,
}

impl EntryBuilder {
    pub fn new(kind: EntryKind, grant: &str, year: FinancialYear, date: NaiveDate) -> EntryBuilder {
        EntryBuilder { kind, date, year, grant: grant.to_owned(), postings: Vec::new() }
    }

    /// Adds a debit of a positive `amount`.
    pub fn debit(mut self, account: Account, amount: Money) -> EntryBuilder {
        self.postings.push(Posting { account, amount });
        self
    }

    /// Adds a credit of a positive `amount` (stored negative).
    pub fn credit(mut self, account: Account, amount: Money) -> EntryBuilder {
        self.postings.push(Posting { account, amount: amount.negated() });
        self
    }

    /// Adds a posting with an already signed amount.
    pub fn posting(mut self, posting: Posting) -> EntryBuilder {
        self.postings.push(posting);
        self
    }

    pub fn build(self) -> Result<NewEntry, EntryError> {
        if self.postings.len() < 2 {
            return Err(EntryError::TooFewPostings);
        }
        if self.postings.iter().any(|p| p.amount == Money::ZERO) {
            return Err(EntryError::ZeroPosting);
        }
        let cash_only = self.postings.iter().all(|p| p.account.kind.is_cash_side());
        let (first, last) = date_window(self.kind, self.year, cash_only);
        if self.date < first || self.date > last {
            return Err(EntryError::DateOutsideYear { date: self.date, year: self.year, first, last });
        }
        if self.postings.iter().any(|p| p.account.grant != self.grant || p.account.year != self.year) {
            return Err(EntryError::ForeignAccount { grant: self.grant, year: self.year });
        }
        let mut sum = Money::ZERO;
        for p in &self.postings {
            sum = sum.checked_add(p.amount).map_err(|_| EntryError::Overflow)?;
        }
        if sum != Money::ZERO {
            return Err(EntryError::Unbalanced(sum));
        }
        Ok(NewEntry { kind: self.kind, date: self.date, year: self.year, grant: self.grant, postings: self.postings })
    }
}
