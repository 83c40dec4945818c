//! Spend import: many lines posted in ONE `db_tx`, all or nothing.
//!
//! Two engines give the same outcome:
//! - `Engine::PerLine` calls `spend_in` / `refund_in` for each line: the reference, with every
//!   check done by the single-spend path itself.
//! - `Engine::Bulk` (the default) locks the touched awards, reads their balances once, applies
//!   the same checks in memory line by line in file order, and writes entries, postings and
//!   balances in a few multi-row statements. Tests run both on the same files and compare.
//!
//! Either way a line whose `source_ref` is already recorded, or repeats an earlier line of the
//! same file, is skipped as a duplicate. Any rejected line, or a dry run, rolls everything back.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;
use sqlx::Row;

use super::entries::EntryMeta;
use super::idempotency::{self, IdemKey};
use super::operations::{RefundCmd, SpendCmd, refund_in, refund_meta, source_ref_exists_in, spend_in, spend_meta};
use super::{Backend, DbTx, Store, StoreError, now};
use crate::domain::chain::{EntryContent, entry_hash};
use crate::domain::operations::{self as ops, Award};
use crate::domain::{Account, FinancialYear, Money, NewEntry, OnOverspend, OverspendFlag, RuleViolation, rules};

/// The most rejected lines listed in a report; the count covers them all.
pub const IMPORT_ERRORS_MAX: usize = 1_000;

/// Rows per insert statement. Rows travel as one JSON parameter, unpacked by the database
/// (`json_each` / `jsonb_array_elements`): a statement with thousands of bind parameters
/// costs far more to prepare than the rows cost to insert. The cap bounds one statement's
/// memory.
const ROWS_PER_INSERT: usize = 10_000;
/// SQLite page cache for a connection that has imported, in KiB.
const SQLITE_CACHE_KIB: i64 = 65_536;

/// One line of an import file, already parsed: a spend, or a refund for a negative amount.
#[derive(Debug)]
pub enum ImportOp {
    Spend(SpendCmd),
    Refund(RefundCmd),
}

impl ImportOp {
    fn source_ref(&self) -> Option<&str> {
        match self {
            ImportOp::Spend(c) => c.source_ref.as_deref(),
            ImportOp::Refund(c) => c.source_ref.as_deref(),
        }
    }
}

#[derive(Debug)]
pub struct ImportLine {
    /// The line of the file the record starts on (the header is line 1).
    pub line: u64,
    pub op: ImportOp,
}

/// Why one line was refused. `code` is the API code the single-line operation would answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: u64,
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl LineError {
    pub fn new(line: u64, field: &str, message: impl Into<String>) -> LineError {
        LineError { line, field: field.to_owned(), code: "validation_failed", message: message.into() }
    }
}

/// A line that posts, or would post, past a project's budget under a `warn` grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineWarning {
    pub line: u64,
    #[serde(flatten)]
    pub flag: OverspendFlag,
}

/// What an import did, or what it would do (dry run). `errors` lists at most
/// `IMPORT_ERRORS_MAX` lines; `rejected` counts every one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    pub errors: Vec<LineError>,
    pub warnings: Vec<LineWarning>,
    pub dry_run: bool,
    /// True only when the accepted lines were written and committed.
    pub posted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    PerLine,
    Bulk,
}

pub struct ImportOptions<'a> {
    pub dry_run: bool,
    pub created_by: &'a str,
    pub idem: Option<&'a IdemKey>,
    pub engine: Engine,
}

/// Turns a refusal of the single-line path into a line error; database failures stay errors.
fn refusal(line: u64, e: StoreError) -> Result<LineError, StoreError> {
    let (field, code, message) = match e {
        StoreError::NotFound(what) => ("grant", "validation_failed", format!("no {what}")),
        StoreError::Invalid { field, message } => return Ok(LineError::new(line, &field, message)),
        StoreError::PeriodClosed(_) => ("date", "period_closed", e.to_string()),
        StoreError::RestrictedFund { .. } => ("project", "restricted_fund", e.to_string()),
        StoreError::Rule(RuleViolation::Overspend { .. }) => ("amount", "overspend", e.to_string()),
        StoreError::Rule(RuleViolation::OverAllocation { .. }) => ("amount", "over_allocation", e.to_string()),
        StoreError::Rule(RuleViolation::BelowZero { .. }) => ("amount", "conflict", e.to_string()),
        StoreError::Entry(crate::domain::EntryError::DateOutsideYear { .. }) => {
            ("date", "validation_failed", e.to_string())
        }
        StoreError::Entry(_) => ("amount", "validation_failed", e.to_string()),
        StoreError::Conflict(_) => ("source_ref", "conflict", e.to_string()),
        other => return Err(other),
    };
    Ok(LineError { line, field: field.to_owned(), code, message })
}

/// Imports `lines` in one `db_tx`. `prior` holds the lines the parser already rejected
/// (they count as rejected; the rest are still checked so every bad line is reported).
/// `progress` is called with the number of lines checked so far.
pub async fn import(
    store: &Store,
    lines: Vec<ImportLine>,
    prior: Vec<LineError>,
    opts: ImportOptions<'_>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<ImportReport, StoreError> {
    let mut db_tx = store.begin().await?;
    let locked = lock_awards(&mut db_tx, &lines).await?;
    if store.backend() == Backend::Sqlite {
        // A file's entries and index pages outgrow SQLite's default 2 MB page cache, which
        // then spills to disk mid-import. The setting stays with this pooled connection.
        sqlx::query(&format!("pragma cache_size = -{SQLITE_CACHE_KIB}")).execute(&mut *db_tx).await?;
    }
    let mut duplicates = 0usize;
    let mut seen: HashSet<String> = HashSet::new();
    let recorded = recorded_source_refs(&mut db_tx, store.backend(), &lines).await?;
    let mut fresh = Vec::with_capacity(lines.len());
    for l in lines {
        match l.op.source_ref() {
            Some(r) if recorded.contains(r) || !seen.insert(r.to_owned()) => duplicates += 1,
            _ => fresh.push(l),
        }
    }
    let mut errors = prior;
    let checked = match opts.engine {
        Engine::PerLine => per_line(&mut db_tx, fresh, opts.created_by, progress).await?,
        Engine::Bulk => bulk_check(&mut db_tx, &locked, fresh, opts.created_by, progress).await?,
    };
    errors.extend(checked.errors);
    errors.sort_by_key(|e| e.line);
    let rejected = errors.iter().map(|e| e.line).collect::<BTreeSet<_>>().len();
    errors.truncate(IMPORT_ERRORS_MAX);
    let mut report = ImportReport {
        accepted: checked.accepted,
        duplicates,
        rejected,
        errors,
        warnings: checked.warnings,
        dry_run: opts.dry_run,
        posted: false,
    };
    if report.rejected > 0 || opts.dry_run {
        db_tx.rollback().await?;
        return Ok(report);
    }
    if let Some(pending) = checked.pending {
        write_pending(&mut db_tx, store.backend(), pending).await?;
    }
    report.posted = true;
    idempotency::save_in(&mut db_tx, opts.idem, 200, &report).await?;
    db_tx.commit().await?;
    Ok(report)
}

/// Rule 7: takes the lock of every award the file touches, as the first statements of the
/// `db_tx` (on SQLite a first write takes the database write lock at once, so nothing read
/// after can change) and in a fixed order, so two imports cannot deadlock. Says which exist.
async fn lock_awards(
    db_tx: &mut DbTx,
    lines: &[ImportLine],
) -> Result<BTreeMap<(String, FinancialYear), bool>, StoreError> {
    let keys: BTreeSet<(String, FinancialYear)> = lines.iter().map(|l| award_key(&l.op)).collect();
    let mut locked = BTreeMap::new();
    for (grant, year) in keys {
        let done =
            sqlx::query("update awards set write_seq = write_seq + 1 where grant_code = $1 and financial_year = $2")
                .bind(&grant)
                .bind(year.to_string())
                .execute(&mut **db_tx)
                .await?;
        locked.insert((grant, year), done.rows_affected() > 0);
    }
    Ok(locked)
}

/// The `source_ref`s of `lines` that entries already carry. The refs travel as one JSON
/// array per query, like the bulk inserts below.
async fn recorded_source_refs(
    db_tx: &mut DbTx,
    backend: Backend,
    lines: &[ImportLine],
) -> Result<HashSet<String>, StoreError> {
    let refs: Vec<&str> = lines.iter().filter_map(|l| l.op.source_ref()).collect();
    let sql = match backend {
        Backend::Sqlite => "select source_ref from entries where source_ref in (select value from json_each($1))",
        Backend::Postgres => {
            "select source_ref from entries where source_ref in (select jsonb_array_elements_text($1::text::jsonb))"
        }
    };
    let mut found = HashSet::new();
    for chunk in refs.chunks(ROWS_PER_INSERT) {
        let json = serde_json::to_string(chunk).expect("refs serialize");
        for row in sqlx::query(sql).bind(json).fetch_all(&mut **db_tx).await? {
            found.insert(row.get::<String, _>("source_ref"));
        }
    }
    Ok(found)
}

struct Checked {
    accepted: usize,
    errors: Vec<LineError>,
    warnings: Vec<LineWarning>,
    /// What the bulk engine will write; the per-line engine has written already.
    pending: Option<Pending>,
}

/// Progress is reported every this many lines, so the callback costs nothing measurable.
const PROGRESS_EVERY: usize = 1_000;

async fn per_line(
    db_tx: &mut DbTx,
    lines: Vec<ImportLine>,
    created_by: &str,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Checked, StoreError> {
    let mut out = Checked { accepted: 0, errors: Vec::new(), warnings: Vec::new(), pending: None };
    for (i, l) in lines.into_iter().enumerate() {
        if i % PROGRESS_EVERY == 0 {
            progress(i);
        }
        // Duplicates were filtered out above; this re-check guards the unique index, whose
        // violation would abort the whole db_tx on PostgreSQL.
        if let Some(r) = l.op.source_ref()
            && source_ref_exists_in(db_tx, r).await?
        {
            out.errors.push(refusal(l.line, StoreError::Conflict(format!("source_ref {r} is already recorded")))?);
            continue;
        }
        let result = match l.op {
            ImportOp::Spend(c) => spend_in(db_tx, c, created_by).await.map(|r| r.warnings),
            ImportOp::Refund(c) => refund_in(db_tx, c, created_by).await.map(|_| Vec::new()),
        };
        match result {
            Ok(flags) => {
                out.accepted += 1;
                out.warnings.extend(flags.into_iter().map(|flag| LineWarning { line: l.line, flag }));
            }
            Err(e) => out.errors.push(refusal(l.line, e)?),
        }
    }
    Ok(out)
}

// ---- the bulk engine ----

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

/// One checked entry, ready to write.
struct PendingEntry {
    entry: NewEntry,
    meta: EntryMeta,
    details: String,
    prev_hash: String,
    hash: String,
}

struct Pending {
    created_at: String,
    entries: Vec<PendingEntry>,
    /// Net change per account over the whole file.
    net: BTreeMap<Account, i64>,
    heads: BTreeMap<(String, FinancialYear), String>,
}

fn award_key(op: &ImportOp) -> (String, FinancialYear) {
    match op {
        ImportOp::Spend(c) => (c.grant.clone(), FinancialYear::of(c.date)),
        ImportOp::Refund(c) => (c.grant.clone(), FinancialYear::of(c.date)),
    }
}

async fn bulk_check(
    db_tx: &mut DbTx,
    locked: &BTreeMap<(String, FinancialYear), bool>,
    lines: Vec<ImportLine>,
    created_by: &str,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Checked, StoreError> {
    let mut awards: BTreeMap<(String, FinancialYear), AwardState> = BTreeMap::new();
    for ((grant, year), exists) in locked {
        let exists = *exists;
        let mut state = AwardState { exists, year_open: false, head: String::new() };
        if exists {
            let row = sqlx::query(
                "select a.head_hash, y.status from awards a join financial_years y on y.code = a.financial_year
                 where a.grant_code = $1 and a.financial_year = $2",
            )
            .bind(grant)
            .bind(year.to_string())
            .fetch_one(&mut **db_tx)
            .await?;
            state.head = row.get("head_hash");
            state.year_open = row.get::<String, _>("status") == "open";
        }
        awards.insert((grant.clone(), *year), state);
    }
    let grants: HashMap<String, GrantInfo> =
        sqlx::query("select code, restricted_to_priority, on_overspend from grants")
            .fetch_all(&mut **db_tx)
            .await?
            .iter()
            .map(|r| {
                let info = GrantInfo {
                    restricted_to: r.get("restricted_to_priority"),
                    rule: OnOverspend::parse(&r.get::<String, _>("on_overspend")).unwrap_or(OnOverspend::Stop),
                };
                (r.get("code"), info)
            })
            .collect();
    let projects: HashMap<String, ProjectInfo> = sqlx::query("select code, priority, status from projects")
        .fetch_all(&mut **db_tx)
        .await?
        .iter()
        .map(|r| {
            let info = ProjectInfo { priority: r.get("priority"), active: r.get::<String, _>("status") == "active" };
            (r.get("code"), info)
        })
        .collect();
    let mut balances: HashMap<Account, i64> = HashMap::new();
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
            if let Some(a) = Account::parse(&r.get::<String, _>("account")) {
                balances.insert(a, r.get("balance_pence"));
            }
        }
    }

    let created_at = now();
    let mut out = Checked { accepted: 0, errors: Vec::new(), warnings: Vec::new(), pending: None };
    let mut pending = Pending { created_at, entries: Vec::new(), net: BTreeMap::new(), heads: BTreeMap::new() };
    for (i, l) in lines.into_iter().enumerate() {
        if i % PROGRESS_EVERY == 0 {
            progress(i);
        }
        let key = award_key(&l.op);
        let state = awards.get_mut(&key).expect("every touched award was looked up");
        let checked = check_line(&l.op, &key, state, &grants, &projects, &balances, created_by);
        match checked {
            Ok((entry, meta, flags)) => {
                for (account, change) in entry.net_by_account() {
                    *balances.entry(account.clone()).or_default() += change.pence();
                    *pending.net.entry(account.clone()).or_default() += change.pence();
                }
                let details = meta.details.to_string();
                let date = entry.date().to_string();
                let year = entry.year().to_string();
                let content = EntryContent {
                    kind: entry.kind().as_str(),
                    date: &date,
                    financial_year: &year,
                    grant: entry.grant(),
                    memo: &meta.memo,
                    details: &details,
                    created_by: &meta.created_by,
                    created_at: &pending.created_at,
                    reverses: meta.reverses,
                    commitment_id: meta.commitment_id,
                    source_ref: meta.source_ref.as_deref(),
                    postings: entry.postings().iter().map(|p| (p.account.to_string(), p.amount.pence())).collect(),
                };
                let hash = entry_hash(&state.head, &content);
                let prev_hash = std::mem::replace(&mut state.head, hash.clone());
                pending.heads.insert(key, hash.clone());
                pending.entries.push(PendingEntry { entry, meta, details, prev_hash, hash });
                out.accepted += 1;
                out.warnings.extend(flags.into_iter().map(|flag| LineWarning { line: l.line, flag }));
            }
            Err(e) => out.errors.push(refusal(l.line, e)?),
        }
    }
    out.pending = Some(pending);
    Ok(out)
}

/// The checks of `spend_in` / `refund_in` and `post_in`, in their order, against the
/// balances held in memory.
fn check_line(
    op: &ImportOp,
    (grant, year): &(String, FinancialYear),
    state: &AwardState,
    grants: &HashMap<String, GrantInfo>,
    projects: &HashMap<String, ProjectInfo>,
    balances: &HashMap<Account, i64>,
    created_by: &str,
) -> Result<(NewEntry, EntryMeta, Vec<OverspendFlag>), StoreError> {
    // lock_award: the grant, then its award for the year, then the year open (rule 5).
    let g = grants.get(grant).ok_or_else(|| StoreError::NotFound(format!("grant {grant}")))?;
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
    let p = projects.get(project).ok_or_else(|| StoreError::invalid("project", format!("no project {project}")))?;
    if !closed_ok && !p.active {
        return Err(StoreError::invalid("project", format!("project {project} is closed")));
    }
    let (entry, meta) = match op {
        ImportOp::Spend(c) => (ops::spend(award, c.date, project, c.amount, Money::ZERO)?, spend_meta(c, created_by)),
        ImportOp::Refund(c) => (ops::refund(award, c.date, project, c.amount)?, refund_meta(c, created_by)),
    };
    entry.assert_balanced();
    // post_in: rule 3 for each project account, then rules 2 and 4.
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
    let flags = rules::check(&entry, |a| Money::from_pence(balances.get(a).copied().unwrap_or(0)), g.rule)?;
    Ok((entry, meta, flags))
}

/// Bound parameters per statement: SQLite's limit is 32,766.
const SQLITE_PARAMS_MAX: usize = 32_000;

/// A multi-row insert for SQLite with `?` placeholders. Bound by position, they cost the
/// same each; numbered `$N` ones are looked up by name, which grows with the square of
/// their number, so a statement of thousands of them took longer than its rows.
fn sql_values(table: &str, columns: &[(&str, &str)], rows: usize) -> String {
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let row = format!("({})", vec!["?"; columns.len()].join(", "));
    format!("insert into {table} ({}) values {}", names.join(", "), vec![row; rows].join(", "))
}

/// PostgreSQL: `insert ... select` over a JSON array of row arrays bound as `$1`, in order.
/// Column k is read from element `k + skip` of each row.
fn json_rows_sql(backend: Backend, columns: &[(&str, &str)], skip: usize) -> String {
    let (source, elem) = match backend {
        Backend::Sqlite => ("json_each($1)", "value"),
        Backend::Postgres => ("jsonb_array_elements($1::text::jsonb) with ordinality as t(elem, key)", "elem"),
    };
    let picks: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| match (backend, *ty) {
            (Backend::Postgres, "bigint") => format!("({elem} ->> {})::bigint", i + skip),
            _ => format!("{elem} ->> {}", i + skip),
        })
        .collect();
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    format!("({}) select {} from {source} order by key", names.join(", "), picks.join(", "))
}

const ENTRY_COLUMNS: &[(&str, &str)] = &[
    ("id", "bigint"),
    ("kind", "text"),
    ("entry_date", "text"),
    ("financial_year", "text"),
    ("grant_code", "text"),
    ("memo", "text"),
    ("details", "text"),
    ("created_by", "text"),
    ("created_at", "text"),
    ("reverses", "bigint"),
    ("commitment_id", "bigint"),
    ("source_ref", "text"),
    ("prev_hash", "text"),
    ("hash", "text"),
];

const POSTING_COLUMNS: &[(&str, &str)] = &[
    ("entry_id", "bigint"),
    ("line", "bigint"),
    ("account", "text"),
    ("amount_pence", "bigint"),
    ("entry_date", "text"),
];

type EntryRow<'a> = (
    Option<i64>,
    &'a str,
    String,
    String,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Option<i64>,
    Option<i64>,
    Option<&'a str>,
    &'a str,
    &'a str,
);

/// Writes the checked entries, their postings, the balances and the chain heads.
async fn write_pending(db_tx: &mut DbTx, backend: Backend, p: Pending) -> Result<(), StoreError> {
    if p.entries.is_empty() {
        return Ok(());
    }
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(p.entries.len());
    // SQLite: this db_tx has held the database's write lock since it locked the awards, so
    // the ids after the current largest are ours to give, and nothing need come back.
    // PostgreSQL: the identity column gives ids; each comes back beside its unique hash.
    let (sql, mut next_id) = match backend {
        Backend::Sqlite => {
            let max: i64 = sqlx::query("select cast(coalesce(max(id), 0) as bigint) as m from entries")
                .fetch_one(&mut **db_tx)
                .await?
                .get("m");
            (format!("insert into entries {}", json_rows_sql(backend, ENTRY_COLUMNS, 0)), Some(max + 1))
        }
        Backend::Postgres => {
            let sql = json_rows_sql(backend, &ENTRY_COLUMNS[1..], 1);
            (format!("insert into entries {sql} returning id, hash"), None)
        }
    };
    for chunk in p.entries.chunks(ROWS_PER_INSERT) {
        let rows: Vec<EntryRow> = chunk
            .iter()
            .map(|e| {
                let id = next_id;
                if let Some(id) = id {
                    ids.insert(e.hash.clone(), id);
                    next_id = Some(id + 1);
                }
                (
                    id,
                    e.entry.kind().as_str(),
                    e.entry.date().to_string(),
                    e.entry.year().to_string(),
                    e.entry.grant(),
                    e.meta.memo.as_str(),
                    e.details.as_str(),
                    e.meta.created_by.as_str(),
                    p.created_at.as_str(),
                    e.meta.reverses,
                    e.meta.commitment_id,
                    e.meta.source_ref.as_deref(),
                    e.prev_hash.as_str(),
                    e.hash.as_str(),
                )
            })
            .collect();
        if backend == Backend::Sqlite {
            for rows in rows.chunks(SQLITE_PARAMS_MAX / ENTRY_COLUMNS.len()) {
                let sql = sql_values("entries", ENTRY_COLUMNS, rows.len());
                let mut q = sqlx::query(&sql);
                for r in rows {
                    q = q.bind(r.0).bind(r.1).bind(r.2.clone()).bind(r.3.clone()).bind(r.4).bind(r.5).bind(r.6);
                    q = q.bind(r.7).bind(r.8).bind(r.9).bind(r.10).bind(r.11).bind(r.12).bind(r.13);
                }
                q.execute(&mut **db_tx).await?;
            }
            continue;
        }
        let json = serde_json::to_string(&rows).expect("rows serialize");
        // Each hash is unique (it chains its predecessor), so it says which id is whose
        // without relying on the order rows come back in.
        for row in sqlx::query(&sql).bind(json).fetch_all(&mut **db_tx).await? {
            ids.insert(row.get("hash"), row.get("id"));
        }
    }

    for account in p.net.keys() {
        super::entries::open_account_in(db_tx, account).await?;
    }

    let postings: Vec<(i64, i64, String, i64, String)> = p
        .entries
        .iter()
        .flat_map(|e| {
            let id = ids[&e.hash];
            let date = e.entry.date().to_string();
            e.entry
                .postings()
                .iter()
                .enumerate()
                .map(move |(line, posting)| {
                    (id, line as i64 + 1, posting.account.to_string(), posting.amount.pence(), date.clone())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let sql = format!("insert into postings {}", json_rows_sql(backend, POSTING_COLUMNS, 0));
    let per_statement = match backend {
        Backend::Sqlite => SQLITE_PARAMS_MAX / POSTING_COLUMNS.len(),
        Backend::Postgres => ROWS_PER_INSERT,
    };
    for chunk in postings.chunks(per_statement) {
        if backend == Backend::Sqlite {
            let sql = sql_values("postings", POSTING_COLUMNS, chunk.len());
            let mut q = sqlx::query(&sql);
            for (id, line, account, amount, date) in chunk {
                q = q.bind(*id).bind(*line).bind(account.as_str()).bind(*amount).bind(date.as_str());
            }
            q.execute(&mut **db_tx).await?;
            continue;
        }
        let json = serde_json::to_string(chunk).expect("rows serialize");
        sqlx::query(&sql).bind(json).execute(&mut **db_tx).await?;
    }

    for (account, change) in &p.net {
        sqlx::query("update balances set balance_pence = balance_pence + $2 where account = $1")
            .bind(account.to_string())
            .bind(*change)
            .execute(&mut **db_tx)
            .await?;
    }
    for ((grant, year), head) in &p.heads {
        sqlx::query("update awards set head_hash = $3 where grant_code = $1 and financial_year = $2")
            .bind(grant)
            .bind(year.to_string())
            .bind(head)
            .execute(&mut **db_tx)
            .await?;
    }
    // Check on both sides of the boundary: every entry written still sums to zero.
    let (first, last) = (ids.values().min().copied().unwrap_or(0), ids.values().max().copied().unwrap_or(0));
    let unbalanced: i64 = sqlx::query(
        "select cast(count(*) as bigint) as n from (select entry_id from postings where entry_id >= $1 and entry_id <= $2
         group by entry_id having sum(amount_pence) <> 0) u",
    )
    .bind(first)
    .bind(last)
    .fetch_one(&mut **db_tx)
    .await?
    .get("n");
    assert_eq!(unbalanced, 0, "the import wrote {unbalanced} unbalanced entries");
    Ok(())
}
