//! The part of `verify` that reads every typed column of every row the ledger reads as a
//! typed value (statuses, roles, kinds, dates, years, amounts, accounts) and names each row
//! that holds a value outside its type: one the API would answer with a 500.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, rows};
use crate::domain::status::ReturnKind;
use crate::domain::{
    Account, AccountKind, EntryKind, FinancialYear, OnOverspend, ProgressRag, ProjectStatus, Quantity, Role,
    VirementStatus, YearStatus, parse_date,
};

/// What a column must hold.
#[derive(Clone, Copy)]
enum Kind {
    /// A word of a closed set: its `WORDS` (`domain::words`).
    Word(&'static [&'static str]),
    Year,
    Date,
    /// A date, or null where the row has none (a purchase order's agreement dates).
    OptDate,
    Int,
    /// An integer, or null where the row has none (an entry's VAT, the spend a refund names).
    OptInt,
    /// 0 or 1, or null where the row has none (whether an entry's VAT is recoverable).
    OptFlag,
    Account,
    Quantity,
}

/// (table, key columns, typed columns).
type Table = (&'static str, &'static [&'static str], &'static [(&'static str, Kind)]);

const TABLES: &[Table] = &[
    (
        "financial_years",
        &["code"],
        &[
            ("code", Kind::Year),
            ("start_date", Kind::Date),
            ("end_date", Kind::Date),
            ("status", Kind::Word(&YearStatus::WORDS)),
        ],
    ),
    ("grants", &["code"], &[("on_overspend", Kind::Word(&OnOverspend::WORDS))]),
    (
        "quarter_locks",
        &["financial_year", "quarter"],
        &[("financial_year", Kind::Year), ("quarter", Kind::Int), ("locked", Kind::Int)],
    ),
    ("projects", &["code"], &[("status", Kind::Word(&ProjectStatus::WORDS))]),
    ("organisations", &["code"], &[("kind", Kind::Word(&crate::domain::OrgKind::WORDS))]),
    (
        "payment_schedules",
        &["grant_code", "financial_year", "line"],
        &[("financial_year", Kind::Year), ("line", Kind::Int), ("due_on", Kind::Date), ("amount_pence", Kind::Int)],
    ),
    ("tokens", &["id"], &[("role", Kind::Word(&Role::WORDS))]),
    ("awards", &["grant_code", "financial_year"], &[("financial_year", Kind::Year), ("awarded_on", Kind::Date)]),
    (
        "virements",
        &["id"],
        &[
            ("financial_year", Kind::Year),
            ("amount_pence", Kind::Int),
            ("approved_on", Kind::Date),
            ("status", Kind::Word(&VirementStatus::WORDS)),
        ],
    ),
    (
        "commitments",
        &["id"],
        &[
            ("financial_year", Kind::Year),
            ("amount_pence", Kind::Int),
            ("commitment_date", Kind::Date),
            ("kind", Kind::Word(&crate::domain::CommitmentKind::WORDS)),
            ("start_date", Kind::OptDate),
            ("end_date", Kind::OptDate),
        ],
    ),
    (
        "agreement_parts",
        &["commitment_id", "financial_year"],
        &[("financial_year", Kind::Year), ("amount_pence", Kind::Int)],
    ),
    (
        "agreement_evidence",
        &["id"],
        &[
            ("evidence_date", Kind::Date),
            ("amount_pence", Kind::Int),
            ("status", Kind::Word(&crate::domain::EvidenceStatus::WORDS)),
        ],
    ),
    ("evidence_reversals", &["evidence_id"], &[("reversal_date", Kind::Date)]),
    ("funds", &["grant_code", "financial_year"], &[("financial_year", Kind::Year), ("amount_pence", Kind::Int)]),
    (
        "fund_shares",
        &["grant_code", "financial_year", "partnership_id"],
        &[("financial_year", Kind::Year), ("amount_pence", Kind::Int)],
    ),
    (
        "reallocations",
        &["id"],
        &[("financial_year", Kind::Year), ("amount_pence", Kind::Int), ("reallocated_on", Kind::Date)],
    ),
    (
        "funder_payments",
        &["id"],
        &[("financial_year", Kind::Year), ("amount_pence", Kind::Int), ("paid_on", Kind::Date)],
    ),
    (
        "entries",
        &["id"],
        &[
            ("kind", Kind::Word(&EntryKind::WORDS)),
            ("entry_date", Kind::Date),
            ("financial_year", Kind::Year),
            ("vat_pence", Kind::OptInt),
            ("vat_recoverable", Kind::OptFlag),
            ("refund_of", Kind::OptInt),
            ("duplicate_of", Kind::OptInt),
            ("amount_pence", Kind::Int),
        ],
    ),
    (
        "postings",
        &["entry_id", "line"],
        &[("account", Kind::Account), ("amount_pence", Kind::Int), ("entry_date", Kind::Date)],
    ),
    ("balances", &["account"], &[("kind", Kind::Word(&AccountKind::WORDS)), ("balance_pence", Kind::Int)]),
    (
        "forecasts",
        &["id"],
        &[
            ("financial_year", Kind::Year),
            ("forecast_pence", Kind::Int),
            ("progress_rag", Kind::Word(&ProgressRag::WORDS)),
            ("made_on", Kind::Date),
        ],
    ),
    (
        "indicators",
        &["project_code", "code", "financial_year"],
        &[
            ("financial_year", Kind::Year),
            ("baseline", Kind::Quantity),
            ("target", Kind::Quantity),
            ("q1_target", Kind::Quantity),
            ("q2_target", Kind::Quantity),
            ("q3_target", Kind::Quantity),
            ("q4_target", Kind::Quantity),
        ],
    ),
    ("indicator_returns", &["id"], &[("financial_year", Kind::Year), ("actual", Kind::Quantity)]),
    ("filed_returns", &["id"], &[("kind", Kind::Word(&ReturnKind::WORDS))]),
];

/// One problem for each stored value outside its type, naming table, key and column.
pub async fn check(store: &Store) -> Result<Vec<String>, StoreError> {
    let mut problems = Vec::new();
    for (table, key, columns) in TABLES {
        let names: Vec<&str> = key.iter().copied().chain(columns.iter().map(|(c, _)| *c)).collect();
        let sql = format!("select {} from {table}", names.join(", "));
        for row in sqlx::query(&sql).fetch_all(store.pool()).await? {
            for (column, kind) in *columns {
                if let Err(StoreError::Corrupt(what)) = read(&row, (table, key), column, *kind) {
                    problems.push(format!("unreadable value: {what}"));
                }
            }
        }
    }
    Ok(problems)
}

fn read(row: &AnyRow, at: (&str, &[&str]), column: &str, kind: Kind) -> Result<(), StoreError> {
    match kind {
        Kind::Word(words) => {
            rows::parsed(row, at, column, |t| if words.contains(&t) { Ok(()) } else { Err("is not a known word") })
        }
        Kind::Year => rows::parsed(row, at, column, FinancialYear::parse).map(drop),
        Kind::Date => rows::parsed(row, at, column, |t| parse_date(t).map(drop).ok_or("is not a date (YYYY-MM-DD)")),
        Kind::OptDate => rows::opt_date(row, at, column).map(drop),
        Kind::Account => rows::parsed(row, at, column, |t| Account::parse(t).map(drop).ok_or("is not an account")),
        Kind::Quantity => rows::parsed(row, at, column, Quantity::parse).map(drop),
        Kind::Int => row.try_get::<i64, _>(column).map(drop).map_err(|e| rows::corrupt(row, at.0, at.1, e)),
        Kind::OptInt => row.try_get::<Option<i64>, _>(column).map(drop).map_err(|e| rows::corrupt(row, at.0, at.1, e)),
        Kind::OptFlag => match row.try_get::<Option<i64>, _>(column).map_err(|e| rows::corrupt(row, at.0, at.1, e))? {
            None | Some(0 | 1) => Ok(()),
            Some(n) => Err(rows::named(row, at.0, at.1, column, &format!("{n} is not 0 or 1"))),
        },
    }
}
