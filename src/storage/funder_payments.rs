//! What a funder says it paid each partnership (docs/api.md, "Reconciliation"), and the home
//! ledger's receipts the reconciliation holds them against. A payment is recorded once and
//! never changed; each is audited and held to its record by `verify` (`held`).

use chrono::NaiveDate;
use sqlx::Row;

use super::audit::{Col, RowKey, Stored};
use super::funds::{funders_grant_in, partnership_in};
use super::reference::conflict_if_exists;
use super::{Store, StoreError, idempotency, now, rows};
use crate::domain::{AuditAction, AuditEntity, EntryKind, FinancialYear, Money};
use crate::model::Actor;
use crate::model::funds::{PaymentCmd, PaymentRecord};

pub const FUNDER_PAYMENTS: Stored = Stored {
    table: "funder_payments",
    entity: AuditEntity::FunderPayment,
    key: "id",
    columns: &[
        ("partnership_id", Col::Int),
        ("grant_code", Col::Text),
        ("financial_year", Col::Text),
        ("paid_on", Col::Text),
        ("amount_pence", Col::Int),
        ("reference", Col::Text),
        ("created_by", Col::Text),
        ("created_at", Col::Text),
    ],
};

/// Records a payment `funder` made to a partnership it funds (404 for any other), against
/// one of its grants; a reference already recorded for the partnership is a `conflict`.
pub async fn record_payment(
    store: &Store,
    funder: &str,
    cmd: PaymentCmd,
    actor: Actor<'_>,
) -> Result<PaymentRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let partnership = match partnership_in(&mut db_tx, &cmd.partnership).await? {
        Some(p) if p.funder == funder => p,
        _ => return Err(StoreError::NotFound(format!("partnership {} funded by {funder}", cmd.partnership))),
    };
    funders_grant_in(&mut db_tx, funder, &cmd.grant).await?;
    let id: i64 = sqlx::query(
        "insert into funder_payments (partnership_id, grant_code, financial_year, paid_on, amount_pence, reference,
                                      created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
    )
    .bind(partnership.id)
    .bind(&cmd.grant)
    .bind(cmd.year.to_string())
    .bind(cmd.date.to_string())
    .bind(cmd.amount.pence())
    .bind(&cmd.reference)
    .bind(actor.name)
    .bind(now())
    .fetch_one(&mut *db_tx)
    .await
    .map_err(|e| conflict_if_exists(e, format!("a payment {} to {}", cmd.reference, cmd.partnership)))?
    .try_get("id")?;
    FUNDER_PAYMENTS.record_in(&mut db_tx, RowKey::Id(id), (actor.name, AuditAction::Create, ""), None).await?;
    let record = PaymentRecord {
        id,
        partnership: partnership.code,
        grant: cmd.grant,
        financial_year: cmd.year,
        date: cmd.date,
        amount: cmd.amount,
        reference: cmd.reference,
        created_by: actor.name.to_owned(),
    };
    idempotency::commit_answer(db_tx, actor.idem, 201, record).await
}

/// Every payment `funder` recorded against `year`, by partnership, grant, date and id, with
/// whether the partnership's ledger is this service's (the home one).
pub async fn payments_of_year(
    store: &Store,
    funder: &str,
    year: FinancialYear,
) -> Result<Vec<(PaymentRecord, bool)>, StoreError> {
    let found = sqlx::query(
        "select f.id, p.code, p.home, f.grant_code, f.financial_year, f.paid_on, f.amount_pence, f.reference,
                f.created_by
         from funder_payments f join partnerships p on p.id = f.partnership_id
         where p.funder = $1 and f.financial_year = $2 order by p.code, f.grant_code, f.paid_on, f.id",
    )
    .bind(funder)
    .bind(year.to_string())
    .fetch_all(store.pool())
    .await?;
    let at = ("funder_payments", &["id"][..]);
    found
        .iter()
        .map(|r| {
            let record = PaymentRecord {
                id: r.try_get("id")?,
                partnership: r.try_get("code")?,
                grant: r.try_get("grant_code")?,
                financial_year: rows::year(r, at, "financial_year")?,
                date: rows::date(r, at, "paid_on")?,
                amount: Money::from_pence(r.try_get("amount_pence")?),
                reference: r.try_get("reference")?,
                created_by: r.try_get("created_by")?,
            };
            Ok((record, r.try_get::<i64, _>("home")? != 0))
        })
        .collect()
}

/// One receipt from the funder standing in the home ledger (not reversed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub grant: String,
    pub date: NaiveDate,
    pub amount: Money,
}

/// The home ledger's receipts of `funder`'s grants for `year`, not reversed, by grant and date.
pub async fn home_receipts(store: &Store, funder: &str, year: FinancialYear) -> Result<Vec<Receipt>, StoreError> {
    let found = sqlx::query(&format!(
        "select e.id, e.grant_code, e.entry_date, e.amount_pence from entries e
         join grants g on g.code = e.grant_code
         where g.funder = $1 and e.financial_year = $2 and e.kind = {receipt}
           and not exists (select 1 from entries r where r.reverses = e.id)
         order by e.grant_code, e.entry_date, e.id",
        receipt = EntryKind::Receipt.sql()
    ))
    .bind(funder)
    .bind(year.to_string())
    .fetch_all(store.pool())
    .await?;
    let at = ("entries", &["id"][..]);
    found
        .iter()
        .map(|r| {
            Ok(Receipt {
                grant: r.try_get("grant_code")?,
                date: rows::date(r, at, "entry_date")?,
                amount: Money::from_pence(r.try_get("amount_pence")?),
            })
        })
        .collect()
}

/// The home partnership's code, where `funder` funds it.
pub async fn home_partnership(store: &Store, funder: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query("select code from partnerships where home = 1 and funder = $1")
        .bind(funder)
        .fetch_optional(store.pool())
        .await?
        .map(|r| r.try_get("code"))
        .transpose()?)
}
