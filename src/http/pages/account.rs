//! A user's own password (`/account/password`) and the admin's users page (`/admin/users`):
//! plain forms under the session's CSRF token, each post answered with a redirect (post,
//! redirect, get) or the form again with what to fix. No password is ever put in a page.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use super::super::AppState;
use super::super::auth::Need;
use super::super::error::AppError;
use super::super::input::Query;
use super::{COOKIE, Session, cookie, csrf, html as frame, page_response};
use crate::domain::Role;
use crate::model::fields::{FieldError, Fields, FromFields};
use crate::model::users::{NewUserCmd, Password, UserInfo};
use crate::storage::{StoreError, users};

pub fn router() -> OpenApiRouter<AppState> {
    page_router![password_form, change_password; users_page, users_page_add; users_page_disable; users_page_reset]
}

/// The errors a refusal names, for a page: a field's own words, never its value.
fn field_errors(e: AppError) -> Result<Vec<FieldError>, AppError> {
    match e {
        AppError::Validation(errors) => Ok(errors),
        AppError::Store(StoreError::Invalid { field, message }) => Ok(vec![FieldError { field, message }]),
        e => Err(e),
    }
}

fn errors_list(errors: &[FieldError]) -> maud::Markup {
    html! {
        @if !errors.is_empty() {
            div class="error" role="alert" {
                ul { @for e in errors { li { (e.field) ": " (e.message) } } }
            }
        }
    }
}

/// A labelled password input; `autocomplete` says whose password it is.
fn password(id: &str, name: &str, label: &str, autocomplete: &str) -> maud::Markup {
    html! {
        label for=(id) { (label) }
        input id=(id) name=(name) type="password" autocomplete=(autocomplete) required;
    }
}

/// A labelled text input, its value kept.
fn text(name: &str, label: &str, value: &str) -> maud::Markup {
    html! {
        label for=(name) { (label) }
        input id=(name) name=(name) type="text" value=(value) required;
    }
}

fn password_html(form_token: &str, errors: &[FieldError], changed: bool) -> String {
    let body = html! {
        main class="narrow" {
            h1 { "Change password" }
            @if changed { p class="notice" role="status" { "Your password has been changed." } }
            (errors_list(errors))
            form method="post" action="/account/password" {
                (csrf::hidden_input(form_token))
                (password("current_password", "current_password", "Current password", "current-password"))
                (password("new_password", "new_password", "New password (at least 12 characters)", "new-password"))
                (password("confirm_password", "confirm_password", "New password again", "new-password"))
                button type="submit" id="change-password" { "Change password" }
            }
            p class="back" { a href="/dashboard" { "Back to the dashboard" } }
        }
    };
    frame::page("Change password · grant-ledger", body)
}

/// The form to change one's own password.
///
/// Roles: a user signed in with a password; without a live session, 303 to `/sign-in`.
#[utoipa::path(get, path = "/account/password", tag = "pages", security(()),
    params(("changed" = Option<String>, Query, description = "Set after a change, to say it was made.")),
    responses((status = 200, description = "The form.", body = String, content_type = "text/html"),
        (status = 303, description = "No live session: to `/sign-in`, then back.")))]
async fn password_form(who: Session, mut q: Query) -> Result<Response, AppError> {
    let changed = q.text("changed").is_some();
    q.finish()?;
    Ok(page_response(StatusCode::OK, password_html(&who.1, &[], changed)))
}

/// The form changing one's own password. Read without refusing its fields one by one: an
/// empty or unreadable password is told as the form's own message, never echoed.
#[derive(ToSchema)]
pub struct PasswordFields {
    #[schema(value_type = String)]
    pub current_password: Password,
    /// At least 12 characters, not one character repeated, not the username.
    #[schema(value_type = String)]
    pub new_password: Password,
    #[schema(value_type = String)]
    pub confirm_password: Password,
    /// The form's token, bound to the session.
    pub csrf_token: String,
}

impl FromFields for PasswordFields {
    fn read(f: &mut Fields) -> Self {
        PasswordFields {
            current_password: Password(f.text("current_password")),
            new_password: Password(f.text("new_password")),
            confirm_password: Password(f.text("confirm_password")),
            csrf_token: f.text("csrf_token"),
        }
    }
}

/// Change one's own password: the current one must match and the new one be given twice.
/// The user's other sessions end; this one goes on.
#[utoipa::path(post, path = "/account/password", tag = "pages", security(()),
    request_body(content = PasswordFields, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Changed: to `/account/password?changed=1`."),
        (status = 403, description = "No live session, no valid `csrf_token`, or signed in with a token, which has no password.", body = String, content_type = "text/html"),
        (status = 422, description = "The current password is wrong, the two differ or the new one is refused: the form again, saying so.", body = String, content_type = "text/html")))]
async fn change_password(
    State(s): State<AppState>,
    who: Session,
    headers: HeaderMap,
    csrf::CsrfForm(form): csrf::CsrfForm,
) -> Result<Response, AppError> {
    if who.0.user_id.is_none() {
        return Err(AppError::Forbidden);
    }
    let PasswordFields { current_password: current, new_password: new, confirm_password: confirm, .. } =
        PasswordFields::read(&mut super::form_fields(&form));
    let again = |errors: Vec<FieldError>| {
        page_response(StatusCode::UNPROCESSABLE_ENTITY, password_html(form.token(), &errors, false))
    };
    if new.0 != confirm.0 {
        return Ok(again(vec![FieldError {
            field: "confirm_password".into(),
            message: "differs from the new password".into(),
        }]));
    }
    let secret = cookie(&headers, COOKIE).unwrap_or_default();
    match users::change_password(&s.store, &who.0.name, &current, &new, &secret).await {
        Ok(()) => Ok(Redirect::to("/account/password?changed=1").into_response()),
        Err(e) => {
            let mut errors = field_errors(e.into())?;
            for e in &mut errors {
                if e.field == "password" {
                    e.field = "new_password".into();
                }
            }
            Ok(again(errors))
        }
    }
}

fn users_html(form_token: &str, list: &[UserInfo], errors: &[FieldError], kept: (&str, &str)) -> String {
    let body = html! {
        main {
            h1 { "Users" }
            (errors_list(errors))
            table id="users" {
                thead { tr { th { "Username" } th { "Display name" } th { "Role" } th { "Disabled" } th { "" } } }
                tbody {
                    @for u in list {
                        tr {
                            td { (u.username) } td { (u.display_name) } td { (u.role.as_str()) }
                            td { (u.disabled_at.as_deref().unwrap_or("")) }
                            td {
                                @if u.disabled_at.is_none() {
                                    form method="post" action={ "/admin/users/" (u.username) "/disable" } {
                                        (csrf::hidden_input(form_token))
                                        button type="submit" { "Disable" }
                                    }
                                    form method="post" action={ "/admin/users/" (u.username) "/reset-password" } {
                                        (csrf::hidden_input(form_token))
                                        (password(&format!("reset-{}", u.username), "password", "New password", "new-password"))
                                        button type="submit" { "Reset password" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Add a user" }
            form method="post" action="/admin/users" {
                (csrf::hidden_input(form_token))
                (text("username", "Username", kept.0))
                (text("display_name", "Display name", kept.1))
                label for="role" { "Role" }
                select id="role" name="role" { @for r in Role::GRANTED_BY_ADMIN { option value=(r.as_str()) { (r.as_str()) } } }
                (password("password", "password", "Password (at least 12 characters)", "new-password"))
                button type="submit" id="add-user" { "Add user" }
            }
            p class="back" { a href="/dashboard" { "Back to the dashboard" } }
        }
    };
    frame::page("Users · grant-ledger", body)
}

/// The users page: every user, with forms to add, disable and reset a password.
///
/// Roles: admin, signed in; another role gets the 403 page; without a live session, 303 to `/sign-in`.
#[utoipa::path(get, path = "/admin/users", tag = "pages", security(()),
    responses((status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = "No live session: to `/sign-in`, then back."),
        (status = 403, description = "Not admin.", body = String, content_type = "text/html")))]
async fn users_page(State(s): State<AppState>, who: Session) -> Result<Response, AppError> {
    admin(&who)?;
    let list = users::list(&s.store).await?;
    Ok(page_response(StatusCode::OK, users_html(&who.1, &list, &[], ("", ""))))
}

fn admin(who: &Session) -> Result<(), AppError> {
    if Need::Admin.allows(who.0.role) { Ok(()) } else { Err(AppError::Forbidden) }
}

/// Add a user, as `POST /api/v1/users` does (request type `NewUserBody`), from the page.
#[utoipa::path(post, path = "/admin/users", tag = "pages", security(()),
    request_body(content = NewUserCmd, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Added: to `/admin/users`."),
        (status = 403, description = "No live session, not admin, or no valid `csrf_token`.", body = String, content_type = "text/html"),
        (status = 422, description = "A field refused: the page again, saying so, the password not kept.", body = String, content_type = "text/html")))]
async fn users_page_add(
    State(s): State<AppState>,
    who: Session,
    csrf::CsrfForm(form): csrf::CsrfForm,
) -> Result<Response, AppError> {
    admin(&who)?;
    let added = match NewUserCmd::from_fields(Fields::text_pairs(form.pairs().to_vec())) {
        Ok(cmd) => users::add(&s.store, &cmd, &who.0.name).await.map(|_| ()).map_err(AppError::from),
        Err(errors) => Err(AppError::Validation(errors)),
    };
    match added {
        Ok(()) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => {
            let errors = field_errors(e)?;
            let list = users::list(&s.store).await?;
            let kept = (form.get("username").unwrap_or(""), form.get("display_name").unwrap_or(""));
            Ok(page_response(StatusCode::UNPROCESSABLE_ENTITY, users_html(form.token(), &list, &errors, kept)))
        }
    }
}

/// Disable a user from the page; their sessions end at once.
#[utoipa::path(post, path = "/admin/users/{username}/disable", tag = "pages", security(()),
    params(("username" = crate::model::wire::Code, Path)),
    request_body(content = super::SignOutFields, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Disabled: to `/admin/users`."),
        (status = 403, description = "No live session, not admin, or no valid `csrf_token`.", body = String, content_type = "text/html"),
        (status = 404, description = "No such live user.", body = String, content_type = "text/html")))]
async fn users_page_disable(
    State(s): State<AppState>,
    who: Session,
    Path(username): Path<String>,
    _form: csrf::CsrfForm,
) -> Result<Response, AppError> {
    admin(&who)?;
    users::disable(&s.store, &username, &who.0.name).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// The form setting a user's password from the admin page.
#[derive(ToSchema)]
pub struct ResetFields {
    /// At least 12 characters, not one character repeated, not the username.
    #[schema(value_type = String)]
    pub password: Password,
    /// The form's token, bound to the session.
    pub csrf_token: String,
}

impl FromFields for ResetFields {
    fn read(f: &mut Fields) -> Self {
        ResetFields { password: Password(f.text("password")), csrf_token: f.text("csrf_token") }
    }
}

/// Set a user's password from the page; their sessions end.
#[utoipa::path(post, path = "/admin/users/{username}/reset-password", tag = "pages", security(()),
    params(("username" = crate::model::wire::Code, Path)),
    request_body(content = ResetFields, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Reset: to `/admin/users`."),
        (status = 403, description = "No live session, not admin, or no valid `csrf_token`.", body = String, content_type = "text/html"),
        (status = 404, description = "No such live user.", body = String, content_type = "text/html"),
        (status = 422, description = "The password is refused: the page again, saying so.", body = String, content_type = "text/html")))]
async fn users_page_reset(
    State(s): State<AppState>,
    who: Session,
    Path(username): Path<String>,
    csrf::CsrfForm(form): csrf::CsrfForm,
) -> Result<Response, AppError> {
    admin(&who)?;
    let ResetFields { password, .. } = ResetFields::read(&mut super::form_fields(&form));
    match users::reset_password(&s.store, &username, &password, &who.0.name).await {
        Ok(()) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => {
            let errors = field_errors(e.into())?;
            let list = users::list(&s.store).await?;
            Ok(page_response(StatusCode::UNPROCESSABLE_ENTITY, users_html(form.token(), &list, &errors, ("", ""))))
        }
    }
}
