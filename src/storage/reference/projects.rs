//! Projects: listed, read, created and changed; `Project` itself is in `model::reference`.

use super::*;
use crate::domain::{AuditAction, AuditEntity};

pub async fn list_projects(store: &Store, after: &str, limit: i64) -> Result<Page<Project>, StoreError> {
    page_by_code(store, ("projects", "*"), after, limit, crate::model::page::List::Projects, |p: &Project| {
        p.code.clone()
    })
    .await
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
    idempotency::commit_answer(db_tx, actor.idem, 201, p).await
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
    audit::record_in(db_tx, Change::created(actor, AuditEntity::Project, &p.code, p)).await?;
    Ok(())
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
        Change {
            actor,
            action: AuditAction::Update,
            entity: AuditEntity::Project,
            key: code,
            before,
            after: audit::json(&p),
            reason: "",
        },
    )
    .await?;
    db_tx.commit().await?;
    Ok(p)
}
