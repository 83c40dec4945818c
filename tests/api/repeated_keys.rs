//! A JSON body naming a field twice is refused, 422 naming the field, at every depth, on
//! every kind of body: before, `{"amount":"1", …, "amount":"900"}` posted £900.

use axum::http::{Method, StatusCode};
use grant_ledger::storage::tokens::Role;

use crate::backend_test;
use crate::support::TestApp;

/// Rows in the tables a refused request must leave alone.
async fn counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for table in ["entries", "commitments", "agreement_parts", "audit_log", "payment_schedules", "filed_returns"] {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(app.store.pool())
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        out.push(n);
    }
    out
}

backend_test!(a_body_naming_a_field_twice_is_refused_naming_it, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "5000").await;
    app.allocate("LDF", "2024-25", "P1", "5000").await;
    app.ok(
        "/api/v1/organisations",
        Role::Approver,
        serde_json::json!({ "code": "SAFE", "name": "Safer Streets Trust", "kind": "vcse" }),
    )
    .await;
    let before = counts(&app).await;
    let cases: [(Method, &str, Role, &str, &[&str]); 7] = [
        (
            Method::POST,
            "/api/v1/spend",
            Role::Finance,
            r#"{"grant":"LDF","project":"P1","date":"2023-05-01","supplier":"S","description":"D",
                "invoice_ref":"I","amount":"1","amount":"900"}"#,
            &["amount"],
        ),
        (
            Method::POST,
            "/api/v1/allocations",
            Role::Approver,
            r#"{"grant":"LDF","financial_year":"2023-24","project":"P1","project":"P1","amount":"10",
                "approved_on":"2023-04-01","approval_ref":"m","approval_ref":"m2"}"#,
            &["project", "approval_ref"],
        ),
        (
            // A repeat inside a nested schedule item is named with its place.
            Method::POST,
            "/api/v1/commitments",
            Role::Finance,
            r#"{"kind":"grant_agreement","grant":"LDF","financial_year":"2023-24","project":"P1",
                "reference":"GA-1","amount":"3000.00","date":"2023-09-20","recipient":"SAFE",
                "start_date":"2023-10-01","end_date":"2024-09-30","purpose":"Outreach",
                "schedule":[{"financial_year":"2023-24","amount":"1000.00"},
                            {"financial_year":"2024-25","amount":"2000.00","amount":"9000.00"}]}"#,
            &["schedule[1].amount"],
        ),
        (
            // A body that is a list: each item is named under the list.
            Method::PUT,
            "/api/v1/grants/LDF/awards/2023-24/payment-schedule",
            Role::Approver,
            r#"[{"due_on":"2023-05-01","amount":"100.00","condition":"c"},
                {"due_on":"2023-06-01","due_on":"2023-07-01","amount":"100.00","condition":"c"}]"#,
            &["schedule[1].due_on"],
        ),
        (Method::PATCH, "/api/v1/projects/P1", Role::Approver, r#"{"name":"Kept","name":"Renamed"}"#, &["name"]),
        (
            Method::POST,
            "/api/v1/returns",
            Role::Finance,
            r#"{"kind":"commissioner-return","financial_year":"2023-24","quarter":1,"quarter":2}"#,
            &["quarter"],
        ),
        (
            // The same key written two ways is the same key.
            Method::POST,
            "/api/v1/funders",
            Role::Operator,
            r#"{"code":"F1","name":"One","\u006eame":"Two"}"#,
            &["name"],
        ),
    ];
    for (method, path, role, body, named) in cases {
        let r = app.send_bytes(method.clone(), path, role, "application/json", body.as_bytes().to_vec()).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            "{method} {path}: {}",
            r.body
        );
        assert_eq!(r.fields(), named, "{method} {path}: {}", r.body);
        assert!(r.body["errors"][0]["message"].as_str().unwrap().contains("more than once"), "{}", r.body);
    }
    assert_eq!(counts(&app).await, before, "a refused body wrote something");
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "0.00");
    let p = app.get("/api/v1/projects/P1", Role::Viewer).await;
    assert_eq!(p.body["name"], "Project P1", "{}", p.body);
    // The same bodies with each field once are accepted: the refusal was the repeat alone.
    let once = r#"{"grant":"LDF","project":"P1","date":"2023-05-01","supplier":"S","description":"D",
                   "invoice_ref":"I","amount":"1"}"#;
    let r = app
        .send_bytes(Method::POST, "/api/v1/spend", Role::Finance, "application/json", once.as_bytes().to_vec())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-1.00");
});
