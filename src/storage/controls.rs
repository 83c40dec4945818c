//! Controls an auditor expects: four-eyes virements, year end, closing and reopening years.

use chrono::NaiveDate;
use sqlx::Row;

use super::audit::{self, Change};
use super::entries::{EntryMeta, hold_year_awards_in, lock_award, post_in};
use super::idempotency;
use super::operations::{Decision, VirementCmd, VirementRecord, decide_in, insert_virement_in, vire_in};
use super::reference::{get_grant_in, year_status_in};
use super::rows;
use super::{DbTx, Page, RowLock, Store, StoreError, now};
use crate::domain::operations::{self as ops, Award};
use crate::domain::words::sql_list;
use crate::domain::{Account, AccountKind, FinancialYear, Money, VirementStatus, YearStatus};
use crate::domain::{AuditAction, AuditEntity};
use crate::model::Actor;
use crate::model::controls::{ReportingSettings, YearEndCmd, YearEndRecord};
use crate::model::lists::VirementFilter;
use crate::model::open_data::OpenDataSettings;
use crate::model::reference::FinancialYearRecord;

/// The default approval threshold: a virement above £5,000 needs a second approver.
pub const VIREMENT_THRESHOLD_PENCE_DEFAULT: i64 = 500_000;
pub const VIREMENT_THRESHOLD_KEY: &str = "virement_approval_threshold";

/// The current approval threshold, from settings.
pub async fn virement_threshold(store: &Store) -> Result<Money, StoreError> {
    let stored = super::reference::setting(store, VIREMENT_THRESHOLD_KEY).await?;
    // A stored threshold that is not money is refused, not read as the default: a lower
    // default would let virements past four-eyes that the partnership meant to hold.
    match stored {
        None => Ok(Money::from_pence(VIREMENT_THRESHOLD_PENCE_DEFAULT)),
        Some(s) => Money::parse(&s).map_err(|e| {
            StoreError::Corrupt(format!("settings key {VIREMENT_THRESHOLD_KEY}: column value: {s:?}: {e}"))
        }),
    }
}

pub async fn set_virement_threshold(store: &Store, amount: Money, actor: &str) -> Result<(), StoreError> {
    set_settings(store, Some(amount), None, None, &OpenDataSettings::default(), &ReportingSettings::default(), actor)
        .await
}

/// Sets the approval threshold, the RAG thresholds, the clawback threshold, the
/// open-data settings and the funder's reporting settings, each when given, in one `db_tx`: a patch of several settings takes
/// effect whole or not at all.
pub async fn set_settings(
    store: &Store,
    threshold: Option<Money>,
    rag: Option<crate::domain::rag::RagRule>,
    clawback: Option<Money>,
    open_data: &OpenDataSettings,
    reporting: &ReportingSettings,
    actor: &str,
) -> Result<(), StoreError> {
    let mut db_tx = store.begin().await?;
    if let Some(amount) = threshold {
        super::reference::set_setting_in(&mut db_tx, VIREMENT_THRESHOLD_KEY, &amount.to_string(), actor).await?;
    }
    if let Some(rule) = rag {
        super::reports::set_rag_rule_in(&mut db_tx, rule, actor).await?;
    }
    if let Some(amount) = clawback {
        super::cash::set_clawback_threshold_in(&mut db_tx, amount, actor).await?;
    }
    super::open_data::set_settings_in(&mut db_tx, open_data, actor).await?;
    super::reference::set_reporting_in(&mut db_tx, reporting, actor).await?;
    if let Some(code) = &reporting.partnership_code {
        // The home partnership's code is the setting's: they change together.
        super::partnerships::rename_home_in(&mut db_tx, code, actor).await?;
    }
    db_tx.commit().await?;
    Ok(())
}

// ---- four-eyes virements ----

/// Records a virement above the threshold as pending. Nothing moves until a second approver
/// approves it. The checks a posting would make are run now, so an impossible proposal is
/// refused at once; they are run again, binding, at approval.
pub async fn propose_virement(store: &Store, c: VirementCmd, actor: Actor<'_>) -> Result<VirementRecord, StoreError> {
    // A trial posting checks every rule, and is rolled back: nothing moves yet.
    let mut trial = store.begin().await?;
    vire_in(&mut trial, c.clone(), actor.name, None).await?;
    trial.rollback().await?;
    let mut db_tx = store.begin().await?;
    let id = insert_virement_in(&mut db_tx, &c, actor.name, VirementStatus::Pending, None).await?;
    let record = pending_record(id, c, actor.name);
    idempotency::commit_answer(db_tx, actor.idem, 202, record).await
}

fn pending_record(id: i64, c: VirementCmd, proposer: &str) -> VirementRecord {
    let VirementCmd { grant, year, from_project, to_project, amount, approved_on, approval_ref, reason } = c;
    VirementRecord {
        virement_id: id,
        status: VirementStatus::Pending,
        entry_id: None,
        grant,
        financial_year: year,
        from_project,
        to_project,
        amount,
        date: None,
        approved_on,
        approval_ref,
        reason,
        proposed_by: proposer.to_owned(),
        decided_by: None,
    }
}

struct StoredVirement {
    cmd: VirementCmd,
    status: VirementStatus,
    proposed_by: String,
    decided_by: Option<String>,
    entry_id: Option<i64>,
    entry_date: Option<String>,
}

async fn load_virement(db_tx: &mut DbTx, id: i64) -> Result<StoredVirement, StoreError> {
    let r = sqlx::query(
        "select v.*, (select e.entry_date from entries e where e.id = v.entry_id) as entry_date from virements v where v.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **db_tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("virement {id}")))?;
    let at = ("virements", &["id"][..]);
    let named = |e| rows::corrupt(&r, at.0, at.1, e);
    Ok(StoredVirement {
        cmd: VirementCmd {
            grant: r.try_get("grant_code").map_err(named)?,
            year: rows::year(&r, at, "financial_year")?,
            from_project: r.try_get("from_project").map_err(named)?,
            to_project: r.try_get("to_project").map_err(named)?,
            amount: Money::from_pence(r.try_get("amount_pence").map_err(named)?),
            approved_on: rows::date(&r, at, "approved_on")?,
            approval_ref: r.try_get("approval_ref").map_err(named)?,
            reason: r.try_get("reason").map_err(named)?,
        },
        status: rows::parsed(&r, at, "status", |t| VirementStatus::try_from(t.to_owned()))?,
        proposed_by: r.try_get("proposed_by").map_err(named)?,
        decided_by: r.try_get("decided_by").map_err(named)?,
        entry_id: r.try_get("entry_id").map_err(named)?,
        entry_date: r.try_get("entry_date").map_err(named)?,
    })
}

fn stored_record(id: i64, v: StoredVirement) -> VirementRecord {
    let mut rec = pending_record(id, v.cmd, &v.proposed_by);
    rec.status = v.status;
    rec.decided_by = v.decided_by;
    rec.entry_id = v.entry_id;
    rec.date = v.entry_date.as_deref().and_then(crate::domain::parse_date);
    rec
}

/// Posts a pending virement as its second approver. The proposer may never approve it.
pub async fn approve_virement(store: &Store, id: i64, actor: Actor<'_>) -> Result<VirementRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let v = load_virement(&mut db_tx, id).await?;
    if v.proposed_by == actor.name {
        return Err(StoreError::Forbidden(format!(
            "virement {id} was proposed by {}: a second approver must approve it",
            actor.name
        )));
    }
    if v.status != VirementStatus::Pending {
        return Err(StoreError::Conflict(format!("virement {id} is {}, not pending", v.status)));
    }
    // vire_in locks the award first, and only flips the row if it is still pending, so two
    // approvers racing post it once.
    let record = vire_in(&mut db_tx, v.cmd, &v.proposed_by, Some((id, actor.name))).await?;
    idempotency::commit_answer(db_tx, actor.idem, 201, record).await
}

/// Rejects a pending virement, with a reason. Like approval, it takes a second approver.
pub async fn reject_virement(
    store: &Store,
    id: i64,
    reason: &str,
    actor: Actor<'_>,
) -> Result<VirementRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let v = load_virement(&mut db_tx, id).await?;
    if v.proposed_by == actor.name {
        return Err(StoreError::Forbidden(format!(
            "virement {id} was proposed by {}: a second approver must decide it",
            actor.name
        )));
    }
    let not_pending = || format!("virement {id} is {}, not pending", v.status);
    decide_in(&mut db_tx, id, actor.name, Decision::Reject(reason), not_pending).await?;
    let v = load_virement(&mut db_tx, id).await?;
    let record = stored_record(id, v);
    idempotency::commit_answer(db_tx, actor.idem, 200, record).await
}

pub async fn get_virement(store: &Store, id: i64) -> Result<VirementRecord, StoreError> {
    let mut db_tx = store.begin_read().await?;
    let v = load_virement(&mut db_tx, id).await?;
    db_tx.rollback().await?;
    Ok(stored_record(id, v))
}

pub async fn list_virements(
    store: &Store,
    status: Option<VirementStatus>,
    year: Option<FinancialYear>,
    after: i64,
    limit: i64,
) -> Result<Page<VirementRecord>, StoreError> {
    let filter = VirementFilter { status, financial_year: year, ..VirementFilter::default() };
    search_virements(store, &filter, after, limit).await
}

/// The virements `f` finds, by id, a page after `after`.
pub async fn search_virements(
    store: &Store,
    f: &VirementFilter,
    after: i64,
    limit: i64,
) -> Result<Page<VirementRecord>, StoreError> {
    let mut w = super::search::Where::default();
    let p = w.int(after);
    w.and(format!("id > {p}"));
    if let Some(st) = f.status {
        w.and(format!("status = {}", st.sql()));
    }
    w.compare("financial_year", "=", f.financial_year);
    w.compare("grant_code", "=", f.grant.as_ref());
    if let Some(project) = &f.project {
        let p = w.text(project);
        w.and(format!("(from_project = {p} or to_project = {p})"));
    }
    w.compare("approved_on", ">=", f.from);
    w.compare("approved_on", "<=", f.to);
    let limit_p = w.int(limit + 1);
    let sql = format!("select id from virements where {} order by id limit {limit_p}", w.sql());
    let ids: Vec<i64> = w
        .bind(sqlx::query(&sql))
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        items.push(get_virement(store, id).await?);
    }
    Ok(Page::from_rows(items, limit, crate::model::page::List::Virements, |v: &VirementRecord| {
        v.virement_id.to_string()
    }))
}

// ---- year end ----

/// Resolves an award's unspent and unallocated money: carried forward into the next year's
/// award of the same grant, returned to the funder, or both. The split must account for all
/// of it. Both years' awards are locked, earlier first, so concurrent year ends cannot deadlock.
pub async fn year_end(store: &Store, c: YearEndCmd, actor: Actor<'_>) -> Result<YearEndRecord, StoreError> {
    if !c.carry_forward.is_positive() && !c.return_to_funder.is_positive() {
        return Err(StoreError::invalid("carry_forward", "carry_forward or return_to_funder must be more than zero"));
    }
    let date = c.date.unwrap_or(c.year.end());
    if !c.year.contains(date) {
        return Err(StoreError::invalid("date", format!("must lie in {}", c.year)));
    }
    let mut db_tx = store.begin().await?;
    let locked = lock_award(&mut db_tx, &c.grant, c.year).await?;
    let next = c.year.next();
    if c.carry_forward.is_positive() {
        ensure_award_in(&mut db_tx, &c.grant, next, date, actor.name).await?;
        lock_award(&mut db_tx, &c.grant, next).await.map_err(|e| match e {
            StoreError::PeriodClosed(y) => StoreError::PeriodClosed(y),
            other => other,
        })?;
    }
    let rows = sqlx::query(&format!(
        "select account, balance_pence from balances
         where grant_code = $1 and financial_year = $2 and kind in ({}) and balance_pence <> 0
         order by account",
        sql_list(&[AccountKind::Unallocated, AccountKind::Available])
    ))
    .bind(&c.grant)
    .bind(c.year.to_string())
    .fetch_all(&mut *db_tx)
    .await?;
    let mut sweeps = Vec::new();
    let mut unspent: i64 = 0;
    for r in rows {
        let name: String = r.try_get("account")?;
        let balance: i64 = r.try_get("balance_pence")?;
        unspent -= balance;
        sweeps.push((
            Account::parse(&name).ok_or_else(|| StoreError::Conflict(format!("unreadable account {name}")))?,
            Money::from_pence(balance),
        ));
    }
    let asked = c.carry_forward.pence() + c.return_to_funder.pence();
    if asked != unspent {
        return Err(StoreError::invalid(
            "carry_forward",
            format!(
                "carry_forward and return_to_funder must add up to the award's unspent and unallocated money, {}; they add up to {}",
                Money::from_pence(unspent),
                Money::from_pence(asked)
            ),
        ));
    }
    let award = Award { grant: &locked.grant.code, year: c.year };
    let entry = ops::year_end(award, date, &sweeps, c.carry_forward, c.return_to_funder)?;
    let carried = c.carry_forward.is_positive().then_some(next);
    let meta = EntryMeta {
        memo: format!("year end {} {}: {}", c.grant, c.year, c.reason),
        details: serde_json::json!({ "carry_forward": c.carry_forward, "return_to_funder": c.return_to_funder,
                                     "carried_forward_to": carried, "reason": c.reason }),
        created_by: actor.name.to_owned(),
        ..Default::default()
    };
    let posted = post_in(&mut db_tx, &entry, &meta, locked.grant.rule()).await?;
    let mut carry_forward_entry_id = None;
    if let Some(next) = carried {
        let arrives = ops::carry_forward(Award { grant: &c.grant, year: next }, next.start(), c.carry_forward)?;
        let meta = EntryMeta {
            memo: format!("carried forward from {} {}", c.grant, c.year),
            details: serde_json::json!({ "carried_forward_from": c.year, "year_end_entry_id": posted.entry_id, "reason": c.reason }),
            created_by: actor.name.to_owned(),
            ..Default::default()
        };
        carry_forward_entry_id = Some(post_in(&mut db_tx, &arrives, &meta, locked.grant.rule()).await?.entry_id);
    }
    let record = YearEndRecord {
        grant: c.grant,
        financial_year: c.year,
        carried_forward: c.carry_forward,
        returned: c.return_to_funder,
        entry_id: posted.entry_id,
        next_financial_year: carried,
        carry_forward_entry_id,
        reason: c.reason,
    };
    idempotency::commit_answer(db_tx, actor.idem, 201, record).await
}

/// Makes sure the grant has an award row for `year`, so carried-forward money has somewhere
/// to arrive. A new one is recorded as arising from the carry-forward.
async fn ensure_award_in(
    db_tx: &mut DbTx,
    grant: &str,
    year: FinancialYear,
    decided_on: NaiveDate,
    actor: &str,
) -> Result<(), StoreError> {
    let exists = sqlx::query("select 1 from awards where grant_code = $1 and financial_year = $2")
        .bind(grant)
        .bind(year.to_string())
        .fetch_optional(&mut **db_tx)
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    // As creating an award does: a quarter lock of the year waits for this new award.
    super::lookups::hold_year_in(db_tx, year).await?;
    match year_status_in(db_tx, year).await? {
        None => {
            return Err(StoreError::invalid(
                "carry_forward",
                format!("financial year {year} is not set up, so nothing can be carried into it"),
            ));
        }
        Some(YearStatus::Closed) => return Err(StoreError::PeriodClosed(year.to_string())),
        Some(YearStatus::Open) => {}
    }
    get_grant_in(db_tx, grant).await?;
    let reference = format!("carried forward into {year}");
    sqlx::query("insert into awards (grant_code, financial_year, awarded_on, reference, created_at) values ($1, $2, $3, $4, $5)")
        .bind(grant)
        .bind(year.to_string())
        .bind(decided_on.to_string())
        .bind(&reference)
        .bind(now())
        .execute(&mut **db_tx)
        .await?;
    let key = format!("{grant}/{year}");
    let after =
        serde_json::json!({ "grant": grant, "financial_year": year, "awarded_on": decided_on, "reference": reference });
    audit::record_in(
        db_tx,
        Change {
            actor,
            action: AuditAction::Create,
            entity: AuditEntity::Award,
            key: &key,
            before: None,
            after: Some(after),
            reason: "carry-forward",
        },
    )
    .await
}

// ---- closing and reopening years ----

/// Closes a year. Refused while anything of it is unresolved: open commitments, pending
/// virements, or unallocated or available money. Every award of the year is locked first, so
/// no entry slips in between the checks and the close.
pub async fn close_year(
    store: &Store,
    fy: FinancialYear,
    reason: &str,
    actor: Actor<'_>,
) -> Result<FinancialYearRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    // In the one global order, (grant, year), as imports and year ends take them: a single
    // update would lock rows in table order and deadlock against them on PostgreSQL.
    hold_year_awards_in(&mut db_tx, fy, RowLock::Update).await?;
    let before = year_in(&mut db_tx, fy).await?;
    if before.status == YearStatus::Closed {
        return Err(StoreError::Conflict(format!("financial year {fy} is already closed")));
    }
    let mut unresolved = Vec::new();
    let rows = sqlx::query(&format!(
        "select account, balance_pence from balances
         where financial_year = $1 and kind in ({}) and balance_pence <> 0 order by account",
        sql_list(&[AccountKind::Unallocated, AccountKind::Available, AccountKind::Committed])
    ))
    .bind(fy.to_string())
    .fetch_all(&mut *db_tx)
    .await?;
    for r in rows {
        let held = Money::from_pence(-r.try_get::<i64, _>("balance_pence")?);
        unresolved.push(format!("{} holds {held}", r.try_get::<String, _>("account")?));
    }
    let pending_sql = format!(
        "select id from virements where financial_year = $1 and status = {} order by id",
        VirementStatus::Pending.sql()
    );
    let pending = sqlx::query(&pending_sql).bind(fy.to_string()).fetch_all(&mut *db_tx).await?;
    for r in pending {
        unresolved.push(format!("virement {} is pending approval", r.try_get::<i64, _>("id")?));
    }
    if !unresolved.is_empty() {
        return Err(StoreError::Conflict(format!(
            "financial year {fy} cannot close while anything of it is unresolved: {}",
            unresolved.join("; ")
        )));
    }
    change_status(db_tx, (fy, before), YearStatus::Closed, AuditAction::Close, reason, actor).await
}

/// Reopens a closed year. The reason is required and recorded in the audit trail.
pub async fn reopen_year(
    store: &Store,
    fy: FinancialYear,
    reason: &str,
    actor: Actor<'_>,
) -> Result<FinancialYearRecord, StoreError> {
    if reason.trim().is_empty() {
        return Err(StoreError::invalid("reason", "is required to reopen a year"));
    }
    let mut db_tx = store.begin().await?;
    let before = year_in(&mut db_tx, fy).await?;
    if before.status != YearStatus::Closed {
        return Err(StoreError::Conflict(format!("financial year {fy} is not closed")));
    }
    change_status(db_tx, (fy, before), YearStatus::Open, AuditAction::Reopen, reason, actor).await
}

/// Sets a year's status, records the change in the audit trail, saves the idempotent
/// response and commits: the common end of closing and reopening.
async fn change_status(
    mut db_tx: DbTx,
    (fy, before): (FinancialYear, FinancialYearRecord),
    status: YearStatus,
    action: AuditAction,
    reason: &str,
    actor: Actor<'_>,
) -> Result<FinancialYearRecord, StoreError> {
    let after = set_status_in(&mut db_tx, fy, status).await?;
    let change = Change {
        actor: actor.name,
        action,
        entity: AuditEntity::FinancialYear,
        key: &after.code,
        before: audit::json(&before),
        after: audit::json(&after),
        reason,
    };
    audit::record_in(&mut db_tx, change).await?;
    idempotency::commit_answer(db_tx, actor.idem, 200, after).await
}

async fn year_in(db_tx: &mut DbTx, fy: FinancialYear) -> Result<FinancialYearRecord, StoreError> {
    let r = sqlx::query("select * from financial_years where code = $1")
        .bind(fy.to_string())
        .fetch_optional(&mut **db_tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("financial year {fy}")))?;
    rows::read(&r, "financial_years", &["code"])
}

async fn set_status_in(
    db_tx: &mut DbTx,
    fy: FinancialYear,
    status: YearStatus,
) -> Result<FinancialYearRecord, StoreError> {
    sqlx::query("update financial_years set status = $2 where code = $1")
        .bind(fy.to_string())
        .bind(status.as_str())
        .execute(&mut **db_tx)
        .await?;
    year_in(db_tx, fy).await
}
