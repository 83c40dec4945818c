//! A funder reads everything its returns and agreements show it: what changed since a return
//! was filed and the entries behind it, the agreements with their parts, payments, evidence
//! and clawbacks, and the accounts and virements behind a figure. Tokens and the audit trail
//! stay closed to it.

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::backend_test;
use crate::support::TestApp;

backend_test!(a_funder_reads_what_its_returns_and_agreements_show, |app: TestApp| async move {
    let agreement = crate::agreements::agreement_history(&app).await;
    let filed = app
        .ok(
            "/api/v1/returns",
            Role::Finance,
            json!({ "kind": "commissioner-return", "financial_year": "2023-24", "quarter": 3 }),
        )
        .await;
    // Spend dated in Q3, recorded after the filing: the return has changed since.
    let late = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-11-02", "250.00")).await;
    let late_id = late["entry_id"].as_i64().unwrap();

    let changes = app.get(&format!("/api/v1/returns/{}/changes", filed["id"]), Role::Funder).await;
    assert_eq!(changes.status, StatusCode::OK, "{}", changes.body);
    assert_eq!(changes.body["changed"], true, "{}", changes.body);
    let listed: Vec<i64> =
        changes.body["entries"].as_array().unwrap().iter().map(|e| e["entry_id"].as_i64().unwrap()).collect();
    assert_eq!(listed, [late_id], "{}", changes.body);
    // The entry behind the changed figure, with its postings.
    let entry = app.get(&format!("/api/v1/entries/{late_id}"), Role::Funder).await;
    assert_eq!(entry.status, StatusCode::OK, "{}", entry.body);
    assert_eq!(entry.body["postings"].as_array().unwrap().len(), 2, "{}", entry.body);
    let entries = app.get("/api/v1/entries?project=P1&kind=spend", Role::Funder).await;
    assert_eq!(entries.status, StatusCode::OK, "{}", entries.body);
    assert_eq!(entries.body["items"].as_array().unwrap().len(), 4, "three tranches and the late spend");

    // The agreement whole: parts, payments, evidence and the clawback.
    let list = app.get("/api/v1/commitments?project=P1", Role::Funder).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body["items"].as_array().unwrap().iter().any(|c| c["commitment_id"] == agreement), "{}", list.body);
    let d = app.get(&format!("/api/v1/commitments/{agreement}"), Role::Funder).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    assert_eq!(d.body["schedule"].as_array().unwrap().len(), 2);
    assert_eq!(d.body["payments"].as_array().unwrap().len(), 4, "three tranches and the clawback: {}", d.body);
    assert_eq!(d.body["evidence"].as_array().unwrap().len(), 2);
    assert_eq!(d.body["clawed_back"], "500.00");

    for path in ["/api/v1/accounts?project=P1", "/api/v1/virements"] {
        let r = app.get(path, Role::Funder).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    // Tokens and the audit trail stay closed.
    for path in ["/api/v1/audit", "/api/v1/audit?entity=token", "/api/v1/tokens"] {
        let r = app.get(path, Role::Funder).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"), "{path}: {}", r.body);
    }
    let r = app.post("/api/v1/tokens", Role::Funder, json!({ "name": "mine", "role": "admin" })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The command line answers a funder's token alike.
    let funder = app.token(Role::Funder).to_owned();
    let (ok, out, err) = app.cli(&["agreement", "show", &agreement.to_string(), "--token", &funder]);
    assert!(ok && out.contains("\"clawed_back\": \"500.00\""), "{out}{err}");
    // `return changes` exits non-zero once a figure has moved; what matters is that it answers.
    let (_, out, err) = app.cli(&["return", "changes", &filed["id"].to_string(), "--token", &funder]);
    assert!(out.contains(&format!("\"entry_id\": {late_id}")), "{out}{err}");
    let (ok, _, err) = app.cli(&["audit", "--token", &funder]);
    assert!(!ok && err.contains("the funder role may not do this"), "{err}");
});
