//! The dashboard page: headline totals, budget against actual per priority, spend per
//! quarter, the variance table with RAG by colour and by word, the cash position, and CSV
//! downloads.

use super::html::{esc, page};
use super::svg::{self, Group};
use crate::domain::Money;
use crate::reports::VarianceReport;
use crate::reports::csv_out::Cell;
use crate::reports::quarterly::QuarterlyReport;
use crate::reports::variance::{FigureSet, ForecastBasis};

pub struct View<'a> {
    pub partnership: &'a str,
    pub signed_in_as: &'a str,
    /// The token the page's forms carry (`csrf`).
    pub form_token: &'a str,
    pub years: &'a [String],
    pub report: &'a VarianceReport,
    pub quarters: &'a QuarterlyReport,
    /// The monitoring return's lines for the report's quarter, as at the report's date.
    pub monitoring_lines: &'a [Vec<Cell>],
    /// The quarters' lock state and the filed returns, rendered by `filed::section`.
    pub filed: &'a str,
    /// The funder's cash per award, rendered by `cash::section`.
    pub cash: &'a str,
    /// The year's grant agreements, rendered by `partners::section`.
    pub partners: &'a str,
}

/// `£61,394.00`: pounds with thousands separators, as the paper prints them.
pub fn pounds(m: Money) -> String {
    let text = m.to_string();
    let (sign, digits) = text.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", text.as_str()));
    let (whole, pence) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}£{grouped}.{pence}")
}

fn rag_cell(f: &FigureSet) -> String {
    let word = f.rag.as_str();
    let mut title = word.to_owned();
    title[..1].make_ascii_uppercase();
    format!("<td class=\"rag rag-{word}\">{title}</td>")
}

/// The officer's rating and where the forecast comes from; a forecast made for an earlier
/// quarter than the report's `quarter` stands until superseded, and is marked not updated.
fn progress_cell(f: &FigureSet, quarter: u8) -> String {
    let basis = match f.forecast_basis {
        ForecastBasis::Officer => "officer's forecast",
        ForecastBasis::Commitments => "no officer forecast: actual + committed",
        ForecastBasis::Mixed => "partly actual + committed",
    };
    let (basis, stale) = match f.forecast_quarter.filter(|q| *q < quarter) {
        Some(made) if f.forecast_basis == ForecastBasis::Officer => {
            (format!("{basis} of Q{made}, not updated this quarter"), " data-not-updated=\"true\"")
        }
        Some(made) => {
            (format!("{basis}; a forecast of Q{made} not updated this quarter"), " data-not-updated=\"true\"")
        }
        None => (basis.to_owned(), ""),
    };
    match f.progress_rag {
        Some(rag) => {
            let word = rag.as_str();
            let mut title = word.to_owned();
            title[..1].make_ascii_uppercase();
            format!(
                "<td class=\"rag rag-{word}\" data-basis=\"{}\"{stale}>{title}<br><span class=\"sub\">{basis}</span></td>",
                f.forecast_basis.as_str()
            )
        }
        None => {
            format!("<td data-basis=\"{}\"{stale}><span class=\"sub\">{basis}</span></td>", f.forecast_basis.as_str())
        }
    }
}

fn figure_cells(f: &FigureSet, quarter: u8) -> String {
    format!(
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td class=\"num\">{}</td><td class=\"num\">{:.1}%</td><td class=\"num\">{}</td>{}<td class=\"why\">{}</td>\
         <td class=\"num officer-forecast\">{}</td><td class=\"num\">{}</td>{}",
        pounds(f.budget),
        pounds(f.committed),
        pounds(f.actual),
        pounds(f.available),
        pounds(f.variance),
        f.percent_spent,
        pounds(f.forecast_outturn),
        rag_cell(f),
        esc(&f.rag_why),
        pounds(f.officer_forecast),
        pounds(f.forecast_underspend),
        progress_cell(f, quarter)
    )
}

const FIGURE_HEADS: &str = "<th scope=\"col\" class=\"num\">Budget</th><th scope=\"col\" class=\"num\">Committed</th>\
    <th scope=\"col\" class=\"num\">Actual</th><th scope=\"col\" class=\"num\">Available</th>\
    <th scope=\"col\" class=\"num\">Variance</th><th scope=\"col\" class=\"num\">Spent</th>\
    <th scope=\"col\" class=\"num\">Committed outturn</th><th scope=\"col\">RAG</th><th scope=\"col\">Why</th>\
    <th scope=\"col\" class=\"num\">Officer forecast</th><th scope=\"col\" class=\"num\">Forecast underspend</th>\
    <th scope=\"col\">Progress</th>";

fn variance_table(r: &VarianceReport) -> String {
    let mut rows = String::new();
    for row in &r.rows {
        rows.push_str(&format!(
            "<tr data-grant=\"{}\" data-project=\"{}\"><td>{}</td><td>{}</td><th scope=\"row\">{}<br><span class=\"sub\">{}</span></th>{}</tr>\n",
            esc(&row.grant),
            esc(&row.project),
            esc(&row.grant),
            esc(&row.priority),
            esc(&row.project),
            esc(&row.project_name),
            figure_cells(&row.figures, r.forecast_quarter)
        ));
    }
    let mut subtotals = String::new();
    for p in &r.priorities {
        subtotals.push_str(&format!(
            "<tr class=\"subtotal\" data-priority=\"{}\"><td></td><td>{}</td><th scope=\"row\">Priority {}</th>{}</tr>\n",
            esc(&p.priority),
            esc(&p.priority),
            esc(&p.priority_name),
            figure_cells(&p.figures, r.forecast_quarter)
        ));
    }
    for g in &r.grants {
        subtotals.push_str(&format!(
            "<tr class=\"subtotal\" data-grant-total=\"{}\"><td>{}</td><td></td><th scope=\"row\">Grant {} (awarded {}, unallocated {})</th>{}</tr>\n",
            esc(&g.grant),
            esc(&g.grant),
            esc(&g.grant),
            pounds(g.awarded),
            pounds(g.unallocated),
            figure_cells(&g.figures, r.forecast_quarter)
        ));
    }
    format!(
        "<table id=\"variance\" class=\"figures\"><caption>Variance per project and grant. {}</caption>\
         <thead><tr><th scope=\"col\">Grant</th><th scope=\"col\">Priority</th><th scope=\"col\">Project</th>{FIGURE_HEADS}</tr></thead>\
         <tbody>\n{rows}</tbody><tbody class=\"subtotals\">\n{subtotals}</tbody>\
         <tfoot><tr id=\"variance-total\"><td></td><td></td><th scope=\"row\">Total</th>{}</tr></tfoot></table>",
        esc(&when(r)),
        figure_cells(&r.totals.figures, r.forecast_quarter)
    )
}

fn when(r: &VarianceReport) -> String {
    match &r.as_at {
        Some(d) => format!("As at {d}"),
        None => format!("Current on {}", r.report_date),
    }
}

fn headline(r: &VarianceReport) -> String {
    let t = &r.totals;
    let items = [
        ("awarded", "Awarded", t.awarded),
        ("allocated", "Allocated", t.figures.budget),
        ("committed", "Committed", t.figures.committed),
        ("actual", "Actual", t.figures.actual),
        ("available", "Available", t.figures.available),
        ("unallocated", "Unallocated", t.unallocated),
    ];
    let cells: String = items
        .iter()
        .map(|(id, name, m)| format!("<div><dt>{name}</dt><dd id=\"headline-{id}\">{}</dd></div>", pounds(*m)))
        .collect();
    let word = t.unallocated_rag.as_str();
    let mut title = word.to_owned();
    title[..1].make_ascii_uppercase();
    format!(
        "<dl class=\"headline\">{cells}</dl><p id=\"unallocated-rag\">Unallocated money: \
         <span class=\"rag rag-{word}\">{title}</span>, {}.</p>",
        esc(&t.unallocated_why)
    )
}

fn priority_chart(r: &VarianceReport) -> String {
    let groups: Vec<Group> = r
        .priorities
        .iter()
        .map(|p| Group {
            label: p.priority_name.clone(),
            values: vec![p.figures.budget.pence(), p.figures.actual.pence()],
        })
        .collect();
    let svg = svg::horizontal_bars(
        "chart-priorities",
        "Budget against actual spend per priority",
        &[("Budget", "budget"), ("Actual", "actual")],
        &groups,
    );
    let rows: String = r
        .priorities
        .iter()
        .map(|p| {
            format!(
                "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&p.priority_name),
                pounds(p.figures.budget),
                pounds(p.figures.actual)
            )
        })
        .collect();
    format!(
        "<figure>{svg}<figcaption>Budget against actual per priority. The same figures as a table:</figcaption></figure>\
         <table class=\"chart-data\"><caption>Budget and actual per priority</caption><thead><tr><th scope=\"col\">Priority</th>\
         <th scope=\"col\" class=\"num\">Budget</th><th scope=\"col\" class=\"num\">Actual</th></tr></thead><tbody>{rows}</tbody></table>"
    )
}

fn quarter_chart(q: &QuarterlyReport) -> String {
    let totals = q.totals.as_array();
    let groups: Vec<Group> = totals
        .iter()
        .enumerate()
        .map(|(i, m)| Group { label: format!("Q{}", i + 1), values: vec![m.pence()] })
        .collect();
    let svg = svg::columns("chart-quarters", &format!("Actual spend per quarter, {}", q.financial_year), &groups);
    let heads: String = (1..=4).map(|i| format!("<th scope=\"col\" class=\"num\">Q{i}</th>")).collect();
    let cells: String = totals.iter().map(|m| format!("<td class=\"num\">{}</td>", pounds(*m))).collect();
    let mut grant_rows = String::new();
    for g in &q.grants {
        let cells: String =
            g.quarters.as_array().iter().map(|m| format!("<td class=\"num\">{}</td>", pounds(*m))).collect();
        grant_rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th>{cells}<td class=\"num\">{}</td></tr>",
            esc(&g.code),
            pounds(g.quarters.total)
        ));
    }
    format!(
        "<figure>{svg}<figcaption>Actual spend per quarter. The same figures as a table:</figcaption></figure>\
         <table class=\"chart-data\" id=\"quarters\"><caption>Actual spend per quarter</caption><thead><tr><th scope=\"col\">Grant</th>{heads}\
         <th scope=\"col\" class=\"num\">Year</th></tr></thead><tbody>{grant_rows}</tbody>\
         <tfoot><tr><th scope=\"row\">Total</th>{cells}<td class=\"num\">{}</td></tr></tfoot></table>",
        pounds(q.totals.total)
    )
}

/// The officers' forecasts behind the variance table: each row's explanation and RAG reason.
fn forecasts_section(r: &VarianceReport) -> String {
    let rows: String = r
        .rows
        .iter()
        .filter(|row| row.figures.forecast_basis == ForecastBasis::Officer)
        .map(|row| {
            let f = &row.figures;
            format!(
                "<tr data-grant=\"{}\" data-project=\"{}\"><th scope=\"row\">{}<br><span class=\"sub\">{}</span></th><td>{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>{}<td>{}</td><td>{}</td></tr>",
                esc(&row.grant),
                esc(&row.project),
                esc(&row.project),
                esc(&row.project_name),
                esc(&row.grant),
                pounds(f.budget),
                pounds(f.officer_forecast),
                pounds(f.forecast_underspend),
                progress_cell(f, r.forecast_quarter),
                esc(&f.explanation),
                esc(&f.rag_reason)
            )
        })
        .collect();
    if rows.is_empty() {
        return format!(
            "<p class=\"note\" id=\"no-forecasts\">No officer has recorded a forecast for Q{} of this year{}: \
             the officer forecast column shows actual plus committed.</p>",
            r.forecast_quarter,
            r.as_at.as_ref().map(|d| format!(" made on or before {}", esc(d))).unwrap_or_default()
        );
    }
    format!(
        "<table id=\"forecasts\" class=\"figures\"><caption>Officers' forecasts of the year-end outturn, made in Q{}</caption>\
         <thead><tr><th scope=\"col\">Project</th><th scope=\"col\">Grant</th><th scope=\"col\" class=\"num\">Budget</th>\
         <th scope=\"col\" class=\"num\">Officer forecast</th><th scope=\"col\" class=\"num\">Forecast underspend</th>\
         <th scope=\"col\">Progress</th><th scope=\"col\">Explanation</th><th scope=\"col\">Why that rating</th></tr></thead>\
         <tbody>{rows}</tbody></table>",
        r.forecast_quarter
    )
}

/// Indicators: target against actual to date, and the cost per output, one row per
/// project and indicator (a project funded by two grants shows each indicator once).
fn indicators_section(lines: &[Vec<Cell>], quarter: u8) -> String {
    let text = |c: Option<&Cell>| match c {
        Some(Cell::Text(t) | Cell::Number(t)) => t.clone(),
        None => String::new(),
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut rows = String::new();
    for line in lines {
        let (project, code) = (text(line.get(6)), text(line.get(17)));
        if code.is_empty() || !seen.insert((project.clone(), code.clone())) {
            continue;
        }
        let cost = text(line.get(22));
        let cost = if cost.is_empty() {
            "—".to_owned()
        } else {
            crate::domain::Money::parse(&cost).map(pounds).unwrap_or(cost)
        };
        let actual = text(line.get(21));
        rows.push_str(&format!(
            "<tr data-project=\"{}\" data-indicator=\"{}\"><th scope=\"row\">{}<br><span class=\"sub\">{}</span></th><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&project),
            esc(&code),
            esc(&project),
            esc(&text(line.get(7))),
            esc(&text(line.get(18))),
            esc(&text(line.get(19))),
            esc(&text(line.get(20))),
            if actual.is_empty() { "none returned".to_owned() } else { esc(&actual) },
            esc(&cost)
        ));
    }
    if rows.is_empty() {
        return "<p class=\"note\">No project has indicators for this year.</p>".to_owned();
    }
    format!(
        "<table id=\"indicators\" class=\"figures\"><caption>Outputs and outcomes to the end of Q{quarter}: target against actual</caption>\
         <thead><tr><th scope=\"col\">Project</th><th scope=\"col\">Indicator</th><th scope=\"col\">Unit</th>\
         <th scope=\"col\" class=\"num\">Target to date</th><th scope=\"col\" class=\"num\">Actual to date</th>\
         <th scope=\"col\" class=\"num\">Cost per output</th></tr></thead><tbody>{rows}</tbody></table>"
    )
}

pub fn render(v: &View) -> String {
    let r = v.report;
    let year = &r.financial_year;
    let options: String = v
        .years
        .iter()
        .map(|y| {
            let selected = if y == year { " selected" } else { "" };
            format!("<option value=\"{}\"{selected}>{}</option>", esc(y), esc(y))
        })
        .collect();
    let as_at_value = r.as_at.clone().unwrap_or_default();
    let returns: String = (1..=4)
        .map(|q| {
            format!(
                "<li><a href=\"/dashboard/commissioner-return.csv?financial_year={y}&amp;quarter={q}\">Commissioner's return, Q{q} (CSV)</a></li>",
                y = esc(year)
            )
        })
        .collect();
    let monitoring: String = (1..=4)
        .map(|q| {
            format!(
                "<li>Monitoring return, Q{q}: <a href=\"/dashboard/monitoring-return?financial_year={y}&amp;quarter={q}\">CSV</a> \
                 · <a href=\"/dashboard/monitoring-return?financial_year={y}&amp;quarter={q}&amp;format=xlsx\">Excel workbook</a></li>",
                y = esc(year)
            )
        })
        .collect();
    let as_at_param = r.as_at.as_ref().map(|d| format!("&amp;as_at={}", esc(d))).unwrap_or_default();
    let body = format!(
        "<header class=\"masthead\"><p class=\"partnership\">{partnership}</p>\
         <h1>Budget report {year}</h1>\
         <p class=\"meta\">{when}. Spend profile: {low}% to {high}% of budget. Signed in as {who}.</p>\
         <form class=\"noprint controls\" method=\"get\" action=\"/dashboard\">\
         <label for=\"financial_year\">Financial year</label><select id=\"financial_year\" name=\"financial_year\">{options}</select>\
         <label for=\"as_at\">As at</label><input id=\"as_at\" name=\"as_at\" type=\"date\" value=\"{as_at}\">\
         <button type=\"submit\">Show</button></form>\
         <form class=\"noprint signout\" method=\"post\" action=\"/sign-out\">{sign_out_token}<button type=\"submit\">Sign out</button></form></header>\
         <main>\
         <section aria-labelledby=\"h-headline\"><h2 id=\"h-headline\">Headline</h2>{headline}</section>\
         <section aria-labelledby=\"h-priorities\"><h2 id=\"h-priorities\">Budget against actual by priority</h2>{priority_chart}</section>\
         <section aria-labelledby=\"h-quarters\"><h2 id=\"h-quarters\">Spend by quarter</h2>{quarter_chart}</section>\
         <section aria-labelledby=\"h-variance\"><h2 id=\"h-variance\">Variance</h2>\
         <p class=\"note\" id=\"rag-meaning\">{rag_meaning}</p>\
         <p class=\"note\">Committed outturn is actual plus committed. Officer forecast is the officer's forecast of the \
         year-end outturn made in Q{fq}; where none was made it is the committed outturn, and Progress says so. \
         Forecast underspend is budget less officer forecast. Progress is the officer's own rating.</p>\
         {table}</section>\
         <section aria-labelledby=\"h-forecasts\"><h2 id=\"h-forecasts\">Forecasts</h2>{forecasts}</section>\
         <section aria-labelledby=\"h-indicators\"><h2 id=\"h-indicators\">Outputs and outcomes</h2>{indicators}</section>\
         {cash}{partners}\
         <section class=\"noprint\" aria-labelledby=\"h-downloads\"><h2 id=\"h-downloads\">Downloads</h2><ul>\
         <li><a href=\"/dashboard/variance.csv?financial_year={y}{as_at_param}\">Variance report (CSV)</a></li>{returns}{monitoring}\
         <li><a href=\"/dashboard/vcse-grants.csv?financial_year={y}\">Grants to VCSE organisations, Transparency Code (CSV)</a></li>\
         <li>Grants in the 360Giving standard: <a href=\"/dashboard/360giving?financial_year={y}\">JSON</a> \
         · <a href=\"/dashboard/360giving?financial_year={y}&amp;format=csv\">CSV</a></li></ul></section>\
         {filed}</main>",
        partnership = esc(v.partnership),
        year = esc(year),
        when = esc(&when(r)),
        low = r.profile.low_pct,
        high = r.profile.high_pct,
        who = esc(v.signed_in_as),
        sign_out_token = super::csrf::hidden_input(v.form_token),
        as_at = esc(&as_at_value),
        headline = headline(r),
        priority_chart = priority_chart(r),
        quarter_chart = quarter_chart(v.quarters),
        table = variance_table(r),
        rag_meaning = esc(&r.rag_meaning),
        fq = r.forecast_quarter,
        forecasts = forecasts_section(r),
        indicators = indicators_section(v.monitoring_lines, r.forecast_quarter),
        y = esc(year),
        filed = v.filed,
        cash = v.cash,
        partners = v.partners,
    );
    page(&format!("Budget report {year} · {}", v.partnership), "", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pounds_have_separators() {
        let cases =
            [(0, "£0.00"), (6_139_400, "£61,394.00"), (-25_000, "-£250.00"), (100_000_000_000, "£1,000,000,000.00")];
        for (pence, expected) in cases {
            assert_eq!(pounds(Money::from_pence(pence)), expected);
        }
    }
}
