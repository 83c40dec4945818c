//! Reference data: financial years, funders, priorities, grants, awards, projects, settings.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::audit::{self, Change};
use super::idempotency;
use super::rows;
use super::{DbTx, Page, RowLock, Store, StoreError, is_unique_violation, now};
use crate::domain::{FinancialYear, Money, OnOverspend, ProjectStatus, YearStatus, operations};
use crate::model::Actor;

use super::lookups::project_from;
pub(crate) use super::lookups::year_status_in;
pub use super::lookups::{Grant, Project, get_grant_in, lock_project_in};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FinancialYearRecord {
    pub code: String,
    pub start_date: String,
    pub end_date: String,
    #[sqlx(try_from = "String")]
    pub status: YearStatus,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Funder {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Priority {
    pub code: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AwardRecord {
    pub grant: String,
    pub financial_year: String,
    pub amount: Money,
    pub allocated: Money,
    pub unallocated: Money,
    /// Resolved at year end: carried forward into the next year or returned to the funder.
    pub carried_forward_or_returned: Money,
    pub awarded_on: String,
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<i64>,
}

/// Maps a unique violation on insert to a `conflict` naming what already exists.
fn conflict_if_exists(e: sqlx::Error, what: String) -> StoreError {
    if is_unique_violation(&e) { StoreError::Conflict(format!("{what} already exists")) } else { e.into() }
}

fn limit_rows(limit: i64) -> i64 {
    limit + 1
}

/// What the ledger holds beyond the fixtures an empty ledger is given: projects, and entries
/// other than the fixtures' awards. The demo loads only where both are zero.
pub async fn own_records(store: &Store) -> Result<(i64, i64), StoreError> {
    let row = sqlx::query(
        "select (select count(*) from projects) as projects,
                (select count(*) from entries where kind <> 'award') as entries",
    )
    .fetch_one(store.pool())
    .await?;
    Ok((row.try_get("projects")?, row.try_get("entries")?))
}

// ---- financial years ----

fn fy_from(r: &AnyRow) -> Result<FinancialYearRecord, StoreError> {
    rows::read(r, "financial_years", &["code"])
}

pub async fn list_financial_years(
    store: &Store,
    after: &str,
    limit: i64,
) -> Result<Page<FinancialYearRecord>, StoreError> {
    let rows = sqlx::query("select * from financial_years where code > $1 order by code limit $2")
        .bind(after)
        .bind(limit_rows(limit))
        .fetch_all(store.pool())
        .await?;
    Ok(Page::from_rows(rows::read_all(&rows, "financial_years", &["code"])?, limit, |r: &FinancialYearRecord| {
        r.code.clone()
    }))
}

pub async fn get_financial_year(store: &Store, fy: FinancialYear) -> Result<FinancialYearRecord, StoreError> {
    let row = sqlx::query("select * from financial_years where code = $1")
        .bind(fy.to_string())
        .fetch_optional(store.pool())
        .await?;
    row.as_ref().map(fy_from).ok_or_else(|| StoreError::NotFound(format!("financial year {fy}")))?
}

pub async fn create_financial_year(
    store: &Store,
    fy: FinancialYear,
    actor: Actor<'_>,
) -> Result<FinancialYearRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let rec = FinancialYearRecord {
        code: fy.to_string(),
        start_date: fy.start().to_string(),
        end_date: fy.end().to_string(),
        status: YearStatus::Open,
    };
    create_financial_year_in(&mut db_tx, &rec, actor.name).await?;
    idempotency::save_in(&mut db_tx, actor.idem, 201, &rec).await?;
    db_tx.commit().await?;
    Ok(rec)
}

pub async fn create_financial_year_in(
    db_tx: &mut DbTx,
    rec: &FinancialYearRecord,
    actor: &str,
) -> Result<(), StoreError> {
    sqlx::query("insert into financial_years (code, start_date, end_date, status) values ($1, $2, $3, $4)")
        .bind(&rec.code)
        .bind(&rec.start_date)
        .bind(&rec.end_date)
        .bind(rec.status.as_str())
        .execute(&mut **db_tx)
        .await
        .map_err(|e| conflict_if_exists(e, format!("financial year {}", rec.code)))?;
    audit::record_in(
        db_tx,
        Change {
            actor,
            action: "create",
            entity: "financial_year",
            key: &rec.code,
            before: None,
            after: audit::json(rec),
            reason: "",
        },
    )
    .await?;
    Ok(())
}

// ---- funders ----

pub async fn list_funders(store: &Store, after: &str, limit: i64) -> Result<Page<Funder>, StoreError> {
    let rows = sqlx::query("select code, name from funders where code > $1 order by code limit $2")
        .bind(after)
        .bind(limit_rows(limit))
        .fetch_all(store.pool())
        .await?;
    let items = rows::read_all(&rows, "funders", &["code"])?;
    Ok(Page::from_rows(items, limit, |f: &Funder| f.code.clone()))
}

pub async fn create_funder(store: &Store, f: Funder, actor: Actor<'_>) -> Result<Funder, StoreError> {
    let mut db_tx = store.begin().await?;
    create_funder_in(&mut db_tx, &f, actor.name).await?;
    idempotency::save_in(&mut db_tx, actor.idem, 201, &f).await?;
    db_tx.commit().await?;
    Ok(f)
}

pub async fn create_funder_in(db_tx: &mut DbTx, f: &Funder, actor: &str) -> Result<(), StoreError> {
    sqlx::query("insert into funders (code, name) values ($1, $2)")
        .bind(&f.code)
        .bind(&f.name)
        .execute(&mut **db_tx)
        .await
        .map_err(|e| conflict_if_exists(e, format!("funder {}", f.code)))?;
    audit::record_in(
        db_tx,
        Change {
            actor,
            action: "create",
            entity: "funder",
            key: &f.code,
            before: None,
            after: audit::json(f),
            reason: "",
        },
    )
    .await?;
    Ok(())
}

// ---- priorities ----

pub async fn list_priorities(store: &Store, after: &str, limit: i64) -> Result<Page<Priority>, StoreError> {
    let rows = sqlx::query("select * from priorities where code > $1 order by code limit $2")
        .bind(after)
        .bind(limit_rows(limit))
        .fetch_all(store.pool())
        .await?;
    Ok(Page::from_rows(rows::read_all(&rows, "priorities", &["code"])?, limit, |p: &Priority| p.code.clone()))
}

pub async fn create_priority(store: &Store, p: Priority, actor: Actor<'_>) -> Result<Priority, StoreError> {
    let mut db_tx = store.begin().await?;
    create_priority_in(&mut db_tx, &p, actor.name).await?;
    idempotency::save_in(&mut db_tx, actor.idem, 201, &p).await?;
    db_tx.commit().await?;
    Ok(p)
}

pub async fn create_priority_in(db_tx: &mut DbTx, p: &Priority, actor: &str) -> Result<(), StoreError> {
    sqlx::query("insert into priorities (code, name, description) values ($1, $2, $3)")
        .bind(&p.code)
        .bind(&p.name)
        .bind(&p.description)
        .execute(&mut **db_tx)
        .await
        .map_err(|e| conflict_if_exists(e, format!("priority {}", p.code)))?;
    audit::record_in(
        db_tx,
        Change {
            actor,
            action: "create",
            entity: "priority",
            key: &p.code,
            before: None,
            after: audit::json(p),
            reason: "",
        },
    )
    .await?;
    Ok(())
}

async fn priority_exists_in(db_tx: &mut DbTx, code: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("select 1 from priorities where code = $1").bind(code).fetch_optional(&mut **db_tx).await?.is_some())
}

// ---- grants ----

pub async fn list_grants(store: &Store, after: &str, limit: i64) -> Result<Page<Grant>, StoreError> {
    let rows = sqlx::query("select * from grants where code > $1 order by code limit $2")
        .bind(after)
        .bind(limit_rows(limit))
        .fetch_all(store.pool())
        .await?;
    Ok(Page::from_rows(rows::read_all(&rows, "grants", &["code"])?, limit, |g: &Grant| g.code.clone()))
}

pub async fn grant_exists(store: &Store, code: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("select 1 from grants where code = $1").bind(code).fetch_optional(store.pool()).await?.is_some())
}

pub async fn create_grant(store: &Store, g: Grant, actor: Actor<'_>) -> Result<Grant, StoreError> {
    let mut db_tx = store.begin().await?;
    create_grant_in(&mut db_tx, &g, actor.name).await?;
    idempotency::save_in(&mut db_tx, actor.idem, 201, &g).await?;
    db_tx.commit().await?;
    Ok(g)
}

pub async fn create_grant_in(db_tx: &mut DbTx, g: &Grant, actor: &str) -> Result<(), StoreError> {
    let funder =
        sqlx::query("select 1 from funders where code = $1").bind(&g.funder).fetch_optional(&mut **db_tx).await?;
    if funder.is_none() {
        return Err(StoreError::invalid("funder", format!("no funder {}", g.funder)));
    }
    if let Some(p) = &g.restricted_to_priority
        && !priority_exists_in(db_tx, p).await?
    {
        return Err(StoreError::invalid("restricted_to_priority", format!("no priority {p}")));
    }
    sqlx::query(
        "insert into grants (code, name, funder, restricted_to_priority, on_overspend) values ($1, $2, $3, $4, $5)",
    )
    .bind(&g.code)
    .bind(&g.name)
    .bind(&g.funder)
    .bind(&g.restricted_to_priority)
    .bind(g.on_overspend.as_str())
    .execute(&mut **db_tx)
    .await
    .map_err(|e| conflict_if_exists(e, format!("grant {}", g.code)))?;
    audit::record_in(
        db_tx,
        Change {
            actor,
            action: "create",
            entity: "grant",
            key: &g.code,
            before: None,
            after: audit::json(g),
            reason: "",
        },
    )
    .await?;
    Ok(())
}

// ---- awards ----

/// Figures of every award of a grant, from the balances table.
pub async fn list_awards(store: &Store, grant: &str, after: &str, limit: i64) -> Result<Page<AwardRecord>, StoreError> {
    let rows = sqlx::query(
        "select a.grant_code, a.financial_year, a.awarded_on, a.reference,
                coalesce((select b.balance_pence from balances b
                          where b.grant_code = a.grant_code and b.financial_year = a.financial_year and b.kind = 'awarded'), 0) as awarded,
                coalesce((select b.balance_pence from balances b
                          where b.grant_code = a.grant_code and b.financial_year = a.financial_year and b.kind = 'unallocated'), 0) as unallocated,
                (select cast(coalesce(sum(b.balance_pence), 0) as bigint) from balances b
                 where b.grant_code = a.grant_code and b.financial_year = a.financial_year
                   and b.kind in ('available', 'committed', 'spent')) as allocated,
                (select cast(coalesce(sum(b.balance_pence), 0) as bigint) from balances b
                 where b.grant_code = a.grant_code and b.financial_year = a.financial_year
                   and b.kind in ('carried', 'returned')) as resolved,
                (select min(e.id) from entries e
                 where e.grant_code = a.grant_code and e.financial_year = a.financial_year and e.kind = 'award') as entry_id
         from awards a where a.grant_code = $1 and a.financial_year > $2 order by a.financial_year limit $3",
    )
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
    Ok(Page::from_rows(items, limit, |a: &AwardRecord| a.financial_year.clone()))
}

pub struct NewAward {
    pub grant: String,
    pub year: FinancialYear,
    pub amount: Money,
    pub awarded_on: chrono::NaiveDate,
    pub reference: String,
}

/// Records an award and its entry. The entry is dated the later of the decision date and
/// the first day of the year: a funder often commits money before the year begins (rule 5).
pub async fn create_award(store: &Store, a: NewAward, actor: Actor<'_>) -> Result<AwardRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let rec = create_award_in(&mut db_tx, &a, actor.name).await?;
    idempotency::save_in(&mut db_tx, actor.idem, 201, &rec).await?;
    db_tx.commit().await?;
    Ok(rec)
}

pub async fn create_award_in(db_tx: &mut DbTx, a: &NewAward, created_by: &str) -> Result<AwardRecord, StoreError> {
    if a.awarded_on > a.year.end() {
        return Err(StoreError::invalid("awarded_on", format!("is after the end of {}", a.year)));
    }
    get_grant_in(db_tx, &a.grant).await?;
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
    let meta = super::entries::EntryMeta {
        memo: format!("award {} {}", a.grant, a.year),
        details,
        created_by: created_by.to_owned(),
        ..Default::default()
    };
    let posted = super::entries::post_in(db_tx, &entry, &meta, OnOverspend::Stop).await?;
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
    audit::record_in(
        db_tx,
        Change {
            actor: created_by,
            action: "create",
            entity: "award",
            key: &key,
            before: None,
            after: audit::json(&record),
            reason: "",
        },
    )
    .await?;
    Ok(record)
}

// ---- projects ----

pub async fn list_projects(store: &Store, after: &str, limit: i64) -> Result<Page<Project>, StoreError> {
    let rows = sqlx::query("select * from projects where code > $1 order by code limit $2")
        .bind(after)
        .bind(limit_rows(limit))
        .fetch_all(store.pool())
        .await?;
    Ok(Page::from_rows(rows::read_all(&rows, "projects", &["code"])?, limit, |p: &Project| p.code.clone()))
}

pub async fn get_project(store: &Store, code: &str) -> Result<Project, StoreError> {
    let row = sqlx::query("select * from projects where code = $1").bind(code).fetch_optional(store.pool()).await?;
    row.as_ref().map(project_from).ok_or_else(|| StoreError::NotFound(format!("project {code}")))?
}

pub async fn get_project_in(db_tx: &mut DbTx, code: &str) -> Result<Option<Project>, StoreError> {
    let row = sqlx::query("select * from projects where code = $1").bind(code).fetch_optional(&mut **db_tx).await?;
    row.as_ref().map(project_from).transpose()
}

pub async fn create_project(store: &Store, p: Project, actor: Actor<'_>) -> Result<Project, StoreError> {
    let mut db_tx = store.begin().await?;
    create_project_in(&mut db_tx, &p, actor.name).await?;
    idempotency::save_in(&mut db_tx, actor.idem, 201, &p).await?;
    db_tx.commit().await?;
    Ok(p)
}

pub async fn create_project_in(db_tx: &mut DbTx, p: &Project, actor: &str) -> Result<(), StoreError> {
    if !priority_exists_in(db_tx, &p.priority).await? {
        return Err(StoreError::invalid("priority", format!("no priority {}", p.priority)));
    }
    let t = now();
    sqlx::query(
        "insert into projects (code, name, priority, lead_organisation, description, status, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&p.code)
    .bind(&p.name)
    .bind(&p.priority)
    .bind(&p.lead_organisation)
    .bind(&p.description)
    .bind(p.status.as_str())
    .bind(t)
    .execute(&mut **db_tx)
    .await
    .map_err(|e| conflict_if_exists(e, format!("project {}", p.code)))?;
    audit::record_in(
        db_tx,
        Change {
            actor,
            action: "create",
            entity: "project",
            key: &p.code,
            before: None,
            after: audit::json(p),
            reason: "",
        },
    )
    .await?;
    Ok(())
}

/// Changes to a project; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub priority: Option<String>,
    pub lead_organisation: Option<String>,
    pub description: Option<String>,
    pub status: Option<ProjectStatus>,
}

/// Updates a project. A new priority is refused while the project holds money of a grant
/// restricted to another priority (rule 3 would otherwise be broken after the fact).
pub async fn update_project(
    store: &Store,
    code: &str,
    patch: ProjectPatch,
    actor: &str,
) -> Result<Project, StoreError> {
    let mut db_tx = store.begin().await?;
    // Held for update before the clash check reads balances: a posting that holds the row
    // shared has committed by then, and one that comes later waits and sees the new priority.
    let mut p = lock_project_in(&mut db_tx, code, RowLock::Update)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("project {code}")))?;
    if let Some(priority) = &patch.priority {
        if !priority_exists_in(&mut db_tx, priority).await? {
            return Err(StoreError::invalid("priority", format!("no priority {priority}")));
        }
        let clash = sqlx::query(
            "select g.code, g.restricted_to_priority from balances b join grants g on g.code = b.grant_code
             where b.project_code = $1 and g.restricted_to_priority is not null and g.restricted_to_priority <> $2 limit 1",
        )
        .bind(code)
        .bind(priority)
        .fetch_optional(&mut *db_tx)
        .await?;
        if let Some(r) = clash {
            return Err(StoreError::RestrictedFund {
                grant: r.try_get("code")?,
                restricted_to: r.try_get("restricted_to_priority")?,
                project: code.to_owned(),
                priority: priority.clone(),
            });
        }
    }
    let before = audit::json(&p);
    let ProjectPatch { name, priority, lead_organisation, description, status } = patch;
    p.name = name.unwrap_or(p.name);
    p.priority = priority.unwrap_or(p.priority);
    p.lead_organisation = lead_organisation.unwrap_or(p.lead_organisation);
    p.description = description.unwrap_or(p.description);
    p.status = status.unwrap_or(p.status);
    sqlx::query(
        "update projects set name = $2, priority = $3, lead_organisation = $4, description = $5, status = $6, updated_at = $7
         where code = $1",
    )
    .bind(code)
    .bind(&p.name)
    .bind(&p.priority)
    .bind(&p.lead_organisation)
    .bind(&p.description)
    .bind(p.status.as_str())
    .bind(now())
    .execute(&mut *db_tx)
    .await?;
    audit::record_in(
        &mut db_tx,
        Change { actor, action: "update", entity: "project", key: code, before, after: audit::json(&p), reason: "" },
    )
    .await?;
    db_tx.commit().await?;
    Ok(p)
}

// ---- settings ----

pub async fn set_setting_in(db_tx: &mut DbTx, key: &str, value: &str, actor: &str) -> Result<(), StoreError> {
    let before =
        sqlx::query("select value from settings where key = $1").bind(key).fetch_optional(&mut **db_tx).await?;
    let before: Option<String> = before.map(|r| r.try_get("value")).transpose()?;
    if before.as_deref() == Some(value) {
        return Ok(());
    }
    let change = Change {
        actor,
        action: if before.is_some() { "update" } else { "create" },
        entity: "setting",
        key,
        before: before.map(serde_json::Value::String),
        after: Some(serde_json::Value::String(value.to_owned())),
        reason: "",
    };
    audit::record_in(db_tx, change).await?;
    sqlx::query(
        "insert into settings (key, value) values ($1, $2) on conflict (key) do update set value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(&mut **db_tx)
    .await?;
    Ok(())
}

pub async fn setting(store: &Store, key: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("select value from settings where key = $1").bind(key).fetch_optional(store.pool()).await?;
    Ok(row.map(|r| r.try_get("value")).transpose()?)
}

/// True when nothing has been loaded yet: `serve` then loads the fixtures.
pub async fn is_empty(store: &Store) -> Result<bool, StoreError> {
    let row = sqlx::query("select count(*) as n from funders").fetch_one(store.pool()).await?;
    Ok(row.try_get::<i64, _>("n")? == 0)
}
