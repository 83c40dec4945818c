//! The bulk import engine: the checks of `spend_in` / `refund_in` applied in memory, with
//! the writes overlapped.
//!
//! The caller has locked every award the file touches. This engine reads their balances
//! once, then two things run at the same time:
//! - a checker thread takes the lines in file order, applies the single-line checks against
//!   the balances it holds, builds each entry and chains its hash;
//! - this task writes the checked entries and their postings in multi-row statements while
//!   the checker goes on with later lines.
//!
//! Writing stops at the first rejected line, because the caller will roll the `db_tx` back;
//! checking goes on so every bad line is reported. Balances and chain heads are written once
//! at the end, from the checker's totals.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use chrono::NaiveDate;

use sqlx::Row;
use tokio::sync::mpsc;

use super::entries::{EntryText, hashed_content};
use super::entry_columns::EntryColumns;
use super::import_lines::{Checked, PROGRESS_EVERY, award_key, refusal};
use super::operations::{
    Drawn, check_drawn, check_refund_vat, check_spend_vat, drawn_commitment_in, outstanding_in, refund_meta, spend_meta,
};
use super::{Backend, DbTx, RowLock, StoreError, rows};
use crate::domain::chain::entry_link;
use crate::domain::operations::{self as ops, Award};
use crate::domain::{
    Account, AccountKind, FinancialYear, Money, NewEntry, OnOverspend, OverspendFlag, ProjectStatus, YearStatus, rules,
};
use crate::model::import::{ImportLine, ImportOp, LineWarning};

/// Entries per insert statement. Every statement has the same number of rows but the last,
/// so the prepared statement is reused; 1,300 × 25 columns stays under SQLite's 32,766
/// bound parameters.
const ENTRIES_PER_INSERT: usize = 1_300;
/// Batches the checker may run ahead of the writer.
const BATCHES_AHEAD: usize = 8;

struct GrantInfo {
    restricted_to: Option<String>,
    rule: OnOverspend,
}

struct ProjectInfo {
    priority: String,
    active: bool,
}

/// An award the import posts to: whether it exists, its year's status and its chain head.
struct AwardState {
    exists: bool,
    year_open: bool,
    head: String,
}

/// What the checker works from, read inside the `db_tx` after the awards were locked.
struct Context {
    awards: BTreeMap<(String, FinancialYear), AwardState>,
    grants: HashMap<String, GrantInfo>,
    projects: HashMap<String, ProjectInfo>,
    balances: HashMap<Account, i64>,
    /// Rule 8: for each account the file may draw on, the net of its postings on each date
    /// after the file's earliest line for that award, existing ones first and then each
    /// accepted line's, so every line is checked as at every date from its own.
    later: HashMap<Account, BTreeMap<NaiveDate, i64>>,
    /// The locked quarters of the file's years: a line dated in one is refused.
    locked_quarters: BTreeSet<(FinancialYear, u8)>,
    /// The commitments the lines draw on, as `spend_in` reads them (none: no such one).
    commitments: HashMap<i64, Option<Drawn>>,
    /// What each commitment still holds committed on each project account a line draws on
    /// (pence), less what the lines accepted so far took from it.
    outstanding: HashMap<(i64, Account), i64>,
    created_by: String,
    created_at: String,
    /// The import the entries are made by, which their details name.
    import_id: Option<i64>,
    /// The ids checked entries take, in order: an entry's id is part of its hash.
    ids: EntryIds,
}

/// Where the checker takes entry ids from (see `entries::next_entry_id`).
enum EntryIds {
    /// SQLite: after the largest, as this db_tx has held the write lock since it locked the
    /// awards.
    After(i64),
    /// PostgreSQL: drawn from the identity's sequence up front, one per line, ascending.
    Reserved(std::vec::IntoIter<i64>),
}

impl EntryIds {
    /// Reserves an id for each of `lines` lines.
    async fn reserve(db_tx: &mut DbTx, backend: Backend, lines: usize) -> Result<EntryIds, StoreError> {
        Ok(match backend {
            Backend::Sqlite => EntryIds::After(
                sqlx::query("select cast(coalesce(max(id), 0) as bigint) as m from entries")
                    .fetch_one(&mut **db_tx)
                    .await?
                    .try_get("m")?,
            ),
            Backend::Postgres => {
                let mut ids: Vec<i64> = sqlx::query(
                    "select nextval(pg_get_serial_sequence('entries', 'id')) as id from generate_series(1, $1)",
                )
                .bind(lines as i64)
                .fetch_all(&mut **db_tx)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
                // Chains are walked in id order.
                ids.sort_unstable();
                EntryIds::Reserved(ids.into_iter())
            }
        })
    }

    fn next(&mut self) -> i64 {
        match self {
            EntryIds::After(last) => {
                *last += 1;
                *last
            }
            EntryIds::Reserved(ids) => ids.next().expect("an id is reserved for every line"),
        }
    }
}

/// One checked entry, as its row will be written.
struct PendingEntry {
    id: i64,
    kind: &'static str,
    date: String,
    year: String,
    grant: String,
    memo: String,
    details: String,
    reverses: Option<i64>,
    commitment_id: Option<i64>,
    source_ref: Option<String>,
    columns: EntryColumns,
    /// (account name, signed pence), in line order.
    postings: Vec<(String, i64)>,
    prev_hash: String,
    hash: String,
    hash_version: i64,
}

/// What the checker hands the writer every `PROGRESS_EVERY` lines.
struct Batch {
    /// Lines checked so far.
    checked: usize,
    /// Accounts the entries below are the first to use; they are opened before them.
    open: Vec<Account>,
    entries: Vec<PendingEntry>,
}

/// What the whole file changes, written once at the end.
struct Totals {
    /// Net change per account.
    net: BTreeMap<Account, i64>,
    heads: BTreeMap<(String, FinancialYear), String>,
}

/// Checks `lines` and, when `write` is set, writes every entry while no line has been
/// rejected. The caller commits only when nothing was rejected.
pub(super) async fn import(
    db_tx: &mut DbTx,
    backend: Backend,
    locked: &BTreeMap<(String, FinancialYear), bool>,
    lines: Vec<ImportLine>,
    (created_by, import_id): (&str, Option<i64>),
    write: bool,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Checked, StoreError> {
    let mut ctx = context(db_tx, locked, &lines, created_by).await?;
    ctx.import_id = import_id;
    ctx.ids = EntryIds::reserve(db_tx, backend, lines.len()).await?;
    let mut writer = Writer::new(backend, ctx.created_by.clone(), ctx.created_at.clone());
    let (tx, mut rx) = mpsc::channel::<Batch>(BATCHES_AHEAD);
    let checker = tokio::task::spawn_blocking(move || check_all(ctx, lines, write, tx));
    while let Some(batch) = rx.recv().await {
        progress(batch.checked);
        for account in &batch.open {
            super::entries::open_account_in(db_tx, account).await?;
        }
        writer.push(db_tx, batch.entries).await?;
    }
    // A panic in the checker is a bug; it surfaces here as one.
    let (checked, totals) = checker.await.expect("the import checker runs to its end")?;
    if write && checked.errors.is_empty() {
        writer.flush(db_tx).await?;
        writer.finish(db_tx, totals).await?;
    }
    Ok(checked)
}

/// Reads the awards' state, the grants, the projects and the touched awards' balances.
async fn context(
    db_tx: &mut DbTx,
    locked: &BTreeMap<(String, FinancialYear), bool>,
    lines: &[ImportLine],
    created_by: &str,
) -> Result<Context, StoreError> {
    let mut awards = BTreeMap::new();
    for ((grant, year), exists) in locked {
        let mut state = AwardState { exists: *exists, year_open: false, head: String::new() };
        if state.exists {
            let row = sqlx::query(
                "select a.head_hash, y.code, y.status from awards a join financial_years y on y.code = a.financial_year
                 where a.grant_code = $1 and a.financial_year = $2",
            )
            .bind(grant)
            .bind(year.to_string())
            .fetch_one(&mut **db_tx)
            .await?;
            state.head = row.try_get("head_hash")?;
            let status =
                rows::parsed(&row, ("financial_years", &["code"]), "status", |t| YearStatus::try_from(t.to_owned()))?;
            state.year_open = status == YearStatus::Open;
        }
        awards.insert((grant.clone(), *year), state);
    }
    let grants = sqlx::query("select code, restricted_to_priority, on_overspend from grants")
        .fetch_all(&mut **db_tx)
        .await?
        .iter()
        .map(|r| -> Result<_, StoreError> {
            let at = ("grants", &["code"][..]);
            let info = GrantInfo {
                restricted_to: r.try_get("restricted_to_priority")?,
                rule: rows::parsed(r, at, "on_overspend", |t| OnOverspend::try_from(t.to_owned()))?,
            };
            Ok((r.try_get("code")?, info))
        })
        .collect::<Result<HashMap<_, _>, StoreError>>()?;
    // Held shared until commit, as a single posting holds its project: a priority or status
    // change waits for the import, and the import for it (rule 7).
    let sql = format!("select code, priority, status from projects order by code{}", RowLock::Share.clause(db_tx));
    let projects = sqlx::query(&sql)
        .fetch_all(&mut **db_tx)
        .await?
        .iter()
        .map(|r| -> Result<_, StoreError> {
            let status = rows::parsed(r, ("projects", &["code"]), "status", |t| ProjectStatus::try_from(t.to_owned()))?;
            let info = ProjectInfo { priority: r.try_get("priority")?, active: status == ProjectStatus::Active };
            Ok((r.try_get("code")?, info))
        })
        .collect::<Result<HashMap<_, _>, StoreError>>()?;
    let mut balances = HashMap::new();
    for ((grant, year), state) in &awards {
        if !state.exists {
            continue;
        }
        let rows =
            sqlx::query("select account, balance_pence from balances where grant_code = $1 and financial_year = $2")
                .bind(grant)
                .bind(year.to_string())
                .fetch_all(&mut **db_tx)
                .await?;
        for r in rows {
            if let Some(a) = Account::parse(&r.try_get::<String, _>("account")?) {
                balances.insert(a, r.try_get("balance_pence")?);
            }
        }
    }
    let later = later_postings(db_tx, &awards, lines).await?;
    let locked_quarters = super::lookups::locked_quarters_in(db_tx, awards.keys().map(|(_, year)| *year)).await?;
    let (commitments, outstanding) = drawn_on(db_tx, lines).await?;
    let (created_by, created_at, ids) = (created_by.to_owned(), super::now_precise(), EntryIds::After(0));
    Ok(Context {
        awards,
        grants,
        projects,
        balances,
        later,
        locked_quarters,
        commitments,
        outstanding,
        created_by,
        created_at,
        import_id: None,
        ids,
    })
}

/// The commitment a spend line draws on, and the project account it would draw from.
fn line_commitment(op: &ImportOp) -> Option<(i64, Account)> {
    match op {
        ImportOp::Spend(c) => c
            .commitment_id
            .map(|id| (id, Account::project(AccountKind::Committed, &c.grant, FinancialYear::of(c.date), &c.project))),
        ImportOp::Refund(_) => None,
    }
}

/// The commitments the lines name, each read once, and what each holds outstanding on each
/// account a line would draw from, through `spend_in`'s own reads.
async fn drawn_on(
    db_tx: &mut DbTx,
    lines: &[ImportLine],
) -> Result<(HashMap<i64, Option<Drawn>>, HashMap<(i64, Account), i64>), StoreError> {
    let mut commitments = HashMap::new();
    let mut outstanding = HashMap::new();
    for (id, account) in lines.iter().filter_map(|l| line_commitment(&l.op)) {
        if let Entry::Vacant(slot) = commitments.entry(id) {
            slot.insert(drawn_commitment_in(db_tx, id).await?);
        }
        if let Entry::Vacant(slot) = outstanding.entry((id, account)) {
            let held = outstanding_in(db_tx, id, &slot.key().1).await?.pence();
            slot.insert(held);
        }
    }
    Ok((commitments, outstanding))
}

/// The accounts a line may draw on: a spend draws on available (and on committed, where it
/// names a commitment), a refund on spent.
fn line_accounts(op: &ImportOp, (grant, year): &(String, FinancialYear)) -> Vec<Account> {
    let project = match op {
        ImportOp::Spend(c) => &c.project,
        ImportOp::Refund(c) => &c.project,
    };
    let mut accounts: Vec<Account> =
        [AccountKind::Available, AccountKind::Spent].map(|kind| Account::project(kind, grant, *year, project)).into();
    accounts.extend(line_commitment(op).map(|(_, account)| account));
    accounts
}

fn line_date(op: &ImportOp) -> NaiveDate {
    match op {
        ImportOp::Spend(c) => c.date,
        ImportOp::Refund(c) => c.date,
    }
}

/// Reads, for each account the lines may draw on, the per-date net of its postings dated
/// after the earliest line touching it, through the same query `post_in` uses.
async fn later_postings(
    db_tx: &mut DbTx,
    awards: &BTreeMap<(String, FinancialYear), AwardState>,
    lines: &[ImportLine],
) -> Result<HashMap<Account, BTreeMap<NaiveDate, i64>>, StoreError> {
    let mut earliest: BTreeMap<Account, NaiveDate> = BTreeMap::new();
    for l in lines {
        let key = award_key(&l.op);
        if !awards.get(&key).is_some_and(|a| a.exists) {
            continue;
        }
        let date = line_date(&l.op);
        for account in line_accounts(&l.op, &key) {
            earliest.entry(account).and_modify(|d| *d = (*d).min(date)).or_insert(date);
        }
    }
    let mut later = HashMap::with_capacity(earliest.len());
    for (account, from) in earliest {
        let dates = super::entries::later_by_date_in(db_tx, &account, from).await?;
        later.insert(account, dates.into_iter().map(|(d, net)| (d, net.pence())).collect());
    }
    Ok(later)
}

/// The checker thread: every line in file order, against balances held in memory.
fn check_all(
    mut ctx: Context,
    lines: Vec<ImportLine>,
    mut write: bool,
    tx: mpsc::Sender<Batch>,
) -> Result<(Checked, Totals), StoreError> {
    let mut out = Checked { accepted: 0, errors: Vec::new(), warnings: Vec::new() };
    let mut totals = Totals { net: BTreeMap::new(), heads: BTreeMap::new() };
    let mut batch = Batch { checked: 0, open: Vec::new(), entries: Vec::new() };
    let total = lines.len();
    for (i, l) in lines.into_iter().enumerate() {
        let key = award_key(&l.op);
        match check_line(&l.op, &key, &ctx) {
            Ok((entry, flags, covered)) => {
                if let Some((drawn, pence)) = covered {
                    *ctx.outstanding.get_mut(&drawn).expect("every commitment drawn on was read") -= pence;
                }
                for (account, change) in entry.net_by_account() {
                    match ctx.balances.get_mut(account) {
                        Some(balance) => *balance += change.pence(),
                        None => {
                            ctx.balances.insert(account.clone(), change.pence());
                            if write {
                                batch.open.push(account.clone());
                            }
                        }
                    }
                    *totals.net.entry(account.clone()).or_default() += change.pence();
                    if let Some(dates) = ctx.later.get_mut(account) {
                        *dates.entry(entry.date()).or_default() += change.pence();
                    }
                }
                let id = ctx.ids.next();
                let state = ctx.awards.get_mut(&key).expect("every touched award was looked up");
                let pending =
                    chain(&l.op, &entry, &mut state.head, (&ctx.created_by, &ctx.created_at, ctx.import_id), id);
                totals.heads.insert(key, pending.hash.clone());
                if write {
                    batch.entries.push(pending);
                }
                out.accepted += 1;
                out.warnings.extend(flags.into_iter().map(|flag| LineWarning { line: l.line, flag }));
            }
            Err(e) => {
                out.errors.push(refusal(l.line, e)?);
                // The db_tx will be rolled back: what is checked from here on is not written.
                write = false;
                batch.entries.clear();
            }
        }
        let done = i + 1;
        if done % PROGRESS_EVERY == 0 || done == total {
            batch.checked = done;
            let full = std::mem::replace(&mut batch, Batch { checked: done, open: Vec::new(), entries: Vec::new() });
            if tx.blocking_send(full).is_err() {
                // The writer stopped on a database error, which it returns; stop too.
                break;
            }
        }
    }
    Ok((out, totals))
}

/// What a spend line takes from a commitment: which one, on which account, in pence.
type Covered = Option<((i64, Account), i64)>;

/// The checks of `spend_in` / `refund_in` and `post_in`, in their order, against the
/// balances held in memory.
fn check_line(
    op: &ImportOp,
    (grant, year): &(String, FinancialYear),
    ctx: &Context,
) -> Result<(NewEntry, Vec<OverspendFlag>, Covered), StoreError> {
    // The VAT first, as spend_in and refund_in check it.
    let charged = match op {
        ImportOp::Spend(c) => check_spend_vat(c)?,
        ImportOp::Refund(c) => check_refund_vat(c)?,
    };
    // lock_award: the grant, then its award for the year, then the year open (rule 5).
    let g = ctx.grants.get(grant).ok_or_else(|| StoreError::NotFound(format!("grant {grant}")))?;
    let state = &ctx.awards[&(grant.clone(), *year)];
    if !state.exists {
        return Err(StoreError::invalid(
            "date",
            format!("grant {grant} has no award for {year}, the year of this date"),
        ));
    }
    if !state.year_open {
        return Err(StoreError::PeriodClosed(year.to_string()));
    }
    let award = Award { grant, year: *year };
    let (project, closed_ok) = match op {
        ImportOp::Spend(c) => (&c.project, false),
        ImportOp::Refund(c) => (&c.project, true),
    };
    let p = ctx.projects.get(project).ok_or_else(|| StoreError::invalid("project", format!("no project {project}")))?;
    if !closed_ok && !p.active {
        return Err(StoreError::invalid("project", format!("project {project} is closed")));
    }
    // spend_in: the commitment drawn on, then what it covers of the charged figure.
    let mut covered = None;
    if let (ImportOp::Spend(c), Some((id, account))) = (op, line_commitment(op)) {
        check_drawn(c, *year, id, ctx.commitments.get(&id).and_then(Option::as_ref))?;
        let held = ctx.outstanding.get(&(id, account.clone())).copied().unwrap_or(0);
        covered = Some(((id, account), held.min(charged.pence())));
    }
    let entry = match op {
        ImportOp::Spend(c) => {
            let drawn = Money::from_pence(covered.as_ref().map(|(_, pence)| *pence).unwrap_or(0));
            ops::spend(award, c.date, project, charged, drawn)?
        }
        ImportOp::Refund(c) => ops::refund(award, c.date, project, charged)?,
    };
    entry.assert_balanced();
    // post_in: a locked quarter first, then rule 3 for each project account, then rules 2 and 4.
    if let Some(quarter) = year.quarter_of(entry.date())
        && ctx.locked_quarters.contains(&(*year, quarter))
    {
        return Err(StoreError::QuarterLocked { year: *year, quarter });
    }
    if let Some(restricted_to) = &g.restricted_to
        && &p.priority != restricted_to
    {
        return Err(StoreError::RestrictedFund {
            grant: grant.clone(),
            restricted_to: restricted_to.clone(),
            project: project.clone(),
            priority: p.priority.clone(),
        });
    }
    let date = entry.date();
    let lowest = |a: &Account| {
        let now = Money::from_pence(ctx.balances.get(a).copied().unwrap_or(0));
        match ctx.later.get(a) {
            Some(dates) => {
                let after = dates.range((Bound::Excluded(date), Bound::Unbounded));
                rules::lowest_from(a.kind, date, now, after.map(|(d, net)| (*d, Money::from_pence(*net))))
            }
            None => rules::Lowest::now(now),
        }
    };
    let flags = rules::check(&entry, lowest, g.rule)?;
    Ok((entry, flags, covered))
}

/// Builds the entry's row and chains it onto `head`, which becomes its hash.
fn chain(
    op: &ImportOp,
    entry: &NewEntry,
    head: &mut String,
    (created_by, created_at, import_id): (&str, &str, Option<i64>),
    id: i64,
) -> PendingEntry {
    let mut meta = match op {
        ImportOp::Spend(c) => spend_meta(c, created_by, None),
        ImportOp::Refund(c) => refund_meta(c, created_by, None),
    };
    if let Some(import_id) = import_id {
        meta.details["import_id"] = serde_json::Value::from(import_id);
    }
    let text = EntryText::of(entry, &meta);
    let content = hashed_content(id, entry, &meta, &text, created_at);
    let (version, hash) = entry_link(head, &content, super::chain_key::installed());
    let prev_hash = std::mem::replace(head, hash.clone());
    // Every posting of an entry carries the entry's date, as hashed; the writer uses that.
    let postings = content.postings.into_iter().map(|p| (p.account, p.amount_pence)).collect();
    PendingEntry {
        id,
        kind: entry.kind().as_str(),
        date: text.date,
        year: text.year,
        grant: entry.grant().to_owned(),
        memo: meta.memo,
        details: text.details,
        reverses: meta.reverses,
        commitment_id: meta.commitment_id,
        source_ref: meta.source_ref,
        columns: text.columns,
        postings,
        prev_hash,
        hash,
        hash_version: version.stored(),
    }
}

// ---- the writer ----

/// The row of an entry; its typed columns (`entry_columns::NAMES`) follow.
const ROW_COLUMNS: [&str; 15] = [
    "id",
    "kind",
    "entry_date",
    "financial_year",
    "grant_code",
    "memo",
    "details",
    "created_by",
    "created_at",
    "reverses",
    "commitment_id",
    "source_ref",
    "prev_hash",
    "hash",
    "hash_version",
];

/// Every column an entry's insert names, in the order its values are bound.
fn entry_columns() -> Vec<&'static str> {
    ROW_COLUMNS.into_iter().chain(super::entry_columns::NAMES).collect()
}

const POSTING_COLUMNS: &[&str] = &["entry_id", "line", "account", "amount_pence", "entry_date"];

/// Writes checked entries in statements of `ENTRIES_PER_INSERT`, keeping the remainder for
/// the next batch.
struct Writer {
    backend: Backend,
    created_by: String,
    created_at: String,
    buffer: Vec<PendingEntry>,
    /// The ids written, for the closing check.
    first_id: Option<i64>,
    last_id: i64,
}

impl Writer {
    fn new(backend: Backend, created_by: String, created_at: String) -> Writer {
        Writer { backend, created_by, created_at, buffer: Vec::new(), first_id: None, last_id: 0 }
    }

    async fn push(&mut self, db_tx: &mut DbTx, entries: Vec<PendingEntry>) -> Result<(), StoreError> {
        self.buffer.extend(entries);
        while self.buffer.len() >= ENTRIES_PER_INSERT {
            let rest = self.buffer.split_off(ENTRIES_PER_INSERT);
            let chunk = std::mem::replace(&mut self.buffer, rest);
            self.write(db_tx, &chunk).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, db_tx: &mut DbTx) -> Result<(), StoreError> {
        let chunk = std::mem::take(&mut self.buffer);
        if !chunk.is_empty() {
            self.write(db_tx, &chunk).await?;
        }
        Ok(())
    }

    /// One chunk: its entries, then their postings.
    async fn write(&mut self, db_tx: &mut DbTx, chunk: &[PendingEntry]) -> Result<(), StoreError> {
        let ids = match self.backend {
            Backend::Sqlite => self.insert_entries_sqlite(db_tx, chunk).await?,
            Backend::Postgres => self.insert_entries_postgres(db_tx, chunk).await?,
        };
        self.first_id = self.first_id.or(ids.iter().min().copied());
        self.last_id = self.last_id.max(ids.iter().max().copied().unwrap_or(0));
        let postings = chunk.iter().zip(&ids).flat_map(|(e, id)| {
            e.postings
                .iter()
                .enumerate()
                .map(move |(line, (account, amount))| (*id, line as i64 + 1, account, *amount, &e.date))
        });
        match self.backend {
            Backend::Sqlite => {
                let rows: Vec<_> = postings.collect();
                let sql = values_sql("postings", POSTING_COLUMNS, rows.len());
                let mut q = sqlx::query(&sql);
                for (id, line, account, amount, date) in rows {
                    q = q.bind(id).bind(line).bind(account.as_str()).bind(amount).bind(date.as_str());
                }
                q.execute(&mut **db_tx).await?;
            }
            Backend::Postgres => {
                let rows: Vec<_> = postings.collect();
                let json = serde_json::to_string(&rows).expect("rows serialize");
                sqlx::query(&format!("insert into postings {}", json_rows_sql(POSTING_COLUMNS, &[0, 1, 3])))
                    .bind(json)
                    .execute(&mut **db_tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// SQLite: rows bound by position, with the ids the checker gave.
    async fn insert_entries_sqlite(
        &mut self,
        db_tx: &mut DbTx,
        chunk: &[PendingEntry],
    ) -> Result<Vec<i64>, StoreError> {
        let ids: Vec<i64> = chunk.iter().map(|e| e.id).collect();
        let sql = values_sql("entries", &entry_columns(), chunk.len());
        let mut q = sqlx::query(&sql);
        for (e, id) in chunk.iter().zip(&ids) {
            q = q.bind(*id).bind(e.kind).bind(e.date.as_str()).bind(e.year.as_str()).bind(e.grant.as_str());
            q = q.bind(e.memo.as_str()).bind(e.details.as_str()).bind(self.created_by.as_str());
            q = q.bind(self.created_at.as_str()).bind(e.reverses).bind(e.commitment_id).bind(e.source_ref.as_deref());
            q = q.bind(e.prev_hash.as_str()).bind(e.hash.as_str()).bind(e.hash_version);
            q = e.columns.bind(q);
        }
        q.execute(&mut **db_tx).await?;
        Ok(ids)
    }

    /// PostgreSQL: rows travel as one JSON parameter, with the ids the checker gave.
    async fn insert_entries_postgres(
        &mut self,
        db_tx: &mut DbTx,
        chunk: &[PendingEntry],
    ) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<serde_json::Value> = chunk
            .iter()
            .map(|e| {
                let c = &e.columns;
                serde_json::json!([
                    e.id,
                    e.kind,
                    &e.date,
                    &e.year,
                    &e.grant,
                    &e.memo,
                    &e.details,
                    &self.created_by,
                    &self.created_at,
                    e.reverses,
                    e.commitment_id,
                    &e.source_ref,
                    &e.prev_hash,
                    &e.hash,
                    e.hash_version,
                    c.project,
                    c.supplier,
                    c.invoice_ref,
                    c.reference,
                    c.vat.map(|v| v.amount.pence()),
                    c.vat.map(|v| i64::from(v.recoverable)),
                    c.refund_of,
                    c.duplicate_of,
                    c.import_id,
                    c.amount.pence(),
                ])
            })
            .collect();
        let json = serde_json::to_string(&rows).expect("rows serialize");
        let sql =
            format!("insert into entries {}", json_rows_sql(&entry_columns(), &[0, 9, 10, 14, 19, 20, 21, 22, 23, 24]));
        sqlx::query(&sql).bind(json).execute(&mut **db_tx).await?;
        Ok(chunk.iter().map(|e| e.id).collect())
    }

    /// The balances and chain heads the whole file moved, then a check that every entry
    /// written sums to zero.
    async fn finish(&self, db_tx: &mut DbTx, totals: Totals) -> Result<(), StoreError> {
        for (account, change) in &totals.net {
            sqlx::query("update balances set balance_pence = balance_pence + $2 where account = $1")
                .bind(account.to_string())
                .bind(*change)
                .execute(&mut **db_tx)
                .await?;
        }
        for ((grant, year), head) in &totals.heads {
            let year = year.to_string();
            sqlx::query(
                "update awards set head_hash = $3, head_seal = $4 where grant_code = $1 and financial_year = $2",
            )
            .bind(grant)
            .bind(&year)
            .bind(head)
            .bind(super::entries::award_head_seal(grant, &year, head))
            .execute(&mut **db_tx)
            .await?;
        }
        let Some(first) = self.first_id else { return Ok(()) };
        let unbalanced: i64 = sqlx::query(
            "select cast(count(*) as bigint) as n from (select entry_id from postings where entry_id >= $1 and entry_id <= $2
             group by entry_id having sum(amount_pence) <> 0) u",
        )
        .bind(first)
        .bind(self.last_id)
        .fetch_one(&mut **db_tx)
        .await?
        .try_get("n")?;
        assert_eq!(unbalanced, 0, "the import wrote {unbalanced} unbalanced entries");
        Ok(())
    }
}

/// A multi-row insert for SQLite with `?` placeholders. Bound by position, they cost the
/// same each; numbered `$N` ones are looked up by name, which grows with the square of
/// their number, so a statement of thousands of them took longer than its rows.
fn values_sql(table: &str, columns: &[&str], rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns.len()].join(", "));
    format!("insert into {table} ({}) values {}", columns.join(", "), vec![row; rows].join(", "))
}

/// PostgreSQL: `(columns) select ...` over a JSON array of row arrays bound as `$1`, in
/// order. Column k is element k of each row; `bigints` lists the numeric columns.
fn json_rows_sql(columns: &[&str], bigints: &[usize]) -> String {
    let picks: Vec<String> = (0..columns.len())
        .map(|i| match bigints.contains(&i) {
            true => format!("(elem ->> {i})::bigint"),
            false => format!("elem ->> {i}"),
        })
        .collect();
    format!(
        "({}) select {} from jsonb_array_elements($1::text::jsonb) with ordinality as t(elem, key) order by key",
        columns.join(", "),
        picks.join(", ")
    )
}
