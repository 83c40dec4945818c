//! The service's registry (docs/api.md, "The county"): funders, partnerships, their first
//! admins, and the operator's view of the service's health. These routes extract
//! `ServiceAuth`, not `Auth`: the operator, who reads no ledger, calls them.

use axum::Json;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::auth::{Need, ServiceAuth, ledger_refusal};
use super::super::error::AppError;
use super::super::input::{Query, RawBody};
use super::super::openapi::PageQuery;
use super::super::{AppState, Idem};
use super::{Answer, Created, created};
use crate::domain::Role;
use crate::model::page::{List, Page};
use crate::model::partnerships::{NewAdmin, NewPartnership, Partnership, ServiceHealth};
use crate::model::reference::{Funder, NewFunder};
use crate::model::tokens::NewToken;
use crate::model::{Actor, IdemKey};
use crate::storage::{Backend, Store, StoreError, partnerships, reference, tokens};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_funders, create_funder))
        .routes(routes!(create_funder_admin))
        .routes(routes!(list_partnerships, create_partnership))
        .routes(routes!(create_partnership_admin))
        .routes(routes!(health))
}

/// Who calls a registry route, under which idempotency key.
pub struct ServiceCaller {
    state: AppState,
    auth: ServiceAuth,
    idem: Option<IdemKey>,
}

impl FromRequestParts<AppState> for ServiceCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let auth = ServiceAuth::from_request_parts(parts, state).await?;
        let Ok(Idem(idem)) = Idem::from_request_parts(parts, state).await;
        Ok(ServiceCaller { state: state.clone(), auth, idem })
    }
}

impl ServiceCaller {
    fn require(&self, need: Need) -> Result<(), AppError> {
        if need.allows(self.auth.0.role) { Ok(()) } else { Err(AppError::Forbidden) }
    }

    /// The operator, or a caller who may read the ledger's reference data.
    fn require_operator_or_reader(&self) -> Result<(), AppError> {
        if self.auth.0.role == Role::Operator {
            return Ok(());
        }
        if let Some(refused) = ledger_refusal(&self.auth.0) {
            return Err(refused);
        }
        self.require(Need::ReadReference)
    }

    fn store(&self) -> &Store {
        &self.state.store
    }

    fn actor(&self) -> Actor<'_> {
        Actor { name: &self.auth.0.name, idem: self.idem.as_ref() }
    }
}

/// List funders: every funder the service knows.
///
/// Roles: every role, and operator.
#[utoipa::path(get, path = "/api/v1/funders", tag = "reference", params(PageQuery),
    responses((status = 200, body = super::super::openapi::FunderPage)))]
async fn list_funders(c: ServiceCaller, mut q: Query) -> Answer<Page<Funder>> {
    c.require_operator_or_reader()?;
    let page = q.page(List::Funders);
    q.finish()?;
    Ok(Json(reference::list_funders(c.store(), &page.after, page.limit).await?))
}

/// Create a funder.
///
/// Roles: operator.
#[utoipa::path(post, path = "/api/v1/funders", tag = "operator", request_body = NewFunder,
    responses((status = 201, body = Funder), (status = 403, description = "Not the operator."),
        (status = 409, description = "The code is a funder's already (`conflict`, naming `code`).")))]
async fn create_funder(c: ServiceCaller, body: RawBody) -> Created<Funder> {
    c.require(Need::Operator)?;
    let cmd: Funder = body.cmd::<NewFunder>()?.into();
    created(reference::create_funder(c.store(), cmd, c.actor()).await?)
}

/// Make a funder's first `funder_admin`: the token's secret is in this response only.
///
/// Roles: operator.
#[utoipa::path(post, path = "/api/v1/funders/{code}/admins", tag = "operator",
    params(("code" = super::super::openapi::Code, Path)), request_body = NewAdmin,
    responses((status = 201, body = NewToken), (status = 403, description = "Not the operator."),
        (status = 404, description = "No such funder (`not_found`).")))]
async fn create_funder_admin(c: ServiceCaller, Path(code): Path<String>, body: RawBody) -> Created<NewToken> {
    c.require(Need::Operator)?;
    let cmd = body.cmd::<NewAdmin>()?;
    let made =
        tokens::create_for_funder(c.store(), &cmd.name, Role::FunderAdmin, &code, &c.auth.0.name, c.idem.as_ref())
            .await?;
    created(made)
}

/// List the partnerships the caller may see: every one for the operator, those its funder
/// funds for a funder's role, and its own (the home partnership) for a partnership's role.
///
/// Roles: every role, and operator.
#[utoipa::path(get, path = "/api/v1/partnerships", tag = "operator",
    responses((status = 200, body = super::super::openapi::PartnershipPage)))]
async fn list_partnerships(c: ServiceCaller, q: Query) -> Answer<Page<Partnership>> {
    q.finish()?;
    let who = &c.auth.0;
    let all = partnerships::list(c.store()).await?;
    let items = match who.role {
        Role::Operator => all,
        role if role.is_funders() => all.into_iter().filter(|p| Some(&p.funder) == who.funder.as_ref()).collect(),
        _ => all.into_iter().filter(|p| p.home.0).collect(),
    };
    Ok(Json(Page { items, next_cursor: None }))
}

/// Register a partnership funded by a funder the service knows.
///
/// Roles: operator.
#[utoipa::path(post, path = "/api/v1/partnerships", tag = "operator", request_body = NewPartnership,
    responses((status = 201, body = Partnership), (status = 403, description = "Not the operator."),
        (status = 409, description = "The code is a partnership's already (`conflict`, naming `code`).")))]
async fn create_partnership(c: ServiceCaller, body: RawBody) -> Created<Partnership> {
    c.require(Need::Operator)?;
    let cmd = body.cmd::<NewPartnership>()?;
    created(partnerships::create(c.store(), &cmd, c.actor()).await?)
}

/// Make a partnership's first admin: the token's secret is in this response only. Only the
/// home partnership has a ledger in this service yet; for another this is `409`, since its
/// admin would reach the home partnership's ledger.
///
/// Roles: operator.
#[utoipa::path(post, path = "/api/v1/partnerships/{code}/admins", tag = "operator",
    params(("code" = super::super::openapi::Code, Path)), request_body = NewAdmin,
    responses((status = 201, body = NewToken), (status = 403, description = "Not the operator."),
        (status = 404, description = "No such partnership (`not_found`)."),
        (status = 409, description = "Not the home partnership: its ledger is not held apart yet (`conflict`).")))]
async fn create_partnership_admin(c: ServiceCaller, Path(code): Path<String>, body: RawBody) -> Created<NewToken> {
    c.require(Need::Operator)?;
    let cmd = body.cmd::<NewAdmin>()?;
    let all = partnerships::list(c.store()).await?;
    let p = all.iter().find(|p| p.code == code).ok_or_else(|| StoreError::NotFound(format!("partnership {code}")))?;
    if !p.home.0 {
        return Err(StoreError::Conflict(format!(
            "partnership {code}: this service does not yet hold more than one partnership's ledger (they are not \
             sealed from each other yet), so an admin of {code} would administer {}'s ledger; no token was made",
            all.iter().find(|h| h.home.0).map_or("the home partnership", |h| h.code.as_str())
        ))
        .into());
    }
    created(tokens::create_keyed(c.store(), (&cmd.name, Role::Admin, None), &c.auth.0.name, c.idem.as_ref()).await?)
}

/// The service's health and, per partnership, how much its ledger holds: counts of entries,
/// users and tokens, and when its newest entry was recorded. No figure, name or entry.
///
/// Roles: operator.
#[utoipa::path(get, path = "/api/v1/operator/health", tag = "operator",
    responses((status = 200, body = ServiceHealth), (status = 403, description = "Not the operator.")))]
async fn health(c: ServiceCaller, q: Query) -> Answer<ServiceHealth> {
    c.require(Need::Operator)?;
    q.finish()?;
    let backend = match c.store().backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let partnerships = partnerships::health(c.store()).await?;
    Ok(Json(ServiceHealth { status: "ok".into(), backend: backend.into(), partnerships }))
}
