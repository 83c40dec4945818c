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
    Ok(problems)
}
