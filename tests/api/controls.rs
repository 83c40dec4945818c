//! Controls an auditor expects: four-eyes virements, year end, closing and reopening years,
//! and the audit trail, through the API and the command line.

use axum::http::{Method, StatusCode};
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::TestApp;

fn virement(from: &str, to: &str, amount: &str) -> Value {
    json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": from, "to_project": to, "amount": amount,
            "approved_on": "2023-09-01", "approval_ref": "chair's action", "reason": "demand moved" })
}

/// A second approver: another named person with the approver role.
async fn second_approver(app: &TestApp) -> String {
    let t = app.ok("/api/v1/tokens", Role::Admin, json!({ "name": "Sam Second", "role": "approver" })).await;
    t["token"].as_str().unwrap().to_owned()
}

backend_test!(large_virements_wait_for_a_second_approver, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.project("P2", "DRUGS").await;
    app.allocate("LDF", "2023-24", "P1", "20000").await;
    let second = second_approver(&app).await;

    // At the threshold it posts at once.
    let at = app.post("/api/v1/virements", Role::Approver, virement("P1", "P2", "5000.00")).await;
    assert_eq!(at.status, StatusCode::CREATED, "{}", at.body);
    assert_eq!(at.body["status"], "posted");
    assert!(at.body["entry_id"].as_i64().is_some());

    // A penny above it waits, and the money stays where it is.
    let pending = app.post("/api/v1/virements", Role::Approver, virement("P1", "P2", "5000.01")).await;
    assert_eq!(pending.status, StatusCode::ACCEPTED, "{}", pending.body);
    assert_eq!(pending.body["status"], "pending");
    assert_eq!(pending.body["entry_id"], Value::Null);
    let id = pending.body["virement_id"].as_i64().unwrap();
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-15000.00");
    assert_eq!(app.balance("available:LDF:2023-24:P2").await, "-5000.00");
    let listed = app.get("/api/v1/virements?status=pending", Role::Viewer).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);

    // The proposer can never approve it, nor reject it.
    let own = app.post(&format!("/api/v1/virements/{id}/approve"), Role::Approver, json!({})).await;
    assert_eq!((own.status, own.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let own = app.post(&format!("/api/v1/virements/{id}/reject"), Role::Approver, json!({ "reason": "no" })).await;
    assert_eq!(own.code(), "forbidden");
    // A finance officer cannot approve at all.
    let fin = app.post(&format!("/api/v1/virements/{id}/approve"), Role::Finance, json!({})).await;
    assert_eq!(fin.code(), "forbidden");

    // A second approver posts it.
    let approved = app.call(Method::POST, &format!("/api/v1/virements/{id}/approve"), Some(&second), None, &[]).await;
    assert_eq!(approved.status, StatusCode::CREATED, "{}", approved.body);
    assert_eq!(approved.body["status"], "approved");
    assert_eq!(approved.body["decided_by"], "Sam Second");
    assert_eq!(approved.body["proposed_by"], "test approver");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-9999.99");
    let entry = app.get(&format!("/api/v1/entries/{}", approved.body["entry_id"]), Role::Viewer).await;
    assert_eq!(entry.body["created_by"], "Sam Second");
    assert_eq!(entry.body["details"]["proposed_by"], "test approver");
    let again = app.call(Method::POST, &format!("/api/v1/virements/{id}/approve"), Some(&second), None, &[]).await;
    assert_eq!(again.code(), "conflict");

    // Rejection, with a reason, leaves the money put and cannot then be approved.
    let p2 = app.post("/api/v1/virements", Role::Approver, virement("P1", "P2", "6000")).await;
    let id2 = p2.body["virement_id"].as_i64().unwrap();
    let rejected = app
        .call(
            Method::POST,
            &format!("/api/v1/virements/{id2}/reject"),
            Some(&second),
            Some(json!({ "reason": "not agreed" })),
            &[],
        )
        .await;
    assert_eq!(rejected.body["status"], "rejected", "{}", rejected.body);
    let late = app.post(&format!("/api/v1/virements/{id2}/approve"), Role::Admin, json!({})).await;
    assert_eq!(late.code(), "conflict");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-9999.99");

    // Approval re-checks the rules: money spent meanwhile makes it an overspend.
    let p3 = app.post("/api/v1/virements", Role::Approver, virement("P1", "P2", "9000")).await;
    let id3 = p3.body["virement_id"].as_i64().unwrap();
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-10-01", "5000")).await;
    let over = app.call(Method::POST, &format!("/api/v1/virements/{id3}/approve"), Some(&second), None, &[]).await;
    assert_eq!(over.code(), "overspend", "{}", over.body);
    assert_eq!(app.get(&format!("/api/v1/virements/{id3}"), Role::Viewer).await.body["status"], "pending");
    // A proposal that could never post is refused at once.
    let never = app.post("/api/v1/virements", Role::Approver, virement("P1", "P2", "50000")).await;
    assert_eq!(never.code(), "overspend");

    // The threshold is a setting, and its change is audited.
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/settings",
            Some(app.token(Role::Admin)),
            Some(json!({ "virement_approval_threshold": "100" })),
            &[],
        )
        .await;
    assert_eq!(r.body["virement_approval_threshold"], "100.00");
    let small = app.post("/api/v1/virements", Role::Approver, virement("P1", "P2", "100.01")).await;
    assert_eq!(small.status, StatusCode::ACCEPTED);
    let trail = app.get("/api/v1/audit?entity=setting", Role::Viewer).await;
    assert_eq!(trail.body["items"][0]["actor"], "test admin");
    app.assert_verified().await;
});

backend_test!(year_end_carries_forward_and_returns, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "10000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2024-02-01", "4000")).await;
    // Unspent: 51,394 unallocated + 6,000 available in P1 = 57,394.
    let wrong = app
        .post(
            "/api/v1/grants/LDF/awards/2023-24/year-end",
            Role::Approver,
            json!({ "carry_forward": "40000", "return_to_funder": "17000", "reason": "r" }),
        )
        .await;
    assert_eq!(wrong.fields(), ["carry_forward"], "{}", wrong.body);
    assert!(wrong.body["detail"].as_str().unwrap().contains("57394.00"));
    let fin = app
        .post(
            "/api/v1/grants/LDF/awards/2023-24/year-end",
            Role::Finance,
            json!({ "carry_forward": "40000", "return_to_funder": "17394", "reason": "r" }),
        )
        .await;
    assert_eq!(fin.code(), "forbidden");
    let done = app
        .ok(
            "/api/v1/grants/LDF/awards/2023-24/year-end",
            Role::Approver,
            json!({ "carry_forward": "40000", "return_to_funder": "17394", "reason": "agreed with SCO" }),
        )
        .await;
    assert_eq!(done["next_financial_year"], "2024-25");
    assert_eq!(app.balance("carried:LDF:2023-24").await, "-40000.00");
    assert_eq!(app.balance("returned:LDF:2023-24").await, "-17394.00");
    assert_eq!(app.balance("unallocated:LDF:2023-24").await, "0.00");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "0.00");
    assert_eq!(app.balance("awarded:LDF:2024-25").await, "101394.00");
    assert_eq!(app.balance("unallocated:LDF:2024-25").await, "-101394.00");
    let cf = app.get(&format!("/api/v1/entries/{}", done["carry_forward_entry_id"]), Role::Viewer).await;
    assert_eq!(cf.body["kind"], "carry_forward");
    assert_eq!(cf.body["date"], "2024-04-01");
    assert_eq!(cf.body["details"]["carried_forward_from"], "2023-24");
    // Year-end entries are not reversed one by one.
    let r = app
        .post(
            &format!("/api/v1/entries/{}/reverse", done["entry_id"]),
            Role::Approver,
            json!({ "date": "2024-03-31", "reason": "x" }),
        )
        .await;
    assert_eq!(r.code(), "conflict", "{} {}", r.status, r.body);

    // Carry-forward into a year where the grant has no award yet creates that award.
    app.allocate("ASB-EI", "2022-23", "P1", "10000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("ASB-EI", "P1", "2022-12-01", "9000")).await;
    app.ok(
        "/api/v1/grants/ASB-EI/awards/2022-23/year-end",
        Role::Approver,
        json!({ "carry_forward": "1000", "reason": "agreed" }),
    )
    .await;
    let awards = app.get("/api/v1/grants/ASB-EI/awards", Role::Funder).await;
    assert_eq!(awards.body["items"][1]["financial_year"], "2023-24");
    assert_eq!(awards.body["items"][1]["amount"], "1000.00");
    // The earlier award shows its projects' budgets (docs/design.md: available + committed + spent;
    // the year end swept the unspent 1,000 out of available) and what the year end resolved.
    assert_eq!(awards.body["items"][0]["allocated"], "9000.00");
    assert_eq!(awards.body["items"][0]["unallocated"], "0.00");
    assert_eq!(awards.body["items"][0]["carried_forward_or_returned"], "1000.00");
    // ...and the carried money keeps its restriction.
    app.project("D1", "DRUGS").await;
    let r = app
        .post("/api/v1/allocations", Role::Approver, json!({ "grant": "ASB-EI", "financial_year": "2023-24", "project": "D1", "amount": "1", "approved_on": "2023-04-01", "approval_ref": "m" }))
        .await;
    assert_eq!(r.code(), "restricted_fund");
    app.assert_verified().await;
});

async fn close(app: &TestApp) -> crate::support::Reply {
    let tok = app.token(Role::Admin).to_owned();
    app.call(
        Method::POST,
        "/api/v1/financial-years/2023-24/close",
        Some(&tok),
        Some(json!({ "reason": "year end" })),
        &[],
    )
    .await
}

backend_test!(closing_a_year_waits_for_everything_to_be_resolved, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.project("P2", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "10000").await;
    let c = app
        .ok("/api/v1/commitments", Role::Finance, json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "s", "amount": "1000", "date": "2023-05-01" }))
        .await;
    let pending = app.post("/api/v1/virements", Role::Approver, virement("P1", "P2", "6000")).await;
    let r = close(&app).await;
    assert_eq!(r.code(), "conflict");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains("committed:LDF:2023-24:P1 holds 1000.00"), "{detail}");
    assert!(detail.contains("is pending approval"), "{detail}");
    assert!(detail.contains("unallocated:LDF:2023-24 holds 51394.00"), "{detail}");
    // Only an admin may close.
    let r = app.post("/api/v1/financial-years/2023-24/close", Role::Approver, json!({})).await;
    assert_eq!(r.code(), "forbidden");

    // Resolve: reject the virement, spend and release the commitment, year end the rest.
    let second = second_approver(&app).await;
    let id = pending.body["virement_id"].as_i64().unwrap();
    app.call(
        Method::POST,
        &format!("/api/v1/virements/{id}/reject"),
        Some(&second),
        Some(json!({ "reason": "no" })),
        &[],
    )
    .await;
    let mut spend = TestApp::spend_body("LDF", "P1", "2024-03-01", "800");
    spend["commitment_id"] = c["commitment_id"].clone();
    app.ok("/api/v1/spend", Role::Finance, spend).await;
    app.ok(
        &format!("/api/v1/commitments/{}/release", c["commitment_id"]),
        Role::Finance,
        json!({ "date": "2024-03-20", "amount": "200", "reason": "done" }),
    )
    .await;
    app.ok(
        "/api/v1/grants/LDF/awards/2023-24/year-end",
        Role::Approver,
        json!({ "return_to_funder": "60594", "reason": "returned" }),
    )
    .await;
    let r = close(&app).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "closed");

    // Closed: every entry dated in that year is refused.
    let r = app
        .post(
            "/api/v1/refunds",
            Role::Finance,
            json!({ "grant": "LDF", "project": "P1", "date": "2023-12-01", "amount": "1", "reason": "r" }),
        )
        .await;
    assert_eq!(r.code(), "period_closed");
    let r = app.post("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2024-01-01", "1")).await;
    assert_eq!(r.code(), "period_closed");

    // Reopening needs a reason, and is recorded.
    let tok = app.token(Role::Admin).to_owned();
    let r = app.call(Method::POST, "/api/v1/financial-years/2023-24/reopen", Some(&tok), Some(json!({})), &[]).await;
    assert_eq!(r.fields(), ["reason"]);
    let r = app
        .call(
            Method::POST,
            "/api/v1/financial-years/2023-24/reopen",
            Some(&tok),
            Some(json!({ "reason": "late credit note" })),
            &[],
        )
        .await;
    assert_eq!(r.body["status"], "open", "{}", r.body);
    let trail = app.get("/api/v1/audit?entity=financial_year&key=2023-24", Role::Viewer).await;
    let items = trail.body["items"].as_array().unwrap();
    assert_eq!(items[0]["action"], "reopen");
    assert_eq!(items[0]["reason"], "late credit note");
    assert_eq!(items[0]["actor"], "test admin");
    assert_eq!(items[0]["before"]["status"], "closed");
    assert_eq!(items[1]["action"], "close");
    // Dated after the spend it credits (rule 8).
    app.ok(
        "/api/v1/refunds",
        Role::Finance,
        json!({ "grant": "LDF", "project": "P1", "date": "2024-03-25", "amount": "1", "reason": "r" }),
    )
    .await;
    app.assert_verified().await;
});

backend_test!(reference_changes_are_in_the_audit_trail, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let tok = app.token(Role::Approver).to_owned();
    app.call(
        Method::PATCH,
        "/api/v1/projects/P1",
        Some(&tok),
        Some(json!({ "name": "Renamed", "lead_organisation": "Police" })),
        &[],
    )
    .await;
    let trail = app.get("/api/v1/audit?entity=project&key=P1", Role::Viewer).await;
    let items = trail.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "update");
    assert_eq!(items[0]["actor"], "test approver");
    assert_eq!(items[0]["before"]["name"], "Project P1");
    assert_eq!(items[0]["after"]["name"], "Renamed");
    assert_eq!(items[1]["action"], "create");
    assert_eq!(items[1]["before"], Value::Null);
    let t = app.ok("/api/v1/tokens", Role::Admin, json!({ "name": "Pat Finance", "role": "finance" })).await;
    app.call(Method::DELETE, &format!("/api/v1/tokens/{}", t["id"]), Some(app.token(Role::Admin)), None, &[]).await;
    let trail = app.get(&format!("/api/v1/audit?entity=token&key={}", t["id"]), Role::Admin).await;
    let actions: Vec<&str> =
        trail.body["items"].as_array().unwrap().iter().map(|i| i["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["revoke", "create"]);
    assert!(!trail.body.to_string().contains(t["token"].as_str().unwrap()), "no secret in the trail");
    // Fixtures and awards are there too.
    let awards = app.get("/api/v1/audit?entity=award&actor=fixtures", Role::Viewer).await;
    assert_eq!(awards.body["items"].as_array().unwrap().len(), 4);
    // The trail itself cannot be edited.
    assert!(sqlx::query("delete from audit_log").execute(app.store.pool()).await.is_err());
    let r = app.get("/api/v1/audit", Role::Funder).await;
    assert_eq!(r.code(), "forbidden");
});

backend_test!(controls_work_from_the_command_line, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.project("P2", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "20000").await;
    let pending = app.post("/api/v1/virements", Role::Approver, virement("P1", "P2", "8000")).await;
    let id = pending.body["virement_id"].to_string();
    let (ok, out, _) = app.cli(&["virement", "list", "--token", app.token(Role::Viewer)]);
    assert!(ok && out.contains(&format!("\"virement_id\": {id}")), "{out}");
    let (ok, _, err) = app.cli(&["virement", "approve", &id, "--token", app.token(Role::Approver)]);
    assert!(!ok && err.contains("second approver"), "the proposer is refused on the command line too: {err}");
    let (ok, out, err) = app.cli(&["virement", "approve", &id, "--token", app.token(Role::Admin)]);
    assert!(ok, "{out}{err}");
    assert_eq!(app.balance("available:LDF:2023-24:P2").await, "-8000.00");
    let (ok, _, err) = app.cli(&[
        "year",
        "end",
        "LDF",
        "2023-24",
        "--carry-forward",
        "10000",
        "--return",
        "51394",
        "--reason",
        "cli",
        "--token",
        app.token(Role::Finance),
    ]);
    assert!(!ok && err.contains("may not"), "{err}");
    let (ok, out, err) = app.cli(&[
        "year",
        "end",
        "LDF",
        "2023-24",
        "--carry-forward",
        "10000",
        "--return",
        "51394",
        "--reason",
        "cli",
        "--token",
        app.token(Role::Approver),
    ]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = app.cli(&["year", "close", "2023-24", "--token", app.token(Role::Admin)]);
    assert!(ok && out.contains("\"closed\""), "{out}{err}");
    let (ok, out, err) =
        app.cli(&["year", "reopen", "2023-24", "--reason", "correction", "--token", app.token(Role::Admin)]);
    assert!(ok && out.contains("\"open\""), "{out}{err}");
    let (ok, out, _) = app.cli(&["audit", "--entity", "financial_year", "--token", app.token(Role::Viewer)]);
    assert!(ok && out.contains("correction"), "{out}");
    let (ok, out, _) = app.cli(&["verify"]);
    assert!(ok, "{out}");
});

backend_test!(year_end_shows_in_both_years_reports, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "10000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2024-02-01", "4000")).await;
    app.ok(
        "/api/v1/grants/LDF/awards/2023-24/year-end",
        Role::Approver,
        json!({ "carry_forward": "40000", "return_to_funder": "17394", "reason": "agreed with SCO" }),
    )
    .await;
    let before = app.get("/api/v1/reports/variance?financial_year=2023-24", Role::Funder).await;
    let t = &before.body["totals"];
    assert_eq!(
        (t["awarded"].as_str(), t["carried"].as_str(), t["returned"].as_str()),
        (Some("61394.00"), Some("40000.00"), Some("17394.00"))
    );
    assert_eq!(t["unallocated"], "0.00");
    let after = app.get("/api/v1/reports/variance?financial_year=2024-25", Role::Funder).await;
    assert_eq!(after.body["totals"]["awarded"], "101394.00");
    assert_eq!(after.body["totals"]["brought_forward"], "40000.00");
    assert_eq!(after.body["grants"][0]["brought_forward"], "40000.00");
    let multi = app.get("/api/v1/reports/multi-year?grant=LDF", Role::Funder).await;
    let years = multi.body["years"].as_array().unwrap();
    assert_eq!(years[1]["financial_year"], "2023-24");
    assert_eq!(
        (years[1]["carried_forward"].as_str(), years[1]["returned"].as_str(), years[1]["unspent"].as_str()),
        (Some("40000.00"), Some("17394.00"), Some("0.00"))
    );
    assert_eq!(
        (years[2]["awarded"].as_str(), years[2]["brought_forward"].as_str()),
        (Some("61394.00"), Some("40000.00"))
    );
    assert_eq!(multi.body["totals"]["awarded"], "184182.00", "the funder's three awards, counted once");
    assert_eq!(multi.body["totals"]["unspent"], "162788.00", "184,182 less 4,000 spent and 17,394 returned");
});

/// A handler that panics (a bug) answers a 500 problem through the same guard `app` uses,
/// instead of dropping the connection; the cause is logged, the body says nothing of it.
#[tokio::test]
async fn a_panicking_handler_answers_a_500_problem() {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let router = grant_ledger::http::guard_panics(axum::Router::new().route(
        "/boom",
        axum::routing::get(|| async {
            panic!("secret detail of a bug");
            #[allow(unreachable_code)]
            ""
        }),
    ));
    let resp = router.oneshot(axum::http::Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(resp.headers().get("content-type").unwrap(), "application/problem+json");
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["code"], "internal");
    assert!(!body.to_string().contains("secret detail"), "{body}");
}
