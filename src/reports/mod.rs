//! Budget reports, computed from balances and postings read by `storage::reports`. Pure: no
//! I/O and no clock (the report date is passed in). Figures are whole pence (`i64`);
//! percentages are `rust_decimal::Decimal`.

pub mod commissioner;
pub mod csv_out;
pub mod filing;
pub mod multi_year;
pub mod quarterly;
pub mod rag;
pub mod run;
pub mod table;
pub mod variance;

use std::collections::BTreeMap;

use crate::domain::AccountKind;

pub use rag::{Profile, QuarterPlan, Rag, RagRule, STRAIGHT_LINE};
pub use variance::{Figures, VarianceReport};

/// The signed balance of one account of the reported year (debit positive), current or as at a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountFigure {
    pub kind: AccountKind,
    pub grant: String,
    pub project: Option<String>,
    pub pence: i64,
}

/// What a report names a project by.
#[derive(Debug, Clone, Default)]
pub struct ProjectInfo {
    pub code: String,
    pub name: String,
    pub priority: String,
    pub lead_organisation: String,
}

/// The reference data a report labels its rows with.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    pub partnership: String,
    pub projects: BTreeMap<String, ProjectInfo>,
    /// priority code → name
    pub priorities: BTreeMap<String, String>,
    /// grant code → funder code
    pub funders: BTreeMap<String, String>,
}

impl Labels {
    pub fn project(&self, code: &str) -> ProjectInfo {
        self.projects.get(code).cloned().unwrap_or_else(|| ProjectInfo { code: code.to_owned(), ..Default::default() })
    }

    pub fn priority_name(&self, code: &str) -> String {
        self.priorities.get(code).cloned().unwrap_or_default()
    }
}
