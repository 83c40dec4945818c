//! Trial counts for the contention items of the hostile test (items 1-3): prints what
//! happened, asserts nothing. `cargo test --test api trial_counts -- --ignored --nocapture`.

use std::sync::Arc;

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::support::{Backend, TestApp};

async fn item1(app: Arc<TestApp>, trials: usize) -> String {
    let (mut both, mut server) = (0, 0);
    for i in 0..trials {
        let code = format!("R{i}");
        app.project(&code, "ASB").await;
        let (a, c) = (app.clone(), code.clone());
        let patch = tokio::spawn(async move {
            a.patch(&format!("/api/v1/projects/{c}"), Role::Approver, json!({ "priority": "COHESION" })).await
        });
        let (a, c) = (app.clone(), code.clone());
        let alloc = tokio::spawn(async move {
            let body = json!({ "grant": "ASB-EI", "financial_year": "2022-23", "project": c, "amount": "1",
                               "approved_on": "2022-04-01", "approval_ref": "m" });
            a.post("/api/v1/allocations", Role::Approver, body).await
        });
        let (p, a) = (patch.await.unwrap(), alloc.await.unwrap());
        if p.status == StatusCode::OK && a.status == StatusCode::CREATED {
            both += 1;
        }
        server += usize::from(p.status.is_server_error()) + usize::from(a.status.is_server_error());
    }
    let problems = grant_ledger::storage::verify::verify(&app.store).await.unwrap().len();
    format!("item 1: {trials} trials, both won in {both}, {server} 5xx answers, verify found {problems} problems")
}

async fn item2(app: Arc<TestApp>) -> String {
    app.project("S0", "ASB").await;
    app.allocate("LDF", "2023-24", "S0", "1000").await;
    let spender = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut failed = 0;
            for i in 0..60 {
                let mut body = TestApp::spend_body("LDF", "S0", "2023-07-01", "1");
                body["invoice_ref"] = json!(format!("INV-{i}"));
                failed += usize::from(!app.post("/api/v1/spend", Role::Finance, body).await.status.is_success());
            }
            failed
        })
    };
    let mut others = Vec::new();
    for w in 0..3 {
        let app = app.clone();
        others.push(tokio::spawn(async move {
            let mut failed = 0;
            for i in 0..10 {
                let code = format!("N{w}x{i}");
                let r = app
                    .post("/api/v1/projects", Role::Approver, json!({ "code": code, "name": "N", "priority": "ASB" }))
                    .await;
                failed += usize::from(!r.status.is_success());
                let r =
                    app.patch(&format!("/api/v1/projects/{code}"), Role::Approver, json!({ "description": "d" })).await;
                failed += usize::from(!r.status.is_success());
            }
            failed
        }));
    }
    let spend_failed = spender.await.unwrap();
    let mut other_failed = 0;
    for o in others {
        other_failed += o.await.unwrap();
    }
    format!("item 2: spends failed {spend_failed} of 60; project creations and patches failed {other_failed} of 60")
}

async fn item3(app: Arc<TestApp>, trials: usize) -> String {
    app.project("C1", "ASB").await;
    app.allocate("LDF", "2022-23", "C1", "5000").await;
    let body = json!({ "grant": "ASB-EI", "financial_year": "2022-23", "project": "C1", "amount": "5000",
                       "approved_on": "2022-04-01", "approval_ref": "m" });
    app.ok("/api/v1/allocations", Role::Approver, body).await;
    let (mut server, mut requests) = (0, 0);
    for trial in 0..trials {
        let mut tasks = Vec::new();
        for k in 0..2 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let mut csv = String::from("date,grant,project,supplier,description,invoice_ref,amount,source_ref\n");
                for (n, grant) in ["LDF", "ASB-EI", "LDF"].iter().enumerate() {
                    csv.push_str(&format!("2022-06-01,{grant},C1,S,d,I,1.00,t{trial}k{k}n{n}\n"));
                }
                app.import_spend(csv).await
            }));
        }
        let app2 = app.clone();
        tasks.push(tokio::spawn(async move {
            app2.post("/api/v1/financial-years/2022-23/close", Role::Admin, json!({ "reason": "r" })).await
        }));
        for t in tasks {
            requests += 1;
            server += usize::from(t.await.unwrap().status.is_server_error());
        }
    }
    format!("item 3: {trials} trials, {server} of {requests} answers were 5xx")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "prints trial counts; run with --ignored --nocapture"]
async fn trial_counts() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        crate::support::run(backend, |app| async move { println!("{backend:?} {}", item1(Arc::new(app), 60).await) })
            .await;
        crate::support::run(backend, |app| async move { println!("{backend:?} {}", item2(Arc::new(app)).await) }).await;
        crate::support::run(backend, |app| async move { println!("{backend:?} {}", item3(Arc::new(app), 40).await) })
            .await;
    }
}
