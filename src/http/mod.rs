//! The only axum and JSON: routes, the auth extractor, problem+json errors, idempotency.

pub mod auth;
pub mod error;
pub mod idempotency;
pub mod input;
pub mod openapi;
pub mod pages;
pub mod public_url;
mod request_types;
pub mod routes;
pub mod throttle;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::{Json, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::model::IdemKey;
use crate::storage::Store;

/// The largest request body accepted: enough for a sizeable CSV import, small enough that
/// one request cannot exhaust memory.
pub const BODY_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Where `serve` listens unless told otherwise: loopback, for a TLS proxy in front.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// How long one request may take before it is answered 408 and its work dropped (a
/// dropped `db_tx` rolls back, so nothing is half-written).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Requests in flight per idempotency key, so identical retries queue rather than clash.
    pub key_locks: Arc<idempotency::KeyLocks>,
    /// Failed authentications per client address.
    pub throttle: Arc<throttle::AuthThrottle>,
    /// Where people reach the ledger: the only origin a page's form may come from.
    pub public_url: Arc<public_url::PublicUrl>,
    /// The date the pages take as today; `None` (always, outside tests) for the clock's.
    pub fixed_today: Option<chrono::NaiveDate>,
    /// How long a page session lasts without a request (`storage::sessions::IDLE_MINUTES`).
    pub session_idle: std::time::Duration,
}

impl AppState {
    /// The state of a ledger reached at the default address, trusting no proxy.
    pub fn new(store: Store) -> AppState {
        let default = DEFAULT_BIND.parse().expect("the default address is an address");
        AppState {
            store,
            key_locks: Arc::default(),
            throttle: Arc::default(),
            public_url: Arc::new(public_url::PublicUrl::for_listener(default)),
            fixed_today: None,
            session_idle: std::time::Duration::from_secs(crate::storage::sessions::IDLE_MINUTES * 60),
        }
    }

    pub fn with_public_url(self, url: public_url::PublicUrl) -> AppState {
        AppState { public_url: Arc::new(url), ..self }
    }

    pub fn with_trusted_proxies(self, trusted: throttle::TrustedProxies) -> AppState {
        AppState { throttle: Arc::new(throttle::AuthThrottle::default().behind(trusted)), ..self }
    }

    /// Today, as the pages open on it: the clock's date, unless a test fixed one.
    pub fn today(&self) -> chrono::NaiveDate {
        self.fixed_today.unwrap_or_else(routes::reports::today)
    }
}

/// The idempotency key the middleware handed to this request, if any.
pub struct Idem(pub Option<IdemKey>);

impl<S: Send + Sync> FromRequestParts<S> for Idem {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Idem(parts.extensions.get::<IdemKey>().cloned()))
    }
}

/// The documented API routes, each registered through `routes!` from its handler's
/// `#[utoipa::path]`: the only way a route is added, so none can go undocumented.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(routes::reference::router())
        .merge(routes::postings::router())
        .merge(routes::ledger::router())
        .merge(routes::tokens::router())
        .merge(routes::users::router())
        .merge(routes::controls::router())
        .merge(routes::reports::router())
        .merge(routes::monitoring::router())
        .merge(routes::interchange::router())
        .merge(routes::imports::router())
        .merge(routes::returns::router())
        .merge(routes::cash::router())
        .merge(routes::funder::router())
        .merge(routes::operator::router())
}

/// The documented routes outside `/api/v1`: health, this document, the pages.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(openapi_json)).merge(pages::router())
}

/// Both halves of the router and the one document that describes them.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()).merge(api_routes()).merge(public_routes())
}

/// Liveness: answers while the server runs.
#[utoipa::path(get, path = "/healthz", tag = "service", security(()),
    responses((status = 200, description = "The server is up.", body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct Health {
    #[schema(pattern = "^ok$")]
    status: &'static str,
}

/// This document (OpenAPI 3.1). Browse it at `/docs`.
#[utoipa::path(get, path = "/openapi.json", tag = "service", security(()),
    responses((status = 200, description = "The OpenAPI document.", content_type = "application/json")))]
async fn openapi_json() -> axum::response::Response {
    use axum::response::IntoResponse;
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let json = DOC.get_or_init(|| openapi::document().to_string());
    ([(axum::http::header::CONTENT_TYPE, "application/json")], json.as_str()).into_response()
}

/// The whole application, ready to serve or to drive with `oneshot` in tests.
pub fn app(state: AppState) -> Router {
    let (api, _) = api_routes().split_for_parts();
    let api = api
        .layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::layer))
        .layer(axum::middleware::from_fn(input::refuse_control_in_path));
    let (public, _) = public_routes().split_for_parts();
    // The browsable reference, from assets compiled into the binary; it reads /openapi.json.
    // No validator: Swagger UI would otherwise send the document to validator.swagger.io.
    let docs: Router<AppState> =
        SwaggerUi::new("/docs").config(utoipa_swagger_ui::Config::from("/openapi.json").validator_url("none")).into();
    let routed = Router::new()
        .merge(api)
        .merge(public)
        .merge(docs)
        .fallback(|| async { error::AppError::Store(crate::storage::StoreError::NotFound("route".into())) })
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(RequestBodyLimitLayer::new(BODY_BYTES_MAX))
        .layer(axum::middleware::map_response(error::bare_errors_as_problems));
    guard_panics(routed)
        // Outside the panic guard, so a page's 500 is a page too.
        .layer(axum::middleware::from_fn(pages::errors::problems_as_pages))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_default();
            tracing::info_span!("request", method = %req.method(), route)
        }))
}

/// Answers a handler's panic with a 500 problem instead of a dropped connection; `app`
/// applies it, and a test applies it to a route made to panic.
pub fn guard_panics<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(CatchPanicLayer::custom(error::panic_response))
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight. Without a
/// configured public URL, people are taken to reach the ledger at the address it listens on.
pub async fn serve(state: AppState, bind: &str, public_url: Option<public_url::PublicUrl>) -> anyhow::Result<()> {
    use anyhow::Context;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind} (--bind or GRANT_LEDGER_BIND)"))?;
    let address = listener.local_addr()?;
    if public_url.is_none() && address.ip().is_unspecified() {
        tracing::warn!(
            %address,
            "no --public-url (GRANT_LEDGER_PUBLIC_URL): the pages accept forms from this machine only \
             (localhost); set it to the address people use"
        );
    }
    let state = state.with_public_url(public_url.unwrap_or_else(|| public_url::PublicUrl::for_listener(address)));
    tracing::info!(%address, public_url = state.public_url.origin(), "grant-ledger listening");
    // The peer address goes with each request, for the throttle of failed authentication.
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
