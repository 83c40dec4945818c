//! What the lists people search by share (docs/desk.md, "Finding things"): the order of the
//! entries list, whether commitments are open or all, and the filters of the commitments,
//! virements and filed returns lists. The entries' filter is `entries::EntryFilter`, the
//! audit trail's `audit::AuditFilter`.

use chrono::NaiveDate;

use crate::domain::status::ReturnKind;
use crate::domain::{FinancialYear, VirementStatus};

crate::domain::words::word_set!(
    /// The order of the entries list: by id, as recorded (the default), or by entry date,
    /// then id.
    EntrySort, "sort", { Id => "id", Date => "date" }
);

// `word_set!` makes the enum, so its default cannot be derived on it.
#[allow(clippy::derivable_impls)]
impl Default for EntrySort {
    fn default() -> EntrySort {
        EntrySort::Id
    }
}

crate::domain::words::word_set!(
    /// The form a list page answers in: the page (the default) or every row it finds as CSV.
    ListFormat, "format", { Html => "html", Csv => "csv" }
);

crate::domain::words::word_set!(
    /// Which commitments a list holds: those with something outstanding, or every one.
    Standing, "status", { Open => "open", All => "all" }
);

/// Filters of `GET /commitments`; each optional. Text matches are case-insensitive and
/// match anywhere in the value.
#[derive(Debug, Default, Clone)]
pub struct CommitmentFilter {
    /// Only commitments with something outstanding.
    pub open_only: bool,
    pub grant: Option<String>,
    pub financial_year: Option<FinancialYear>,
    pub project: Option<String>,
    pub supplier: Option<String>,
    /// Inclusive, on the commitment's date.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Filters of `GET /virements`; each optional.
#[derive(Debug, Default, Clone)]
pub struct VirementFilter {
    pub status: Option<VirementStatus>,
    pub financial_year: Option<FinancialYear>,
    pub grant: Option<String>,
    /// A project the virement moves money from or to.
    pub project: Option<String>,
    /// Inclusive, on the decision date (`approved_on`).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Filters of `GET /returns`; each optional.
#[derive(Debug, Default, Clone)]
pub struct ReturnFilter {
    pub kind: Option<ReturnKind>,
    pub financial_year: Option<FinancialYear>,
    /// Inclusive, on the UTC date it was filed.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// A text to search for as SQL `like` matches it anywhere, lower-cased, its `\`, `%` and
/// `_` escaped (the query says `escape '\'`), so what a person types is matched literally.
pub fn contains_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_text_is_matched_literally() {
        assert_eq!(contains_pattern("Youth"), "%youth%");
        assert_eq!(contains_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
        assert_eq!(EntrySort::parse("date"), Some(EntrySort::Date));
        assert_eq!(Standing::parse("closed"), None);
    }
}
