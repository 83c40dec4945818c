//! The dashboard's partners' agreements (docs/agreements.md): every grant agreement with a
//! part in the year shown, with its partner, period, this year's part, what was paid, clawed
//! back and evidenced, what is still to be accounted for and committed, and the latest
//! evidence's status; then any evidence reversed as recorded in error, with the reason. The
//! figures are `commitment_detail`'s, as the API and the CLI give them.

use maud::{Markup, html};

use super::dashboard::pounds;
use crate::domain::FinancialYear;
use crate::model::agreements::CommitmentDetail;

/// The latest evidence's status in words; "Awaited" before any.
fn evidence_words(a: &CommitmentDetail) -> (&'static str, &'static str) {
    match a.evidence_status {
        None => ("Awaited", "awaited"),
        Some(crate::domain::EvidenceStatus::Satisfactory) => ("Satisfactory", "satisfactory"),
        Some(crate::domain::EvidenceStatus::Partial) => ("Partial", "partial"),
        Some(crate::domain::EvidenceStatus::None) => ("None provided", "none"),
    }
}

const HEADS: [&str; 7] =
    ["This year's part", "Whole agreement", "Paid", "Clawed back", "Evidenced", "Unevidenced", "Outstanding"];

/// The section for `year`.
pub fn section(year: FinancialYear, agreements: &[CommitmentDetail]) -> Markup {
    html! {
        section aria-labelledby="h-partners" {
            h2 id="h-partners" { "Partners' agreements" }
            p class="note" {
                "Grant agreements with a part in this year, as the ledger stands now. Unevidenced is \
                 paid less clawed back less what the partner has evidenced; outstanding is still committed, every \
                 year. Evidence is the latest evidence's status; evidence reversed as recorded in error counts for nothing."
            }
            @if agreements.is_empty() {
                p class="note" id="no-agreements" { "No grant agreement has a part in " (year) "." }
            } @else {
                table id="agreements" class="figures" {
                    caption { "Grant agreements with a part in " (year) }
                    thead { tr {
                        th scope="col" { "No." } th scope="col" { "Partner" } th scope="col" { "Purpose" }
                        th scope="col" { "Period" }
                        @for h in HEADS { th scope="col" class="num" { (h) } }
                        th scope="col" { "Evidence" }
                    } }
                    tbody { @for a in agreements { (agreement_row(year, a)) } }
                }
                (reversed(agreements))
            }
        }
    }
}

fn agreement_row(year: FinancialYear, a: &CommitmentDetail) -> Markup {
    let figures = [a.part_in(year), a.amount, a.paid, a.clawed_back, a.evidenced, a.unevidenced, a.outstanding];
    let (words, class) = evidence_words(a);
    html! {
        tr data-agreement=(a.commitment_id) {
            th scope="row" { (a.commitment_id) }
            td { (a.recipient_name.as_deref().unwrap_or_default()) }
            td { (a.purpose.as_deref().unwrap_or_default()) }
            td { (a.period()) }
            @for m in figures { td class="num" { (pounds(m)) } }
            td class={ "evidence evidence-" (class) } { (words) }
        }
    }
}

/// Evidence reversed as recorded in error: what it was, when and why it was reversed. The
/// figures above no longer count it. Nothing where none was reversed.
fn reversed(agreements: &[CommitmentDetail]) -> Markup {
    let reversed: Vec<_> = agreements
        .iter()
        .flat_map(|a| a.evidence.iter().filter_map(move |e| e.reversal.as_ref().map(|r| (a, e, r))))
        .collect();
    if reversed.is_empty() {
        return html! {};
    }
    html! {
        table id="evidence-reversed" class="figures" {
            caption { "Evidence reversed as recorded in error" }
            thead { tr {
                th scope="col" { "Agreement" } th scope="col" { "Evidence" } th scope="col" { "Dated" }
                th scope="col" class="num" { "Amount" } th scope="col" { "Reversed on" } th scope="col" { "Reason" }
            } }
            tbody {
                @for (a, e, r) in reversed {
                    tr data-evidence=(e.id) {
                        th scope="row" { (a.commitment_id) }
                        td { (e.id) }
                        td { (e.date) }
                        td class="num" { (pounds(e.amount_evidenced)) }
                        td { (r.date) }
                        td { (r.reason) }
                    }
                }
            }
        }
    }
}
