//! The role matrix: every documented API operation under every role is allowed or 403 as its
//! "Roles:" line in the document says, and with no token it is 401.

use axum::http::{Method, StatusCode};
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::backend_test;
use crate::contract::{Operation, operations};
use crate::support::TestApp;

/// Path parameters that exist in no ledger, so an allowed call is refused for the data and
/// changes nothing.
fn concrete(path: &str) -> String {
    path.replace("{fy}", "2099-00").replace("{grant}", "NOPE").replace("{code}", "NOPE").replace("{id}", "999999")
}

/// The roles an operation's description states ("Roles: approver, admin.").
fn stated_roles(op: &Operation) -> Vec<Role> {
    let line = op.description.lines().find_map(|l| l.strip_prefix("Roles: ")).unwrap_or_else(|| {
        panic!("{} {} states no roles", op.method, op.path);
    });
    // "Every role" is every role of a partnership and of its funder: the operator reads no ledger.
    if line.starts_with("every role, and operator") {
        return Role::ALL.to_vec();
    }
    if line.starts_with("every role but funder") {
        return Role::ALL.into_iter().filter(|r| !r.is_funders() && *r != Role::Operator).collect();
    }
    if line.starts_with("every role") {
        return Role::ALL.into_iter().filter(|r| *r != Role::Operator).collect();
    }
    if line.starts_with("the role that records the entry's kind") {
        return vec![Role::Admin, Role::Finance, Role::Approver];
    }
    line.trim_end_matches('.').split(", ").map(|r| Role::parse(r).unwrap_or_else(|| panic!("role {r:?}"))).collect()
}

backend_test!(every_route_under_every_role, |app: TestApp| async move {
    for op in operations().into_iter().filter(|o| o.path.starts_with("/api/v1/")) {
        let method = Method::from_bytes(op.method.to_uppercase().as_bytes()).unwrap();
        let path = concrete(&op.path);
        let body = (method != Method::GET && method != Method::DELETE).then(|| json!({}));
        let anonymous = app.call(method.clone(), &path, None, body.clone(), &[]).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{} {path} without a token", op.method);
        assert_eq!(anonymous.code(), "unauthorized");
        let roles = stated_roles(&op);
        for role in Role::ALL {
            let r = app.call(method.clone(), &path, Some(app.token(role)), body.clone(), &[]).await;
            let routed = !(r.status == StatusCode::METHOD_NOT_ALLOWED || r.body["detail"] == "route not found");
            assert!(routed, "{} {path} is documented but not routed", op.method);
            if roles.contains(&role) {
                assert!(
                    r.status != StatusCode::FORBIDDEN && r.status != StatusCode::UNAUTHORIZED,
                    "{} {path} as {role:?} should be allowed, got {} {}",
                    op.method,
                    r.status,
                    r.body
                );
            } else {
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{} {path} as {role:?}: {}", op.method, r.body);
                assert_eq!(r.code(), "forbidden");
            }
        }
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
