//! The year's grant agreements as a table: one line per agreement with its part in the year,
//! what was paid, clawed back and evidenced. The CLI's `agreement list` prints it.

use super::columns::{self, Column, Kind, text_cell};
use super::csv_out::Cell;
use crate::domain::FinancialYear;
use crate::model::agreements::CommitmentDetail;

/// One agreement, read in one financial year (its part is that year's).
pub struct AgreementLine<'a> {
    pub agreement: &'a CommitmentDetail,
    pub year: FinancialYear,
}

/// The table's columns (a function, not a constant, as a line borrows its agreement).
pub fn columns<'a>() -> [Column<AgreementLine<'a>>; 12] {
    use Kind::{Money, Text, Whole};
    [
        Column::new("id", Whole, |l| Cell::Number(l.agreement.commitment_id.to_string())),
        Column::new("partner", Text, |l| text_cell(l.agreement.recipient_name.as_deref().unwrap_or_default())),
        Column::new("purpose", Text, |l| text_cell(l.agreement.purpose.as_deref().unwrap_or_default())),
        Column::new("period", Text, |l| text_cell(&l.agreement.period())),
        Column::new("part_this_year", Money, |l| columns::money(l.agreement.part_in(l.year))),
        Column::new("amount", Money, |l| columns::money(l.agreement.amount)),
        Column::new("paid", Money, |l| columns::money(l.agreement.paid)),
        Column::new("clawed_back", Money, |l| columns::money(l.agreement.clawed_back)),
        Column::new("evidenced", Money, |l| columns::money(l.agreement.evidenced)),
        Column::new("unevidenced", Money, |l| columns::money(l.agreement.unevidenced)),
        Column::new("outstanding", Money, |l| columns::money(l.agreement.outstanding)),
        Column::new("evidence", Text, |l| text_cell(l.agreement.evidence_status.map_or("awaited", |s| s.as_str()))),
    ]
}
