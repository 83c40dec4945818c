//! The dashboard's partners' agreements (docs/agreements.md): every grant agreement with a
//! part in the year shown, with its partner, period, this year's part, what was paid, clawed
//! back and evidenced, what is still to be accounted for and committed, and the latest
//! evidence's status; then any evidence reversed as recorded in error, with the reason. The
//! figures are `commitment_detail`'s, as the API and the CLI give them.

use super::dashboard::pounds;
use super::html::esc;
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

/// The section for `year`.
pub fn section(year: FinancialYear, agreements: &[CommitmentDetail]) -> String {
    let intro = "<p class=\"note\">Grant agreements with a part in this year, as the ledger stands now. Unevidenced is \
                 paid less clawed back less what the partner has evidenced; outstanding is still committed, every \
                 year. Evidence is the latest evidence's status; evidence reversed as recorded in error counts for nothing.</p>";
    if agreements.is_empty() {
        return format!(
            "<section aria-labelledby=\"h-partners\"><h2 id=\"h-partners\">Partners' agreements</h2>{intro}\
             <p class=\"note\" id=\"no-agreements\">No grant agreement has a part in {}.</p></section>",
            esc(&year.to_string())
        );
    }
    let rows: String = agreements
        .iter()
        .map(|a| {
            let part = a.part_in(year);
            let period = a.period();
            let figures: String = [part, a.amount, a.paid, a.clawed_back, a.evidenced, a.unevidenced, a.outstanding]
                .iter()
                .map(|m| format!("<td class=\"num\">{}</td>", pounds(*m)))
                .collect();
            let (words, class) = evidence_words(a);
            format!(
                "<tr data-agreement=\"{id}\"><th scope=\"row\">{id}</th><td>{partner}</td><td>{purpose}</td>\
                 <td>{period}</td>{figures}<td class=\"evidence evidence-{class}\">{words}</td></tr>",
                id = a.commitment_id,
                partner = esc(a.recipient_name.as_deref().unwrap_or_default()),
                purpose = esc(a.purpose.as_deref().unwrap_or_default()),
                period = esc(&period),
            )
        })
        .collect();
    let heads: String =
        ["This year's part", "Whole agreement", "Paid", "Clawed back", "Evidenced", "Unevidenced", "Outstanding"]
            .iter()
            .map(|h| format!("<th scope=\"col\" class=\"num\">{h}</th>"))
            .collect();
    format!(
        "<section aria-labelledby=\"h-partners\"><h2 id=\"h-partners\">Partners' agreements</h2>{intro}\
         <table id=\"agreements\" class=\"figures\"><caption>Grant agreements with a part in {year}</caption>\
         <thead><tr><th scope=\"col\">No.</th><th scope=\"col\">Partner</th><th scope=\"col\">Purpose</th>\
         <th scope=\"col\">Period</th>{heads}<th scope=\"col\">Evidence</th></tr></thead>\
         <tbody>{rows}</tbody></table>{reversed}</section>",
        year = esc(&year.to_string()),
        reversed = reversed(agreements),
    )
}

/// Evidence reversed as recorded in error: what it was, when and why it was reversed. The
/// figures above no longer count it. Nothing where none was reversed.
fn reversed(agreements: &[CommitmentDetail]) -> String {
    let rows: String = agreements
        .iter()
        .flat_map(|a| a.evidence.iter().filter_map(move |e| e.reversal.as_ref().map(|r| (a, e, r))))
        .map(|(a, e, r)| {
            format!(
                "<tr data-evidence=\"{id}\"><th scope=\"row\">{agreement}</th><td>{id}</td><td>{recorded}</td>\
                 <td class=\"num\">{amount}</td><td>{on}</td><td>{reason}</td></tr>",
                agreement = a.commitment_id,
                id = e.id,
                recorded = esc(&e.date.to_string()),
                amount = pounds(e.amount_evidenced),
                on = esc(&r.date.to_string()),
                reason = esc(&r.reason),
            )
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "<table id=\"evidence-reversed\" class=\"figures\"><caption>Evidence reversed as recorded in error\
         </caption><thead><tr><th scope=\"col\">Agreement</th><th scope=\"col\">Evidence</th>\
         <th scope=\"col\">Dated</th><th scope=\"col\" class=\"num\">Amount</th><th scope=\"col\">Reversed on</th>\
         <th scope=\"col\">Reason</th></tr></thead><tbody>{rows}</tbody></table>"
    )
}
