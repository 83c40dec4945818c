//! `verify`: every row of `quarter_balances` is its account's postings in that quarter, and
//! every quarter with postings has its row; likewise `month_balances` by month. The rows are
//! kept by triggers (migrations 0023 and 0027);
//! one changed, added or removed by hand would move as-at figures and the quarterly report
//! without touching an entry, so it is named here. Likewise every row of `entry_day_totals`
//! (migration 0024) is the count of its day's entries and the sum of their debits, which
//! the entries list's count and total read.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::Row;

use super::scanned::StoredEntry;
use super::{Store, StoreError};
use crate::domain::year::{month_bounds, quarter_bounds};

pub(super) async fn check(
    store: &Store,
    entries: &[StoredEntry],
    problems: &mut Vec<String>,
) -> Result<(), StoreError> {
    check_periods(store, entries, Period::Quarter, problems).await?;
    check_periods(store, entries, Period::Month, problems).await
}

/// The kept sums of an account's postings per period of their dates.
#[derive(Clone, Copy)]
enum Period {
    /// `quarter_balances` (migration 0023).
    Quarter,
    /// `month_balances` (migration 0027).
    Month,
}

impl Period {
    fn table_and_key(self) -> (&'static str, &'static str) {
        match self {
            Period::Quarter => ("quarter_balances", "quarter_start"),
            Period::Month => ("month_balances", "month_start"),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Period::Quarter => "quarter",
            Period::Month => "month",
        }
    }

    fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            Period::Quarter => quarter_bounds(date).0,
            Period::Month => month_bounds(date).0,
        }
    }
}

async fn check_periods(
    store: &Store,
    entries: &[StoredEntry],
    period: Period,
    problems: &mut Vec<String>,
) -> Result<(), StoreError> {
    let mut summed: BTreeMap<(String, String), i64> = BTreeMap::new();
    for p in entries.iter().flat_map(|e| &e.postings) {
        // A posting's date was checked with its entry; one that does not parse is named there.
        let Ok(date) = NaiveDate::parse_from_str(&p.entry_date, "%Y-%m-%d") else { continue };
        *summed.entry((p.account.clone(), period.start_of(date).to_string())).or_default() += p.amount_pence;
    }
    let (table, key) = period.table_and_key();
    let noun = period.noun();
    let mut stored: BTreeMap<(String, String), i64> = BTreeMap::new();
    let sql = format!("select account, {key} as period_start, pence from {table}");
    for r in sqlx::query(&sql).fetch_all(store.pool()).await? {
        stored.insert((r.try_get("account")?, r.try_get("period_start")?), r.try_get("pence")?);
    }
    for ((account, start), pence) in &stored {
        match summed.get(&(account.clone(), start.clone())) {
            Some(sum) if sum == pence => {}
            Some(sum) => problems.push(format!(
                "account {account}: {noun} from {start} holds {pence} pence but its postings sum to {sum}"
            )),
            None => problems.push(format!("account {account}: a {noun} from {start} ({pence} pence) has no postings")),
        }
    }
    for ((account, start), sum) in &summed {
        if !stored.contains_key(&(account.clone(), start.clone())) {
            problems.push(format!("account {account}: no {noun} row from {start} for postings summing to {sum}"));
        }
    }
    Ok(())
}

/// A day's entries of one award and kind: (year, grant, kind, date).
type Day = (String, String, String, String);

/// `entry_day_totals` against the entries and their postings as chained.
pub(super) async fn check_day_totals(
    store: &Store,
    entries: &[StoredEntry],
    problems: &mut Vec<String>,
) -> Result<(), StoreError> {
    let mut summed: BTreeMap<Day, (i64, i64)> = BTreeMap::new();
    for e in entries {
        let debits: i64 = e.postings.iter().map(|p| p.amount_pence).filter(|p| *p > 0).sum();
        let day = summed.entry((e.year.clone(), e.grant.clone(), e.kind.clone(), e.date.clone())).or_default();
        *day = (day.0 + 1, day.1 + debits);
    }
    let mut stored: BTreeMap<Day, (i64, i64)> = BTreeMap::new();
    let sql = "select financial_year, grant_code, kind, entry_date, entries, amount_pence from entry_day_totals";
    for r in sqlx::query(sql).fetch_all(store.pool()).await? {
        let day =
            (r.try_get("financial_year")?, r.try_get("grant_code")?, r.try_get("kind")?, r.try_get("entry_date")?);
        stored.insert(day, (r.try_get("entries")?, r.try_get("amount_pence")?));
    }
    let name = |(year, grant, kind, date): &Day| format!("day totals of {grant} {year} {kind} entries on {date}");
    for (day, (n, pence)) in &stored {
        match summed.get(day) {
            Some(&(count, sum)) if (count, sum) == (*n, *pence) => {}
            Some((count, sum)) => problems.push(format!(
                "{}: {n} entries of {pence} pence are kept but the ledger holds {count} of {sum}",
                name(day)
            )),
            None => problems.push(format!("{}: {n} entries of {pence} pence are kept but there are none", name(day))),
        }
    }
    for (day, (count, sum)) in &summed {
        if !stored.contains_key(day) {
            problems.push(format!("{}: no row for {count} entries of {sum} pence", name(day)));
        }
    }
    Ok(())
}
