//! The quarterly monitoring cycle's commands and records: officers' forecasts, a project's
//! indicators (outputs and outcomes) and their quarterly returns. Shared by storage (which
//! keeps them), http and cli (which build and show them).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::fields::{Fields, FromFields};
use super::wire::{AmountOrZero, Code, IsoDate, Prose, ProseOrEmpty, Text, TextOrEmpty};
use crate::domain::{FinancialYear, Money, ProgressRag, Quantity};

/// An officer's forecast of a project's year-end outturn on one award, made in `quarter`.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = ForecastBody)]
#[serde(deny_unknown_fields)]
pub struct ForecastCmd {
    #[schema(value_type = Code)]
    pub grant: String,
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    /// The quarter the forecast is made in.
    #[schema(minimum = 1, maximum = 4)]
    pub quarter: u8,
    #[schema(value_type = Code)]
    pub project: String,
    /// The project's forecast outturn for the whole year on this grant; zero allowed.
    #[schema(value_type = AmountOrZero)]
    pub forecast_outturn: Money,
    /// Why the forecast differs from budget.
    #[schema(value_type = Option<ProseOrEmpty>)]
    pub explanation: String,
    pub progress_rag: ProgressRag,
    /// Why that rating; required (not blank) when it is red or amber.
    #[schema(value_type = Option<ProseOrEmpty>)]
    pub rag_reason: String,
    /// The day it was made, within its quarter and not after today. Default: today, or the
    /// quarter's last day when the quarter has ended.
    #[schema(value_type = Option<IsoDate>)]
    pub made_on: NaiveDate,
}

/// On the clock's today: what the contract's check reads. The API route and the form read with
/// `read_on`, on the ledger's today.
impl FromFields for ForecastCmd {
    fn read(f: &mut Fields) -> Self {
        ForecastCmd::read_on(f, chrono::Utc::now().date_naive())
    }
}

impl ForecastCmd {
    /// Reads a forecast made by `today`: `made_on` is checked against it, or defaults from it.
    pub fn read_on(f: &mut Fields, today: NaiveDate) -> Self {
        let grant = f.code("grant");
        let year = f.year("financial_year");
        let quarter = f.quarter("quarter");
        let project = f.code("project");
        let forecast_outturn = f.money_zero_ok("forecast_outturn");
        let explanation = f.text_or_empty("explanation");
        let progress_rag = f.word("progress_rag", &ProgressRag::ALL, None);
        let rag_reason = f.text_or_empty("rag_reason");
        let made_on = f.has_value("made_on").then(|| f.date("made_on"));
        if progress_rag != ProgressRag::Green && rag_reason.trim().is_empty() {
            f.refuse("rag_reason", "must say why when progress_rag is red or amber");
        }
        let (start, end) = (year.quarter_start(quarter), year.quarter_end(quarter));
        let made_on = match (made_on, start, end) {
            (Some(d), Some(start), Some(end)) if d != NaiveDate::MIN => {
                if d < start || d > end {
                    f.refuse("made_on", format!("must lie in quarter {quarter} of {year}, {start} to {end}"));
                } else if d > today {
                    f.refuse("made_on", "must not be after today");
                }
                d
            }
            (None, Some(start), Some(end)) => {
                if start > today {
                    f.refuse("quarter", format!("quarter {quarter} of {year} has not begun"));
                }
                today.min(end)
            }
            _ => today,
        };
        ForecastCmd { grant, year, quarter, project, forecast_outturn, explanation, progress_rag, rag_reason, made_on }
    }
}

/// The body of a withdrawal of a forecast or an indicator return.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = WithdrawBody)]
#[serde(deny_unknown_fields)]
pub struct WithdrawCmd {
    /// Why it was recorded in error; shown beside it wherever it is listed.
    #[schema(value_type = Prose)]
    pub reason: String,
}

impl FromFields for WithdrawCmd {
    fn read(f: &mut Fields) -> Self {
        WithdrawCmd { reason: f.text("reason") }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ForecastRecord {
    pub id: i64,
    pub grant: String,
    pub financial_year: FinancialYear,
    #[schema(minimum = 1, maximum = 4)]
    pub quarter: u8,
    pub project: String,
    pub forecast_outturn: Money,
    pub explanation: String,
    pub progress_rag: ProgressRag,
    pub rag_reason: String,
    pub made_on: NaiveDate,
    pub made_by: String,
    /// When it was recorded: RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub made_at: String,
    /// True when a later forecast for the same grant, year, quarter and project, not itself
    /// withdrawn, replaced it.
    pub superseded: bool,
    /// Its withdrawal, when it was recorded in error: it then counts in no report known after.
    pub withdrawal: Option<Withdrawal>,
}

/// A forecast or indicator return withdrawn as recorded in error (docs/design.md rule 10). The
/// record stays; from `withdrawn_at` on it counts in no report, and the one before it (or,
/// for a forecast, the commitment position) shows again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Withdrawal {
    pub reason: String,
    pub withdrawn_by: String,
    /// When it was withdrawn: RFC 3339, UTC. A report `as_known_at` before it still counts the record.
    #[schema(format = DateTime)]
    pub withdrawn_at: String,
}

/// A project's indicator for one financial year; its project is named by the path.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = IndicatorBody)]
#[serde(deny_unknown_fields)]
pub struct IndicatorCmd {
    #[serde(skip)]
    pub project: String,
    #[schema(value_type = Code)]
    pub code: String,
    #[schema(value_type = Text)]
    pub name: String,
    /// What it counts: sessions, people, referrals.
    #[schema(value_type = Text)]
    pub unit: String,
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    pub baseline: Quantity,
    /// The whole year's target.
    pub target: Quantity,
    /// Each quarter's target, Q1 to Q4 (target to date adds them).
    #[schema(value_type = Vec<Quantity>, min_items = 4, max_items = 4)]
    pub quarterly_targets: [Quantity; 4],
}

impl FromFields for IndicatorCmd {
    /// `project` comes from the path, not the body: the caller sets it.
    fn read(f: &mut Fields) -> Self {
        IndicatorCmd {
            project: String::new(),
            code: f.code("code"),
            name: f.text("name"),
            unit: f.text("unit"),
            year: f.year("financial_year"),
            baseline: f.quantity("baseline"),
            target: f.quantity("target"),
            quarterly_targets: f.quarter_quantities("quarterly_targets"),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorRecord {
    pub project: String,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub financial_year: FinancialYear,
    pub baseline: Quantity,
    pub target: Quantity,
    /// The target of each quarter, Q1 to Q4.
    pub quarterly_targets: [Quantity; 4],
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The latest return of each quarter, Q1 to Q4 (null where none was made).
    pub actuals: [Option<Quantity>; 4],
    /// Every return made, oldest first, superseded ones included.
    pub returns: Vec<IndicatorReturnRecord>,
}

/// One quarter's actual of an indicator.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = IndicatorReturnBody)]
#[serde(deny_unknown_fields)]
pub struct IndicatorReturnCmd {
    #[schema(value_type = Code)]
    pub project: String,
    #[schema(value_type = Code)]
    pub indicator: String,
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    #[schema(minimum = 1, maximum = 4)]
    pub quarter: u8,
    /// What the quarter achieved (not cumulative).
    pub actual: Quantity,
    /// Where the evidence is kept (a file, a register).
    #[schema(value_type = Option<TextOrEmpty>)]
    pub evidence_ref: String,
    #[schema(value_type = Option<ProseOrEmpty>)]
    pub note: String,
}

impl FromFields for IndicatorReturnCmd {
    fn read(f: &mut Fields) -> Self {
        IndicatorReturnCmd {
            project: f.code("project"),
            indicator: f.code("indicator"),
            year: f.year("financial_year"),
            quarter: f.quarter("quarter"),
            actual: f.quantity("actual"),
            evidence_ref: f.text_or_empty("evidence_ref"),
            note: f.text_or_empty("note"),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorReturnRecord {
    pub id: i64,
    pub project: String,
    pub indicator: String,
    pub financial_year: FinancialYear,
    #[schema(minimum = 1, maximum = 4)]
    pub quarter: u8,
    /// What the quarter achieved (not cumulative).
    pub actual: Quantity,
    pub evidence_ref: String,
    pub note: String,
    pub recorded_by: String,
    /// When it was recorded: RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub recorded_at: String,
    /// True when a later return for the same quarter, not itself withdrawn, replaced it.
    pub superseded: bool,
    /// Its withdrawal, when it was recorded in error: it then counts in no report known after.
    pub withdrawal: Option<Withdrawal>,
}

/// An officer's forecast as a report shows it (`storage::monitoring::latest_forecasts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    pub pence: i64,
    pub explanation: String,
    pub progress_rag: ProgressRag,
    pub rag_reason: String,
    pub made_on: NaiveDate,
    /// The quarter it was made for: the report's, or an earlier one it carries forward from.
    pub quarter: u8,
}

/// The forecast each (grant, project) shows for a report's quarter.
pub type Forecasts = BTreeMap<(String, String), Forecast>;
