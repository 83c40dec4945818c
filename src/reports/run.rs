//! Each report end to end: read through `storage::reports`, then build. This is the one
//! part of `reports` that awaits the database; it writes no SQL. The HTTP routes, the pages
//! and the CLI all call these, so they cannot disagree.

use chrono::NaiveDate;

use super::csv_out::Cell;
use super::multi_year::MultiYearReport;
use super::quarterly::QuarterlyReport;
use super::{VarianceReport, commissioner, multi_year, quarterly, variance};
use crate::domain::rag::RagRule;
use crate::domain::{AccountKind, FinancialYear, Money};
use crate::model::known::Known;
use crate::model::reports::{AccountFigure, Labels, Plans};
use crate::storage::reports as sql;
use crate::storage::{Store, StoreError};

/// Refuses a year the ledger does not know, naming the field.
pub async fn known_year(store: &Store, year: FinancialYear) -> Result<(), StoreError> {
    if sql::year_exists(store, year).await? {
        Ok(())
    } else {
        Err(StoreError::invalid("financial_year", format!("{year} is not a financial year of this ledger")))
    }
}

/// Refuses a grant filter naming no grant of this ledger: an unknown or misspelt code must
/// not answer an all-zero report rated green.
async fn known_grant(store: &Store, grant: Option<&str>) -> Result<(), StoreError> {
    match grant {
        Some(code) if !crate::storage::reference::grant_exists(store, code).await? => {
            let hint = if code.chars().any(|c| c.is_ascii_lowercase()) { " (grant codes are upper case)" } else { "" };
            Err(StoreError::NotFound(format!("grant {code}{hint}")))
        }
        _ => Ok(()),
    }
}

/// The variance report, current or as at the end of `as_at`, counting the entries `known`
/// keeps. `today` sets the profile of a current report.
pub async fn variance(
    store: &Store,
    year: FinancialYear,
    as_at: Option<NaiveDate>,
    known: &Known,
    grant: Option<&str>,
    today: NaiveDate,
) -> Result<VarianceReport, StoreError> {
    variance_in_quarter(store, year, as_at, known, grant, None, today).await
}

/// The variance report with the officer forecasts of `quarter` (default: the quarter that
/// holds `as_at`, or today, clamped to the year): for each project, the latest forecast of
/// that quarter made on or before `as_at` (any, for a current report).
pub async fn variance_in_quarter(
    store: &Store,
    year: FinancialYear,
    as_at: Option<NaiveDate>,
    known: &Known,
    grant: Option<&str>,
    quarter: Option<u8>,
    today: NaiveDate,
) -> Result<VarianceReport, StoreError> {
    known_year(store, year).await?;
    known_grant(store, grant).await?;
    let shared = Shared::read(store, year, grant, known).await?;
    variance_from(store, &shared, year, as_at, known, grant, quarter, today).await
}

/// What every variance report of a year (and grant, counting what `known` keeps) reads the
/// same whatever its date: read once when a page shows several reports of the year.
struct Shared {
    labels: Labels,
    rule: RagRule,
    plans: Plans,
    /// The year before's current figures: what it carried forward into this year.
    prior: Vec<AccountFigure>,
}

impl Shared {
    async fn read(
        store: &Store,
        year: FinancialYear,
        grant: Option<&str>,
        known: &Known,
    ) -> Result<Shared, StoreError> {
        let (labels, rule, plans, prior) = tokio::try_join!(
            sql::labels(store),
            sql::rag_rule(store),
            sql::plans(store, year),
            sql::account_figures(store, year.prev(), grant, None, known),
        )?;
        Ok(Shared { labels, rule, plans, prior })
    }
}

/// `variance_in_quarter` on what `shared` holds, once the year and grant are known.
#[allow(clippy::too_many_arguments)]
async fn variance_from(
    store: &Store,
    shared: &Shared,
    year: FinancialYear,
    as_at: Option<NaiveDate>,
    known: &Known,
    grant: Option<&str>,
    quarter: Option<u8>,
    today: NaiveDate,
) -> Result<VarianceReport, StoreError> {
    let report_date = as_at.unwrap_or(today);
    let quarter = quarter.unwrap_or_else(|| variance::quarter_clamped(year, report_date));
    let (accounts, forecasts) = tokio::try_join!(
        sql::account_figures(store, year, grant, as_at, known),
        crate::storage::monitoring::latest_forecasts(store, year, quarter, as_at, known),
    )?;
    let measures = variance::Measures { rule: &shared.rule, plans: &shared.plans, quarter, forecasts: &forecasts };
    let mut report = variance::build(year, as_at, report_date, &accounts, &shared.labels, measures);
    report.as_known_at = known.label();
    // What the year before carried forward arrived in this year's award (its carry-forward
    // entry is dated this year's first day, so it is in every as-at report of this year).
    let carried_in = |g: &str| -> i64 {
        shared
            .prior
            .iter()
            .filter(|a| a.grant == g && a.project.is_none() && a.kind == AccountKind::Carried)
            .map(|a| -a.pence)
            .sum()
    };
    for g in &mut report.grants {
        g.brought_forward = Money::from_pence(carried_in(&g.grant));
    }
    report.totals.brought_forward = report
        .grants
        .iter()
        .map(|g| g.brought_forward)
        .fold(Money::ZERO, |a, b| a.checked_add(b).expect("report sums stay within i64"));
    Ok(report)
}

/// The dashboard's reports of a year, as `variance` and `quarterly` answer them alone, with
/// what they share read once: the variance report (current, or as at `as_at`), the same
/// report as at `previous` (the last quarter end, for "since last quarter"), and the spend
/// per quarter as at `as_at`.
pub struct Dashboard {
    pub report: VarianceReport,
    pub previous: Option<VarianceReport>,
    pub quarters: QuarterlyReport,
    pub labels: Labels,
}

pub async fn dashboard(
    store: &Store,
    year: FinancialYear,
    as_at: Option<NaiveDate>,
    previous: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Dashboard, StoreError> {
    let now = &Known::Now;
    known_year(store, year).await?;
    let shared = Shared::read(store, year, None, now).await?;
    let (report, previous, spend) = tokio::try_join!(
        variance_from(store, &shared, year, as_at, now, None, None, today),
        async {
            match previous {
                Some(end) => variance_from(store, &shared, year, Some(end), now, None, None, today).await.map(Some),
                None => Ok(None),
            }
        },
        sql::spend_by_quarter(store, year, None, as_at, now),
    )?;
    let quarters = quarterly::build(&year.to_string(), as_at, &spend, &shared.labels);
    Ok(Dashboard { report, previous, quarters, labels: shared.labels })
}

/// Spend per quarter, of entries dated up to `as_at` (default: all) that `known` keeps.
pub async fn quarterly(
    store: &Store,
    year: FinancialYear,
    grant: Option<&str>,
    as_at: Option<NaiveDate>,
    known: &Known,
) -> Result<QuarterlyReport, StoreError> {
    known_year(store, year).await?;
    known_grant(store, grant).await?;
    let spend = sql::spend_by_quarter(store, year, grant, as_at, known).await?;
    let labels = sql::labels(store).await?;
    Ok(quarterly::build(&year.to_string(), as_at, &spend, &labels))
}

pub async fn multi_year(store: &Store, grant: &str, known: &Known) -> Result<MultiYearReport, StoreError> {
    let years = sql::award_years(store, grant).await?;
    if years.is_empty() {
        return Err(StoreError::NotFound(format!("awards of grant {grant}")));
    }
    let mut per_year = Vec::new();
    for y in years {
        per_year.push((y.to_string(), sql::account_figures(store, y, Some(grant), None, known).await?));
    }
    Ok(multi_year::build(grant, &per_year))
}

/// The Commissioner's return rows for one quarter, as CSV cells under `commissioner::CSV_HEADER`.
pub async fn commissioner_return(
    store: &Store,
    year: FinancialYear,
    quarter: u8,
    known: &Known,
) -> Result<Vec<Vec<Cell>>, StoreError> {
    known_year(store, year).await?;
    let (Some(first), Some(last)) = (year.quarter_start(quarter), year.quarter_end(quarter)) else {
        return Err(StoreError::invalid("quarter", "must be 1, 2, 3 or 4"));
    };
    let at_end = variance(store, year, Some(last), known, None, last).await?;
    let before = match first.pred_opt() {
        Some(day) if quarter > 1 => sql::spent_to(store, year, day, known).await?,
        _ => Default::default(),
    };
    let labels = sql::labels(store).await?;
    Ok(commissioner::rows(year, quarter, &at_end, &before, &labels))
}

/// The monitoring return for one quarter: the variance report as at the quarter's end with
/// that quarter's officer forecasts, and each project's indicators of the year; entries,
/// forecasts and returns as `known` keeps them.
pub async fn monitoring_return(
    store: &Store,
    year: FinancialYear,
    quarter: u8,
    known: &Known,
) -> Result<super::monitoring::MonitoringReturn, StoreError> {
    known_year(store, year).await?;
    let Some(last) = year.quarter_end(quarter) else {
        return Err(StoreError::invalid("quarter", "must be 1, 2, 3 or 4"));
    };
    let report = variance_in_quarter(store, year, Some(last), known, None, Some(quarter), last).await?;
    let indicators = crate::storage::monitoring::indicators(store, None, Some(year), known).await?;
    let labels = sql::labels(store).await?;
    Ok(super::monitoring::MonitoringReturn {
        financial_year: year,
        quarter,
        lines: super::monitoring::lines(year, quarter, &report, &indicators, &labels),
        variance: report,
    })
}
