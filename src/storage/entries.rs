//! Writing and reading entries, postings and balances. `post_in` is the one path by which
//! money changes: it checks the rules against balances read inside the caller's `db_tx`.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::entry_columns::EntryColumns;
use super::lookups::{get_grant_in, refuse_closed_date_year_in, refuse_locked_quarter_in, year_status_in};
use super::search::Where;
use super::{DbTx, Page, Store, StoreError, now_precise, rows};
use crate::domain::chain::{self, EntryContent, PostingContent, entry_link};
use crate::domain::rules::Lowest;
use crate::domain::{Account, FinancialYear, Money, NewEntry, OnOverspend, OverspendFlag, Posting, YearStatus, rules};
use crate::model::entries::{AccountBalance, EntryFilter, EntryTotal, EntryView, ListedEntry};
use crate::model::lists::EntrySort;
use crate::model::page::List;
use crate::model::reference::Grant;
use chrono::NaiveDate;

/// What an entry records besides its postings.
#[derive(Debug, Default, Clone)]
pub struct EntryMeta {
    pub memo: String,
    pub details: serde_json::Value,
    pub created_by: String,
    pub reverses: Option<i64>,
    pub commitment_id: Option<i64>,
    pub source_ref: Option<String>,
}

/// The result of posting: the new entry's id, and any overspend flagged under `warn`.
#[derive(Debug)]
pub struct Posted {
    pub entry_id: i64,
    pub flags: Vec<OverspendFlag>,
}

/// An award, locked for writing by the current `db_tx`.
#[derive(Debug)]
pub struct LockedAward {
    pub grant: Grant,
    pub year: FinancialYear,
}

/// The lock itself: an update of the award's row. Says whether the award exists. The bulk
/// import takes it for every award of a file, in sorted order, before reading anything.
pub(super) async fn lock_award_row(db_tx: &mut DbTx, grant: &str, year: FinancialYear) -> Result<bool, StoreError> {
    let done = sqlx::query("update awards set write_seq = write_seq + 1 where grant_code = $1 and financial_year = $2")
        .bind(grant)
        .bind(year.to_string())
        .execute(&mut **db_tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Holds every award of `year` in the one global order, (grant, year), as imports and year
/// ends take them (one statement over them all would lock in table order and deadlock
/// against those on PostgreSQL). `RowLock::Update` takes each award's write lock, so
/// postings to them finish first and later ones wait for this `db_tx`; `RowLock::Share`
/// only keeps them from being written until it ends. Answers the grants held.
pub(super) async fn hold_year_awards_in(
    db_tx: &mut DbTx,
    year: FinancialYear,
    lock: super::RowLock,
) -> Result<Vec<String>, StoreError> {
    let share = if lock == super::RowLock::Share { lock.clause(db_tx) } else { "" };
    let sql = format!("select grant_code from awards where financial_year = $1 order by grant_code{share}");
    let grants: Vec<String> = sqlx::query(&sql)
        .bind(year.to_string())
        .fetch_all(&mut **db_tx)
        .await?
        .iter()
        .map(|r| r.try_get("grant_code"))
        .collect::<Result<_, _>>()?;
    if lock == super::RowLock::Update {
        for grant in &grants {
            lock_award_row(db_tx, grant, year).await?;
        }
    }
    Ok(grants)
}

/// Takes the write lock of an award, first thing in a `db_tx`, then checks its year is open.
/// On PostgreSQL the update holds the award's row lock until commit; on SQLite a write as
/// the first statement takes the database write lock at once. Either way, the balances read
/// after this cannot change before this `db_tx` ends (rule 7).
pub async fn lock_award(db_tx: &mut DbTx, grant: &str, year: FinancialYear) -> Result<LockedAward, StoreError> {
    lock_award_for(db_tx, grant, year, None).await
}

/// `lock_award` for an entry dated `date`. A closed year takes no entry, except one of an
/// award's cash side dated after the year has ended (rule 9: a repayment of its underspend
/// after 31 March): it moves no figure of the closed year as at any date in it, and
/// `post_in` holds it to the year its date falls in. The entry builder keeps every other
/// kind inside its award's year.
pub async fn lock_award_dated(
    db_tx: &mut DbTx,
    grant: &str,
    year: FinancialYear,
    date: NaiveDate,
) -> Result<LockedAward, StoreError> {
    lock_award_for(db_tx, grant, year, Some(date)).await
}

async fn lock_award_for(
    db_tx: &mut DbTx,
    grant: &str,
    year: FinancialYear,
    date: Option<NaiveDate>,
) -> Result<LockedAward, StoreError> {
    let exists = lock_award_row(db_tx, grant, year).await?;
    let grant = get_grant_in(db_tx, grant).await.map_err(|e| match e {
        StoreError::NotFound(_) => StoreError::invalid("grant", format!("no grant {grant}")),
        other => other,
    })?;
    if !exists {
        return Err(StoreError::invalid("financial_year", format!("grant {} has no award for {year}", grant.code)));
    }
    // An award's year exists (foreign key), so only `Open` lets the entry in, or an entry
    // dated after a closed year.
    let after_the_year = date.is_some_and(|d| d > year.end());
    if year_status_in(db_tx, year).await? != Some(YearStatus::Open) && !after_the_year {
        return Err(StoreError::PeriodClosed(year.to_string()));
    }
    Ok(LockedAward { grant, year })
}

/// The signed balance of one account, read inside `db_tx`.
pub async fn balance_in(db_tx: &mut DbTx, account: &Account) -> Result<Money, StoreError> {
    let row = sqlx::query("select balance_pence from balances where account = $1")
        .bind(account.to_string())
        .fetch_optional(&mut **db_tx)
        .await?;
    Ok(Money::from_pence(row.map(|r| r.try_get::<i64, _>("balance_pence")).transpose()?.unwrap_or(0)))
}

/// The net of an account's postings on each date after `date`, in date order, read inside
/// `db_tx` through the (account, entry_date, amount) index. For an entry dated on or after
/// the account's latest posting, the usual case, it is one index probe that finds nothing.
pub async fn later_by_date_in(
    db_tx: &mut DbTx,
    account: &Account,
    date: NaiveDate,
) -> Result<Vec<(NaiveDate, Money)>, StoreError> {
    let rows = sqlx::query(
        "select entry_date, cast(sum(amount_pence) as bigint) as net from postings
         where account = $1 and entry_date > $2 group by entry_date order by entry_date",
    )
    .bind(account.to_string())
    .bind(date.to_string())
    .fetch_all(&mut **db_tx)
    .await?;
    let account = account.to_string();
    let at = ("postings", &["account", "entry_date"][..]);
    rows.iter()
        .map(|r| Ok((rows::date(r, at, "entry_date")?, Money::from_pence(r.try_get("net")?))))
        .collect::<Result<Vec<_>, StoreError>>()
        .map_err(|e| match e {
            StoreError::Corrupt(what) => StoreError::Corrupt(format!("{what} (account {account})")),
            e => e,
        })
}

/// The text columns of an entry's row, made once for both the row and its hash.
pub(crate) struct EntryText {
    pub date: String,
    pub year: String,
    pub details: String,
    /// What the details give the typed columns.
    pub columns: EntryColumns,
}

impl EntryText {
    pub(crate) fn of(entry: &NewEntry, meta: &EntryMeta) -> EntryText {
        EntryText {
            date: entry.date().to_string(),
            year: entry.year().to_string(),
            details: meta.details.to_string(),
            columns: EntryColumns::of(&meta.details, entry.postings().iter().map(|p| p.amount.pence())),
        }
    }
}

/// What an entry's hash covers: its row as written, and its postings as written (line,
/// account, amount, date). `post_in` and the bulk import both hash through here, so their
/// chains cannot drift apart.
pub(crate) fn hashed_content<'a>(
    id: i64,
    entry: &'a NewEntry,
    meta: &'a EntryMeta,
    text: &'a EntryText,
    created_at: &'a str,
) -> EntryContent<'a> {
    EntryContent {
        id,
        kind: entry.kind().as_str(),
        date: &text.date,
        financial_year: &text.year,
        grant: entry.grant(),
        memo: &meta.memo,
        details: &text.details,
        created_by: &meta.created_by,
        created_at,
        reverses: meta.reverses,
        commitment_id: meta.commitment_id,
        source_ref: meta.source_ref.as_deref(),
        postings: entry
            .postings()
            .iter()
            .enumerate()
            .map(|(i, p)| PostingContent {
                line: i as i64 + 1,
                account: p.account.to_string(),
                amount_pence: p.amount.pence(),
                entry_date: text.date.clone(),
            })
            .collect(),
    }
}

/// The id the next entry takes, before it is hashed and inserted. SQLite: the largest
/// plus one, since the caller's write lock (`lock_award`) keeps every other writer out.
/// PostgreSQL: the identity's sequence, which never hands out an id twice.
pub(crate) async fn next_entry_id(db_tx: &mut DbTx) -> Result<i64, StoreError> {
    let sql = if db_tx.backend_name() == "PostgreSQL" {
        "select nextval(pg_get_serial_sequence('entries', 'id')) as id"
    } else {
        "select cast(coalesce(max(id), 0) + 1 as bigint) as id from entries"
    };
    Ok(sqlx::query(sql).fetch_one(&mut **db_tx).await?.try_get("id")?)
}

/// The seal of an award's new head under the chain key; empty without a key.
pub(crate) fn award_head_seal(grant: &str, year: &str, head: &str) -> String {
    match super::chain_key::installed() {
        Some(key) => chain::head_seal(key, &chain::award_chain(grant, year), head),
        None => String::new(),
    }
}

/// Writes a built entry: checks rules 2–4 against the balances as at every date from the
/// entry's own (rule 8: current balances, less what is dated later), inserts the entry and
/// its postings, moves the balances, and asserts the entry still balances. The caller holds
/// the award's lock (`lock_award`) and commits.
pub async fn post_in(
    db_tx: &mut DbTx,
    entry: &NewEntry,
    meta: &EntryMeta,
    rule: OnOverspend,
) -> Result<Posted, StoreError> {
    entry.assert_balanced();
    // The year the entry's date falls in decides whether it is open: the award's own year,
    // whose state `lock_award` read, or for cash dated outside it (rule 9) another, read
    // and held here.
    let date_year = FinancialYear::of(entry.date());
    if date_year != entry.year() {
        refuse_closed_date_year_in(db_tx, date_year).await?;
    }
    // A locked quarter takes no entry dated in it (the caller holds the award's lock, which
    // locking a quarter of the award's year waits for; another year's row is held above).
    refuse_locked_quarter_in(db_tx, date_year, entry.date()).await?;
    let grant = get_grant_in(db_tx, entry.grant()).await?;
    let mut before: BTreeMap<Account, Money> = BTreeMap::new();
    let mut lowest: BTreeMap<Account, Lowest> = BTreeMap::new();
    for (account, change) in entry.net_by_account() {
        let balance = balance_in(db_tx, account).await?;
        before.insert(account.clone(), balance);
        // Rule 8: an account drawn on must hold enough as at every date from the entry's.
        if rules::drawn(account.kind, change).is_positive() {
            let later = later_by_date_in(db_tx, account, entry.date()).await?;
            lowest.insert(account.clone(), rules::lowest_from(account.kind, entry.date(), balance, later.into_iter()));
        }
        if let Some(project) = &account.project {
            check_project_priority(db_tx, &grant, project).await?;
        }
    }
    let flags = rules::check(
        entry,
        |a| lowest.get(a).copied().unwrap_or_else(|| Lowest::now(before.get(a).copied().unwrap_or_default())),
        rule,
    )?;

    // Chain the entry to the newest one of its award (the award row is locked by the caller).
    let prev_hash: String = sqlx::query("select head_hash from awards where grant_code = $1 and financial_year = $2")
        .bind(entry.grant())
        .bind(entry.year().to_string())
        .fetch_one(&mut **db_tx)
        .await?
        .try_get("head_hash")?;
    let created_at = now_precise();
    let text = EntryText::of(entry, meta);
    let entry_id = next_entry_id(db_tx).await?;
    let content = hashed_content(entry_id, entry, meta, &text, &created_at);
    let (version, hash) = entry_link(&prev_hash, &content, super::chain_key::installed());

    let inserted = sqlx::query(
        "insert into entries (kind, entry_date, financial_year, grant_code, memo, details, created_by, created_at,
                              reverses, commitment_id, source_ref, prev_hash, hash, hash_version, id,
                              project, supplier, invoice_ref, reference, vat_pence, vat_recoverable, refund_of,
                              duplicate_of, import_id, amount_pence)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
                 $23, $24, $25)",
    )
    .bind(content.kind)
    .bind(&text.date)
    .bind(&text.year)
    .bind(entry.grant())
    .bind(&meta.memo)
    .bind(&text.details)
    .bind(&meta.created_by)
    .bind(&created_at)
    .bind(meta.reverses)
    .bind(meta.commitment_id)
    .bind(&meta.source_ref)
    .bind(&prev_hash)
    .bind(&hash)
    .bind(version.stored())
    .bind(entry_id);
    let inserted = text.columns.bind(inserted).execute(&mut **db_tx).await;
    match inserted {
        Ok(_) => {}
        Err(e) if super::is_unique_violation(&e) => {
            return Err(match (meta.reverses, &meta.source_ref) {
                (Some(id), _) => StoreError::AlreadyReversed(id),
                (None, Some(r)) => StoreError::Conflict(format!("source_ref {r} is already recorded")),
                _ => e.into(),
            });
        }
        Err(e) => return Err(e.into()),
    };

    for account in before.keys() {
        open_account_in(db_tx, account).await?;
    }
    // The postings exactly as hashed.
    for p in &content.postings {
        sqlx::query(
            "insert into postings (entry_id, line, account, amount_pence, entry_date) values ($1, $2, $3, $4, $5)",
        )
        .bind(entry_id)
        .bind(p.line)
        .bind(&p.account)
        .bind(p.amount_pence)
        .bind(&p.entry_date)
        .execute(&mut **db_tx)
        .await?;
    }
    for (account, change) in entry.net_by_account() {
        sqlx::query("update balances set balance_pence = balance_pence + $2 where account = $1")
            .bind(account.to_string())
            .bind(change.pence())
            .execute(&mut **db_tx)
            .await?;
    }
    // Check on both sides of the boundary: what was written must still sum to zero.
    let sum: i64 =
        sqlx::query("select cast(coalesce(sum(amount_pence), 0) as bigint) as s from postings where entry_id = $1")
            .bind(entry_id)
            .fetch_one(&mut **db_tx)
            .await?
            .try_get("s")?;
    assert_eq!(sum, 0, "entry {entry_id} was written unbalanced");
    sqlx::query("update awards set head_hash = $3, head_seal = $4 where grant_code = $1 and financial_year = $2")
        .bind(entry.grant())
        .bind(&text.year)
        .bind(&hash)
        .bind(award_head_seal(entry.grant(), &text.year, &hash))
        .execute(&mut **db_tx)
        .await?;
    Ok(Posted { entry_id, flags })
}

/// Makes sure an account has its row in `balances` (at zero) before postings name it.
pub async fn open_account_in(db_tx: &mut DbTx, account: &Account) -> Result<(), StoreError> {
    sqlx::query(
        "insert into balances (account, kind, grant_code, financial_year, project_code, balance_pence)
         values ($1, $2, $3, $4, $5, 0) on conflict (account) do nothing",
    )
    .bind(account.to_string())
    .bind(account.kind.as_str())
    .bind(&account.grant)
    .bind(account.year.to_string())
    .bind(&account.project)
    .execute(&mut **db_tx)
    .await?;
    Ok(())
}

/// Rule 3: a grant restricted to a priority funds only projects of that priority. The
/// project's row is held shared until commit, so its priority cannot change under the
/// posting (rule 7).
async fn check_project_priority(db_tx: &mut DbTx, grant: &Grant, project: &str) -> Result<(), StoreError> {
    let Some(restricted_to) = &grant.restricted_to_priority else { return Ok(()) };
    let p = super::lookups::lock_project_in(db_tx, project, super::RowLock::Share)
        .await?
        .ok_or_else(|| StoreError::invalid("project", format!("no project {project}")))?;
    if &p.priority != restricted_to {
        return Err(StoreError::RestrictedFund {
            grant: grant.code.clone(),
            restricted_to: restricted_to.clone(),
            project: project.to_owned(),
            priority: p.priority,
        });
    }
    Ok(())
}

// ---- reading ----

pub use crate::model::postings::PostingView;

const ENTRY_COLUMNS: &str = "e.id, e.kind, e.entry_date, e.financial_year, e.grant_code, e.memo, e.details, e.created_by,
    e.created_at, e.reverses, e.commitment_id, e.source_ref, (select r.id from entries r where r.reverses = e.id) as reversed_by";

fn entry_from(r: &AnyRow) -> Result<EntryView, StoreError> {
    let at = ("entries", &["id"][..]);
    let named = |e| rows::corrupt(r, at.0, at.1, e);
    Ok(EntryView {
        id: r.try_get("id").map_err(named)?,
        kind: r.try_get("kind").map_err(named)?,
        date: r.try_get("entry_date").map_err(named)?,
        financial_year: r.try_get("financial_year").map_err(named)?,
        grant: r.try_get("grant_code").map_err(named)?,
        memo: r.try_get("memo").map_err(named)?,
        details: rows::parsed(r, at, "details", |t| serde_json::from_str(t))?,
        created_by: r.try_get("created_by").map_err(named)?,
        created_at: r.try_get("created_at").map_err(named)?,
        reverses: r.try_get("reverses").map_err(named)?,
        reversed_by: r.try_get("reversed_by").map_err(named)?,
        commitment_id: r.try_get("commitment_id").map_err(named)?,
        source_ref: r.try_get("source_ref").map_err(named)?,
        postings: Vec::new(),
    })
}

/// The entries `f` finds, a page after the key `after` (an id, or for `EntrySort::Date` a
/// `model::page::date_key`; empty for the first page).
pub async fn list_entries(
    store: &Store,
    f: &EntryFilter,
    after: &str,
    limit: i64,
) -> Result<Page<EntryView>, StoreError> {
    let page = search_entries(store, f, after, limit).await?;
    Ok(Page { items: page.items.into_iter().map(|l| l.entry).collect(), next_cursor: page.next_cursor })
}

/// The filters' conditions on `entries e`, and the SQL of an entry's amount
/// (`EntryFilter::amount_of`).
fn entry_where(f: &EntryFilter) -> (Where, String) {
    let mut w = Where::default();
    award_kind_and_dates(&mut w, "e.", f);
    if let Some(s) = &f.supplier {
        w.contains("e.supplier", s);
    }
    w.compare("e.invoice_ref", "=", f.invoice_ref.as_ref());
    if let Some(q) = &f.q {
        w.contains("e.memo", q);
    }
    // The accounts an entry must post to: of the project, of the account kind, or both.
    let mut on_account = String::new();
    if let Some(project) = &f.project {
        let p = w.text(project);
        on_account.push_str(&format!(" and b.project_code = {p}"));
    }
    if let Some(kind) = f.account {
        on_account.push_str(&format!(" and b.kind = {}", kind.sql()));
    }
    if !on_account.is_empty() {
        // From the accounts to their postings (postings_account_date), not each entry's
        // postings probed in turn: a project's entries are found without reading the rest.
        w.and(format!(
            "e.id in (select p.entry_id from postings p join balances b on b.account = p.account where 1 = 1{on_account})"
        ));
    }
    let amount = match f.account {
        Some(kind) => format!(
            "(select coalesce({sign}sum(p.amount_pence), 0) from postings p join balances b on b.account = p.account
              where p.entry_id = e.id{on_account})",
            sign = if kind.is_debit_normal() { "" } else { "-" }
        ),
        // The sum of its debits, kept with the entry (migration 0024, `entry_columns`).
        None => "e.amount_pence".to_owned(),
    };
    w.compare_int(&amount, ">=", f.min.map(Money::pence));
    w.compare_int(&amount, "<=", f.max.map(Money::pence));
    (w, amount)
}

/// The conditions of the filters by award, kind and date, on columns named `prefix` and the
/// same name in `entries` and `entry_day_totals`.
fn award_kind_and_dates(w: &mut Where, prefix: &str, f: &EntryFilter) {
    w.compare(&format!("{prefix}financial_year"), "=", f.year);
    w.compare(&format!("{prefix}grant_code"), "=", f.grant.as_ref());
    if let Some(k) = f.kind {
        w.and(format!("{prefix}kind = {}", k.sql()));
    }
    w.compare(&format!("{prefix}entry_date"), ">=", f.from);
    w.compare(&format!("{prefix}entry_date"), "<=", f.to);
}

/// The conditions on `entry_day_totals` when `f` filters by nothing but award, kind and
/// dates, which those rows are kept by; None when it filters by anything else.
fn day_totals_where(f: &EntryFilter) -> Option<Where> {
    // Every filter named, so a new one is a compile error here until it is placed.
    let EntryFilter {
        year: _,
        grant: _,
        kind: _,
        from: _,
        to: _,
        sort: _,
        project,
        supplier,
        invoice_ref,
        q,
        min,
        max,
        account,
    } = f;
    let other = project.is_some()
        || supplier.is_some()
        || invoice_ref.is_some()
        || q.is_some()
        || min.is_some()
        || max.is_some()
        || account.is_some();
    if other {
        return None;
    }
    let mut w = Where::default();
    award_kind_and_dates(&mut w, "", f);
    Some(w)
}

/// The entries `f` finds with their typed columns and amounts, a page after `after`
/// (`list_entries`). Ordered by id, or by date then id: each a list of its own
/// (`List::Entries`, `List::EntriesByDate`), the latter's cursor scoped to the filters.
pub async fn search_entries(
    store: &Store,
    f: &EntryFilter,
    after: &str,
    limit: i64,
) -> Result<Page<ListedEntry>, StoreError> {
    let (mut w, _) = entry_where(f);
    let order = match f.sort {
        EntrySort::Id => {
            if let Ok(id) = after.parse::<i64>() {
                let p = w.int(id);
                w.and(format!("e.id > {p}"));
            }
            "e.id"
        }
        EntrySort::Date => {
            if let Some((date, id)) = crate::model::page::split_date_key(after) {
                let (d, i) = (w.text(date), w.int(id));
                w.and(format!("(e.entry_date > {d} or (e.entry_date = {d} and e.id > {i}))"));
            }
            "e.entry_date, e.id"
        }
    };
    let limit_p = w.int(limit + 1);
    let sql = format!(
        "select {ENTRY_COLUMNS}, e.project, e.supplier, e.invoice_ref from entries e
         where {} order by {order} limit {limit_p}",
        w.sql()
    );
    let rows = w.bind(sqlx::query(&sql)).fetch_all(store.pool()).await?;
    let mut entries: Vec<EntryView> = rows.iter().map(entry_from).collect::<Result<_, _>>()?;
    attach_postings(store, &mut entries).await?;
    let at = ("entries", &["id"][..]);
    let mut listed = Vec::with_capacity(entries.len());
    for (r, entry) in rows.iter().zip(entries) {
        let named = |e| rows::corrupt(r, at.0, at.1, e);
        listed.push(ListedEntry {
            project: r.try_get("project").map_err(named)?,
            supplier: r.try_get("supplier").map_err(named)?,
            invoice_ref: r.try_get("invoice_ref").map_err(named)?,
            amount: f.amount_of(&entry),
            entry,
        });
    }
    Ok(match f.sort {
        EntrySort::Id => Page::from_rows(listed, limit, List::Entries, |l| l.entry.id.to_string()),
        EntrySort::Date => Page::from_rows_in(listed, limit, List::EntriesByDate, &f.scope(), |l| {
            crate::model::page::date_key(&l.entry.date, l.entry.id)
        }),
    })
}

/// Every entry `f` finds, counted, and their amounts added up (`EntryFilter::amount_of`).
pub async fn total_entries(store: &Store, f: &EntryFilter) -> Result<EntryTotal, StoreError> {
    // As the list opens (by award, kind and dates at most): the kept day totals (migration
    // 0024), a few rows a day instead of every entry.
    if let Some(w) = day_totals_where(f) {
        let sql = format!(
            "select cast(coalesce(sum(entries), 0) as bigint) as n, cast(coalesce(sum(amount_pence), 0) as bigint) as total
             from entry_day_totals where {}",
            w.sql()
        );
        let row = w.bind(sqlx::query(&sql)).fetch_one(store.pool()).await?;
        return Ok(EntryTotal { count: row.try_get("n")?, amount: Money::from_pence(row.try_get("total")?) });
    }
    let (w, amount) = entry_where(f);
    let sql = format!(
        "select count(*) as n, cast(coalesce(sum({amount}), 0) as bigint) as total from entries e where {}",
        w.sql()
    );
    let row = w.bind(sqlx::query(&sql)).fetch_one(store.pool()).await?;
    Ok(EntryTotal { count: row.try_get("n")?, amount: Money::from_pence(row.try_get("total")?) })
}

pub async fn get_entry(store: &Store, id: i64) -> Result<EntryView, StoreError> {
    let sql = format!("select {ENTRY_COLUMNS} from entries e where e.id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(store.pool()).await?;
    let mut entries: Vec<EntryView> = row.iter().map(entry_from).collect::<Result<_, _>>()?;
    attach_postings(store, &mut entries).await?;
    entries.pop().ok_or_else(|| StoreError::NotFound(format!("entry {id}")))
}

/// Loads the postings of a page of entries with one query.
async fn attach_postings(store: &Store, entries: &mut [EntryView]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut w = Where::default();
    let ids: Vec<String> = entries.iter().map(|e| w.int(e.id)).collect();
    let sql = format!(
        "select entry_id, account, amount_pence from postings where entry_id in ({}) order by entry_id, line",
        ids.join(", ")
    );
    let rows = w.bind(sqlx::query(&sql)).fetch_all(store.pool()).await?;
    let mut by_entry: BTreeMap<i64, Vec<PostingView>> = BTreeMap::new();
    for r in rows {
        by_entry.entry(r.try_get("entry_id")?).or_default().push(PostingView {
            account: r.try_get("account")?,
            amount: Money::from_pence(r.try_get("amount_pence")?),
        });
    }
    for e in entries {
        e.postings = by_entry.remove(&e.id).unwrap_or_default();
    }
    Ok(())
}

/// The postings of one entry, read inside `db_tx` (for reversal).
pub async fn postings_in(db_tx: &mut DbTx, entry_id: i64) -> Result<Vec<Posting>, StoreError> {
    let rows = sqlx::query("select account, amount_pence from postings where entry_id = $1 order by line")
        .bind(entry_id)
        .fetch_all(&mut **db_tx)
        .await?;
    let at = ("postings", &["entry_id", "account"][..]);
    rows.iter()
        .map(|r| {
            let account = rows::parsed(r, at, "account", |t| Account::parse(t).ok_or("is not an account"))?;
            Ok(Posting { account, amount: Money::from_pence(r.try_get("amount_pence")?) })
        })
        .collect()
}

pub async fn list_accounts(
    store: &Store,
    grant: Option<&str>,
    year: Option<FinancialYear>,
    project: Option<&str>,
    after: &str,
    limit: i64,
) -> Result<Page<AccountBalance>, StoreError> {
    let rows = sqlx::query(
        "select account, balance_pence from balances
         where account > $1 and ($2 is null or grant_code = $2) and ($3 is null or financial_year = $3)
           and ($4 is null or project_code = $4)
         order by account limit $5",
    )
    .bind(after)
    .bind(grant)
    .bind(year.map(|y| y.to_string()))
    .bind(project)
    .bind(limit + 1)
    .fetch_all(store.pool())
    .await?;
    let items = rows
        .iter()
        .map(|r| -> Result<_, StoreError> {
            Ok(AccountBalance {
                account: r.try_get("account")?,
                balance: Money::from_pence(r.try_get("balance_pence")?),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Page::from_rows(items, limit, crate::model::page::List::Accounts, |a: &AccountBalance| a.account.clone()))
}
