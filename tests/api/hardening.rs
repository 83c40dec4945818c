//! Issue 9, items 6, 7, 9, 10 and 11: idempotent retries under contention, control characters
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
