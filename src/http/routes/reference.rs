//! Reference data: financial years, funders, priorities, grants, awards, projects and
//! organisations.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::{Fields, FromFields, Query, RawBody};
use super::super::openapi::{Code, PageQuery};
use super::super::{AppState, Idem};
use crate::domain::is_valid_code;
use crate::model::page::{List, Page};
use crate::model::reference::{
    AwardRecord, FinancialYearRecord, Funder, Grant, NewAward, NewFunder, NewGrant, NewOrganisation, NewPriority,
    NewProject, NewYear, Organisation, OrganisationPatch, Priority, Project, ProjectPatch,
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

/// Set up a financial year.
///
/// Roles: admin.
#[utoipa::path(post, path = "/api/v1/financial-years", tag = "reference", request_body = NewYear,
    responses((status = 201, body = FinancialYearRecord),
        (status = 403, description = "Not admin."), (status = 409, description = "The year exists (`conflict`).")))]
async fn create_year(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    body: RawBody,
) -> Created<FinancialYearRecord> {
    auth.require(Need::Admin)?;
    let year = NewYear::from_fields(Fields::parse(&body)?)?;
    Ok((StatusCode::CREATED, Json(refdata::create_financial_year(&s.store, year.code, auth.actor(&idem)).await?)))
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

/// Create a funder.
///
/// Roles: admin.
#[utoipa::path(post, path = "/api/v1/funders", tag = "reference", request_body = NewFunder,
    responses((status = 201, body = Funder),
        (status = 403, description = "Not admin."), (status = 409, description = "The code exists (`conflict`).")))]
async fn create_funder(State(s): State<AppState>, auth: Auth, Idem(idem): Idem, body: RawBody) -> Created<Funder> {
    auth.require(Need::Admin)?;
    let funder = NewFunder::from_fields(Fields::parse(&body)?)?.into();
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

/// Create a priority.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/priorities", tag = "reference", request_body = NewPriority,
    responses((status = 201, body = Priority),
        (status = 403, description = "Neither approver nor admin."), (status = 409, description = "The code exists (`conflict`).")))]
async fn create_priority(State(s): State<AppState>, auth: Auth, Idem(idem): Idem, body: RawBody) -> Created<Priority> {
    auth.require(Need::Approver)?;
    let p = NewPriority::from_fields(Fields::parse(&body)?)?.into();
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

/// Create a grant.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/grants", tag = "reference", request_body = NewGrant,
    responses((status = 201, body = Grant), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such funder or priority (`not_found`)."),
        (status = 409, description = "The code exists (`conflict`).")))]
async fn create_grant(State(s): State<AppState>, auth: Auth, Idem(idem): Idem, body: RawBody) -> Created<Grant> {
    auth.require(Need::Approver)?;
    let g = NewGrant::from_fields(Fields::parse(&body)?)?.into();
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

/// Record an award: one per grant and year.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/grants/{grant}/awards", tag = "reference",
    params(("grant" = Code, Path)), request_body = NewAward,
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
    let award = NewAward { grant, ..NewAward::from_fields(Fields::parse(&body)?)? };
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

/// Create a project.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/projects", tag = "reference", request_body = NewProject,
    responses((status = 201, body = Project), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such priority (`not_found`)."), (status = 409, description = "The code exists (`conflict`).")))]
async fn create_project(State(s): State<AppState>, auth: Auth, Idem(idem): Idem, body: RawBody) -> Created<Project> {
    auth.require(Need::Approver)?;
    let p = NewProject::from_fields(Fields::parse(&body)?)?.into();
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

/// Change a project; its code cannot change.
///
/// Roles: approver, admin.
#[utoipa::path(patch, path = "/api/v1/projects/{code}", tag = "reference", params(("code" = Code, Path)),
    request_body = ProjectPatch,
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
    let patch = ProjectPatch::from_fields(f)?;
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

/// Create an organisation.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "reference", request_body = NewOrganisation,
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
    Ok(NewOrganisation::from_fields(Fields::parse(body)?)?.into())
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

/// Change an organisation; its code cannot change. An identifier given as `""` is cleared.
///
/// Roles: approver, admin.
#[utoipa::path(patch, path = "/api/v1/organisations/{code}", tag = "reference", params(("code" = Code, Path)),
    request_body = OrganisationPatch,
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
    Ok(OrganisationPatch::from_fields(f)?)
}
