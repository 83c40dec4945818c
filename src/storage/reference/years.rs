//! Financial years: listed, read, created.

use super::*;
use crate::domain::AuditEntity;

fn fy_from(r: &AnyRow) -> Result<FinancialYearRecord, StoreError> {
    rows::read(r, "financial_years", &["code"])
}

pub async fn list_financial_years(
    store: &Store,
    after: &str,
    limit: i64,
) -> Result<Page<FinancialYearRecord>, StoreError> {
    page_by_code(
        store,
        ("financial_years", "*"),
        after,
        limit,
        crate::model::page::List::FinancialYears,
        |r: &FinancialYearRecord| r.code.clone(),
    )
    .await
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
    idempotency::commit_answer(db_tx, actor.idem, 201, rec).await
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
    audit::record_in(db_tx, Change::created(actor, AuditEntity::FinancialYear, &rec.code, rec)).await?;
    Ok(())
}
