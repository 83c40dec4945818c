//! `verify`: every row of `quarter_balances` is its account's postings in that quarter, and
//! every quarter with postings has its row. The rows are kept by a trigger (migration 0023);
//! one changed, added or removed by hand would move as-at figures and the quarterly report
//! without touching an entry, so it is named here.

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
