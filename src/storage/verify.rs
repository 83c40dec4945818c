//! `grant-ledger verify`: re-derives everything the write path promised and names what is wrong.
//!
//! Entries and postings are read in one scan each and every per-entry and per-account
//! figure is aggregated in memory from that scan, so the cost is two sequential reads on
//! either backend rather than a subquery per account or per commitment.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row;

pub use super::scanned::Report;
pub(crate) use super::scanned::StoredEntry;
use super::{Store, StoreError};
use crate::domain::chain::{ChainKey, PostingContent};
use crate::domain::entry::date_window;
use crate::domain::{
    Account, AccountKind, AuditAction, AuditEntity, CommitmentKind, EntryKind, FinancialYear, Money, OnOverspend,
};

/// Every problem found, in words an auditor can act on, checking keyed links with this
/// process's chain key. Empty means the ledger is sound.
pub async fn verify(store: &Store) -> Result<Vec<String>, StoreError> {
    Ok(report(store, super::chain_key::installed()).await?.problems)
}

/// Every entry with its postings, in id order: one scan of each table.
pub(crate) async fn load_entries(store: &Store) -> Result<Vec<StoredEntry>, StoreError> {
    let pool = store.pool();
    let sql = format!(
        "select id, kind, entry_date, financial_year, grant_code, memo, details, created_by, created_at, reverses,
                commitment_id, source_ref, prev_hash, hash, hash_version, {}
         from entries order by id",
        super::entry_columns::NAMES.join(", ")
    );
    let mut entries: Vec<StoredEntry> = sqlx::query(&sql)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| -> Result<_, StoreError> {
            Ok(StoredEntry {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                date: r.try_get("entry_date")?,
                year: r.try_get("financial_year")?,
                grant: r.try_get("grant_code")?,
                memo: r.try_get("memo")?,
                details: r.try_get("details")?,
                created_by: r.try_get("created_by")?,
                created_at: r.try_get("created_at")?,
                reverses: r.try_get("reverses")?,
                commitment_id: r.try_get("commitment_id")?,
                source_ref: r.try_get("source_ref")?,
                prev_hash: r.try_get("prev_hash")?,
                hash: r.try_get("hash")?,
                hash_version: r.try_get("hash_version")?,
                columns: super::entry_columns::EntryColumns::read(r, &["id"])?,
                postings: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let index: HashMap<i64, usize> = entries.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let rows =
        sqlx::query("select entry_id, line, account, amount_pence, entry_date from postings order by entry_id, line")
            .fetch_all(pool)
            .await?;
    for r in rows {
        // The foreign key keeps every posting's entry; a posting without one is skipped here
        // and its entry's hash, which lists it, breaks instead.
        if let Some(&i) = index.get(&r.try_get::<i64, _>("entry_id")?) {
            entries[i].postings.push(PostingContent {
                line: r.try_get("line")?,
                account: r.try_get("account")?,
                amount_pence: r.try_get("amount_pence")?,
                entry_date: r.try_get("entry_date")?,
            });
        }
    }
    Ok(entries)
}

/// Everything `verify` checks; keyed links are checked with `key` when there is one.
pub async fn report(store: &Store, key: Option<&ChainKey>) -> Result<Report, StoreError> {
    let mut report = Report { problems: super::readable::check(store).await?, ..Report::default() };
    // A value outside its type is named above; the checks below stop at the first one.
    match derived(store, key, &mut report).await {
        Err(StoreError::Corrupt(what)) => report.problems.push(format!("verify could not finish: {what}")),
        done => done?,
    }
    Ok(report)
}

/// Everything verify re-derives from the entries, postings, balances and chains, and the rows
/// held to the audit trail.
async fn derived(store: &Store, key: Option<&ChainKey>, report: &mut Report) -> Result<(), StoreError> {
    let problems = &mut report.problems;
    let entries = load_entries(store).await?;
    check_entries(&entries, problems);
    check_entry_columns(&entries, problems);
    let sums = account_sums(&entries);
    check_balances(store, &sums, problems).await?;
    super::verify_quarters::check(store, &entries, problems).await?;
    super::verify_quarters::check_day_totals(store, &entries, problems).await?;
    check_commitments(store, &entries, problems).await?;
    check_evidence(store, problems).await?;
    super::verify_reversals::check(store, problems).await?;
    problems.extend(super::imports::check_files(store).await?);
    let audit = super::chains::load_audit(store).await?;
    super::periods::check(&entries, &audit, problems);
    super::chains::check(store, &entries, &audit, key, report).await?;
    super::held::check(store, &audit, &mut report.problems).await
}

/// `verify`: every entry's columns are what its details (and, for its amount, its postings)
/// give. Both are covered by the entry's link, so a column changed in the database, and not
/// in the details, is named here (a details edit breaks the link, and `chains` names that).
fn check_entry_columns(entries: &[StoredEntry], problems: &mut Vec<String>) {
    for e in entries {
        let details: serde_json::Value = match serde_json::from_str(&e.details) {
            Ok(d) => d,
            Err(err) => {
                problems.push(format!("entry {}: details are not JSON ({err})", e.id));
                continue;
            }
        };
        let expected = super::entry_columns::EntryColumns::of(&details, e.postings.iter().map(|p| p.amount_pence));
        for column in e.columns.differing(&expected) {
            let from = if column == "amount_pence" { "postings" } else { "details" };
            problems.push(format!(
                "entry {}: column {column} does not match its {from}: altered after it was written",
                e.id
            ));
        }
    }
}

/// Partners' evidence: every row is what its audit record says was recorded, and every
/// audit record of evidence still has its row. The audit trail is chained, so a row
/// changed or deleted with the triggers off is named here.
async fn check_evidence(store: &Store, problems: &mut Vec<String>) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "select id, commitment_id, evidence_date, amount_pence, status, note, created_by, created_at
         from agreement_evidence order by id",
    )
    .fetch_all(store.pool())
    .await?;
    let mut stored: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for r in rows {
        let (id, commitment): (i64, i64) = (r.try_get("id")?, r.try_get("commitment_id")?);
        let record = serde_json::json!({
            "id": id,
            "commitment_id": commitment,
            "date": r.try_get::<String, _>("evidence_date")?,
            "amount_evidenced": Money::from_pence(r.try_get("amount_pence")?).to_string(),
            "status": r.try_get::<String, _>("status")?,
            "note": r.try_get::<String, _>("note")?,
            "created_by": r.try_get::<String, _>("created_by")?,
            "created_at": r.try_get::<String, _>("created_at")?,
        });
        stored.insert(format!("{commitment}/{id}"), record);
    }
    let records = (AuditEntity::AgreementEvidence, AuditAction::Create);
    super::held::check_records(store, "evidence", records, &stored, problems).await?;
    Ok(())
}

/// Rule 1, dates, posting dates and reversals, per entry.
fn check_entries(entries: &[StoredEntry], problems: &mut Vec<String>) {
    let by_id: HashMap<i64, &StoredEntry> = entries.iter().map(|e| (e.id, e)).collect();
    for e in entries {
        // Rule 1: each entry balances, has at least two postings, and no posting is zero.
        let sum: i64 = e.postings.iter().map(|p| p.amount_pence).sum();
        if e.postings.len() < 2 || sum != 0 {
            problems.push(format!(
                "entry {}: {} postings summing to {} pence (must be two or more summing to zero)",
                e.id,
                e.postings.len(),
                sum
            ));
        }
        // Rules 5 and 9: its award's year, or for cash the span `date_window` allows. An
        // unknown kind is named by `readable`; its date is held to the year.
        let cash_only = e.postings.iter().all(|p| Account::parse(&p.account).is_some_and(|a| a.kind.is_cash_side()));
        let kind = EntryKind::parse(&e.kind).unwrap_or(EntryKind::Award);
        let window = FinancialYear::parse(&e.year).ok().map(|y| (y, date_window(kind, y, cash_only)));
        let date = crate::domain::parse_date(&e.date);
        match window {
            Some((_, (first, last))) if date.is_some_and(|d| first <= d && d <= last) => {}
            Some((y, (first, last))) if (first, last) != (y.start(), y.end()) => problems.push(format!(
                "entry {}: date {} is outside {first} to {last}, the dates a {} of {} may carry",
                e.id, e.date, e.kind, e.year
            )),
            _ => problems.push(format!("entry {}: date {} is not in its financial year {}", e.id, e.date, e.year)),
        }
        // A posting's date is a copy of its entry's, kept for as-at sums; entries hashed
        // before v2 do not cover it, so it is compared here.
        if let Some(p) = e.postings.iter().find(|p| p.entry_date != e.date) {
            problems.push(format!(
                "entry {}: posting {} is dated {} but its entry {}: as-at figures would move",
                e.id, p.line, p.entry_date, e.date
            ));
        }
        // Reversals mirror what they reverse.
        if let Some(original) = e.reverses {
            let mirrors = by_id.get(&original).is_some_and(|o| {
                e.postings
                    .iter()
                    .all(|p| o.postings.iter().any(|q| q.account == p.account && q.amount_pence == -p.amount_pence))
            });
            if !mirrors {
                problems.push(format!("entry {}: does not mirror entry {original} that it reverses", e.id));
            }
        }
    }
}

/// The sum of every account's postings.
fn account_sums(entries: &[StoredEntry]) -> HashMap<&str, i64> {
    let mut sums: HashMap<&str, i64> = HashMap::new();
    for p in entries.iter().flat_map(|e| &e.postings) {
        *sums.entry(p.account.as_str()).or_default() += p.amount_pence;
    }
    sums
}

/// Every balance equals the sum of its postings; rules 2, 3 and 4 in their current state.
async fn check_balances(
    store: &Store,
    sums: &HashMap<&str, i64>,
    problems: &mut Vec<String>,
) -> Result<(), StoreError> {
    let pool = store.pool();
    let mut balances: BTreeMap<Account, i64> = BTreeMap::new();
    for r in sqlx::query("select account, balance_pence from balances").fetch_all(pool).await? {
        let name: String = r.try_get("account")?;
        let stored: i64 = r.try_get("balance_pence")?;
        let summed = sums.get(name.as_str()).copied().unwrap_or(0);
        if stored != summed {
            problems.push(format!("account {name}: balance {stored} pence but its postings sum to {summed}"));
        }
        match Account::parse(&name) {
            Some(a) => {
                balances.insert(a, summed);
            }
            None => problems.push(format!("account {name}: name does not follow docs/design.md")),
        }
    }

    // Rules 2 and 4 in their current state: unallocated never negative; available negative
    // only under a `warn` grant; committed and spent never negative.
    let warn: Vec<String> =
        sqlx::query(&format!("select code from grants where on_overspend = {}", OnOverspend::Warn.sql()))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| r.try_get("code"))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
    for (a, balance) in &balances {
        let held = crate::domain::rules::held(a.kind, crate::domain::Money::from_pence(*balance)).pence();
        let allowed = held >= 0 || (a.kind == AccountKind::Available && warn.contains(&a.grant));
        if !allowed {
            problems.push(format!("account {a}: holds {held} pence, below zero"));
        }
    }

    check_as_at(store, &warn, problems).await?;

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
            r.try_get::<String, _>("account")?
        ));
    }
    Ok(())
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
        let account: String = r.try_get("account")?;
        if account != name {
            walking = Some((Account::parse(&account), 0, false));
            name = account;
        }
        let Some((Some(a), balance, reported)) = walking.as_mut() else { continue };
        *balance += r.try_get::<i64, _>("net")?;
        let held = crate::domain::rules::held(a.kind, crate::domain::Money::from_pence(*balance)).pence();
        let allowed = held >= 0 || (a.kind == AccountKind::Available && warn.contains(&a.grant));
        if !allowed && !*reported {
            let date: String = r.try_get("entry_date")?;
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
            r.try_get::<i64, _>("id")?,
            r.try_get::<String, _>("entry_date")?,
            r.try_get::<i64, _>("original")?,
            r.try_get::<String, _>("original_date")?,
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
            r.try_get::<i64, _>("id")?,
            r.try_get::<String, _>("kind")?,
            r.try_get::<String, _>("entry_date")?,
            r.try_get::<i64, _>("commitment")?,
            r.try_get::<String, _>("commitment_date")?,
        ));
    }
    Ok(())
}

/// Commitments: none has more outstanding than its amount, nor less than nothing; and each
/// row says what its commitment entry says (amount, award, project, supplier, reference,
/// date, memo), since the row is what a release or a spend against it is checked by.
async fn check_commitments(
    store: &Store,
    entries: &[StoredEntry],
    problems: &mut Vec<String>,
) -> Result<(), StoreError> {
    let mut outstanding: HashMap<i64, i64> = HashMap::new();
    let mut opening: HashMap<i64, &StoredEntry> = HashMap::new();
    let mut part_entries: Vec<(i64, &StoredEntry)> = Vec::new();
    for e in entries {
        let Some(c) = e.commitment_id else { continue };
        let held: i64 =
            e.postings.iter().filter(|p| AccountKind::Committed.names(&p.account)).map(|p| p.amount_pence).sum();
        *outstanding.entry(c).or_default() -= held;
        if e.kind == EntryKind::Commitment.as_str() {
            match opening.entry(c) {
                std::collections::hash_map::Entry::Occupied(_) => part_entries.push((c, e)),
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(e);
                }
            }
        }
    }
    let parts = agreement_parts(store).await?;
    let rows = sqlx::query(
        "select id, kind, grant_code, financial_year, project_code, supplier, reference, amount_pence, commitment_date, memo,
                recipient, start_date, end_date, purpose
         from commitments",
    )
    .fetch_all(store.pool())
    .await?;
    let mut agreements: HashMap<i64, &[(String, i64)]> = HashMap::new();
    for r in rows {
        let (id, amount): (i64, i64) = (r.try_get("id")?, r.try_get("amount_pence")?);
        let left = outstanding.get(&id).copied().unwrap_or(0);
        if left < 0 || left > amount {
            problems.push(format!("commitment {id}: outstanding {left} pence is outside 0..={amount}"));
        }
        let kind: String = r.try_get("kind")?;
        let row = CommitmentRow {
            grant: r.try_get("grant_code")?,
            year: r.try_get("financial_year")?,
            project: r.try_get("project_code")?,
            supplier: r.try_get("supplier")?,
            reference: r.try_get("reference")?,
            amount,
            date: r.try_get("commitment_date")?,
            memo: r.try_get("memo")?,
        };
        // A purchase order's entry commits its whole amount; an agreement's first entry
        // commits its first part, and records its terms.
        let own_parts = parts.get(&id).map(Vec::as_slice).unwrap_or_default();
        let first_part = if kind == CommitmentKind::GrantAgreement.as_str() {
            let terms = AgreementRow {
                recipient: r.try_get("recipient")?,
                start_date: r.try_get("start_date")?,
                end_date: r.try_get("end_date")?,
                purpose: r.try_get("purpose")?,
            };
            check_agreement_row(id, &row, &terms, own_parts, opening.get(&id).copied(), problems);
            agreements.insert(id, own_parts);
            own_parts.iter().find(|(y, _)| *y == row.year).map(|(_, p)| *p).unwrap_or(0)
        } else {
            if !own_parts.is_empty() {
                problems
                    .push(format!("commitment {id}: a purchase order with yearly parts: altered outside the ledger"));
            }
            amount
        };
        match opening.get(&id) {
            None => problems.push(format!("commitment {id}: has no commitment entry")),
            Some(e) => {
                if let Some(field) = row.differs_from(e, first_part) {
                    problems.push(format!(
                        "commitment {id}: its {field} differs from its commitment entry {}: altered outside the ledger",
                        e.id
                    ));
                }
            }
        }
    }
    // An agreement's later commitment entries each commit its part of their year.
    for (id, e) in part_entries {
        let committed: i64 =
            e.postings.iter().filter(|p| AccountKind::Committed.names(&p.account)).map(|p| -p.amount_pence).sum();
        let part = agreements.get(&id).and_then(|ps| ps.iter().find(|(y, _)| *y == e.year)).map(|(_, p)| *p);
        if part != Some(committed) {
            problems.push(format!(
                "commitment {id}: entry {} commits {committed} pence in {}, not its part there: altered outside the ledger",
                e.id, e.year
            ));
        }
    }
    Ok(())
}

/// Every agreement's parts, (year, pence) in year order.
async fn agreement_parts(store: &Store) -> Result<HashMap<i64, Vec<(String, i64)>>, StoreError> {
    let rows = sqlx::query(
        "select commitment_id, financial_year, amount_pence from agreement_parts order by commitment_id, financial_year",
    )
    .fetch_all(store.pool())
    .await?;
    let mut parts: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
    for r in rows {
        parts
            .entry(r.try_get("commitment_id")?)
            .or_default()
            .push((r.try_get("financial_year")?, r.try_get("amount_pence")?));
    }
    Ok(parts)
}

struct AgreementRow {
    recipient: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    purpose: String,
}

/// An agreement's row and parts say what its first commitment entry recorded of its terms,
/// and its parts add up to its amount.
fn check_agreement_row(
    id: i64,
    row: &CommitmentRow,
    terms: &AgreementRow,
    parts: &[(String, i64)],
    opening: Option<&StoredEntry>,
    problems: &mut Vec<String>,
) {
    if parts.iter().map(|(_, p)| p).sum::<i64>() != row.amount || parts.first().map(|(y, _)| y) != Some(&row.year) {
        problems.push(format!(
            "commitment {id}: its parts do not add up to its amount from its year: altered outside the ledger"
        ));
    }
    let Some(e) = opening else { return };
    let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
    let recorded = &details["agreement"];
    let schedule: Vec<serde_json::Value> = parts
        .iter()
        .map(|(y, p)| serde_json::json!({ "financial_year": y, "amount": Money::from_pence(*p).to_string() }))
        .collect();
    let differs = if recorded["recipient"].as_str() != terms.recipient.as_deref() {
        Some("recipient")
    } else if recorded["start_date"].as_str() != terms.start_date.as_deref() {
        Some("start date")
    } else if recorded["end_date"].as_str() != terms.end_date.as_deref() {
        Some("end date")
    } else if recorded["purpose"] != terms.purpose.as_str() {
        Some("purpose")
    } else if recorded["amount"] != Money::from_pence(row.amount).to_string().as_str() {
        Some("amount")
    } else if recorded["schedule"] != serde_json::Value::Array(schedule) {
        Some("schedule")
    } else {
        None
    };
    if let Some(field) = differs {
        problems.push(format!(
            "commitment {id}: its {field} differs from what its commitment entry {} recorded: altered outside the ledger",
            e.id
        ));
    }
}

struct CommitmentRow {
    grant: String,
    year: String,
    project: String,
    supplier: String,
    reference: String,
    amount: i64,
    date: String,
    memo: String,
}

impl CommitmentRow {
    /// The first field that the commitment entry contradicts.
    fn differs_from(&self, e: &StoredEntry, first_part: i64) -> Option<&'static str> {
        // The entry's columns, which `check_entry_columns` holds to its chained details.
        let same = |column: &Option<String>, row: &str| column.as_deref() == Some(row);
        let committed: Vec<(Option<Account>, i64)> = e
            .postings
            .iter()
            .filter(|p| AccountKind::Committed.names(&p.account))
            .map(|p| (Account::parse(&p.account), p.amount_pence))
            .collect();
        let posting_ok = matches!(committed.as_slice(), [(Some(a), pence)]
            if *pence == -first_part && a.project.as_deref() == Some(self.project.as_str()));
        if !posting_ok {
            Some("amount or project")
        } else if e.grant != self.grant || e.year != self.year {
            Some("award")
        } else if !same(&e.columns.project, &self.project) {
            Some("project")
        } else if !same(&e.columns.supplier, &self.supplier) {
            Some("supplier")
        } else if !same(&e.columns.reference, &self.reference) {
            Some("reference")
        } else if e.date != self.date {
            Some("date")
        } else if e.memo != self.memo {
            Some("memo")
        } else {
            None
        }
    }
}
