//! Tokens: admin only. The secret is in the create response and nowhere else.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};

use super::super::auth::{Auth, Need};
use super::super::error::AppError;
use super::super::input::{Fields, Query, RawBody};
use super::super::{AppState, Idem};
use crate::storage::Page;
use crate::storage::tokens::{self, NewToken, Role, TokenInfo};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/tokens", get(list).post(create)).route("/api/v1/tokens/{id}", delete(revoke))
}

async fn list(State(s): State<AppState>, auth: Auth, mut q: Query) -> Result<Json<Page<TokenInfo>>, AppError> {
    auth.require(Need::Admin)?;
    let page = q.page();
    q.finish()?;
    Ok(Json(tokens::list(&s.store, page.after_id(), page.limit).await?))
}

async fn create(
    State(s): State<AppState>,
    auth: Auth,
    Idem(idem): Idem,
    body: RawBody,
) -> Result<(StatusCode, Json<NewToken>), AppError> {
    auth.require(Need::Admin)?;
    let mut f = Fields::parse(&body)?;
    let name = f.text("name");
    let role_names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let role = f.one_of("role", &role_names, None);
    f.finish()?;
    let role = Role::parse(&role).ok_or_else(|| AppError::field("role", "is not a role"))?;
    let created = tokens::create_keyed(&s.store, &name, role, auth.name(), idem.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn revoke(State(s): State<AppState>, auth: Auth, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    auth.require(Need::Admin)?;
    let id: i64 = id.parse().map_err(|_| AppError::field("id", "must be a whole number"))?;
    tokens::revoke(&s.store, id, auth.name()).await?;
    Ok(StatusCode::NO_CONTENT)
}
