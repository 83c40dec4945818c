//! The recording API end to end: the walkthrough of the README, and each rule where it
//! must refuse.

use axum::http::{Method, StatusCode};
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::backend_test;
use crate::support::TestApp;

backend_test!(fixtures_hold_the_tamworth_plan, |app: TestApp| async move {
    let awards = app.get("/api/v1/grants/LDF/awards", Role::Funder).await;
    assert_eq!(awards.status, StatusCode::OK);
    let years: Vec<(String, String)> = awards.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["financial_year"].as_str().unwrap().to_owned(), a["amount"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        years,
        vec![
            ("2022-23".to_owned(), "61394.00".to_owned()),
            ("2023-24".to_owned(), "61394.00".to_owned()),
            ("2024-25".to_owned(), "61394.00".to_owned())
        ]
    );
    let asb = app.get("/api/v1/grants/ASB-EI/awards", Role::Funder).await;
    assert_eq!(asb.body["items"][0]["amount"], "10000.00");
    assert_eq!(asb.body["items"][0]["financial_year"], "2022-23");
    let grants = app.get("/api/v1/grants", Role::Viewer).await;
    let asb_ei = grants.body["items"].as_array().unwrap().iter().find(|g| g["code"] == "ASB-EI").unwrap().clone();
    assert_eq!(asb_ei["restricted_to_priority"], "ASB");
    assert_eq!(asb_ei["on_overspend"], "stop");
    let priorities = app.get("/api/v1/priorities", Role::Viewer).await;
    let codes: Vec<&str> =
        priorities.body["items"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["ASB", "COHESION", "DOMESTIC-ABUSE", "DRUGS", "VEHICLE", "VIOLENCE", "VULNERABLE"]);
    let years = app.get("/api/v1/financial-years", Role::Viewer).await;
    assert_eq!(years.body["items"].as_array().unwrap().len(), 4);
    assert!(years.body["items"].as_array().unwrap().iter().all(|y| y["status"] == "open"));
    assert_eq!(app.get("/healthz", Role::Viewer).await.body, json!({ "status": "ok" }));
    app.assert_verified().await;
});

backend_test!(allocate_commit_spend_release_refund_reverse, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let alloc = app.allocate("LDF", "2023-24", "P1", "10000").await;
    assert_eq!(alloc["amount"], "10000.00");
    // Approved before the year began: dated its first day, decision date kept (rule 5).
    assert_eq!(alloc["date"], "2023-04-01");
    assert_eq!(alloc["approved_on"], "2023-03-16");
    assert_eq!(app.balance("unallocated:LDF:2023-24").await, "-51394.00");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-10000.00");

    let c = app
        .ok(
            "/api/v1/commitments",
            Role::Finance,
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "Youth Trust",
                    "reference": "PO-1", "amount": "4000.5", "date": "2023-05-02", "memo": "sessions" }),
        )
        .await;
    let commitment_id = c["commitment_id"].as_i64().unwrap();
    assert!(c["entry_id"].as_i64().unwrap() > 0);
    assert_eq!(app.balance("committed:LDF:2023-24:P1").await, "-4000.50");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-5999.50");

    // Spend of 5000 against a commitment of 4000.50: 4000.50 covered, 999.50 from available.
    let mut body = TestApp::spend_body("LDF", "P1", "2023-06-30", "5000.00");
    body["commitment_id"] = json!(commitment_id);
    let s = app.ok("/api/v1/spend", Role::Finance, body).await;
    assert_eq!(s["covered_by_commitment"], "4000.50");
    assert_eq!(s["financial_year"], "2023-24");
    assert_eq!(app.balance("committed:LDF:2023-24:P1").await, "0.00");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-5000.00");
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-5000.00");

    let open = app.get("/api/v1/commitments?project=P1&open=true", Role::Viewer).await;
    assert_eq!(open.body["items"].as_array().unwrap().len(), 0, "{}", open.body);
    let all = app.get("/api/v1/commitments?project=P1", Role::Viewer).await;
    assert_eq!(all.body["items"][0]["outstanding"], "0.00");

    // A second commitment, part released.
    let c2 = app
        .ok(
            "/api/v1/commitments",
            Role::Finance,
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "Hall hire",
                    "amount": "1000", "date": "2023-07-01" }),
        )
        .await;
    let id2 = c2["commitment_id"].as_i64().unwrap();
    let too_much = app
        .post(
            &format!("/api/v1/commitments/{id2}/release"),
            Role::Finance,
            json!({ "date": "2023-08-01", "amount": "1000.01", "reason": "x" }),
        )
        .await;
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_much.fields(), ["amount"]);
    let rel = app
        .ok(
            &format!("/api/v1/commitments/{id2}/release"),
            Role::Finance,
            json!({ "date": "2023-08-01", "amount": "400", "reason": "fewer sessions" }),
        )
        .await;
    assert_eq!(rel["outstanding"], "600.00");
    let open = app.get("/api/v1/commitments?open=true", Role::Viewer).await;
    assert_eq!(open.body["items"][0]["outstanding"], "600.00");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-4400.00");

    let refund = app
        .ok(
            "/api/v1/refunds",
            Role::Finance,
            json!({ "grant": "LDF", "project": "P1", "date": "2023-09-01", "amount": "250", "reference": "CN-1", "reason": "credit note" }),
        )
        .await;
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-4750.00");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-4650.00");

    // Reverse the refund: the postings mirror, and the link shows both ways.
    let refund_id = refund["entry_id"].as_i64().unwrap();
    let rev = app
        .ok(
            &format!("/api/v1/entries/{refund_id}/reverse"),
            Role::Finance,
            json!({ "date": "2023-09-02", "reason": "keyed twice" }),
        )
        .await;
    assert_eq!(rev["reverses"], refund_id);
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-5000.00");
    let original = app.get(&format!("/api/v1/entries/{refund_id}"), Role::Viewer).await;
    assert_eq!(original.body["reversed_by"], rev["entry_id"]);
    assert_eq!(original.body["kind"], "refund");
    assert_eq!(original.body["created_by"], "test finance");
    let again = app
        .post(
            &format!("/api/v1/entries/{refund_id}/reverse"),
            Role::Finance,
            json!({ "date": "2023-09-03", "reason": "again" }),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "already_reversed");

    // Entries list with filters; every entry balances.
    let entries = app.get("/api/v1/entries?project=P1&financial_year=2023-24", Role::Viewer).await;
    let items = entries.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 7, "{}", entries.body);
    for e in items {
        let sum: i64 = e["postings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| grant_ledger::domain::Money::parse_signed(p["amount"].as_str().unwrap()).unwrap().pence())
            .sum();
        assert_eq!(sum, 0, "entry {e} does not balance");
    }
    let spends = app.get("/api/v1/entries?kind=spend", Role::Viewer).await;
    assert_eq!(spends.body["items"].as_array().unwrap().len(), 1);
    let bad_kind = app.get("/api/v1/entries?kind=gift", Role::Viewer).await;
    assert_eq!(bad_kind.fields(), ["kind"]);
    app.assert_verified().await;
});

backend_test!(virement_moves_budget_and_refuses_more_than_available, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.project("P2", "DRUGS").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let v = app
        .ok(
            "/api/v1/virements",
            Role::Approver,
            json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": "P1", "to_project": "P2",
                    "amount": "300", "approved_on": "2023-10-01", "approval_ref": "chair's action 12", "reason": "demand" }),
        )
        .await;
    assert_eq!(v["date"], "2023-10-01");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-700.00");
    assert_eq!(app.balance("available:LDF:2023-24:P2").await, "-300.00");
    let over = app
        .post(
            "/api/v1/virements",
            Role::Approver,
            json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": "P1", "to_project": "P2",
                    "amount": "700.01", "approved_on": "2023-10-01", "approval_ref": "x", "reason": "y" }),
        )
        .await;
    assert_eq!(over.status, StatusCode::CONFLICT);
    assert_eq!(over.code(), "overspend");
    let same = app
        .post(
            "/api/v1/virements",
            Role::Approver,
            json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": "P1", "to_project": "P1",
                    "amount": "1", "approved_on": "2023-10-01", "approval_ref": "x", "reason": "y" }),
        )
        .await;
    assert_eq!(same.fields(), ["to_project"]);
    app.assert_verified().await;
});

backend_test!(every_error_code_is_reachable, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.project("D1", "DRUGS").await;

    // unauthorized: no token, and an unknown one.
    let r = app.call(Method::GET, "/api/v1/projects", None, None, &[]).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    assert_eq!(r.headers["content-type"], "application/problem+json");
    let r = app.call(Method::GET, "/api/v1/projects", Some("gl_nope"), None, &[]).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "unauthorized"));

    // forbidden
    let r = app.post("/api/v1/allocations", Role::Finance, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));

    // not_found
    let r = app.get("/api/v1/projects/NOPE", Role::Viewer).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app.get("/api/v1/entries/999999", Role::Viewer).await;
    assert_eq!(r.code(), "not_found");

    // validation_failed names every bad field at once.
    let r =
        app.post("/api/v1/allocations", Role::Approver, json!({ "grant": "LDF", "amount": 5, "surprise": true })).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, ["amount", "approval_ref", "approved_on", "financial_year", "project", "surprise"]);

    // conflict: a code that already exists; a source_ref already recorded.
    let r =
        app.post("/api/v1/projects", Role::Approver, json!({ "code": "P1", "name": "again", "priority": "ASB" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"));
    app.allocate("LDF", "2023-24", "P1", "100").await;
    let mut spend = TestApp::spend_body("LDF", "P1", "2023-05-01", "10");
    spend["source_ref"] = json!("ERP-1");
    let first = app.ok("/api/v1/spend", Role::Finance, spend.clone()).await;
    let r = app.post("/api/v1/spend", Role::Finance, spend.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"));

    // duplicate: the same invoice again under another source_ref, naming the entry it repeats.
    spend["source_ref"] = json!("ERP-2");
    let r = app.post("/api/v1/spend", Role::Finance, spend).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "duplicate"), "{}", r.body);
    assert_eq!(r.body["duplicate_of"], first["entry_id"], "{}", r.body);

    // over_allocation: more than the award's unallocated balance.
    let r = app
        .post(
            "/api/v1/allocations",
            Role::Approver,
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "amount": "61294.01",
                    "approved_on": "2023-04-01", "approval_ref": "m" }),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "over_allocation"), "{}", r.body);
    assert_eq!(r.body["unallocated"], "61294.00");

    // overspend, with available, requested and shortfall in the detail.
    let r = app.post("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-05-01", "95")).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "overspend"));
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("available 90.00") && detail.contains("requested 95.00") && detail.contains("shortfall 5.00"),
        "{detail}"
    );
    let r = app
        .post(
            "/api/v1/commitments",
            Role::Finance,
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "s", "amount": "90.01", "date": "2023-05-01" }),
        )
        .await;
    assert_eq!(r.code(), "overspend");

    // restricted_fund: ASB-EI only funds ASB projects.
    let r = app
        .post(
            "/api/v1/allocations",
            Role::Approver,
            json!({ "grant": "ASB-EI", "financial_year": "2022-23", "project": "D1", "amount": "10",
                    "approved_on": "2022-05-01", "approval_ref": "m" }),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "restricted_fund"));
    // ...and a project holding ASB-EI money cannot be moved to another priority.
    app.allocate("ASB-EI", "2022-23", "P1", "10").await;
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/projects/P1",
            Some(app.token(Role::Approver)),
            Some(json!({ "priority": "DRUGS" })),
            &[],
        )
        .await;
    assert_eq!(r.code(), "restricted_fund");

    // period_closed: a closed year accepts nothing. Its money is first resolved at year end.
    app.ok(
        "/api/v1/grants/LDF/awards/2022-23/year-end",
        Role::Approver,
        json!({ "return_to_funder": "61394", "reason": "r" }),
    )
    .await;
    app.ok(
        "/api/v1/grants/ASB-EI/awards/2022-23/year-end",
        Role::Approver,
        json!({ "return_to_funder": "10000", "reason": "r" }),
    )
    .await;
    let r =
        app.call(Method::POST, "/api/v1/financial-years/2022-23/close", Some(app.token(Role::Admin)), None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app.post("/api/v1/spend", Role::Finance, TestApp::spend_body("ASB-EI", "P1", "2022-06-01", "1")).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "period_closed"));

    // already_reversed is covered in the flow test; idempotency_conflict here.
    let key = [("idempotency-key", "k-1")];
    let body = TestApp::spend_body("LDF", "P1", "2023-05-02", "1");
    let tok = app.token(Role::Finance).to_owned();
    let first = app.call(Method::POST, "/api/v1/spend", Some(&tok), Some(body.clone()), &key).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let mut other = body.clone();
    other["amount"] = json!("2");
    let r = app.call(Method::POST, "/api/v1/spend", Some(&tok), Some(other), &key).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "idempotency_conflict"));
    app.assert_verified().await;
});

backend_test!(idempotency_key_replays_the_first_response, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "100").await;
    let tok = app.token(Role::Finance).to_owned();
    let body = TestApp::spend_body("LDF", "P1", "2023-05-02", "40");
    let key = [("idempotency-key", "spend-2023-05-02-a")];
    let first = app.call(Method::POST, "/api/v1/spend", Some(&tok), Some(body.clone()), &key).await;
    let second = app.call(Method::POST, "/api/v1/spend", Some(&tok), Some(body.clone()), &key).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(first.body, second.body);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-40.00", "posted once");
    // Keys belong to a token: the same key from another token is a new request (here a
    // second invoice, or it would be refused as a duplicate of the first).
    let admin = app.token(Role::Admin).to_owned();
    let mut body = body;
    body["invoice_ref"] = json!("INV-2");
    let third = app.call(Method::POST, "/api/v1/spend", Some(&admin), Some(body), &key).await;
    assert_eq!(third.status, StatusCode::CREATED);
    assert_ne!(third.body["entry_id"], first.body["entry_id"]);
    // A refused request stores nothing: the same key may be retried once the cause is fixed.
    let big = TestApp::spend_body("LDF", "P1", "2023-05-02", "500");
    let key2 = [("idempotency-key", "spend-big")];
    let refused = app.call(Method::POST, "/api/v1/spend", Some(&tok), Some(big.clone()), &key2).await;
    assert_eq!(refused.code(), "overspend");
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let retried = app.call(Method::POST, "/api/v1/spend", Some(&tok), Some(big), &key2).await;
    assert_eq!(retried.status, StatusCode::CREATED);
    app.assert_verified().await;
});

backend_test!(warn_grant_posts_an_overspend_and_flags_it, |app: TestApp| async move {
    app.ok("/api/v1/funders", Role::Operator, json!({ "code": "HO", "name": "Home Office" })).await;
    app.ok(
        "/api/v1/grants",
        Role::Approver,
        json!({ "code": "SSF", "name": "Safer Streets", "funder": "HO", "on_overspend": "warn" }),
    )
    .await;
    let award = app
        .ok(
            "/api/v1/grants/SSF/awards",
            Role::Approver,
            json!({ "financial_year": "2023-24", "amount": "5000", "awarded_on": "2023-02-01" }),
        )
        .await;
    assert_eq!(award["unallocated"], "5000.00");
    app.project("V1", "VIOLENCE").await;
    app.allocate("SSF", "2023-24", "V1", "1000").await;
    let s = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("SSF", "V1", "2023-08-01", "1200")).await;
    assert_eq!(s["warnings"][0]["shortfall"], "200.00");
    assert_eq!(app.balance("available:SSF:2023-24:V1").await, "200.00");
    let again = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("SSF", "V1", "2023-08-02", "50")).await;
    assert_eq!(again["warnings"][0]["shortfall"], "50.00", "only the new part is reported");
    let dup = app
        .post(
            "/api/v1/grants/SSF/awards",
            Role::Approver,
            json!({ "financial_year": "2023-24", "amount": "1", "awarded_on": "2023-02-01" }),
        )
        .await;
    assert_eq!(dup.code(), "conflict");
    app.assert_verified().await;
});

backend_test!(money_and_dates_are_parsed_strictly, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let cases: &[(serde_json::Value, &str)] = &[
        (json!("1.234"), "more than two decimal places"),
        (json!("1e3"), "an exponent"),
        (json!("-5"), "a sign"),
        (json!("+5"), "a sign"),
        (json!("1,000"), "a separator"),
        (json!(" 5"), "a space"),
        (json!(5), "a JSON number"),
        (json!(5.5), "a JSON number"),
        (json!("1000000000.01"), "more than £1,000,000,000"),
        (json!("0"), "zero"),
        (json!(""), "empty"),
        (json!(null), "missing"),
        (json!(["5"]), "an array"),
    ];
    for (amount, why) in cases {
        let r = app
            .post(
                "/api/v1/allocations",
                Role::Approver,
                json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "amount": amount,
                        "approved_on": "2023-04-01", "approval_ref": "m" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "amount {amount} ({why}) should be refused");
        assert_eq!(r.fields(), ["amount"], "amount {amount} ({why})");
    }
    for (fy, ok) in [("2023/24", true), ("2023-24", true), ("2023-25", false), ("23-24", false)] {
        let r = app
            .post(
                "/api/v1/allocations",
                Role::Approver,
                json!({ "grant": "LDF", "financial_year": fy, "project": "P1", "amount": "1",
                        "approved_on": "2023-04-01", "approval_ref": "m" }),
            )
            .await;
        assert_eq!(r.status == StatusCode::CREATED, ok, "financial_year {fy}: {}", r.body);
    }
    for date in ["2023-02-30", "01/05/2023", "2023-5-1", "tomorrow"] {
        let r = app.post("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", date, "1")).await;
        assert_eq!(r.fields(), ["date"], "date {date}");
    }
    // A spend dated in a year with no award names the date.
    let r = app.post("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2021-05-01", "1")).await;
    assert_eq!(r.fields(), ["date"]);
    // A commitment dated outside its stated year.
    let r = app
        .post(
            "/api/v1/commitments",
            Role::Finance,
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "s", "amount": "1", "date": "2024-04-01" }),
        )
        .await;
    assert_eq!(r.fields(), ["date"], "{}", r.body);
    // Malformed JSON is a problem+json too.
    let r = app
        .call(Method::POST, "/api/v1/projects", Some(app.token(Role::Approver)), Some(json!("not an object")), &[])
        .await;
    assert_eq!(r.fields(), ["body"]);
    // Unknown query parameters and bad limits are named.
    let r = app.get("/api/v1/entries?finacial_year=2023-24", Role::Viewer).await;
    assert_eq!(r.fields(), ["finacial_year"]);
    let r = app.get("/api/v1/entries?limit=501", Role::Viewer).await;
    assert_eq!(r.fields(), ["limit"]);
    app.assert_verified().await;
});

backend_test!(lists_page_with_cursors, |app: TestApp| async move {
    for i in 0..7 {
        app.project(&format!("P{i}"), "ASB").await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/projects?limit=3".to_owned();
    loop {
        let r = app.get(&path, Role::Viewer).await;
        assert_eq!(r.status, StatusCode::OK);
        for p in r.body["items"].as_array().unwrap() {
            seen.push(p["code"].as_str().unwrap().to_owned());
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/projects?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ["P0", "P1", "P2", "P3", "P4", "P5", "P6"]);
    let r = app.get("/api/v1/projects?cursor=zz", Role::Viewer).await;
    assert_eq!(r.fields(), ["cursor"]);
});

backend_test!(closed_projects_take_no_new_money, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "100").await;
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/projects/P1",
            Some(app.token(Role::Approver)),
            Some(json!({ "status": "closed" })),
            &[],
        )
        .await;
    assert_eq!(r.body["status"], "closed");
    let r = app.post("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-05-02", "1")).await;
    assert_eq!(r.fields(), ["project"]);
    let r = app
        .call(Method::PATCH, "/api/v1/projects/P1", Some(app.token(Role::Approver)), Some(json!({ "code": "P9" })), &[])
        .await;
    assert_eq!(r.fields(), ["code"]);
});

backend_test!(tokens_are_shown_once_and_can_be_revoked, |app: TestApp| async move {
    let created = app.ok("/api/v1/tokens", Role::Admin, json!({ "name": "Jo Bloggs", "role": "finance" })).await;
    let secret = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_i64().unwrap();
    let listed = app.get("/api/v1/tokens", Role::Admin).await;
    assert!(!listed.body.to_string().contains(&secret), "the list never shows a secret");
    let r = app.call(Method::GET, "/api/v1/entries", Some(&secret), None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(app.token(Role::Admin)), None, &[]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.call(Method::GET, "/api/v1/entries", Some(&secret), None, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Only a hash is stored.
    use sqlx::Row;
    let rows = sqlx::query("select secret_hash from tokens").fetch_all(app.store.pool()).await.unwrap();
    assert!(rows.iter().all(|r| r.get::<String, _>("secret_hash") != secret));
    let r = app.post("/api/v1/tokens", Role::Admin, json!({ "name": "x", "role": "root" })).await;
    assert_eq!(r.fields(), ["role"]);
});

backend_test!(entries_and_postings_are_append_only_in_the_database, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "100").await;
    for sql in [
        "update postings set amount_pence = 1",
        "delete from postings",
        "update entries set memo = 'x'",
        "delete from entries",
    ] {
        let r = sqlx::query(sql).execute(app.store.pool()).await;
        assert!(r.is_err(), "{sql} should be refused by the database");
    }
    app.assert_verified().await;
});

backend_test!(verify_names_an_entry_altered_in_the_database, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "100").await;
    let s = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-05-01", "40")).await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-05-02", "10")).await;
    app.assert_verified().await;
    let id = s["entry_id"].as_i64().unwrap();
    // Someone with database access edits an amount, working round the append-only trigger,
    // and even fixes up the balances so the sums agree.
    let sqlite = app.store.backend() == grant_ledger::storage::Backend::Sqlite;
    let disable = if sqlite {
        "drop trigger postings_no_update"
    } else {
        "alter table postings disable trigger postings_append_only"
    };
    sqlx::query(disable).execute(app.store.pool()).await.unwrap();
    for (line, amount) in [(1, 1000), (2, -1000)] {
        sqlx::query(&format!("update postings set amount_pence = {amount} where entry_id = {id} and line = {line}"))
            .execute(app.store.pool())
            .await
            .unwrap();
    }
    sqlx::query("update balances set balance_pence = balance_pence - 3000 where account = 'available:LDF:2023-24:P1'")
        .execute(app.store.pool())
        .await
        .unwrap();
    sqlx::query("update balances set balance_pence = balance_pence + 3000 where account = 'spent:LDF:2023-24:P1'")
        .execute(app.store.pool())
        .await
        .unwrap();
    let problems = grant_ledger::storage::verify::verify(&app.store).await.unwrap();
    assert!(problems.iter().any(|p| p.starts_with(&format!("entry {id}: hash does not match"))), "{problems:#?}");
});

backend_test!(unknown_grants_and_projects_name_the_field, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let r = app.post("/api/v1/spend", Role::Finance, TestApp::spend_body("NOPE", "P1", "2023-05-01", "1")).await;
    assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["grant".to_owned()]), "{}", r.body);
    let r = app.post("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "NOPE", "2023-05-01", "1")).await;
    assert_eq!(r.fields(), ["project"]);
    let r = app
        .post(
            "/api/v1/allocations",
            Role::Approver,
            json!({ "grant": "LDF", "financial_year": "2025-26", "project": "P1", "amount": "1", "approved_on": "2025-04-01", "approval_ref": "m" }),
        )
        .await;
    assert_eq!(r.fields(), ["financial_year"], "LDF has no award for 2025-26: {}", r.body);
});

/// Logs written to a file or pipe carry no ANSI colour codes.
#[test]
fn logs_to_a_pipe_are_plain_text() {
    let path = std::env::temp_dir().join(format!("gl_plain_logs_{}.db", std::process::id()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
        .args(["init"])
        .env("DATABASE_URL", format!("sqlite://{}", path.display()))
        .env("RUST_LOG", "info")
        .output()
        .expect("running grant-ledger");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("loaded the Tamworth fixtures"), "a fresh ledger logs its fixtures: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "no escape codes in piped logs: {stderr:?}");
}

/// Every subcommand and every flag of the command line says what it is for.
#[test]
fn every_flag_has_help() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        let path = format!("{path} {}", cmd.get_name());
        if cmd.get_about().is_none() {
            missing.push(format!("{path}: no about"));
        }
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id != "help" && id != "version" && arg.get_help().is_none() {
                missing.push(format!("{path} --{id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &path, missing);
        }
    }
    let mut missing = Vec::new();
    walk(&grant_ledger::cli::Cli::command(), "", &mut missing);
    assert!(missing.is_empty(), "without help: {missing:#?}");
}

// The command line lists tokens without their secrets and revokes one, which the API then
// refuses; revoking an unknown or revoked token fails, naming it.
backend_test!(cli_lists_and_revokes_tokens, |app: TestApp| async move {
    let (ok, listed, stderr) = app.cli(&["token", "list"]);
    assert!(ok, "{stderr}");
    assert!(listed.contains("test finance") && listed.contains("finance"), "{listed}");
    assert!(!listed.contains(app.token(Role::Finance)), "no secret is listed");
    let id = listed
        .lines()
        .find(|l| l.ends_with("test finance"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned();
    let (ok, _, stderr) = app.cli(&["token", "revoke", &id]);
    assert!(ok, "{stderr}");
    let r = app.get("/api/v1/projects", Role::Finance).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "a revoked token is refused");
    let (_, listed, _) = app.cli(&["token", "list"]);
    let line = listed.lines().find(|l| l.ends_with("test finance")).unwrap();
    assert_eq!(line.matches('Z').count(), 2, "created_at and revoked_at are both shown: {line}");
    let (ok, _, stderr) = app.cli(&["token", "revoke", &id]);
    assert!(!ok && stderr.contains(&format!("live token {id}")), "{stderr}");
    let r = app.get(&format!("/api/v1/audit?entity=token&key={id}"), Role::Admin).await;
    assert_eq!(r.body["items"][0]["actor"], "command line (token revoke)", "{}", r.body);
});

// `serve --demo` on a ledger that holds records of its own refuses, says why and exits
// non-zero, before serving or writing anything: its illustrative data could never be removed.
backend_test!(demo_refuses_a_ledger_with_records, |app: TestApp| async move {
    app.project("REAL", "ASB").await;
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", &app.url)
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (status, stderr) = refused_start(child, "serve --demo started over a ledger with records instead of refusing");
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("--demo refused") && stderr.contains("1 project(s)"), "{stderr}");
    let r = app.get("/api/v1/projects", Role::Viewer).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "nothing of the demo was loaded: {}", r.body);
});

/// `serve --bind` on an address already in use names the address and exits non-zero.
#[test]
fn a_busy_bind_address_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let path = std::env::temp_dir().join(format!("gl_busy_bind_{}.db", std::process::id()));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
        .args(["serve", "--bind", &address])
        .env("DATABASE_URL", format!("sqlite://{}", path.display()))
        .env("GRANT_LEDGER_ADMIN_TOKEN", "a-test-admin-token-of-at-least-32-characters")
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (status, stderr) = refused_start(child, "serve started on an address already in use");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    assert!(!status.success());
    assert!(stderr.contains(&format!("cannot listen on {address}")), "{stderr}");
}

/// Waits for a `serve` that must refuse to start; kills it and fails with `otherwise` if it
/// is still running after 30 s. Returns its exit status and stderr.
fn refused_start(mut child: std::process::Child, otherwise: &str) -> (std::process::ExitStatus, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{otherwise}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    (status, stderr)
}

/// The README sends readers to the contract inside the repository: a clone has no files
/// beside it, so a link out of the project would lead nowhere.
#[test]
fn the_readme_links_only_to_files_in_the_repository() {
    let readme = include_str!("../../README.md");
    assert!(!readme.contains("../"), "the README links outside the project");
    assert!(readme.contains("(docs/api.md)"), "the README links the contract");
    for link in readme.split("](").skip(1).filter_map(|rest| rest.split(')').next()) {
        if link.starts_with("http") || link.starts_with('#') {
            continue;
        }
        let path = link.split('#').next().unwrap();
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        assert!(file.exists(), "the README links {link}, which is not in the repository");
    }
}
