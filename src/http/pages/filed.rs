//! The dashboard's record of what was sent: which quarters are locked, and every return
//! filed for the year, each with its download and a mark when the ledger has since changed
//! a figure of it.

use maud::{Markup, html};

use crate::model::quarters::QuarterState;
use crate::model::returns::FiledReturn;

/// A filed return as the dashboard lists it, with whether its figures have changed since.
pub struct Filed {
    pub record: FiledReturn,
    pub changed: bool,
}

/// The section: the four quarters' lock state, then the filed returns, newest first.
pub fn section(quarters: &[QuarterState], filed: &[Filed]) -> Markup {
    html! {
        section aria-labelledby="h-filed" {
            h2 id="h-filed" { "Quarters and filed returns" }
            @if let Some(q) = quarters.first() {
                p class="noprint" {
                    a id="year-page" href={ "/financial-years/" (q.financial_year) } {
                        "Lock a quarter, file a return or close " (q.financial_year)
                    }
                }
            }
            table class="quarters" {
                thead { tr { th scope="col" { "Quarter" } th scope="col" { "State" } th scope="col" { "Last change" } } }
                tbody { @for q in quarters { (quarter_row(q)) } }
            }
            @if filed.is_empty() {
                p class="note" { "No return has been filed for this year." }
            } @else {
                table class="filed" {
                    thead { tr {
                        th scope="col" { "No." } th scope="col" { "Return" } th scope="col" { "Quarter" }
                        th scope="col" { "Filed at (UTC)" } th scope="col" { "Filed by" } th scope="col" { "SHA-256" }
                        th scope="col" { "Since" } th scope="col" class="noprint" { "File" }
                    } }
                    tbody { @for f in filed { (filed_row(f)) } }
                }
            }
        }
    }
}

fn quarter_row(q: &QuarterState) -> Markup {
    let state = if q.locked { "Locked" } else { "Open" };
    html! {
        tr {
            th scope="row" { "Q" (q.quarter) }
            td class={ "lock lock-" (state.to_lowercase()) } { (state) }
            td {
                @if let (Some(by), Some(at)) = (&q.changed_by, &q.changed_at) { (at) " by " (by) ": " (q.reason) }
            }
        }
    }
}

fn filed_row(f: &Filed) -> Markup {
    let r = &f.record;
    html! {
        tr {
            td { a href={ "/returns/" (r.id) } { (r.id) } }
            td { (r.kind.as_str()) }
            td { "Q" (r.quarter) }
            td { (r.filed_at) }
            td { (r.filed_by) }
            td { code title=(r.sha256) { (r.sha256[..r.sha256.len().min(12)]) "…" } }
            @if f.changed { td class="changed" { "Changed since filing" } } @else { td { "Unchanged" } }
            td class="noprint" { a href={ "/dashboard/returns/" (r.id) "/file" } { "Download" } }
        }
    }
}
