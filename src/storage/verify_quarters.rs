//! `verify`: every row of `quarter_balances` is its account's postings in that quarter, and
//! every quarter with postings has its row. The rows are kept by a trigger (migration 0023);
//! one changed, added or removed by hand would move as-at figures and the quarterly report
//! without touching an entry, so it is named here. Likewise every row of `entry_day_totals`
//! (migration 0024) is the count of its day's entries and the sum of their debits, which
//! the entries list's count and total read.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::Row;

use super::scanned::StoredEntry;
use super::{Store, StoreError};
use crate::domain::year::quarter_bounds;

pub(super) async fn check(
    store: &Store,
    entries: &[StoredEntry],
    problems: &mut Vec<String>,
) -> Result<(), StoreError> {
    let mut summed: BTreeMap<(String, String), i64> = BTreeMap::new();
    for p in entries.iter().flat_map(|e| &e.postings) {
        // A posting's date was checked with its entry; one that does not parse is named there.
        let Ok(date) = NaiveDate::parse_from_str(&p.entry_date, "%Y-%m-%d") else { continue };
        let start = quarter_bounds(date).0.to_string();
        *summed.entry((p.account.clone(), start)).or_default() += p.amount_pence;
    }
    let mut stored: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in sqlx::query("select account, quarter_start, pence from quarter_balances").fetch_all(store.pool()).await? {
        stored.insert((r.try_get("account")?, r.try_get("quarter_start")?), r.try_get("pence")?);
    }
    for ((account, quarter), pence) in &stored {
        match summed.get(&(account.clone(), quarter.clone())) {
            Some(sum) if sum == pence => {}
            Some(sum) => problems.push(format!(
                "account {account}: quarter from {quarter} holds {pence} pence but its postings sum to {sum}"
            )),
            None => {
                problems.push(format!("account {account}: a quarter from {quarter} ({pence} pence) has no postings"))
            }
        }
    }
    for ((account, quarter), sum) in &summed {
        if !stored.contains_key(&(account.clone(), quarter.clone())) {
            problems.push(format!("account {account}: no quarter row from {quarter} for postings summing to {sum}"));
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
