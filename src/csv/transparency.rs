//! Spend as the Local Government Transparency Code "expenditure over £500" CSV.
//!
//! Columns: date, department, beneficiary, purpose, amount, irrecoverable VAT, merchant
//! category. The ledger records spend net of recoverable VAT and does not record
//! irrecoverable VAT or purchase-card merchant categories, so those two columns are blank
//! rather than a made-up figure. Refunds and reversals appear as negative amounts.

use super::defuse::defuse;
use crate::domain::Money;
use crate::model::exports::SpendRow;

/// The Code asks for each item of expenditure over £500; smaller lines are left out.
pub const THRESHOLD_PENCE: i64 = 50_000;

pub const HEADER: [&str; 7] =
    ["Date", "Department", "Beneficiary", "Purpose", "Amount", "Irrecoverable VAT", "Merchant category"];

/// Writes the rows over the threshold. Every text cell is defused; amounts are numbers.
pub fn write(partnership: &str, rows: &[SpendRow]) -> String {
    let mut w = ::csv::WriterBuilder::new().from_writer(Vec::new());
    w.write_record(HEADER).expect("writing to memory");
    for r in rows.iter().filter(|r| r.amount.pence().abs() > THRESHOLD_PENCE) {
        let department = format!("{partnership} ({})", r.grant);
        let purpose = match r.kind.as_str() {
            "reversal" => format!("Reversal: {}", r.memo),
            "refund" => format!("Refund: {}", r.memo),
            _ => r.memo.clone(),
        };
        let amount: Money = r.amount;
        w.write_record([
            r.date.as_str(),
            &defuse(&department),
            &defuse(&r.supplier),
            &defuse(&purpose),
            &amount.to_string(),
            "",
            "",
        ])
        .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("csv of UTF-8 text is UTF-8")
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
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Date,Department,Beneficiary,Purpose,Amount,Irrecoverable VAT,Merchant category");
        assert_eq!(lines[1], "2023-05-01,Tamworth CSP (LDF),'=cmd|' /C calc'!A0,'@SUM(1),500.01,,");
        assert_eq!(lines[2], "2023-05-01,Tamworth CSP (LDF),Youth Trust,Refund: credit note,-600.00,,");
        assert_eq!(lines.len(), 3, "exactly £500 is not over £500");
    }
}
