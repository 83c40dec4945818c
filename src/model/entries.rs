//! Entries and account balances as read back, and the filters of `GET /entries`.

use super::lists::EntrySort;
use super::postings::PostingView;
use crate::domain::{AccountKind, EntryKind, FinancialYear, Money};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EntryView {
    pub id: i64,
    pub kind: String,
    #[schema(format = Date)]
    pub date: String,
    pub financial_year: String,
    pub grant: String,
    pub memo: String,
    pub details: serde_json::Value,
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub reverses: Option<i64>,
    pub reversed_by: Option<i64>,
    pub commitment_id: Option<i64>,
    pub source_ref: Option<String>,
    pub postings: Vec<PostingView>,
}

/// Filters of `GET /entries`. Each is optional.
#[derive(Debug, Default)]
pub struct EntryFilter {
    pub year: Option<FinancialYear>,
    pub grant: Option<String>,
    pub project: Option<String>,
    pub kind: Option<EntryKind>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    /// Case-insensitive, anywhere in the entry's supplier.
    pub supplier: Option<String>,
    /// The invoice reference exactly.
    pub invoice_ref: Option<String>,
    /// Case-insensitive, anywhere in the memo (a spend's memo is its description).
    pub q: Option<String>,
    /// Inclusive bounds on the entry's amount (`amount_of`).
    pub min: Option<Money>,
    pub max: Option<Money>,
    /// Entries posting to an account of this kind (of the grant, project and year asked
    /// for); each one's amount is then its net posting to those accounts.
    pub account: Option<AccountKind>,
    pub sort: EntrySort,
}

impl EntryFilter {
    /// What a list shows as an entry's amount, and what `min` and `max` bound: with
    /// `account`, its net posting to the accounts of that kind the filter names, in the
    /// accounts' normal direction (a spend is positive on `spent`, a refund negative), so the
    /// amounts of a list add up to those accounts' figure; without, its total, the sum of
    /// its debits.
    pub fn amount_of(&self, e: &EntryView) -> Money {
        let pence: i64 = match self.account {
            Some(kind) => normal(
                kind,
                e.postings
                    .iter()
                    .filter(|p| {
                        crate::domain::Account::parse(&p.account).is_some_and(|a| {
                            a.kind == kind && self.project.as_ref().is_none_or(|want| a.project.as_ref() == Some(want))
                        })
                    })
                    .map(|p| p.amount.pence())
                    .sum(),
            ),
            None => total_of(e).pence(),
        };
        Money::from_pence(pence)
    }
}

/// A net posting (debit positive) as a figure of an account of `kind`.
pub fn normal(kind: AccountKind, net: i64) -> i64 {
    if kind.is_debit_normal() { net } else { -net }
}

/// The sum of an entry's debits: the money it moves.
pub fn total_of(e: &EntryView) -> Money {
    Money::from_pence(e.postings.iter().map(|p| p.amount.pence()).filter(|p| *p > 0).sum())
}

/// An entry as a searched list shows it: the entry, its typed columns, and its amount
/// (`EntryFilter::amount_of`).
#[derive(Debug, Clone)]
pub struct ListedEntry {
    pub entry: EntryView,
    pub project: Option<String>,
    pub supplier: Option<String>,
    pub invoice_ref: Option<String>,
    pub amount: Money,
}

impl EntryFilter {
    /// The filters as text: the scope of a date-ordered cursor (`model::page::cursor_in`),
    /// so one given out under other filters is refused.
    pub fn scope(&self) -> String {
        let text = |o: &Option<String>| o.clone().unwrap_or_default();
        let date = |d: &Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        let money = |m: &Option<Money>| m.map(|m| m.to_string()).unwrap_or_default();
        [
            self.year.map(|y| y.to_string()).unwrap_or_default(),
            text(&self.grant),
            text(&self.project),
            self.kind.map(|k| k.to_string()).unwrap_or_default(),
            date(&self.from),
            date(&self.to),
            text(&self.supplier),
            text(&self.invoice_ref),
            text(&self.q),
            money(&self.min),
            money(&self.max),
            self.account.map(|a| a.to_string()).unwrap_or_default(),
        ]
        .iter()
        .map(|part| format!("{}:{part}", part.len()))
        .collect::<Vec<_>>()
        .join(",")
    }
}

/// The whole of a filtered list, past its first page: how many entries, and their amounts
/// (`EntryFilter::amount_of`) added up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct EntryTotal {
    pub count: i64,
    pub amount: Money,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AccountBalance {
    pub account: String,
    pub balance: Money,
}
