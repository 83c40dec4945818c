//! The role matrix: every documented route under every role is allowed or 403, and with no
//! token it is 401. The documented table (`openapi::ROUTES`) is the one the server routes.

use axum::http::{Method, StatusCode};
use grant_ledger::http::auth::Need;
use grant_ledger::http::openapi::ROUTES;
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::backend_test;
use crate::support::TestApp;

/// Path parameters that exist in no ledger, so an allowed call is refused for the data and
/// changes nothing.
fn concrete(path: &str) -> String {
    path.replace("{fy}", "2099-00").replace("{grant}", "NOPE").replace("{code}", "NOPE").replace("{id}", "999999")
}

/// Reversal is recorded by finance or approvers (the entry's kind decides which); every
/// other route needs exactly what the table says.
fn allowed(path: &str, need: Need, role: Role) -> bool {
    if path.ends_with("/reverse") {
        return Need::Finance.allows(role) || Need::Approver.allows(role);
    }
    need.allows(role)
}

backend_test!(every_route_under_every_role, |app: TestApp| async move {
    for route in ROUTES {
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        let path = concrete(route.path);
        let body = (method != Method::GET && method != Method::DELETE).then(|| json!({}));
        let Some(need) = route.need else {
            let r = app.call(method.clone(), &path, None, None, &[]).await;
            assert_eq!(r.status, StatusCode::OK, "public {} {path}", route.method);
            continue;
        };
        let anonymous = app.call(method.clone(), &path, None, body.clone(), &[]).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{} {path} without a token", route.method);
        assert_eq!(anonymous.code(), "unauthorized");
        for role in Role::ALL {
            let r = app.call(method.clone(), &path, Some(app.token(role)), body.clone(), &[]).await;
            let routed = !(r.status == StatusCode::METHOD_NOT_ALLOWED || r.body["detail"] == "route not found");
            assert!(routed, "{} {path} is documented but not routed", route.method);
            if allowed(route.path, need, role) {
                assert!(
                    r.status != StatusCode::FORBIDDEN && r.status != StatusCode::UNAUTHORIZED,
                    "{} {path} as {role:?} should be allowed, got {} {}",
                    route.method,
                    r.status,
                    r.body
                );
            } else {
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{} {path} as {role:?}: {}", route.method, r.body);
                assert_eq!(r.code(), "forbidden");
            }
        }
    }
});

backend_test!(every_documented_page_is_routed, |app: TestApp| async move {
    for (method, path, _) in grant_ledger::http::openapi::PAGES {
        let r = app.call(Method::from_bytes(method.as_bytes()).unwrap(), path, None, None, &[]).await;
        assert!(
            r.status != StatusCode::NOT_FOUND && r.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is documented but answered {}",
            r.status
        );
    }
});

backend_test!(reversal_needs_the_role_that_records_the_kind, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let alloc = app.allocate("LDF", "2023-24", "P1", "100").await;
    let spend = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-05-01", "10")).await;
    let reverse = |id: &serde_json::Value| format!("/api/v1/entries/{id}/reverse");
    let body = json!({ "date": "2023-06-01", "reason": "wrong" });
    let r = app.post(&reverse(&alloc["entry_id"]), Role::Finance, body.clone()).await;
    assert_eq!(r.code(), "forbidden", "finance may not reverse an allocation");
    let r = app.post(&reverse(&spend["entry_id"]), Role::Approver, body.clone()).await;
    assert_eq!(r.code(), "forbidden", "an approver may not reverse spend");
    app.ok(&reverse(&spend["entry_id"]), Role::Finance, body.clone()).await;
    app.ok(&reverse(&alloc["entry_id"]), Role::Approver, body).await;
    app.assert_verified().await;
});

#[test]
fn openapi_document_covers_every_route() {
    let doc = grant_ledger::http::openapi::document();
    assert_eq!(doc["openapi"], "3.1.0");
    for r in ROUTES {
        assert!(doc["paths"][r.path][r.method.to_lowercase()].is_object(), "{} {} missing", r.method, r.path);
    }
    for (method, path, _) in grant_ledger::http::openapi::PAGES {
        assert!(doc["paths"][path][method.to_lowercase()].is_object(), "{method} {path} missing");
    }
    for path in ["/api/v1/allocations", "/api/v1/virements", "/api/v1/commitments", "/api/v1/spend", "/api/v1/refunds"]
    {
        assert!(doc["paths"][path]["post"]["requestBody"].is_object(), "{path} documents its body");
    }
}
