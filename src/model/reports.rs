//! What storage reads for the budget reports: account figures, quarterly spend, labels and
//! spend profiles (plans).

use std::collections::BTreeMap;

use utoipa::ToSchema;

use super::fields::{Fields, FromFields};
use super::wire::Code;
use crate::domain::rag::QuarterPlan;
use crate::domain::{AccountKind, FinancialYear};

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

/// The net postings on one `spent:` account within one quarter (signed, credit negative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarterSpend {
    pub grant: String,
    pub project: String,
    pub quarter: u8,
    pub pence: i64,
}

/// Quarterly plans by (grant, project); a pair without one is straight-line.
pub type Plans = BTreeMap<(String, String), QuarterPlan>;

/// Setting a project's quarterly spend plan for one award.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = SpendProfileBody)]
#[serde(deny_unknown_fields)]
pub struct SpendProfileCmd {
    #[schema(value_type = Code)]
    pub grant: String,
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    #[schema(value_type = Code)]
    pub project: String,
    /// Whole percent of the budget planned for each quarter; the four sum to 100.
    #[schema(minimum = 0, maximum = 100)]
    pub q1: u8,
    #[schema(minimum = 0, maximum = 100)]
    pub q2: u8,
    #[schema(minimum = 0, maximum = 100)]
    pub q3: u8,
    #[schema(minimum = 0, maximum = 100)]
    pub q4: u8,
}

impl FromFields for SpendProfileCmd {
    fn read(f: &mut Fields) -> Self {
        SpendProfileCmd {
            grant: f.code("grant"),
            year: f.year("financial_year"),
            project: f.code("project"),
            q1: f.percent("q1"),
            q2: f.percent("q2"),
            q3: f.percent("q3"),
            q4: f.percent("q4"),
        }
    }
}

impl SpendProfileCmd {
    pub fn plan(&self) -> QuarterPlan {
        [self.q1, self.q2, self.q3, self.q4]
    }
}

/// A project's quarterly spend plan for one award, in whole percent of its budget.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SpendProfile {
    pub grant: String,
    pub financial_year: String,
    pub project: String,
    pub q1: u8,
    pub q2: u8,
    pub q3: u8,
    pub q4: u8,
    pub set_by: String,
    #[schema(format = DateTime)]
    pub set_at: String,
}

impl SpendProfile {
    pub fn plan(&self) -> QuarterPlan {
        [self.q1, self.q2, self.q3, self.q4]
    }
}
