//! Every page that takes a post, read from the served contract rather than listed by hand, so
//! a form added later is covered the day it is added: without the session's own form token, or
//! with another session's, it is refused (403, "This form was not accepted"); a viewer is
//! refused every recording form and every recording post; without a session nothing is
//! accepted; and none of those refusals writes anything.

use axum::http::{Method, StatusCode};
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::backend_test;
use crate::imports::HEADER;
use crate::pages::{send, sign_in};
use crate::support::TestApp;

/// The page posts a viewer may make: their own session and password.
const A_VIEWERS_OWN: &[&str] = &["/sign-out", "/account/password"];

/// How many rows the ledger's audit trail, entries and sessions hold: a refusal changes none
/// of the first two (the third only grows by the sessions the test opens).
async fn written(app: &TestApp) -> (i64, i64) {
    let count = |table: &'static str| async move {
        sqlx::query_scalar::<_, i64>(&format!("select count(*) from {table}"))
            .fetch_one(app.store.pool())
            .await
            .unwrap()
    };
    (count("audit_log").await, count("entries").await)
}

/// The id of the first row of `table`.
async fn first_id(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(&format!("select min(id) from {table}")).fetch_one(app.store.pool()).await.unwrap()
}

/// The contract's page paths (not under /api/) that answer `method`.
async fn page_paths(app: &TestApp, method: &str) -> Vec<String> {
    let doc = app.call(Method::GET, "/openapi.json", None, None, &[]).await.body;
    let paths = doc["paths"].as_object().expect("the contract's paths");
    paths
        .iter()
        .filter(|(path, item)| !path.starts_with("/api/") && item.get(method).is_some())
        .map(|(path, _)| path.clone())
        .collect()
}

/// `template` with each `{param}` replaced by a record the ledger holds.
fn fill(template: &str, records: &[(&str, String)]) -> String {
    let mut path = template.to_owned();
    while let Some(start) = path.find('{') {
        let end = start + path[start..].find('}').unwrap();
        let key = &path[start..=end];
        // An id names a record of the collection the path begins with.
        let lookup =
            if key == "{id}" { format!("{}/{key}", template.split('/').nth(1).unwrap()) } else { key.to_owned() };
        let value = records
            .iter()
            .find(|(k, _)| *k == lookup)
            .unwrap_or_else(|| panic!("{template}: no record for {lookup}; add one to this test"))
            .1
            .clone();
        path.replace_range(start..=end, &value);
    }
    path
}

backend_test!(every_page_post_needs_its_own_token_a_session_and_a_role_that_records, |app: TestApp| async move {
    // One record of each kind a page acts on by its id or code.
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "9000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-05-01", "100")).await;
    app.ok(
        "/api/v1/commitments",
        Role::Finance,
        json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "date": "2023-05-02",
                "amount": "200", "supplier": "Youth Trust", "reference": "PO-1" }),
    )
    .await;
    app.project("P2", "ASB").await;
    let waiting = app.post(
        "/api/v1/virements",
        Role::Approver,
        json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": "P1", "to_project": "P2",
                "amount": "6000", "approved_on": "2023-05-03", "approval_ref": "CSP-1",
                "reason": "waits for a second approver" }),
    );
    assert_eq!(waiting.await.status, StatusCode::ACCEPTED);
    let file = format!("{HEADER}2023-05-04,LDF,P1,Cafe,Lunch,INV-9,5,A-9\n");
    let kept = app.send_bytes(Method::POST, "/api/v1/imports", Role::Finance, "text/csv", file.into_bytes()).await;
    assert_eq!(kept.status, StatusCode::CREATED, "{:?}", kept.body);
    let user = app.post(
        "/api/v1/users",
        Role::Admin,
        json!({ "username": "casey", "display_name": "Casey", "role": "finance", "password": "a long enough password" }),
    );
    assert_eq!(user.await.status, StatusCode::CREATED);
    let records = vec![
        ("entries/{id}", first_id(&app, "entries").await.to_string()),
        ("commitments/{id}", first_id(&app, "commitments").await.to_string()),
        ("virements/{id}", first_id(&app, "virements").await.to_string()),
        ("imports/{id}", first_id(&app, "imports").await.to_string()),
        ("{code}", "P1".to_owned()),
        ("{username}", "casey".to_owned()),
        ("{grant}", "LDF".to_owned()),
        ("{fy}", "2023-24".to_owned()),
        ("{financial_year}", "2023-24".to_owned()),
        ("{quarter}", "1".to_owned()),
        ("{q}", "1".to_owned()),
    ];

    let admin = sign_in(&app, Role::Admin).await;
    let viewer = sign_in(&app, Role::Viewer).await;
    let form_token = |secret: String| {
        let app = &app;
        async move { send(app, "GET", "/dashboard?financial_year=2023-24", Some(&secret), None, &[]).await.form_token() }
    };
    let foreign = form_token(sign_in(&app, Role::Admin).await).await;
    let viewers = form_token(viewer.clone()).await;
    let before = written(&app).await;

    let posts = page_paths(&app, "post").await;
    assert!(posts.len() >= 30, "the contract lists the page posts: {posts:?}");
    for template in posts.iter().filter(|p| *p != "/sign-in") {
        let path = fill(template, &records);
        // Fields a form of any kind might read, so a refusal is not for want of a field.
        let fields = "reason=x&amount=1&grant=LDF&financial_year=2023-24&project=P1&date=2023-06-01&name=x";
        for (why, body) in [
            ("no form token", fields.to_owned()),
            ("a made-up form token", format!("{fields}&csrf_token=nope")),
            ("another session's form token", format!("{fields}&csrf_token={foreign}")),
        ] {
            let p = send(&app, "POST", &path, Some(&admin), Some(&body), &[]).await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "POST {path} with {why}: {}", p.text);
            assert!(p.is_html(), "POST {path} with {why}: an HTML page");
            assert!(p.text.contains("This form was not accepted"), "POST {path} with {why}: {}", p.text);
        }
        let p = send(&app, "POST", &path, None, Some(&format!("{fields}&csrf_token={foreign}")), &[]).await;
        assert!(
            p.status == StatusCode::FORBIDDEN || p.status == StatusCode::SEE_OTHER,
            "POST {path} without a session: {:?}",
            p.status
        );
        if p.status == StatusCode::SEE_OTHER {
            assert!(p.headers["location"].to_str().unwrap().starts_with("/sign-in"), "{path}: only to sign in");
        }
        if !A_VIEWERS_OWN.contains(&template.as_str()) {
            let p =
                send(&app, "POST", &path, Some(&viewer), Some(&format!("{fields}&csrf_token={viewers}")), &[]).await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "POST {path} as a viewer with its own token: {}", p.text);
            assert!(p.is_html(), "POST {path} as a viewer: an HTML page");
        }
    }
    assert_eq!(written(&app).await, before, "no refused post wrote an entry or an audit record");

    // The forms themselves: a viewer is shown none of them. A form page is a path that ends
    // in /new, or one below a collection that also takes the form's post (a collection's own
    // path, e.g. /commitments, is its list, which a viewer reads).
    let mut forms = 0;
    for template in page_paths(&app, "get").await {
        let below_a_collection = template.matches('/').count() > 1;
        let is_form = template.ends_with("/new") || (below_a_collection && posts.contains(&template));
        if !is_form || A_VIEWERS_OWN.contains(&template.as_str()) || template == "/sign-in" {
            continue;
        }
        let path = fill(&template, &records);
        let p = send(&app, "GET", &path, Some(&viewer), None, &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "GET {path} as a viewer: {}", p.text);
        let p = send(&app, "GET", &path, Some(&admin), None, &[]).await;
        assert_eq!(p.status, StatusCode::OK, "GET {path} as an admin: {}", p.text);
        assert!(p.text.contains("name=\"csrf_token\""), "GET {path}: the form carries its token");
        forms += 1;
    }
    assert!(forms >= 19, "the contract lists the form pages: {forms}");
});
