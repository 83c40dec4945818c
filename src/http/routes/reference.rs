//! Reference data: financial years, funders, priorities, grants, awards and projects.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::{Fields, Query, RawBody};
use super::super::{AppState, Idem};
use crate::domain::{OnOverspend, ProjectStatus, is_valid_code};
use crate::storage::reference::{self as refdata, Funder, Grant, NewAward, Priority, Project, ProjectPatch};
use crate::storage::{Page, StoreError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/financial-years", get(list_years).post(create_year))
        .route("/api/v1/funders", get(list_funders).post(create_funder))
        .route("/api/v1/priorities", get(list_priorities).post(create_priority))
        .route("/api/v1/grants", get(list_grants).post(create_grant))
        .route("/api/v1/grants/{grant}/awards", get(list_awards).post(create_award))
        .route("/api/v1/projects", get(list_projects).post(create_project))
        .route("/api/v1/projects/{code}", get(get_project).patch(patch_project))
}

type Created<T> = Result<(StatusCode, Json<T>), AppError>;
type Listed<T> = Result<Json<Page<T>>, AppError>;

async fn list_years(State(s): State<AppState>, auth: Auth, mut q: Query) -> Listed<refdata::FinancialYearRecord> {
    auth.require(Need::ReadReference)?;
    let page = q.page();
    q.finish()?;
    Ok(Json(refdata::list_financial_years(&s.store, &page.after, page.limit).await?))
}

async fn create_year(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    body: RawBody,
) -> Created<refdata::FinancialYearRecord> {
    auth.require(Need::Admin)?;
    let mut f = Fields::parse(&body)?;
    let year = f.year("code");
    f.finish()?;
    Ok((StatusCode::CREATED, Json(refdata::create_financial_year(&s.store, year, auth.actor(&idem)).await?)))
}

async fn list_funders(State(s): State<AppState>, auth: Auth, mut q: Query) -> Listed<Funder> {
    auth.require(Need::ReadReference)?;
    let page = q.page();
    q.finish()?;
    Ok(Json(refdata::list_funders(&s.store, &page.after, page.limit).await?))
}

async fn create_funder(State(s): State<AppState>, auth: Auth, Idem(idem): Idem, body: RawBody) -> Created<Funder> {
    auth.require(Need::Admin)?;
    let mut f = Fields::parse(&body)?;
    let funder = Funder { code: f.code("code"), name: f.text("name") };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(refdata::create_funder(&s.store, funder, auth.actor(&idem)).await?)))
}

async fn list_priorities(State(s): State<AppState>, auth: Auth, mut q: Query) -> Listed<Priority> {
    auth.require(Need::ReadReference)?;
    let page = q.page();
    q.finish()?;
    Ok(Json(refdata::list_priorities(&s.store, &page.after, page.limit).await?))
}

async fn create_priority(State(s): State<AppState>, auth: Auth, Idem(idem): Idem, body: RawBody) -> Created<Priority> {
    auth.require(Need::Approver)?;
    let mut f = Fields::parse(&body)?;
    let p = Priority { code: f.code("code"), name: f.text("name"), description: f.text_or_empty("description") };
    f.finish()?;
    Ok((StatusCode::CREATED, Json(refdata::create_priority(&s.store, p, auth.actor(&idem)).await?)))
}

async fn list_grants(State(s): State<AppState>, auth: Auth, mut q: Query) -> Listed<Grant> {
    auth.require(Need::ReadReference)?;
    let page = q.page();
    q.finish()?;
    Ok(Json(refdata::list_grants(&s.store, &page.after, page.limit).await?))
}

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

async fn list_awards(
    State(s): State<AppState>,
    auth: Auth,
    Path(grant): Path<String>,
    mut q: Query,
) -> Listed<refdata::AwardRecord> {
    auth.require(Need::ReadReference)?;
    grant_path(&grant)?;
    let page = q.page();
    q.finish()?;
    if !refdata::grant_exists(&s.store, &grant).await? {
        return Err(StoreError::NotFound(format!("grant {grant}")).into());
    }
    Ok(Json(refdata::list_awards(&s.store, &grant, &page.after, page.limit).await?))
}

async fn create_award(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    Path(grant): Path<String>,
    body: RawBody,
) -> Created<refdata::AwardRecord> {
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

async fn list_projects(State(s): State<AppState>, auth: Auth, mut q: Query) -> Listed<Project> {
    auth.require(Need::ReadReference)?;
    let page = q.page();
    q.finish()?;
    Ok(Json(refdata::list_projects(&s.store, &page.after, page.limit).await?))
}

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

async fn get_project(
    State(s): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
) -> Result<Json<Project>, AppError> {
    auth.require(Need::ReadReference)?;
    Ok(Json(refdata::get_project(&s.store, &code).await?))
}

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
        name: f.has("name").then(|| f.text("name")),
        priority: f.has("priority").then(|| f.code("priority")),
        lead_organisation: f.has("lead_organisation").then(|| f.text_or_empty("lead_organisation")),
        description: f.has("description").then(|| f.text_or_empty("description")),
        status: f.has("status").then(|| f.word("status", &ProjectStatus::ALL, None)),
    };
    f.finish()?;
    Ok(Json(refdata::update_project(&s.store, &code, patch, auth.name()).await?))
}
