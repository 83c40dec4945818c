//! The funder's cash (docs/cash.md): an award's payment schedule (reference data, audited),
//! receipts and repayments (entries on the award's cash accounts, through `post_in`), the
//! schedule as the cash-position report reads it, and the clawback threshold setting.

use super::audit::{self, Change};
use super::entries::{EntryMeta, balance_in, lock_award_dated, lock_award_row, post_in};
use super::idempotency;
use super::operations::award_of;
use super::{DbTx, Store, StoreError, rows};
use crate::domain::entry::date_window;
use crate::domain::operations as ops;
use crate::domain::rules::held;
use crate::domain::{Account, AccountKind, EntryKind, FinancialYear, Money};
use crate::domain::{AuditAction, AuditEntity};
use crate::model::Actor;
use crate::model::cash::{CashCmd, CashMove, CashRecord, Instalment, ScheduledInstalment};

/// The settings key of the underspend above which the cash position flags an award.
pub const CLAWBACK_THRESHOLD_KEY: &str = "clawback_threshold";
/// £15,000, GMCA's threshold for clawing back unallocated underspend.
pub const CLAWBACK_THRESHOLD_PENCE_DEFAULT: i64 = 1_500_000;

/// The clawback threshold, from settings. A stored value that is not money is refused,
/// never read as the default.
pub async fn clawback_threshold(store: &Store) -> Result<Money, StoreError> {
    match super::reference::setting(store, CLAWBACK_THRESHOLD_KEY).await? {
        None => Ok(Money::from_pence(CLAWBACK_THRESHOLD_PENCE_DEFAULT)),
        Some(s) => Money::parse(&s).map_err(|e| {
            StoreError::Corrupt(format!("settings key {CLAWBACK_THRESHOLD_KEY}: column value: {s:?}: {e}"))
        }),
    }
}

pub async fn set_clawback_threshold_in(db_tx: &mut DbTx, amount: Money, actor: &str) -> Result<(), StoreError> {
    super::reference::set_setting_in(db_tx, CLAWBACK_THRESHOLD_KEY, &amount.to_string(), actor).await
}

#[derive(sqlx::FromRow)]
struct InstalmentRow {
    grant_code: String,
    financial_year: String,
    due_on: String,
    amount_pence: i64,
    condition: String,
}

const KEY: &[&str] = &["grant_code", "financial_year", "line"];

fn due_on(r: &InstalmentRow) -> Result<chrono::NaiveDate, StoreError> {
    crate::domain::parse_date(&r.due_on).ok_or_else(|| {
        StoreError::Corrupt(format!(
            "payment_schedules {}/{}: column due_on: {:?} is not a date",
            r.grant_code, r.financial_year, r.due_on
        ))
    })
}

async fn schedule_in(db_tx: &mut DbTx, grant: &str, year: FinancialYear) -> Result<Vec<Instalment>, StoreError> {
    let found = sqlx::query(
        "select grant_code, financial_year, due_on, amount_pence, condition from payment_schedules
         where grant_code = $1 and financial_year = $2 order by line",
    )
    .bind(grant)
    .bind(year.to_string())
    .fetch_all(&mut **db_tx)
    .await?;
    let found: Vec<InstalmentRow> = rows::read_all(&found, "payment_schedules", KEY)?;
    found
        .iter()
        .map(|r| {
            Ok(Instalment {
                due_on: due_on(r)?,
                amount: Money::from_pence(r.amount_pence),
                condition: r.condition.clone(),
            })
        })
        .collect()
}

async fn award_exists_in(db_tx: &mut DbTx, grant: &str, year: FinancialYear) -> Result<bool, StoreError> {
    let found = sqlx::query("select 1 as one from awards where grant_code = $1 and financial_year = $2")
        .bind(grant)
        .bind(year.to_string())
        .fetch_optional(&mut **db_tx)
        .await?;
    Ok(found.is_some())
}

/// An award's payment schedule, in due date order (empty when none is set).
pub async fn payment_schedule(store: &Store, grant: &str, year: FinancialYear) -> Result<Vec<Instalment>, StoreError> {
    let mut db_tx = store.begin_read().await?;
    if !award_exists_in(&mut db_tx, grant, year).await? {
        return Err(StoreError::NotFound(format!("award {grant} {year}")));
    }
    let schedule = schedule_in(&mut db_tx, grant, year).await?;
    db_tx.rollback().await?;
    Ok(schedule)
}

/// Replaces an award's payment schedule whole, in due date order, audited. The instalments
/// may not add up to more than the award (`awarded`, carried-forward money included); the
/// award's lock is held, so the award cannot change under the check.
pub async fn set_payment_schedule(
    store: &Store,
    grant: &str,
    year: FinancialYear,
    mut schedule: Vec<Instalment>,
    actor: Actor<'_>,
) -> Result<Vec<Instalment>, StoreError> {
    let mut db_tx = store.begin().await?;
    if !lock_award_row(&mut db_tx, grant, year).await? {
        return Err(StoreError::NotFound(format!("award {grant} {year}")));
    }
    let awarded = figure(&mut db_tx, grant, year, AccountKind::Awarded).await?;
    let total = schedule
        .iter()
        .try_fold(Money::ZERO, |t, i| t.checked_add(i.amount))
        .map_err(|_| StoreError::invalid("schedule", "the instalments add up to more than any award can be"))?;
    if total > awarded {
        return Err(StoreError::invalid(
            "schedule",
            format!("the instalments add up to {total}, more than the award of {awarded} ({grant} {year})"),
        ));
    }
    schedule.sort_by_key(|i| i.due_on);
    let before = schedule_in(&mut db_tx, grant, year).await?;
    sqlx::query("delete from payment_schedules where grant_code = $1 and financial_year = $2")
        .bind(grant)
        .bind(year.to_string())
        .execute(&mut *db_tx)
        .await?;
    for (i, inst) in schedule.iter().enumerate() {
        sqlx::query(
            "insert into payment_schedules (grant_code, financial_year, line, due_on, amount_pence, condition)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(grant)
        .bind(year.to_string())
        .bind(i as i64 + 1)
        .bind(inst.due_on.to_string())
        .bind(inst.amount.pence())
        .bind(&inst.condition)
        .execute(&mut *db_tx)
        .await?;
    }
    if before != schedule {
        let key = format!("{grant}/{year}");
        audit::record_in(
            &mut db_tx,
            Change {
                actor: actor.name,
                action: if before.is_empty() { AuditAction::Create } else { AuditAction::Update },
                entity: AuditEntity::PaymentSchedule,
                key: &key,
                before: audit::json(&before),
                after: audit::json(&schedule),
                reason: "",
            },
        )
        .await?;
    }
    idempotency::commit_answer(db_tx, actor.idem, 200, schedule).await
}

/// Every instalment of a year's awards, for the cash-position report.
pub async fn scheduled(store: &Store, year: FinancialYear) -> Result<Vec<ScheduledInstalment>, StoreError> {
    let found = sqlx::query(
        "select grant_code, financial_year, due_on, amount_pence, condition from payment_schedules
         where financial_year = $1 order by grant_code, line",
    )
    .bind(year.to_string())
    .fetch_all(store.pool())
    .await?;
    let found: Vec<InstalmentRow> = rows::read_all(&found, "payment_schedules", KEY)?;
    found
        .iter()
        .map(|r| {
            Ok(ScheduledInstalment {
                grant: r.grant_code.clone(),
                financial_year: FinancialYear::parse(&r.financial_year).map_err(|e| {
                    StoreError::Corrupt(format!(
                        "payment_schedules {}/{}: column financial_year: {e}",
                        r.grant_code, r.financial_year
                    ))
                })?,
                due_on: due_on(r)?,
                amount: Money::from_pence(r.amount_pence),
            })
        })
        .collect()
}

/// What one of an award's accounts holds now, read inside `db_tx`.
async fn figure(db_tx: &mut DbTx, grant: &str, year: FinancialYear, kind: AccountKind) -> Result<Money, StoreError> {
    Ok(held(kind, balance_in(db_tx, &Account::award(kind, grant, year)).await?))
}

/// Records a receipt from the funder or a repayment to it: one entry in the award's chain,
/// dated when the money moved (rule 9): a receipt from a year before the award's year
/// begins to its end, a repayment from its start to two years after it ends (422 naming
/// `date`). A receipt may not take what the funder has paid above the award; a repayment
/// may not be more than is owed (both 422 naming `amount`). `post_in` holds the rest: the
/// year the date falls in open, its quarter unlocked, and (rule 8) owed and cash never
/// below zero as at any date. A closed award year still takes a repayment dated after it.
pub async fn record(store: &Store, what: CashMove, c: CashCmd, actor: Actor<'_>) -> Result<CashRecord, StoreError> {
    let kind = match what {
        CashMove::Receipt => EntryKind::Receipt,
        CashMove::Repayment => EntryKind::Repayment,
    };
    let (first, last) = date_window(kind, c.year, true);
    if c.date < first || c.date > last {
        let span = match what {
            CashMove::Receipt => "from a year before the award's year begins to its last day",
            CashMove::Repayment => "from the award's year's first day to two years after it ends",
        };
        return Err(StoreError::invalid(
            "date",
            format!("a {kind} for {} may be dated {first} to {last} ({span}), not {}", c.year, c.date),
        ));
    }
    let mut db_tx = store.begin().await?;
    let locked = lock_award_dated(&mut db_tx, &c.grant, c.year, c.date).await?;
    let received = figure(&mut db_tx, &c.grant, c.year, AccountKind::Received).await?;
    let owed = figure(&mut db_tx, &c.grant, c.year, AccountKind::Owed).await?;
    let (entry, memo) = match what {
        CashMove::Receipt => {
            let awarded = figure(&mut db_tx, &c.grant, c.year, AccountKind::Awarded).await?;
            let after = received.checked_add(c.amount).map_err(|_| StoreError::invalid("amount", "is too large"))?;
            if after > awarded {
                return Err(StoreError::invalid(
                    "amount",
                    format!(
                        "the funder would have paid {after}, more than the award of {awarded}; {received} is received so far"
                    ),
                ));
            }
            (ops::receipt(award_of(&locked), c.date, c.amount)?, format!("received from the funder: {}", c.reference))
        }
        CashMove::Repayment => {
            if c.amount > owed {
                return Err(StoreError::invalid(
                    "amount",
                    format!("{} is more than the {owed} owed to the funder for {} {}", c.amount, c.grant, c.year),
                ));
            }
            (ops::repayment(award_of(&locked), c.date, c.amount)?, format!("repaid to the funder: {}", c.reference))
        }
    };
    let meta = EntryMeta {
        memo,
        details: serde_json::json!({ "reference": c.reference }),
        created_by: actor.name.to_owned(),
        ..Default::default()
    };
    let posted = post_in(&mut db_tx, &entry, &meta, locked.grant.rule()).await?;
    let received = figure(&mut db_tx, &c.grant, c.year, AccountKind::Received).await?;
    let owed_to_funder = figure(&mut db_tx, &c.grant, c.year, AccountKind::Owed).await?;
    let record = CashRecord {
        entry_id: posted.entry_id,
        received,
        owed_to_funder,
        grant: c.grant,
        financial_year: c.year,
        date: c.date,
        amount: c.amount,
        reference: c.reference,
    };
    idempotency::commit_answer(db_tx, actor.idem, 201, record).await
}
