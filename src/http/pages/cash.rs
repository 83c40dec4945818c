//! The dashboard's cash position (docs/cash.md): per award, what the funder awarded, was due
//! to pay, paid and is owed back, beside what was spent. Every figure is the cash-position
//! report's (`reports::cash::run`), as the API and the CLI give it; nothing is summed here.

use super::dashboard::pounds;
use super::html::esc;
use crate::reports::cash::{CashPositionReport, CashPositionRow};

/// The flag in words, with the figure it is about.
fn underspend_words(row: &CashPositionRow, r: &CashPositionReport) -> String {
    if row.underspend_flag {
        format!("Above the clawback threshold of {}", pounds(r.clawback_threshold))
    } else {
        format!("Within the clawback threshold of {}", pounds(r.clawback_threshold))
    }
}

/// The section: one row per award of the year, as at the report's date.
pub fn section(r: &CashPositionReport) -> String {
    let intro = format!(
        "<p class=\"note\">As at {}. Scheduled to date is the payment schedule's instalments due by then; cash held \
         is received less spent and repaid, and is negative where spend was paid before the funder paid. Underspend \
         is money neither committed nor spent.</p>",
        esc(&r.as_at.to_string())
    );
    if r.awards.is_empty() {
        return format!(
            "<section aria-labelledby=\"h-cash\"><h2 id=\"h-cash\">Cash position</h2>{intro}\
             <p class=\"note\" id=\"no-cash\">No award of {} has a posting or a payment schedule by then.</p></section>",
            esc(&r.financial_year.to_string())
        );
    }
    let rows: String = r
        .awards
        .iter()
        .map(|row| {
            let figures: String = [
                row.awarded,
                row.scheduled_to_date,
                row.received,
                row.due_not_received,
                row.spent,
                row.cash_held,
                row.returned,
                row.repaid,
                row.owed_to_funder,
                row.underspend,
            ]
            .iter()
            .map(|m| format!("<td class=\"num\">{}</td>", pounds(*m)))
            .collect();
            let flag = if row.underspend_flag { " class=\"clawback\"" } else { "" };
            format!(
                "<tr data-grant=\"{g}\"><th scope=\"row\">{g}</th>{figures}<td{flag}>{}</td></tr>",
                esc(&underspend_words(row, r)),
                g = esc(&row.grant),
            )
        })
        .collect();
    let heads: String = [
        "Awarded",
        "Scheduled to date",
        "Received",
        "Due not received",
        "Spent",
        "Cash held",
        "Returned",
        "Repaid",
        "Owed to funder",
        "Underspend",
    ]
    .iter()
    .map(|h| format!("<th scope=\"col\" class=\"num\">{h}</th>"))
    .collect();
    format!(
        "<section aria-labelledby=\"h-cash\"><h2 id=\"h-cash\">Cash position</h2>{intro}\
         <table id=\"cash-position\" class=\"figures\"><caption>The funder's cash per award, {year}, as at {at}</caption>\
         <thead><tr><th scope=\"col\">Grant</th>{heads}<th scope=\"col\">Clawback</th></tr></thead>\
         <tbody>{rows}</tbody></table></section>",
        year = esc(&r.financial_year.to_string()),
        at = esc(&r.as_at.to_string()),
    )
}
