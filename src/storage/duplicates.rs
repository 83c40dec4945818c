//! Duplicate invoices (docs/api.md, "Duplicate invoices"): a spend or refund that repeats one
//! already recorded and not reversed, with the same grant, project, supplier (a refund with
//! none: its reference alone), invoice reference, net amount and date.
//!
//! The fields compared are an entry's typed columns (`entry_columns`). The candidates are
//! read by the one posting every spend and refund makes to its project's
//! `spent` account, through the (account, entry_date, amount) index of postings: the
//! project's spend and refunds of that day, a handful. They are compared here, in Rust.
//! Callers hold the award's lock, so no duplicate can be recorded between the check and the
//! write (rule 7).

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use chrono::NaiveDate;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::entry_columns::{EntryColumns, select_list};
use super::known::Cut;
use super::{Backend, DbTx, Store, StoreError};
use crate::domain::words::sql_list;
use crate::domain::{Account, AccountKind, EntryKind, FinancialYear, Money};
use crate::model::import::ImportOp;
use crate::model::known::Known;
use crate::model::postings::{RefundCmd, SpendCmd};

/// (account, date) pairs per lookup in an import; they travel as one JSON parameter.
const PAIRS_PER_QUERY: usize = 5_000;

/// What makes two spends (or two refunds) the same invoice. Text is compared without
/// regard to case or runs of spaces, so `Youth Trust` and `youth  trust` are one supplier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InvoiceKey {
    pub kind: EntryKind,
    pub grant: String,
    pub project: String,
    pub date: NaiveDate,
    /// The supplier; empty for a refund that names none.
    pub supplier: String,
    /// A spend's `invoice_ref`, a refund's `reference`.
    pub reference: String,
    /// Net of VAT, as the request gives it.
    pub amount: Money,
}

/// Text as compared: trimmed, runs of whitespace made one space, lower case.
fn folded(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl InvoiceKey {
    pub fn of_spend(c: &SpendCmd) -> InvoiceKey {
        InvoiceKey {
            kind: EntryKind::Spend,
            grant: c.grant.clone(),
            project: c.project.clone(),
            date: c.date,
            supplier: folded(&c.supplier),
            reference: folded(&c.invoice_ref),
            amount: c.amount,
        }
    }

    pub fn of_refund(c: &RefundCmd) -> InvoiceKey {
        InvoiceKey {
            kind: EntryKind::Refund,
            grant: c.grant.clone(),
            project: c.project.clone(),
            date: c.date,
            supplier: folded(c.supplier.as_deref().unwrap_or_default()),
            reference: folded(&c.reference),
            amount: c.amount,
        }
    }

    pub fn of_line(op: &ImportOp) -> InvoiceKey {
        match op {
            ImportOp::Spend(c) => InvoiceKey::of_spend(c),
            ImportOp::Refund(c) => InvoiceKey::of_refund(c),
        }
    }

    /// The account every spend and refund of this key posts to once.
    fn spent_account(&self) -> Account {
        Account::project(AccountKind::Spent, &self.grant, FinancialYear::of(self.date), &self.project)
    }

    /// The key of a stored spend or refund, from its columns and its `spent` posting (the
    /// charged figure: the net, plus the VAT when irrecoverable). A spend has a supplier and
    /// an invoice reference, a refund a reference; one missing is named.
    fn of_stored(r: &AnyRow, kind: EntryKind, date: NaiveDate) -> Result<InvoiceKey, StoreError> {
        let key = &["id"][..];
        let c = EntryColumns::read(r, key)?;
        let needed = |value: Option<String>, column: &str| {
            value.ok_or_else(|| super::rows::named(r, "entries", key, column, &format!("is null on a {kind}")))
        };
        let (supplier, reference) = match kind {
            EntryKind::Spend => {
                (needed(c.supplier.clone(), "supplier")?, needed(c.invoice_ref.clone(), "invoice_ref")?)
            }
            // A refund may name no supplier: its reference alone is compared.
            _ => (c.supplier.clone().unwrap_or_default(), needed(c.reference.clone(), "reference")?),
        };
        let charged = r.try_get::<i64, _>("amount_pence")?.abs();
        Ok(InvoiceKey {
            kind,
            grant: r.try_get("grant_code")?,
            project: needed(c.project.clone(), "project")?,
            date,
            supplier: folded(&supplier),
            reference: folded(&reference),
            amount: Money::from_pence(charged - c.irrecoverable_vat().pence()),
        })
    }

    /// The refusal of a request repeating `entry`: 409 `duplicate`, naming it.
    pub fn refusal(&self, entry: i64) -> StoreError {
        StoreError::Duplicate {
            of: entry,
            what: format!("{} of {} on {} ({} {})", self.kind, self.amount, self.date, self.grant, self.project),
        }
    }
}

/// A standing spend or refund found for a key: its id, and the key its row gives.
struct Candidate {
    id: i64,
    account: String,
    key: InvoiceKey,
}

/// The kinds of entry that pay a supplier or take money back from one.
const PAYMENTS: [EntryKind; 2] = [EntryKind::Spend, EntryKind::Refund];

/// Reads the standing spends and refunds posted to `account` on `date`.
static CANDIDATES_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "select e.id, e.kind, e.grant_code, e.entry_date, {}, p.account, p.amount_pence
         from postings p join entries e on e.id = p.entry_id
         where p.account = $1 and p.entry_date = $2 and e.kind in ({})
           and not exists (select 1 from entries r where r.reverses = e.id)
         order by e.id",
        select_list("e"),
        sql_list(&PAYMENTS)
    )
});

fn candidate(r: &sqlx::any::AnyRow) -> Result<Option<Candidate>, StoreError> {
    let kind = match EntryKind::parse(&r.try_get::<String, _>("kind")?) {
        Some(kind) if PAYMENTS.contains(&kind) => kind,
        _ => return Ok(None),
    };
    let at = ("entries", &["id"][..]);
    let date = super::rows::date(r, at, "entry_date")?;
    let key = InvoiceKey::of_stored(r, kind, date)?;
    Ok(Some(Candidate { id: r.try_get("id")?, account: r.try_get("account")?, key }))
}

/// The first standing entry `key` repeats, read inside the caller's `db_tx`, which holds
/// the award's lock.
pub async fn find_in(db_tx: &mut DbTx, key: &InvoiceKey) -> Result<Option<i64>, StoreError> {
    let rows = sqlx::query(&CANDIDATES_SQL)
        .bind(key.spent_account().to_string())
        .bind(key.date.to_string())
        .fetch_all(&mut **db_tx)
        .await?;
    for r in &rows {
        if let Some(c) = candidate(r)?
            && c.key == *key
        {
            return Ok(Some(c.id));
        }
    }
    Ok(None)
}

/// For many keys at once (an import's lines): every standing spend and refund posted on the
/// same project account and date as one of `keys`, by its key, the first entry of each. The
/// (account, date) pairs travel as one JSON array per query, each probing the index.
pub async fn recorded_in(
    db_tx: &mut DbTx,
    backend: Backend,
    keys: impl Iterator<Item = InvoiceKey>,
) -> Result<HashMap<InvoiceKey, i64>, StoreError> {
    let pairs: BTreeSet<(String, String)> = keys.map(|k| (k.spent_account().to_string(), k.date.to_string())).collect();
    let pairs: Vec<(String, String)> = pairs.into_iter().collect();
    let sql = match backend {
        Backend::Sqlite => format!(
            "select e.id, e.kind, e.grant_code, e.entry_date, {}, p.account, p.amount_pence
             from json_each($1) j
             join postings p on p.account = json_extract(j.value, '$[0]') and p.entry_date = json_extract(j.value, '$[1]')
             join entries e on e.id = p.entry_id
             where e.kind in ({}) and not exists (select 1 from entries r where r.reverses = e.id)
             order by e.id",
            select_list("e"),
            sql_list(&PAYMENTS)
        ),
        Backend::Postgres => format!(
            "select e.id, e.kind, e.grant_code, e.entry_date, {}, p.account, p.amount_pence
             from jsonb_array_elements($1::text::jsonb) j
             join postings p on p.account = j ->> 0 and p.entry_date = j ->> 1
             join entries e on e.id = p.entry_id
             where e.kind in ({}) and not exists (select 1 from entries r where r.reverses = e.id)
             order by e.id",
            select_list("e"),
            sql_list(&PAYMENTS)
        ),
    };
    let mut found = HashMap::new();
    for chunk in pairs.chunks(PAIRS_PER_QUERY) {
        let json = serde_json::to_string(chunk).expect("pairs serialize");
        for r in sqlx::query(&sql).bind(json).fetch_all(&mut **db_tx).await? {
            if let Some(c) = candidate(&r)? {
                // Rows come in id order; the first entry of a key is the one named.
                found.entry(c.key).or_insert(c.id);
            }
        }
    }
    Ok(found)
}

/// The accidental duplicates a published file leaves out: each reversed spend or refund
/// that repeats another still standing, with the reversal that undid it. Both are ledger
/// entries still, and the journals show them; a Transparency Code file lists payments
/// made, and this pair made none. Entries are those `known` keeps.
pub async fn reversed_repeats(store: &Store, known: &Known) -> Result<BTreeSet<i64>, StoreError> {
    let mut db_tx = store.begin_read().await?;
    let cut = Cut::of(known, "r", 1);
    let sql = format!(
        "select e.id, e.kind, e.grant_code, e.entry_date, {}, p.account, p.amount_pence, r.id as reversal
         from entries r join entries e on e.id = r.reverses
         join postings p on p.entry_id = e.id and p.account like {}
         where e.kind in ({}) and {}
         order by e.id",
        select_list("e"),
        AccountKind::Spent.sql_like(),
        sql_list(&PAYMENTS),
        cut.sql
    );
    let reversed = cut.bind(sqlx::query(&sql)).fetch_all(&mut *db_tx).await?;
    let mut out = BTreeSet::new();
    for r in &reversed {
        let Some(c) = candidate(r)? else { continue };
        let rows =
            sqlx::query(&CANDIDATES_SQL).bind(&c.account).bind(c.key.date.to_string()).fetch_all(&mut *db_tx).await?;
        // Standing now; an entry `known` leaves out is not yet recorded in that view.
        let mut standing = false;
        for s in &rows {
            if let Some(s) = candidate(s)?
                && s.id != c.id
                && s.key == c.key
                && known_keeps(&mut db_tx, known, s.id).await?
            {
                standing = true;
                break;
            }
        }
        if standing {
            out.insert(c.id);
            out.insert(r.try_get("reversal")?);
        }
    }
    db_tx.rollback().await?;
    Ok(out)
}

/// Whether `known` keeps entry `id`.
async fn known_keeps(db_tx: &mut DbTx, known: &Known, id: i64) -> Result<bool, StoreError> {
    if matches!(known, Known::Now) {
        return Ok(true);
    }
    let cut = Cut::of(known, "e", 2);
    let sql = format!("select 1 as one from entries e where e.id = $1 and {}", cut.sql);
    Ok(cut.bind(sqlx::query(&sql).bind(id)).fetch_optional(&mut **db_tx).await?.is_some())
}
