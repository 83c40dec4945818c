//! Tokens: admin only. The secret is in the create response and nowhere else.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::{Fields, Query, RawBody};
use super::super::openapi::PageQuery;
use super::super::{AppState, Idem};
use crate::model::fields::FromFields;
use crate::model::page::{List, Page};
use crate::model::tokens::{NewToken, TokenCmd, TokenInfo};
use crate::storage::StoreError;
use crate::storage::tokens;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(revoke))
}

/// List tokens, without their secrets.
///
/// Roles: admin.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", params(PageQuery),
    responses((status = 200, body = super::super::openapi::TokenPage), (status = 403, description = "Not admin.")))]
async fn list(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Json<Page<TokenInfo>>, AppError> {
    auth.require(Need::Admin)?;
    let page = q.page(List::Tokens);
    q.finish()?;
    Ok(Json(tokens::list(&s.store, page.after_id(), page.limit).await?))
}

/// Create a token. The secret is in this response and nowhere else; a replay under the same
/// `Idempotency-Key` answers without it.
///
/// Roles: admin.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = TokenCmd,
    responses((status = 201, body = NewToken), (status = 403, description = "Not admin.")))]
async fn create(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    body: RawBody,
) -> Result<(StatusCode, Json<NewToken>), AppError> {
    auth.require(Need::Admin)?;
    let cmd = TokenCmd::from_fields(Fields::parse(&body)?)?;
    let created = tokens::create_keyed(&s.store, &cmd.name, cmd.role, auth.name(), idem.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revoke a token.
///
/// Roles: admin.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = i64, Path, minimum = 1)),
    responses((status = 204, description = "Revoked."), (status = 403, description = "Not admin."),
        (status = 404, description = "No such token (`not_found`)."),
        (status = 409, description = "The token of this request (`conflict`): revoke it with another.")))]
async fn revoke(State(s): State<AppState>, auth: Auth, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    auth.require(Need::Admin)?;
    let id = super::postings::path_id(&id, "id")?;
    // Revoking the token in hand would lock its holder out mid-session, perhaps the only admin.
    if auth.0.token_id == Some(id) {
        return Err(StoreError::Conflict("this is the token of this request; revoke it with another".into()).into());
    }
    tokens::revoke(&s.store, id, auth.name()).await?;
    Ok(StatusCode::NO_CONTENT)
}
