//! HTML pages for the partnership group, served by the same binary: sign-in, the dashboard,
//! CSV downloads and the stylesheet. No CDN and no script: everything comes from here.
//!
//! Sessions: signing in with a token sets `gl_session`, a random secret whose SHA-256 is
//! stored (table `sessions`); each sign-in starts a new one and ends the one the browser
//! held. The cookie is HttpOnly and SameSite=Strict, and Secure when the public URL is https
//! or the request came over https (`X-Forwarded-Proto: https` from the TLS proxy). Every
//! form that posts carries a token bound to the session, or for sign-in to the pre-session
//! cookie `GET /sign-in` sets, and its `Origin` must be the public URL's (`csrf`). Sign-in
//! counts failures in the same per-address throttle as bearer tokens. Errors are pages
//! (`errors`).

/// A router of page handlers: one group per path, its handlers separated by commas (a form and
/// its post share a path), groups by semicolons.
macro_rules! page_router {
    ($($($f:ident),+);+ $(;)?) => {
        ::utoipa_axum::router::OpenApiRouter::new()$(.routes(::utoipa_axum::routes!($($f),+)))+
    };
}

pub mod account;
mod cash;
pub mod csrf;
mod dashboard;
mod desk_forms;
pub mod errors;
mod filed;
pub mod forms;
mod funder_pages;
pub mod html;
mod import_pages;
pub(crate) mod lists;
mod partners;
mod posting_forms;
mod project_pages;
mod record_pages;
pub(crate) mod schedule_pages;
pub mod svg;
mod virement_pages;
mod year_pages;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use super::AppState;
use super::auth::Need;
use super::error::AppError;
use super::input::{Fields, FromFields, Query};
use super::openapi::{DateOrEmpty, TextOrEmpty, YearOrEmpty};
use super::routes::reports::csv_response;
use super::throttle::Client;
use chrono::NaiveDate;

use crate::domain::FinancialYear;
use crate::model::Actor;
use crate::model::formats::{DataFormat, SheetFormat};
use crate::model::known::Known;
use crate::model::tokens::Principal;
use crate::reports::{commissioner, csv_out, run, variance};
use crate::storage::{sessions, tokens};

/// The session cookie's name.
pub const COOKIE: &str = "gl_session";

/// The longest token accepted on the sign-in form; real ones are 67 characters.
const TOKEN_LEN_MAX: usize = 200;

const CSS: &str = include_str!("dashboard.css");

/// The dashboard, or a download from it, of one financial year at `GET path`, read from the
/// query `params`: its docs, its 200 response `ok`, and the standard rest (303 to sign in, 404
/// no such year, 422 a bad parameter; `conflict` adds the 409 of a file needing a setting).
macro_rules! dashboard_get {
    (
        @($($conflict:tt)*) $(#[doc = $doc:tt])*
        get $path:literal params($params:ident); ok($($ok:tt)*);
        $f:item
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(get, path = $path, tag = "pages", security(()), params($params),
            responses((status = 200, $($ok)*),
                (status = 303, description = "No live session: to `/sign-in`, then back."),
                (status = 404, description = "No such financial year (`not_found`)."),
                $($conflict)*
                (status = 422, description = "A bad parameter (`validation_failed`).")))]
        $f
    };
    ($(#[doc = $doc:tt])* get $path:literal params($params:ident); ok($($ok:tt)*); conflict; $f:item) => {
        dashboard_get! {
            @((status = 409, description = "A setting the file needs is not set (`conflict`, naming it)."),)
            $(#[doc = $doc])* get $path params($params); ok($($ok)*); $f
        }
    };
    ($(#[doc = $doc:tt])* get $path:literal params($params:ident); ok($($ok:tt)*); $f:item) => {
        dashboard_get! { @() $(#[doc = $doc])* get $path params($params); ok($($ok)*); $f }
    };
}

pub fn router() -> OpenApiRouter<AppState> {
    page_router![
        home;
        sign_in_form, sign_in;
        sign_out;
        dashboard_page;
        variance_csv;
        return_csv;
        monitoring_download;
        vcse_download;
        giving_download;
        filed_return_file;
        css;
    ]
    .merge(forms::router())
    .merge(record_pages::router())
    .merge(virement_pages::router())
    .merge(account::router())
    .merge(lists::router())
    .merge(year_pages::router())
    .merge(posting_forms::router())
    .merge(import_pages::router())
    .merge(funder_pages::router())
    .merge(project_pages::router())
    .merge(desk_forms::router())
    .merge(schedule_pages::router())
}

/// To the dashboard.
#[utoipa::path(get, path = "/", tag = "pages", security(()),
    responses((status = 303, description = "Redirects to `/dashboard`.")))]
async fn home() -> Redirect {
    Redirect::to("/dashboard")
}

/// Headers every page carries: no script, no framing, nothing from elsewhere, not cached.
/// The referrer goes to this site only: a browser then sends this site's `Origin` with the
/// forms it posts (with `no-referrer` it would send `null`), and no other site learns the
/// ledger's addresses.
fn page_response(status: StatusCode, html: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

/// The dashboard's stylesheet.
#[utoipa::path(get, path = "/assets/dashboard.css", tag = "pages", security(()),
    responses((status = 200, description = "The stylesheet.", body = String, content_type = "text/css")))]
async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], CSS).into_response()
}

/// The value of cookie `name`, if the browser sent one.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name && !v.is_empty()).then(|| v.to_owned())
    })
}

/// True when the browser reaches the ledger over https: the public URL says so, or the TLS
/// proxy in front does.
fn over_https(state: &AppState, headers: &HeaderMap) -> bool {
    state.public_url.is_https()
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` for a secret: HttpOnly, SameSite=Strict. `max_age` None lasts until the
/// browser closes; `Some(0)` clears it.
fn set_cookie(name: &str, value: &str, path: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let max_age = max_age.map(|s| format!("; Max-Age={s}")).unwrap_or_default();
    HeaderValue::from_str(&format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict{max_age}{secure}"))
        .expect("cookie text is ASCII")
}

/// The signed-in caller of a page, and the token its forms carry. Without a live session,
/// pages redirect to sign-in.
pub struct Session(pub Principal, pub String);

pub enum NoSession {
    /// To sign-in, then back to this path and query.
    Redirect(String),
    Failed(AppError),
}

impl IntoResponse for NoSession {
    fn into_response(self) -> Response {
        match self {
            NoSession::Redirect(back) => {
                Redirect::to(&format!("/sign-in?next={}", percent_encode(&back))).into_response()
            }
            NoSession::Failed(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = NoSession;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let back = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/dashboard").to_owned();
        // A form posted without a live session is refused, not redirected: the redirect would
        // drop what was typed, and a post nobody is signed in for is as often a forged one.
        let posted = !matches!(parts.method, axum::http::Method::GET | axum::http::Method::HEAD);
        let refuse =
            |back: String| if posted { NoSession::Failed(AppError::Forbidden) } else { NoSession::Redirect(back) };
        let secret = cookie(&parts.headers, COOKIE).ok_or_else(|| refuse(back.clone()))?;
        match sessions::authenticate_within(&state.store, &secret, state.session_idle).await {
            // The pages show the ledger: a caller refused it (`ledger_refusal`) signs in again.
            Ok(Some(p)) if Need::ReadReference.allows(p.role) && super::auth::ledger_refusal(&p).is_none() => {
                Ok(Session(p, csrf::token(csrf::Bound::Session, &secret)))
            }
            Ok(_) => Err(refuse(back)),
            Err(e) => Err(NoSession::Failed(e.into())),
        }
    }
}

/// Who records what a page's form sends: the signed-in person by `name`, the name entries and
/// the audit trail record, with no idempotency key (a form carries none).
fn actor(name: &str) -> Actor<'_> {
    Actor { name, idem: None }
}

/// Percent-encodes everything but unreserved characters and `/`, for a query value.
fn percent_encode(text: &str) -> String {
    encoded(text, b"/")
}

/// Percent-encodes every byte but unreserved characters and those of `keep`.
fn encoded(text: &str, keep: &[u8]) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || keep.contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A record's id in a page's address: a positive whole number.
fn record_id(text: &str) -> Result<i64, AppError> {
    text.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(|| AppError::field("id", "must be a positive whole number"))
}

/// Which of the sign-in forms a refusal is about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tried {
    Password,
    Token,
}

/// The sign-in page: a username and password form, and a token form. On a refusal it says
/// why beside the form tried, and keeps the username given, never a password or token.
fn sign_in_html(refusal: Option<(&str, Tried)>, next: &str, form_token: &str, username: &str) -> String {
    let message = refusal.map(|(m, _)| m);
    let on = |tried: Tried| refusal.filter(|(_, t)| *t == tried).map(|(m, _)| m);
    let body = html! {
        main class="narrow" id="content" tabindex="-1" {
            h1 { "Sign in" }
            @if let Some(m) = message { p class="error" role="alert" { (m) } }
            form method="post" action="/sign-in" {
                (csrf::hidden_input(form_token))
                @if let Some(m) = on(Tried::Password) { p class="error" id="password-error" { (m) } }
                label for="username" { "Username" }
                input id="username" name="username" type="text" autocomplete="username" value=(username)
                    aria-describedby=[on(Tried::Password).map(|_| "password-error")];
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password"
                    aria-describedby=[on(Tried::Password).map(|_| "password-error")]
                    aria-invalid=[on(Tried::Password).map(|_| "true")];
                input type="hidden" name="next" value=(next);
                button type="submit" id="sign-in-password" { "Sign in" }
            }
            form method="post" action="/sign-in" {
                (csrf::hidden_input(form_token))
                label for="token" { "Access token" }
                @if let Some(m) = on(Tried::Token) { p class="error" id="token-error" { (m) } }
                input id="token" name="token" type="password" autocomplete="off"
                    aria-describedby=[on(Tried::Token).map(|_| "token-error")]
                    aria-invalid=[on(Tried::Token).map(|_| "true")];
                input type="hidden" name="next" value=(next);
                button type="submit" id="sign-in-token" { "Sign in with a token" }
            }
            p { "Any role may read the reports. Ask your administrator for an account." }
        }
    };
    html::page("Sign in · grant-ledger", body)
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct SignInQuery {
    /// Where to go after signing in: a path of this site (anything else goes to `/`).
    #[param(value_type = Option<TextOrEmpty>)]
    next: Option<String>,
}

impl SignInQuery {
    fn read(q: &mut Query) -> Self {
        SignInQuery { next: q.text("next") }
    }
}

/// The sign-in form. Sets the pre-session cookie `gl_sign_in` (unless the browser holds
/// one), to which the form's `csrf_token` is bound.
#[utoipa::path(get, path = "/sign-in", tag = "pages", security(()), params(SignInQuery),
    responses((status = 200, description = "The form; `Set-Cookie` holds the pre-session cookie.", body = String, content_type = "text/html")))]
async fn sign_in_form(State(s): State<AppState>, headers: HeaderMap, mut q: Query) -> Result<Response, AppError> {
    let next = SignInQuery::read(&mut q).next.filter(|n| is_local_path(n)).unwrap_or_else(|| "/".into());
    q.finish()?;
    let held = cookie(&headers, csrf::SIGN_IN_COOKIE).filter(|c| is_secret(c));
    let secret = held.clone().unwrap_or_else(tokens::generate_secret);
    let mut resp =
        page_response(StatusCode::OK, sign_in_html(None, &next, &csrf::token(csrf::Bound::SignIn, &secret), ""));
    if held.is_none() {
        let cookie = set_cookie(csrf::SIGN_IN_COOKIE, &secret, "/sign-in", None, over_https(&s, &headers));
        resp.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(resp)
}

/// True for a secret as `tokens::generate_secret` makes them, so a cookie of any other shape
/// is replaced rather than kept.
fn is_secret(text: &str) -> bool {
    text.strip_prefix("gl_").is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[derive(ToSchema)]
pub struct SignInFormFields {
    /// A user's username (any case), with `password`; or leave empty and give `token`.
    pub username: Option<String>,
    /// The user's password. Never shown back, logged or stored.
    #[schema(max_length = 256)]
    pub password: Option<String>,
    /// A bearer token, instead of a username and password.
    #[schema(max_length = 200)]
    pub token: Option<String>,
    /// The form's token, bound to the pre-session cookie `GET /sign-in` sets.
    pub csrf_token: String,
    /// Where to go after signing in: a path of this site.
    pub next: Option<String>,
}

impl FromFields for SignInFormFields {
    fn read(f: &mut Fields) -> Self {
        SignInFormFields {
            username: f.opt_text("username"),
            password: f.opt_text("password"),
            token: f.opt_text("token"),
            csrf_token: f.text("csrf_token"),
            next: f.opt_text("next"),
        }
    }
}

/// A checked form's fields, its token among them, as a request type reads them.
pub(super) fn form_fields(form: &csrf::FormFields) -> Fields {
    let token = (csrf::FIELD.to_owned(), form.token().to_owned());
    Fields::text_pairs(form.pairs().iter().cloned().chain([token]))
}

/// What a person signs in with.
enum Credentials {
    Token(String),
    Password { username: String, password: String },
}

/// The credentials a sign-in form holds, or what to tell the person. A form with a `token`
/// field (`token_form`, even empty) is the token form; any other, the username and password form.
fn credentials(form: &SignInFormFields, token_form: bool) -> Result<Credentials, (&'static str, Tried)> {
    let token = form.token.as_deref().map(str::trim).unwrap_or("");
    if !token_form {
        let username = form.username.as_deref().map(str::trim).unwrap_or("");
        let password = form.password.as_deref().unwrap_or("");
        if username.is_empty()
            || password.is_empty()
            || username.len() > 64
            || password.len() > crate::model::users::PASSWORD_LEN_MAX * 4
        {
            return Err(("Enter your username and password.", Tried::Password));
        }
        return Ok(Credentials::Password { username: username.to_owned(), password: password.to_owned() });
    }
    if token.is_empty() || token.len() > TOKEN_LEN_MAX {
        return Err(("Enter your access token.", Tried::Token));
    }
    Ok(Credentials::Token(token.to_owned()))
}

/// Sign in: with a valid `csrf_token` (and, from a browser that sends one, this ledger's
/// `Origin`), a valid username and password, or token, starts a new session and goes on to
/// `next`. Failures count towards the address's throttle, and for a username towards that
/// account's too, whether or not the user exists.
#[utoipa::path(post, path = "/sign-in", tag = "pages", security(()),
    request_body(content = SignInFormFields, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed in: to `next` (default `/`); `Set-Cookie` holds the session."),
        (status = 401, description = "The username and password, or the token, are not valid: the form again, saying so, with the username kept.", body = String, content_type = "text/html"),
        (status = 403, description = "No valid `csrf_token` for this browser's pre-session cookie, or posted from another origin: a page saying so; nothing is counted.", body = String, content_type = "text/html"),
        (status = 422, description = "Nothing to sign in with: the form again, saying so.", body = String, content_type = "text/html"),
        (status = 429, description = "Too many failed sign-ins from this address, or for this username: a page saying so, with `Retry-After`.", body = String, content_type = "text/html")))]
async fn sign_in(
    State(s): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    csrf::SignInForm(form): csrf::SignInForm,
) -> Result<Response, AppError> {
    // The form was checked first: another site's post must not spend this address's failures.
    s.throttle.check(&client)?;
    // A bad field is told as the form's one message, and a field the form does not have is
    // let be: the person sees the form again, not a problem document.
    let fields = SignInFormFields::read(&mut form_fields(&form));
    let next = fields.next.as_deref().filter(|n| is_local_path(n)).unwrap_or("/");
    let kept = fields.username.as_deref().map(str::trim).unwrap_or("");
    let again = |status, refusal| page_response(status, sign_in_html(Some(refusal), next, form.token(), kept));
    let (principal, account) = match credentials(&fields, form.get("token").is_some()) {
        Err(message) => return Ok(again(StatusCode::UNPROCESSABLE_ENTITY, message)),
        Ok(Credentials::Token(token)) => (tokens::authenticate(&s.store, &token).await?, None),
        Ok(Credentials::Password { username, password }) => {
            // An account past its failures is refused even with the right password, from any
            // address: otherwise guessing would go on from fresh addresses.
            let account = super::throttle::account(&username);
            s.throttle.check(&account)?;
            (crate::storage::users::verify(&s.store, &username, &password).await?, Some(account))
        }
    };
    let Some(principal) = principal else {
        s.throttle.failed(&client);
        if let Some(account) = &account {
            s.throttle.failed(account);
        }
        let refusal = if account.is_some() {
            ("That username and password do not match an account.", Tried::Password)
        } else {
            ("That token is not valid.", Tried::Token)
        };
        return Ok(again(StatusCode::UNAUTHORIZED, refusal));
    };
    let secret = sessions::start(&s.store, &principal, cookie(&headers, COOKIE).as_deref()).await?;
    // A redirect: the form was posted from this site's own page, so the Strict cookie goes
    // with the request that follows it.
    let mut resp = Redirect::to(next).into_response();
    let https = over_https(&s, &headers);
    let cookies = resp.headers_mut();
    cookies.append(header::SET_COOKIE, set_cookie(COOKIE, &secret, "/", Some(sessions::SESSION_HOURS * 3600), https));
    cookies.append(header::SET_COOKIE, set_cookie(csrf::SIGN_IN_COOKIE, "", "/sign-in", Some(0), https));
    Ok(resp)
}

/// Where sign-in may send the browser next: a path of this site, nothing else, so the form
/// cannot be used to bounce a person to another site (`//host` and `/\host` are other sites
/// to a browser).
fn is_local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 200
        && next.bytes().all(|b| b.is_ascii_alphanumeric() || b"/?&=-_.%~".contains(&b))
}

#[derive(ToSchema)]
pub struct SignOutFields {
    /// The form's token, bound to the session.
    pub csrf_token: String,
}

impl FromFields for SignOutFields {
    fn read(f: &mut Fields) -> Self {
        SignOutFields { csrf_token: f.text("csrf_token") }
    }
}

/// Sign out: deletes the session and clears the cookie.
#[utoipa::path(post, path = "/sign-out", tag = "pages", security(()),
    request_body(content = SignOutFields, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Redirects to `/sign-in`."),
        (status = 403, description = "No valid `csrf_token` for this session, or posted from another origin: a page saying so; nothing is changed.", body = String, content_type = "text/html")))]
async fn sign_out(State(s): State<AppState>, headers: HeaderMap, form: csrf::CsrfForm) -> Result<Response, AppError> {
    // The extractor checked the token; the form has nothing else, and a stray field is let be.
    let SignOutFields { csrf_token: _ } = SignOutFields::read(&mut form_fields(&form.0));
    if let Some(secret) = cookie(&headers, COOKIE) {
        sessions::delete(&s.store, &secret).await?;
    }
    let mut resp = Redirect::to("/sign-in").into_response();
    resp.headers_mut().insert(header::SET_COOKIE, set_cookie(COOKIE, "", "/", Some(0), over_https(&s, &headers)));
    Ok(resp)
}

/// The year a dashboard shows when none is asked for: the year holding today if it has an
/// award, else the latest year with one; in a ledger with no award, this year if the ledger
/// has it, else its latest.
async fn default_year(s: &AppState) -> Result<crate::domain::FinancialYear, AppError> {
    let awarded = crate::storage::reports::years_with_awards(&s.store).await?;
    let years =
        crate::storage::reference::list_financial_years(&s.store, "", crate::model::page::PAGE_LIMIT_MAX).await?;
    let set_up: Vec<_> = years.items.iter().filter_map(|y| crate::domain::FinancialYear::parse(&y.code).ok()).collect();
    Ok(crate::domain::default_year::default_year(s.today(), &awarded, &set_up))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct DashboardQuery {
    /// Default (also when empty): the year holding today if it has an award, else the
    /// latest year with one.
    #[param(value_type = Option<YearOrEmpty>)]
    financial_year: Option<FinancialYear>,
    /// Empty, as the form sends it, is now.
    #[param(value_type = Option<DateOrEmpty>)]
    as_at: Option<NaiveDate>,
    /// `all`: every column of the variance table; empty or absent: the meeting's set.
    #[param(value_type = Option<TextOrEmpty>)]
    columns: Option<String>,
}

impl DashboardQuery {
    fn read(q: &mut Query) -> Self {
        DashboardQuery { financial_year: q.year("financial_year"), as_at: q.date("as_at"), columns: q.text("columns") }
    }
}

dashboard_get! {
    /// The dashboard for a financial year: variance, RAG, quarterly spend, charts, the cash position.
    ///
    /// Roles: every role, signed in with the session cookie `gl_session` (set by `POST /sign-in`);
    /// without a live session, 303 to `/sign-in`.
    get "/dashboard" params(DashboardQuery); ok(description = "The page.", body = String, content_type = "text/html");
    async fn dashboard_page(State(s): State<AppState>, who: Session, mut q: Query) -> Result<Response, AppError> {
        let form_token = who.1.clone();
        let DashboardQuery { financial_year: year, as_at, columns } = DashboardQuery::read(&mut q);
        q.finish()?;
        let all_columns = match columns.as_deref() {
            None | Some("") => false,
            Some("all") => true,
            Some(_) => return Err(AppError::field("columns", "must be all, or empty for the meeting's columns.")),
        };
        let year = match year {
            Some(y) => y,
            None => default_year(&s).await?,
        };
        // The page's reads are independent of one another: made at once, on connections of
        // the read pool, the page waits for the slowest rather than for their sum.
        let store = &s.store;
        // The ledger's today: the clock's, or the one the tests fix.
        let today = s.today();
        let previous_end = dashboard::previous_quarter_end(year, as_at.unwrap_or(today));
        let all_years = crate::model::page::PAGE_LIMIT_MAX;
        // Checked before the reads run at once: otherwise whichever read fails first on an
        // unknown year names the error, and the page would answer 404 or 422 by chance.
        run::known_year(store, year).await?;
        let read = tokio::try_join!(
            async { Ok::<_, AppError>(crate::storage::reference::list_financial_years(store, "", all_years).await?) },
            // The variance report, the quarters (every figure as at the same date) and the
            // variance report as at the last quarter end for "since last quarter", reading
            // what they share once.
            async { Ok(run::dashboard(store, year, as_at, previous_end, today).await?) },
            async { Ok(crate::storage::monitoring::indicators(store, None, Some(year), &Known::Now).await?) },
            filed_section(&s, year),
            // The report's own figures, as at the page's date (today when none is asked for).
            async { Ok(crate::reports::cash::run(store, year, as_at, &Known::Now, today).await?) },
            async { Ok(crate::storage::operations::agreements_of_year(store, year).await?) },
        )?;
        let (years, reports, indicators, filed_section, cash_position, agreements) = read;
        let run::Dashboard { report, previous, quarters, labels } = reports;
        let lines = crate::reports::monitoring::lines(year, report.forecast_quarter, &report, &indicators, &labels);
        let year_codes: Vec<String> = years.items.into_iter().map(|y| y.code).collect();
        let cash_section = cash::section(&cash_position, Need::Approver.allows(who.0.role));
        let partners_section = partners::section(year, &agreements);
        let previous = previous.as_ref().map(dashboard::Previous::of);
        let known_at = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
        let html = dashboard::render(&dashboard::View {
            partnership: &labels.partnership,
            signed_in_as: who.0.shown_name(),
            is_admin: who.0.role == crate::domain::Role::Admin,
            reads_for_funder: crate::http::auth::Need::FunderReports.allows(who.0.role),
            form_token: &form_token,
            years: &year_codes,
            report: &report,
            quarters: &quarters,
            monitoring_lines: &lines,
            filed: &filed_section,
            cash: &cash_section,
            partners: &partners_section,
            all_columns,
            previous: previous.as_ref(),
            known_at: &known_at,
        });
        Ok(page_response(StatusCode::OK, html))
    }
}

/// The quarters' lock state and the year's filed returns (the newest 50), each marked if the
/// ledger has since changed one of its figures.
async fn filed_section(s: &AppState, year: FinancialYear) -> Result<Markup, AppError> {
    let quarters = crate::storage::quarter_locks::quarter_states(&s.store, year).await?;
    let page = crate::storage::returns::list(&s.store, None, Some(year), 0, 50).await?;
    let mut filed = Vec::new();
    for record in page.items {
        let changed = crate::reports::filing::changed(&s.store, &record).await?;
        filed.push(filed::Filed { record, changed });
    }
    Ok(filed::section(&quarters, &filed))
}

/// A filed return's stored file, byte for byte, as `GET /api/v1/returns/{id}/file` gives it.
///
/// Roles: every role, signed in with the session cookie `gl_session` (set by `POST /sign-in`);
/// without a live session, 303 to `/sign-in`.
#[utoipa::path(get, path = "/dashboard/returns/{id}/file", tag = "pages", security(()),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, description = "The file as filed.", body = String, content_type = "text/csv"),
        (status = 303, description = "No live session: to `/sign-in`, then back."),
        (status = 404, description = "No such filed return (`not_found`)."),
        (status = 422, description = "A bad parameter (`validation_failed`).")))]
async fn filed_return_file(
    State(s): State<AppState>,
    _who: Session,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, AppError> {
    super::routes::returns::stored_file(&s, &id).await
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct VarianceCsvQuery {
    financial_year: FinancialYear,
    #[param(value_type = Option<DateOrEmpty>)]
    as_at: Option<NaiveDate>,
}

impl VarianceCsvQuery {
    fn read(q: &mut Query) -> Self {
        VarianceCsvQuery { financial_year: q.required_year("financial_year"), as_at: q.date("as_at") }
    }
}

dashboard_get! {
    /// The variance report as CSV (with a byte-order mark, for Excel).
    ///
    /// Roles: every role, signed in with the session cookie `gl_session` (set by `POST /sign-in`);
    /// without a live session, 303 to `/sign-in`.
    get "/dashboard/variance.csv" params(VarianceCsvQuery); ok(description = "The CSV.", body = String, content_type = "text/csv");
    async fn variance_csv(State(s): State<AppState>, _who: Session, mut q: Query) -> Result<Response, AppError> {
        let VarianceCsvQuery { financial_year: year, as_at } = VarianceCsvQuery::read(&mut q);
        q.finish()?;
        let report = run::variance(&s.store, year, as_at, &Known::Now, None, s.today()).await?;
        let body = csv_out::write(&variance::CSV_HEADER, &variance::csv_rows(&report), true);
        Ok(csv_response(body, &format!("variance-{year}.csv")))
    }
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct ReturnCsvQuery {
    financial_year: FinancialYear,
    #[param(minimum = 1, maximum = 4)]
    quarter: u8,
}

impl ReturnCsvQuery {
    fn read(q: &mut Query) -> Self {
        ReturnCsvQuery { financial_year: q.required_year("financial_year"), quarter: q.required_quarter("quarter") }
    }
}

dashboard_get! {
    /// The Commissioner's return as CSV (with a byte-order mark, for Excel).
    ///
    /// Roles: every role, signed in with the session cookie `gl_session` (set by `POST /sign-in`);
    /// without a live session, 303 to `/sign-in`.
    get "/dashboard/commissioner-return.csv" params(ReturnCsvQuery); ok(description = "The CSV.", body = String, content_type = "text/csv");
    async fn return_csv(State(s): State<AppState>, _who: Session, mut q: Query) -> Result<Response, AppError> {
        let ReturnCsvQuery { financial_year: year, quarter } = ReturnCsvQuery::read(&mut q);
        q.finish()?;
        let rows = run::commissioner_return(&s.store, year, quarter, &Known::Now).await?;
        Ok(csv_response(
            csv_out::write(&commissioner::CSV_HEADER, &rows, true),
            &format!("commissioner-return-{year}-q{quarter}.csv"),
        ))
    }
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct OpenDataQuery {
    financial_year: FinancialYear,
}

impl OpenDataQuery {
    fn read(q: &mut Query) -> Self {
        OpenDataQuery { financial_year: q.required_year("financial_year") }
    }
}

dashboard_get! {
    /// The year's grants to voluntary, community and social enterprise organisations, as the
    /// Transparency Code CSV that `GET /api/v1/exports/vcse-grants` gives (docs/open-data.md).
    ///
    /// Roles: every role, signed in with the session cookie `gl_session` (set by `POST /sign-in`);
    /// without a live session, 303 to `/sign-in`.
    get "/dashboard/vcse-grants.csv" params(OpenDataQuery); ok(description = "The CSV.", body = String, content_type = "text/csv"); conflict;
    async fn vcse_download(State(s): State<AppState>, _who: Session, mut q: Query) -> Result<Response, AppError> {
        let year = OpenDataQuery::read(&mut q).financial_year;
        q.finish()?;
        super::routes::interchange::vcse_file(&s.store, year, &Known::Now).await
    }
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct GivingDownloadQuery {
    financial_year: FinancialYear,
    /// `json` (the default) or `csv`.
    #[param(inline)]
    format: Option<DataFormat>,
}

impl GivingDownloadQuery {
    fn read(q: &mut Query) -> Self {
        GivingDownloadQuery {
            financial_year: q.required_year("financial_year"),
            format: super::routes::interchange::giving_format(q),
        }
    }
}

dashboard_get! {
    /// The year's grant agreements in the 360Giving Data Standard, as
    /// `GET /api/v1/exports/360giving` gives them (docs/open-data.md).
    ///
    /// Roles: every role, signed in with the session cookie `gl_session` (set by `POST /sign-in`);
    /// without a live session, 303 to `/sign-in`.
    get "/dashboard/360giving" params(GivingDownloadQuery); ok(description = "The 360Giving file.", content((String = "application/json"), (String = "text/csv"))); conflict;
    async fn giving_download(State(s): State<AppState>, _who: Session, mut q: Query) -> Result<Response, AppError> {
        let p = GivingDownloadQuery::read(&mut q);
        q.finish()?;
        let format = p.format.map(DataFormat::as_str);
        super::routes::interchange::giving_file(&s.store, p.financial_year, &Known::Now, format).await
    }
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct MonitoringDownloadQuery {
    financial_year: FinancialYear,
    #[param(minimum = 1, maximum = 4)]
    quarter: u8,
    /// `csv` (the default, with a byte-order mark for Excel) or `xlsx`.
    #[param(inline)]
    format: Option<SheetFormat>,
}

impl MonitoringDownloadQuery {
    fn read(q: &mut Query) -> Self {
        MonitoringDownloadQuery {
            financial_year: q.required_year("financial_year"),
            quarter: q.required_quarter("quarter"),
            format: super::routes::monitoring::sheet_format(q),
        }
    }
}

dashboard_get! {
    /// The monitoring return as CSV (with a byte-order mark, for Excel) or an XLSX workbook.
    ///
    /// Roles: every role, signed in with the session cookie `gl_session` (set by `POST /sign-in`);
    /// without a live session, 303 to `/sign-in`.
    get "/dashboard/monitoring-return" params(MonitoringDownloadQuery); ok(description = "The return.", content(
            (String = "text/csv"), (super::openapi::Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")));
    async fn monitoring_download(State(s): State<AppState>, _who: Session, mut q: Query) -> Result<Response, AppError> {
        let p = MonitoringDownloadQuery::read(&mut q);
        q.finish()?;
        let xlsx = p.format == Some(SheetFormat::Xlsx);
        let r = run::monitoring_return(&s.store, p.financial_year, p.quarter, &Known::Now).await?;
        super::routes::monitoring::monitoring_response(&r, xlsx, true)
    }
}
