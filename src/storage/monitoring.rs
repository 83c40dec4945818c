//! The quarterly monitoring cycle: officers' forecasts, indicators and indicator returns.
//! Forecasts and returns are append-only (triggers, as `entries`): a later one for the same
//! quarter supersedes the earlier, and both are kept and listed.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::Row;

use super::audit::{self, Change};
use super::entries::{hold_year_awards_in, lock_award_row};
use super::lookups::{get_grant_in, year_status_in};
use super::reference::{conflict_if_exists, get_project_in};
use super::{RowLock, Store, StoreError, idempotency, now_precise, rows};
use crate::domain::{AuditAction, AuditEntity};
use crate::domain::{FinancialYear, Money, ProgressRag, Quantity, YearStatus, parse_date};
use crate::model::Actor;
use crate::model::known::Known;
use crate::model::monitoring::{
    Forecast, ForecastCmd, ForecastRecord, Forecasts, IndicatorCmd, IndicatorRecord, IndicatorReturnCmd,
    IndicatorReturnRecord, Withdrawal,
};

/// A stored value outside its type, named by table, key and column.
fn corrupt(table: &str, key: &str, column: &str, what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{table} {key}: column {column}: {what}"))
}

fn year_of(table: &str, key: &str, text: &str) -> Result<FinancialYear, StoreError> {
    FinancialYear::parse(text).map_err(|e| corrupt(table, key, "financial_year", format!("{text:?}: {e}")))
}

fn quarter_of(table: &str, key: &str, n: i64) -> Result<u8, StoreError> {
    u8::try_from(n).ok().filter(|q| (1..=4).contains(q)).ok_or_else(|| corrupt(table, key, "quarter", n))
}

#[derive(sqlx::FromRow)]
struct ForecastRow {
    id: i64,
    grant_code: String,
    financial_year: String,
    quarter: i64,
    project_code: String,
    forecast_pence: i64,
    explanation: String,
    #[sqlx(try_from = "String")]
    progress_rag: ProgressRag,
    rag_reason: String,
    made_on: String,
    made_by: String,
    made_at: String,
    withdrawal_reason: Option<String>,
    withdrawn_by: Option<String>,
    withdrawn_at: Option<String>,
}

/// A withdrawal read beside its record (a left join: all three columns or none).
fn withdrawal_of(reason: Option<String>, by: Option<String>, at: Option<String>) -> Option<Withdrawal> {
    match (reason, by, at) {
        (Some(reason), Some(withdrawn_by), Some(withdrawn_at)) => {
            Some(Withdrawal { reason, withdrawn_by, withdrawn_at })
        }
        _ => None,
    }
}

/// Forecasts with their withdrawals; a `where` on `f` follows.
const FORECASTS: &str = "select f.*, w.reason as withdrawal_reason, w.withdrawn_by, w.withdrawn_at
     from forecasts f left join forecast_withdrawals w on w.forecast_id = f.id";

impl ForecastRow {
    fn record(self) -> Result<ForecastRecord, StoreError> {
        let key = format!("id {}", self.id);
        let made_on = parse_date(&self.made_on)
            .ok_or_else(|| corrupt("forecasts", &key, "made_on", format!("{:?} is not a date", self.made_on)))?;
        if self.forecast_pence < 0 {
            return Err(corrupt("forecasts", &key, "forecast_pence", self.forecast_pence));
        }
        Ok(ForecastRecord {
            id: self.id,
            grant: self.grant_code,
            financial_year: year_of("forecasts", &key, &self.financial_year)?,
            quarter: quarter_of("forecasts", &key, self.quarter)?,
            project: self.project_code,
            forecast_outturn: Money::from_pence(self.forecast_pence),
            explanation: self.explanation,
            progress_rag: self.progress_rag,
            rag_reason: self.rag_reason,
            made_on,
            made_by: self.made_by,
            made_at: self.made_at,
            superseded: false,
            withdrawal: withdrawal_of(self.withdrawal_reason, self.withdrawn_by, self.withdrawn_at),
        })
    }
}

/// Records an officer's forecast in one `db_tx`. Refused: an unknown grant (404), an
/// unknown or closed year, a year the grant has no award in, an unknown project, or one
/// the grant does not fund that year (422 naming the field).
#[tracing::instrument(skip(store, cmd, actor), fields(grant = %cmd.grant, project = %cmd.project))]
pub async fn record_forecast(store: &Store, cmd: ForecastCmd, actor: Actor<'_>) -> Result<ForecastRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    get_grant_in(&mut db_tx, &cmd.grant).await?;
    match year_status_in(&mut db_tx, cmd.year).await? {
        None => {
            return Err(StoreError::invalid(
                "financial_year",
                format!("{} is not a financial year of this ledger", cmd.year),
            ));
        }
        Some(YearStatus::Closed) => return Err(StoreError::PeriodClosed(cmd.year.to_string())),
        Some(YearStatus::Open) => {}
    }
    // The award's lock, as a posting takes it: a return filed meanwhile (which holds the
    // year's awards shared while it takes its instant) has this forecast wholly before its
    // instant or wholly after.
    if !lock_award_row(&mut db_tx, &cmd.grant, cmd.year).await? {
        return Err(StoreError::invalid(
            "financial_year",
            format!("grant {} has no award for {}", cmd.grant, cmd.year),
        ));
    }
    if get_project_in(&mut db_tx, &cmd.project).await?.is_none() {
        return Err(StoreError::invalid("project", format!("no project {}", cmd.project)));
    }
    let funded = sqlx::query(
        "select 1 as found from balances where grant_code = $1 and financial_year = $2 and project_code = $3 limit 1",
    )
    .bind(&cmd.grant)
    .bind(cmd.year.to_string())
    .bind(&cmd.project)
    .fetch_optional(&mut *db_tx)
    .await?;
    if funded.is_none() {
        return Err(StoreError::invalid(
            "project",
            format!("project {} has no budget from grant {} in {}", cmd.project, cmd.grant, cmd.year),
        ));
    }
    let made_at = now_precise();
    let row = sqlx::query(
        "insert into forecasts (grant_code, financial_year, quarter, project_code, forecast_pence, explanation,
                                progress_rag, rag_reason, made_on, made_by, made_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning id",
    )
    .bind(&cmd.grant)
    .bind(cmd.year.to_string())
    .bind(i64::from(cmd.quarter))
    .bind(&cmd.project)
    .bind(cmd.forecast_outturn.pence())
    .bind(&cmd.explanation)
    .bind(cmd.progress_rag.as_str())
    .bind(&cmd.rag_reason)
    .bind(cmd.made_on.to_string())
    .bind(actor.name)
    .bind(&made_at)
    .fetch_one(&mut *db_tx)
    .await?;
    #[derive(sqlx::FromRow)]
    struct Id {
        id: i64,
    }
    let Id { id } = rows::read(&row, "forecasts", &[])?;
    audit::FORECASTS.record_in(&mut db_tx, audit::RowKey::Id(id), (actor.name, AuditAction::Create, ""), None).await?;
    let rec = ForecastRecord {
        id,
        grant: cmd.grant,
        financial_year: cmd.year,
        quarter: cmd.quarter,
        project: cmd.project,
        forecast_outturn: cmd.forecast_outturn,
        explanation: cmd.explanation,
        progress_rag: cmd.progress_rag,
        rag_reason: cmd.rag_reason,
        made_on: cmd.made_on,
        made_by: actor.name.to_owned(),
        made_at,
        superseded: false,
        withdrawal: None,
    };
    idempotency::save_in(&mut db_tx, actor.idem, 201, &rec).await?;
    db_tx.commit().await?;
    tracing::info!(id, "forecast recorded");
    Ok(rec)
}

/// Forecasts, oldest first, each with its withdrawal, and marked `superseded` when a later
/// one (by `made_on`, then recording order) not withdrawn exists for its grant, year,
/// quarter and project.
pub async fn list_forecasts(
    store: &Store,
    year: Option<FinancialYear>,
    quarter: Option<u8>,
    project: Option<&str>,
) -> Result<Vec<ForecastRecord>, StoreError> {
    let sql = format!(
        "{FORECASTS}
         where ($1 is null or f.financial_year = $1) and ($2 is null or f.quarter = $2) and ($3 is null or f.project_code = $3)
         order by f.financial_year, f.quarter, f.grant_code, f.project_code, f.made_on, f.id"
    );
    let found = sqlx::query(&sql)
        .bind(year.map(|y| y.to_string()))
        .bind(quarter.map(i64::from))
        .bind(project)
        .fetch_all(store.pool())
        .await?;
    let mut out: Vec<ForecastRecord> = rows::read_all::<ForecastRow>(&found, "forecasts", &["id"])?
        .into_iter()
        .map(ForecastRow::record)
        .collect::<Result<_, _>>()?;
    // Ordered by key, then (made_on, id): walking back, a row is superseded once a later
    // row of its key stands (is not withdrawn).
    let key = |f: &ForecastRecord| (f.grant.clone(), f.financial_year, f.quarter, f.project.clone());
    let mut standing_later = None;
    for f in out.iter_mut().rev() {
        let k = key(f);
        f.superseded = standing_later.as_ref() == Some(&k);
        if f.withdrawal.is_none() {
            standing_later = Some(k);
        } else if standing_later.as_ref() != Some(&k) {
            standing_later = None;
        }
    }
    Ok(out)
}

/// Whether a record made at `at` (RFC 3339, as stored) is one `known` keeps: every record
/// for `Known::Now`, else those recorded at or before its instant. A stored time that does
/// not parse is `Corrupt`.
fn kept(known: &Known, table: &str, key: &str, column: &str, at: &str) -> Result<bool, StoreError> {
    let Some(instant) = known.instant() else { return Ok(true) };
    let when = chrono::DateTime::parse_from_rfc3339(at)
        .map_err(|e| corrupt(table, key, column, format!("{at:?} is not an RFC 3339 instant: {e}")))?;
    Ok(when <= instant)
}

/// A second withdrawal of one record is a `conflict` (the unique key, also under a race).
/// Writes the withdrawal of record `id` into `table` (whose first column names the record),
/// with its audit record, in the caller's db_tx. A second withdrawal of one record breaks the
/// table's unique key: 409 `conflict`, naming `what` it withdraws.
async fn record_withdrawal(
    db_tx: &mut super::DbTx,
    table: &audit::Stored,
    id: i64,
    reason: &str,
    actor: Actor<'_>,
    what: &str,
) -> Result<Withdrawal, StoreError> {
    let w = Withdrawal { reason: reason.to_owned(), withdrawn_by: actor.name.to_owned(), withdrawn_at: now_precise() };
    let sql = format!(
        "insert into {} ({}, reason, withdrawn_by, withdrawn_at) values ($1, $2, $3, $4) returning id",
        table.table, table.columns[0].0
    );
    let row = sqlx::query(&sql)
        .bind(id)
        .bind(&w.reason)
        .bind(&w.withdrawn_by)
        .bind(&w.withdrawn_at)
        .fetch_one(&mut **db_tx)
        .await
        .map_err(|e| {
            if super::is_unique_violation(&e) {
                StoreError::Conflict(format!("{what} {id} is already withdrawn"))
            } else {
                e.into()
            }
        })?;
    let withdrawal: i64 = row.try_get("id")?;
    table.record_in(db_tx, audit::RowKey::Id(withdrawal), (actor.name, AuditAction::Create, ""), None).await?;
    Ok(w)
}

/// Whether a record's withdrawal counts where `known` looks: one recorded after its instant
/// is not yet known there.
fn withdrawn(known: &Known, table: &str, id: i64, w: Option<&Withdrawal>) -> Result<bool, StoreError> {
    match w {
        None => Ok(false),
        Some(w) => kept(known, table, &format!("id {id}"), "withdrawn_at", &w.withdrawn_at),
    }
}

/// The forecast of each (grant, project) that a report of one year and quarter shows: a
/// forecast stands until superseded, so it is the latest made for that quarter or an
/// earlier one of the year (by quarter, then `made_on`, then recording order), made on or
/// before `made_by` (any when `None`), of those `known` keeps and does not know withdrawn.
pub async fn latest_forecasts(
    store: &Store,
    year: FinancialYear,
    quarter: u8,
    made_by: Option<NaiveDate>,
    known: &Known,
) -> Result<Forecasts, StoreError> {
    let mut out = Forecasts::new();
    let mut order: BTreeMap<(String, String), (u8, NaiveDate, i64)> = BTreeMap::new();
    for f in list_forecasts(store, Some(year), None, None).await? {
        if f.quarter > quarter
            || made_by.is_some_and(|d| f.made_on > d)
            || !kept(known, "forecasts", &format!("id {}", f.id), "made_at", &f.made_at)?
            || withdrawn(known, "forecast_withdrawals", f.id, f.withdrawal.as_ref())?
        {
            continue;
        }
        let key = (f.grant, f.project);
        let rank = (f.quarter, f.made_on, f.id);
        if order.get(&key).is_some_and(|r| *r > rank) {
            continue;
        }
        order.insert(key.clone(), rank);
        out.insert(
            key,
            Forecast {
                pence: f.forecast_outturn.pence(),
                explanation: f.explanation,
                progress_rag: f.progress_rag,
                rag_reason: f.rag_reason,
                made_on: f.made_on,
                quarter: f.quarter,
            },
        );
    }
    Ok(out)
}

/// One forecast with its withdrawal, read inside `db_tx`.
async fn forecast_in(db_tx: &mut super::DbTx, id: i64) -> Result<ForecastRecord, StoreError> {
    let sql = format!("{FORECASTS} where f.id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut **db_tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("forecast {id}")))?;
    rows::read::<ForecastRow>(&row, "forecasts", &["id"])?.record()
}

/// Withdraws a forecast recorded in error, with a reason (docs/design.md rule 10): it stays,
/// listed with its withdrawal, and from now on counts in no report; the one before it (or
/// the commitment position) shows again. Refused: an unknown forecast (404), one already
/// withdrawn (409 `conflict`), one of a closed year (409 `period_closed`). Its award is held
/// as `record_forecast` holds it, so a filing has it wholly before its instant or after.
#[tracing::instrument(skip(store, reason, actor))]
pub async fn withdraw_forecast(
    store: &Store,
    id: i64,
    reason: &str,
    actor: Actor<'_>,
) -> Result<ForecastRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let found = forecast_in(&mut db_tx, id).await?;
    lock_award_row(&mut db_tx, &found.grant, found.financial_year).await?;
    if found.withdrawal.is_some() {
        return Err(StoreError::Conflict(format!("forecast {id} is already withdrawn")));
    }
    if year_status_in(&mut db_tx, found.financial_year).await? == Some(YearStatus::Closed) {
        return Err(StoreError::PeriodClosed(found.financial_year.to_string()));
    }
    let w = record_withdrawal(&mut db_tx, &audit::FORECAST_WITHDRAWALS, id, reason, actor, "forecast").await?;
    let later = sqlx::query(
        "select 1 as found from forecasts f
         where f.grant_code = $1 and f.financial_year = $2 and f.quarter = $3 and f.project_code = $4
           and (f.made_on > $5 or (f.made_on = $5 and f.id > $6))
           and not exists (select 1 from forecast_withdrawals w where w.forecast_id = f.id) limit 1",
    )
    .bind(&found.grant)
    .bind(found.financial_year.to_string())
    .bind(i64::from(found.quarter))
    .bind(&found.project)
    .bind(found.made_on.to_string())
    .bind(id)
    .fetch_optional(&mut *db_tx)
    .await?;
    let rec = ForecastRecord { superseded: later.is_some(), withdrawal: Some(w), ..found };
    idempotency::save_in(&mut db_tx, actor.idem, 201, &rec).await?;
    db_tx.commit().await?;
    tracing::info!(id, "forecast withdrawn");
    Ok(rec)
}

#[derive(sqlx::FromRow)]
struct IndicatorRow {
    project_code: String,
    code: String,
    financial_year: String,
    name: String,
    unit: String,
    #[sqlx(try_from = "String")]
    baseline: Quantity,
    #[sqlx(try_from = "String")]
    target: Quantity,
    #[sqlx(try_from = "String")]
    q1_target: Quantity,
    #[sqlx(try_from = "String")]
    q2_target: Quantity,
    #[sqlx(try_from = "String")]
    q3_target: Quantity,
    #[sqlx(try_from = "String")]
    q4_target: Quantity,
    created_by: String,
    created_at: String,
}

#[derive(sqlx::FromRow)]
struct ReturnRow {
    id: i64,
    project_code: String,
    indicator_code: String,
    financial_year: String,
    quarter: i64,
    #[sqlx(try_from = "String")]
    actual: Quantity,
    evidence_ref: String,
    note: String,
    recorded_by: String,
    recorded_at: String,
    withdrawal_reason: Option<String>,
    withdrawn_by: Option<String>,
    withdrawn_at: Option<String>,
}

/// Indicator returns with their withdrawals; a `where` on `r` follows.
const RETURNS: &str = "select r.*, w.reason as withdrawal_reason, w.withdrawn_by, w.withdrawn_at
     from indicator_returns r left join indicator_return_withdrawals w on w.indicator_return_id = r.id";

impl ReturnRow {
    fn record(self) -> Result<IndicatorReturnRecord, StoreError> {
        let key = format!("id {}", self.id);
        Ok(IndicatorReturnRecord {
            id: self.id,
            project: self.project_code,
            indicator: self.indicator_code,
            financial_year: year_of("indicator_returns", &key, &self.financial_year)?,
            quarter: quarter_of("indicator_returns", &key, self.quarter)?,
            actual: self.actual,
            evidence_ref: self.evidence_ref,
            note: self.note,
            recorded_by: self.recorded_by,
            recorded_at: self.recorded_at,
            superseded: false,
            withdrawal: withdrawal_of(self.withdrawal_reason, self.withdrawn_by, self.withdrawn_at),
        })
    }
}

/// Sets up a project's indicator for a year. A second with the same code in the same year
/// is a `conflict`; the change is audited.
#[tracing::instrument(skip(store, cmd, actor), fields(project = %cmd.project, code = %cmd.code))]
pub async fn create_indicator(
    store: &Store,
    cmd: IndicatorCmd,
    actor: Actor<'_>,
) -> Result<IndicatorRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    if get_project_in(&mut db_tx, &cmd.project).await?.is_none() {
        return Err(StoreError::NotFound(format!("project {}", cmd.project)));
    }
    if year_status_in(&mut db_tx, cmd.year).await?.is_none() {
        return Err(StoreError::invalid(
            "financial_year",
            format!("{} is not a financial year of this ledger", cmd.year),
        ));
    }
    let created_at = now_precise();
    let [q1, q2, q3, q4] = cmd.quarterly_targets.map(|q| q.to_string());
    sqlx::query(
        "insert into indicators (project_code, code, financial_year, name, unit, baseline, target,
                                 q1_target, q2_target, q3_target, q4_target, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&cmd.project)
    .bind(&cmd.code)
    .bind(cmd.year.to_string())
    .bind(&cmd.name)
    .bind(&cmd.unit)
    .bind(cmd.baseline.to_string())
    .bind(cmd.target.to_string())
    .bind(q1)
    .bind(q2)
    .bind(q3)
    .bind(q4)
    .bind(actor.name)
    .bind(&created_at)
    .execute(&mut *db_tx)
    .await
    .map_err(|e| conflict_if_exists(e, format!("indicator {} of project {} in {}", cmd.code, cmd.project, cmd.year)))?;
    let rec = IndicatorRecord {
        project: cmd.project,
        code: cmd.code,
        name: cmd.name,
        unit: cmd.unit,
        financial_year: cmd.year,
        baseline: cmd.baseline,
        target: cmd.target,
        quarterly_targets: cmd.quarterly_targets,
        created_by: actor.name.to_owned(),
        created_at,
        actuals: [None; 4],
        returns: Vec::new(),
    };
    let key = format!("{}/{}/{}", rec.project, rec.code, rec.financial_year);
    audit::record_in(&mut db_tx, Change::created(actor.name, AuditEntity::Indicator, &key, &rec)).await?;
    idempotency::commit_answer(db_tx, actor.idem, 201, rec).await
}

/// Indicators with their returns: one project's (a project that does not exist is
/// `not_found`) or every project's, optionally of one year; ordered by project, year, code.
/// Indicators and returns recorded after `known`'s instant are left out.
pub async fn indicators(
    store: &Store,
    project: Option<&str>,
    year: Option<FinancialYear>,
    known: &Known,
) -> Result<Vec<IndicatorRecord>, StoreError> {
    if let Some(code) = project {
        super::reference::get_project(store, code).await?;
    }
    let year_text = year.map(|y| y.to_string());
    let found = sqlx::query(
        "select * from indicators where ($1 is null or project_code = $1) and ($2 is null or financial_year = $2)
         order by project_code, financial_year, code",
    )
    .bind(project)
    .bind(year_text.as_deref())
    .fetch_all(store.pool())
    .await?;
    let defined: Vec<IndicatorRow> = rows::read_all(&found, "indicators", &["project_code", "code", "financial_year"])?;
    let sql = format!(
        "{RETURNS} where ($1 is null or r.project_code = $1) and ($2 is null or r.financial_year = $2)
         order by r.project_code, r.financial_year, r.indicator_code, r.quarter, r.id"
    );
    let found = sqlx::query(&sql).bind(project).bind(year_text.as_deref()).fetch_all(store.pool()).await?;
    let mut returns: BTreeMap<(String, String, String), Vec<IndicatorReturnRecord>> = BTreeMap::new();
    for r in rows::read_all::<ReturnRow>(&found, "indicator_returns", &["id"])? {
        let mut r = r.record()?;
        if !kept(known, "indicator_returns", &format!("id {}", r.id), "recorded_at", &r.recorded_at)? {
            continue;
        }
        // A withdrawal made after the instant `known` looks at is not known there.
        if !withdrawn(known, "indicator_return_withdrawals", r.id, r.withdrawal.as_ref())? {
            r.withdrawal = None;
        }
        returns.entry((r.project.clone(), r.financial_year.to_string(), r.indicator.clone())).or_default().push(r);
    }
    let mut out = Vec::new();
    for d in defined {
        let key = format!("project_code {}, code {}", d.project_code, d.code);
        if !kept(known, "indicators", &key, "created_at", &d.created_at)? {
            continue;
        }
        let year = year_of("indicators", &key, &d.financial_year)?;
        let mut mine =
            returns.remove(&(d.project_code.clone(), d.financial_year.clone(), d.code.clone())).unwrap_or_default();
        // Ordered by quarter, then id: walking back, a return is superseded once a later
        // one of its quarter stands (is not withdrawn); the last standing one counts.
        let mut actuals = [None; 4];
        let mut standing_later: Option<u8> = None;
        for r in mine.iter_mut().rev() {
            r.superseded = standing_later == Some(r.quarter);
            if r.withdrawal.is_none() {
                if standing_later != Some(r.quarter) {
                    actuals[usize::from(r.quarter) - 1] = Some(r.actual);
                }
                standing_later = Some(r.quarter);
            } else if standing_later != Some(r.quarter) {
                standing_later = None;
            }
        }
        // Oldest first, as recorded.
        mine.sort_by_key(|r| r.id);
        out.push(IndicatorRecord {
            project: d.project_code,
            code: d.code,
            name: d.name,
            unit: d.unit,
            financial_year: year,
            baseline: d.baseline,
            target: d.target,
            quarterly_targets: [d.q1_target, d.q2_target, d.q3_target, d.q4_target],
            created_by: d.created_by,
            created_at: d.created_at,
            actuals,
            returns: mine,
        });
    }
    Ok(out)
}

/// Records one quarter's actual of an indicator. A later return for the same quarter
/// supersedes this one; both are kept.
#[tracing::instrument(skip(store, cmd, actor), fields(project = %cmd.project, indicator = %cmd.indicator))]
pub async fn record_indicator_return(
    store: &Store,
    cmd: IndicatorReturnCmd,
    actor: Actor<'_>,
) -> Result<IndicatorReturnRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    // Every award of the year held, as a posting holds its own: a monitoring return filed
    // meanwhile (which holds them shared while it takes its instant) has this return wholly
    // before its instant or after.
    hold_year_awards_in(&mut db_tx, cmd.year, RowLock::Update).await?;
    if get_project_in(&mut db_tx, &cmd.project).await?.is_none() {
        return Err(StoreError::invalid("project", format!("no project {}", cmd.project)));
    }
    let defined =
        sqlx::query("select 1 as found from indicators where project_code = $1 and code = $2 and financial_year = $3")
            .bind(&cmd.project)
            .bind(&cmd.indicator)
            .bind(cmd.year.to_string())
            .fetch_optional(&mut *db_tx)
            .await?;
    if defined.is_none() {
        return Err(StoreError::invalid(
            "indicator",
            format!("project {} has no indicator {} in {}", cmd.project, cmd.indicator, cmd.year),
        ));
    }
    let recorded_at = now_precise();
    let row = sqlx::query(
        "insert into indicator_returns (project_code, indicator_code, financial_year, quarter, actual, evidence_ref,
                                        note, recorded_by, recorded_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
    )
    .bind(&cmd.project)
    .bind(&cmd.indicator)
    .bind(cmd.year.to_string())
    .bind(i64::from(cmd.quarter))
    .bind(cmd.actual.to_string())
    .bind(&cmd.evidence_ref)
    .bind(&cmd.note)
    .bind(actor.name)
    .bind(&recorded_at)
    .fetch_one(&mut *db_tx)
    .await?;
    #[derive(sqlx::FromRow)]
    struct Id {
        id: i64,
    }
    let Id { id } = rows::read(&row, "indicator_returns", &[])?;
    audit::INDICATOR_RETURNS
        .record_in(&mut db_tx, audit::RowKey::Id(id), (actor.name, AuditAction::Create, ""), None)
        .await?;
    let rec = IndicatorReturnRecord {
        id,
        project: cmd.project,
        indicator: cmd.indicator,
        financial_year: cmd.year,
        quarter: cmd.quarter,
        actual: cmd.actual,
        evidence_ref: cmd.evidence_ref,
        note: cmd.note,
        recorded_by: actor.name.to_owned(),
        recorded_at,
        superseded: false,
        withdrawal: None,
    };
    idempotency::commit_answer(db_tx, actor.idem, 201, rec).await
}

/// Withdraws an indicator return recorded in error, with a reason (docs/design.md rule 10): it
/// stays, listed with its withdrawal, and from now on counts in no report; the return before
/// it for the quarter (or none) counts again. Refused: an unknown return (404), one already
/// withdrawn (409 `conflict`). Its year's awards are held as `record_indicator_return` holds them.
#[tracing::instrument(skip(store, reason, actor))]
pub async fn withdraw_indicator_return(
    store: &Store,
    id: i64,
    reason: &str,
    actor: Actor<'_>,
) -> Result<IndicatorReturnRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let year: Option<String> = sqlx::query("select financial_year from indicator_returns where id = $1")
        .bind(id)
        .fetch_optional(&mut *db_tx)
        .await?
        .map(|r| r.try_get("financial_year"))
        .transpose()?;
    let year = year.ok_or_else(|| StoreError::NotFound(format!("indicator return {id}")))?;
    hold_year_awards_in(&mut db_tx, year_of("indicator_returns", &format!("id {id}"), &year)?, RowLock::Update).await?;
    record_withdrawal(&mut db_tx, &audit::INDICATOR_RETURN_WITHDRAWALS, id, reason, actor, "indicator return").await?;
    let sql = format!(
        "{RETURNS} where r.id = $1 or (r.id > $1 and exists (select 1 from indicator_returns o where o.id = $1
            and o.project_code = r.project_code and o.indicator_code = r.indicator_code
            and o.financial_year = r.financial_year and o.quarter = r.quarter)) order by r.id"
    );
    let found = sqlx::query(&sql).bind(id).fetch_all(&mut *db_tx).await?;
    let mut found: Vec<IndicatorReturnRecord> = rows::read_all::<ReturnRow>(&found, "indicator_returns", &["id"])?
        .into_iter()
        .map(ReturnRow::record)
        .collect::<Result<_, _>>()?;
    let superseded = found.iter().skip(1).any(|later| later.withdrawal.is_none());
    let mut rec = found.remove(0);
    rec.superseded = superseded;
    idempotency::save_in(&mut db_tx, actor.idem, 201, &rec).await?;
    db_tx.commit().await?;
    tracing::info!(id, "indicator return withdrawn");
    Ok(rec)
}
