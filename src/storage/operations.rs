//! The recording operations: each one `db_tx` that locks its award, checks, posts one entry,
//! saves the idempotent response, and commits. Nothing is half-written: any refusal rolls
//! the whole `db_tx` back.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use super::entries::{EntryMeta, LockedAward, PostingView, lock_award, post_in, postings_in};
use super::idempotency;
use super::lookups::lock_project_in;
use super::{DbTx, RowLock, Store, StoreError, now, rows};
use crate::domain::operations::{self as ops, Award};
use crate::domain::{
    Account, AccountKind, EntryKind, FinancialYear, Money, OnOverspend, OverspendFlag, ProjectStatus, VirementStatus,
};
use crate::model::Actor;

/// Checks a project exists and, unless `closed_ok`, that it is active.
/// The project's row is held shared until the posting commits, so its status cannot change
/// under it (rule 7).
async fn project_for_posting(db_tx: &mut DbTx, code: &str, field: &str, closed_ok: bool) -> Result<(), StoreError> {
    let p = lock_project_in(db_tx, code, RowLock::Share)
        .await?
        .ok_or_else(|| StoreError::invalid(field, format!("no project {code}")))?;
    if !closed_ok && p.status != ProjectStatus::Active {
        return Err(StoreError::invalid(field, format!("project {code} is closed")));
    }
    Ok(())
}

/// A decision taken before its year begins is dated the year's first day (rule 5).
fn decision_date(decided_on: NaiveDate, year: FinancialYear, field: &str) -> Result<NaiveDate, StoreError> {
    if decided_on > year.end() {
        return Err(StoreError::invalid(field, format!("is after the end of {year}")));
    }
    Ok(decided_on.max(year.start()))
}

fn award_of(locked: &LockedAward) -> Award<'_> {
    Award { grant: &locked.grant.code, year: locked.year }
}

async fn commit_with<T: Serialize>(mut db_tx: DbTx, actor: Actor<'_>, record: T) -> Result<T, StoreError> {
    idempotency::save_in(&mut db_tx, actor.idem, 201, &record).await?;
    db_tx.commit().await?;
    Ok(record)
}

// ---- allocation ----

pub struct AllocationCmd {
    pub grant: String,
    pub year: FinancialYear,
    pub project: String,
    pub amount: Money,
    pub approved_on: NaiveDate,
    pub approval_ref: String,
    pub memo: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AllocationRecord {
    pub entry_id: i64,
    pub grant: String,
    pub financial_year: FinancialYear,
    pub project: String,
    pub amount: Money,
    pub date: NaiveDate,
    pub approved_on: NaiveDate,
    pub approval_ref: String,
    pub memo: String,
}

pub async fn allocate(store: &Store, c: AllocationCmd, actor: Actor<'_>) -> Result<AllocationRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let locked = lock_award(&mut db_tx, &c.grant, c.year).await?;
    project_for_posting(&mut db_tx, &c.project, "project", false).await?;
    let date = decision_date(c.approved_on, c.year, "approved_on")?;
    let entry = ops::allocation(award_of(&locked), date, &c.project, c.amount)?;
    let meta = EntryMeta {
        memo: c.memo.clone(),
        details: serde_json::json!({ "project": c.project, "approved_on": c.approved_on, "approval_ref": c.approval_ref }),
        created_by: actor.name.to_owned(),
        ..Default::default()
    };
    let posted = post_in(&mut db_tx, &entry, &meta, locked.grant.rule()).await?;
    let AllocationCmd { grant, year, project, amount, approved_on, approval_ref, memo } = c;
    let record = AllocationRecord {
        entry_id: posted.entry_id,
        grant,
        financial_year: year,
        project,
        amount,
        date,
        approved_on,
        approval_ref,
        memo,
    };
    commit_with(db_tx, actor, record).await
}

// ---- virement ----

#[derive(Debug, Clone)]
pub struct VirementCmd {
    pub grant: String,
    pub year: FinancialYear,
    pub from_project: String,
    pub to_project: String,
    pub amount: Money,
    pub approved_on: NaiveDate,
    pub approval_ref: String,
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VirementRecord {
    pub virement_id: i64,
    /// `posted` (below the threshold), `pending`, `approved` or `rejected`.
    pub status: VirementStatus,
    pub entry_id: Option<i64>,
    pub grant: String,
    pub financial_year: FinancialYear,
    pub from_project: String,
    pub to_project: String,
    pub amount: Money,
    /// The entry's date, once posted.
    pub date: Option<NaiveDate>,
    pub approved_on: NaiveDate,
    pub approval_ref: String,
    pub reason: String,
    pub proposed_by: String,
    pub decided_by: Option<String>,
}

/// Posts a virement at once: below the approval threshold. The row in `virements` records
/// it as `posted`.
pub async fn vire(store: &Store, c: VirementCmd, actor: Actor<'_>) -> Result<VirementRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let record = vire_in(&mut db_tx, c, actor.name, None).await?;
    commit_with(db_tx, actor, record).await
}

/// Posts a virement inside `db_tx`. `approved` names the pending virement being approved
/// and its second approver; otherwise a `posted` row is recorded for the proposer.
pub async fn vire_in(
    db_tx: &mut DbTx,
    c: VirementCmd,
    proposer: &str,
    approved: Option<(i64, &str)>,
) -> Result<VirementRecord, StoreError> {
    if c.from_project == c.to_project {
        return Err(StoreError::invalid("to_project", "must differ from from_project"));
    }
    let locked = lock_award(db_tx, &c.grant, c.year).await?;
    project_for_posting(db_tx, &c.from_project, "from_project", true).await?;
    project_for_posting(db_tx, &c.to_project, "to_project", false).await?;
    let date = decision_date(c.approved_on, c.year, "approved_on")?;
    let entry = ops::virement(award_of(&locked), date, &c.from_project, &c.to_project, c.amount)?;
    let meta = EntryMeta {
        memo: c.reason.clone(),
        details: serde_json::json!({
            "from_project": c.from_project, "to_project": c.to_project,
            "approved_on": c.approved_on, "approval_ref": c.approval_ref, "reason": c.reason,
            "proposed_by": proposer, "second_approver": approved.map(|(_, by)| by),
        }),
        created_by: approved.map(|(_, by)| by).unwrap_or(proposer).to_owned(),
        ..Default::default()
    };
    // Rule 4 applies to virements whatever the grant's rule: moving budget a project does
    // not have would be an overspend made by the partnership itself.
    let posted = post_in(db_tx, &entry, &meta, OnOverspend::Stop).await?;
    let virement_id = match approved {
        Some((id, by)) => {
            let done = sqlx::query(
                "update virements set status = 'approved', decided_by = $2, decided_at = $3, entry_id = $4
                 where id = $1 and status = 'pending'",
            )
            .bind(id)
            .bind(by)
            .bind(now())
            .bind(posted.entry_id)
            .execute(&mut **db_tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict(format!("virement {id} is no longer pending")));
            }
            id
        }
        None => insert_virement_in(db_tx, &c, proposer, VirementStatus::Posted, Some(posted.entry_id)).await?,
    };
    let VirementCmd { grant, year, from_project, to_project, amount, approved_on, approval_ref, reason } = c;
    Ok(VirementRecord {
        virement_id,
        status: if approved.is_some() { VirementStatus::Approved } else { VirementStatus::Posted },
        entry_id: Some(posted.entry_id),
        grant,
        financial_year: year,
        from_project,
        to_project,
        amount,
        date: Some(date),
        approved_on,
        approval_ref,
        reason,
        proposed_by: proposer.to_owned(),
        decided_by: approved.map(|(_, by)| by.to_owned()),
    })
}

pub async fn insert_virement_in(
    db_tx: &mut DbTx,
    c: &VirementCmd,
    proposer: &str,
    status: VirementStatus,
    entry_id: Option<i64>,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "insert into virements (grant_code, financial_year, from_project, to_project, amount_pence, approved_on,
                                approval_ref, reason, status, proposed_by, proposed_at, entry_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id",
    )
    .bind(&c.grant)
    .bind(c.year.to_string())
    .bind(&c.from_project)
    .bind(&c.to_project)
    .bind(c.amount.pence())
    .bind(c.approved_on.to_string())
    .bind(&c.approval_ref)
    .bind(&c.reason)
    .bind(status.as_str())
    .bind(proposer)
    .bind(now())
    .bind(entry_id)
    .fetch_one(&mut **db_tx)
    .await?;
    Ok(row.try_get("id")?)
}

// ---- commitments ----

pub struct CommitmentCmd {
    pub grant: String,
    pub year: FinancialYear,
    pub project: String,
    pub supplier: String,
    pub reference: String,
    pub amount: Money,
    pub date: NaiveDate,
    pub memo: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommitmentRecord {
    pub commitment_id: i64,
    pub entry_id: i64,
    pub grant: String,
    pub financial_year: String,
    pub project: String,
    pub supplier: String,
    pub reference: String,
    pub amount: Money,
    pub outstanding: Money,
    pub date: String,
    pub memo: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<OverspendFlag>,
}

pub async fn commit(store: &Store, c: CommitmentCmd, actor: Actor<'_>) -> Result<CommitmentRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let locked = lock_award(&mut db_tx, &c.grant, c.year).await?;
    project_for_posting(&mut db_tx, &c.project, "project", false).await?;
    let entry = ops::commitment(award_of(&locked), c.date, &c.project, c.amount)?;
    let commitment_id: i64 = sqlx::query(
        "insert into commitments (grant_code, financial_year, project_code, supplier, reference, amount_pence,
                                  commitment_date, memo, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
    )
    .bind(&c.grant)
    .bind(c.year.to_string())
    .bind(&c.project)
    .bind(&c.supplier)
    .bind(&c.reference)
    .bind(c.amount.pence())
    .bind(c.date.to_string())
    .bind(&c.memo)
    .bind(now())
    .fetch_one(&mut *db_tx)
    .await?
    .try_get("id")?;
    let meta = EntryMeta {
        memo: c.memo.clone(),
        details: serde_json::json!({ "project": c.project, "supplier": c.supplier, "reference": c.reference }),
        created_by: actor.name.to_owned(),
        commitment_id: Some(commitment_id),
        ..Default::default()
    };
    let posted = post_in(&mut db_tx, &entry, &meta, locked.grant.rule()).await?;
    let record = CommitmentRecord {
        commitment_id,
        entry_id: posted.entry_id,
        grant: c.grant,
        financial_year: c.year.to_string(),
        project: c.project,
        supplier: c.supplier,
        reference: c.reference,
        amount: c.amount,
        outstanding: c.amount,
        date: c.date.to_string(),
        memo: c.memo,
        warnings: posted.flags,
    };
    commit_with(db_tx, actor, record).await
}

/// What is still committed under one commitment: its share of `committed:P`.
async fn outstanding_in(db_tx: &mut DbTx, commitment_id: i64, account: &Account) -> Result<Money, StoreError> {
    let held: i64 = sqlx::query(
        "select cast(coalesce(sum(p.amount_pence), 0) as bigint) as s from postings p join entries e on e.id = p.entry_id
         where e.commitment_id = $1 and p.account = $2",
    )
    .bind(commitment_id)
    .bind(account.to_string())
    .fetch_one(&mut **db_tx)
    .await?
    .try_get("s")?;
    Ok(Money::from_pence(-held))
}

struct CommitmentRow {
    grant: String,
    year: FinancialYear,
    project: String,
    date: String,
}

async fn commitment_row(store: &Store, id: i64) -> Result<Option<CommitmentRow>, StoreError> {
    let row = sqlx::query(
        "select id, grant_code, financial_year, project_code, commitment_date from commitments where id = $1",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| -> Result<_, StoreError> {
        Ok(CommitmentRow {
            grant: r.try_get("grant_code")?,
            year: rows::year(&r, ("commitments", &["id"]), "financial_year")?,
            project: r.try_get("project_code")?,
            date: r.try_get("commitment_date")?,
        })
    })
    .transpose()
}

/// Rule 8: a correction is never dated before what it corrects. Dates are stored as
/// `YYYY-MM-DD`, so their text orders as the dates do.
fn not_before(date: NaiveDate, original: &str, what: impl FnOnce() -> String) -> Result<(), StoreError> {
    if date.to_string().as_str() < original {
        return Err(StoreError::invalid("date", format!("is before {original}, the date of {}", what())));
    }
    Ok(())
}

pub struct ReleaseCmd {
    pub commitment_id: i64,
    pub date: NaiveDate,
    pub amount: Money,
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReleaseRecord {
    pub entry_id: i64,
    pub commitment_id: i64,
    pub date: NaiveDate,
    pub amount: Money,
    pub reason: String,
    pub outstanding: Money,
}

pub async fn release(store: &Store, c: ReleaseCmd, actor: Actor<'_>) -> Result<ReleaseRecord, StoreError> {
    let row = commitment_row(store, c.commitment_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("commitment {}", c.commitment_id)))?;
    not_before(c.date, &row.date, || format!("commitment {} that it releases", c.commitment_id))?;
    let mut db_tx = store.begin().await?;
    let locked = lock_award(&mut db_tx, &row.grant, row.year).await?;
    let committed = Account::project(AccountKind::Committed, &row.grant, row.year, &row.project);
    let outstanding = outstanding_in(&mut db_tx, c.commitment_id, &committed).await?;
    if c.amount > outstanding {
        return Err(StoreError::invalid(
            "amount",
            format!("is more than the {outstanding} outstanding on commitment {}", c.commitment_id),
        ));
    }
    let entry = ops::release(award_of(&locked), c.date, &row.project, c.amount)?;
    let meta = EntryMeta {
        memo: c.reason.clone(),
        details: serde_json::json!({ "project": row.project, "reason": c.reason }),
        created_by: actor.name.to_owned(),
        commitment_id: Some(c.commitment_id),
        ..Default::default()
    };
    let posted = post_in(&mut db_tx, &entry, &meta, locked.grant.rule()).await?;
    let record = ReleaseRecord {
        entry_id: posted.entry_id,
        commitment_id: c.commitment_id,
        date: c.date,
        amount: c.amount,
        reason: c.reason,
        outstanding: Money::from_pence(outstanding.pence() - c.amount.pence()),
    };
    commit_with(db_tx, actor, record).await
}

pub async fn list_commitments(
    store: &Store,
    project: Option<&str>,
    open_only: bool,
    after: i64,
    limit: i64,
) -> Result<super::Page<CommitmentRecord>, StoreError> {
    let rows = sqlx::query(
        "select c.*, (select min(e.id) from entries e where e.commitment_id = c.id and e.kind = 'commitment') as entry_id,
                (select cast(coalesce(-sum(p.amount_pence), 0) as bigint) from postings p join entries e on e.id = p.entry_id
                 where e.commitment_id = c.id and p.account like 'committed:%') as outstanding
         from commitments c
         where c.id > $1 and ($2 is null or c.project_code = $2)
           and ($3 = 0 or (select coalesce(sum(p.amount_pence), 0) from postings p join entries e on e.id = p.entry_id
                           where e.commitment_id = c.id and p.account like 'committed:%') <> 0)
         order by c.id limit $4",
    )
    .bind(after)
    .bind(project)
    .bind(i64::from(open_only))
    .bind(limit + 1)
    .fetch_all(store.pool())
    .await?;
    let items = rows
        .iter()
        .map(|r| -> Result<_, StoreError> {
            Ok(CommitmentRecord {
                commitment_id: r.try_get("id")?,
                entry_id: r.try_get::<Option<i64>, _>("entry_id")?.unwrap_or_default(),
                grant: r.try_get("grant_code")?,
                financial_year: r.try_get("financial_year")?,
                project: r.try_get("project_code")?,
                supplier: r.try_get("supplier")?,
                reference: r.try_get("reference")?,
                amount: Money::from_pence(r.try_get("amount_pence")?),
                outstanding: Money::from_pence(r.try_get("outstanding")?),
                date: r.try_get("commitment_date")?,
                memo: r.try_get("memo")?,
                warnings: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(super::Page::from_rows(items, limit, |c: &CommitmentRecord| c.commitment_id.to_string()))
}

// ---- spend and refunds ----

#[derive(Debug, Clone)]
pub struct SpendCmd {
    pub grant: String,
    pub project: String,
    pub date: NaiveDate,
    pub supplier: String,
    pub description: String,
    pub invoice_ref: String,
    pub amount: Money,
    pub commitment_id: Option<i64>,
    pub source_ref: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SpendRecord {
    pub entry_id: i64,
    pub grant: String,
    pub financial_year: FinancialYear,
    pub project: String,
    pub date: NaiveDate,
    pub supplier: String,
    pub description: String,
    pub invoice_ref: String,
    pub amount: Money,
    pub commitment_id: Option<i64>,
    /// The part of the spend drawn from the commitment; the rest came from available.
    pub covered_by_commitment: Money,
    pub source_ref: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<OverspendFlag>,
}

pub async fn spend(store: &Store, c: SpendCmd, actor: Actor<'_>) -> Result<SpendRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let record = spend_in(&mut db_tx, c, actor.name).await?;
    commit_with(db_tx, actor, record).await
}

/// What a spend entry records besides its postings. The bulk import builds the same.
pub(crate) fn spend_meta(c: &SpendCmd, created_by: &str) -> EntryMeta {
    EntryMeta {
        memo: c.description.clone(),
        details: serde_json::json!({
            "project": c.project, "supplier": c.supplier, "description": c.description, "invoice_ref": c.invoice_ref,
        }),
        created_by: created_by.to_owned(),
        commitment_id: c.commitment_id,
        source_ref: c.source_ref.clone(),
        ..Default::default()
    }
}

/// What a refund entry records besides its postings. The bulk import builds the same.
pub(crate) fn refund_meta(c: &RefundCmd, created_by: &str) -> EntryMeta {
    let mut details = serde_json::json!({ "project": c.project, "reference": c.reference, "reason": c.reason });
    if let Some(supplier) = &c.supplier {
        details["supplier"] = serde_json::Value::String(supplier.clone());
    }
    EntryMeta {
        memo: c.reason.clone(),
        details,
        created_by: created_by.to_owned(),
        source_ref: c.source_ref.clone(),
        ..Default::default()
    }
}

/// Locks the award of the year `date` falls in. A grant with no award that year makes the
/// date the field in error: the year is not given separately on spend and refunds.
async fn lock_award_of_date(
    db_tx: &mut DbTx,
    grant: &str,
    date: NaiveDate,
) -> Result<(LockedAward, FinancialYear), StoreError> {
    let year = FinancialYear::of(date);
    let locked = lock_award(db_tx, grant, year).await.map_err(|e| match e {
        StoreError::Invalid { field, .. } if field == "financial_year" => {
            StoreError::invalid("date", format!("grant {grant} has no award for {year}, the year of this date"))
        }
        other => other,
    })?;
    Ok((locked, year))
}

/// Records one spend inside `db_tx`: the import posts many lines in one `db_tx` this way.
pub async fn spend_in(db_tx: &mut DbTx, c: SpendCmd, created_by: &str) -> Result<SpendRecord, StoreError> {
    let (locked, year) = lock_award_of_date(db_tx, &c.grant, c.date).await?;
    project_for_posting(db_tx, &c.project, "project", false).await?;
    let mut covered = Money::ZERO;
    if let Some(id) = c.commitment_id {
        let row = sqlx::query(
            "select grant_code, financial_year, project_code, commitment_date from commitments where id = $1",
        )
        .bind(id)
        .fetch_optional(&mut **db_tx)
        .await?
        .ok_or_else(|| StoreError::invalid("commitment_id", format!("no commitment {id}")))?;
        let (g, y, p): (String, String, String) =
            (row.try_get("grant_code")?, row.try_get("financial_year")?, row.try_get("project_code")?);
        if g != c.grant || y != year.to_string() || p != c.project {
            return Err(StoreError::invalid(
                "commitment_id",
                format!("commitment {id} is for {g} {y} project {p}, not this spend's"),
            ));
        }
        not_before(c.date, &row.try_get::<String, _>("commitment_date")?, || {
            format!("commitment {id} that it draws on")
        })?;
        let committed = Account::project(AccountKind::Committed, &c.grant, year, &c.project);
        covered = outstanding_in(db_tx, id, &committed).await?.min(c.amount);
    }
    let entry = ops::spend(award_of(&locked), c.date, &c.project, c.amount, covered)?;
    let meta = spend_meta(&c, created_by);
    let posted = post_in(db_tx, &entry, &meta, locked.grant.rule()).await?;
    Ok(SpendRecord {
        entry_id: posted.entry_id,
        grant: c.grant,
        financial_year: year,
        project: c.project,
        date: c.date,
        supplier: c.supplier,
        description: c.description,
        invoice_ref: c.invoice_ref,
        amount: c.amount,
        commitment_id: c.commitment_id,
        covered_by_commitment: covered,
        source_ref: c.source_ref,
        warnings: posted.flags,
    })
}

#[derive(Debug, Clone)]
pub struct RefundCmd {
    pub grant: String,
    pub project: String,
    pub date: NaiveDate,
    pub amount: Money,
    pub reference: String,
    pub reason: String,
    /// The imported line this refund came from (a credit note), if any; posts once.
    pub source_ref: Option<String>,
    /// Who sent the money back, when known (an imported credit note names its supplier).
    pub supplier: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefundRecord {
    pub entry_id: i64,
    pub grant: String,
    pub financial_year: FinancialYear,
    pub project: String,
    pub date: NaiveDate,
    pub amount: Money,
    pub reference: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
}

pub async fn refund(store: &Store, c: RefundCmd, actor: Actor<'_>) -> Result<RefundRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let record = refund_in(&mut db_tx, c, actor.name).await?;
    commit_with(db_tx, actor, record).await
}

/// Records one refund inside `db_tx`: the import posts a negative line this way.
pub async fn refund_in(db_tx: &mut DbTx, c: RefundCmd, created_by: &str) -> Result<RefundRecord, StoreError> {
    let (locked, year) = lock_award_of_date(db_tx, &c.grant, c.date).await?;
    project_for_posting(db_tx, &c.project, "project", true).await?;
    let entry = ops::refund(award_of(&locked), c.date, &c.project, c.amount)?;
    let meta = refund_meta(&c, created_by);
    let posted = post_in(db_tx, &entry, &meta, locked.grant.rule()).await?;
    let RefundCmd { grant, project, date, amount, reference, reason, source_ref, .. } = c;
    Ok(RefundRecord {
        entry_id: posted.entry_id,
        grant,
        financial_year: year,
        project,
        date,
        amount,
        reference,
        reason,
        source_ref,
    })
}

/// True when an entry already carries this `source_ref`: an imported line posts once.
pub async fn source_ref_exists_in(db_tx: &mut DbTx, source_ref: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("select 1 as one from entries where source_ref = $1")
        .bind(source_ref)
        .fetch_optional(&mut **db_tx)
        .await?;
    Ok(row.is_some())
}

// ---- reversal ----

pub struct ReverseCmd {
    pub entry_id: i64,
    pub date: NaiveDate,
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReversalRecord {
    pub entry_id: i64,
    pub reverses: i64,
    pub date: NaiveDate,
    pub reason: String,
    pub postings: Vec<PostingView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<OverspendFlag>,
}

/// The kind of an entry, so the caller can check the role that may reverse it.
pub async fn entry_kind(store: &Store, id: i64) -> Result<EntryKind, StoreError> {
    let row = sqlx::query("select id, kind from entries where id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("entry {id}")))?;
    entry_kind_of(&row)
}

fn entry_kind_of(row: &sqlx::any::AnyRow) -> Result<EntryKind, StoreError> {
    rows::parsed(row, ("entries", &["id"]), "kind", |t| EntryKind::parse(t).ok_or("is not an entry kind"))
}

/// Posts the mirror of an entry. An entry is reversed at most once (rule 6); a reversal is
/// not itself reversed: record the operation again instead.
pub async fn reverse(store: &Store, c: ReverseCmd, actor: Actor<'_>) -> Result<ReversalRecord, StoreError> {
    let row = sqlx::query(
        "select id, grant_code, financial_year, kind, commitment_id, entry_date from entries where id = $1",
    )
    .bind(c.entry_id)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("entry {}", c.entry_id)))?;
    let grant: String = row.try_get("grant_code")?;
    let year = rows::year(&row, ("entries", &["id"]), "financial_year")?;
    let kind = entry_kind_of(&row)?;
    if kind == EntryKind::Reversal {
        return Err(StoreError::Conflict(format!(
            "entry {} is a reversal; record the operation again instead",
            c.entry_id
        )));
    }
    if !kind.is_reversible() {
        return Err(StoreError::Conflict(format!(
            "entry {} is a year-end entry; year-end entries are not reversed one by one",
            c.entry_id
        )));
    }
    not_before(c.date, &row.try_get::<String, _>("entry_date")?, || format!("entry {} that it reverses", c.entry_id))?;
    let commitment_id: Option<i64> = row.try_get("commitment_id")?;
    let mut db_tx = store.begin().await?;
    let locked = lock_award(&mut db_tx, &grant, year).await?;
    let already =
        sqlx::query("select id from entries where reverses = $1").bind(c.entry_id).fetch_optional(&mut *db_tx).await?;
    if already.is_some() {
        return Err(StoreError::AlreadyReversed(c.entry_id));
    }
    let original = postings_in(&mut db_tx, c.entry_id).await?;
    let entry = ops::reversal(award_of(&locked), c.date, &original)?;
    if let Some(id) = commitment_id {
        // The project's committed account may hold enough, yet this commitment's own share
        // must not go below nothing: later spend or releases against it come back first.
        let committed_change: i64 = entry
            .postings()
            .iter()
            .filter(|p| p.account.kind == AccountKind::Committed)
            .map(|p| p.amount.pence())
            .sum();
        if let Some(account) = entry.postings().iter().map(|p| &p.account).find(|a| a.kind == AccountKind::Committed) {
            let outstanding = outstanding_in(&mut db_tx, id, account).await?;
            if outstanding.pence() - committed_change < 0 {
                return Err(StoreError::Conflict(format!(
                    "commitment {id} has {outstanding} outstanding; reverse the spend or releases against it first"
                )));
            }
        }
    }
    let meta = EntryMeta {
        memo: c.reason.clone(),
        details: serde_json::json!({ "reason": c.reason }),
        created_by: actor.name.to_owned(),
        reverses: Some(c.entry_id),
        commitment_id,
        ..Default::default()
    };
    // Checked under the rule its original was: a virement under `stop` whatever the grant's
    // rule (see `vire_in`), so undoing one cannot move budget a project no longer has.
    let rule = match kind {
        EntryKind::Virement => OnOverspend::Stop,
        _ => locked.grant.rule(),
    };
    let posted = post_in(&mut db_tx, &entry, &meta, rule).await?;
    let postings =
        entry.postings().iter().map(|p| PostingView { account: p.account.to_string(), amount: p.amount }).collect();
    let record = ReversalRecord {
        entry_id: posted.entry_id,
        reverses: c.entry_id,
        date: c.date,
        reason: c.reason,
        postings,
        warnings: posted.flags,
    };
    commit_with(db_tx, actor, record).await
}
