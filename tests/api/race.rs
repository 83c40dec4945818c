//! Rule 7: concurrent writers cannot overspend. Twenty simultaneous £100 spends against
//! £1,000 available: exactly ten succeed and ten are refused.
//!
//! Only the PostgreSQL run of these races can catch a row lock that is removed or taken too
//! late: SQLite's writer holds the whole database (`begin immediate` on the one writer
//! connection), so its run passes with no row lock at all. The PostgreSQL run must never be
//! skipped: it needs `TEST_DATABASE_URL`, and with `CI` set the harness (`support::run`)
//! fails rather than skips without it.

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;

use crate::backend_test;
use crate::support::TestApp;

backend_test!(twenty_spends_race_for_the_last_thousand, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let app = std::sync::Arc::new(app);
    let mut handles = Vec::new();
    for i in 0..20 {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            let mut body = TestApp::spend_body("LDF", "P1", "2023-07-01", "100");
            body["invoice_ref"] = serde_json::json!(format!("INV-{i}"));
            app.post("/api/v1/spend", Role::Finance, body).await
        }));
    }
    let mut created = 0;
    let mut overspend = 0;
    for h in handles {
        let r = h.await.unwrap();
        match (r.status, r.code()) {
            (StatusCode::CREATED, _) => created += 1,
            (StatusCode::CONFLICT, "overspend") => overspend += 1,
            other => panic!("unexpected answer {other:?}: {}", r.body),
        }
    }
    assert_eq!((created, overspend), (10, 10));
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "0.00");
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-1000.00");
    app.assert_verified().await;
});

backend_test!(concurrent_allocations_cannot_exceed_the_award, |app: TestApp| async move {
    for i in 0..8 {
        app.project(&format!("P{i}"), "ASB").await;
    }
    // 61,394 awarded: eight allocations of 10,000 race; exactly six fit.
    let app = std::sync::Arc::new(app);
    let mut handles = Vec::new();
    for i in 0..8 {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            let body = serde_json::json!({ "grant": "LDF", "financial_year": "2024-25", "project": format!("P{i}"),
                "amount": "10000", "approved_on": "2024-03-01", "approval_ref": "m" });
            app.post("/api/v1/allocations", Role::Approver, body).await
        }));
    }
    let mut codes = Vec::new();
    for h in handles {
        let r = h.await.unwrap();
        codes.push(if r.status == StatusCode::CREATED { "created".to_owned() } else { r.code().to_owned() });
    }
    assert_eq!(codes.iter().filter(|c| *c == "created").count(), 6, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| *c == "over_allocation").count(), 2, "{codes:?}");
    assert_eq!(app.balance("unallocated:LDF:2024-25").await, "-1394.00");
    app.assert_verified().await;
});
