//! Reading the chain heads an export carries, and proving the ledger still holds the heads
//! a file vouched for (`grant-ledger verify --against FILE`). The format is
//! `domain::anchor`'s.

use sqlx::Row;

use super::{DbTx, Store, StoreError};
use crate::domain::anchor::Anchor;
use crate::domain::chain::ChainKey;

/// Every award's head and the audit trail's, read inside the export's `db_tx`. Each is
/// one statement, so on PostgreSQL too its count, newest id and head agree.
pub async fn current_in(db_tx: &mut DbTx) -> Result<Vec<Anchor>, StoreError> {
    let mut out = awards_in(db_tx).await?;
    out.push(audit_in(db_tx, None).await?);
    Ok(out)
}

/// The audit trail's head as it stood at `t`: its chained records written by then.
pub async fn audit_known_at_in(db_tx: &mut DbTx, t: chrono::DateTime<chrono::Utc>) -> Result<Anchor, StoreError> {
    audit_in(db_tx, Some(t)).await
}

async fn audit_in(db_tx: &mut DbTx, t: Option<chrono::DateTime<chrono::Utc>>) -> Result<Anchor, StoreError> {
    let Some(t) = t else {
        let r = sqlx::query(
            "select h.hash,
                    (select cast(count(*) as bigint) from audit_log where hash_version > 0) as n,
                    (select cast(coalesce(max(id), 0) as bigint) from audit_log where hash_version > 0) as newest
             from audit_head h where h.id = 1",
        )
        .fetch_one(&mut **db_tx)
        .await?;
        return Ok(Anchor::Audit { records: r.try_get("n")?, newest: r.try_get("newest")?, head: r.try_get("hash")? });
    };
    // Audit times are written to the second: a record is known at `t` if written in a second
    // before it, or in its own second.
    let upto = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let r = sqlx::query(
        "select cast(count(*) as bigint) as n, cast(coalesce(max(id), 0) as bigint) as newest
         from audit_log where hash_version > 0 and at <= $1",
    )
    .bind(&upto)
    .fetch_one(&mut **db_tx)
    .await?;
    let (records, newest): (i64, i64) = (r.try_get("n")?, r.try_get("newest")?);
    let head = sqlx::query("select hash from audit_log where id = $1")
        .bind(newest)
        .fetch_optional(&mut **db_tx)
        .await?
        .map(|r| r.try_get::<String, _>("hash"))
        .transpose()?
        .unwrap_or_default();
    Ok(Anchor::Audit { records, newest, head })
}

/// Every award's head, read in one statement.
pub async fn awards_in(db_tx: &mut DbTx) -> Result<Vec<Anchor>, StoreError> {
    let rows = sqlx::query(
        "select a.grant_code, a.financial_year, a.head_hash,
                cast(coalesce(e.n, 0) as bigint) as n, cast(coalesce(e.newest, 0) as bigint) as newest
         from awards a
         left join (select grant_code, financial_year, count(*) as n, max(id) as newest
                    from entries group by grant_code, financial_year) e
           on e.grant_code = a.grant_code and e.financial_year = a.financial_year
         order by a.grant_code, a.financial_year",
    )
    .fetch_all(&mut **db_tx)
    .await?;
    rows.iter()
        .map(|r| -> Result<_, StoreError> {
            Ok(Anchor::Award {
                grant: r.try_get("grant_code")?,
                year: r.try_get("financial_year")?,
                entries: r.try_get("n")?,
                newest: r.try_get("newest")?,
                head: r.try_get("head_hash")?,
            })
        })
        .collect()
}

/// Everything `verify` finds, and for each anchor whether the ledger still holds it: the
/// link that was the head is still there with that hash, as many links lead up to it,
/// and (verify's chain walk) every link from it to today's head is intact. Each problem
/// names the award, or the audit trail.
pub async fn check_against(
    store: &Store,
    anchors: &[Anchor],
    key: Option<&ChainKey>,
) -> Result<super::verify::Report, StoreError> {
    let mut report = super::verify::report(store, key).await?;
    for a in anchors {
        if let Some(p) = check_one(store, a).await? {
            report.problems.push(p);
        }
    }
    Ok(report)
}

/// Whether the ledger still holds one anchor: `None`, or the problem naming its chain.
pub async fn check_one(store: &Store, anchor: &Anchor) -> Result<Option<String>, StoreError> {
    let pool = store.pool();
    match anchor {
        Anchor::Award { grant, year, entries, newest, head } => {
            let held = sqlx::query(
                "select cast(count(*) as bigint) as n,
                        max(case when id = $3 then hash end) as hash
                 from entries where grant_code = $1 and financial_year = $2 and id <= $3",
            )
            .bind(grant)
            .bind(year)
            .bind(newest)
            .fetch_one(pool)
            .await?;
            let (n, hash): (i64, Option<String>) = (held.try_get("n")?, held.try_get("hash")?);
            let name = format!("award {grant} {year}");
            Ok(mismatch(&name, "entry", *entries, *newest, head, n, hash))
        }
        Anchor::Audit { records, newest, head } => {
            let held = sqlx::query(
                "select cast(count(*) as bigint) as n,
                        max(case when id = $1 then hash end) as hash
                 from audit_log where hash_version > 0 and id <= $1",
            )
            .bind(newest)
            .fetch_one(pool)
            .await?;
            let (n, hash): (i64, Option<String>) = (held.try_get("n")?, held.try_get("hash")?);
            Ok(mismatch("audit trail", "record", *records, *newest, head, n, hash))
        }
    }
}

/// What differs between an anchor and what the ledger holds up to its newest link.
fn mismatch(
    name: &str,
    link: &str,
    count: i64,
    newest: i64,
    head: &str,
    held_count: i64,
    held_hash: Option<String>,
) -> Option<String> {
    if count == 0 {
        // The chain was empty when anchored: nothing it vouched for can be missing, but
        // nothing may have been slipped in before the anchor either.
        return (held_count != 0 && newest != 0).then(|| {
            format!("{name}: the file vouched for an empty chain, but the ledger holds {held_count} {link}s before it")
        });
    }
    match held_hash {
        None => Some(format!(
            "{name}: {link} {newest}, the chain head the file vouched for, is no longer in the ledger: \
             removed outside the ledger"
        )),
        Some(h) if h != head => Some(format!(
            "{name}: {link} {newest} no longer has the hash the file vouched for: rewritten outside the ledger"
        )),
        Some(_) if held_count != count => Some(format!(
            "{name}: the file vouched for {count} {link}s up to {link} {newest}; the ledger holds {held_count}"
        )),
        Some(_) => None,
    }
}
