//! The quarterly monitoring cycle: officers' forecasts, indicators and indicator returns.
//! Forecasts and returns are append-only (triggers, as `entries`): a later one for the same
//! quarter supersedes the earlier, and both are kept and listed.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::audit::{self, Change};
use super::lookups::{get_grant_in, year_status_in};
use super::reference::{conflict_if_exists, get_project_in};
use super::{Store, StoreError, idempotency, now_precise, rows};
use crate::domain::{FinancialYear, Money, ProgressRag, Quantity, YearStatus, parse_date};
use crate::model::Actor;
use crate::model::known::Known;
use crate::model::monitoring::{
    Forecast, ForecastCmd, ForecastRecord, Forecasts, IndicatorCmd, IndicatorRecord, IndicatorReturnCmd,
    IndicatorReturnRecord,
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
}

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
    let award = sqlx::query("select 1 as found from awards where grant_code = $1 and financial_year = $2")
        .bind(&cmd.grant)
        .bind(cmd.year.to_string())
        .fetch_optional(&mut *db_tx)
        .await?;
    if award.is_none() {
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
    audit::FORECASTS.record_in(&mut db_tx, audit::RowKey::Id(id), (actor.name, "create", ""), None).await?;
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
    };
    idempotency::save_in(&mut db_tx, actor.idem, 201, &rec).await?;
    db_tx.commit().await?;
    tracing::info!(id, "forecast recorded");
    Ok(rec)
}

/// Forecasts, oldest first, each marked `superseded` when a later one (by `made_on`, then
/// recording order) exists for its grant, year, quarter and project.
pub async fn list_forecasts(
    store: &Store,
    year: Option<FinancialYear>,
    quarter: Option<u8>,
    project: Option<&str>,
) -> Result<Vec<ForecastRecord>, StoreError> {
    let found = sqlx::query(
        "select * from forecasts
         where ($1 is null or financial_year = $1) and ($2 is null or quarter = $2) and ($3 is null or project_code = $3)
         order by financial_year, quarter, grant_code, project_code, made_on, id",
    )
    .bind(year.map(|y| y.to_string()))
    .bind(quarter.map(i64::from))
    .bind(project)
    .fetch_all(store.pool())
    .await?;
    let mut out: Vec<ForecastRecord> = rows::read_all::<ForecastRow>(&found, "forecasts", &["id"])?
        .into_iter()
        .map(ForecastRow::record)
        .collect::<Result<_, _>>()?;
    // Ordered by key, then (made_on, id): each row but the last of its key is superseded.
    for i in 0..out.len().saturating_sub(1) {
        let (a, b) = (&out[i], &out[i + 1]);
        if (&a.grant, a.financial_year, a.quarter, &a.project) == (&b.grant, b.financial_year, b.quarter, &b.project) {
            out[i].superseded = true;
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

/// The forecast of each (grant, project) for one year and quarter that a report shows: the
/// latest made on or before `made_by` (every one when `None`), of those `known` keeps.
pub async fn latest_forecasts(
    store: &Store,
    year: FinancialYear,
    quarter: u8,
    made_by: Option<NaiveDate>,
    known: &Known,
) -> Result<Forecasts, StoreError> {
    let mut all = Vec::new();
    for f in list_forecasts(store, Some(year), Some(quarter), None).await? {
        if kept(known, "forecasts", &format!("id {}", f.id), "made_at", &f.made_at)? {
            all.push(f);
        }
    }
    let mut out = Forecasts::new();
    for f in all.into_iter().filter(|f| made_by.is_none_or(|d| f.made_on <= d)) {
        // Oldest first, so the last one of each key stays.
        out.insert(
            (f.grant, f.project),
            Forecast {
                pence: f.forecast_outturn.pence(),
                explanation: f.explanation,
                progress_rag: f.progress_rag,
                rag_reason: f.rag_reason,
                made_on: f.made_on,
            },
        );
    }
    Ok(out)
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
}

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
    audit::record_in(
        &mut db_tx,
        Change {
            actor: actor.name,
            action: "create",
            entity: "indicator",
            key: &key,
            before: None,
            after: audit::json(&rec),
            reason: "",
        },
    )
    .await?;
    idempotency::save_in(&mut db_tx, actor.idem, 201, &rec).await?;
    db_tx.commit().await?;
    Ok(rec)
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
    let found = sqlx::query(
        "select * from indicator_returns where ($1 is null or project_code = $1) and ($2 is null or financial_year = $2)
         order by project_code, financial_year, indicator_code, quarter, id",
    )
    .bind(project)
    .bind(year_text.as_deref())
    .fetch_all(store.pool())
    .await?;
    let mut returns: BTreeMap<(String, String, String), Vec<IndicatorReturnRecord>> = BTreeMap::new();
    for r in rows::read_all::<ReturnRow>(&found, "indicator_returns", &["id"])? {
        let r = r.record()?;
        if !kept(known, "indicator_returns", &format!("id {}", r.id), "recorded_at", &r.recorded_at)? {
            continue;
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
        // Ordered by quarter, then id: each return but the last of its quarter is superseded.
        let mut actuals = [None; 4];
        for i in 0..mine.len() {
            let later_same_quarter = mine.get(i + 1).is_some_and(|n| n.quarter == mine[i].quarter);
            mine[i].superseded = later_same_quarter;
            if !later_same_quarter {
                actuals[usize::from(mine[i].quarter) - 1] = Some(mine[i].actual);
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
    audit::INDICATOR_RETURNS.record_in(&mut db_tx, audit::RowKey::Id(id), (actor.name, "create", ""), None).await?;
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
    };
    idempotency::save_in(&mut db_tx, actor.idem, 201, &rec).await?;
    db_tx.commit().await?;
    Ok(rec)
}
