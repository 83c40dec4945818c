//! The typed columns of an entry: what reports, exports, checks and imports read of it.
//!
//! Each is the value of the same-named key of the entry's `details` (`refund_of` is
//! `spend_entry_id`, `vat_pence` is `vat` in pence), and `of` is the one place that says so:
//! every write fills the columns through it, and `verify` holds every stored entry's columns
//! to its chained `details` through it. Migration 0019 says the same in SQL for the entries
//! written before it. So `details` stays byte for byte what its link covers, and a column
//! edited in the database is named (docs/controls.md, "Entry columns").
//!
//! `amount_pence` is the one column from the postings instead: the sum of the entry's
//! debits, what the entries list shows, totals and bounds without an account filter, so the
//! list need not sum each entry's postings (migration 0024). `of` takes it from the postings
//! as written, and `verify` from the postings as chained.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{StoreError, rows};
use crate::domain::Money;

/// The typed columns of one entry; `None` where its details have no such value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryColumns {
    pub project: Option<String>,
    pub supplier: Option<String>,
    pub invoice_ref: Option<String>,
    pub reference: Option<String>,
    pub vat: Option<Vat>,
    pub refund_of: Option<i64>,
    pub duplicate_of: Option<i64>,
    /// The import that made it (migration 0022).
    pub import_id: Option<i64>,
    /// The sum of its postings' debits (migration 0024): `model::entries::total_of`.
    pub amount: Money,
}

/// An entry's VAT and whether it is recoverable: recorded together or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vat {
    pub amount: Money,
    pub recoverable: bool,
}

/// The columns, in the order `bind` binds them.
pub const NAMES: [&str; 10] = [
    "project",
    "supplier",
    "invoice_ref",
    "reference",
    "vat_pence",
    "vat_recoverable",
    "refund_of",
    "duplicate_of",
    "import_id",
    "amount_pence",
];

/// `NAMES` as a select list with a table alias: `e.project, e.supplier, …`.
pub fn select_list(alias: &str) -> String {
    NAMES.iter().map(|n| format!("{alias}.{n}")).collect::<Vec<_>>().join(", ")
}

impl EntryColumns {
    /// The columns `details` gives, and the amount of the postings' signed pence `postings`.
    pub fn of(details: &serde_json::Value, postings: impl IntoIterator<Item = i64>) -> EntryColumns {
        let text = |k: &str| details.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let id = |k: &str| details.get(k).and_then(|v| v.as_i64());
        let vat = details.get("vat").and_then(|v| v.as_str()).and_then(|v| Money::parse(v).ok());
        let recoverable = details.get("vat_recoverable").and_then(|v| v.as_bool());
        EntryColumns {
            project: text("project"),
            supplier: text("supplier"),
            invoice_ref: text("invoice_ref"),
            reference: text("reference"),
            // A stored pair the write path never splits; `verify` names a row where one is
            // missing, since `read` refuses it.
            vat: vat.zip(recoverable).map(|(amount, recoverable)| Vat { amount, recoverable }),
            refund_of: id("spend_entry_id"),
            duplicate_of: id("duplicate_of"),
            import_id: id("import_id"),
            amount: Money::from_pence(postings.into_iter().filter(|p| *p > 0).sum()),
        }
    }

    /// Binds the columns in `NAMES` order.
    pub fn bind<'q>(
        &'q self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        q.bind(self.project.as_deref())
            .bind(self.supplier.as_deref())
            .bind(self.invoice_ref.as_deref())
            .bind(self.reference.as_deref())
            .bind(self.vat.map(|v| v.amount.pence()))
            .bind(self.vat.map(|v| i64::from(v.recoverable)))
            .bind(self.refund_of)
            .bind(self.duplicate_of)
            .bind(self.import_id)
            .bind(self.amount.pence())
    }

    /// The columns of a row of `entries` selected with `NAMES` (unaliased), naming the row's
    /// `key` where a value is outside its type or VAT is half recorded.
    pub fn read(row: &AnyRow, key: &[&str]) -> Result<EntryColumns, StoreError> {
        let bad = |e| rows::corrupt(row, "entries", key, e);
        let amount: Option<i64> = row.try_get("vat_pence").map_err(bad)?;
        let recoverable: Option<i64> = row.try_get("vat_recoverable").map_err(bad)?;
        let vat = match (amount, recoverable) {
            (None, None) => None,
            (Some(pence), Some(flag @ (0 | 1))) => {
                Some(Vat { amount: Money::from_pence(pence), recoverable: flag == 1 })
            }
            (Some(_), Some(flag)) => {
                return Err(rows::named(row, "entries", key, "vat_recoverable", &format!("{flag} is not 0 or 1")));
            }
            (Some(_), None) => return Err(rows::named(row, "entries", key, "vat_recoverable", "is null beside a VAT")),
            (None, Some(_)) => {
                return Err(rows::named(row, "entries", key, "vat_pence", "is null beside vat_recoverable"));
            }
        };
        Ok(EntryColumns {
            project: row.try_get("project").map_err(bad)?,
            supplier: row.try_get("supplier").map_err(bad)?,
            invoice_ref: row.try_get("invoice_ref").map_err(bad)?,
            reference: row.try_get("reference").map_err(bad)?,
            vat,
            refund_of: row.try_get("refund_of").map_err(bad)?,
            duplicate_of: row.try_get("duplicate_of").map_err(bad)?,
            import_id: row.try_get("import_id").map_err(bad)?,
            amount: Money::from_pence(row.try_get("amount_pence").map_err(bad)?),
        })
    }

    /// The columns where `self` (as stored) differs from `expected` (as the details give).
    pub fn differing(&self, expected: &EntryColumns) -> Vec<&'static str> {
        let vat_amount = |c: &EntryColumns| c.vat.map(|v| v.amount);
        let vat_recoverable = |c: &EntryColumns| c.vat.map(|v| v.recoverable);
        [
            ("project", self.project != expected.project),
            ("supplier", self.supplier != expected.supplier),
            ("invoice_ref", self.invoice_ref != expected.invoice_ref),
            ("reference", self.reference != expected.reference),
            ("vat_pence", vat_amount(self) != vat_amount(expected)),
            ("vat_recoverable", vat_recoverable(self) != vat_recoverable(expected)),
            ("refund_of", self.refund_of != expected.refund_of),
            ("duplicate_of", self.duplicate_of != expected.duplicate_of),
            ("import_id", self.import_id != expected.import_id),
            ("amount_pence", self.amount != expected.amount),
        ]
        .into_iter()
        .filter_map(|(name, differs)| differs.then_some(name))
        .collect()
    }

    /// The VAT an entry charged its budget on top of the net: the VAT where irrecoverable.
    pub fn irrecoverable_vat(&self) -> Money {
        match self.vat {
            Some(Vat { amount, recoverable: false }) => amount,
            _ => Money::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_the_details_keys() {
        let d = serde_json::json!({
            "project": "P1", "supplier": "Youth Trust", "invoice_ref": "INV-1", "vat": "20.00",
            "vat_recoverable": false, "charged": "120.00", "spend_entry_id": 7, "duplicate_of": 3, "import_id": 5,
        });
        let c = EntryColumns::of(&d, [12_000, -10_000, -2_000]);
        assert_eq!(c.project.as_deref(), Some("P1"));
        assert_eq!(c.supplier.as_deref(), Some("Youth Trust"));
        assert_eq!(c.invoice_ref.as_deref(), Some("INV-1"));
        assert_eq!(c.reference, None);
        assert_eq!(c.vat, Some(Vat { amount: Money::from_pence(2000), recoverable: false }));
        assert_eq!(c.irrecoverable_vat(), Money::from_pence(2000));
        assert_eq!((c.refund_of, c.duplicate_of, c.import_id), (Some(7), Some(3), Some(5)));
        assert_eq!(c.amount, Money::from_pence(12_000));
        assert_eq!(EntryColumns::of(&serde_json::json!({ "reason": "x" }), []), EntryColumns::default());
        let mut edited = c.clone();
        edited.supplier = Some("Other".into());
        edited.vat = Some(Vat { amount: Money::from_pence(2000), recoverable: true });
        edited.amount = Money::from_pence(1);
        assert_eq!(edited.differing(&c), ["supplier", "vat_recoverable", "amount_pence"]);
    }
}
