//! The dashboard page: headline totals, budget against actual per priority, spend per
//! quarter, the variance table with RAG by colour and by word, the cash position, and CSV
//! downloads.

use maud::{Markup, html};

use super::html::{capitalised, page};
use super::svg::{self, Group};
use crate::domain::Money;
use crate::domain::money::{self, Grouping};
use crate::reports::VarianceReport;
use crate::reports::columns::{self, Column, Kind, Shown, cells, chosen, column, text, text_cell};
use crate::reports::csv_out::Cell;
use crate::reports::monitoring;
use crate::reports::quarterly::QuarterlyReport;
use crate::reports::variance::{self, Line};

pub struct View<'a> {
    pub partnership: &'a str,
    pub signed_in_as: &'a str,
    /// Shows the link to the users page.
    pub is_admin: bool,
    /// Shows the link to the funder's page of the year.
    pub reads_for_funder: bool,
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
    /// Every column of the variance table (`?columns=all`), or the meeting's set.
    pub all_columns: bool,
    /// The same report as at the previous quarter end, for "since last quarter"; None in
    /// the year's first quarter.
    pub previous: Option<&'a Previous>,
    /// When the page was made: the figures are as known then, and a printed copy says so.
    pub known_at: &'a str,
}

/// `£61,394.00`: a figure as the pages show it, with thousands separators.
pub fn pounds(m: Money) -> String {
    money::pounds(m, Grouping::Thousands)
}

/// The variance table's groups of columns, every one named in the report's declaration
/// (`variance::columns`) or in `page_columns`: a meeting reads the short set; `?columns=all`
/// shows all 17 (with the two of "Since last quarter").
pub const GROUPS: [columns::Group; 4] = [
    columns::Group {
        heading: "Project",
        columns: &[
            Shown { name: "grant", label: "Grant", meeting: false },
            Shown { name: "priority", label: "Priority", meeting: false },
            Shown { name: "project", label: "Project", meeting: true },
        ],
    },
    columns::Group {
        heading: "Budget and spend",
        columns: &[
            Shown { name: "budget", label: "Budget", meeting: true },
            Shown { name: "committed", label: "Committed", meeting: false },
            Shown { name: "actual", label: "Actual", meeting: true },
            Shown { name: "available", label: "Available", meeting: true },
            Shown { name: "variance", label: "Variance", meeting: false },
            Shown { name: "percent_spent", label: "Spent", meeting: true },
        ],
    },
    columns::Group {
        heading: "Rating",
        columns: &[
            Shown { name: "rag", label: "RAG", meeting: true },
            Shown { name: "rag_why", label: "Why", meeting: true },
        ],
    },
    columns::Group {
        heading: "Forecast",
        columns: &[
            Shown { name: "forecast_outturn", label: "Committed outturn", meeting: false },
            Shown { name: "officer_forecast", label: "Officer forecast", meeting: true },
            Shown { name: "forecast_underspend", label: "Forecast underspend", meeting: false },
            Shown { name: "progress_rag", label: "Progress", meeting: true },
        ],
    },
];

/// The report's columns and the one the page adds: why each line has its RAG, which the
/// CSV leaves to `rag_meaning`.
fn page_columns<'a>() -> Vec<Column<Line<'a>>> {
    let mut all: Vec<Column<Line<'a>>> = variance::columns().into_iter().collect();
    all.push(Column::new("rag_why", Kind::Text, |l| text_cell(&l.figures.rag_why)));
    all
}

/// A line of the table: what it is (`key`, matched against the previous quarter's report),
/// its cells under `page_columns`, and its heading cell when it is a subtotal.
struct Row {
    key: String,
    cells: Vec<Cell>,
    /// A subtotal's or the total's heading; a project's row is headed by its code and name.
    heading: Option<String>,
    /// `id` or data attributes that tests and readers find the row by.
    kind: RowKind,
}

/// A cell's class and text, as `value` gives it.
type Value = (Option<String>, Markup);

/// A row's cells as the table and the cards both show them, worked out once: the value of
/// each shown column (none for "project", which is the row's heading) and, beside the
/// previous quarter, the RAG then and the movement.
struct Shows {
    values: Vec<Option<Value>>,
    movement: Option<[Value; 2]>,
}

fn shows(columns: &[Column<Line>], lines: &[Row], shown: &[Shown], previous: Option<&Previous>, q: u8) -> Vec<Shows> {
    lines
        .iter()
        .map(|row| Shows {
            values: shown
                .iter()
                .map(|c| (c.name != "project").then(|| value(columns, &row.cells, c.name, q)))
                .collect(),
            movement: previous
                .map(|p| movement(p.rags.get(&row.key).map(String::as_str), text(columns, &row.cells, "rag"))),
        })
        .collect()
}

enum RowKind {
    Project,
    Priority,
    Grant,
    Total,
}

/// The report's lines, in the page's order: projects, then subtotals per priority and per
/// grant, then the total.
fn rows<'r>(r: &'r VarianceReport, columns: &[Column<Line<'r>>]) -> Vec<Row> {
    lines(r, |key, line, heading, kind| Row { key, cells: cells(columns, &line), heading, kind })
}

/// Each of the report's lines in the page's order, given to `row` with its key, heading
/// and kind.
fn lines<'r, T>(r: &'r VarianceReport, row: impl Fn(String, Line<'r>, Option<String>, RowKind) -> T) -> Vec<T> {
    let mut out = Vec::with_capacity(r.rows.len() + r.priorities.len() + r.grants.len() + 1);
    for v in &r.rows {
        let line = Line {
            grant: &v.grant,
            priority: &v.priority,
            project: &v.project,
            name: &v.project_name,
            figures: &v.figures,
        };
        out.push(row(format!("row {} {}", v.grant, v.project), line, None, RowKind::Project));
    }
    for p in &r.priorities {
        let line = Line { grant: "", priority: &p.priority, project: "", name: "", figures: &p.figures };
        let heading = format!("Priority {}", p.priority_name);
        out.push(row(format!("priority {}", p.priority), line, Some(heading), RowKind::Priority));
    }
    for g in &r.grants {
        let line = Line { grant: &g.grant, priority: "", project: "", name: "", figures: &g.figures };
        let heading =
            format!("Grant {} (awarded {}, unallocated {})", g.grant, pounds(g.awarded), pounds(g.unallocated));
        out.push(row(format!("grant {}", g.grant), line, Some(heading), RowKind::Grant));
    }
    let line = Line { grant: "", priority: "", project: "", name: "", figures: &r.totals.figures };
    out.push(row("total".into(), line, Some("Total".into()), RowKind::Total));
    out
}

/// The RAG of each line of the previous quarter's report, by line.
pub struct Previous {
    /// The quarter end it was run as at.
    pub as_at: String,
    rags: std::collections::HashMap<String, String>,
}

impl Previous {
    /// The same report run as at the end of the previous quarter.
    pub fn of(report: &VarianceReport) -> Previous {
        let rag = column(&page_columns(), "rag").cell;
        // Only the key and the RAG of each line are wanted, not every cell.
        let rags = lines(report, |key, line, _, _| match rag(&line) {
            Cell::Text(t) | Cell::Number(t) => (key, t),
        })
        .into_iter()
        .collect();
        Previous { as_at: report.report_date.clone(), rags }
    }
}

/// The last quarter end of `year` before `date`: what "since last quarter" compares with.
/// None while the year's first quarter is under way.
pub fn previous_quarter_end(year: crate::domain::FinancialYear, date: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
    (1..=4).rev().filter_map(|q| year.quarter_end(q)).find(|end| *end < date)
}

/// How bad a RAG word is: green 0, amber 1, red 2.
fn severity(word: &str) -> Option<u8> {
    ["green", "amber", "red"].iter().position(|w| *w == word).map(|i| i as u8)
}

/// The line's RAG at the previous quarter end, and how it has moved since: each a class and
/// the text of a cell.
fn movement(previous: Option<&str>, now: &str) -> [(Option<String>, Markup); 2] {
    let Some(before) = previous.filter(|w| !w.is_empty()) else {
        return [(Some("sub".into()), html! { "—" }), (Some("move".into()), html! { "New line" })];
    };
    let (class, word) = match (severity(before), severity(now)) {
        (Some(b), Some(n)) if n > b => ("move move-worse", "↓ worse"),
        (Some(b), Some(n)) if n < b => ("move move-better", "↑ improved"),
        _ => ("move", "no change"),
    };
    [
        (Some(format!("rag rag-{before}")), html! { (capitalised(before)) }),
        (
            Some(class.into()),
            html! { @if before == now { (word) } @else { (capitalised(before)) " → " (capitalised(now)) br; span class="sub" { (word) } } },
        ),
    ]
}

/// The officer's rating (if any) and where the forecast comes from, read from the line's
/// cells; a forecast made for an earlier quarter than the report's `quarter` stands until
/// superseded, and is said not updated.
fn progress<'r>(columns: &[Column<Line>], row: &'r [Cell], quarter: u8) -> (Option<&'r str>, String) {
    let basis_word = text(columns, row, "forecast_basis");
    let basis = match basis_word {
        "officer" => "officer's forecast",
        "mixed" => "partly actual + committed",
        _ => "no officer forecast: actual + committed",
    };
    let made = text(columns, row, "forecast_quarter").parse::<u8>().ok().filter(|q| *q < quarter);
    let basis = match made {
        Some(made) if basis_word == "officer" => format!("{basis} of Q{made}, not updated this quarter"),
        Some(made) => format!("{basis}; a forecast of Q{made} not updated this quarter"),
        None => basis.to_owned(),
    };
    (Some(text(columns, row, "progress_rag")).filter(|w| !w.is_empty()), basis)
}

/// The progress cell of the table, marked with its basis and whether it was not updated.
fn progress_cell(columns: &[Column<Line>], row: &[Cell], quarter: u8) -> Markup {
    progress_td(columns, row, quarter, &value(columns, row, "progress_rag", quarter))
}

/// The progress cell, its `value` already worked out.
fn progress_td(columns: &[Column<Line>], row: &[Cell], quarter: u8, (class, value): &Value) -> Markup {
    let stale = text(columns, row, "forecast_quarter").parse::<u8>().is_ok_and(|q| q < quarter);
    html! {
        td class=[class] data-basis=(text(columns, row, "forecast_basis")) data-not-updated=[stale.then_some("true")] { (value) }
    }
}

/// The row's heading cell, under "Project".
fn heading_cell(columns: &[Column<Line>], row: &Row) -> Markup {
    html! {
        th scope="row" {
            @match &row.heading {
                Some(h) => (h),
                None => { (text(columns, &row.cells, "project")) br; span class="sub" { (text(columns, &row.cells, "project_name")) } },
            }
        }
    }
}

/// One cell of a line, its `value` already worked out, as its column's kind shows it.
fn cell(columns: &[Column<Line>], row: &Row, name: &str, quarter: u8, value: &Value) -> Markup {
    match name {
        "progress_rag" => progress_td(columns, &row.cells, quarter, value),
        _ => {
            let (class, value) = value;
            html! { td class=[class] { (value) } }
        }
    }
}

/// The class and the text of a line's cell in column `name` (not the project's heading).
fn value(columns: &[Column<Line>], row: &[Cell], name: &str, quarter: u8) -> (Option<String>, Markup) {
    let t = text(columns, row, name);
    match name {
        "rag" => (Some(format!("rag rag-{t}")), html! { (capitalised(t)) }),
        "rag_why" => (Some("why".into()), html! { (t) }),
        "progress_rag" => {
            let (rag, basis) = progress(columns, row, quarter);
            (
                rag.map(|w| format!("rag rag-{w}")),
                html! { @if let Some(word) = rag { (capitalised(word)) br; } span class="sub" { (basis) } },
            )
        }
        "officer_forecast" => (Some("num officer-forecast".into()), html! { (figure(t, Kind::Money)) }),
        _ => match column(columns, name).kind {
            Kind::Text => (None, html! { (t) }),
            kind => (Some("num".into()), html! { (figure(t, kind)) }),
        },
    }
}

/// A figure's cell text as a person reads it: pounds with separators, a percentage.
fn figure(t: &str, kind: Kind) -> String {
    match kind {
        Kind::Money => Money::parse(t).map_or_else(|_| t.to_owned(), pounds),
        Kind::Percent if !t.is_empty() => format!("{t}%"),
        _ => t.to_owned(),
    }
}

/// A column heading; figures' headings are aligned as their figures are.
pub(super) fn head(text: &str, num: bool) -> Markup {
    html! { th scope="col" class=[num.then_some("num")] { (text) } }
}

/// A project's code with its name beneath.
fn project_cell(code: &str, name: &str) -> Markup {
    html! { th scope="row" { (code) br; span class="sub" { (name) } } }
}

/// The line that heads every printed page of a long table: which report, as at when, and
/// as known at when.
fn running_row(span: usize, running: &str) -> Markup {
    html! { tr class="running" aria-hidden="true" { td colspan=(span) { (running) } } }
}

fn variance_table(
    r: &VarianceReport,
    columns: &[Column<Line>],
    lines: &[Row],
    showing: &[Shows],
    all: bool,
    previous: Option<&Previous>,
    running: &str,
) -> Markup {
    let q = r.forecast_quarter;
    let groups = chosen(&GROUPS, all);
    let shown: Vec<Shown> = groups.iter().flat_map(|(_, c)| c.iter().copied()).collect();
    let span = shown.len() + if previous.is_some() { 2 } else { 0 };
    let numeric = |name: &str| name != "rag" && column(columns, name).kind != Kind::Text;
    html! {
        table id="variance" class={ "figures " (if all { "all-columns" } else { "meeting" }) } {
            caption { "Variance per project and grant. " (when(r)) }
            @for (_, cols) in &groups { colgroup span=(cols.len()) {} }
            @if previous.is_some() { colgroup span="2" {} }
            thead {
                (running_row(span, running))
                tr class="groups" {
                    @for (heading, cols) in &groups { th scope="colgroup" colspan=(cols.len()) { (heading) } }
                    @if let Some(p) = previous { th scope="colgroup" colspan="2" { "Since " (p.as_at) } }
                }
                tr {
                    @for c in &shown { (head(c.label, numeric(c.name))) }
                    @if previous.is_some() { (head("RAG then", false)) (head("Movement", false)) }
                }
            }
            @for (section, kinds) in [("rows", 0), ("subtotals", 1), ("total", 2)] {
                @let these: Vec<(&Row, &Shows)> = lines.iter().zip(showing).filter(|(l, _)| match l.kind {
                    RowKind::Project => kinds == 0, RowKind::Priority | RowKind::Grant => kinds == 1, RowKind::Total => kinds == 2,
                }).collect();
                @let body = html! {
                    @for (row, showing) in &these {
                        @let grant = text(columns, &row.cells, "grant");
                        @let tr_body = html! {
                            @for (c, value) in shown.iter().zip(&showing.values) {
                                @let href = matches!(row.kind, RowKind::Project).then(|| drill(r, columns, row, c.name)).flatten();
                                @match (value, href) {
                                    (None, _) => (heading_cell(columns, row)),
                                    (Some((_, v)), Some(href)) => td class="num" { a class="drill" href=(href) { (v) } },
                                    (Some(v), None) => (cell(columns, row, c.name, q, v)),
                                }
                            }
                            @if let Some(moved) = &showing.movement {
                                @for (class, text) in moved { td class=[class] { (text) } }
                            }
                        };
                        @match row.kind {
                            RowKind::Project => tr data-grant=(grant) data-project=(text(columns, &row.cells, "project")) { (tr_body) },
                            RowKind::Priority => tr class="subtotal" data-priority=(text(columns, &row.cells, "priority")) { (tr_body) },
                            RowKind::Grant => tr class="subtotal" data-grant-total=(grant) { (tr_body) },
                            RowKind::Total => tr id="variance-total" { (tr_body) },
                        }
                    }
                };
                @match section {
                    "rows" => tbody { (body) },
                    "subtotals" => tbody class="subtotals" { (body) },
                    _ => tfoot { (body) },
                }
            }
        }
    }
}

/// Where a project's figure is explained, as a list whose total is the figure
/// (docs/desk.md, "Finding things"): actual, the entries posting to its `spent` account as
/// at the report's date; committed, its open commitments (only for the current figures:
/// what is outstanding is known now, not as at a past date).
fn drill(r: &VarianceReport, columns: &[Column<Line>], row: &Row, name: &str) -> Option<String> {
    if !matches!(name, "actual" | "committed") {
        return None;
    }
    let at = |n: &str| text(columns, &row.cells, n).to_owned();
    let filters =
        vec![("financial_year", r.financial_year.to_string()), ("grant", at("grant")), ("project", at("project"))];
    match name {
        "actual" => {
            let mut pairs = filters;
            pairs.push(("account", "spent".to_owned()));
            pairs.push(("to", r.as_at.clone().unwrap_or_default()));
            Some(format!("/entries?{}", super::lists::query_string(&pairs)))
        }
        "committed" if r.as_at.is_none() => {
            let mut pairs = vec![("status", "open".to_owned())];
            pairs.extend(filters);
            Some(format!("/commitments?{}", super::lists::query_string(&pairs)))
        }
        _ => None,
    }
}

/// The variance lines as cards, for a narrow screen: each project a heading and its figures
/// as label and value, the same columns as the table.
fn variance_cards(
    columns: &[Column<Line>],
    lines: &[Row],
    showing: &[Shows],
    all: bool,
    previous: Option<&Previous>,
) -> Markup {
    let shown: Vec<Shown> = chosen(&GROUPS, all).into_iter().flat_map(|(_, c)| c).collect();
    html! {
        ol class="cards" aria-label="Variance per project and grant, as cards" {
            @for (row, showing) in lines.iter().zip(showing) {
                li class="card" {
                    h3 {
                        @match &row.heading {
                            Some(h) => (h),
                            None => { (text(columns, &row.cells, "project")) " " span class="sub" { (text(columns, &row.cells, "project_name")) } },
                        }
                    }
                    dl {
                        @for (c, value) in shown.iter().zip(&showing.values) {
                            @if let Some((class, value)) = value {
                                div { dt { (c.label) } dd class=[class] { (value) } }
                            }
                        }
                        @if let (Some(p), Some([(then_class, then), (move_class, moved)])) = (previous, &showing.movement) {
                            div { dt { "RAG at " (p.as_at) } dd class=[then_class] { (then) } }
                            div { dt { "Movement" } dd class=[move_class] { (moved) } }
                        }
                    }
                }
            }
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

/// The officers' forecasts behind the variance table: each row's explanation and RAG
/// reason, read from the report's columns by name.
fn forecasts_section(r: &VarianceReport, columns: &[Column<Line>], rows: &[Row], running: &str) -> Markup {
    let q = r.forecast_quarter;
    let lines: Vec<&Row> = rows
        .iter()
        .filter(|l| matches!(l.kind, RowKind::Project) && text(columns, &l.cells, "forecast_basis") == "officer")
        .collect();
    if lines.is_empty() {
        return html! {
            p class="note" id="no-forecasts" {
                "No officer has recorded a forecast for Q" (q) " of this year"
                @if let Some(d) = &r.as_at { " made on or before " (d) }
                ": the officer forecast column shows actual plus committed."
            }
        };
    }
    let shown =
        ["grant", "budget", "officer_forecast", "forecast_underspend", "progress_rag", "explanation", "rag_reason"];
    html! {
        table id="forecasts" class="figures" {
            caption { "Officers' forecasts of the year-end outturn, made in Q" (q) }
            thead {
                (running_row(shown.len() + 1, running))
                tr {
                    (head("Project", false)) (head("Grant", false)) (head("Budget", true))
                    (head("Officer forecast", true)) (head("Forecast underspend", true)) (head("Progress", false))
                    (head("Explanation", false)) (head("Why that rating", false))
                }
            }
            tbody {
                @for row in &lines {
                    @let cell = |name: &str| text(columns, &row.cells, name);
                    tr data-grant=(cell("grant")) data-project=(cell("project")) {
                        (project_cell(cell("project"), cell("project_name")))
                        @for name in shown {
                            @match name {
                                "progress_rag" => (progress_cell(columns, &row.cells, q)),
                                "officer_forecast" => td class="num" { (figure(cell(name), Kind::Money)) },
                                _ => {
                                    @let (class, value) = value(columns, &row.cells, name, q);
                                    td class=[class] { (value) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Indicators: target against actual to date, and the cost per output, one row per
/// project and indicator (a project funded by two grants shows each indicator once).
fn indicators_section(lines: &[Vec<Cell>], quarter: u8, running: &str) -> Markup {
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
            thead {
                (running_row(6, running))
                tr {
                    (head("Project", false)) (head("Indicator", false)) (head("Unit", false))
                    (head("Target to date", true)) (head("Actual to date", true)) (head("Cost per output", true))
                }
            }
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

/// The link between the meeting's columns and all of them, keeping the year and date.
fn columns_link(r: &VarianceReport, all: bool) -> Markup {
    let as_at = r.as_at.as_ref().map(|d| format!("&as_at={d}")).unwrap_or_default();
    let href =
        format!("/dashboard?financial_year={}{as_at}{}", r.financial_year, if all { "" } else { "&columns=all" });
    html! {
        p class="noprint columns-choice" {
            @if all {
                "Showing every column. " a id="columns-meeting" href=(href) { "Show the meeting's columns" }
            } @else {
                "Showing the meeting's columns. " a id="columns-all" href=(href) { "Show every column" }
                " (grant, priority, committed, variance, committed outturn and forecast underspend too)."
            }
        }
    }
}

pub fn render(v: &View) -> String {
    let r = v.report;
    let year = &r.financial_year;
    let running =
        format!("Budget report {year} · {} · figures as known at {} · {}", when(r), v.known_at, v.partnership);
    // Every line's cells, and the shown ones' text, once for the table, the cards and the forecasts.
    let columns = page_columns();
    let lines = rows(r, &columns);
    let shown: Vec<Shown> = chosen(&GROUPS, v.all_columns).into_iter().flat_map(|(_, c)| c).collect();
    let showing = shows(&columns, &lines, &shown, v.previous, r.forecast_quarter);
    let body = html! {
        header class="masthead" {
            p class="partnership" { (v.partnership) }
            h1 { "Budget report " (year) }
            p class="meta" {
                (when(r)) ". Spend profile: " (r.profile.low_pct) "% to " (r.profile.high_pct)
                "% of budget. Signed in as " (v.signed_in_as) "."
            }
            p class="printonly" id="printed" { "Figures as known at " (v.known_at) ", when this page was made." }
            nav class="noprint account" {
                a href="/account/password" { "Change password" }
                @if v.is_admin { " · " a href="/admin/users" { "Users" } }
                @if v.reads_for_funder {
                    " · " a id="to-funder" href={ "/funder/" (year) } { "The partnerships funded" }
                }
            }
            form class="noprint controls" method="get" action="/dashboard" {
                label for="financial_year" { "Financial year" }
                select id="financial_year" name="financial_year" {
                    @for y in v.years { option value=(y) selected[y == year] { (y) } }
                }
                label for="as_at" { "As at" }
                input id="as_at" name="as_at" type="date" value=(r.as_at.as_deref().unwrap_or_default());
                @if v.all_columns { input type="hidden" name="columns" value="all"; }
                button type="submit" { "Show" }
            }
            form class="noprint signout" method="post" action="/sign-out" {
                (super::csrf::hidden_input(v.form_token))
                button type="submit" { "Sign out" }
            }
            (super::forms::record_links())
            (super::lists::nav())
        }
        main id="content" tabindex="-1" {
            section class="block" aria-labelledby="h-headline" { h2 id="h-headline" { "Headline" } (headline(r)) }
            section class="block" aria-labelledby="h-priorities" {
                h2 id="h-priorities" { "Budget against actual by priority" } (priority_chart(r))
            }
            section class="block" aria-labelledby="h-quarters" { h2 id="h-quarters" { "Spend by quarter" } (quarter_chart(v.quarters)) }
            section class="long" aria-labelledby="h-variance" {
                h2 id="h-variance" { "Variance" }
                p class="note" id="rag-meaning" { (r.rag_meaning) }
                p class="note" {
                    "Committed outturn is actual plus committed. Officer forecast is the officer's forecast of the \
                     year-end outturn made in Q" (r.forecast_quarter) "; where none was made it is the committed outturn, \
                     and Progress says so. Forecast underspend is budget less officer forecast. Progress is the officer's \
                     own rating."
                }
                p class="note" id="since-note" {
                    @match v.previous {
                        Some(p) => { "RAG then and Movement compare each line with the same report as at " (p.as_at) ", the end of the previous quarter." }
                        None => { "The year's first quarter is under way: there is no previous quarter to compare with." }
                    }
                }
                (columns_link(r, v.all_columns))
                (variance_table(r, &columns, &lines, &showing, v.all_columns, v.previous, &running))
                (variance_cards(&columns, &lines, &showing, v.all_columns, v.previous))
            }
            section class="long" aria-labelledby="h-forecasts" { h2 id="h-forecasts" { "Forecasts" } (forecasts_section(r, &columns, &lines, &running)) }
            section class="long" aria-labelledby="h-indicators" {
                h2 id="h-indicators" { "Outputs and outcomes" } (indicators_section(v.monitoring_lines, r.forecast_quarter, &running))
            }
            (v.cash)
            (v.partners)
            (downloads(r))
            (v.filed)
        }
    };
    page(&format!("Budget report {year} · {}", v.partnership), body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FinancialYear;

    #[test]
    fn every_column_the_page_shows_is_declared_and_all_of_them_make_17_with_since() {
        let columns = page_columns();
        for (_, shown) in chosen(&GROUPS, true) {
            for c in shown {
                column(&columns, c.name); // panics on a name no column has
            }
        }
        let count = |all| chosen(&GROUPS, all).iter().map(|(_, c)| c.len()).sum::<usize>();
        assert_eq!((count(false), count(true) + 2), (9, 17));
        // The page adds one column; the report's own are the CSV's, unchanged.
        assert_eq!(columns.len(), variance::CSV_HEADER.len() + 1);
    }

    #[test]
    fn since_last_quarter_is_the_last_quarter_end_before_the_date() {
        let y = FinancialYear::parse("2023-24").unwrap();
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        assert_eq!(previous_quarter_end(y, d("2023-05-31")), None, "the first quarter has none");
        assert_eq!(previous_quarter_end(y, d("2023-06-30")), None);
        assert_eq!(previous_quarter_end(y, d("2023-07-01")), Some(d("2023-06-30")));
        assert_eq!(previous_quarter_end(y, d("2024-03-31")), Some(d("2023-12-31")));
        assert_eq!(previous_quarter_end(y, d("2026-12-05")), Some(d("2024-03-31")), "after the year: its end");
    }

    #[test]
    fn movement_says_the_rag_then_and_which_way_it_went() {
        let said = |then, now| movement(then, now).map(|(class, m)| (class.unwrap_or_default(), m.into_string()));
        assert_eq!(
            said(Some("amber"), "red"),
            [
                ("rag rag-amber".to_owned(), "Amber".to_owned()),
                ("move move-worse".to_owned(), "Amber → Red<br><span class=\"sub\">↓ worse</span>".to_owned())
            ]
        );
        assert_eq!(said(Some("red"), "green")[1].0, "move move-better");
        assert_eq!(said(Some("green"), "green")[1].1, "no change");
        assert_eq!(said(None, "green")[1].1, "New line");
    }
}
