//! Entries and account balances as read back, and the filters of `GET /entries`.

use super::postings::PostingView;
use crate::domain::{EntryKind, FinancialYear, Money};

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
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AccountBalance {
    pub account: String,
    pub balance: Money,
}
