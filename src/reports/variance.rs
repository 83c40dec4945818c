//! The variance report: per project and grant, subtotals per priority and per grant, totals.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use super::columns::{Column, Kind, cells, headings, money, names, position, text_cell};
use super::csv_out::Cell;
use crate::domain::rag::{Profile, Rag, RagRule, STRAIGHT_LINE, percent_one_place};
use crate::domain::{AccountKind, FinancialYear, Money, ProgressRag};
pub use crate::model::monitoring::{Forecast, Forecasts};
use crate::model::reports::{AccountFigure, Labels, Plans};

/// The figures of a project, or a sum of projects, in pence as credit balances.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub budget: i64,
    pub committed: i64,
    pub actual: i64,
    pub available: i64,
}

impl Figures {
    pub fn variance(&self) -> i64 {
        self.budget - self.actual
    }

    pub fn forecast_outturn(&self) -> i64 {
        self.actual + self.committed
    }

    pub fn add(&mut self, o: &Figures) {
        self.budget += o.budget;
        self.committed += o.committed;
        self.actual += o.actual;
        self.available += o.available;
    }

    /// Actual as a percentage of budget, to one place (half away from zero, the rounding
    /// `rag_why` shows too); 0.0 without a budget.
    pub fn percent_spent(&self) -> Decimal {
        if self.budget <= 0 {
            return Decimal::ZERO;
        }
        percent_one_place(self.actual, self.budget)
    }

    /// Takes a project account's signed balance: every project account is credit-normal.
    fn take(&mut self, kind: AccountKind, pence: i64) {
        let held = -pence;
        match kind {
            AccountKind::Available => self.available += held,
            AccountKind::Committed => self.committed += held,
            AccountKind::Spent => self.actual += held,
            AccountKind::Awarded
            | AccountKind::Unallocated
            | AccountKind::Returned
            | AccountKind::Carried
            | AccountKind::Cash
            | AccountKind::Received
            | AccountKind::Owed
            | AccountKind::Claimed => return,
        }
        self.budget += held;
    }
}

/// Serializes a one-place percentage as a JSON number (docs/api.md); the value was computed in Decimal.
fn as_number<S: serde::Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.to_f64().unwrap_or(0.0))
}

crate::domain::words::word_set!(
    /// Where a row's `officer_forecast` comes from: the officer's forecast for the quarter, or,
    /// without one, the commitment position (actual + committed). A subtotal over rows of both
    /// kinds is `mixed`.
    ForecastBasis, "forecast basis", { Officer => "officer", Commitments => "commitments", Mixed => "mixed" }
);

/// The officer-forecast side of a row or a sum of rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outlook {
    /// The officer's forecast, or actual + committed where there is none, summed.
    pub pence: i64,
    pub officer_rows: usize,
    pub rows: usize,
    /// The worst progress rating of the rows with a forecast.
    pub progress: Option<ProgressRag>,
    /// A row's explanation and RAG reason; empty on subtotals.
    pub explanation: String,
    pub rag_reason: String,
    /// The quarter the row's forecast was made for; on a sum, the earliest of its rows'.
    pub quarter: Option<u8>,
}

impl Outlook {
    fn of_row(f: &Figures, forecast: Option<&Forecast>) -> Outlook {
        match forecast {
            Some(o) => Outlook {
                pence: o.pence,
                officer_rows: 1,
                rows: 1,
                progress: Some(o.progress_rag),
                explanation: o.explanation.clone(),
                rag_reason: o.rag_reason.clone(),
                quarter: Some(o.quarter),
            },
            None => Outlook { pence: f.forecast_outturn(), rows: 1, ..Outlook::default() },
        }
    }

    fn add(&mut self, o: &Outlook) {
        self.pence += o.pence;
        self.officer_rows += o.officer_rows;
        self.rows += o.rows;
        self.progress = match (self.progress, o.progress) {
            (Some(a), Some(b)) => Some(a.worse(b)),
            (a, b) => a.or(b),
        };
        self.quarter = match (self.quarter, o.quarter) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    pub fn basis(&self) -> ForecastBasis {
        match self.officer_rows {
            0 => ForecastBasis::Commitments,
            n if n == self.rows => ForecastBasis::Officer,
            _ => ForecastBasis::Mixed,
        }
    }
}

/// The figures every row and subtotal carries, as docs/api.md names them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FigureSet {
    pub budget: Money,
    pub committed: Money,
    pub actual: Money,
    pub available: Money,
    pub variance: Money,
    #[serde(serialize_with = "as_number")]
    #[schema(value_type = f64)]
    pub percent_spent: Decimal,
    pub forecast_outturn: Money,
    pub rag: Rag,
    /// Why `rag`, in words: how far spend is from the profile, or the outturn once the year
    /// has ended.
    pub rag_why: String,
    /// The officer's forecast of the year-end outturn for the report's quarter, or
    /// actual + committed where none was made (`forecast_basis` says which).
    pub officer_forecast: Money,
    /// budget − officer_forecast: what the year is forecast to leave unspent.
    pub forecast_underspend: Money,
    pub forecast_basis: ForecastBasis,
    /// The quarter the officer's forecast shown was made for: the report's, or an earlier one
    /// of the year it stands from until superseded. On a subtotal, the earliest of its rows'
    /// (so one below the report's quarter says some forecast in it was not updated). Null
    /// without an officer forecast.
    #[schema(minimum = 1, maximum = 4)]
    pub forecast_quarter: Option<u8>,
    /// The officer's rating of progress; on a subtotal, the worst of its rows. Null without a forecast.
    pub progress_rag: Option<ProgressRag>,
    /// The officer's explanation of the forecast against budget (empty on subtotals).
    pub explanation: String,
    /// Why that rating (empty on subtotals).
    pub rag_reason: String,
}

impl FigureSet {
    /// The figures with the commitment position as the forecast; `with_outlook` adds the officer's.
    pub fn of(f: &Figures, rule: &RagRule, profile: Profile, year_ended: bool) -> FigureSet {
        FigureSet {
            budget: Money::from_pence(f.budget),
            committed: Money::from_pence(f.committed),
            actual: Money::from_pence(f.actual),
            available: Money::from_pence(f.available),
            variance: Money::from_pence(f.variance()),
            percent_spent: f.percent_spent(),
            forecast_outturn: Money::from_pence(f.forecast_outturn()),
            rag: rule.rate(profile, f.budget, f.actual, f.available),
            rag_why: rule.why(profile, f.budget, f.actual, f.available, year_ended),
            officer_forecast: Money::from_pence(f.forecast_outturn()),
            forecast_underspend: Money::from_pence(f.budget - f.forecast_outturn()),
            forecast_basis: ForecastBasis::Commitments,
            forecast_quarter: None,
            explanation: String::new(),
            progress_rag: None,
            rag_reason: String::new(),
        }
    }

    pub fn with_outlook(mut self, f: &Figures, o: &Outlook) -> FigureSet {
        self.officer_forecast = Money::from_pence(o.pence);
        self.forecast_underspend = Money::from_pence(f.budget - o.pence);
        self.forecast_basis = o.basis();
        self.forecast_quarter = o.quarter;
        self.explanation = o.explanation.clone();
        self.progress_rag = o.progress;
        self.rag_reason = o.rag_reason.clone();
        self
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VarianceRow {
    pub grant: String,
    pub priority: String,
    pub project: String,
    pub project_name: String,
    #[serde(flatten)]
    pub figures: FigureSet,
    /// The band of percent spent that is on profile for this row at the report date.
    pub profile: Profile,
    #[serde(skip)]
    pub raw: Figures,
    #[serde(skip)]
    pub outlook: Outlook,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrioritySubtotal {
    pub priority: String,
    pub priority_name: String,
    #[serde(flatten)]
    pub figures: FigureSet,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GrantSubtotal {
    pub grant: String,
    pub funder: String,
    /// Awarded in this year, including any `brought_forward`.
    pub awarded: Money,
    /// Of `awarded`, the money carried forward into this year from the year before.
    pub brought_forward: Money,
    pub unallocated: Money,
    /// The unallocated money's rating, by its share of the award (`domain::rag`).
    pub unallocated_rag: Rag,
    pub unallocated_why: String,
    #[serde(flatten)]
    pub figures: FigureSet,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// Awarded in this year, including any `brought_forward`.
    pub awarded: Money,
    /// Of `awarded`, the money carried forward into this year from the year before.
    pub brought_forward: Money,
    pub unallocated: Money,
    /// The unallocated money's rating, by its share of the award (`domain::rag`).
    pub unallocated_rag: Rag,
    pub unallocated_why: String,
    /// Given back to the funder at year end (zero until year-end accounts exist).
    pub returned: Money,
    /// Carried forward into the next year (zero until year-end accounts exist).
    pub carried: Money,
    #[serde(flatten)]
    pub figures: FigureSet,
    #[serde(skip)]
    pub raw: Figures,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VarianceReport {
    pub financial_year: String,
    #[schema(format = Date)]
    pub as_at: Option<String>,
    /// The instant the figures were known at (`as_known_at`), when asked for: entries
    /// recorded after it are left out.
    #[schema(format = DateTime)]
    pub as_known_at: Option<String>,
    /// The date the profile was taken at: `as_at`, or today.
    #[schema(format = Date)]
    pub report_date: String,
    /// What each RAG colour means on this report: for a year under way, or one that has ended.
    pub rag_meaning: String,
    /// The straight-line band at the report date; rows with a quarterly plan carry their own.
    pub profile: Profile,
    /// The quarter whose officer forecasts the report shows (1–4): `quarter` if asked, else
    /// the quarter holding the report date (clamped to the year).
    #[schema(minimum = 1, maximum = 4)]
    pub forecast_quarter: u8,
    pub rows: Vec<VarianceRow>,
    pub priorities: Vec<PrioritySubtotal>,
    pub grants: Vec<GrantSubtotal>,
    pub totals: Totals,
}

/// Award-level sums of one grant, credit balances except `awarded`.
#[derive(Debug, Clone, Copy, Default)]
struct AwardSums {
    awarded: i64,
    unallocated: i64,
    returned: i64,
    carried: i64,
}

/// The quarter of `year` a date falls in, a date before the year counting as Q1 and one
/// after it as Q4.
pub fn quarter_clamped(year: FinancialYear, date: NaiveDate) -> u8 {
    if date < year.start() { 1 } else { year.quarter_of(date).unwrap_or(4) }
}

/// What a variance report measures the ledger's figures against: the RAG rule, the
/// projects' quarterly plans, and the officers' forecasts of one quarter.
#[derive(Debug, Clone, Copy)]
pub struct Measures<'a> {
    pub rule: &'a RagRule,
    pub plans: &'a Plans,
    pub quarter: u8,
    pub forecasts: &'a Forecasts,
}

/// Builds the report. `report_date` is `as_at` when given, otherwise today; it sets the profile.
pub fn build(
    year: FinancialYear,
    as_at: Option<NaiveDate>,
    report_date: NaiveDate,
    accounts: &[AccountFigure],
    labels: &Labels,
    measures: Measures<'_>,
) -> VarianceReport {
    let Measures { rule, plans, quarter, forecasts } = measures;
    let profile = Profile::straight_line(year, report_date);
    // On or after the year's last day the band is 100% and each rating is the outturn's.
    let ended = report_date >= year.end();
    let mut per_project: BTreeMap<(String, String), Figures> = BTreeMap::new();
    let mut awards: BTreeMap<String, AwardSums> = BTreeMap::new();
    for a in accounts {
        let award = awards.entry(a.grant.clone()).or_default();
        match (&a.project, a.kind) {
            (Some(p), kind) => per_project.entry((a.grant.clone(), p.clone())).or_default().take(kind, a.pence),
            (None, AccountKind::Awarded) => award.awarded += a.pence,
            (None, AccountKind::Unallocated) => award.unallocated -= a.pence,
            (None, AccountKind::Returned) => award.returned -= a.pence,
            (None, AccountKind::Carried) => award.carried -= a.pence,
            (None, _) => {}
        }
    }
    let mut rows: Vec<VarianceRow> = per_project
        .into_iter()
        .map(|((grant, project), f)| {
            let info = labels.project(&project);
            let plan = plans.get(&(grant.clone(), project.clone())).copied().unwrap_or(STRAIGHT_LINE);
            let row_profile = Profile::planned(year, report_date, plan);
            let outlook = Outlook::of_row(&f, forecasts.get(&(grant.clone(), project.clone())));
            VarianceRow {
                figures: FigureSet::of(&f, rule, row_profile, ended).with_outlook(&f, &outlook),
                grant,
                priority: info.priority,
                project,
                project_name: info.name,
                profile: row_profile,
                raw: f,
                outlook,
            }
        })
        .collect();
    // The paper reads by priority, then project, then grant.
    rows.sort_by(|a, b| (&a.priority, &a.project, &a.grant).cmp(&(&b.priority, &b.project, &b.grant)));

    // Subtotals add the rows' figures, and weigh the rows' profile bands by budget.
    type Group = (Figures, Vec<(i64, Profile)>, Outlook);
    let mut by_priority: BTreeMap<String, Group> = BTreeMap::new();
    let mut by_grant: BTreeMap<String, Group> = awards.keys().map(|g| (g.clone(), Group::default())).collect();
    let mut total = Group::default();
    for r in &rows {
        for group in [by_priority.entry(r.priority.clone()).or_default(), by_grant.entry(r.grant.clone()).or_default()]
        {
            group.0.add(&r.raw);
            group.1.push((r.raw.budget, r.profile));
            group.2.add(&r.outlook);
        }
        total.0.add(&r.raw);
        total.1.push((r.raw.budget, r.profile));
        total.2.add(&r.outlook);
    }
    let set = |(f, parts, outlook): &Group| {
        FigureSet::of(f, rule, Profile::weighted(parts, profile), ended).with_outlook(f, outlook)
    };
    let priorities = by_priority
        .iter()
        .map(|(p, g)| PrioritySubtotal { priority_name: labels.priority_name(p), priority: p.clone(), figures: set(g) })
        .collect();
    let grants = by_grant
        .iter()
        .map(|(g, group)| {
            let a = awards.get(g).copied().unwrap_or_default();
            let (unallocated_rag, unallocated_why) = rule.rate_unallocated(profile, a.awarded, a.unallocated, ended);
            GrantSubtotal {
                unallocated_rag,
                unallocated_why,
                funder: labels.funders.get(g).cloned().unwrap_or_default(),
                grant: g.clone(),
                awarded: Money::from_pence(a.awarded),
                brought_forward: Money::ZERO,
                unallocated: Money::from_pence(a.unallocated),
                figures: set(group),
            }
        })
        .collect();
    let sum = |pick: fn(&AwardSums) -> i64| Money::from_pence(awards.values().map(pick).sum());
    let (unallocated_rag, unallocated_why) =
        rule.rate_unallocated(profile, sum(|a| a.awarded).pence(), sum(|a| a.unallocated).pence(), ended);
    VarianceReport {
        rag_meaning: rule.meaning(ended),
        financial_year: year.to_string(),
        as_at: as_at.map(|d| d.to_string()),
        as_known_at: None,
        report_date: report_date.to_string(),
        profile,
        forecast_quarter: quarter,
        rows,
        priorities,
        grants,
        totals: Totals {
            awarded: sum(|a| a.awarded),
            brought_forward: Money::ZERO,
            unallocated: sum(|a| a.unallocated),
            unallocated_rag,
            unallocated_why,
            returned: sum(|a| a.returned),
            carried: sum(|a| a.carried),
            figures: set(&total),
            raw: total.0,
        },
    }
}

/// A row of a return taken from the variance report: the project and grant with the names
/// the return shows beside their codes, or (`total`) the `TOTAL` line. The Commissioner's
/// return and the monitoring return build their lines on it.
pub struct Labelled<'a> {
    pub funder: String,
    pub grant: &'a str,
    pub priority: &'a str,
    pub priority_name: String,
    pub project: &'a str,
    pub project_name: &'a str,
    pub lead_organisation: String,
    pub figures: &'a FigureSet,
}

impl<'a> Labelled<'a> {
    pub fn of(r: &'a VarianceRow, labels: &Labels) -> Labelled<'a> {
        Labelled {
            funder: labels.funders.get(&r.grant).cloned().unwrap_or_default(),
            grant: &r.grant,
            priority: &r.priority,
            priority_name: labels.priority_name(&r.priority),
            project: &r.project,
            project_name: &r.project_name,
            lead_organisation: labels.project(&r.project).lead_organisation,
            figures: &r.figures,
        }
    }

    /// The `TOTAL` line: the report's totals, named in the project column.
    pub fn total(report: &'a VarianceReport) -> Labelled<'a> {
        Labelled {
            funder: String::new(),
            grant: "",
            priority: "",
            priority_name: String::new(),
            project: "TOTAL",
            project_name: "",
            lead_organisation: String::new(),
            figures: &report.totals.figures,
        }
    }
}

/// A line of the variance report's CSV, workbook sheet and terminal table: a project's row,
/// a subtotal or the total.
pub struct Line<'a> {
    pub grant: &'a str,
    pub priority: &'a str,
    pub project: &'a str,
    pub name: &'a str,
    pub figures: &'a FigureSet,
}

/// The report's columns, in docs/api.md's order.
pub const fn columns<'a>() -> [Column<Line<'a>>; 19] {
    use Kind::{Money, Percent, Text, Whole};
    [
        Column::new("grant", Text, |l| text_cell(l.grant)),
        Column::new("priority", Text, |l| text_cell(l.priority)),
        Column::new("project", Text, |l| text_cell(l.project)),
        Column::headed("project_name", "name", Text, |l| text_cell(l.name)),
        Column::new("budget", Money, |l| money(l.figures.budget)),
        Column::new("committed", Money, |l| money(l.figures.committed)),
        Column::new("actual", Money, |l| money(l.figures.actual)),
        Column::new("available", Money, |l| money(l.figures.available)),
        Column::new("variance", Money, |l| money(l.figures.variance)),
        Column::headed("percent_spent", "%", Percent, |l| Cell::Number(format!("{:.1}", l.figures.percent_spent))),
        Column::headed("forecast_outturn", "forecast", Money, |l| money(l.figures.forecast_outturn)),
        Column::new("rag", Text, |l| text_cell(l.figures.rag.as_str())),
        Column::headed("officer_forecast", "officer", Money, |l| money(l.figures.officer_forecast)),
        Column::headed("forecast_underspend", "underspend", Money, |l| money(l.figures.forecast_underspend)),
        Column::headed("forecast_basis", "basis", Text, |l| text_cell(l.figures.forecast_basis.as_str())),
        Column::headed("forecast_quarter", "made in", Whole, |l| {
            l.figures.forecast_quarter.map_or_else(|| text_cell(""), |q| Cell::Number(q.to_string()))
        }),
        Column::headed("progress_rag", "progress", Text, |l| {
            text_cell(l.figures.progress_rag.map_or("", |r| r.as_str()))
        }),
        Column::new("explanation", Text, |l| text_cell(&l.figures.explanation)),
        Column::new("rag_reason", Text, |l| text_cell(&l.figures.rag_reason)),
    ]
}

pub const CSV_HEADER: [&str; 19] = names(&columns());

/// The column a terminal table leaves out: the explanation is as much prose as a terminal
/// line holds.
const NOT_IN_TABLE: &str = "rag_reason";

/// The project rows as CSV cells, under `CSV_HEADER`.
pub fn csv_rows(report: &VarianceReport) -> Vec<Vec<Cell>> {
    let columns = columns();
    report.rows.iter().map(|r| cells(&columns, &row_line(r))).collect()
}

fn row_line(r: &VarianceRow) -> Line<'_> {
    Line { grant: &r.grant, priority: &r.priority, project: &r.project, name: &r.project_name, figures: &r.figures }
}

/// Rows, then subtotals per priority and per grant, then the total, under `CSV_HEADER`
/// (the workbook's variance sheet).
pub fn all_rows(report: &VarianceReport) -> Vec<Vec<Cell>> {
    let columns = columns();
    let mut lines: Vec<Line> = report.rows.iter().map(row_line).collect();
    lines.extend(report.priorities.iter().map(|p| Line {
        grant: "",
        priority: &p.priority,
        project: "(priority)",
        name: "",
        figures: &p.figures,
    }));
    lines.extend(report.grants.iter().map(|g| Line {
        grant: &g.grant,
        priority: "",
        project: "(grant)",
        name: "",
        figures: &g.figures,
    }));
    lines.push(Line { grant: "", priority: "", project: "TOTAL", name: "", figures: &report.totals.figures });
    lines.iter().map(|l| cells(&columns, l)).collect()
}

/// `all_rows` for a terminal table under `table_header`.
pub fn table_rows(report: &VarianceReport) -> Vec<Vec<Cell>> {
    let skip = position(&columns(), NOT_IN_TABLE);
    all_rows(report)
        .into_iter()
        .map(|mut cells| {
            cells.remove(skip);
            cells
        })
        .collect()
}

/// The terminal table's headings, over `table_rows`.
pub fn table_header() -> Vec<&'static str> {
    headings(&columns(), Some(NOT_IN_TABLE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(kind: AccountKind, grant: &str, project: Option<&str>, pence: i64) -> AccountFigure {
        AccountFigure { kind, grant: grant.into(), project: project.map(Into::into), pence }
    }

    #[test]
    fn figures_follow_design_md() {
        use AccountKind::*;
        let year = FinancialYear::parse("2023-24").unwrap();
        let accounts = [
            acct(Awarded, "LDF", None, 6_139_400),
            acct(Unallocated, "LDF", None, -5_139_400),
            acct(Available, "LDF", Some("P1"), -400_000),
            acct(Committed, "LDF", Some("P1"), -100_000),
            acct(Spent, "LDF", Some("P1"), -500_000),
        ];
        let r = build(
            year,
            None,
            "2024-04-30".parse().unwrap(),
            &accounts,
            &Labels::default(),
            Measures { rule: &RagRule::default(), plans: &Plans::new(), quarter: 4, forecasts: &Forecasts::new() },
        );
        let f = &r.rows[0].figures;
        assert_eq!(f.budget.to_string(), "10000.00");
        assert_eq!(f.variance.to_string(), "5000.00");
        assert_eq!(f.forecast_outturn.to_string(), "6000.00");
        assert_eq!(f.percent_spent, Decimal::new(500, 1));
        assert_eq!(f.rag, Rag::Red, "50% spent after the year is 50 points behind");
        assert_eq!(r.totals.awarded.to_string(), "61394.00");
        assert_eq!(r.totals.unallocated.to_string(), "51394.00");
    }

    #[test]
    fn officer_forecasts_replace_the_commitment_position_row_by_row() {
        use AccountKind::*;
        let year = FinancialYear::parse("2023-24").unwrap();
        // P1: budget 100, actual 30, committed 20; P2: budget 50, actual 10, committed 0.
        let accounts = [
            acct(Available, "LDF", Some("P1"), -5_000),
            acct(Committed, "LDF", Some("P1"), -2_000),
            acct(Spent, "LDF", Some("P1"), -3_000),
            acct(Available, "LDF", Some("P2"), -4_000),
            acct(Spent, "LDF", Some("P2"), -1_000),
        ];
        let forecast = Forecast {
            pence: 9_000,
            explanation: "late invoices".into(),
            progress_rag: ProgressRag::Amber,
            rag_reason: "behind".into(),
            made_on: "2023-10-02".parse().unwrap(),
            quarter: 3,
        };
        let forecasts: Forecasts = [(("LDF".to_owned(), "P1".to_owned()), forecast)].into();
        let rule = RagRule::default();
        let measures = Measures { rule: &rule, plans: &Plans::new(), quarter: 3, forecasts: &forecasts };
        let day = "2023-10-31".parse().unwrap();
        let r = build(year, Some(day), day, &accounts, &Labels::default(), measures);
        let p1 = &r.rows.iter().find(|r| r.project == "P1").unwrap().figures;
        assert_eq!((p1.officer_forecast.pence(), p1.forecast_underspend.pence()), (9_000, 1_000));
        assert_eq!((p1.forecast_basis, p1.progress_rag), (ForecastBasis::Officer, Some(ProgressRag::Amber)));
        assert_eq!(p1.forecast_outturn.pence(), 5_000, "the commitment position stays beside it");
        let p2 = &r.rows.iter().find(|r| r.project == "P2").unwrap().figures;
        assert_eq!(
            (p2.officer_forecast.pence(), p2.forecast_basis, p2.progress_rag),
            (1_000, ForecastBasis::Commitments, None)
        );
        let t = &r.totals.figures;
        assert_eq!((t.officer_forecast.pence(), t.forecast_underspend.pence()), (10_000, 5_000));
        assert_eq!(
            (t.forecast_basis, t.progress_rag, t.explanation.as_str()),
            (ForecastBasis::Mixed, Some(ProgressRag::Amber), "")
        );
        assert_eq!(r.forecast_quarter, 3);

        // Every line's cells sit under columns of their kind, the terminal table's too, and
        // the JSON gives a row's fields in the columns' order.
        super::super::columns::tests::check_kinds(&columns(), &all_rows(&r));
        assert!(table_rows(&r).iter().all(|row| row.len() == table_header().len()));
        let json = serde_json::to_string(&r.rows[0]).unwrap();
        let at: Vec<usize> = CSV_HEADER
            .iter()
            .map(|n| json.find(&format!("\"{n}\":")).unwrap_or_else(|| panic!("{n}: {json}")))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "JSON fields in the columns' order: {json}");
    }

    #[test]
    fn the_forecast_quarter_is_the_report_date_clamped_to_the_year() {
        let year = FinancialYear::parse("2023-24").unwrap();
        for (date, quarter) in
            [("2023-03-31", 1), ("2023-04-01", 1), ("2023-12-31", 3), ("2024-01-01", 4), ("2026-11-27", 4)]
        {
            assert_eq!(quarter_clamped(year, date.parse().unwrap()), quarter, "{date}");
        }
    }

    #[test]
    fn percent_rounds_half_away_from_zero() {
        let f = Figures { budget: 300, actual: 100, committed: 0, available: 200 };
        assert_eq!(f.percent_spent(), Decimal::new(333, 1));
        let f = Figures { budget: 800, actual: 1, committed: 0, available: 799 };
        assert_eq!(f.percent_spent(), Decimal::new(1, 1), "0.125 rounds to 0.1");
        let f = Figures { budget: 400, actual: 1, committed: 0, available: 399 };
        assert_eq!(f.percent_spent(), Decimal::new(3, 1), "0.25 rounds to 0.3");
    }
}
