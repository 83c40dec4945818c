//! Reference data as storage reads it and http, cli, csv and the fixtures show or build it:
//! grants, projects, funders, priorities, financial years, awards and organisations.

use super::fields::{Fields, FromFields};
use super::wire::{
    Amount, CharityNumber, Code, CompanyNumber, IsoDate, OrgId, Postcode, ProseOrEmpty, Text, TextOrEmpty,
};
use crate::domain::{FinancialYear, Money, OnOverspend, OrgKind, ProjectStatus, YearStatus, org};

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

/// Changes to a project: a field left out stays as it is. Its code cannot change.
#[derive(Debug, Default, utoipa::ToSchema)]
#[schema(as = ProjectPatchBody)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatch {
    #[schema(value_type = Option<Text>, nullable = false, required = false)]
    pub name: Option<String>,
    #[schema(value_type = Option<Code>, nullable = false, required = false)]
    pub priority: Option<String>,
    #[schema(value_type = Option<TextOrEmpty>, nullable = false, required = false)]
    pub lead_organisation: Option<String>,
    #[schema(value_type = Option<ProseOrEmpty>, nullable = false, required = false)]
    pub description: Option<String>,
    #[schema(nullable = false, required = false)]
    pub status: Option<ProjectStatus>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Funder {
    pub code: String,
    pub name: String,
    /// How far past its award (percent) the funder lets a partnership allocate.
    pub over_programming_percent: i64,
    /// Days after a quarter's end the funder wants its return.
    pub return_due_days: i64,
}

impl Funder {
    /// A funder as first recorded: no over-programming, returns due 30 days after the quarter.
    pub fn new(code: String, name: String) -> Funder {
        Funder { code, name, over_programming_percent: 0, return_due_days: 30 }
    }
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

/// An award to record; its grant is named by the path.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = AwardBody)]
#[serde(deny_unknown_fields)]
pub struct NewAward {
    #[serde(skip)]
    pub grant: String,
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    #[schema(value_type = Amount)]
    pub amount: Money,
    #[schema(value_type = IsoDate)]
    pub awarded_on: chrono::NaiveDate,
    #[schema(value_type = Option<TextOrEmpty>)]
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

/// Changes to an organisation: a field left out stays as it is, and an identifier given as
/// `""` is cleared. Its code cannot change.
#[derive(Debug, Default, utoipa::ToSchema)]
#[schema(as = OrganisationPatchBody)]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatch {
    #[schema(value_type = Option<Text>, nullable = false, required = false)]
    pub name: Option<String>,
    #[schema(nullable = false, required = false)]
    pub kind: Option<OrgKind>,
    #[schema(value_type = Option<CharityNumber>, nullable = false, required = false)]
    pub charity_number: Option<String>,
    #[schema(value_type = Option<CompanyNumber>, nullable = false, required = false)]
    pub company_number: Option<String>,
    #[schema(value_type = Option<OrgId>, nullable = false, required = false)]
    pub org_id: Option<String>,
    #[schema(value_type = Option<Postcode>, nullable = false, required = false)]
    pub postcode: Option<String>,
}

/// A financial year to set up.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = NewYearBody)]
#[serde(deny_unknown_fields)]
pub struct NewYear {
    pub code: FinancialYear,
}

impl FromFields for NewYear {
    fn read(f: &mut Fields) -> Self {
        NewYear { code: f.year("code") }
    }
}

/// A funder to create.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = FunderBody)]
#[serde(deny_unknown_fields)]
pub struct NewFunder {
    #[schema(value_type = Code)]
    pub code: String,
    #[schema(value_type = Text)]
    pub name: String,
}

impl FromFields for NewFunder {
    fn read(f: &mut Fields) -> Self {
        NewFunder { code: f.code("code"), name: f.text("name") }
    }
}

impl From<NewFunder> for Funder {
    fn from(n: NewFunder) -> Funder {
        Funder::new(n.code, n.name)
    }
}

/// A priority to create.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = PriorityBody)]
#[serde(deny_unknown_fields)]
pub struct NewPriority {
    #[schema(value_type = Code)]
    pub code: String,
    #[schema(value_type = Text)]
    pub name: String,
    #[schema(value_type = Option<ProseOrEmpty>)]
    pub description: String,
}

impl FromFields for NewPriority {
    fn read(f: &mut Fields) -> Self {
        NewPriority { code: f.code("code"), name: f.text("name"), description: f.text_or_empty("description") }
    }
}

impl From<NewPriority> for Priority {
    fn from(n: NewPriority) -> Priority {
        Priority { code: n.code, name: n.name, description: n.description }
    }
}

/// A grant to create.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = GrantBody)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    #[schema(value_type = Code)]
    pub code: String,
    #[schema(value_type = Text)]
    pub name: String,
    #[schema(value_type = Code)]
    pub funder: String,
    #[schema(value_type = Option<Code>)]
    pub restricted_to_priority: Option<String>,
    /// What a posting past a project's available budget does (default `stop`).
    #[schema(value_type = Option<OnOverspend>)]
    pub on_overspend: OnOverspend,
}

impl FromFields for NewGrant {
    fn read(f: &mut Fields) -> Self {
        NewGrant {
            code: f.code("code"),
            name: f.text("name"),
            funder: f.code("funder"),
            restricted_to_priority: f.opt_code("restricted_to_priority"),
            on_overspend: f.word("on_overspend", &OnOverspend::ALL, Some(OnOverspend::Stop)),
        }
    }
}

impl From<NewGrant> for Grant {
    fn from(n: NewGrant) -> Grant {
        Grant {
            code: n.code,
            name: n.name,
            funder: n.funder,
            restricted_to_priority: n.restricted_to_priority,
            on_overspend: n.on_overspend,
        }
    }
}

impl FromFields for NewAward {
    /// `grant` comes from the path, not the body: the caller sets it.
    fn read(f: &mut Fields) -> Self {
        NewAward {
            grant: String::new(),
            year: f.year("financial_year"),
            amount: f.money("amount"),
            awarded_on: f.date("awarded_on"),
            reference: f.text_or_empty("reference"),
        }
    }
}

/// A project to create.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = ProjectBody)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    #[schema(value_type = Code)]
    pub code: String,
    #[schema(value_type = Text)]
    pub name: String,
    #[schema(value_type = Code)]
    pub priority: String,
    #[schema(value_type = Option<TextOrEmpty>)]
    pub lead_organisation: String,
    #[schema(value_type = Option<ProseOrEmpty>)]
    pub description: String,
    /// Default `active`.
    #[schema(value_type = Option<ProjectStatus>)]
    pub status: ProjectStatus,
}

impl FromFields for NewProject {
    fn read(f: &mut Fields) -> Self {
        NewProject {
            code: f.code("code"),
            name: f.text("name"),
            priority: f.code("priority"),
            lead_organisation: f.text_or_empty("lead_organisation"),
            description: f.text_or_empty("description"),
            status: f.word("status", &ProjectStatus::ALL, Some(ProjectStatus::Active)),
        }
    }
}

impl From<NewProject> for Project {
    fn from(n: NewProject) -> Project {
        Project {
            code: n.code,
            name: n.name,
            priority: n.priority,
            lead_organisation: n.lead_organisation,
            description: n.description,
            status: n.status,
        }
    }
}

impl FromFields for ProjectPatch {
    fn read(f: &mut Fields) -> Self {
        ProjectPatch {
            name: f.has_value("name").then(|| f.text("name")),
            priority: f.has_value("priority").then(|| f.code("priority")),
            lead_organisation: f.has_value("lead_organisation").then(|| f.text_or_empty("lead_organisation")),
            description: f.has_value("description").then(|| f.text_or_empty("description")),
            status: f.has_value("status").then(|| f.word("status", &ProjectStatus::ALL, None)),
        }
    }
}

/// An organisation to create, every identifier checked for shape.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(as = OrganisationBody)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    #[schema(value_type = Code)]
    pub code: String,
    #[schema(value_type = Text)]
    pub name: String,
    pub kind: OrgKind,
    #[schema(value_type = Option<CharityNumber>)]
    pub charity_number: String,
    #[schema(value_type = Option<CompanyNumber>)]
    pub company_number: String,
    #[schema(value_type = Option<OrgId>)]
    pub org_id: String,
    #[schema(value_type = Option<Postcode>)]
    pub postcode: String,
}

impl FromFields for NewOrganisation {
    fn read(f: &mut Fields) -> Self {
        NewOrganisation {
            code: f.code("code"),
            name: f.text("name"),
            kind: f.word("kind", &OrgKind::ALL, None),
            charity_number: f.shaped("charity_number", charity_number, CHARITY_NUMBER),
            company_number: f.shaped("company_number", company_number, COMPANY_NUMBER),
            org_id: org_id(f),
            postcode: f.shaped("postcode", org::postcode, POSTCODE),
        }
    }
}

impl From<NewOrganisation> for Organisation {
    fn from(n: NewOrganisation) -> Organisation {
        Organisation {
            code: n.code,
            name: n.name,
            kind: n.kind,
            charity_number: n.charity_number,
            company_number: n.company_number,
            org_id: n.org_id,
            postcode: n.postcode,
        }
    }
}

impl FromFields for OrganisationPatch {
    fn read(f: &mut Fields) -> Self {
        OrganisationPatch {
            name: f.has_value("name").then(|| f.text("name")),
            kind: f.has_value("kind").then(|| f.word("kind", &OrgKind::ALL, None)),
            charity_number: f
                .has_value("charity_number")
                .then(|| f.shaped("charity_number", charity_number, CHARITY_NUMBER)),
            company_number: f
                .has_value("company_number")
                .then(|| f.shaped("company_number", company_number, COMPANY_NUMBER)),
            org_id: f.has_value("org_id").then(|| org_id(f)),
            postcode: f.has_value("postcode").then(|| f.shaped("postcode", org::postcode, POSTCODE)),
        }
    }
}

/// The shapes of an organisation's identifiers, as `Fields::shaped` takes them.
fn charity_number(s: &str) -> Option<String> {
    org::is_charity_number(s).then(|| s.to_owned())
}
fn company_number(s: &str) -> Option<String> {
    org::is_company_number(s).then(|| s.to_owned())
}
/// `org_id`, or empty: an identifier `org::org_id_refusal` refuses is refused naming the field
/// with its reason (no such list, a deprecated one, or not the list's form).
fn org_id(f: &mut Fields) -> String {
    let s = f.text_or_empty("org_id");
    match (!s.is_empty()).then(|| org::org_id_refusal(&s)).flatten() {
        Some(why) => {
            f.refuse("org_id", why);
            String::new()
        }
        None => s,
    }
}
const CHARITY_NUMBER: &str = "a charity number in its register's form (England and Wales 1234567 or a subsidiary \
                              1234567-1, Scotland SC012345, Northern Ireland NIC100002)";
const COMPANY_NUMBER: &str = "a Companies House number of 8 characters (01234567 or SC123456)";
const POSTCODE: &str = "a UK postcode like B79 7BZ";
