//! Organisations (delivery partners): listed, read, created and changed, each change in the
//! audit trail as entity `organisation`; `Organisation` itself is in `model::reference`.

use super::*;
use crate::domain::{AuditAction, AuditEntity};

const TABLE: &str = "organisations";

pub async fn list_organisations(store: &Store, after: &str, limit: i64) -> Result<Page<Organisation>, StoreError> {
    page_by_code(store, (TABLE, "*"), after, limit, crate::model::page::List::Organisations, |o: &Organisation| {
        o.code.clone()
    })
    .await
}

pub async fn get_organisation(store: &Store, code: &str) -> Result<Organisation, StoreError> {
    let row =
        sqlx::query("select * from organisations where code = $1").bind(code).fetch_optional(store.pool()).await?;
    match row {
        Some(r) => rows::read(&r, TABLE, &["code"]),
        None => Err(StoreError::NotFound(format!("organisation {code}"))),
    }
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds what an insert and an update both write, `$2` to `$8`, after the code in `$1`.
fn bind_fields<'q>(q: Query<'q>, o: &'q Organisation, at: String) -> Query<'q> {
    q.bind(&o.name)
        .bind(o.kind.as_str())
        .bind(&o.charity_number)
        .bind(&o.company_number)
        .bind(&o.org_id)
        .bind(&o.postcode)
        .bind(at)
}

pub async fn create_organisation(store: &Store, o: Organisation, actor: Actor<'_>) -> Result<Organisation, StoreError> {
    let mut db_tx = store.begin().await?;
    let t = now();
    let q = sqlx::query(
        "insert into organisations (code, name, kind, charity_number, company_number, org_id, postcode, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&o.code);
    bind_fields(q, &o, t)
        .execute(&mut *db_tx)
        .await
        .map_err(|e| conflict_if_exists(e, format!("organisation {}", o.code)))?;
    audit::record_in(&mut db_tx, Change::created(actor.name, AuditEntity::Organisation, &o.code, &o)).await?;
    idempotency::commit_answer(db_tx, actor.idem, 201, o).await
}

/// Changes an organisation; its code cannot change. The row is held for update, so two
/// changes apply one after the other and each audit record's `before` is what it replaced.
pub async fn update_organisation(
    store: &Store,
    code: &str,
    patch: OrganisationPatch,
    actor: &str,
) -> Result<Organisation, StoreError> {
    let mut db_tx = store.begin().await?;
    let sql = format!("select * from organisations where code = $1{}", RowLock::Update.clause(&db_tx));
    let row = sqlx::query(&sql).bind(code).fetch_optional(&mut *db_tx).await?;
    let mut o: Organisation = match row {
        Some(r) => rows::read(&r, TABLE, &["code"])?,
        None => return Err(StoreError::NotFound(format!("organisation {code}"))),
    };
    let before = audit::json(&o);
    let OrganisationPatch { name, kind, charity_number, company_number, org_id, postcode } = patch;
    o.name = name.unwrap_or(o.name);
    o.kind = kind.unwrap_or(o.kind);
    o.charity_number = charity_number.unwrap_or(o.charity_number);
    o.company_number = company_number.unwrap_or(o.company_number);
    o.org_id = org_id.unwrap_or(o.org_id);
    o.postcode = postcode.unwrap_or(o.postcode);
    let q = sqlx::query(
        "update organisations set name = $2, kind = $3, charity_number = $4, company_number = $5, org_id = $6,
                postcode = $7, updated_at = $8
         where code = $1",
    )
    .bind(code);
    bind_fields(q, &o, now()).execute(&mut *db_tx).await?;
    audit::record_in(
        &mut db_tx,
        Change {
            actor,
            action: AuditAction::Update,
            entity: AuditEntity::Organisation,
            key: code,
            before,
            after: audit::json(&o),
            reason: "",
        },
    )
    .await?;
    db_tx.commit().await?;
    Ok(o)
}
