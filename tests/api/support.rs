//! The test harness: a fresh ledger per test, on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set, driven through the router with `oneshot`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use grant_ledger::http::{AppState, app};
use grant_ledger::storage::Store;
use grant_ledger::storage::tokens::{self, Role};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once per backend: `backend_test!(name, |app| async move { ... });`
/// makes `name::sqlite` and `name::postgres`. When `TEST_DATABASE_URL` is unset the
/// PostgreSQL one says so on stderr and passes without running, except in CI, where it fails.
#[macro_export]
macro_rules! backend_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                $crate::support::run($crate::support::Backend::Sqlite, $body).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                $crate::support::run($crate::support::Backend::Postgres, $body).await;
            }
        }
    };
}

pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(db) = TestDb::create(backend).await else {
        eprintln!("TEST_DATABASE_URL is not set: skipping the PostgreSQL run");
        return;
    };
    let app = TestApp::start(&db.url).await;
    let store = app.store.clone();
    body(app).await;
    store.close().await;
    db.drop().await;
}

/// True when the `CI` environment variable is set (and not `false` or `0`), as `.ci/run` sets
/// it: then nothing a test needs may be missing, and a test that would skip fails instead.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// `TEST_DATABASE_URL`, the PostgreSQL server the tests make their databases on. `None` when
/// it is unset outside CI; in CI that panics: the PostgreSQL half of the suite must never
/// pass unrun.
pub fn postgres_admin_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty());
    assert!(
        url.is_some() || !in_ci(),
        "TEST_DATABASE_URL is not set, and CI is: the PostgreSQL run must not be skipped"
    );
    url
}

/// True when the PostgreSQL runs can run (see `postgres_admin_url`).
pub fn postgres_configured() -> bool {
    postgres_admin_url().is_some()
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    format!("gl_test_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed), hex::encode(bytes))
}

/// A database made for one test and removed after it.
pub struct TestDb {
    pub url: String,
    backend: Backend,
    name: String,
}

impl TestDb {
    /// A fresh database; `None` for PostgreSQL when `TEST_DATABASE_URL` is unset, outside CI
    /// (in CI that panics: the PostgreSQL half of the suite must never pass unrun).
    pub async fn create(backend: Backend) -> Option<TestDb> {
        let name = unique_name();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                Some(TestDb { url: format!("sqlite://{}", path.display()), backend, name: path.display().to_string() })
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url()?;
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&admin_url).await.expect("connecting to TEST_DATABASE_URL");
                sqlx::query(&format!("create database {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("creating a test database");
                conn.close().await.ok();
                let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin_url);
                Some(TestDb { url: format!("{base}/{name}"), backend, name })
            }
        }
    }

    pub async fn drop(self) {
        match self.backend {
            Backend::Sqlite => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.name));
                }
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let admin_url = std::env::var("TEST_DATABASE_URL").unwrap();
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("drop database if exists {} with (force)", self.name))
                        .execute(&mut conn)
                        .await;
                }
            }
        }
    }
}

/// A ledger with the Tamworth fixtures and a token for every role.
pub struct TestApp {
    pub router: Router,
    pub store: Store,
    /// The database url, for driving the real binary against the same ledger.
    pub url: String,
    tokens: HashMap<Role, String>,
}

/// A response: status and parsed JSON body (or the text as a JSON string).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: axum::http::HeaderMap,
}

impl Reply {
    /// The problem `code`, for error replies.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    /// The fields named in a problem's `errors`.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or("").to_owned()).collect())
            .unwrap_or_default()
    }
}

impl TestApp {
    pub async fn start(url: &str) -> TestApp {
        let store = grant_ledger::cli::open(url).await.expect("opening the test ledger");
        let mut tokens = HashMap::new();
        for role in Role::ALL {
            let t = tokens::create(&store, &format!("test {}", role.as_str()), role, "test setup").await.unwrap();
            tokens.insert(role, t.token);
        }
        TestApp { router: app(AppState::new(store.clone())), store, url: url.to_owned(), tokens }
    }

    /// Runs the real binary against this ledger; returns (success, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
            .args(args)
            .env("DATABASE_URL", &self.url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("running grant-ledger");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn token(&self, role: Role) -> &str {
        &self.tokens[&role]
    }

    /// Sends a request; `token` None sends no Authorization header.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some(b) => req.header("content-type", "application/json").body(Body::from(b.to_string())).unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Reply { status, body, headers }
    }

    pub async fn get(&self, path: &str, role: Role) -> Reply {
        self.call(Method::GET, path, Some(self.token(role)), None, &[]).await
    }

    pub async fn post(&self, path: &str, role: Role, body: Value) -> Reply {
        self.call(Method::POST, path, Some(self.token(role)), Some(body), &[]).await
    }

    /// Posts and insists on 201, returning the body.
    pub async fn ok(&self, path: &str, role: Role, body: Value) -> Value {
        let r = self.post(path, role, body.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "POST {path} {body} answered {:?} {}", r.status, r.body);
        r.body
    }

    pub async fn project(&self, code: &str, priority: &str) {
        self.ok(
            "/api/v1/projects",
            Role::Approver,
            json!({ "code": code, "name": format!("Project {code}"), "priority": priority }),
        )
        .await;
    }

    /// An allocation approved in the spring before its year, so dated the year's first day
    /// and in place as at every date of the year (rule 8).
    pub async fn allocate(&self, grant: &str, fy: &str, project: &str, amount: &str) -> Value {
        let approved_on = format!("{}-03-16", &fy[..4]);
        self.ok(
            "/api/v1/allocations",
            Role::Approver,
            json!({ "grant": grant, "financial_year": fy, "project": project, "amount": amount,
                    "approved_on": approved_on, "approval_ref": "CSP minute 1" }),
        )
        .await
    }

    pub fn spend_body(grant: &str, project: &str, date: &str, amount: &str) -> Value {
        json!({ "grant": grant, "project": project, "date": date, "supplier": "Supplier Ltd",
                "description": "Delivery", "invoice_ref": "INV-1", "amount": amount })
    }

    /// The signed balance of one account, as the API reports it ("0.00" when absent).
    pub async fn balance(&self, account: &str) -> String {
        let mut cursor = String::new();
        loop {
            let path = format!(
                "/api/v1/accounts?limit=500{}",
                if cursor.is_empty() { String::new() } else { format!("&cursor={cursor}") }
            );
            let r = self.get(&path, Role::Viewer).await;
            assert_eq!(r.status, StatusCode::OK);
            if let Some(a) = r.body["items"].as_array().unwrap().iter().find(|a| a["account"] == account) {
                return a["balance"].as_str().unwrap().to_owned();
            }
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = c.to_owned(),
                None => return "0.00".into(),
            }
        }
    }

    /// Runs the verifier and insists the ledger is sound.
    pub async fn assert_verified(&self) {
        let mut problems = grant_ledger::storage::verify::verify(&self.store).await.unwrap();
        problems.extend(grant_ledger::reports::filing::verify(&self.store).await.unwrap());
        assert!(problems.is_empty(), "verify found: {problems:#?}");
    }
}

impl TestApp {
    /// Sends a body of raw bytes with a content type, e.g. a CSV import.
    pub async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        role: Role,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Reply {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", self.token(role)))
            .header("content-type", content_type)
            .body(Body::from(bytes))
            .unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Reply { status, body, headers }
    }

    /// The same ledger and tokens, served through another store (e.g. one with a shorter
    /// bound on lock waits).
    pub fn with_store(&self, store: Store) -> TestApp {
        TestApp { router: app(AppState::new(store.clone())), store, url: self.url.clone(), tokens: self.tokens.clone() }
    }

    /// Imports a spend file (generic layout) for real, as a finance officer.
    pub async fn import_spend(&self, csv: String) -> Reply {
        self.send_bytes(
            Method::POST,
            "/api/v1/imports/spend?dry_run=false",
            Role::Finance,
            "text/csv",
            csv.into_bytes(),
        )
        .await
    }

    pub async fn patch(&self, path: &str, role: Role, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(self.token(role)), Some(body), &[]).await
    }
}

/// A small deterministic generator (xorshift), so a failing case can be replayed from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}
