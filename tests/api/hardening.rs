//! Idempotent retries under contention, control characters
//! in text, throttled and origin-checked sign-in, and the small contract gaps (audit of tokens,
//! 405 and 413 as problem+json).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use grant_ledger::http::AppState;
use grant_ledger::storage::tokens::Role;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::backend_test;
use crate::support::{Reply, TestApp};

/// POSTs `body` to `path` as `role` under an `Idempotency-Key`.
async fn post_keyed(app: &TestApp, path: &str, role: Role, key: &str, body: &Value) -> Reply {
    app.call(Method::POST, path, Some(app.token(role)), Some(body.clone()), &[("idempotency-key", key)]).await
}

// ---- item 6: POST /tokens with an Idempotency-Key under contention -------------------------

backend_test!(concurrent_token_creation_makes_one_token_per_key, |app: TestApp| async move {
    let app = Arc::new(app);
    let keys = ["k1", "k2", "k3", "k4"];
    let mut handles = Vec::new();
    for key in keys {
        for _client in 0..10 {
            let app = app.clone();
            handles.push(tokio::spawn(async move {
                let body = json!({ "name": format!("clerk {key}"), "role": "viewer" });
                (key, post_keyed(&app, "/api/v1/tokens", Role::Admin, key, &body).await)
            }));
        }
    }
    let mut replies = Vec::new();
    for h in handles {
        replies.push(h.await.unwrap());
    }
    let list = app.get("/api/v1/tokens?limit=500", Role::Admin).await;
    let live: Vec<usize> = keys
        .iter()
        .map(|key| {
            let name = format!("clerk {key}");
            list.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["name"] == name && t["revoked_at"].is_null())
                .count()
        })
        .collect();
    assert_eq!(live, vec![1; keys.len()], "live tokens per key");
    for key in keys {
        let mine: Vec<&Reply> = replies.iter().filter(|(k, _)| *k == key).map(|(_, r)| r).collect();
        assert!(
            mine.iter().all(|r| r.status == StatusCode::CREATED),
            "{key}: {:?}",
            mine.iter().map(|r| &r.body).collect::<Vec<_>>()
        );
        let shown = mine.iter().filter(|r| r.body["token"].is_string()).count();
        assert_eq!(shown, 1, "the secret is shown once, for key {key}");
    }
});

// ---- item 7: identical concurrent retries wait and replay ----------------------------------

backend_test!(identical_concurrent_retries_replay_one_spend, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let app = Arc::new(app);
    let body = TestApp::spend_body("LDF", "P1", "2023-07-01", "100");
    let mut handles = Vec::new();
    for _ in 0..10 {
        let (app, body) = (app.clone(), body.clone());
        handles
            .push(tokio::spawn(async move { post_keyed(&app, "/api/v1/spend", Role::Finance, "once", &body).await }));
    }
    let mut ids = Vec::new();
    for h in handles {
        let r = h.await.unwrap();
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.body["entry_id"].clone());
    }
    assert!(ids.iter().all(|i| *i == ids[0] && i.is_number()), "{ids:?}");
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-100.00");
    let mut other = body.clone();
    other["amount"] = json!("101");
    let r = post_keyed(&app, "/api/v1/spend", Role::Finance, "once", &other).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "idempotency_conflict"), "{}", r.body);
    app.assert_verified().await;
});

backend_test!(refused_retries_store_nothing_so_the_next_runs_itself, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "100").await;
    let app = Arc::new(app);
    let body = TestApp::spend_body("LDF", "P1", "2023-07-01", "150");
    let mut handles = Vec::new();
    for _ in 0..5 {
        let (app, body) = (app.clone(), body.clone());
        handles
            .push(tokio::spawn(async move { post_keyed(&app, "/api/v1/spend", Role::Finance, "later", &body).await }));
    }
    for h in handles {
        let r = h.await.unwrap();
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "overspend"), "each ran itself: {}", r.body);
    }
    app.allocate("LDF", "2023-24", "P1", "100").await;
    let r = post_keyed(&app, "/api/v1/spend", Role::Finance, "later", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-150.00");
});

backend_test!(a_retry_that_outwaits_its_bound_is_answered_503, |app: TestApp| async move {
    use grant_ledger::http::idempotency::KeyLocks;
    let mut state = AppState::new(app.store.clone());
    state.key_locks = Arc::new(KeyLocks::with_wait(std::time::Duration::from_millis(20)));
    let router = grant_ledger::http::app(state.clone());
    let secret = app.token(Role::Operator);
    let operator = grant_ledger::storage::tokens::authenticate(&app.store, secret).await.unwrap().unwrap();
    // A first request under the key, still running: its turn is held throughout.
    let lock = state.key_locks.lock_for(operator.token_id.expect("a token"), "slow");
    let _first = lock.lock().await;
    let body = json!({ "code": "F7", "name": "Seven" });
    let r =
        send_to(&router, Method::POST, "/api/v1/funders", secret, Some(&body), &[("idempotency-key", "slow")]).await;
    assert_eq!((r.status, r.code()), (StatusCode::SERVICE_UNAVAILABLE, "busy"), "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert!(r.headers.contains_key("retry-after"));
    let r = app.get("/api/v1/funders?limit=500", Role::Admin).await;
    assert!(!r.body.to_string().contains("F7"), "the waiting request did nothing");
});

/// Sends a JSON request to `router`, a server other than the test app's own.
async fn send_to(
    router: &axum::Router,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut req = Request::builder().method(method).uri(path).header("authorization", format!("Bearer {token}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = match body {
        Some(b) => req.header("content-type", "application/json").body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    reply(router.clone().oneshot(req).await.unwrap()).await
}

async fn reply(resp: axum::response::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Reply { status, body, headers }
}

backend_test!(identical_retries_across_two_servers_replay_one_answer, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    // A second server: its own pool and its own in-memory key locks, on the same database.
    let other = grant_ledger::cli::open(&app.url).await.unwrap();
    let servers = [app.router.clone(), grant_ledger::http::app(AppState::new(other.clone()))];
    let spend = TestApp::spend_body("LDF", "P1", "2023-07-01", "100");
    let token = json!({ "name": "clerk twice", "role": "viewer" });
    let mut handles = Vec::new();
    for i in 0..20 {
        let router = servers[i % 2].clone();
        let (path, role, body) = if i < 10 {
            ("/api/v1/spend", Role::Finance, spend.clone())
        } else {
            ("/api/v1/tokens", Role::Admin, token.clone())
        };
        let secret = app.token(role).to_owned();
        handles.push(tokio::spawn(async move {
            send_to(&router, Method::POST, path, &secret, Some(&body), &[("idempotency-key", "twice")]).await
        }));
    }
    let mut replies = Vec::new();
    for h in handles {
        replies.push(h.await.unwrap());
    }
    let list = app.get("/api/v1/tokens?limit=500", Role::Admin).await;
    let live = list.body["items"].as_array().unwrap().iter().filter(|t| t["name"] == "clerk twice").count();
    assert_eq!(live, 1, "live tokens under one key");
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-100.00");
    for r in &replies {
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let entry_ids: Vec<&Value> = replies[..10].iter().map(|r| &r.body["entry_id"]).collect();
    assert!(entry_ids.iter().all(|i| *i == entry_ids[0]), "{entry_ids:?}");
    other.close().await;
    app.assert_verified().await;
});
// ---- item 11: token audit records are for admin; 405 and 413 are problem+json --------------

backend_test!(token_audit_records_are_for_admin_only, |app: TestApp| async move {
    app.ok("/api/v1/tokens", Role::Admin, json!({ "name": "audited clerk", "role": "viewer" })).await;
    let admin = app.get("/api/v1/audit?entity=token", Role::Admin).await;
    assert_eq!(admin.status, StatusCode::OK);
    assert!(!admin.body["items"].as_array().unwrap().is_empty(), "admin sees token records");
    for role in [Role::Viewer, Role::Finance, Role::Approver] {
        let asked = app.get("/api/v1/audit?entity=token", role).await;
        assert_eq!((asked.status, asked.code()), (StatusCode::FORBIDDEN, "forbidden"), "{role:?}: {}", asked.body);
        let all = app.get("/api/v1/audit?limit=500", role).await;
        assert_eq!(all.status, StatusCode::OK);
        let items = all.body["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{role:?} still reads the rest of the trail");
        assert!(items.iter().all(|a| a["entity"] != "token"), "{role:?} read a token record: {}", all.body);
    }
});

backend_test!(method_not_allowed_and_too_large_are_problems, |app: TestApp| async move {
    let r = app.call(Method::DELETE, "/api/v1/spend", Some(app.token(Role::Admin)), None, &[]).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.code(), "method_not_allowed");
    assert!(r.headers.contains_key("allow"), "405 keeps its Allow header");
    let huge = vec![b' '; grant_ledger::http::BODY_BYTES_MAX + 1];
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/spend")
        .header("authorization", format!("Bearer {}", app.token(Role::Finance)))
        .header("content-type", "application/json")
        .header("content-length", huge.len().to_string())
        .body(Body::from(huge))
        .unwrap();
    let r = reply(app.router.clone().oneshot(req).await.unwrap()).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.headers["content-type"], "application/problem+json", "{}", r.body);
    assert_eq!(r.fields(), vec!["body"]);
});
// ---- item 10: throttled authentication, sign-in origin, the admin token at start ------------

/// GET /api/v1/funders with `secret` as the bearer, from `peer` (None: no peer, "local").
async fn from_peer(app: &TestApp, peer: Option<&str>, secret: &str) -> Reply {
    let mut req = Request::builder().uri("/api/v1/funders").header("authorization", format!("Bearer {secret}"));
    if let Some(ip) = peer {
        let addr: std::net::SocketAddr = format!("{ip}:40000").parse().unwrap();
        req = req.extension(axum::extract::ConnectInfo(addr));
    }
    reply(app.router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap()).await
}

/// A wrong token as long as a real one, so it counts as a guess.
fn guess(tag: &str) -> String {
    format!("gl_guess_{tag}_{}", "0".repeat(grant_ledger::http::auth::SECRET_LEN_MIN))
}

backend_test!(wrong_bearer_tokens_are_throttled_per_address, |app: TestApp| async move {
    let (a, b) = (Some("192.0.2.1"), Some("192.0.2.2"));
    for i in 0..grant_ledger::http::throttle::FAILURES_MAX {
        let r = from_peer(&app, a, &guess(&i.to_string())).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "guess {i}");
    }
    let r = from_peer(&app, a, &guess("more")).await;
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait >= 1);
    // The address is refused whatever it sends, so a lucky guess is not told apart.
    let r = from_peer(&app, a, app.token(Role::Viewer)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Another address is untouched, and its success clears nothing of the first's.
    assert_eq!(from_peer(&app, b, &guess("b")).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(from_peer(&app, b, app.token(Role::Viewer)).await.status, StatusCode::OK);
    assert_eq!(from_peer(&app, a, app.token(Role::Viewer)).await.status, StatusCode::TOO_MANY_REQUESTS);
    // Idempotent replays are not a way round it.
    let body = json!({ "code": "F9", "name": "Funder nine" });
    let r = app
        .call(Method::POST, "/api/v1/funders", Some(app.token(Role::Operator)), Some(body), &[("idempotency-key", "t")])
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "'local' has not failed yet: {}", r.body);
    // A missing token is not a guess: it is not counted.
    for _ in 0..20 {
        let r = app.call(Method::GET, "/api/v1/funders", None, None, &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(from_peer(&app, None, app.token(Role::Viewer)).await.status, StatusCode::OK);
});

/// POSTs the sign-in form, from a browser that opened it, with `headers`.
async fn sign_in_with(app: &TestApp, token: &str, headers: &[(&str, &str)]) -> crate::pages::Page {
    let page = crate::pages::SignInPage::open(&app.router).await;
    page.post(&app.router, &format!("token={token}"), headers).await
}

backend_test!(failed_sign_ins_are_throttled_with_bearer_tokens, |app: TestApp| async move {
    for i in 0..grant_ledger::http::throttle::FAILURES_MAX {
        let r = sign_in_with(&app, &format!("gl_wrong_{i}"), &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let r = sign_in_with(&app, app.token(Role::Viewer), &[]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert!(r.is_html() && r.text.contains("Too many failed sign-ins"), "a page: {}", r.text);
    assert!(r.headers.contains_key("retry-after"));
    // One count per address: the API from the same ("local") address is refused too.
    let r = app.get("/api/v1/funders", Role::Viewer).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
});

backend_test!(sign_in_refuses_a_form_posted_from_another_site, |app: TestApp| async move {
    // The public URL is the default, http://127.0.0.1:8080: the request's own Host and the
    // proxy's X-Forwarded-Host vouch for nothing.
    let token = app.token(Role::Viewer).to_owned();
    let host = ("host", "ledger.example.org");
    let refused = [
        vec![host, ("origin", "https://evil.example.com")],
        vec![host, ("origin", "https://ledger.example.org")],
        vec![host, ("origin", "https://ledger.example.org.evil.com")],
        vec![
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "ledger.example.org"),
            ("origin", "https://ledger.example.org"),
        ],
    ];
    for headers in &refused {
        let r = sign_in_with(&app, &token, headers).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{headers:?}: {}", r.text);
        assert!(r.is_html() && !r.headers.contains_key("set-cookie"), "{headers:?}");
    }
    // With the form's token: this origin, `null` (a browser under no-referrer), or none.
    let accepted = [
        vec![host, ("origin", "http://127.0.0.1:8080")],
        vec![host, ("origin", "null")],
        vec![host, ("referer", "https://evil.example.com/")],
        vec![host],
    ];
    for headers in &accepted {
        let r = sign_in_with(&app, &token, headers).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{headers:?}: {}", r.text);
        assert!(r.cookie("gl_session").is_some());
    }
});

/// Runs `grant-ledger serve` on this ledger with `secret` as GRANT_LEDGER_ADMIN_TOKEN until it
/// exits or logs that it listens; returns (exited, log).
fn serve_with_admin_token(app: &TestApp, secret: &str) -> (bool, String) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", &app.url)
        .env("GRANT_LEDGER_ADMIN_TOKEN", secret)
        .env("RUST_LOG", "info,sqlx=warn")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting grant-ledger serve");
    let mut log = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains("listening") {
            child.kill().unwrap();
            child.wait().unwrap();
            return (false, log);
        }
    }
    child.wait().unwrap();
    (true, log)
}

backend_test!(serve_refuses_a_short_admin_token_and_starts_with_a_revoked_one, |app: TestApp| async move {
    let before = grant_ledger::storage::tokens::count(&app.store).await.unwrap();
    let (exited, log) = serve_with_admin_token(&app, "a");
    assert!(exited && log.contains("at least 32"), "{log}");
    let (exited, log) = serve_with_admin_token(&app, &"x".repeat(31));
    assert!(exited && log.contains("at least 32"), "{log}");
    assert_eq!(grant_ledger::storage::tokens::count(&app.store).await.unwrap(), before, "nothing was written");

    let secret = "gl_environment_admin_token_0123456789abcdef";
    let (exited, log) = serve_with_admin_token(&app, secret);
    assert!(!exited, "{log}");
    assert_eq!(from_peer(&app, None, secret).await.status, StatusCode::OK);
    let list = app.get("/api/v1/tokens?limit=500", Role::Admin).await;
    let id = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "admin (GRANT_LEDGER_ADMIN_TOKEN)")
        .unwrap()["id"]
        .clone();
    let r = app.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(app.token(Role::Admin)), None, &[]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // Restarting with the revoked secret starts, warns, and does not revive it.
    let (exited, log) = serve_with_admin_token(&app, secret);
    assert!(!exited, "the server must start: {log}");
    assert!(log.contains("WARN") && log.contains("revoked"), "{log}");
    assert_eq!(from_peer(&app, None, secret).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(grant_ledger::storage::tokens::count(&app.store).await.unwrap(), before + 1);
});
// ---- item 9: control characters in text --------------------------------------------------

/// Every write route with a body that would otherwise get past field parsing, and the text
/// fields it reads: (method, path, body, fields).
fn write_routes() -> Vec<(Method, &'static str, Value, Vec<&'static str>)> {
    let spend = TestApp::spend_body("LDF", "P1", "2023-07-01", "1");
    vec![
        (Method::POST, "/api/v1/financial-years", json!({ "code": "2031-32" }), vec!["code"]),
        (Method::POST, "/api/v1/funders", json!({ "code": "F9", "name": "Nine" }), vec!["code", "name"]),
        (
            Method::POST,
            "/api/v1/partnerships",
            json!({ "code": "LIC", "name": "Lichfield", "funder": "SCO", "area_code": "E07000194" }),
            vec!["code", "name", "funder", "area_code"],
        ),
        (
            Method::POST,
            "/api/v1/priorities",
            json!({ "code": "PR9", "name": "Nine", "description": "d" }),
            vec!["code", "name", "description"],
        ),
        (
            Method::POST,
            "/api/v1/grants",
            json!({ "code": "G9", "name": "Nine", "funder": "SCO", "restricted_to_priority": "ASB", "on_overspend": "warn" }),
            vec!["code", "name", "funder", "restricted_to_priority", "on_overspend"],
        ),
        (
            Method::POST,
            "/api/v1/grants/LDF/awards",
            json!({ "financial_year": "2025-26", "amount": "10", "awarded_on": "2025-04-01", "reference": "R" }),
            vec!["financial_year", "amount", "awarded_on", "reference"],
        ),
        (
            Method::POST,
            "/api/v1/projects",
            json!({ "code": "P9", "name": "Nine", "priority": "ASB", "lead_organisation": "Org", "description": "d", "status": "active" }),
            vec!["code", "name", "priority", "lead_organisation", "description", "status"],
        ),
        (
            Method::PATCH,
            "/api/v1/projects/P1",
            json!({ "name": "N", "priority": "ASB", "lead_organisation": "Org", "description": "d", "status": "active" }),
            vec!["name", "priority", "lead_organisation", "description", "status"],
        ),
        (
            Method::POST,
            "/api/v1/allocations",
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "amount": "1",
                    "approved_on": "2023-04-01", "approval_ref": "m", "memo": "x" }),
            vec!["grant", "financial_year", "project", "amount", "approved_on", "approval_ref", "memo"],
        ),
        (
            Method::POST,
            "/api/v1/virements",
            json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": "P1", "to_project": "P2", "amount": "1",
                    "approved_on": "2023-04-01", "approval_ref": "m", "reason": "r" }),
            vec!["from_project", "to_project", "approval_ref", "reason"],
        ),
        (
            Method::POST,
            "/api/v1/commitments",
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "S", "reference": "PO",
                    "amount": "1", "date": "2023-07-01", "memo": "m" }),
            vec!["supplier", "reference", "memo", "date"],
        ),
        (
            Method::POST,
            "/api/v1/commitments/1/release",
            json!({ "date": "2023-07-01", "amount": "1", "reason": "r" }),
            vec!["reason"],
        ),
        (
            Method::POST,
            "/api/v1/spend",
            spend,
            vec!["grant", "project", "supplier", "description", "invoice_ref", "amount"],
        ),
        (
            Method::POST,
            "/api/v1/spend",
            json!({ "grant": "LDF", "project": "P1", "date": "2023-07-01", "supplier": "S", "description": "d",
                    "amount": "1", "source_ref": "SR" }),
            vec!["source_ref"],
        ),
        (
            Method::POST,
            "/api/v1/refunds",
            json!({ "grant": "LDF", "project": "P1", "date": "2023-07-01", "amount": "1", "reference": "R", "reason": "r" }),
            vec!["reference", "reason"],
        ),
        (Method::POST, "/api/v1/entries/1/reverse", json!({ "date": "2023-07-01", "reason": "r" }), vec!["reason"]),
        (Method::POST, "/api/v1/virements/1/reject", json!({ "reason": "r" }), vec!["reason"]),
        (Method::POST, "/api/v1/financial-years/2023-24/close", json!({ "reason": "r" }), vec!["reason"]),
        (Method::POST, "/api/v1/financial-years/2023-24/reopen", json!({ "reason": "r" }), vec!["reason"]),
        (
            Method::POST,
            "/api/v1/grants/LDF/awards/2023-24/year-end",
            json!({ "carry_forward": "0", "return_to_funder": "0", "reason": "r" }),
            vec!["reason", "carry_forward"],
        ),
        (
            Method::POST,
            "/api/v1/spend-profiles",
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "q1": 25, "q2": 25, "q3": 25, "q4": "25" }),
            vec!["grant", "financial_year", "project", "q4"],
        ),
        (Method::POST, "/api/v1/tokens", json!({ "name": "N", "role": "viewer" }), vec!["name", "role"]),
        (
            Method::PATCH,
            "/api/v1/settings",
            json!({ "virement_approval_threshold": "5" }),
            vec!["virement_approval_threshold"],
        ),
    ]
}

/// NUL, another C0, DEL and two C1 characters; the line breaks only outside free text.
const CONTROLS: [char; 5] = ['\0', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}'];
const FREE_TEXT: [&str; 3] = ["memo", "reason", "description"];

backend_test!(control_characters_in_any_text_field_are_refused_naming_it, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.project("P2", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let before = grant_ledger::storage::verify::verify(&app.store).await.unwrap();
    let mut wrong = Vec::new();
    for (method, path, body, fields) in write_routes() {
        for field in fields {
            let mut bad: Vec<char> = CONTROLS.to_vec();
            if !FREE_TEXT.contains(&field) {
                bad.extend(['\n', '\t', '\r']);
            }
            for c in bad {
                let mut body = body.clone();
                body[field] = json!(format!("A{c}1"));
                // The service's registry is the operator's; the ledger's the admin's.
                let registry = path.starts_with("/api/v1/funders") || path.starts_with("/api/v1/partnerships");
                let role = if registry { Role::Operator } else { Role::Admin };
                let r = app.call(method.clone(), path, Some(app.token(role)), Some(body), &[]).await;
                if r.status != StatusCode::UNPROCESSABLE_ENTITY || !r.fields().iter().any(|f| f == field) {
                    wrong.push(format!("{method} {path} {field} {c:?}: {} {}", r.status, r.body));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} of the cases were not 422 naming the field:\n{}", wrong.len(), wrong.join("\n"));
    assert!(before.is_empty());
    app.assert_verified().await;
    let spend = app.get("/api/v1/entries?limit=500", Role::Admin).await;
    assert!(!spend.body.to_string().contains("\\u0000"), "nothing with a NUL was stored");
});

backend_test!(free_text_keeps_its_tabs_and_line_breaks, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let mut body = TestApp::spend_body("LDF", "P1", "2023-07-01", "1");
    body["description"] = json!("first line\nsecond line\twith a tab");
    let made = app.ok("/api/v1/spend", Role::Finance, body).await;
    let entry = app.get(&format!("/api/v1/entries/{}", made["entry_id"]), Role::Viewer).await;
    assert!(entry.body.to_string().contains("first line\\nsecond line\\twith a tab"), "{}", entry.body);
});

backend_test!(control_characters_in_query_and_path_are_refused_naming_them, |app: TestApp| async move {
    let cases: Vec<(Method, &str, &str)> = vec![
        (Method::GET, "/api/v1/audit?entity=pro%00ject", "entity"),
        (Method::GET, "/api/v1/audit?actor=a%C2%85b", "actor"),
        (Method::GET, "/api/v1/reports/variance?financial_year=2023-24%00", "financial_year"),
        (Method::GET, "/api/v1/projects?priority=AS%1BB", "priority"),
        (Method::GET, "/api/v1/funders?na%00me=x", "na\u{0}me"),
        (Method::GET, "/api/v1/projects/P%001", "code"),
        (Method::PATCH, "/api/v1/projects/P%7F1", "code"),
        (Method::GET, "/api/v1/grants/L%00DF/awards", "grant"),
        (Method::POST, "/api/v1/grants/L%00DF/awards", "grant"),
        (Method::POST, "/api/v1/financial-years/2023%0024/close", "fy"),
        (Method::POST, "/api/v1/grants/LDF/awards/2023-24%0A/year-end", "fy"),
        (Method::GET, "/api/v1/entries/1%00", "id"),
        (Method::DELETE, "/api/v1/tokens/%C2%9F", "id"),
    ];
    for (method, path, field) in cases {
        let body = (method != Method::GET && method != Method::DELETE).then(|| json!({}));
        let r = app.call(method.clone(), path, Some(app.token(Role::Admin)), body, &[]).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            "{method} {path}: {}",
            r.body
        );
        assert!(r.fields().iter().any(|f| f == field), "{method} {path}: {}", r.body);
    }
    let r = app
        .call(
            Method::POST,
            "/api/v1/funders",
            Some(app.token(Role::Operator)),
            Some(json!({ "code": "F8", "name": "E" })),
            &[("idempotency-key", "a\tb")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.fields(), vec!["Idempotency-Key"]);
});

/// POSTs a CSV body to the spend import.
async fn import_csv(app: &TestApp, csv: &str) -> Reply {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/imports/spend")
        .header("authorization", format!("Bearer {}", app.token(Role::Finance)))
        .header("content-type", "text/csv")
        .body(Body::from(csv.to_owned()))
        .unwrap();
    reply(app.router.clone().oneshot(req).await.unwrap()).await
}

backend_test!(a_control_character_in_an_import_cell_refuses_the_line_naming_it, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let header = "date,grant,project,supplier,description,invoice_ref,amount,source_ref\n";
    let good = "2023-05-01,LDF,P1,S,D,I,1,A\n";
    let cells = [("supplier", 3), ("description", 4), ("invoice_ref", 5), ("source_ref", 7)];
    for (field, at) in cells {
        let mut bad: Vec<char> = CONTROLS.to_vec();
        if field != "description" {
            bad.extend(['\n', '\t', '\r']);
        }
        for c in bad {
            let mut line: Vec<String> = good.trim_end().split(',').map(str::to_owned).collect();
            line[at] = format!("\"X{c}Y\"");
            let csv = format!("{header}{good}{}\n", line.join(","));
            let r = import_csv(&app, &csv).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field} {c:?}: {}", r.body);
            let errors = r.body["errors"].as_array().unwrap();
            assert!(errors.iter().any(|e| e["line"] == 3 && e["field"] == field), "{field} {c:?}: {}", r.body);
        }
    }
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "0.00", "nothing posted");
    let csv = format!("{header}2023-05-01,LDF,P1,S,\"two\nlines\tand a tab\",I,1,A\n");
    let r = import_csv(&app, &csv).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-1.00");
});
