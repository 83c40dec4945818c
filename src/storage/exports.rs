//! Reading the ledger out whole, for the journal and transparency exports.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::known::Cut;
use super::{Store, StoreError, rows};
use crate::domain::anchor::Anchor;
use crate::domain::{AccountKind, EntryKind, Money};
use crate::model::exports::{JournalEntry, SpendRow};
use crate::model::known::Known;

/// What a journal export holds: every entry in id order, every account's balance, and
/// the chain heads the file vouches for.
pub type Journal = (Vec<JournalEntry>, Vec<(String, Money)>, Vec<Anchor>);

/// Every entry in id order, and every account's balance.
pub async fn journal(store: &Store) -> Result<(Vec<JournalEntry>, Vec<(String, Money)>), StoreError> {
    let (entries, balances, _) = journal_anchored(store, &Known::Now).await?;
    Ok((entries, balances))
}

/// Every entry `known` keeps in id order, every account's balance over those entries, and
/// the chain heads they end at: one read of each, in one read `db_tx`. The whole ledger is
/// held in memory; a partnership's ledger is thousands of entries.
pub async fn journal_anchored(store: &Store, known: &Known) -> Result<Journal, StoreError> {
    // One db_tx so the entries and the balances are one consistent picture.
    let mut db_tx = store.begin_read().await?;
    let cut = Cut::of(known, "e", 1);
    let sql = format!(
        "select e.id, e.kind, e.entry_date, e.memo, e.reverses, e.grant_code, e.financial_year, e.hash, e.duplicate_of
         from entries e where {} order by e.id",
        cut.sql
    );
    let rows = cut.bind(sqlx::query(&sql)).fetch_all(&mut *db_tx).await?;
    let mut heads: BTreeMap<(String, String), (i64, i64, String)> = BTreeMap::new();
    let mut entries = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        let head = heads.entry((r.try_get("grant_code")?, r.try_get("financial_year")?)).or_default();
        *head = (head.0 + 1, id, r.try_get("hash")?);
        entries.push(JournalEntry {
            id,
            kind: r.try_get("kind")?,
            date: r.try_get("entry_date")?,
            memo: r.try_get("memo")?,
            reverses: r.try_get("reverses")?,
            duplicate_of: r.try_get("duplicate_of")?,
            postings: Vec::new(),
        });
    }
    let index: BTreeMap<i64, usize> = entries.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let rows = sqlx::query("select entry_id, account, amount_pence from postings order by entry_id, line")
        .fetch_all(&mut *db_tx)
        .await?;
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for r in rows {
        if let Some(i) = index.get(&r.try_get::<i64, _>("entry_id")?) {
            let (account, pence): (String, i64) = (r.try_get("account")?, r.try_get("amount_pence")?);
            *sums.entry(account.clone()).or_default() += pence;
            entries[*i].postings.push((account, Money::from_pence(pence)));
        }
    }
    let balances = sqlx::query("select account, balance_pence from balances order by account")
        .fetch_all(&mut *db_tx)
        .await?
        .iter()
        .map(|r| -> Result<_, StoreError> {
            let account: String = r.try_get("account")?;
            // Current figures read the balances table; a cut sums the postings it keeps.
            let pence = match known {
                Known::Now => r.try_get("balance_pence")?,
                _ => sums.get(&account).copied().unwrap_or(0),
            };
            Ok((account, Money::from_pence(pence)))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let anchors = match known {
        Known::Now => super::anchors::current_in(&mut db_tx).await?,
        Known::Position(position) => position.anchors.clone(),
        Known::At(t) => {
            let mut out = super::anchors::awards_in(&mut db_tx).await?;
            for a in &mut out {
                if let Anchor::Award { grant, year, entries, newest, head } = a {
                    let (n, id, hash) = heads.remove(&(grant.clone(), year.clone())).unwrap_or_default();
                    (*entries, *newest, *head) = (n, id, hash);
                }
            }
            out.push(super::anchors::audit_known_at_in(&mut db_tx, *t).await?);
            out
        }
    };
    db_tx.rollback().await?;
    Ok((entries, balances, anchors))
}

/// Every entry dated `from..=to` that moves a `spent` account, with what it moved and who
/// was paid: the entry's own supplier; else, for a reversal, the supplier of what it reverses;
/// else, for a refund naming the spend it returns (or a reversal of one), that spend's
/// supplier; else the recipient of the agreement a clawback is under (or the supplier of a
/// purchase order). One read `db_tx`.
pub async fn spend_rows(
    store: &Store,
    from: NaiveDate,
    to: NaiveDate,
    known: &Known,
) -> Result<Vec<SpendRow>, StoreError> {
    let cut = Cut::of(known, "e", 3);
    let sql = format!(
        "select e.id, e.entry_date, e.kind, e.grant_code, e.memo, e.supplier, e.refund_of, e.vat_pence,
                e.vat_recoverable, r.supplier as reversed_supplier, r.refund_of as reversed_refund_of,
                r.vat_pence as reversed_vat_pence, r.vat_recoverable as reversed_vat_recoverable,
                s.supplier as refunded_supplier, rs.supplier as reversed_refunded_supplier,
                coalesce(o.name, c.supplier) as commitment_party,
                cast(sum(p.amount_pence) as bigint) as spent
         from entries e
         join postings p on p.entry_id = e.id and p.account like {}
         left join entries r on r.id = e.reverses
         left join entries s on s.id = e.refund_of
         left join entries rs on rs.id = r.refund_of
         left join commitments c on c.id = coalesce(e.commitment_id, r.commitment_id)
         left join organisations o on o.code = c.recipient
         where e.entry_date >= $1 and e.entry_date <= $2 and {}
         group by e.id, e.entry_date, e.kind, e.grant_code, e.memo, e.supplier, e.refund_of, e.vat_pence,
                  e.vat_recoverable, r.supplier, r.refund_of, r.vat_pence, r.vat_recoverable, s.supplier, rs.supplier,
                  o.name, c.supplier
         order by e.entry_date, e.id",
        AccountKind::Spent.sql_like(),
        cut.sql
    );
    let mut db_tx = store.begin_read().await?;
    let rows = cut.bind(sqlx::query(&sql).bind(from.to_string()).bind(to.to_string())).fetch_all(&mut *db_tx).await?;
    db_tx.rollback().await?;
    let at = ("entries", &["id"][..]);
    let text = |r: &AnyRow, column: &str| -> Result<Option<String>, StoreError> {
        let v: Option<String> = r.try_get(column).map_err(|e| rows::corrupt(r, at.0, at.1, e))?;
        Ok(v.filter(|s| !s.trim().is_empty()))
    };
    // The irrecoverable VAT an entry charged (a reversal's, that of what it reverses).
    let irrecoverable = |r: &AnyRow, prefix: &str| -> Result<Money, StoreError> {
        let pence: Option<i64> = r.try_get(format!("{prefix}vat_pence").as_str())?;
        let recoverable: Option<i64> = r.try_get(format!("{prefix}vat_recoverable").as_str())?;
        Ok(match (pence, recoverable) {
            (Some(p), Some(0)) => Money::from_pence(p),
            _ => Money::ZERO,
        })
    };
    let spend = rows
        .iter()
        .map(|r| -> Result<_, StoreError> {
            let kind: String = r.try_get("kind")?;
            let vat = if kind == EntryKind::Reversal.as_str() {
                irrecoverable(r, "reversed_")?
            } else {
                irrecoverable(r, "")?
            };
            let party: Option<String> = r.try_get("commitment_party")?;
            let supplier = text(r, "supplier")?
                .or(text(r, "reversed_supplier")?)
                .or(text(r, "refunded_supplier")?)
                .or(text(r, "reversed_refunded_supplier")?)
                .or(party)
                .unwrap_or_default();
            // Spend credits `spent` (stored negative); show spend as a positive amount.
            let amount = Money::from_pence(-r.try_get::<i64, _>("spent")?);
            Ok(SpendRow {
                entry_id: r.try_get("id")?,
                date: r.try_get("entry_date")?,
                kind,
                grant: r.try_get("grant_code")?,
                memo: r.try_get("memo")?,
                supplier,
                amount,
                // With the amount's sign: a refund or a reversal gives its VAT back.
                irrecoverable_vat: if amount.pence() < 0 { vat.negated() } else { vat },
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(spend.into_iter().filter(|r| r.amount != Money::ZERO).collect())
}
