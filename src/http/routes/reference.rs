//! Reference data: financial years, funders, priorities, grants, awards, projects and
//! organisations.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::{Fields, Query, RawBody};
use super::super::openapi::{
    CharityNumber, Code, CompanyNumber, IsoDate, OrgId, PageQuery, Postcode, ProseOrEmpty, Text, TextOrEmpty,
};
use super::super::{AppState, Idem};
use crate::domain::{OnOverspend, OrgKind, ProjectStatus, is_valid_code, org};
use crate::model::page::{List, Page};
use crate::model::reference::{
    AwardRecord, FinancialYearRecord, Funder, Grant, NewAward, Organisation, OrganisationPatch, Priority, Project,
    ProjectPatch,
};
use crate::storage::StoreError;
use crate::storage::reference as refdata;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_years, create_year))
        .routes(routes!(list_funders, create_funder))
        .routes(routes!(list_priorities, create_priority))
        .routes(routes!(list_grants, create_grant))
        .routes(routes!(list_awards, create_award))
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, patch_project))
        .routes(routes!(list_organisations, create_organisation))
        .routes(routes!(get_organisation, patch_organisation))
}

type Created<T> = Result<(StatusCode, Json<T>), AppError>;
type Listed<T> = Result<Json<Page<T>>, AppError>;

/// List financial years.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/financial-years", tag = "reference", params(PageQuery),
    responses((status = 200, body = super::super::openapi::FinancialYearPage)))]
async fn list_years(State(s): State<AppState>, auth: Auth, mut q: Query) -> Listed<FinancialYearRecord> {
    auth.require(Need::ReadReference)?;
    let page = q.page(List::FinancialYears);
    q.finish()?;
    Ok(Json(refdata::list_financial_years(&s.store, &page.after, page.limit).await?))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the contract of the body `Fields` parses
struct NewYearBody {
    code: crate::domain::FinancialYear,
}

/// Set up a financial year.
///
/// Roles: admin.
#[utoipa::path(post, path = "/api/v1/financial-years", tag = "reference", request_body = NewYearBody,
    responses((status = 201, body = FinancialYearRecord),
        (status = 403, description = "Not admin."), (status = 409, description = "The year exists (`conflict`).")))]
async fn create_year(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    body: RawBody,
) -> Created<FinancialYearRecord> {
    auth.require(Need::Admin)?;
    let mut f = Fields::parse(&body)?;
    let year = f.year("code");
    f.finish()?;
    Ok((StatusCode::CREATED, Json(refdata::create_financial_year(&s.store, year, auth.actor(&idem)).await?)))
}

/// List funders.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/funders", tag = "reference", params(PageQuery),
    responses((status = 200, body = super::super::openapi::FunderPage)))]
async fn list_funders(State(s): State<AppState>, auth: Auth, mut q: Query) -> Listed<Funder> {
    auth.require(Need::ReadReference)?;
    let page = q.page(List::Funders);
    q.finish()?;
    Ok(Json(refdata::list_funders(&s.store, &page.after, page.limit).await?))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct FunderBody {
    code: Code,
    name: Text,
}

/// Create a funder.
///
/// Roles: admin.
#[utoipa::path(post, path = "/api/v1/funders", tag = "reference", request_body = FunderBody,
    responses((status = 201, body = Funder),
        (status = 403, description = "Not admin."), (status = 409, description = "The code exists (`conflict`).")))]
async fn create_funder(State(s): State<AppState>, auth: Auth, Idem(idem): Idem, body: RawBody) -> Created<Funder> {
    auth.require(Need::Admin)?;
    let mut f = Fields::parse(&body)?;
    let funder = Funder { code: f.code("code"), name: f.text("name") };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(refdata::create_funder(&s.store, funder, auth.actor(&idem)).await?)))
}

/// List priorities.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/priorities", tag = "reference", params(PageQuery),
    responses((status = 200, body = super::super::openapi::PriorityPage)))]
async fn list_priorities(State(s): State<AppState>, auth: Auth, mut q: Query) -> Listed<Priority> {
    auth.require(Need::ReadReference)?;
    let page = q.page(List::Priorities);
    q.finish()?;
    Ok(Json(refdata::list_priorities(&s.store, &page.after, page.limit).await?))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct PriorityBody {
    code: Code,
    name: Text,
    description: Option<ProseOrEmpty>,
}

/// Create a priority.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/priorities", tag = "reference", request_body = PriorityBody,
    responses((status = 201, body = Priority),
        (status = 403, description = "Neither approver nor admin."), (status = 409, description = "The code exists (`conflict`).")))]
async fn create_priority(State(s): State<AppState>, auth: Auth, Idem(idem): Idem, body: RawBody) -> Created<Priority> {
    auth.require(Need::Approver)?;
    let mut f = Fields::parse(&body)?;
    let p = Priority { code: f.code("code"), name: f.text("name"), description: f.text_or_empty("description") };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(refdata::create_priority(&s.store, p, auth.actor(&idem)).await?)))
}

/// List grants.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/grants", tag = "reference", params(PageQuery),
    responses((status = 200, body = super::super::openapi::GrantPage)))]
async fn list_grants(State(s): State<AppState>, auth: Auth, mut q: Query) -> Listed<Grant> {
    auth.require(Need::ReadReference)?;
    let page = q.page(List::Grants);
    q.finish()?;
    Ok(Json(refdata::list_grants(&s.store, &page.after, page.limit).await?))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct GrantBody {
    code: Code,
    name: Text,
    funder: Code,
    restricted_to_priority: Option<Code>,
    /// What a posting past a project's available budget does (default `stop`).
    on_overspend: Option<OnOverspend>,
}

/// Create a grant.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/grants", tag = "reference", request_body = GrantBody,
    responses((status = 201, body = Grant), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such funder or priority (`not_found`)."),
        (status = 409, description = "The code exists (`conflict`).")))]
async fn create_grant(State(s): State<AppState>, auth: Auth, Idem(idem): Idem, body: RawBody) -> Created<Grant> {
    auth.require(Need::Approver)?;
    let mut f = Fields::parse(&body)?;
    let g = Grant {
        code: f.code("code"),
        name: f.text("name"),
        funder: f.code("funder"),
        restricted_to_priority: f.opt_code("restricted_to_priority"),
        on_overspend: f.word("on_overspend", &OnOverspend::ALL, Some(OnOverspend::Stop)),
    };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(refdata::create_grant(&s.store, g, auth.actor(&idem)).await?)))
}

fn grant_path(grant: &str) -> Result<(), AppError> {
    if is_valid_code(grant) { Ok(()) } else { Err(AppError::field("grant", "is not a valid code")) }
}

/// List a grant's awards, with what is allocated and unallocated.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/grants/{grant}/awards", tag = "reference",
    params(("grant" = Code, Path), PageQuery),
    responses((status = 200, body = super::super::openapi::AwardPage), (status = 404, description = "No such grant (`not_found`).")))]
async fn list_awards(
    State(s): State<AppState>,
    auth: Auth,
    Path(grant): Path<String>,
    mut q: Query,
) -> Listed<AwardRecord> {
    auth.require(Need::ReadReference)?;
    grant_path(&grant)?;
    let page = q.page(List::Awards);
    q.finish()?;
    if !refdata::grant_exists(&s.store, &grant).await? {
        return Err(StoreError::NotFound(format!("grant {grant}")).into());
    }
    Ok(Json(refdata::list_awards(&s.store, &grant, &page.after, page.limit).await?))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AwardBody {
    financial_year: crate::domain::FinancialYear,
    amount: super::super::openapi::Amount,
    awarded_on: IsoDate,
    reference: Option<TextOrEmpty>,
}

/// Record an award: one per grant and year.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/grants/{grant}/awards", tag = "reference",
    params(("grant" = Code, Path)), request_body = AwardBody,
    responses((status = 201, body = AwardRecord), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such grant or financial year (`not_found`)."),
        (status = 409, description = "The grant has an award that year, or the year is closed (`conflict`, `period_closed`).")))]
async fn create_award(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path(grant): Path<String>,
    body: RawBody,
) -> Created<AwardRecord> {
    auth.require(Need::Approver)?;
    grant_path(&grant)?;
    let mut f = Fields::parse(&body)?;
    let award = NewAward {
        grant,
        year: f.year("financial_year"),
        amount: f.money("amount"),
        awarded_on: f.date("awarded_on"),
        reference: f.text_or_empty("reference"),
    };
    f.finish()?;
    if !refdata::grant_exists(&s.store, &award.grant).await? {
        return Err(StoreError::NotFound(format!("grant {}", award.grant)).into());
    }
    Ok((StatusCode::CREATED, Json(refdata::create_award(&s.store, award, auth.actor(&idem)).await?)))
}

/// List projects.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/projects", tag = "reference", params(PageQuery),
    responses((status = 200, body = super::super::openapi::ProjectPage)))]
async fn list_projects(State(s): State<AppState>, auth: Auth, mut q: Query) -> Listed<Project> {
    auth.require(Need::ReadReference)?;
    let page = q.page(List::Projects);
    q.finish()?;
    Ok(Json(refdata::list_projects(&s.store, &page.after, page.limit).await?))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ProjectBody {
    code: Code,
    name: Text,
    priority: Code,
    lead_organisation: Option<TextOrEmpty>,
    description: Option<ProseOrEmpty>,
    /// Default `active`.
    status: Option<ProjectStatus>,
}

/// Create a project.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/projects", tag = "reference", request_body = ProjectBody,
    responses((status = 201, body = Project), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such priority (`not_found`)."), (status = 409, description = "The code exists (`conflict`).")))]
async fn create_project(State(s): State<AppState>, auth: Auth, Idem(idem): Idem, body: RawBody) -> Created<Project> {
    auth.require(Need::Approver)?;
    let mut f = Fields::parse(&body)?;
    let p = Project {
        code: f.code("code"),
        name: f.text("name"),
        priority: f.code("priority"),
        lead_organisation: f.text_or_empty("lead_organisation"),
        description: f.text_or_empty("description"),
        status: f.word("status", &ProjectStatus::ALL, Some(ProjectStatus::Active)),
    };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(refdata::create_project(&s.store, p, auth.actor(&idem)).await?)))
}

/// Get a project.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/projects/{code}", tag = "reference", params(("code" = Code, Path)),
    responses((status = 200, body = Project), (status = 404, description = "No such project (`not_found`).")))]
async fn get_project(
    State(s): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
) -> Result<Json<Project>, AppError> {
    auth.require(Need::ReadReference)?;
    Ok(Json(refdata::get_project(&s.store, &code).await?))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ProjectPatchBody {
    #[schema(nullable = false, required = false)]
    name: Option<Text>,
    #[schema(nullable = false, required = false)]
    priority: Option<Code>,
    #[schema(nullable = false, required = false)]
    lead_organisation: Option<TextOrEmpty>,
    #[schema(nullable = false, required = false)]
    description: Option<ProseOrEmpty>,
    #[schema(nullable = false, required = false)]
    status: Option<ProjectStatus>,
}

/// Change a project; its code cannot change.
///
/// Roles: approver, admin.
#[utoipa::path(patch, path = "/api/v1/projects/{code}", tag = "reference", params(("code" = Code, Path)),
    request_body = ProjectPatchBody,
    responses((status = 200, body = Project), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such project or priority (`not_found`)."),
        (status = 409, description = "The change clashes with the project's postings (`conflict`).")))]
async fn patch_project(
    State(s): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
    body: RawBody,
) -> Result<Json<Project>, AppError> {
    auth.require(Need::Approver)?;
    let mut f = Fields::parse(&body)?;
    if f.has("code") {
        return Err(AppError::field("code", "cannot be changed: it names the project's accounts"));
    }
    let patch = ProjectPatch {
        name: f.has_value("name").then(|| f.text("name")),
        priority: f.has_value("priority").then(|| f.code("priority")),
        lead_organisation: f.has_value("lead_organisation").then(|| f.text_or_empty("lead_organisation")),
        description: f.has_value("description").then(|| f.text_or_empty("description")),
        status: f.has_value("status").then(|| f.word("status", &ProjectStatus::ALL, None)),
    };
    f.finish()?;
    Ok(Json(refdata::update_project(&s.store, &code, patch, auth.name()).await?))
}

/// List organisations (delivery partners).
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "reference", params(PageQuery),
    responses((status = 200, body = super::super::openapi::OrganisationPage)))]
async fn list_organisations(State(s): State<AppState>, auth: Auth, mut q: Query) -> Listed<Organisation> {
    auth.require(Need::ReadReference)?;
    let page = q.page(List::Organisations);
    q.finish()?;
    Ok(Json(refdata::list_organisations(&s.store, &page.after, page.limit).await?))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct OrganisationBody {
    code: Code,
    name: Text,
    kind: OrgKind,
    charity_number: Option<CharityNumber>,
    company_number: Option<CompanyNumber>,
    org_id: Option<OrgId>,
    postcode: Option<Postcode>,
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

/// Create an organisation.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "reference", request_body = OrganisationBody,
    responses((status = 201, body = Organisation), (status = 403, description = "Neither approver nor admin."),
        (status = 409, description = "The code exists (`conflict`).")))]
async fn create_organisation(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    body: RawBody,
) -> Created<Organisation> {
    auth.require(Need::Approver)?;
    let o = organisation_body(&body)?;
    Ok((StatusCode::CREATED, Json(refdata::create_organisation(&s.store, o, auth.actor(&idem)).await?)))
}

/// A new organisation, every identifier checked for shape; the CLI's `organisation add`
/// parses through it too, so both refuse the same.
pub(crate) fn organisation_body(body: &RawBody) -> Result<Organisation, AppError> {
    let mut f = Fields::parse(body)?;
    let o = Organisation {
        code: f.code("code"),
        name: f.text("name"),
        kind: f.word("kind", &OrgKind::ALL, None),
        charity_number: f.shaped("charity_number", charity_number, CHARITY_NUMBER),
        company_number: f.shaped("company_number", company_number, COMPANY_NUMBER),
        org_id: org_id(&mut f),
        postcode: f.shaped("postcode", org::postcode, POSTCODE),
    };
    f.finish()?;
    Ok(o)
}

/// Get an organisation.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/organisations/{code}", tag = "reference", params(("code" = Code, Path)),
    responses((status = 200, body = Organisation), (status = 404, description = "No such organisation (`not_found`).")))]
async fn get_organisation(
    State(s): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
) -> Result<Json<Organisation>, AppError> {
    auth.require(Need::ReadReference)?;
    Ok(Json(refdata::get_organisation(&s.store, &code).await?))
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct OrganisationPatchBody {
    #[schema(nullable = false, required = false)]
    name: Option<Text>,
    #[schema(nullable = false, required = false)]
    kind: Option<OrgKind>,
    #[schema(nullable = false, required = false)]
    charity_number: Option<CharityNumber>,
    #[schema(nullable = false, required = false)]
    company_number: Option<CompanyNumber>,
    #[schema(nullable = false, required = false)]
    org_id: Option<OrgId>,
    #[schema(nullable = false, required = false)]
    postcode: Option<Postcode>,
}

/// Change an organisation; its code cannot change. An identifier given as `""` is cleared.
///
/// Roles: approver, admin.
#[utoipa::path(patch, path = "/api/v1/organisations/{code}", tag = "reference", params(("code" = Code, Path)),
    request_body = OrganisationPatchBody,
    responses((status = 200, body = Organisation), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such organisation (`not_found`).")))]
async fn patch_organisation(
    State(s): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
    body: RawBody,
) -> Result<Json<Organisation>, AppError> {
    auth.require(Need::Approver)?;
    let patch = organisation_patch_body(&body)?;
    Ok(Json(refdata::update_organisation(&s.store, &code, patch, auth.name()).await?))
}

/// Changes to an organisation, as `organisation_body` checks them; the CLI's `organisation
/// update` parses through it too.
pub(crate) fn organisation_patch_body(body: &RawBody) -> Result<OrganisationPatch, AppError> {
    let mut f = Fields::parse(body)?;
    if f.has("code") {
        return Err(AppError::field("code", "cannot be changed"));
    }
    let patch = OrganisationPatch {
        name: f.has_value("name").then(|| f.text("name")),
        kind: f.has_value("kind").then(|| f.word("kind", &OrgKind::ALL, None)),
        charity_number: f
            .has_value("charity_number")
            .then(|| f.shaped("charity_number", charity_number, CHARITY_NUMBER)),
        company_number: f
            .has_value("company_number")
            .then(|| f.shaped("company_number", company_number, COMPANY_NUMBER)),
        org_id: f.has_value("org_id").then(|| org_id(&mut f)),
        postcode: f.has_value("postcode").then(|| f.shaped("postcode", org::postcode, POSTCODE)),
    };
    f.finish()?;
    Ok(patch)
}
