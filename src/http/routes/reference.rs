//! Reference data: financial years, funders, priorities, grants, awards, projects and
//! organisations.

use axum::Json;
use axum::extract::Path;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::super::auth::Need;
use super::super::error::AppError;
use super::super::input::{Fields, FromFields, Query, RawBody};
use super::super::openapi::{Code, PageQuery};
use super::{Answer, Caller, Created, created};
use crate::domain::is_valid_code;
use crate::model::page::{List, Page};
use crate::model::reference::{
    AwardRecord, FinancialYearRecord, Grant, NewAward, NewGrant, NewOrganisation, NewPriority, NewProject, NewYear,
    Organisation, OrganisationPatch, Priority, Project, ProjectPatch,
};
use crate::storage::StoreError;
use crate::storage::reference as refdata;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_years, create_year))
        .routes(routes!(list_priorities, create_priority))
        .routes(routes!(list_grants, create_grant))
        .routes(routes!(list_awards, create_award))
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, patch_project))
        .routes(routes!(list_organisations, create_organisation))
        .routes(routes!(get_organisation, patch_organisation))
}

/// A code-keyed list of reference data, read by every role, paged by `$list`'s cursor.
macro_rules! code_list {
    ($(#[$doc:meta])* $name:ident: $path:literal, $list:ident => $read:path => $item:ident, $page:ident) => {
        $(#[$doc])*
        ///
        /// Roles: every role.
        #[utoipa::path(get, path = $path, tag = "reference", params(PageQuery),
            responses((status = 200, body = super::super::openapi::$page)))]
        async fn $name(c: Caller, mut q: Query) -> Result<Json<Page<$item>>, AppError> {
            c.require(Need::ReadReference)?;
            let page = q.page(List::$list);
            q.finish()?;
            Ok(Json($read(c.store(), &page.after, page.limit).await?))
        }
    };
}

code_list! {
    /// List financial years.
    list_years: "/api/v1/financial-years", FinancialYears => refdata::list_financial_years => FinancialYearRecord,
        FinancialYearPage
}

/// Set up a financial year.
///
/// Roles: admin.
#[utoipa::path(post, path = "/api/v1/financial-years", tag = "reference", request_body = NewYear,
    responses((status = 201, body = FinancialYearRecord),
        (status = 403, description = "Not admin."), (status = 409, description = "The year exists (`conflict`).")))]
async fn create_year(c: Caller, body: RawBody) -> Created<FinancialYearRecord> {
    c.require(Need::Admin)?;
    let year = body.cmd::<NewYear>()?;
    created(refdata::create_financial_year(c.store(), year.code, c.actor()).await?)
}

// Funders are the service's, not a partnership's: `routes::operator` lists and creates them.

code_list! {
    /// List priorities.
    list_priorities: "/api/v1/priorities", Priorities => refdata::list_priorities => Priority, PriorityPage
}

recording_route! {
    /// Create a priority.
    ///
    /// Roles: approver, admin.
    create_priority: "/api/v1/priorities", "reference", Approver, NewPriority.into() => refdata::create_priority => Priority,
        (status = 403, description = "Neither approver nor admin."), (status = 409, description = "The code exists (`conflict`).")
}

code_list! {
    /// List grants.
    list_grants: "/api/v1/grants", Grants => refdata::list_grants => Grant, GrantPage
}

recording_route! {
    /// Create a grant.
    ///
    /// Roles: approver, admin.
    create_grant: "/api/v1/grants", "reference", Approver, NewGrant.into() => refdata::create_grant => Grant,
        (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such funder or priority (`not_found`)."),
        (status = 409, description = "The code exists (`conflict`).")
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
async fn list_awards(c: Caller, Path(grant): Path<String>, mut q: Query) -> Answer<Page<AwardRecord>> {
    c.require(Need::ReadReference)?;
    grant_path(&grant)?;
    let page = q.page(List::Awards);
    q.finish()?;
    if !refdata::grant_exists(c.store(), &grant).await? {
        return Err(StoreError::NotFound(format!("grant {grant}")).into());
    }
    Ok(Json(refdata::list_awards(c.store(), &grant, &page.after, page.limit).await?))
}

/// Record an award: one per grant and year.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/grants/{grant}/awards", tag = "reference",
    params(("grant" = Code, Path)), request_body = NewAward,
    responses((status = 201, body = AwardRecord), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such grant or financial year (`not_found`)."),
        (status = 409, description = "The grant has an award that year, or the year is closed (`conflict`, `period_closed`).")))]
async fn create_award(c: Caller, Path(grant): Path<String>, body: RawBody) -> Created<AwardRecord> {
    c.require(Need::Approver)?;
    grant_path(&grant)?;
    let award = NewAward { grant, ..body.cmd::<NewAward>()? };
    if !refdata::grant_exists(c.store(), &award.grant).await? {
        return Err(StoreError::NotFound(format!("grant {}", award.grant)).into());
    }
    created(refdata::create_award(c.store(), award, c.actor()).await?)
}

code_list! {
    /// List projects.
    list_projects: "/api/v1/projects", Projects => refdata::list_projects => Project, ProjectPage
}

recording_route! {
    /// Create a project.
    ///
    /// Roles: approver, admin.
    create_project: "/api/v1/projects", "reference", Approver, NewProject.into() => refdata::create_project => Project,
        (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such priority (`not_found`)."), (status = 409, description = "The code exists (`conflict`).")
}

record_route! {
    /// Get a project.
    ///
    /// Roles: every role.
    get_project: "/api/v1/projects/{code}", "reference", ReadReference, code => refdata::get_project => Project,
        (status = 404, description = "No such project (`not_found`).")
}

/// Change a project; its code cannot change.
///
/// Roles: approver, admin.
#[utoipa::path(patch, path = "/api/v1/projects/{code}", tag = "reference", params(("code" = Code, Path)),
    request_body = ProjectPatch,
    responses((status = 200, body = Project), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such project or priority (`not_found`)."),
        (status = 409, description = "The change clashes with the project's postings (`conflict`).")))]
async fn patch_project(c: Caller, Path(code): Path<String>, body: RawBody) -> Answer<Project> {
    c.require(Need::Approver)?;
    let mut f = Fields::parse(&body)?;
    if f.has("code") {
        return Err(AppError::field("code", "cannot be changed: it names the project's accounts"));
    }
    let patch = ProjectPatch::from_fields(f)?;
    Ok(Json(refdata::update_project(c.store(), &code, patch, c.name()).await?))
}

code_list! {
    /// List organisations (delivery partners).
    list_organisations: "/api/v1/organisations", Organisations => refdata::list_organisations => Organisation,
        OrganisationPage
}

/// Create an organisation.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "reference", request_body = NewOrganisation,
    responses((status = 201, body = Organisation), (status = 403, description = "Neither approver nor admin."),
        (status = 409, description = "The code exists (`conflict`).")))]
async fn create_organisation(c: Caller, body: RawBody) -> Created<Organisation> {
    c.require(Need::Approver)?;
    let o = organisation_body(&body)?;
    created(refdata::create_organisation(c.store(), o, c.actor()).await?)
}

/// A new organisation, every identifier checked for shape; the CLI's `organisation add`
/// parses through it too, so both refuse the same.
pub(crate) fn organisation_body(body: &RawBody) -> Result<Organisation, AppError> {
    Ok(NewOrganisation::from_fields(Fields::parse(body)?)?.into())
}

record_route! {
    /// Get an organisation.
    ///
    /// Roles: every role.
    get_organisation: "/api/v1/organisations/{code}", "reference", ReadReference,
        code => refdata::get_organisation => Organisation,
        (status = 404, description = "No such organisation (`not_found`).")
}

/// Change an organisation; its code cannot change. An identifier given as `""` is cleared.
///
/// Roles: approver, admin.
#[utoipa::path(patch, path = "/api/v1/organisations/{code}", tag = "reference", params(("code" = Code, Path)),
    request_body = OrganisationPatch,
    responses((status = 200, body = Organisation), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such organisation (`not_found`).")))]
async fn patch_organisation(c: Caller, Path(code): Path<String>, body: RawBody) -> Answer<Organisation> {
    c.require(Need::Approver)?;
    let patch = organisation_patch_body(&body)?;
    Ok(Json(refdata::update_organisation(c.store(), &code, patch, c.name()).await?))
}

/// Changes to an organisation, as `organisation_body` checks them; the CLI's `organisation
/// update` parses through it too.
pub(crate) fn organisation_patch_body(body: &RawBody) -> Result<OrganisationPatch, AppError> {
    let mut f = Fields::parse(body)?;
    if f.has("code") {
        return Err(AppError::field("code", "cannot be changed"));
    }
    Ok(OrganisationPatch::from_fields(f)?)
}
