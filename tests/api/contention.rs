//! Rule 7 under contention: reference changes serialise with the postings that depend on
//! them, SQLite writers wait their turn instead of failing, and award locks are taken in one
//! global order so closing a year cannot deadlock with an import. No race may answer 5xx.
//!
//! Only the PostgreSQL run of these races can catch a row lock that is removed or taken too
//! late: SQLite's writer holds the whole database (`begin immediate` on the one writer
//! connection), so its run passes with no row lock at all. The PostgreSQL run must never be
//! skipped: it needs `TEST_DATABASE_URL`, and with `CI` set the harness (`support::run`)
//! fails rather than skips without it.

use std::sync::Arc;

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::backend_test;
use crate::support::{Reply, TestApp};

/// Fails the test on any 5xx, naming what answered it.
fn no_server_error(what: &str, r: &Reply) {
    assert!(!r.status.is_server_error(), "{what} answered {}: {}", r.status, r.body);
}

// Item 1 of the hostile test: a priority change racing an allocation of a grant restricted
// to the old priority. Exactly one may win; the ledger must never hold ASB-EI money in a
// COHESION project.
backend_test!(a_priority_change_serialises_with_a_restricted_allocation, |app: TestApp| async move {
    let app = Arc::new(app);
    let trials = 30;
    let mut both_won = 0;
    for i in 0..trials {
        let code = format!("R{i}");
        app.project(&code, "ASB").await;
        let patch = {
            let (app, code) = (app.clone(), code.clone());
            tokio::spawn(async move {
                app.patch(&format!("/api/v1/projects/{code}"), Role::Approver, json!({ "priority": "COHESION" })).await
            })
        };
        let allocation = {
            let (app, code) = (app.clone(), code.clone());
            tokio::spawn(async move {
                let body = json!({ "grant": "ASB-EI", "financial_year": "2022-23", "project": code, "amount": "1",
                                   "approved_on": "2022-04-01", "approval_ref": "m" });
                app.post("/api/v1/allocations", Role::Approver, body).await
            })
        };
        let (patch, allocation) = (patch.await.unwrap(), allocation.await.unwrap());
        no_server_error("PATCH project", &patch);
        no_server_error("POST allocation", &allocation);
        match (patch.status, allocation.status) {
            (StatusCode::OK, StatusCode::CREATED) => both_won += 1,
            (StatusCode::OK, _) => assert_eq!(allocation.code(), "restricted_fund", "{}", allocation.body),
            (_, StatusCode::CREATED) => assert_eq!(patch.code(), "restricted_fund", "{}", patch.body),
            other => panic!("neither won: {other:?} {} {}", patch.body, allocation.body),
        }
    }
    assert_eq!(
        both_won, 0,
        "in {both_won} of {trials} trials both the priority change and the allocation were accepted"
    );
    app.assert_verified().await;
});

// Item 2: one officer spends on one award while an approver works on another. SQLite must
// queue the writers, never answer "database is locked".
backend_test!(writers_on_different_awards_wait_their_turn, |app: TestApp| async move {
    app.project("S0", "ASB").await;
    app.project("VA", "ASB").await;
    app.project("VB", "ASB").await;
    app.allocate("LDF", "2023-24", "S0", "1000").await;
    let body = json!({ "grant": "LDF", "financial_year": "2024-25", "project": "VA", "amount": "30000",
                       "approved_on": "2024-03-01", "approval_ref": "m" });
    app.ok("/api/v1/allocations", Role::Approver, body).await;
    let mut pending = Vec::new();
    for i in 0..5 {
        let body = json!({ "grant": "LDF", "financial_year": "2024-25", "from_project": "VA", "to_project": "VB",
                           "amount": "5001", "approved_on": "2024-04-02", "approval_ref": format!("m{i}"), "reason": "r" });
        let r = app.post("/api/v1/virements", Role::Approver, body).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        pending.push(r.body["virement_id"].as_i64().unwrap());
    }
    let app = Arc::new(app);
    let spender = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut answers = Vec::new();
            for i in 0..60 {
                let mut body = TestApp::spend_body("LDF", "S0", "2023-07-01", "1");
                body["invoice_ref"] = json!(format!("INV-{i}"));
                answers.push(("spend".to_owned(), app.post("/api/v1/spend", Role::Finance, body).await));
            }
            answers
        })
    };
    let mut approvers = Vec::new();
    for w in 0..3 {
        let app = app.clone();
        let mine: Vec<i64> = pending.iter().copied().skip(w).step_by(3).collect();
        approvers.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for i in 0..10 {
                let code = format!("N{w}x{i}");
                let body = json!({ "code": code, "name": "New", "priority": "ASB" });
                answers.push(("create project".to_owned(), app.post("/api/v1/projects", Role::Approver, body).await));
                let patch = json!({ "description": format!("changed {i}") });
                let r = app.patch(&format!("/api/v1/projects/{code}"), Role::Approver, patch).await;
                answers.push(("patch project".to_owned(), r));
            }
            for id in mine {
                let r = app.post(&format!("/api/v1/virements/{id}/approve"), Role::Admin, json!({})).await;
                answers.push(("approve virement".to_owned(), r));
            }
            answers
        }));
    }
    let mut answers = spender.await.unwrap();
    for a in approvers {
        answers.extend(a.await.unwrap());
    }
    let failed: Vec<String> = answers
        .iter()
        .filter(|(_, r)| !r.status.is_success())
        .map(|(what, r)| format!("{what}: {} {}", r.status, r.body))
        .collect();
    assert!(failed.is_empty(), "{} of {} writes failed: {failed:#?}", failed.len(), answers.len());
    assert_eq!(app.balance("spent:LDF:2023-24:S0").await, "-60.00");
    assert_eq!(app.balance("available:LDF:2024-25:VB").await, "-25005.00");
    app.assert_verified().await;
});

// Item 3: closing a year locks every award of it; an import locks the awards of its file.
// Both must take them in one order, or PostgreSQL deadlocks and answers 500.
backend_test!(closing_a_year_and_multi_award_imports_never_deadlock, |app: TestApp| async move {
    app.project("C1", "ASB").await;
    app.allocate("LDF", "2022-23", "C1", "5000").await;
    let body = json!({ "grant": "ASB-EI", "financial_year": "2022-23", "project": "C1", "amount": "5000",
                       "approved_on": "2022-04-01", "approval_ref": "m" });
    app.ok("/api/v1/allocations", Role::Approver, body).await;
    let app = Arc::new(app);
    for trial in 0..15 {
        let mut tasks = Vec::new();
        for k in 0..2 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let mut csv = String::from("date,grant,project,supplier,description,invoice_ref,amount,source_ref\n");
                for (n, grant) in ["LDF", "ASB-EI", "LDF"].iter().enumerate() {
                    csv.push_str(&format!("2022-06-01,{grant},C1,S,d,I,1.00,t{trial}k{k}n{n}\n"));
                }
                let r = app.import_spend(csv).await;
                ("import", r)
            }));
        }
        let close = {
            let app = app.clone();
            tokio::spawn(async move {
                let r = app.post("/api/v1/financial-years/2022-23/close", Role::Admin, json!({ "reason": "r" })).await;
                ("close", r)
            })
        };
        tasks.push(close);
        for t in tasks {
            let (what, r) = t.await.unwrap();
            no_server_error(what, &r);
            if what == "import" {
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            } else {
                // The year still holds available money, so closing is refused, cleanly.
                assert_eq!(r.code(), "conflict", "{}", r.body);
            }
        }
    }
    app.assert_verified().await;
});

// A write that cannot get its lock within the bound answers 503 with Retry-After and
// records nothing; once the lock is free the same request succeeds.
backend_test!(a_write_that_waits_past_its_bound_answers_503, |app: TestApp| async move {
    use sqlx::Connection;
    app.project("W1", "ASB").await;
    app.allocate("LDF", "2023-24", "W1", "100").await;
    let store =
        grant_ledger::storage::Store::connect_waiting(&app.url, std::time::Duration::from_millis(300)).await.unwrap();
    let impatient = app.with_store(store);
    // Another process holds the award's lock: SQLite's write lock, or PostgreSQL's row lock.
    let mut holder = sqlx::AnyConnection::connect(&app.url).await.unwrap();
    let begin = if app.url.starts_with("sqlite") { "begin immediate" } else { "begin" };
    sqlx::query(begin).execute(&mut holder).await.unwrap();
    sqlx::query("update awards set write_seq = write_seq + 1 where grant_code = 'LDF' and financial_year = '2023-24'")
        .execute(&mut holder)
        .await
        .unwrap();
    let body = TestApp::spend_body("LDF", "W1", "2023-07-01", "10");
    let r = impatient.post("/api/v1/spend", Role::Finance, body.clone()).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.code(), "busy");
    assert_eq!(r.headers.get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
    assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json");
    sqlx::query("rollback").execute(&mut holder).await.unwrap();
    assert_eq!(app.balance("spent:LDF:2023-24:W1").await, "0.00", "the refused write recorded nothing");
    let r = impatient.post("/api/v1/spend", Role::Finance, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    impatient.store.close().await;
    app.assert_verified().await;
});

// Two confirms of one import at once make one import: the second finds it confirmed (409)
// and records nothing. Two reversals at once reverse it once.
backend_test!(two_confirms_at_once_make_one_import, |app: TestApp| async move {
    use crate::imports::{HEADER, dry_run};
    let app = Arc::new(app);
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    for trial in 0..10 {
        let file = format!(
            "{HEADER}2023-05-01,LDF,P1,Youth Trust,Sessions,INV-{trial},40,T{trial}-1\n\
             2023-05-02,LDF,P1,Cafe,Lunch,INV-{trial},5,T{trial}-2\n"
        );
        let id = dry_run(&app, &file).await.body["id"].as_i64().unwrap();
        let both = |path: String| {
            let (a, b) = (app.clone(), app.clone());
            let (pa, pb) = (path.clone(), path);
            let body = json!({ "reason": "the wrong file" });
            let (ba, bb) = (body.clone(), body);
            (
                tokio::spawn(async move { a.post(&pa, Role::Finance, ba).await }),
                tokio::spawn(async move { b.post(&pb, Role::Finance, bb).await }),
            )
        };
        let (a, b) = both(format!("/api/v1/imports/{id}/confirm"));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        no_server_error("confirm", &a);
        no_server_error("confirm", &b);
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} {}", a.body, b.body);
        let made = app.get(&format!("/api/v1/imports/{id}"), Role::Finance).await;
        assert_eq!(made.body["entries"].as_array().unwrap().len(), 2, "one import's entries: {}", made.body);

        let (a, b) = both(format!("/api/v1/imports/{id}/reverse"));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        no_server_error("reverse", &a);
        no_server_error("reverse", &b);
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} {}", a.body, b.body);
    }
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "0.00", "every import reversed once");
    app.assert_verified().await;
});
