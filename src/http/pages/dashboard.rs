//! The dashboard page: headline totals, budget against actual per priority, spend per
//! quarter, the variance table with RAG by colour and by word, the cash position, and CSV
//! downloads.

use maud::{Markup, html};

use super::html::{capitalised, page};
use super::svg::{self, Group};
use crate::domain::Money;
use crate::domain::money::{self, Grouping};
use crate::reports::VarianceReport;
use crate::reports::csv_out::Cell;
use crate::reports::quarterly::QuarterlyReport;
use crate::reports::variance::{FigureSet, ForecastBasis};
use crate::reports::{columns, monitoring};

pub struct View<'a> {
    pub partnership: &'a str,
    pub signed_in_as: &'a str,
    /// Shows the link to the users page.
    pub is_admin: bool,
    /// The token the page's forms carry (`csrf`).
    pub form_token: &'a str,
    pub years: &'a [String],
    pub report: &'a VarianceReport,
    pub quarters: &'a QuarterlyReport,
    /// The monitoring return's lines for the report's quarter, as at the report's date.
    pub monitoring_lines: &'a [Vec<Cell>],
    /// The quarters' lock state and the filed returns, rendered by `filed::section`.
    pub filed: &'a Markup,
    /// The funder's cash per award, rendered by `cash::section`.
    pub cash: &'a Markup,
    /// The year's grant agreements, rendered by `partners::section`.
    pub partners: &'a Markup,
}

/// `£61,394.00`: a figure as the pages show it, with thousands separators.
pub fn pounds(m: Money) -> String {
    money::pounds(m, Grouping::Thousands)
}

fn rag_cell(f: &FigureSet) -> Markup {
    let word = f.rag.as_str();
    html! { td class={ "rag rag-" (word) } { (capitalised(word)) } }
}

/// The officer's rating and where the forecast comes from; a forecast made for an earlier
/// quarter than the report's `quarter` stands until superseded, and is marked not updated.
fn progress_cell(f: &FigureSet, quarter: u8) -> Markup {
    let basis = match f.forecast_basis {
        ForecastBasis::Officer => "officer's forecast",
        ForecastBasis::Commitments => "no officer forecast: actual + committed",
        ForecastBasis::Mixed => "partly actual + committed",
    };
    let (basis, stale) = match f.forecast_quarter.filter(|q| *q < quarter) {
        Some(made) if f.forecast_basis == ForecastBasis::Officer => {
            (format!("{basis} of Q{made}, not updated this quarter"), Some("true"))
        }
        Some(made) => (format!("{basis}; a forecast of Q{made} not updated this quarter"), Some("true")),
        None => (basis.to_owned(), None),
    };
    let rag = f.progress_rag.map(|r| r.as_str());
    html! {
        td class=[rag.map(|w| format!("rag rag-{w}"))] data-basis=(f.forecast_basis.as_str()) data-not-updated=[stale] {
            @if let Some(word) = rag { (capitalised(word)) br; }
            span class="sub" { (basis) }
        }
    }
}

fn figure_cells(f: &FigureSet, quarter: u8) -> Markup {
    html! {
        td class="num" { (pounds(f.budget)) }
        td class="num" { (pounds(f.committed)) }
        td class="num" { (pounds(f.actual)) }
        td class="num" { (pounds(f.available)) }
        td class="num" { (pounds(f.variance)) }
        td class="num" { (format!("{:.1}%", f.percent_spent)) }
        td class="num" { (pounds(f.forecast_outturn)) }
        (rag_cell(f))
        td class="why" { (f.rag_why) }
        td class="num officer-forecast" { (pounds(f.officer_forecast)) }
        td class="num" { (pounds(f.forecast_underspend)) }
        (progress_cell(f, quarter))
    }
}

const FIGURE_HEADS: [(&str, bool); 12] = [
    ("Budget", true),
    ("Committed", true),
    ("Actual", true),
    ("Available", true),
    ("Variance", true),
    ("Spent", true),
    ("Committed outturn", true),
    ("RAG", false),
    ("Why", false),
    ("Officer forecast", true),
    ("Forecast underspend", true),
    ("Progress", false),
];

/// A column heading; figures' headings are aligned as their figures are.
fn head(text: &str, num: bool) -> Markup {
    html! { th scope="col" class=[num.then_some("num")] { (text) } }
}

/// A project's code with its name beneath.
fn project_cell(code: &str, name: &str) -> Markup {
    html! { th scope="row" { (code) br; span class="sub" { (name) } } }
}

fn variance_table(r: &VarianceReport) -> Markup {
    let q = r.forecast_quarter;
    html! {
        table id="variance" class="figures" {
            caption { "Variance per project and grant. " (when(r)) }
            thead { tr {
                (head("Grant", false)) (head("Priority", false)) (head("Project", false))
                @for (h, num) in FIGURE_HEADS { (head(h, num)) }
            } }
            tbody {
                @for row in &r.rows {
                    tr data-grant=(row.grant) data-project=(row.project) {
                        td { (row.grant) } td { (row.priority) }
                        (project_cell(&row.project, &row.project_name))
                        (figure_cells(&row.figures, q))
                    }
                }
            }
            tbody class="subtotals" {
                @for p in &r.priorities {
                    tr class="subtotal" data-priority=(p.priority) {
                        td {} td { (p.priority) } th scope="row" { "Priority " (p.priority_name) }
                        (figure_cells(&p.figures, q))
                    }
                }
                @for g in &r.grants {
                    tr class="subtotal" data-grant-total=(g.grant) {
                        td { (g.grant) } td {}
                        th scope="row" {
                            "Grant " (g.grant) " (awarded " (pounds(g.awarded)) ", unallocated " (pounds(g.unallocated)) ")"
                        }
                        (figure_cells(&g.figures, q))
                    }
                }
            }
            tfoot { tr id="variance-total" { td {} td {} th scope="row" { "Total" } (figure_cells(&r.totals.figures, q)) } }
        }
    }
}

fn when(r: &VarianceReport) -> String {
    match &r.as_at {
        Some(d) => format!("As at {d}"),
        None => format!("Current on {}", r.report_date),
    }
}

fn headline(r: &VarianceReport) -> Markup {
    let t = &r.totals;
    let items = [
        ("awarded", "Awarded", t.awarded),
        ("allocated", "Allocated", t.figures.budget),
        ("committed", "Committed", t.figures.committed),
        ("actual", "Actual", t.figures.actual),
        ("available", "Available", t.figures.available),
        ("unallocated", "Unallocated", t.unallocated),
    ];
    let word = t.unallocated_rag.as_str();
    html! {
        dl class="headline" {
            @for (id, name, m) in items { div { dt { (name) } dd id={ "headline-" (id) } { (pounds(m)) } } }
        }
        p id="unallocated-rag" {
            "Unallocated money: " span class={ "rag rag-" (word) } { (capitalised(word)) } ", " (t.unallocated_why) "."
        }
    }
}

fn priority_chart(r: &VarianceReport) -> Markup {
    let groups: Vec<Group> = r
        .priorities
        .iter()
        .map(|p| Group {
            label: p.priority_name.clone(),
            values: vec![p.figures.budget.pence(), p.figures.actual.pence()],
        })
        .collect();
    html! {
        figure {
            (svg::horizontal_bars(
                "chart-priorities",
                "Budget against actual spend per priority",
                &[("Budget", "budget"), ("Actual", "actual")],
                &groups,
            ))
            figcaption { "Budget against actual per priority. The same figures as a table:" }
        }
        table class="chart-data" {
            caption { "Budget and actual per priority" }
            thead { tr { (head("Priority", false)) (head("Budget", true)) (head("Actual", true)) } }
            tbody {
                @for p in &r.priorities {
                    tr {
                        th scope="row" { (p.priority_name) }
                        td class="num" { (pounds(p.figures.budget)) }
                        td class="num" { (pounds(p.figures.actual)) }
                    }
                }
            }
        }
    }
}

fn quarter_chart(q: &QuarterlyReport) -> Markup {
    let totals = q.totals.as_array();
    let groups: Vec<Group> = totals
        .iter()
        .enumerate()
        .map(|(i, m)| Group { label: format!("Q{}", i + 1), values: vec![m.pence()] })
        .collect();
    html! {
        figure {
            (svg::columns("chart-quarters", &format!("Actual spend per quarter, {}", q.financial_year), &groups))
            figcaption { "Actual spend per quarter. The same figures as a table:" }
        }
        table class="chart-data" id="quarters" {
            caption { "Actual spend per quarter" }
            thead { tr {
                (head("Grant", false))
                @for i in 1..=4 { (head(&format!("Q{i}"), true)) }
                (head("Year", true))
            } }
            tbody {
                @for g in &q.grants {
                    tr {
                        th scope="row" { (g.code) }
                        @for m in g.quarters.as_array() { td class="num" { (pounds(m)) } }
                        td class="num" { (pounds(g.quarters.total)) }
                    }
                }
            }
            tfoot { tr {
                th scope="row" { "Total" }
                @for m in totals { td class="num" { (pounds(m)) } }
                td class="num" { (pounds(q.totals.total)) }
            } }
        }
    }
}

/// The officers' forecasts behind the variance table: each row's explanation and RAG reason.
fn forecasts_section(r: &VarianceReport) -> Markup {
    let rows: Vec<_> = r.rows.iter().filter(|row| row.figures.forecast_basis == ForecastBasis::Officer).collect();
    if rows.is_empty() {
        return html! {
            p class="note" id="no-forecasts" {
                "No officer has recorded a forecast for Q" (r.forecast_quarter) " of this year"
                @if let Some(d) = &r.as_at { " made on or before " (d) }
                ": the officer forecast column shows actual plus committed."
            }
        };
    }
    html! {
        table id="forecasts" class="figures" {
            caption { "Officers' forecasts of the year-end outturn, made in Q" (r.forecast_quarter) }
            thead { tr {
                (head("Project", false)) (head("Grant", false)) (head("Budget", true))
                (head("Officer forecast", true)) (head("Forecast underspend", true)) (head("Progress", false))
                (head("Explanation", false)) (head("Why that rating", false))
            } }
            tbody {
                @for row in rows {
                    @let f = &row.figures;
                    tr data-grant=(row.grant) data-project=(row.project) {
                        (project_cell(&row.project, &row.project_name))
                        td { (row.grant) }
                        td class="num" { (pounds(f.budget)) }
                        td class="num" { (pounds(f.officer_forecast)) }
                        td class="num" { (pounds(f.forecast_underspend)) }
                        (progress_cell(f, r.forecast_quarter))
                        td { (f.explanation) }
                        td { (f.rag_reason) }
                    }
                }
            }
        }
    }
}

/// Indicators: target against actual to date, and the cost per output, one row per
/// project and indicator (a project funded by two grants shows each indicator once).
fn indicators_section(lines: &[Vec<Cell>], quarter: u8) -> Markup {
    let columns = &monitoring::columns();
    let mut seen = std::collections::BTreeSet::new();
    let rows: Vec<_> = lines
        .iter()
        .map(|line| move |name: &str| columns::text(columns, line, name))
        .filter(|cell| {
            let (project, code) = (cell("project_code"), cell("indicator_code"));
            !code.is_empty() && seen.insert((project, code))
        })
        .collect();
    if rows.is_empty() {
        return html! { p class="note" { "No project has indicators for this year." } };
    }
    html! {
        table id="indicators" class="figures" {
            caption { "Outputs and outcomes to the end of Q" (quarter) ": target against actual" }
            thead { tr {
                (head("Project", false)) (head("Indicator", false)) (head("Unit", false))
                (head("Target to date", true)) (head("Actual to date", true)) (head("Cost per output", true))
            } }
            tbody {
                @for cell in rows {
                    @let (actual, cost) = (cell("actual_to_date"), cell("cost_per_output"));
                    tr data-project=(cell("project_code")) data-indicator=(cell("indicator_code")) {
                        (project_cell(cell("project_code"), cell("project_name")))
                        td { (cell("indicator_name")) }
                        td { (cell("unit")) }
                        td class="num" { (cell("target_to_date")) }
                        td class="num" { @if actual.is_empty() { "none returned" } @else { (actual) } }
                        td class="num" {
                            @if cost.is_empty() { "—" }
                            @else { (Money::parse(cost).map_or_else(|_| cost.to_owned(), pounds)) }
                        }
                    }
                }
            }
        }
    }
}

/// The links to every download of the year.
fn downloads(r: &VarianceReport) -> Markup {
    let y = &r.financial_year;
    let as_at = r.as_at.as_ref().map(|d| format!("&as_at={d}")).unwrap_or_default();
    html! {
        section class="noprint" aria-labelledby="h-downloads" {
            h2 id="h-downloads" { "Downloads" }
            ul {
                li { a href={ "/dashboard/variance.csv?financial_year=" (y) (as_at) } { "Variance report (CSV)" } }
                @for q in 1..=4 {
                    li {
                        a href={ "/dashboard/commissioner-return.csv?financial_year=" (y) "&quarter=" (q) } {
                            "Commissioner's return, Q" (q) " (CSV)"
                        }
                    }
                }
                @for q in 1..=4 {
                    @let monitoring = format!("/dashboard/monitoring-return?financial_year={y}&quarter={q}");
                    li {
                        "Monitoring return, Q" (q) ": " a href=(monitoring) { "CSV" }
                        " · " a href={ (monitoring) "&format=xlsx" } { "Excel workbook" }
                    }
                }
                li {
                    a href={ "/dashboard/vcse-grants.csv?financial_year=" (y) } {
                        "Grants to VCSE organisations, Transparency Code (CSV)"
                    }
                }
                li {
                    "Grants in the 360Giving standard: "
                    a href={ "/dashboard/360giving?financial_year=" (y) } { "JSON" }
                    " · " a href={ "/dashboard/360giving?financial_year=" (y) "&format=csv" } { "CSV" }
                }
            }
        }
    }
}

pub fn render(v: &View) -> String {
    let r = v.report;
    let year = &r.financial_year;
    let body = html! {
        header class="masthead" {
            p class="partnership" { (v.partnership) }
            h1 { "Budget report " (year) }
            p class="meta" {
                (when(r)) ". Spend profile: " (r.profile.low_pct) "% to " (r.profile.high_pct)
                "% of budget. Signed in as " (v.signed_in_as) "."
            }
            nav class="noprint account" {
                a href="/account/password" { "Change password" }
                @if v.is_admin { " · " a href="/admin/users" { "Users" } }
            }
            form class="noprint controls" method="get" action="/dashboard" {
                label for="financial_year" { "Financial year" }
                select id="financial_year" name="financial_year" {
                    @for y in v.years { option value=(y) selected[y == year] { (y) } }
                }
                label for="as_at" { "As at" }
                input id="as_at" name="as_at" type="date" value=(r.as_at.as_deref().unwrap_or_default());
                button type="submit" { "Show" }
            }
            form class="noprint signout" method="post" action="/sign-out" {
                (super::csrf::hidden_input(v.form_token))
                button type="submit" { "Sign out" }
            }
        }
        main {
            section aria-labelledby="h-headline" { h2 id="h-headline" { "Headline" } (headline(r)) }
            section aria-labelledby="h-priorities" {
                h2 id="h-priorities" { "Budget against actual by priority" } (priority_chart(r))
            }
            section aria-labelledby="h-quarters" { h2 id="h-quarters" { "Spend by quarter" } (quarter_chart(v.quarters)) }
            section aria-labelledby="h-variance" {
                h2 id="h-variance" { "Variance" }
                p class="note" id="rag-meaning" { (r.rag_meaning) }
                p class="note" {
                    "Committed outturn is actual plus committed. Officer forecast is the officer's forecast of the \
                     year-end outturn made in Q" (r.forecast_quarter) "; where none was made it is the committed outturn, \
                     and Progress says so. Forecast underspend is budget less officer forecast. Progress is the officer's \
                     own rating."
                }
                (variance_table(r))
            }
            section aria-labelledby="h-forecasts" { h2 id="h-forecasts" { "Forecasts" } (forecasts_section(r)) }
            section aria-labelledby="h-indicators" {
                h2 id="h-indicators" { "Outputs and outcomes" } (indicators_section(v.monitoring_lines, r.forecast_quarter))
            }
            (v.cash)
            (v.partners)
            (downloads(r))
            (v.filed)
        }
    };
    page(&format!("Budget report {year} · {}", v.partnership), body)
}
