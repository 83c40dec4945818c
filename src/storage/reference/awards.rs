//! Awards: listed, and created with their award entry, posted through `entries`.

use super::*;
use crate::domain::AuditEntity;
use crate::domain::words::sql_list;
use crate::domain::{AccountKind, EntryKind};

/// Figures of every award of a grant, from the balances table.
pub async fn list_awards(store: &Store, grant: &str, after: &str, limit: i64) -> Result<Page<AwardRecord>, StoreError> {
    let rows = sqlx::query(&format!(
        "select a.grant_code, a.financial_year, a.awarded_on, a.reference,
                coalesce((select b.balance_pence from balances b
                          where b.grant_code = a.grant_code and b.financial_year = a.financial_year and b.kind = {awarded}), 0) as awarded,
                coalesce((select b.balance_pence from balances b
                          where b.grant_code = a.grant_code and b.financial_year = a.financial_year and b.kind = {unallocated}), 0) as unallocated,
                (select cast(coalesce(sum(b.balance_pence), 0) as bigint) from balances b
                 where b.grant_code = a.grant_code and b.financial_year = a.financial_year
                   and b.kind in ({allocated})) as allocated,
                (select cast(coalesce(sum(b.balance_pence), 0) as bigint) from balances b
                 where b.grant_code = a.grant_code and b.financial_year = a.financial_year
                   and b.kind in ({resolved})) as resolved,
                (select min(e.id) from entries e
                 where e.grant_code = a.grant_code and e.financial_year = a.financial_year and e.kind = {award}) as entry_id
         from awards a where a.grant_code = $1 and a.financial_year > $2 order by a.financial_year limit $3",
        awarded = AccountKind::Awarded.sql(),
        unallocated = AccountKind::Unallocated.sql(),
        allocated = sql_list(&[AccountKind::Available, AccountKind::Committed, AccountKind::Spent]),
        resolved = sql_list(&[AccountKind::Carried, AccountKind::Returned]),
        award = EntryKind::Award.sql(),
    ))
    .bind(grant)
    .bind(after)
    .bind(limit_rows(limit))
    .fetch_all(store.pool())
    .await?;
    let items = rows
        .iter()
        .map(|r| -> Result<AwardRecord, StoreError> {
            let awarded = Money::from_pence(r.try_get::<i64, _>("awarded")?);
            // unallocated is credit-normal: what it holds is minus its balance.
            let unallocated = Money::from_pence(-r.try_get::<i64, _>("unallocated")?);
            Ok(AwardRecord {
                grant: r.try_get("grant_code")?,
                financial_year: r.try_get("financial_year")?,
                amount: awarded,
                // Project budgets: what sits in projects' available, committed and spent.
                allocated: Money::from_pence(-r.try_get::<i64, _>("allocated")?),
                unallocated,
                carried_forward_or_returned: Money::from_pence(-r.try_get::<i64, _>("resolved")?),
                awarded_on: r.try_get("awarded_on")?,
                reference: r.try_get("reference")?,
                entry_id: r.try_get("entry_id")?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, limit, crate::model::page::List::Awards, |a: &AwardRecord| a.financial_year.clone()))
}

/// Records an award and its entry. The entry is dated the later of the decision date and
/// the first day of the year: a funder often commits money before the year begins (rule 5).
pub async fn create_award(store: &Store, a: NewAward, actor: Actor<'_>) -> Result<AwardRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let rec = create_award_in(&mut db_tx, &a, actor.name).await?;
    idempotency::commit_answer(db_tx, actor.idem, 201, rec).await
}

pub async fn create_award_in(db_tx: &mut DbTx, a: &NewAward, created_by: &str) -> Result<AwardRecord, StoreError> {
    if a.awarded_on > a.year.end() {
        return Err(StoreError::invalid("awarded_on", format!("is after the end of {}", a.year)));
    }
    get_grant_in(db_tx, &a.grant).await?;
    // Held until commit, so a quarter lock of the year (which holds it for update) and this
    // new award serialise: the award's entry sees the lock, or the lock waits for the award.
    crate::storage::lookups::hold_year_in(db_tx, a.year).await?;
    match year_status_in(db_tx, a.year).await? {
        None => return Err(StoreError::invalid("financial_year", format!("{} is not set up in this ledger", a.year))),
        Some(YearStatus::Closed) => return Err(StoreError::PeriodClosed(a.year.to_string())),
        Some(_) => {}
    }
    // The award row is written first: it is the lock every later entry of this award takes.
    sqlx::query("insert into awards (grant_code, financial_year, awarded_on, reference, created_at, write_seq) values ($1, $2, $3, $4, $5, 1)")
        .bind(&a.grant)
        .bind(a.year.to_string())
        .bind(a.awarded_on.to_string())
        .bind(&a.reference)
        .bind(now())
        .execute(&mut **db_tx)
        .await
        .map_err(|e| conflict_if_exists(e, format!("an award of {} for {}", a.grant, a.year)))?;
    let date = a.awarded_on.max(a.year.start());
    let award = operations::Award { grant: &a.grant, year: a.year };
    let entry = operations::award(award, date, a.amount)?;
    let details = serde_json::json!({ "awarded_on": a.awarded_on.to_string(), "reference": a.reference });
    let meta = super::super::entries::EntryMeta {
        memo: format!("award {} {}", a.grant, a.year),
        details,
        created_by: created_by.to_owned(),
        ..Default::default()
    };
    let posted = super::super::entries::post_in(db_tx, &entry, &meta, OnOverspend::Stop).await?;
    let record = AwardRecord {
        grant: a.grant.clone(),
        financial_year: a.year.to_string(),
        amount: a.amount,
        allocated: Money::ZERO,
        unallocated: a.amount,
        carried_forward_or_returned: Money::ZERO,
        awarded_on: a.awarded_on.to_string(),
        reference: a.reference.clone(),
        entry_id: Some(posted.entry_id),
    };
    let key = format!("{}/{}", a.grant, a.year);
    audit::record_in(db_tx, Change::created(created_by, AuditEntity::Award, &key, &record)).await?;
    Ok(record)
}
