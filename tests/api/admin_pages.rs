//! The year's controls from the pages, over HTTP as a browser posts them: a year's page, its
//! quarters locked and unlocked in order (the API's rules shown on the form), an award's year
//! end, closing and reopening the year, and filing a return to the filed return's page.

use axum::http::{StatusCode, header};
use grant_ledger::storage::tokens::Role;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::backend_test;
use crate::forms::{element, encode};
use crate::hostile_pages::{ESCAPED, HOSTILE};
use crate::pages::{Page, send, sign_in};
use crate::support::TestApp;

const YEAR: &str = "/financial-years/2023-24";

/// Opens the form at `path` as `secret`'s session and posts `fields` to it with its token.
async fn post_form(app: &TestApp, secret: &str, path: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    let form = send(app, "GET", path, Some(secret), None, &[]).await;
    assert_eq!(form.status, StatusCode::OK, "{path}: {}", form.text);
    assert!(form.text.contains(&format!("action=\"{action}\"")), "{path}: {}", form.text);
    let body = format!("{}&csrf_token={}", encode(fields), form.form_token());
    send(app, "POST", action, Some(secret), Some(&body), &[]).await
}

/// 2023-24's status, as the API lists it.
async fn year_status(app: &TestApp) -> String {
    let years = app.get("/api/v1/financial-years", Role::Viewer).await;
    let items = years.body["items"].as_array().expect("a page of years");
    let year = items.iter().find(|y| y["code"] == "2023-24").expect("2023-24");
    year["status"].as_str().unwrap().to_owned()
}

fn lock_path(q: u8) -> String {
    format!("{YEAR}/quarters/{q}/lock")
}

backend_test!(quarters_lock_and_unlock_from_the_year_page_in_order, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let admin = sign_in(&app, Role::Admin).await;
    let dashboard = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&admin), None, &[]).await;
    assert!(dashboard.text.contains(&format!("id=\"year-page\" href=\"{YEAR}\"")), "{}", dashboard.text);
    let page = send(&app, "GET", YEAR, Some(&admin), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("<h1>Financial year 2023-24</h1>"), "{}", page.text);
    for q in 1..=4 {
        assert!(page.text.contains(&format!("href=\"{}\"", lock_path(q))), "Q{q}: {}", page.text);
    }

    // An earlier quarter still open: 409, the form again naming it, the reason kept.
    let p = post_form(&app, &admin, &lock_path(2), &lock_path(2), &[("reason", "Q2 return filed")]).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.text);
    let alert = &p.text[p.text.find("role=\"alert\"").expect("a summary")..];
    assert!(alert.contains("Q1"), "names the open quarter: {alert}");
    assert!(p.text.contains(">Q2 return filed</textarea>"), "{}", p.text);
    // No reason: 422, beside the field.
    let p = post_form(&app, &admin, &lock_path(1), &lock_path(1), &[("reason", "")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(element(&p.text, "reason-error").len() > "id=\"reason-error\">".len(), "{}", p.text);
    assert!(p.text.contains("<a href=\"#reason\">"), "{}", p.text);

    // Locked: back to the year's page, which shows it; the API agrees, by the person.
    let p = post_form(&app, &admin, &lock_path(1), &lock_path(1), &[("reason", HOSTILE)]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    assert_eq!(p.headers[header::LOCATION], YEAR);
    let page = send(&app, "GET", YEAR, Some(&admin), None, &[]).await;
    assert!(page.text.contains(&format!("href=\"{YEAR}/quarters/1/unlock\"")), "{}", page.text);
    assert!(!page.text.contains("<script>") && !page.text.contains("<img"), "{}", page.text);
    assert!(page.text.contains(ESCAPED), "the reason, escaped: {}", page.text);
    let states = app.get("/api/v1/financial-years/2023-24/quarters", Role::Viewer).await;
    assert_eq!(states.body[0]["locked"], true, "{}", states.body);
    assert_eq!(states.body[0]["changed_by"], "test admin");
    assert_eq!(states.body[0]["reason"], HOSTILE);

    // A spend dated in it is refused; Q2 locks now.
    let r = app.post("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-05-01", "10")).await;
    assert_eq!(r.code(), "period_closed", "{}", r.body);
    let p = post_form(&app, &admin, &lock_path(2), &lock_path(2), &[("reason", "Q2 return filed")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    // Unlocking Q1 under a locked Q2 is refused, naming Q2; Q2 unlocks.
    let unlock = |q: u8| format!("{YEAR}/quarters/{q}/unlock");
    let p = post_form(&app, &admin, &unlock(1), &unlock(1), &[("reason", "mistake")]).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.text);
    assert!(p.text[p.text.find("role=\"alert\"").unwrap()..].contains("Q2"), "{}", p.text);
    let p = post_form(&app, &admin, &unlock(2), &unlock(2), &[("reason", "late invoice")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    let states = app.get("/api/v1/financial-years/2023-24/quarters", Role::Viewer).await;
    assert_eq!((states.body[0]["locked"].clone(), states.body[1]["locked"].clone()), (json!(true), json!(false)));

    // No such quarter or year: pages saying so.
    let p = send(&app, "GET", &format!("{YEAR}/quarters/5/lock"), Some(&admin), None, &[]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.is_html());
    let p = send(&app, "GET", "/financial-years/2031-32", Some(&admin), None, &[]).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(p.is_html());
});

backend_test!(the_controls_need_a_session_an_admin_and_its_own_token, |app: TestApp| async move {
    // No session: to sign in, and back to the form.
    let p = send(&app, "GET", &lock_path(1), None, None, &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.headers[header::LOCATION], "/sign-in?next=/financial-years/2023-24/quarters/1/lock");
    // Every role reads the year's page; a viewer, a finance officer and an approver reach
    // no admin form, nor post one with a good token.
    let admin = sign_in(&app, Role::Admin).await;
    let admin_form = send(&app, "GET", &lock_path(1), Some(&admin), None, &[]).await;
    for role in [Role::Viewer, Role::Finance, Role::Approver] {
        let who = sign_in(&app, role).await;
        assert_eq!(send(&app, "GET", YEAR, Some(&who), None, &[]).await.status, StatusCode::OK);
        for path in [lock_path(1), format!("{YEAR}/close"), format!("{YEAR}/reopen")] {
            let p = send(&app, "GET", &path, Some(&who), None, &[]).await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "{role:?} {path}: {}", p.text);
            assert!(p.is_html() && p.text.contains("Not allowed"), "{}", p.text);
        }
        let d = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&who), None, &[]).await;
        let body = format!("reason=r&csrf_token={}", d.form_token());
        let p = send(&app, "POST", &lock_path(1), Some(&who), Some(&body), &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{role:?}: {}", p.text);
    }
    let viewer = sign_in(&app, Role::Viewer).await;
    for path in ["/returns/new", "/grants/LDF/awards/2023-24/year-end"] {
        let p = send(&app, "GET", path, Some(&viewer), None, &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}: {}", p.text);
    }
    // An admin without a token, with another session's, or from another origin: refused.
    let other = sign_in(&app, Role::Admin).await;
    let others_form = send(&app, "GET", &lock_path(1), Some(&other), None, &[]).await;
    for body in ["reason=r".to_owned(), format!("reason=r&csrf_token={}", others_form.form_token())] {
        let p = send(&app, "POST", &lock_path(1), Some(&admin), Some(&body), &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{body}: {}", p.text);
        assert!(p.text.contains("This form was not accepted"), "{}", p.text);
    }
    let body = format!("reason=r&csrf_token={}", admin_form.form_token());
    let p = send(&app, "POST", &lock_path(1), Some(&admin), Some(&body), &[("origin", "https://evil.example")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = send(&app, "POST", "/returns", Some(&admin), Some("kind=commissioner-return"), &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let states = app.get("/api/v1/financial-years/2023-24/quarters", Role::Viewer).await;
    assert_eq!(states.body[0]["locked"], false, "nothing was locked");
    assert_eq!(app.get("/api/v1/returns", Role::Viewer).await.body["items"], json!([]), "nothing was filed");
});

backend_test!(year_end_then_close_and_reopen_from_the_pages, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "10000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2024-02-01", "4000")).await;
    let admin = sign_in(&app, Role::Admin).await;
    let page = send(&app, "GET", YEAR, Some(&admin), None, &[]).await;
    let year_end = "/grants/LDF/awards/2023-24/year-end";
    assert!(page.text.contains(&format!("href=\"{year_end}\"")), "{}", page.text);

    // Closing first is refused, with what is unresolved.
    let close = format!("{YEAR}/close");
    let p = post_form(&app, &admin, &close, &close, &[("reason", "")]).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.text);
    assert!(p.text.contains("unallocated:LDF:2023-24 holds 51394.00"), "{}", p.text);

    // The award's figures; a split that does not add up: 422 beside carry_forward, naming
    // the unspent money (51,394 unallocated + 6,000 available), the values kept.
    let approver = sign_in(&app, Role::Approver).await;
    let form = send(&app, "GET", year_end, Some(&approver), None, &[]).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(element(&form.text, "award-unallocated").ends_with(">£51,394.00"), "{}", form.text);
    for field in ["carry_forward", "return_to_funder", "date"] {
        assert!(form.text.contains(&format!("<label for=\"{field}\">")), "{field}");
    }
    let wrong = [("carry_forward", "40000"), ("return_to_funder", "17000"), ("date", ""), ("reason", "agreed")];
    let p = post_form(&app, &approver, year_end, year_end, &wrong).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(element(&p.text, "carry_forward-error").contains("57394.00"), "{}", p.text);
    assert!(element(&p.text, "return_to_funder").contains("value=\"17000\""), "{}", p.text);
    let bad = [("carry_forward", "-1"), ("return_to_funder", "x"), ("date", "2023-13-01"), ("reason", "")];
    let p = post_form(&app, &approver, year_end, year_end, &bad).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    for field in ["carry_forward", "return_to_funder", "date", "reason"] {
        assert!(p.text.contains(&format!("id=\"{field}-error\"")), "{field}: {}", p.text);
    }
    let good = [("carry_forward", "40000"), ("return_to_funder", "17394"), ("date", ""), ("reason", HOSTILE)];
    let p = post_form(&app, &approver, year_end, year_end, &good).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    assert_eq!(p.headers[header::LOCATION], YEAR);
    assert_eq!(app.balance("carried:LDF:2023-24").await, "-40000.00");
    assert_eq!(app.balance("returned:LDF:2023-24").await, "-17394.00");
    let entries = app.get("/api/v1/entries?kind=year_end", Role::Viewer).await;
    assert_eq!(entries.body["items"][0]["created_by"], "test approver", "{}", entries.body);

    // Closed, then reopened with a reason; each back to the year's page, which says so.
    let p = post_form(&app, &admin, &close, &close, &[("reason", "")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    assert_eq!(p.headers[header::LOCATION], YEAR);
    let page = send(&app, "GET", YEAR, Some(&admin), None, &[]).await;
    assert!(element(&page.text, "year-state").contains("<strong>closed"), "{}", page.text);
    assert_eq!(year_status(&app).await, "closed");
    // A year end in a closed year: 409, the form again.
    let p = post_form(&app, &approver, year_end, year_end, &good).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.text);
    assert!(p.text.contains("role=\"alert\""));
    let reopen = format!("{YEAR}/reopen");
    let p = post_form(&app, &admin, &reopen, &reopen, &[("reason", "")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "a reason is needed: {}", p.text);
    assert!(p.text.contains("id=\"reason-error\""), "{}", p.text);
    let p = post_form(&app, &admin, &reopen, &reopen, &[("reason", HOSTILE)]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    assert_eq!(year_status(&app).await, "open");
    let p = post_form(&app, &admin, &reopen, &reopen, &[("reason", HOSTILE)]).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "open already: {}", p.text);
    assert!(!p.text.contains("<script>") && p.text.contains(ESCAPED), "{}", p.text);
    app.assert_verified().await;
});

backend_test!(a_return_filed_from_its_form_shows_its_sha256_and_downloads_its_bytes, |app: TestApp| async move {
    let admin = sign_in(&app, Role::Admin).await;
    let page = send(&app, "GET", YEAR, Some(&admin), None, &[]).await;
    let link = "/returns/new?financial_year=2023-24&amp;quarter=1";
    assert!(page.text.contains(&format!("href=\"{link}\"")), "{}", page.text);
    let form = send(&app, "GET", "/returns/new?financial_year=2023-24&quarter=1", Some(&admin), None, &[]).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(element(&form.text, "financial_year").contains("value=\"2023-24\""), "filled in: {}", form.text);
    assert!(element(&form.text, "quarter").contains("value=\"1\""), "{}", form.text);
    assert!(form.text.contains("<option value=\"commissioner-return\">"), "{}", form.text);

    // Bad fields, each beside its own, escaped.
    let bad = [("kind", HOSTILE), ("financial_year", HOSTILE), ("quarter", HOSTILE)];
    let p = post_form(&app, &admin, "/returns/new", "/returns", &bad).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(!p.text.contains("<script>") && !p.text.contains("<img"), "{}", p.text);
    for (field, _) in bad {
        assert!(p.text.contains(&format!("id=\"{field}-error\"")), "{field}: {}", p.text);
    }
    assert!(element(&p.text, "quarter").contains(&format!("value=\"{ESCAPED}\"")), "{}", p.text);
    let p = post_form(
        &app,
        &admin,
        "/returns/new",
        "/returns",
        &[("kind", "commissioner-return"), ("financial_year", "2031-32"), ("quarter", "1")],
    )
    .await;
    assert!(p.status.is_client_error() && p.text.contains("role=\"alert\""), "{}: {}", p.status, p.text);

    // Filed: to its page, by the person, its SHA-256 that of the bytes it downloads.
    let good = [("kind", "commissioner-return"), ("financial_year", "2023-24"), ("quarter", "1")];
    let p = post_form(&app, &admin, "/returns/new", "/returns", &good).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    let location = p.headers[header::LOCATION].to_str().unwrap().to_owned();
    let id: i64 = location.strip_prefix("/returns/").and_then(|i| i.parse().ok()).expect(&location);
    let record = app.get(&format!("/api/v1/returns/{id}"), Role::Viewer).await;
    assert_eq!(record.body["filed_by"], "test admin");
    let sha = record.body["sha256"].as_str().unwrap().to_owned();
    let viewer = sign_in(&app, Role::Viewer).await;
    let page = send(&app, "GET", &location, Some(&viewer), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(element(&page.text, "return-sha256").ends_with(&format!(">{sha}")), "{}", page.text);
    assert!(element(&page.text, "return-filed-by").ends_with(">test admin"), "{}", page.text);
    let href = format!("/dashboard/returns/{id}/file");
    assert!(element(&page.text, "return-download").contains(&format!("href=\"{href}\"")), "{}", page.text);
    let file = send(&app, "GET", &href, Some(&viewer), None, &[]).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(hex::encode(Sha256::digest(file.text.as_bytes())), sha, "the bytes as filed");
    // The year's page lists it.
    let page = send(&app, "GET", YEAR, Some(&viewer), None, &[]).await;
    assert!(page.text.contains(&format!("href=\"/returns/{id}\"")), "{}", page.text);
    let p = send(&app, "GET", "/returns/999999", Some(&viewer), None, &[]).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(p.is_html());
});
