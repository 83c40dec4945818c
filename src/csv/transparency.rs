//! Spend as the Local Government Transparency Code "expenditure over £500" CSV.
//!
//! Columns: date, department, beneficiary, purpose, amount, irrecoverable VAT, merchant
//! category. Amount is net of VAT; "Irrecoverable VAT" is the VAT a line charged to the
//! budget beside it (blank where there is none), so the two add up to what the budget bore.
//! The ledger does not record purchase-card merchant categories: that column is blank
//! rather than a made-up figure. Refunds and reversals appear as negative amounts. The
//! £500 threshold applies to the net amount, as the Code's "expenditure over £500" does.

use crate::domain::text::defuse;
use crate::domain::{EntryKind, Money};
use crate::model::exports::SpendRow;

/// The Code asks for each item of expenditure over £500; smaller lines are left out.
pub const THRESHOLD_PENCE: i64 = 50_000;

pub const HEADER: [&str; 7] =
    ["Date", "Department", "Beneficiary", "Purpose", "Amount", "Irrecoverable VAT", "Merchant category"];

/// Writes the rows over the threshold, RFC 4180 (CRLF) as every other CSV the ledger writes.
/// Every text cell is defused; amounts are numbers.
pub fn write(partnership: &str, rows: &[SpendRow]) -> String {
    let mut w = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(Vec::new());
    w.write_record(HEADER).expect("writing to memory");
    for r in rows.iter().filter(|r| net(r).pence().abs() > THRESHOLD_PENCE) {
        let department = format!("{partnership} ({})", r.grant);
        let purpose = {
            use EntryKind::*;
            match EntryKind::parse(&r.kind) {
                Some(Reversal) => format!("Reversal: {}", r.memo),
                Some(Refund) => format!("Refund: {}", r.memo),
                // Only spends, refunds and their reversals charge `spent`; the rest never come here.
                Some(
                    Spend | Award | Allocation | Virement | Commitment | Release | YearEnd | CarryForward | Receipt
                    | Repayment | Share | Reallocation,
                )
                | None => r.memo.clone(),
            }
        };
        let amount: Money = net(r);
        let vat = if r.irrecoverable_vat == Money::ZERO { String::new() } else { r.irrecoverable_vat.to_string() };
        w.write_record([
            r.date.as_str(),
            &defuse(&department),
            &defuse(&r.supplier),
            &defuse(&purpose),
            &amount.to_string(),
            &vat,
            "",
        ])
        .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("csv of UTF-8 text is UTF-8")
}

/// A row's amount net of its irrecoverable VAT.
fn net(r: &SpendRow) -> Money {
    Money::from_pence(r.amount.pence() - r.irrecoverable_vat.pence())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, supplier: &str, memo: &str, pence: i64) -> SpendRow {
        SpendRow {
            entry_id: 1,
            date: "2023-05-01".into(),
            kind: kind.into(),
            grant: "LDF".into(),
            memo: memo.into(),
            supplier: supplier.into(),
            amount: Money::from_pence(pence),
            irrecoverable_vat: Money::ZERO,
        }
    }

    #[test]
    fn only_lines_over_500_pounds_are_written_and_text_is_defused() {
        let text = write(
            "Tamworth CSP",
            &[
                row("spend", "=cmd|' /C calc'!A0", "@SUM(1)", 50_001),
                row("spend", "Small Ltd", "tea", 50_000),
                row("refund", "Youth Trust", "credit note", -60_000),
            ],
        );
        let lines: Vec<&str> = text.split_terminator("\r\n").collect();
        assert!(!text.replace("\r\n", "").contains('\n'), "every line ends CRLF: {text:?}");
        assert_eq!(lines[0], "Date,Department,Beneficiary,Purpose,Amount,Irrecoverable VAT,Merchant category");
        assert_eq!(lines[1], "2023-05-01,Tamworth CSP (LDF),'=cmd|' /C calc'!A0,'@SUM(1),500.01,,");
        assert_eq!(lines[2], "2023-05-01,Tamworth CSP (LDF),Youth Trust,Refund: credit note,-600.00,,");
        assert_eq!(lines.len(), 3, "exactly £500 is not over £500");
    }

    #[test]
    fn irrecoverable_vat_fills_its_column_beside_the_net_amount() {
        let mut spend = row("spend", "Youth Trust", "mentoring", 72_000);
        spend.irrecoverable_vat = Money::from_pence(12_000);
        let mut refund = row("refund", "Youth Trust", "credit note", -12_000);
        refund.irrecoverable_vat = Money::from_pence(-2_000);
        let mut small = row("spend", "Small Ltd", "tea", 55_000);
        small.irrecoverable_vat = Money::from_pence(10_000);
        let text = write("Tamworth CSP", &[spend, refund, small]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "2023-05-01,Tamworth CSP (LDF),Youth Trust,mentoring,600.00,120.00,");
        assert_eq!(lines.len(), 2, "a £100 refund and a £450 net line are under £500");
    }
}
