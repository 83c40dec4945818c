//! The funder's reconciliation of a year (docs/api.md, "Reconciliation"): what the funder
//! says it paid each partnership against what the partnership's ledger has received from
//! it. Totals are matched per (partnership, grant, year), and each payment is matched one
//! for one with a receipt of the same amount, so a payment not yet receipted is listed even
//! where the totals agree by chance. Only the home partnership's ledger is in this service
//! today: payments to the others are listed as `not_held`, never shown as not received.
//! `build` is pure; `run` reads through storage.

use std::collections::BTreeMap;

use serde::Serialize;

use super::columns::{Column, Kind, cells, money, names, text_cell};
use super::csv_out::Cell;
use crate::domain::{FinancialYear, Money};
use crate::model::funds::PaymentRecord;
use crate::storage::funder_payments::{self, Receipt};
use crate::storage::{Store, StoreError};

crate::domain::words::word_set!(
    /// How what a funder paid stands against what the partnership received.
    ReconciliationStatus, "reconciliation status", {
        Matched => "matched",
        /// Paid by the funder, nothing received yet.
        PaidNotReceived => "paid_not_received",
        /// Received, with no payment recorded by the funder.
        ReceivedNotPaid => "received_not_paid",
        /// Both, in different totals.
        Differs => "differs",
    }
);

impl ReconciliationStatus {
    /// The status of a pair of totals; none where neither has anything.
    pub fn of(paid: Money, received: Money) -> Option<ReconciliationStatus> {
        use ReconciliationStatus::*;
        match (paid.is_positive(), received.is_positive()) {
            (false, false) if paid == received => None,
            _ if paid == received => Some(Matched),
            (true, false) => Some(PaidNotReceived),
            (false, true) => Some(ReceivedNotPaid),
            _ => Some(Differs),
        }
    }
}

/// One partnership's grant for the year: paid against received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReconciliationRow {
    pub partnership: String,
    pub grant: String,
    /// What the funder recorded paying.
    pub paid: Money,
    /// The partnership ledger's receipts from the funder, net of reversed ones.
    pub received: Money,
    /// Paid less received.
    pub difference: Money,
    pub status: ReconciliationStatus,
}

/// A payment no receipt of the same amount answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnmatchedPayment {
    pub partnership: String,
    pub grant: String,
    pub id: i64,
    #[schema(format = Date)]
    pub date: chrono::NaiveDate,
    pub amount: Money,
    pub reference: String,
}

/// Payments to a partnership whose ledger this service does not hold: nothing to hold them to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NotHeld {
    pub partnership: String,
    pub grant: String,
    pub paid: Money,
}

/// The reconciliation of a year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    pub financial_year: FinancialYear,
    pub funder: String,
    /// By partnership, then grant.
    pub rows: Vec<ReconciliationRow>,
    /// Each payment without a receipt of its amount, by partnership, grant and date.
    pub unmatched_payments: Vec<UnmatchedPayment>,
    /// By partnership, then grant.
    pub not_held: Vec<NotHeld>,
}

fn plus(a: Money, b: Money) -> Money {
    a.checked_add(b).expect("report sums stay within i64")
}

/// The rows, the unmatched payments and the payments not held, from the payments (each
/// with whether its partnership is the home one, `home`) and the home ledger's receipts.
pub fn build(
    home: Option<&str>,
    payments: &[(PaymentRecord, bool)],
    receipts: &[Receipt],
) -> (Vec<ReconciliationRow>, Vec<UnmatchedPayment>, Vec<NotHeld>) {
    let mut held: BTreeMap<(String, String), (Money, Money)> = BTreeMap::new();
    let mut not_held: BTreeMap<(String, String), Money> = BTreeMap::new();
    let mut unmatched = Vec::new();
    if let Some(home) = home {
        for r in receipts {
            let t = held.entry((home.to_owned(), r.grant.clone())).or_default();
            t.1 = plus(t.1, r.amount);
        }
    }
    // Each receipt answers at most one payment, earliest first.
    let mut unused: Vec<&Receipt> = receipts.iter().collect();
    for (p, is_home) in payments {
        let key = (p.partnership.clone(), p.grant.clone());
        if !is_home {
            let t = not_held.entry(key).or_default();
            *t = plus(*t, p.amount);
            continue;
        }
        let t = held.entry(key).or_default();
        t.0 = plus(t.0, p.amount);
        match unused.iter().position(|r| r.grant == p.grant && r.amount == p.amount) {
            Some(i) => {
                unused.remove(i);
            }
            None => unmatched.push(UnmatchedPayment {
                partnership: p.partnership.clone(),
                grant: p.grant.clone(),
                id: p.id,
                date: p.date,
                amount: p.amount,
                reference: p.reference.clone(),
            }),
        }
    }
    let rows = held
        .into_iter()
        .filter_map(|((partnership, grant), (paid, received))| {
            let status = ReconciliationStatus::of(paid, received)?;
            let difference = Money::from_pence(paid.pence() - received.pence());
            Some(ReconciliationRow { partnership, grant, paid, received, difference, status })
        })
        .collect();
    let not_held =
        not_held.into_iter().map(|((partnership, grant), paid)| NotHeld { partnership, grant, paid }).collect();
    (rows, unmatched, not_held)
}

/// The reconciliation's columns: the CSV header and the JSON fields of a row, in order.
pub const COLUMNS: [Column<ReconciliationRow>; 6] = {
    use Kind::{Money, Text};
    [
        Column::new("partnership", Text, |r| text_cell(&r.partnership)),
        Column::new("grant", Text, |r| text_cell(&r.grant)),
        Column::new("paid", Money, |r| money(r.paid)),
        Column::new("received", Money, |r| money(r.received)),
        Column::new("difference", Money, |r| money(r.difference)),
        Column::new("status", Text, |r| text_cell(r.status.as_str())),
    ]
};

pub const CSV_HEADER: [&str; 6] = names(&COLUMNS);

/// The rows as CSV cells under `CSV_HEADER`.
pub fn csv_rows(r: &Reconciliation) -> Vec<Vec<Cell>> {
    r.rows.iter().map(|row| cells(&COLUMNS, row)).collect()
}

/// `funder`'s reconciliation of `year`.
pub async fn run(store: &Store, funder: &str, year: FinancialYear) -> Result<Reconciliation, StoreError> {
    let home = funder_payments::home_partnership(store, funder).await?;
    let payments = funder_payments::payments_of_year(store, funder, year).await?;
    let receipts = funder_payments::home_receipts(store, funder, year).await?;
    let (rows, unmatched_payments, not_held) = build(home.as_deref(), &payments, &receipts);
    Ok(Reconciliation { financial_year: year, funder: funder.to_owned(), rows, unmatched_payments, not_held })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbp(pounds: i64) -> Money {
        Money::from_pence(pounds * 100)
    }

    fn paid(id: i64, partnership: &str, grant: &str, pounds: i64) -> PaymentRecord {
        PaymentRecord {
            id,
            partnership: partnership.into(),
            grant: grant.into(),
            financial_year: FinancialYear::parse("2022-23").unwrap(),
            date: crate::domain::parse_date("2022-05-01").unwrap(),
            amount: gbp(pounds),
            reference: format!("R{id}"),
            created_by: "t".into(),
        }
    }

    fn received(grant: &str, pounds: i64) -> Receipt {
        Receipt { grant: grant.into(), date: crate::domain::parse_date("2022-05-03").unwrap(), amount: gbp(pounds) }
    }

    #[test]
    fn totals_and_single_payments_are_matched() {
        use ReconciliationStatus::*;
        let payments = [
            (paid(1, "TAM", "LDF", 30_000), true),
            (paid(2, "TAM", "ASB", 10_000), true),
            (paid(3, "TAM", "SVF", 5_000), true),
            (paid(4, "CAN", "LDF", 20_000), false),
            (paid(5, "TAM", "YOU", 7), true),
            (paid(6, "TAM", "YOU", 3), true),
        ];
        let receipts = [received("LDF", 30_000), received("ASB", 9_000), received("GAP", 1), received("YOU", 10)];
        let (rows, unmatched, not_held) = build(Some("TAM"), &payments, &receipts);
        let got: Vec<(&str, ReconciliationStatus, i64)> =
            rows.iter().map(|r| (r.grant.as_str(), r.status, r.difference.pence())).collect();
        assert_eq!(
            got,
            [
                ("ASB", Differs, 100_000),
                ("GAP", ReceivedNotPaid, -100),
                ("LDF", Matched, 0),
                ("SVF", PaidNotReceived, 500_000),
                ("YOU", Matched, 0),
            ]
        );
        // The YOU totals agree, but neither £7 nor £3 was received as such.
        let ids: Vec<i64> = unmatched.iter().map(|u| u.id).collect();
        assert_eq!(ids, [2, 3, 5, 6]);
        assert_eq!(not_held, [NotHeld { partnership: "CAN".into(), grant: "LDF".into(), paid: gbp(20_000) }]);
        super::super::columns::tests::check_kinds(
            &COLUMNS,
            &rows.iter().map(|r| cells(&COLUMNS, r)).collect::<Vec<_>>(),
        );
    }

    #[test]
    fn nothing_either_side_is_no_row() {
        assert_eq!(ReconciliationStatus::of(Money::ZERO, Money::ZERO), None);
        let (rows, unmatched, _) = build(None, &[], &[received("LDF", 1)]);
        assert!(rows.is_empty() && unmatched.is_empty(), "no home partnership: its receipts are no one's");
    }

    #[test]
    fn a_rows_json_fields_are_its_columns_in_order() {
        let row = ReconciliationRow {
            partnership: "TAM".into(),
            grant: "LDF".into(),
            paid: gbp(1),
            received: gbp(1),
            difference: Money::ZERO,
            status: ReconciliationStatus::Matched,
        };
        let json = serde_json::to_string(&row).unwrap();
        let at: Vec<usize> = CSV_HEADER.iter().map(|n| json.find(&format!("\"{n}\":")).expect(n)).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{json}");
        assert_eq!(at.len(), json.matches("\":").count(), "{json}");
    }
}
