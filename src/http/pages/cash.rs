//! The dashboard's cash position (docs/cash.md): per award, what the funder awarded, was due
//! to pay, paid and is owed back, beside what was spent. Every figure is the cash-position
//! report's (`reports::cash::run`), as the API and the CLI give it; nothing is summed here.

use maud::{Markup, html};

use super::dashboard::pounds;
use crate::reports::cash::{CashPositionReport, CashPositionRow};

/// The flag in words, with the figure it is about.
fn underspend_words(row: &CashPositionRow, r: &CashPositionReport) -> String {
    if row.underspend_flag {
        format!("Above the clawback threshold of {}", pounds(r.clawback_threshold))
    } else {
        format!("Within the clawback threshold of {}", pounds(r.clawback_threshold))
    }
}

const HEADS: [&str; 10] = [
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
];

/// The section: one row per award of the year, as at the report's date; for a person who may
/// set them (`schedules`), each award links to its payment schedule's page.
pub fn section(r: &CashPositionReport, schedules: bool) -> Markup {
    html! {
        section aria-labelledby="h-cash" {
            h2 id="h-cash" { "Cash position" }
            p class="note" {
                "As at " (r.as_at) ". Scheduled to date is the payment schedule's instalments due by then; cash held \
                 is received less spent and repaid, and is negative where spend was paid before the funder paid. Underspend \
                 is money neither committed nor spent."
            }
            @if r.awards.is_empty() {
                p class="note" id="no-cash" {
                    "No award of " (r.financial_year) " has a posting or a payment schedule by then."
                }
            } @else {
                table id="cash-position" class="figures" {
                    caption { "The funder's cash per award, " (r.financial_year) ", as at " (r.as_at) }
                    thead { tr {
                        th scope="col" { "Grant" }
                        @for h in HEADS { th scope="col" class="num" { (h) } }
                        th scope="col" { "Clawback" }
                        @if schedules { th scope="col" class="noprint" { "Payment schedule" } }
                    } }
                    tbody { @for row in &r.awards { (award_row(row, r, schedules)) } }
                }
            }
        }
    }
}

fn award_row(row: &CashPositionRow, r: &CashPositionReport, schedules: bool) -> Markup {
    let figures = [
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
    ];
    html! {
        tr data-grant=(row.grant) {
            th scope="row" { (row.grant) }
            @for m in figures { td class="num" { (pounds(m)) } }
            @if row.underspend_flag {
                td class="clawback" { (underspend_words(row, r)) }
            } @else {
                td { (underspend_words(row, r)) }
            }
            @if schedules {
                td class="noprint" {
                    // One word: the column's heading and the row's grant say whose.
                    a id={ "schedule-" (row.grant) } href={ "/grants/" (row.grant) "/awards/" (r.financial_year) "/payment-schedule" } {
                        "Schedule"
                    }
                }
            }
        }
    }
}
