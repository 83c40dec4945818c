//! Imports kept under an id, through the API: the dry run line by line, confirming it once,
//! the entries carrying the import's id, and reversing them all in one `db_tx`.

use axum::http::{Method, StatusCode};
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};
use sqlx::Row;

use crate::backend_test;
use crate::support::{Reply, TestApp};

pub const HEADER: &str = "date,grant,project,supplier,description,invoice_ref,amount,source_ref\n";

pub async fn dry_run(app: &TestApp, csv: &str) -> Reply {
    app.send_bytes(Method::POST, "/api/v1/imports?mapping=generic", Role::Finance, "text/csv", csv.into()).await
}

/// Each line's (line, outcome, field) as the outcome lists them.
fn lines(outcome: &Value) -> Vec<(u64, String, Option<String>)> {
    outcome["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["line"].as_u64().unwrap(),
                l["outcome"].as_str().unwrap().to_owned(),
                l["field"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// The import id each entry carries in its column, by entry id.
async fn import_ids(app: &TestApp) -> Vec<(i64, Option<i64>)> {
    sqlx::query("select id, import_id from entries where import_id is not null order by id")
        .fetch_all(app.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("id"), r.get("import_id")))
        .collect()
}

backend_test!(a_dry_run_is_kept_line_by_line_and_confirmed_once, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let mut first = TestApp::spend_body("LDF", "P1", "2023-04-10", "100");
    first["source_ref"] = json!("OLD-1");
    app.ok("/api/v1/spend", Role::Finance, first).await;
    let file = format!(
        "{HEADER}2023-05-01,LDF,P1,Youth Trust,Sessions,INV-1,400,A-1\n2023-05-01,LDF,P1,S,D,I,100,OLD-1\n\
         2023-05-02,LDF,NOPE,S,D,I,5,A-2\n"
    );
    let kept = dry_run(&app, &file).await;
    assert_eq!(kept.status, StatusCode::CREATED, "{}", kept.body);
    let id = kept.body["id"].as_i64().unwrap();
    assert_eq!(
        lines(&kept.body["outcome"]),
        [
            (2, "accepted".to_owned(), None),
            (3, "duplicate".to_owned(), None),
            (4, "refused".to_owned(), Some("project".to_owned())),
        ]
    );
    assert!(kept.body["outcome"]["lines"][1]["reason"].as_str().unwrap().contains("source_ref"), "{}", kept.body);
    assert!(kept.body["confirmed_at"].is_null());
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-100.00", "a dry run posts nothing");

    // With a line refused, confirming records nothing and answers the outcome again.
    let refused = app.post(&format!("/api/v1/imports/{id}/confirm"), Role::Finance, json!({})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(lines(&refused.body["outcome"])[2].1, "refused");
    assert!(import_ids(&app).await.is_empty());

    let good = dry_run(&app, &format!("{HEADER}2023-05-01,LDF,P1,Youth Trust,Sessions,INV-1,400,A-1\n")).await;
    let id = good.body["id"].as_i64().unwrap();
    let confirmed = app.post(&format!("/api/v1/imports/{id}/confirm"), Role::Finance, json!({})).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert_eq!(confirmed.body["confirmed_by"], "test finance");
    let entry = confirmed.body["entries"][0]["entry_id"].as_i64().unwrap();
    assert_eq!(import_ids(&app).await, [(entry, Some(id))], "the entry carries the import's id");
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-500.00");
    let read = app.get(&format!("/api/v1/imports/{id}"), Role::Viewer).await;
    assert_eq!(read.body["entries"][0]["spent"], "400.00", "{}", read.body);

    let again = app.post(&format!("/api/v1/imports/{id}/confirm"), Role::Finance, json!({})).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "conflict"), "{}", again.body);
    assert_eq!(import_ids(&app).await.len(), 1, "a second confirm is not a second import");
    app.assert_verified().await;
});

backend_test!(reversing_an_import_reverses_every_entry_at_once, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let file = format!(
        "{HEADER}2023-05-01,LDF,P1,Youth Trust,Sessions,INV-1,400,A-1\n2023-05-03,LDF,P1,Cafe,Lunch,INV-2,50,A-2\n"
    );
    let id = dry_run(&app, &file).await.body["id"].as_i64().unwrap();
    let early = app.post(&format!("/api/v1/imports/{id}/reverse"), Role::Finance, json!({ "reason": "x" })).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "not confirmed: {}", early.body);
    let confirmed = app.post(&format!("/api/v1/imports/{id}/confirm"), Role::Finance, json!({})).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-450.00");

    let no_reason = app.post(&format!("/api/v1/imports/{id}/reverse"), Role::Finance, json!({})).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_reason.fields(), ["reason"]);
    let viewer = app.post(&format!("/api/v1/imports/{id}/reverse"), Role::Viewer, json!({ "reason": "x" })).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);

    let reversed = app
        .post(&format!("/api/v1/imports/{id}/reverse"), Role::Finance, json!({ "reason": "the wrong month's file" }))
        .await;
    assert_eq!(reversed.status, StatusCode::OK, "{}", reversed.body);
    assert_eq!(reversed.body["reverse_reason"], "the wrong month's file");
    assert!(
        reversed.body["entries"].as_array().unwrap().iter().all(|e| e["reversed_by"].is_i64()),
        "{}",
        reversed.body
    );
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "0.00");
    let again = app.post(&format!("/api/v1/imports/{id}/reverse"), Role::Finance, json!({ "reason": "x" })).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let audit = app.get("/api/v1/audit?entity=import", Role::Admin).await;
    let actions: Vec<&str> =
        audit.body["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert!(["create", "confirm", "reverse"].iter().all(|a| actions.contains(a)), "{actions:?}");
    app.assert_verified().await;
});

backend_test!(an_import_is_not_reversed_when_one_entry_was_already, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let file = format!(
        "{HEADER}2023-05-01,LDF,P1,Youth Trust,Sessions,INV-1,400,A-1\n2023-05-03,LDF,P1,Cafe,Lunch,INV-2,50,A-2\n"
    );
    let id = dry_run(&app, &file).await.body["id"].as_i64().unwrap();
    let confirmed = app.post(&format!("/api/v1/imports/{id}/confirm"), Role::Finance, json!({})).await;
    let second = confirmed.body["entries"][1]["entry_id"].as_i64().unwrap();
    app.ok(&format!("/api/v1/entries/{second}/reverse"), Role::Finance, json!({ "date": "2023-05-04", "reason": "r" }))
        .await;
    let refused =
        app.post(&format!("/api/v1/imports/{id}/reverse"), Role::Finance, json!({ "reason": "wrong file" })).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("entry {second} ")), "names the entry: {detail}");
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-400.00", "nothing was reversed");

    // A refund naming one of its spends draws on it: refused, naming the spend.
    let first = confirmed.body["entries"][0]["entry_id"].as_i64().unwrap();
    let other = dry_run(&app, &format!("{HEADER}2023-06-01,LDF,P1,Youth Trust,More,INV-9,100,B-1\n")).await;
    let other_id = other.body["id"].as_i64().unwrap();
    let other_confirmed = app.post(&format!("/api/v1/imports/{other_id}/confirm"), Role::Finance, json!({})).await;
    let spend = other_confirmed.body["entries"][0]["entry_id"].as_i64().unwrap();
    app.ok(
        "/api/v1/refunds",
        Role::Finance,
        json!({ "grant": "LDF", "project": "P1", "date": "2023-06-10",
                "reference": "CN-1", "reason": "overcharged", "amount": "10", "spend_entry_id": spend }),
    )
    .await;
    let drawn =
        app.post(&format!("/api/v1/imports/{other_id}/reverse"), Role::Finance, json!({ "reason": "wrong" })).await;
    assert_eq!(drawn.status, StatusCode::CONFLICT, "{}", drawn.body);
    assert!(drawn.body["detail"].as_str().unwrap().contains(&format!("entry {spend} ")), "{}", drawn.body);
    assert_ne!(first, spend);
    app.assert_verified().await;
});

backend_test!(a_confirm_after_the_ledger_moved_shows_the_new_outcome, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "500").await;
    let id = dry_run(&app, &format!("{HEADER}2023-05-01,LDF,P1,Youth Trust,Sessions,INV-1,400,A-1\n")).await.body["id"]
        .as_i64()
        .unwrap();
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-04-10", "300")).await;
    let now = app.post(&format!("/api/v1/imports/{id}/confirm"), Role::Finance, json!({})).await;
    assert_eq!(now.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", now.body);
    assert_eq!(lines(&now.body["outcome"]), [(2, "refused".to_owned(), Some("amount".to_owned()))]);
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-300.00", "nothing recorded");
    let kept = app.get(&format!("/api/v1/imports/{id}"), Role::Finance).await;
    assert!(kept.body["confirmed_at"].is_null(), "still to confirm: {}", kept.body);
});

backend_test!(imports_are_for_finance_and_hidden_from_funders, |app: TestApp| async move {
    let file = format!("{HEADER}2023-05-01,LDF,P1,S,D,I,1,A-1\n");
    let viewer = app.send_bytes(Method::POST, "/api/v1/imports", Role::Viewer, "text/csv", file.clone().into()).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    let bad = app.send_bytes(Method::POST, "/api/v1/imports?mapping=x", Role::Finance, "text/csv", file.into()).await;
    assert_eq!((bad.status, bad.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["mapping".to_owned()]));
    // A file that cannot be read line by line is refused, naming why, and not kept.
    let unreadable = dry_run(&app, "date,grant\n").await;
    assert_eq!(unreadable.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unreadable.body);
    assert_eq!(unreadable.body["outcome"]["lines"][0]["outcome"], "refused", "{}", unreadable.body);
    assert_eq!(unreadable.body["errors"][0]["line"], 1, "{}", unreadable.body);
    let kept = app.get("/api/v1/audit?entity=import", Role::Admin).await;
    assert_eq!(kept.body["items"].as_array().unwrap().len(), 0, "nothing kept: {}", kept.body);
    let id = dry_run(&app, &format!("{HEADER}2023-05-01,LDF,P1,S,D,I,1,A-1\n")).await.body["id"].as_i64().unwrap();
    assert_eq!(app.get(&format!("/api/v1/imports/{id}"), Role::Funder).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/imports/999999", Role::Viewer).await.status, StatusCode::NOT_FOUND);
    let viewer = app.post(&format!("/api/v1/imports/{id}/confirm"), Role::Viewer, json!({})).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
});
