//! Tokens: admin only. The secret is in the create response and nowhere else.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::super::auth::Need;
use super::super::error::AppError;
use super::super::input::{Query, RawBody};
use super::super::openapi::PageQuery;
use super::{Answer, Caller, Created, created};
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
async fn list(c: Caller, mut q: Query) -> Answer<Page<TokenInfo>> {
    c.require(Need::Admin)?;
    let page = q.page(List::Tokens);
    q.finish()?;
    Ok(Json(tokens::list(c.store(), page.after_id(), page.limit).await?))
}

/// Create a token. The secret is in this response and nowhere else; a replay under the same
/// `Idempotency-Key` answers without it.
///
/// Roles: admin.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = TokenCmd,
    responses((status = 201, body = NewToken), (status = 403, description = "Not admin.")))]
async fn create(c: Caller, body: RawBody) -> Created<NewToken> {
    c.require(Need::Admin)?;
    let cmd = body.cmd::<TokenCmd>()?;
    let token = tokens::create_keyed(c.store(), (&cmd.name, cmd.role, None), c.name(), c.idem.as_ref()).await?;
    created(token)
}

/// Revoke a token.
///
/// Roles: admin.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = i64, Path, minimum = 1)),
    responses((status = 204, description = "Revoked."), (status = 403, description = "Not admin."),
        (status = 404, description = "No such token (`not_found`)."),
        (status = 409, description = "The token of this request (`conflict`): revoke it with another.")))]
async fn revoke(c: Caller, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    c.require(Need::Admin)?;
    let id = super::postings::path_id(&id, "id")?;
    // Revoking the token in hand would lock its holder out mid-session, perhaps the only admin.
    if c.auth.0.token_id == Some(id) {
        return Err(StoreError::Conflict("this is the token of this request; revoke it with another".into()).into());
    }
    tokens::revoke(c.store(), id, c.name()).await?;
    Ok(StatusCode::NO_CONTENT)
}
