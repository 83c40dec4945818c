//! The SQL of the reports. Current figures read `balances`, one row per account; as-at
//! figures sum each account's postings on one side of a date through the
//! (account, entry_date, amount_pence) index; quarterly spend sums `spent:` postings by
//! quarter date ranges.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::Row;

use super::idempotency::IdemKey;
use super::known::Cut;
use super::{Store, StoreError, rows};
use crate::domain::rag::{QuarterPlan, RagRule};
use crate::domain::year::{month_bounds, quarter_bounds};
use crate::domain::{AccountKind, FinancialYear};
use crate::domain::{AuditAction, AuditEntity};
use crate::model::known::Known;
use crate::model::reports::{AccountFigure, Labels, Plans, ProjectInfo, QuarterSpend, SpendProfile};

/// Settings keys of the RAG thresholds, in percentage points.
pub const RAG_AMBER_KEY: &str = "rag_amber_pct";
pub const RAG_RED_KEY: &str = "rag_red_pct";

fn kind_of(text: &str) -> Option<AccountKind> {
    AccountKind::ALL.into_iter().find(|k| k.as_str() == text)
}

/// The balances of every account of a year (optionally one grant): current, or as at the
/// end of `as_at`. An account with no posting by `as_at` is left out.
#[tracing::instrument(skip(store))]
pub async fn account_figures(
    store: &Store,
    year: FinancialYear,
    grant: Option<&str>,
    as_at: Option<NaiveDate>,
    known: &Known,
) -> Result<Vec<AccountFigure>, StoreError> {
    if *known != Known::Now {
        return known_figures(store, year, grant, as_at, known).await;
    }
    let rows = match as_at {
        None => {
            sqlx::query(
                "select kind, grant_code, project_code, balance_pence from balances
                 where financial_year = $1 and ($2 is null or grant_code = $2)",
            )
            .bind(year.to_string())
            .bind(grant)
            .fetch_all(store.pool())
            .await?
        }
        Some(date) if on_or_after_every_entry(store, date).await? => {
            // Nothing is dated after `date` (the dashboard's "as at today", most often): each
            // account's figure is its current balance, one read, and `exists` still leaves
            // out an account with no posting (an account has a quarter's row from its first
            // posting on: the few rows of `quarter_balances` are read, not the postings).
            sqlx::query(
                "select b.kind, b.grant_code, b.project_code, b.balance_pence from balances b
                 where b.financial_year = $1 and ($2 is null or b.grant_code = $2)
                   and exists (select 1 from quarter_balances q where q.account = b.account)",
            )
            .bind(year.to_string())
            .bind(grant)
            .fetch_all(store.pool())
            .await?
        }
        Some(date) => {
            // An account's balance at the end of `date` is its whole quarters before the
            // date's own (`quarter_balances`, a few rows an account), the whole months of
            // that quarter before the date's own (`month_balances`, two rows at most), and
            // that month's postings up to the date; or equally the months up to the end of
            // the date's month less the postings after the date in it: whichever range holds
            // fewer entries (as at today, that is the few or none dated after it), an
            // index-only scan of postings_account_date_amount within half a month at most. A
            // quarter's last day reads no postings. This holds wherever an account's postings
            // lie (a budget account's in its year, rule 5; a cash account's possibly before or
            // after it, rule 9). `exists` leaves out accounts untouched by then.
            let (start, end) = quarter_bounds(date);
            let (month_start, month_end) = month_bounds(date);
            // On a quarter's last day late in the year, the balance less the quarters after
            // it reads fewer rows (none at the year's end) than the quarters up to it.
            let late = date >= year.start() + (year.end() - year.start()) / 2;
            let whole_quarters_before = "(select cast(coalesce(sum(q.pence), 0) as bigint) from quarter_balances q
                                          where q.account = b.account and q.quarter_start < $4)";
            let balance = if date == end && late {
                "b.balance_pence - (select cast(coalesce(sum(q.pence), 0) as bigint) from quarter_balances q
                                    where q.account = b.account and q.quarter_start > $4)"
                    .to_owned()
            } else if date == end {
                "(select cast(coalesce(sum(q.pence), 0) as bigint) from quarter_balances q
                   where q.account = b.account and q.quarter_start <= $4)"
                    .to_owned()
            } else if !fewer_after(store, year, date).await? {
                format!(
                    "{whole_quarters_before}
                     + (select cast(coalesce(sum(m.pence), 0) as bigint) from month_balances m
                        where m.account = b.account and m.month_start >= $4 and m.month_start < $5)
                     + (select cast(coalesce(sum(p.amount_pence), 0) as bigint) from postings p
                        where p.account = b.account and p.entry_date >= $5 and p.entry_date <= $3)"
                )
            } else {
                format!(
                    "{whole_quarters_before}
                     + (select cast(coalesce(sum(m.pence), 0) as bigint) from month_balances m
                        where m.account = b.account and m.month_start >= $4 and m.month_start <= $5)
                     - (select cast(coalesce(sum(p.amount_pence), 0) as bigint) from postings p
                        where p.account = b.account and p.entry_date > $3 and p.entry_date <= $6)"
                )
            };
            // Posted to by the end of a quarter is a row of that quarter or an earlier one.
            let touched = if date == end {
                "exists (select 1 from quarter_balances q where q.account = b.account and q.quarter_start <= $4)"
            } else {
                "exists (select 1 from postings p where p.account = b.account and p.entry_date <= $3)"
            };
            let sql = format!(
                "select b.kind, b.grant_code, b.project_code, cast({balance} as bigint) as balance_pence
                 from balances b
                 where b.financial_year = $1 and ($2 is null or b.grant_code = $2) and {touched}"
            );
            let query =
                sqlx::query(&sql).bind(year.to_string()).bind(grant).bind(date.to_string()).bind(start.to_string());
            // Only the forms inside a quarter name the date's month, and only the last its end.
            let query = if sql.contains("$5") { query.bind(month_start.to_string()) } else { query };
            let query = if sql.contains("$6") { query.bind(month_end.to_string()) } else { query };
            query.fetch_all(store.pool()).await?
        }
    };
    rows.iter().map(figure_from).collect()
}

/// True when fewer of `year`'s entries are dated after `date` up to its month's last day
/// than from the month's first day up to `date`: then the postings after the date are the
/// shorter range to read. Counted from `entry_day_totals`, a row a day, grant and kind.
async fn fewer_after(store: &Store, year: FinancialYear, date: NaiveDate) -> Result<bool, StoreError> {
    let (start, end) = month_bounds(date);
    let row = sqlx::query(
        "select cast(coalesce(sum(case when entry_date <= $3 then entries else 0 end), 0) as bigint) as up_to,
                cast(coalesce(sum(case when entry_date > $3 then entries else 0 end), 0) as bigint) as after
         from entry_day_totals
         where financial_year = $1 and entry_date >= $2 and entry_date <= $4",
    )
    .bind(year.to_string())
    .bind(start.to_string())
    .bind(date.to_string())
    .bind(end.to_string())
    .fetch_one(store.pool())
    .await?;
    let (up_to, after): (i64, i64) = (row.try_get("up_to")?, row.try_get("after")?);
    Ok(after < up_to)
}

/// True when no entry is dated after `date`, read from the newest entry date
/// (entries_by_date): a posting carries its entry's date, so every balance is then as at
/// `date`.
async fn on_or_after_every_entry(store: &Store, date: NaiveDate) -> Result<bool, StoreError> {
    let newest: Option<String> = sqlx::query("select max(entry_date) as newest from entries")
        .fetch_one(store.pool())
        .await?
        .try_get("newest")?;
    Ok(newest.is_none_or(|d| d.as_str() <= date.to_string().as_str()))
}

/// The figures of `account_figures` counting only the entries `known` keeps: each account's
/// postings summed through their entries. Slower than reading `balances`, and only asked for
/// when a report is regenerated as the ledger stood at a moment or a filed position.
async fn known_figures(
    store: &Store,
    year: FinancialYear,
    grant: Option<&str>,
    as_at: Option<NaiveDate>,
    known: &Known,
) -> Result<Vec<AccountFigure>, StoreError> {
    let cut = Cut::of(known, "e", 4);
    let sql = format!(
        "select b.kind, b.grant_code, b.project_code, cast(sum(p.amount_pence) as bigint) as balance_pence
         from balances b
         join postings p on p.account = b.account
         join entries e on e.id = p.entry_id
         where b.financial_year = $1 and ($2 is null or b.grant_code = $2)
           and ($3 is null or p.entry_date <= $3) and {}
         group by b.account, b.kind, b.grant_code, b.project_code",
        cut.sql
    );
    let query = sqlx::query(&sql).bind(year.to_string()).bind(grant).bind(as_at.map(|d| d.to_string()));
    let rows = cut.bind(query).fetch_all(store.pool()).await?;
    rows.iter().map(figure_from).collect()
}

fn figure_from(r: &sqlx::any::AnyRow) -> Result<AccountFigure, StoreError> {
    let at = ("balances", &["grant_code", "project_code"][..]);
    Ok(AccountFigure {
        kind: rows::parsed(r, at, "kind", |t| kind_of(t).ok_or("is not an account kind"))?,
        grant: r.try_get("grant_code")?,
        project: r.try_get("project_code")?,
        pence: r.try_get("balance_pence")?,
    })
}

/// Net postings on `spent:` accounts of a year per (grant, project, quarter), up to the end
/// of `as_at` when given (the year's end otherwise).
#[tracing::instrument(skip(store))]
pub async fn spend_by_quarter(
    store: &Store,
    year: FinancialYear,
    grant: Option<&str>,
    as_at: Option<NaiveDate>,
    known: &Known,
) -> Result<Vec<QuarterSpend>, StoreError> {
    let last = as_at.map_or(year.end(), |d| d.min(year.end()));
    if last < year.start() {
        return Ok(Vec::new());
    }
    if *known != Known::Now {
        return spend_scanned(store, year, grant, year.start(), last, known).await;
    }
    // Whole quarters from `quarter_balances`; the part of `last`'s quarter up to it, unless
    // `last` ends its quarter, from the postings.
    let (start, end) = quarter_bounds(last);
    // A spent account is one (grant, project) of the year, with a `quarter_balances` row per
    // quarter it has postings in: one row an account, each whole quarter's row found by its
    // key (null without postings, or outside the whole quarters), so the database hands over
    // a quarter of the rows and PostgreSQL probes the key rather than scanning the table.
    let quarter_start = |q: u8| year.quarter_start(q).expect("quarters 1-4 exist");
    let whole = |q: u8| if last == end { quarter_start(q) <= start } else { quarter_start(q) < start };
    let column = |q: u8| {
        if whole(q) {
            format!(
                "(select q.pence from quarter_balances q
                   where q.account = b.account and q.quarter_start = ${}) as q{q}",
                q + 2
            )
        } else {
            format!("cast(null as bigint) as q{q}")
        }
    };
    let sql = format!(
        "select b.grant_code, b.project_code, {}, {}, {}, {}
         from balances b
         where b.kind = {spent} and b.financial_year = $1 and ($2 is null or b.grant_code = $2)",
        column(1),
        column(2),
        column(3),
        column(4),
        spent = AccountKind::Spent.sql()
    );
    let mut query = sqlx::query(&sql).bind(year.to_string()).bind(grant);
    for q in (1..=4).filter(|q| whole(*q)) {
        query = query.bind(quarter_start(q).to_string());
    }
    let rows = query.fetch_all(store.pool()).await?;
    let mut spend = Vec::with_capacity(rows.len() * 4);
    for r in &rows {
        let grant: String = r.try_get("grant_code")?;
        let project = r.try_get::<Option<String>, _>("project_code")?.unwrap_or_default();
        for (quarter, column) in [(1, "q1"), (2, "q2"), (3, "q3"), (4, "q4")] {
            if let Some(pence) = r.try_get::<Option<i64>, _>(column)? {
                spend.push(QuarterSpend { grant: grant.clone(), project: project.clone(), quarter, pence });
            }
        }
    }
    if last != end {
        let back_from_end = fewer_after(store, year, last).await?;
        spend.extend(spend_in_quarter(store, year, grant, start, last, back_from_end).await?);
    }
    Ok(spend)
}

/// Net postings on `spent:` accounts of a year per (grant, project) dated from `start`, a
/// quarter's first day, to `last` in the same quarter: the quarter's whole months before
/// `last`'s (`month_balances`) and that month's range of the (account, entry_date,
/// amount_pence) index up to `last`, with nothing to sort, or, when `back_from_end` (fewer
/// entries after `last` in its month), the months up to `last`'s less the postings after
/// `last`. An account with no posting up to `last` in the quarter is left out, as a join
/// would leave it.
async fn spend_in_quarter(
    store: &Store,
    year: FinancialYear,
    grant: Option<&str>,
    start: NaiveDate,
    last: NaiveDate,
    back_from_end: bool,
) -> Result<Vec<QuarterSpend>, StoreError> {
    let quarter = year.quarter_of(start).ok_or_else(|| StoreError::Corrupt(format!("{start} is not in {year}")))?;
    let (month_start, month_end) = month_bounds(last);
    let pence = if back_from_end {
        "(select cast(coalesce(sum(m.pence), 0) as bigint) from month_balances m
           where m.account = b.account and m.month_start >= $3 and m.month_start <= $5)
         - (select cast(coalesce(sum(p.amount_pence), 0) as bigint) from postings p
            where p.account = b.account and p.entry_date > $4 and p.entry_date <= $6)"
    } else {
        "(select cast(coalesce(sum(m.pence), 0) as bigint) from month_balances m
           where m.account = b.account and m.month_start >= $3 and m.month_start < $5)
         + (select cast(coalesce(sum(p.amount_pence), 0) as bigint) from postings p
            where p.account = b.account and p.entry_date >= $5 and p.entry_date <= $4)"
    };
    let sql = format!(
        "select b.grant_code, b.project_code, cast({pence} as bigint) as pence
         from balances b
         where b.kind = {spent} and b.financial_year = $1 and ($2 is null or b.grant_code = $2)
           and exists (select 1 from postings p where p.account = b.account and p.entry_date >= $3 and p.entry_date <= $4)",
        spent = AccountKind::Spent.sql()
    );
    let query = sqlx::query(&sql)
        .bind(year.to_string())
        .bind(grant)
        .bind(start.to_string())
        .bind(last.to_string())
        .bind(month_start.to_string());
    // Only the months less what follows names the month's end.
    let query = if back_from_end { query.bind(month_end.to_string()) } else { query };
    let rows = query.fetch_all(store.pool()).await?;
    rows.iter()
        .map(|r| -> Result<_, StoreError> {
            Ok(QuarterSpend {
                grant: r.try_get("grant_code")?,
                project: r.try_get::<Option<String>, _>("project_code")?.unwrap_or_default(),
                quarter,
                pence: r.try_get("pence")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()
}

/// Net postings on `spent:` accounts of a year per (grant, project, quarter) dated from
/// `from` to `last`, summed from the postings themselves.
async fn spend_scanned(
    store: &Store,
    year: FinancialYear,
    grant: Option<&str>,
    from: NaiveDate,
    last: NaiveDate,
    known: &Known,
) -> Result<Vec<QuarterSpend>, StoreError> {
    let end = |q: u8| year.quarter_end(q).expect("quarters 1-4 exist").to_string();
    // One pass over the range's `spent:` postings (index-only on postings_account_date_amount),
    // each placed in its quarter by comparing dates as text (YYYY-MM-DD sorts as dates). A
    // `known` cut joins each posting to its entry.
    let cut = Cut::of(known, "e", 8);
    let (join, cut_sql) = match known {
        Known::Now => (String::new(), String::new()),
        _ => (" join entries e on e.id = p.entry_id".to_owned(), format!("and {}", cut.sql)),
    };
    let sql = format!(
        "select b.grant_code, b.project_code,
                cast(case when p.entry_date <= $3 then 1 when p.entry_date <= $4 then 2
                          when p.entry_date <= $5 then 3 else 4 end as bigint) as quarter,
                cast(coalesce(sum(p.amount_pence), 0) as bigint) as pence
         from balances b
         join postings p on p.account = b.account and p.entry_date >= $6 and p.entry_date <= $7{join}
         where b.kind = {spent} and b.financial_year = $1 and ($2 is null or b.grant_code = $2) {cut_sql}
         group by b.grant_code, b.project_code,
                  case when p.entry_date <= $3 then 1 when p.entry_date <= $4 then 2
                       when p.entry_date <= $5 then 3 else 4 end",
        spent = AccountKind::Spent.sql()
    );
    let query = sqlx::query(&sql)
        .bind(year.to_string())
        .bind(grant)
        .bind(end(1))
        .bind(end(2))
        .bind(end(3))
        .bind(from.to_string())
        .bind(last.to_string());
    let query = cut.bind(query);
    let rows = query.fetch_all(store.pool()).await?;
    rows.iter()
        .map(|r| -> Result<_, StoreError> {
            Ok(QuarterSpend {
                grant: r.try_get("grant_code")?,
                project: r.try_get::<Option<String>, _>("project_code")?.unwrap_or_default(),
                quarter: r.try_get::<i64, _>("quarter")? as u8,
                pence: r.try_get("pence")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()
}

/// Actual spend per (grant, project) of a year up to the end of `as_at` (positive pence).
pub async fn spent_to(
    store: &Store,
    year: FinancialYear,
    as_at: NaiveDate,
    known: &Known,
) -> Result<BTreeMap<(String, String), i64>, StoreError> {
    let figures = account_figures(store, year, None, Some(as_at), known).await?;
    Ok(figures
        .into_iter()
        .filter(|a| a.kind == AccountKind::Spent)
        .filter_map(|a| Some(((a.grant, a.project?), -a.pence)))
        .collect())
}

/// Every row `sql` returns, keyed as `row` reads it.
async fn keyed<V>(
    pool: &sqlx::AnyPool,
    sql: &str,
    row: impl Fn(&sqlx::any::AnyRow) -> Result<(String, V), sqlx::Error>,
) -> Result<BTreeMap<String, V>, StoreError> {
    let rows = sqlx::query(sql).fetch_all(pool).await?;
    Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
}

/// The names reports label rows with: projects, priorities, each grant's funder, the partnership.
pub async fn labels(store: &Store) -> Result<Labels, StoreError> {
    let pool = store.pool();
    let projects = keyed(pool, "select code, name, priority, lead_organisation from projects", |r| {
        let p = ProjectInfo {
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            priority: r.try_get("priority")?,
            lead_organisation: r.try_get("lead_organisation")?,
        };
        Ok((p.code.clone(), p))
    })
    .await?;
    let priorities =
        keyed(pool, "select code, name from priorities", |r| Ok((r.try_get("code")?, r.try_get("name")?))).await?;
    let funders =
        keyed(pool, "select code, funder from grants", |r| Ok((r.try_get("code")?, r.try_get("funder")?))).await?;
    let partnership = super::reference::setting(store, "partnership").await?.unwrap_or_default();
    Ok(Labels { partnership, projects, priorities, funders })
}

/// Every year any grant has an award in, oldest first.
pub async fn years_with_awards(store: &Store) -> Result<Vec<FinancialYear>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct YearRow {
        financial_year: String,
    }
    let found = sqlx::query("select distinct financial_year from awards order by financial_year")
        .fetch_all(store.pool())
        .await?;
    rows::read_all::<YearRow>(&found, "awards", &["financial_year"])?
        .into_iter()
        .map(|r| {
            FinancialYear::parse(&r.financial_year)
                .map_err(|e| StoreError::Corrupt(format!("awards financial_year {}: {e}", r.financial_year)))
        })
        .collect()
}

/// The years a grant has awards in, oldest first.
pub async fn award_years(store: &Store, grant: &str) -> Result<Vec<FinancialYear>, StoreError> {
    let rows =
        sqlx::query("select grant_code, financial_year from awards where grant_code = $1 order by financial_year")
            .bind(grant)
            .fetch_all(store.pool())
            .await?;
    rows.iter().map(|r| rows::year(r, ("awards", &["grant_code", "financial_year"]), "financial_year")).collect()
}

/// The RAG thresholds from settings, or the defaults. Bad stored values fall back to the
/// defaults with a warning rather than break every report.
pub async fn rag_rule(store: &Store) -> Result<RagRule, StoreError> {
    let amber = super::reference::setting(store, RAG_AMBER_KEY).await?;
    let red = super::reference::setting(store, RAG_RED_KEY).await?;
    let default = RagRule::default();
    let amber = amber.unwrap_or_else(|| default.amber_pct.to_string());
    let red = red.unwrap_or_else(|| default.red_pct.to_string());
    Ok(RagRule::parse(&amber, &red).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "stored RAG thresholds are invalid; using the defaults");
        default
    }))
}

/// Stores the RAG thresholds (checked by `RagRule::parse` first); `actor` is recorded in the audit trail.
pub async fn set_rag_rule(store: &Store, rule: RagRule, actor: &str) -> Result<(), StoreError> {
    let mut db_tx = store.begin().await?;
    set_rag_rule_in(&mut db_tx, rule, actor).await?;
    db_tx.commit().await?;
    Ok(())
}

pub async fn set_rag_rule_in(db_tx: &mut super::DbTx, rule: RagRule, actor: &str) -> Result<(), StoreError> {
    super::reference::set_setting_in(db_tx, RAG_AMBER_KEY, &rule.amber_pct.to_string(), actor).await?;
    super::reference::set_setting_in(db_tx, RAG_RED_KEY, &rule.red_pct.to_string(), actor).await?;
    tracing::info!(actor, "RAG thresholds set");
    Ok(())
}

/// Whether a financial year is set up in this ledger.
pub async fn year_exists(store: &Store, year: FinancialYear) -> Result<bool, StoreError> {
    let row = sqlx::query("select code from financial_years where code = $1")
        .bind(year.to_string())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.is_some())
}

/// Records (or replaces) a project's quarterly plan. The award and the project must exist,
/// and the four percentages must sum to 100.
pub async fn set_spend_profile(
    store: &Store,
    grant: &str,
    year: FinancialYear,
    project: &str,
    plan: QuarterPlan,
    actor: &str,
    idem: Option<&IdemKey>,
) -> Result<SpendProfile, StoreError> {
    let total: u32 = plan.iter().map(|p| u32::from(*p)).sum();
    if total != 100 {
        return Err(StoreError::invalid("q4", format!("q1 to q4 must sum to 100, not {total}")));
    }
    let mut db_tx = store.begin().await?;
    let award = sqlx::query("select grant_code from awards where grant_code = $1 and financial_year = $2")
        .bind(grant)
        .bind(year.to_string())
        .fetch_optional(&mut *db_tx)
        .await?;
    if award.is_none() {
        return Err(StoreError::invalid("financial_year", format!("grant {grant} has no award for {year}")));
    }
    if super::reference::get_project_in(&mut db_tx, project).await?.is_none() {
        return Err(StoreError::invalid("project", format!("no project {project}")));
    }
    let before = sqlx::query(
        "select q1_pct, q2_pct, q3_pct, q4_pct from spend_profiles
         where grant_code = $1 and financial_year = $2 and project_code = $3",
    )
    .bind(grant)
    .bind(year.to_string())
    .bind(project)
    .fetch_optional(&mut *db_tx)
    .await?
    .map(|r| -> Result<_, StoreError> {
        let q = |c: &str| r.try_get::<i64, _>(c);
        Ok(serde_json::json!({ "q1": q("q1_pct")?, "q2": q("q2_pct")?, "q3": q("q3_pct")?, "q4": q("q4_pct")? }))
    })
    .transpose()?;
    let rec = SpendProfile {
        grant: grant.to_owned(),
        financial_year: year.to_string(),
        project: project.to_owned(),
        q1: plan[0],
        q2: plan[1],
        q3: plan[2],
        q4: plan[3],
        set_by: actor.to_owned(),
        set_at: super::now(),
    };
    sqlx::query(
        "insert into spend_profiles (grant_code, financial_year, project_code, q1_pct, q2_pct, q3_pct, q4_pct, set_by, set_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (grant_code, financial_year, project_code) do update set
           q1_pct = excluded.q1_pct, q2_pct = excluded.q2_pct, q3_pct = excluded.q3_pct, q4_pct = excluded.q4_pct,
           set_by = excluded.set_by, set_at = excluded.set_at",
    )
    .bind(&rec.grant)
    .bind(&rec.financial_year)
    .bind(&rec.project)
    .bind(i64::from(rec.q1))
    .bind(i64::from(rec.q2))
    .bind(i64::from(rec.q3))
    .bind(i64::from(rec.q4))
    .bind(&rec.set_by)
    .bind(&rec.set_at)
    .execute(&mut *db_tx)
    .await?;
    let key = format!("{grant}/{year}/{project}");
    let change = super::audit::Change {
        actor,
        action: if before.is_some() { AuditAction::Update } else { AuditAction::Create },
        entity: AuditEntity::SpendProfile,
        key: &key,
        before,
        after: super::audit::json(&rec),
        reason: "",
    };
    super::audit::record_in(&mut db_tx, change).await?;
    super::idempotency::commit_answer(db_tx, idem, 201, rec).await
}

/// The quarterly plans of a year (optionally one grant), ordered by grant, then project.
pub async fn spend_profiles(
    store: &Store,
    year: Option<FinancialYear>,
    grant: Option<&str>,
) -> Result<Vec<SpendProfile>, StoreError> {
    let rows = sqlx::query(
        "select grant_code, financial_year, project_code, q1_pct, q2_pct, q3_pct, q4_pct, set_by, set_at
         from spend_profiles where ($1 is null or financial_year = $1) and ($2 is null or grant_code = $2)
         order by financial_year, grant_code, project_code",
    )
    .bind(year.map(|y| y.to_string()))
    .bind(grant)
    .fetch_all(store.pool())
    .await?;
    let pct = |r: &sqlx::any::AnyRow, c: &str| {
        let (table, key) = ("spend_profiles", &["grant_code", "financial_year", "project_code"][..]);
        let n: i64 = r.try_get(c).map_err(|e| rows::corrupt(r, table, key, e))?;
        u8::try_from(n)
            .ok()
            .filter(|n| *n <= 100)
            .ok_or_else(|| rows::named(r, table, key, c, &format!("{n} is not a percentage")))
    };
    rows.iter()
        .map(|r| -> Result<_, StoreError> {
            Ok(SpendProfile {
                grant: r.try_get("grant_code")?,
                financial_year: r.try_get("financial_year")?,
                project: r.try_get("project_code")?,
                q1: pct(r, "q1_pct")?,
                q2: pct(r, "q2_pct")?,
                q3: pct(r, "q3_pct")?,
                q4: pct(r, "q4_pct")?,
                set_by: r.try_get("set_by")?,
                set_at: r.try_get("set_at")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()
}

/// The plans of a year as the variance report takes them.
pub async fn plans(store: &Store, year: FinancialYear) -> Result<Plans, StoreError> {
    Ok(spend_profiles(store, Some(year), None)
        .await?
        .into_iter()
        .map(|p| ((p.grant.clone(), p.project.clone()), p.plan()))
        .collect())
}
