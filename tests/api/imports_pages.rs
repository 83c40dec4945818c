//! The import pages driven over HTTP as a browser posts them: the upload (multipart), the dry
//! run line by line, confirming, the import's page with its entries, and reversing it.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use grant_ledger::storage::tokens::Role;
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::backend_test;
use crate::forms::encode;
use crate::hostile_pages::{ESCAPED, HOSTILE};
use crate::imports::HEADER;
use crate::pages::{Page, send, sign_in};
use crate::support::TestApp;

const BOUNDARY: &str = "----grant-ledger-test-boundary";

/// Posts the upload form as a browser does: `fields` and the file, as multipart/form-data.
async fn upload(app: &TestApp, secret: &str, fields: &[(&str, &str)], file: Option<&str>) -> Page {
    let mut body = String::new();
    for (k, v) in fields {
        body += &format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n");
    }
    if let Some(f) = file {
        body += &format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"spend.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n{f}\r\n"
        );
    }
    body += &format!("--{BOUNDARY}--\r\n");
    let req = Request::builder()
        .method("POST")
        .uri("/imports")
        .header(header::COOKIE, format!("gl_session={secret}"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::from(body))
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Page { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
}

/// The upload form's token for a session.
async fn form_token(app: &TestApp, secret: &str) -> String {
    let form = send(app, "GET", "/imports/new", Some(secret), None, &[]).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    form.form_token()
}

fn location(p: &Page) -> String {
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    p.headers[header::LOCATION].to_str().unwrap().to_owned()
}

/// Uploads `file` and answers the import page's path.
async fn kept(app: &TestApp, secret: &str, file: &str) -> String {
    let token = form_token(app, secret).await;
    location(&upload(app, secret, &[("csrf_token", &token), ("mapping", "generic")], Some(file)).await)
}

backend_test!(an_upload_is_shown_line_by_line_confirmed_and_reversed, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let finance = sign_in(&app, Role::Finance).await;
    let form = send(&app, "GET", "/imports/new", Some(&finance), None, &[]).await;
    assert!(form.text.contains("enctype=\"multipart/form-data\""), "{}", form.text);
    assert!(form.text.contains("<option value=\"transparency\""), "the layouts are offered: {}", form.text);

    // Accepted, duplicate (the same source_ref twice) and refused lines, each with its reason.
    let file = format!(
        "{HEADER}2023-05-01,LDF,P1,Youth Trust,Sessions,INV-1,400,A-1\n2023-05-02,LDF,P1,Cafe,Lunch,INV-2,5,A-1\n\
         2023-05-03,LDF,NOPE,Cafe,Lunch,INV-3,5,A-3\n"
    );
    let path = kept(&app, &finance, &file).await;
    let page = send(&app, "GET", &path, Some(&finance), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    for (class, word) in [("line-accepted", "Accepted"), ("line-duplicate", "Duplicate"), ("line-refused", "Refused")] {
        assert!(page.text.contains(&format!("class=\"{class}\"><td>")), "{class}: {}", page.text);
        assert!(page.text.contains(word));
    }
    assert!(page.text.contains("repeats line 2 by its source_ref"), "{}", page.text);
    assert!(page.text.contains("id=\"cannot-confirm\""), "a refused line: no confirm form");

    // A clean file: confirm, and the import's page lists the entries it made.
    let path = kept(&app, &finance, &format!("{HEADER}2023-05-01,LDF,P1,Youth Trust,Sessions,INV-1,400,A-1\n")).await;
    let id: i64 = path.strip_prefix("/imports/").unwrap().parse().unwrap();
    let page = send(&app, "GET", &path, Some(&finance), None, &[]).await;
    assert!(page.text.contains("id=\"confirm-form\""), "{}", page.text);
    let token = page.form_token();
    let confirmed =
        send(&app, "POST", &format!("{path}/confirm"), Some(&finance), Some(&encode(&[("csrf_token", &token)])), &[])
            .await;
    assert_eq!(location(&confirmed), path);
    let record = app.get(&format!("/api/v1/imports/{id}"), Role::Viewer).await;
    let entry = record.body["entries"][0]["entry_id"].as_i64().unwrap();
    let page = send(&app, "GET", &path, Some(&finance), None, &[]).await;
    assert!(page.text.contains(&format!("<a href=\"/entries/{entry}\">{entry}</a>")), "{}", page.text);
    assert!(page.text.contains("id=\"reverse-form\""));

    // Confirming again is refused on the page, saying so.
    let again =
        send(&app, "POST", &format!("{path}/confirm"), Some(&finance), Some(&encode(&[("csrf_token", &token)])), &[])
            .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert!(again.text.contains("role=\"alert\"") && again.text.contains("already confirmed"), "{}", again.text);

    // Reversing without a reason: the page again, the error beside the field.
    let blank = send(
        &app,
        "POST",
        &format!("{path}/reverse"),
        Some(&finance),
        Some(&encode(&[("csrf_token", &token), ("reason", "")])),
        &[],
    )
    .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", blank.text);
    assert!(blank.text.contains("id=\"reason-error\""), "{}", blank.text);
    let reversed = send(
        &app,
        "POST",
        &format!("{path}/reverse"),
        Some(&finance),
        Some(&encode(&[("csrf_token", &token), ("reason", "the wrong month's file"), ("date", "")])),
        &[],
    )
    .await;
    assert_eq!(location(&reversed), path);
    let record = app.get(&format!("/api/v1/imports/{id}"), Role::Viewer).await;
    assert!(record.body["entries"][0]["reversed_by"].is_i64(), "{}", record.body);
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "0.00");
    app.assert_verified().await;
});

backend_test!(reversing_from_the_page_is_refused_naming_an_entry_reversed_already, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let finance = sign_in(&app, Role::Finance).await;
    let file = format!(
        "{HEADER}2023-05-01,LDF,P1,Youth Trust,Sessions,INV-1,400,A-1\n2023-05-03,LDF,P1,Cafe,Lunch,INV-2,50,A-2\n"
    );
    let path = kept(&app, &finance, &file).await;
    let id: i64 = path.strip_prefix("/imports/").unwrap().parse().unwrap();
    let confirmed = app.post(&format!("/api/v1/imports/{id}/confirm"), Role::Finance, serde_json::json!({})).await;
    let second = confirmed.body["entries"][1]["entry_id"].as_i64().unwrap();
    app.ok(
        &format!("/api/v1/entries/{second}/reverse"),
        Role::Finance,
        serde_json::json!({ "date": "2023-05-04", "reason": "r" }),
    )
    .await;
    let token = form_token(&app, &finance).await;
    let refused = send(
        &app,
        "POST",
        &format!("{path}/reverse"),
        Some(&finance),
        Some(&encode(&[("csrf_token", &token), ("reason", "wrong file")])),
        &[],
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(refused.text.contains(&format!("entry {second} of import {id}")), "{}", refused.text);
    assert!(refused.text.contains("wrong file"), "the reason is kept: {}", refused.text);
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-400.00", "nothing was reversed");
});

backend_test!(import_pages_refuse_a_viewer_a_forged_form_and_escape_the_file, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let viewer = sign_in(&app, Role::Viewer).await;
    assert_eq!(send(&app, "GET", "/imports/new", Some(&viewer), None, &[]).await.status, StatusCode::FORBIDDEN);
    let finance = sign_in(&app, Role::Finance).await;
    let file = format!("{HEADER}2023-05-01,LDF,P1,Youth Trust,Sessions,INV-1,400,A-1\n");

    // No token, or another session's: refused before anything is kept.
    let forged = upload(&app, &finance, &[("mapping", "generic")], Some(&file)).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text);
    let viewer_token = {
        let p = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&viewer), None, &[]).await;
        p.form_token()
    };
    let other = upload(&app, &finance, &[("csrf_token", &viewer_token)], Some(&file)).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let token = form_token(&app, &finance).await;
    let no_file = upload(&app, &finance, &[("csrf_token", &token)], None).await;
    assert_eq!(no_file.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", no_file.text);
    assert!(no_file.text.contains("id=\"file-error\""), "{}", no_file.text);
    let bad_layout = upload(&app, &finance, &[("csrf_token", &token), ("mapping", "nope")], Some(&file)).await;
    assert_eq!(bad_layout.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_layout.text.contains("id=\"mapping-error\""), "{}", bad_layout.text);
    let kept_rows = app.get("/api/v1/audit?entity=import", Role::Admin).await;
    assert_eq!(kept_rows.body["items"].as_array().unwrap().len(), 0, "nothing kept: {}", kept_rows.body);

    // A viewer reads the import but may not confirm it.
    let path = kept(&app, &finance, &file).await;
    let seen = send(&app, "GET", &path, Some(&viewer), None, &[]).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(!seen.text.contains("id=\"confirm-form\""));
    let denied = send(
        &app,
        "POST",
        &format!("{path}/confirm"),
        Some(&viewer),
        Some(&encode(&[("csrf_token", &viewer_token)])),
        &[],
    )
    .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let funder = sign_in(&app, Role::Funder).await;
    assert_eq!(send(&app, "GET", &path, Some(&funder), None, &[]).await.status, StatusCode::FORBIDDEN);

    // Hostile text in the file, recorded as a supplier and shown back: escaped.
    let hostile = HOSTILE.replace('"', "\"\"");
    let path = kept(&app, &finance, &format!("{HEADER}2023-05-01,LDF,P1,\"{hostile}\",D,I,1,H-1\n")).await;
    let page = send(&app, "GET", &path, Some(&finance), None, &[]).await;
    let token = page.form_token();
    let confirmed =
        send(&app, "POST", &format!("{path}/confirm"), Some(&finance), Some(&encode(&[("csrf_token", &token)])), &[])
            .await;
    assert_eq!(location(&confirmed), path);
    let page = send(&app, "GET", &path, Some(&finance), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(!page.text.contains(HOSTILE), "unescaped: {}", page.text);
    assert!(page.text.contains(ESCAPED), "{}", page.text);
});
