//! `grant-ledger verify`: re-derives everything the write path promised and names what is wrong.

use std::collections::BTreeMap;

use sqlx::Row;

use super::{Store, StoreError};
use crate::domain::{Account, AccountKind, FinancialYear};

/// Every problem found, in words an auditor can act on. Empty means the ledger is sound.
pub async fn verify(store: &Store) -> Result<Vec<String>, StoreError> {
    let mut problems = Vec::new();
    let pool = store.pool();

    // Rule 1: each entry balances, has at least two postings, and no posting is zero.
    let rows = sqlx::query(
        "select e.id, count(p.line) as n, cast(coalesce(sum(p.amount_pence), 0) as bigint) as s
         from entries e left join postings p on p.entry_id = e.id group by e.id
         having count(p.line) < 2 or coalesce(sum(p.amount_pence), 0) <> 0",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        problems.push(format!(
            "entry {}: {} postings summing to {} pence (must be two or more summing to zero)",
            r.get::<i64, _>("id"),
            r.get::<i64, _>("n"),
            r.get::<i64, _>("s")
        ));
    }

    // Every balance equals the sum of its postings.
    let rows = sqlx::query(
        "select b.account, b.balance_pence,
                (select cast(coalesce(sum(p.amount_pence), 0) as bigint) from postings p where p.account = b.account) as summed
         from balances b",
    )
    .fetch_all(pool)
    .await?;
    let mut balances: BTreeMap<Account, i64> = BTreeMap::new();
    for r in rows {
        let name: String = r.get("account");
        let (stored, summed): (i64, i64) = (r.get("balance_pence"), r.get("summed"));
        if stored != summed {
            problems.push(format!("account {name}: balance {stored} pence but its postings sum to {summed}"));
        }
        match Account::parse(&name) {
            Some(a) => {
                balances.insert(a, summed);
            }
            None => problems.push(format!("account {name}: name does not follow DESIGN.md")),
        }
    }

    // Entries: dated in their year; reversals mirror what they reverse.
    let rows = sqlx::query("select id, entry_date, financial_year, reverses from entries").fetch_all(pool).await?;
    for r in rows {
        let id: i64 = r.get("id");
        let date: String = r.get("entry_date");
        let year: String = r.get("financial_year");
        let in_year =
            FinancialYear::parse(&year).ok().zip(crate::domain::parse_date(&date)).is_some_and(|(y, d)| y.contains(d));
        if !in_year {
            problems.push(format!("entry {id}: date {date} is not in its financial year {year}"));
        }
    }
    let rows = sqlx::query(
        "select r.id, r.reverses from entries r where r.reverses is not null and exists (
            select 1 from postings p where p.entry_id = r.id and not exists (
                select 1 from postings o where o.entry_id = r.reverses and o.account = p.account and o.amount_pence = -p.amount_pence))",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        problems.push(format!(
            "entry {}: does not mirror entry {} that it reverses",
            r.get::<i64, _>("id"),
            r.get::<i64, _>("reverses")
        ));
    }

    // Rules 2 and 4 in their current state: unallocated never negative; available negative
    // only under a `warn` grant; committed and spent never negative.
    let warn: Vec<String> = sqlx::query("select code from grants where on_overspend = 'warn'")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| r.get("code"))
        .collect();
    for (a, balance) in &balances {
        let held = if a.kind == AccountKind::Awarded { *balance } else { -balance };
        let allowed = held >= 0 || (a.kind == AccountKind::Available && warn.contains(&a.grant));
        if !allowed {
            problems.push(format!("account {a}: holds {held} pence, below zero"));
        }
    }

    check_as_at(store, &warn, &mut problems).await?;

    // Rule 3: restricted grants hold money only in projects of their priority.
    let rows = sqlx::query(
        "select b.account from balances b join grants g on g.code = b.grant_code join projects p on p.code = b.project_code
         where g.restricted_to_priority is not null and p.priority <> g.restricted_to_priority and b.balance_pence <> 0",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        problems.push(format!(
            "account {}: restricted grant money in a project of another priority",
            r.get::<String, _>("account")
        ));
    }

    // Commitments: none has more outstanding than its amount, nor less than nothing.
    let rows = sqlx::query(
        "select c.id, c.amount_pence,
                (select cast(coalesce(-sum(p.amount_pence), 0) as bigint) from postings p join entries e on e.id = p.entry_id
                 where e.commitment_id = c.id and p.account like 'committed:%') as outstanding
         from commitments c",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        let (id, amount, outstanding): (i64, i64, i64) = (r.get("id"), r.get("amount_pence"), r.get("outstanding"));
        if outstanding < 0 || outstanding > amount {
            problems.push(format!("commitment {id}: outstanding {outstanding} pence is outside 0..={amount}"));
        }
    }
    check_chains(store, &mut problems).await?;
    Ok(problems)
}

/// Rule 8: the rules hold as at every date. Walks each account's postings in date order
/// and names the first date its figure breaks rule 2, rule 4 under `stop`, or the
/// structural rules (the same test as for current balances above); then names every
/// correction dated before what it corrects.
async fn check_as_at(store: &Store, warn: &[String], problems: &mut Vec<String>) -> Result<(), StoreError> {
    let pool = store.pool();
    let rows = sqlx::query(
        "select account, entry_date, cast(sum(amount_pence) as bigint) as net from postings
         group by account, entry_date order by account, entry_date",
    )
    .fetch_all(pool)
    .await?;
    // (account, running balance, already reported) of the account being walked.
    let mut walking: Option<(Option<Account>, i64, bool)> = None;
    let mut name = String::new();
    for r in rows {
        let account: String = r.get("account");
        if account != name {
            walking = Some((Account::parse(&account), 0, false));
            name = account;
        }
        let Some((Some(a), balance, reported)) = walking.as_mut() else { continue };
        *balance += r.get::<i64, _>("net");
        let held = crate::domain::rules::held(a.kind, crate::domain::Money::from_pence(*balance)).pence();
        let allowed = held >= 0 || (a.kind == AccountKind::Available && warn.contains(&a.grant));
        if !allowed && !*reported {
            let date: String = r.get("entry_date");
            problems.push(format!("account {a}: holds {held} pence as at {date}, below zero"));
            *reported = true;
        }
    }

    let rows = sqlx::query(
        "select r.id, r.entry_date, o.id as original, o.entry_date as original_date
         from entries r join entries o on o.id = r.reverses where r.entry_date < o.entry_date order by r.id",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        problems.push(format!(
            "entry {}: reversal dated {}, before entry {} of {} that it reverses",
            r.get::<i64, _>("id"),
            r.get::<String, _>("entry_date"),
            r.get::<i64, _>("original"),
            r.get::<String, _>("original_date"),
        ));
    }
    let rows = sqlx::query(
        "select e.id, e.kind, e.entry_date, c.id as commitment, c.commitment_date
         from entries e join commitments c on c.id = e.commitment_id
         where e.commitment_id is not null and e.entry_date < c.commitment_date order by e.id",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        problems.push(format!(
            "entry {}: {} dated {}, before commitment {} of {} that it draws on",
            r.get::<i64, _>("id"),
            r.get::<String, _>("kind"),
            r.get::<String, _>("entry_date"),
            r.get::<i64, _>("commitment"),
            r.get::<String, _>("commitment_date"),
        ));
    }
    Ok(())
}

/// Recomputes every award's chain of entry hashes, in id order, and compares the newest
/// with the award's head. The first broken link of each award is named.
async fn check_chains(store: &Store, problems: &mut Vec<String>) -> Result<(), StoreError> {
    use crate::domain::chain::{EntryContent, GENESIS, entry_hash};
    let pool = store.pool();
    let mut postings: BTreeMap<i64, Vec<(String, i64)>> = BTreeMap::new();
    for r in sqlx::query("select entry_id, account, amount_pence from postings order by entry_id, line")
        .fetch_all(pool)
        .await?
    {
        postings.entry(r.get("entry_id")).or_default().push((r.get("account"), r.get("amount_pence")));
    }
    let heads: BTreeMap<(String, String), String> =
        sqlx::query("select grant_code, financial_year, head_hash from awards")
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| ((r.get("grant_code"), r.get("financial_year")), r.get("head_hash")))
            .collect();
    let rows = sqlx::query(
        "select id, kind, entry_date, financial_year, grant_code, memo, details, created_by, created_at, reverses,
                commitment_id, source_ref, prev_hash, hash
         from entries order by grant_code, financial_year, id",
    )
    .fetch_all(pool)
    .await?;
    let mut last: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut broken: std::collections::BTreeSet<(String, String)> = Default::default();
    for r in rows {
        let id: i64 = r.get("id");
        let award: (String, String) = (r.get("grant_code"), r.get("financial_year"));
        let expected_prev = last.get(&award).cloned().unwrap_or_else(|| GENESIS.to_owned());
        let (kind, date, memo, details, created_by, created_at): (String, String, String, String, String, String) = (
            r.get("kind"),
            r.get("entry_date"),
            r.get("memo"),
            r.get("details"),
            r.get("created_by"),
            r.get("created_at"),
        );
        let source_ref: Option<String> = r.get("source_ref");
        let content = EntryContent {
            kind: &kind,
            date: &date,
            financial_year: &award.1,
            grant: &award.0,
            memo: &memo,
            details: &details,
            created_by: &created_by,
            created_at: &created_at,
            reverses: r.get("reverses"),
            commitment_id: r.get("commitment_id"),
            source_ref: source_ref.as_deref(),
            postings: postings.remove(&id).unwrap_or_default(),
        };
        let (prev_hash, hash): (String, String) = (r.get("prev_hash"), r.get("hash"));
        if !broken.contains(&award) {
            if prev_hash != expected_prev {
                problems.push(format!(
                    "entry {id}: chain broken: it does not follow the previous entry of {} {}",
                    award.0, award.1
                ));
                broken.insert(award.clone());
            } else if entry_hash(&prev_hash, &content) != hash {
                problems.push(format!(
                    "entry {id}: hash does not match its content or postings: altered after it was written"
                ));
                broken.insert(award.clone());
            }
        }
        last.insert(award, hash);
    }
    for (award, head) in heads {
        let newest = last.get(&award).cloned().unwrap_or_else(|| GENESIS.to_owned());
        if newest != head && !broken.contains(&award) {
            problems.push(format!(
                "award {} {}: newest entry is not the chain head: an entry was removed or added outside the ledger",
                award.0, award.1
            ));
        }
    }
    Ok(())
}
