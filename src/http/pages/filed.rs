//! The dashboard's record of what was sent: which quarters are locked, and every return
//! filed for the year, each with its download and a mark when the ledger has since changed
//! a figure of it.

use super::html::esc;
use crate::model::quarters::QuarterState;
use crate::model::returns::FiledReturn;

/// A filed return as the dashboard lists it, with whether its figures have changed since.
pub struct Filed {
    pub record: FiledReturn,
    pub changed: bool,
}

/// The section: the four quarters' lock state, then the filed returns, newest first.
pub fn section(quarters: &[QuarterState], filed: &[Filed]) -> String {
    let quarter_rows: String = quarters
        .iter()
        .map(|q| {
            let state = if q.locked { "Locked" } else { "Open" };
            let since = match (&q.changed_by, &q.changed_at) {
                (Some(by), Some(at)) => format!("{} by {}: {}", esc(at), esc(by), esc(&q.reason)),
                _ => String::new(),
            };
            format!(
                "<tr><th scope=\"row\">Q{}</th><td class=\"lock lock-{}\">{state}</td><td>{since}</td></tr>",
                q.quarter,
                state.to_lowercase()
            )
        })
        .collect();
    let returns = if filed.is_empty() {
        "<p class=\"note\">No return has been filed for this year.</p>".to_owned()
    } else {
        let rows: String = filed
            .iter()
            .map(|f| {
                let r = &f.record;
                let mark =
                    if f.changed { "<td class=\"changed\">Changed since filing</td>" } else { "<td>Unchanged</td>" };
                format!(
                    "<tr><td>{id}</td><td>{kind}</td><td>Q{q}</td><td>{at}</td><td>{by}</td>\
                     <td><code title=\"{sha}\">{short}…</code></td>{mark}\
                     <td class=\"noprint\"><a href=\"/dashboard/returns/{id}/file\">Download</a></td></tr>",
                    id = r.id,
                    kind = esc(r.kind.as_str()),
                    q = r.quarter,
                    at = esc(&r.filed_at),
                    by = esc(&r.filed_by),
                    sha = esc(&r.sha256),
                    short = esc(&r.sha256[..r.sha256.len().min(12)]),
                )
            })
            .collect();
        format!(
            "<table class=\"filed\"><thead><tr><th scope=\"col\">No.</th><th scope=\"col\">Return</th>\
             <th scope=\"col\">Quarter</th><th scope=\"col\">Filed at (UTC)</th><th scope=\"col\">Filed by</th>\
             <th scope=\"col\">SHA-256</th><th scope=\"col\">Since</th><th scope=\"col\" class=\"noprint\">File</th>\
             </tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    format!(
        "<section aria-labelledby=\"h-filed\"><h2 id=\"h-filed\">Quarters and filed returns</h2>\
         <table class=\"quarters\"><thead><tr><th scope=\"col\">Quarter</th><th scope=\"col\">State</th>\
         <th scope=\"col\">Last change</th></tr></thead><tbody>{quarter_rows}</tbody></table>{returns}</section>"
    )
}
