//! Reference data as storage reads it and http, cli, csv and the fixtures show or build it:
//! grants, projects, funders, priorities, financial years, awards and organisations.

use crate::domain::{FinancialYear, Money, OnOverspend, OrgKind, ProjectStatus, YearStatus};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Grant {
    pub code: String,
    pub name: String,
    pub funder: String,
    pub restricted_to_priority: Option<String>,
    #[sqlx(try_from = "String")]
    pub on_overspend: OnOverspend,
}

impl Grant {
    pub fn rule(&self) -> OnOverspend {
        self.on_overspend
    }
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Project {
    pub code: String,
    pub name: String,
    pub priority: String,
    pub lead_organisation: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    pub status: ProjectStatus,
}

/// Changes to a project; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub priority: Option<String>,
    pub lead_organisation: Option<String>,
    pub description: Option<String>,
    pub status: Option<ProjectStatus>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Funder {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Priority {
    pub code: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FinancialYearRecord {
    pub code: String,
    #[schema(format = Date)]
    pub start_date: String,
    #[schema(format = Date)]
    pub end_date: String,
    #[sqlx(try_from = "String")]
    pub status: YearStatus,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AwardRecord {
    pub grant: String,
    pub financial_year: String,
    pub amount: Money,
    pub allocated: Money,
    pub unallocated: Money,
    /// Resolved at year end: carried forward into the next year or returned to the funder.
    pub carried_forward_or_returned: Money,
    #[schema(format = Date)]
    pub awarded_on: String,
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<i64>,
}

pub struct NewAward {
    pub grant: String,
    pub year: FinancialYear,
    pub amount: Money,
    pub awarded_on: chrono::NaiveDate,
    pub reference: String,
}

/// A delivery partner or other body the partnership deals with. Every
/// identifier is `""` when not known; a given one has the shape `domain::org` checks.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Organisation {
    pub code: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: OrgKind,
    pub charity_number: String,
    pub company_number: String,
    /// An org-id.guide identifier, e.g. `GB-CHC-1234567`.
    pub org_id: String,
    /// Written the Royal Mail way: capitals, one space before the inward code.
    pub postcode: String,
}

/// Changes to an organisation; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct OrganisationPatch {
    pub name: Option<String>,
    pub kind: Option<OrgKind>,
    pub charity_number: Option<String>,
    pub company_number: Option<String>,
    pub org_id: Option<String>,
    pub postcode: Option<String>,
}
