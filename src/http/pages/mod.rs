//! HTML pages for the partnership group, served by the same binary: sign-in, the dashboard,
//! CSV downloads and the stylesheet. No CDN and no script: everything comes from here.
//!
//! Sessions: signing in with a token sets `gl_session`, a random secret whose SHA-256 is
//! stored (table `sessions`). The cookie is HttpOnly and SameSite=Strict, and Secure when the
//! request came over https (`X-Forwarded-Proto: https` from the TLS proxy). Cross-site
//! requests carry no Strict cookie, and every page that changes state (sign-out) is POST
//! only, so no CSRF token is needed. Sign-in itself carries no cookie, so it checks that the
//! form was posted from this site (`Origin`, else `Referer`), and it counts failures in the
//! same per-address throttle as bearer tokens.

mod dashboard;
pub mod html;
pub mod svg;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::AppState;
use super::auth::Need;
use super::error::AppError;
use super::input::Query;
use super::routes::reports::{csv_response, parse_quarter, today};
use super::throttle::Client;
use crate::reports::{commissioner, csv_out, run, variance};
use crate::storage::sessions;
use crate::storage::tokens::Principal;

/// The session cookie's name.
pub const COOKIE: &str = "gl_session";

/// The longest token accepted on the sign-in form; real ones are 67 characters.
const TOKEN_LEN_MAX: usize = 200;

const CSS: &str = include_str!("dashboard.css");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/sign-out", axum::routing::post(sign_out))
        .route("/dashboard", get(dashboard_page))
        .route("/dashboard/variance.csv", get(variance_csv))
        .route("/dashboard/commissioner-return.csv", get(return_csv))
        .route("/assets/dashboard.css", get(css))
}

/// Headers every page carries: no script, no framing, nothing from elsewhere, not cached.
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
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], CSS).into_response()
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == COOKIE && !v.is_empty()).then(|| v.to_owned())
    })
}

fn over_https(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn set_cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"))
        .expect("cookie text is ASCII")
}

/// The signed-in caller of a page. Without a live session, pages redirect to sign-in.
pub struct Session(pub Principal);

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
        let secret = cookie_value(&parts.headers).ok_or_else(|| NoSession::Redirect(back.clone()))?;
        match sessions::authenticate(&state.store, &secret).await {
            Ok(Some(p)) if Need::ReadReference.allows(p.role) => Ok(Session(p)),
            Ok(_) => Err(NoSession::Redirect(back)),
            Err(e) => Err(NoSession::Failed(e.into())),
        }
    }
}

/// Percent-encodes everything but unreserved characters and `/`, for a query value.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn sign_in_html(message: Option<&str>, next: &str) -> String {
    let next = html::esc(next);
    let note = message.map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", html::esc(m))).unwrap_or_default();
    html::page(
        "Sign in · grant-ledger",
        "",
        &format!(
            "<main class=\"narrow\"><h1>Sign in</h1>{note}\
             <form method=\"post\" action=\"/sign-in\">\
             <label for=\"token\">Access token</label>\
             <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required>\
             <input type=\"hidden\" name=\"next\" value=\"{next}\">\
             <button type=\"submit\">Sign in</button></form>\
             <p>Any role may read the reports. Ask your administrator for a token.</p></main>"
        ),
    )
}

async fn sign_in_form(mut q: Query) -> Result<Response, AppError> {
    let next = q.text("next").filter(|n| is_dashboard_path(n)).unwrap_or_else(|| "/dashboard".into());
    q.finish()?;
    Ok(page_response(StatusCode::OK, sign_in_html(None, &next)))
}

async fn sign_in(
    State(s): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Result<Response, AppError> {
    // Before the throttle: another site's form must not spend this address's failures.
    if !posted_from_here(&headers) {
        return Err(AppError::Forbidden);
    }
    s.throttle.check(&client)?;
    let fields = form.map(|Form(f)| f).unwrap_or_default();
    let token = fields.get("token").map(|t| t.trim().to_owned()).unwrap_or_default();
    let next = fields.get("next").map(String::as_str).filter(|n| is_dashboard_path(n)).unwrap_or("/dashboard");
    if token.is_empty() || token.len() > TOKEN_LEN_MAX {
        return Ok(page_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            sign_in_html(Some("Enter your access token."), next),
        ));
    }
    let Some(secret) = sessions::create(&s.store, &token).await? else {
        s.throttle.failed(&client);
        return Ok(page_response(StatusCode::UNAUTHORIZED, sign_in_html(Some("That token is not valid."), next)));
    };
    // A page rather than a redirect: the dashboard is then requested by our own page, so the
    // Strict cookie goes with it even when the sign-in form was posted from elsewhere.
    let next = html::esc(next);
    let body = html::page(
        "Signed in · grant-ledger",
        &format!("<meta http-equiv=\"refresh\" content=\"0; url={next}\">\n"),
        &format!(
            "<main class=\"narrow\"><h1>Signed in</h1><p><a href=\"{next}\">Continue to the dashboard</a>.</p></main>"
        ),
    );
    let mut resp = page_response(StatusCode::OK, body);
    let max_age = sessions::SESSION_HOURS * 3600;
    resp.headers_mut().insert(header::SET_COOKIE, set_cookie(&secret, max_age, over_https(&headers)));
    Ok(resp)
}

/// True unless the browser says the form came from another origin: `Origin` (or, without
/// it, `Referer`) must name this host, as the request's `Host` or the proxy's
/// `X-Forwarded-Host` gives it. A request with neither header (not a browser's cross-site
/// post, which always carries `Origin`) passes.
fn posted_from_here(headers: &HeaderMap) -> bool {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let from = match (text(header::ORIGIN), text(header::REFERER)) {
        (Some(origin), _) => origin,
        (None, Some(referer)) => referer,
        (None, None) => return true,
    };
    let Some(authority) = from.split_once("://").map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
    else {
        return false; // "null" or anything not a URL
    };
    let hosts = [text(header::HOST), headers.get("x-forwarded-host").and_then(|v| v.to_str().ok())];
    hosts.into_iter().flatten().any(|h| !authority.is_empty() && h.trim().eq_ignore_ascii_case(authority))
}

/// Where sign-in may send the browser next: a dashboard path of this site, nothing else, so
/// the form cannot be used to bounce a user to another site.
fn is_dashboard_path(next: &str) -> bool {
    let path = next.split('?').next().unwrap_or("");
    (path == "/dashboard" || path.starts_with("/dashboard/"))
        && next.len() <= 200
        && next.bytes().all(|b| b.is_ascii_alphanumeric() || b"/?&=-_.%".contains(&b))
}

async fn sign_out(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(secret) = cookie_value(&headers) {
        sessions::delete(&s.store, &secret).await?;
    }
    let mut resp = Redirect::to("/sign-in").into_response();
    resp.headers_mut().insert(header::SET_COOKIE, set_cookie("", 0, over_https(&headers)));
    Ok(resp)
}

/// The year a dashboard shows when none is asked for: this year if the ledger has it, else the latest.
async fn default_year(s: &AppState) -> Result<crate::domain::FinancialYear, AppError> {
    let years = crate::storage::reference::list_financial_years(&s.store, "", crate::storage::PAGE_LIMIT_MAX).await?;
    let this = crate::domain::FinancialYear::of(today());
    let known: Vec<_> = years.items.iter().filter_map(|y| crate::domain::FinancialYear::parse(&y.code).ok()).collect();
    Ok(if known.contains(&this) { this } else { known.last().copied().unwrap_or(this) })
}

async fn dashboard_page(State(s): State<AppState>, Session(who): Session, mut q: Query) -> Result<Response, AppError> {
    let year = q.year("financial_year");
    let as_at = q.date("as_at");
    q.finish()?;
    let year = match year {
        Some(y) => y,
        None => default_year(&s).await?,
    };
    let years = crate::storage::reference::list_financial_years(&s.store, "", crate::storage::PAGE_LIMIT_MAX).await?;
    let report = run::variance(&s.store, year, as_at, None, today()).await?;
    let quarters = run::quarterly(&s.store, year, None).await?;
    let labels = crate::storage::reports::labels(&s.store).await?;
    let year_codes: Vec<String> = years.items.into_iter().map(|y| y.code).collect();
    let html = dashboard::render(&dashboard::View {
        partnership: &labels.partnership,
        signed_in_as: &who.name,
        years: &year_codes,
        report: &report,
        quarters: &quarters,
    });
    Ok(page_response(StatusCode::OK, html))
}

async fn variance_csv(State(s): State<AppState>, _who: Session, mut q: Query) -> Result<Response, AppError> {
    let year = q.required_year("financial_year");
    let as_at = q.date("as_at");
    q.finish()?;
    let report = run::variance(&s.store, year, as_at, None, today()).await?;
    let body = csv_out::write(&variance::CSV_HEADER, &variance::csv_rows(&report), true);
    Ok(csv_response(body, &format!("variance-{year}.csv")))
}

async fn return_csv(State(s): State<AppState>, _who: Session, mut q: Query) -> Result<Response, AppError> {
    let year = q.required_year("financial_year");
    let quarter = q.text("quarter");
    q.finish()?;
    let quarter = parse_quarter(quarter)?;
    let rows = run::commissioner_return(&s.store, year, quarter).await?;
    Ok(csv_response(
        csv_out::write(&commissioner::CSV_HEADER, &rows, true),
        &format!("commissioner-return-{year}-q{quarter}.csv"),
    ))
}
