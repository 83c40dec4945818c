//! Users, the people who sign in to the pages: admin only. A password goes in and never
//! comes out; answers show a user as `UserInfo`.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::super::auth::Need;
use super::super::error::AppError;
use super::super::input::RawBody;
use super::{Answer, Caller, Created, created};
use crate::model::users::{NewUserCmd, UserInfo};
use crate::storage::users;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_users, add_user)).routes(routes!(disable_user))
}

/// Every user, live and disabled, by username.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub items: Vec<UserInfo>,
}

/// List users, without their passwords.
///
/// Roles: admin.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = UserList), (status = 403, description = "Not admin.")))]
async fn list_users(c: Caller) -> Answer<UserList> {
    c.require(Need::Admin)?;
    Ok(Json(UserList { items: users::list(c.store()).await? }))
}

/// Add a user who signs in to the pages with a username and password.
///
/// Roles: admin.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserCmd,
    responses((status = 201, body = UserInfo), (status = 403, description = "Not admin."),
        (status = 422, description = "A bad field, a username already taken (`username`) or a weak password (`password`): `validation_failed`.")))]
async fn add_user(c: Caller, body: RawBody) -> Created<UserInfo> {
    c.require(Need::Admin)?;
    let cmd = body.cmd::<NewUserCmd>()?;
    let added = users::add(c.store(), &cmd, c.name()).await?;
    created(added)
}

/// Disable a user: they cannot sign in, and their sessions end at once.
///
/// Roles: admin.
#[utoipa::path(post, path = "/api/v1/users/{username}/disable", tag = "users",
    params(("username" = super::super::openapi::Code, Path)),
    responses((status = 204, description = "Disabled."), (status = 403, description = "Not admin."),
        (status = 404, description = "No such live user (`not_found`).")))]
async fn disable_user(c: Caller, Path(username): Path<String>) -> Result<StatusCode, AppError> {
    c.require(Need::Admin)?;
    users::disable(c.store(), &username, c.name()).await?;
    Ok(StatusCode::NO_CONTENT)
}
