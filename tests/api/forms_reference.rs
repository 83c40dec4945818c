//! The virement forms: proposing one (posting at or below the threshold, waiting above it),
//! its page, and a second approver's approval or rejection; never the proposer's own.

use axum::http::{StatusCode, header};
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::backend_test;
use crate::forms::encode;
use crate::hostile_pages::{ESCAPED, HOSTILE};
use crate::pages::{Page, SignInPage, send, sign_in};
use crate::support::TestApp;

fn virement(amount: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("grant", "LDF"),
        ("financial_year", "2023-24"),
        ("from_project", "P1"),
        ("to_project", "P2"),
        ("amount", amount),
        ("approved_on", "2023-09-01"),
        ("approval_ref", "chair's action"),
        ("reason", "demand moved"),
    ]
}

fn element<'a>(page: &'a str, id: &str) -> &'a str {
    let at = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}: {page}"));
    let rest = &page[at..];
    &rest[..rest.find("</").unwrap_or(rest.len())]
}

/// Opens `path` as the session and posts `fields` with the page's token to `to`.
async fn post_from(app: &TestApp, secret: &str, path: &str, to: &str, fields: &[(&str, &str)]) -> Page {
    let form = send(app, "GET", path, Some(secret), None, &[]).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    let body = if fields.is_empty() {
        format!("csrf_token={}", form.form_token())
    } else {
        format!("{}&csrf_token={}", encode(fields), form.form_token())
    };
    send(app, "POST", to, Some(secret), Some(&body), &[]).await
}

/// A second approver, "Sam Second", signed in through the form.
async fn second_approver(app: &TestApp) -> String {
    let t = app.ok("/api/v1/tokens", Role::Admin, json!({ "name": "Sam Second", "role": "approver" })).await;
    let page = SignInPage::open(&app.router).await;
    let p = page.post(&app.router, &format!("token={}", t["token"].as_str().unwrap()), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    p.cookie("gl_session").expect("the session cookie")
}

async fn setup(app: &TestApp) {
    app.project("P1", "ASB").await;
    app.project("P2", "DRUGS").await;
    app.allocate("LDF", "2023-24", "P1", "20000").await;
}

/// The ledger set up and a virement of `amount` proposed on its form by an approver: their
/// session, its id and its page's path.
async fn proposed(app: &TestApp, amount: &'static str) -> (String, i64, String) {
    setup(app).await;
    let approver = sign_in(app, Role::Approver).await;
    let id = id_of(&post_from(app, &approver, "/virements/new", "/virements", &virement(amount)).await);
    (approver, id, format!("/virements/{id}"))
}

fn id_of(p: &Page) -> i64 {
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    let location = p.headers[header::LOCATION].to_str().unwrap();
    location.strip_prefix("/virements/").and_then(|i| i.parse().ok()).expect(location)
}

backend_test!(a_virement_at_the_threshold_posts_from_the_form, |app: TestApp| async move {
    setup(&app).await;
    let approver = sign_in(&app, Role::Approver).await;
    let form = send(&app, "GET", "/virements/new", Some(&approver), None, &[]).await;
    for name in ["grant", "financial_year", "from_project", "to_project", "amount", "approved_on", "approval_ref"] {
        assert!(element(&form.text, name).contains("required"), "{name}");
        assert!(form.text.contains(&format!("<label for=\"{name}\">")), "{name}");
    }
    assert!(form.text.contains("<textarea id=\"reason\" name=\"reason\""), "{}", form.text);
    let id = id_of(&post_from(&app, &approver, "/virements/new", "/virements", &virement("5000.00")).await);
    let v = app.get(&format!("/api/v1/virements/{id}"), Role::Viewer).await;
    assert_eq!(v.body["status"], "posted");
    assert_eq!(v.body["proposed_by"], "test approver");
    let entry = v.body["entry_id"].as_i64().unwrap();
    let e = app.get(&format!("/api/v1/entries/{entry}"), Role::Viewer).await;
    assert_eq!(e.body["created_by"], "test approver", "recorded as the signed-in person");
    assert_eq!(app.balance("available:LDF:2023-24:P2").await, "-5000.00");
    let page = send(&app, "GET", &format!("/virements/{id}"), Some(&approver), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(element(&page.text, "virement-status").ends_with(">posted"), "{}", page.text);
    assert!(element(&page.text, "virement-amount").ends_with(">£5,000.00"), "{}", page.text);
    assert!(page.text.contains(&format!("href=\"/entries/{entry}\"")));
    assert!(!page.text.contains("approve-form"), "nothing to decide");
});

backend_test!(a_large_virement_waits_and_a_second_approver_approves_it, |app: TestApp| async move {
    let (approver, id, page_path) = proposed(&app, "5000.01").await;
    let page = send(&app, "GET", &page_path, Some(&approver), None, &[]).await;
    assert!(element(&page.text, "virement-status").contains("waiting"), "{}", page.text);
    assert!(!page.text.contains("approve-form"), "not for the proposer: {}", page.text);
    assert_eq!(app.balance("available:LDF:2023-24:P2").await, "0.00", "nothing moved yet");

    // The proposer's own approval is refused as the API refuses it.
    let to = format!("/virements/{id}/approve");
    // The page has no form for the proposer: the dashboard's token is the session's.
    let own = post_from(&app, &approver, "/dashboard?financial_year=2023-24", &to, &[]).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.text);
    assert!(own.text.contains("role=\"alert\"") && own.text.contains("second approver"), "{}", own.text);
    // A viewer may not; nor a post without the token.
    let viewer = sign_in(&app, Role::Viewer).await;
    let p = post_from(&app, &viewer, "/dashboard?financial_year=2023-24", &to, &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let second = second_approver(&app).await;
    let p = send(&app, "POST", &to, Some(&second), Some(""), &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/api/v1/virements/{id}"), Role::Viewer).await.body["status"], "pending");

    // The second approver sees the forms and approves.
    let page = send(&app, "GET", &page_path, Some(&second), None, &[]).await;
    assert!(page.text.contains("id=\"approve-form\""), "{}", page.text);
    assert_eq!(id_of(&post_from(&app, &second, &page_path, &to, &[]).await), id);
    let v = app.get(&format!("/api/v1/virements/{id}"), Role::Viewer).await;
    assert_eq!(v.body["status"], "approved");
    assert_eq!(v.body["decided_by"], "Sam Second");
    assert_eq!(app.balance("available:LDF:2023-24:P2").await, "-5000.01");
    let page = send(&app, "GET", &page_path, Some(&second), None, &[]).await;
    assert!(element(&page.text, "virement-decided-by").ends_with(">Sam Second"), "{}", page.text);
    // Twice: it is no longer waiting.
    let p = post_from(&app, &second, "/dashboard?financial_year=2023-24", &to, &[]).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.text);
    assert!(p.text.contains("role=\"alert\""));
});

backend_test!(a_rejection_needs_a_reason_and_hostile_text_comes_back_escaped, |app: TestApp| async move {
    setup(&app).await;
    let approver = sign_in(&app, Role::Approver).await;
    let mut fields = virement("6000");
    fields[6] = ("approval_ref", HOSTILE);
    fields[7] = ("reason", HOSTILE);
    let id = id_of(&post_from(&app, &approver, "/virements/new", "/virements", &fields).await);
    let page_path = format!("/virements/{id}");
    let second = second_approver(&app).await;
    let page = send(&app, "GET", &page_path, Some(&second), None, &[]).await;
    assert!(!page.text.contains("<script>") && !page.text.contains("<img"), "{}", page.text);
    assert!(element(&page.text, "virement-reason").ends_with(ESCAPED), "{}", page.text);
    assert!(element(&page.text, "virement-approval-ref").ends_with(ESCAPED), "{}", page.text);

    let to = format!("/virements/{id}/reject");
    let p = post_from(&app, &second, &page_path, &to, &[("reason", "  ")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(p.text.contains("role=\"alert\""));
    assert!(element(&p.text, "reason-error").len() > "id=\"reason-error\">".len());
    let p = post_from(&app, &second, &page_path, &to, &[("reason", HOSTILE)]).await;
    assert_eq!(id_of(&p), id);
    let v = app.get(&format!("/api/v1/virements/{id}"), Role::Viewer).await;
    assert_eq!(v.body["status"], "rejected");
    assert_eq!(v.body["decided_by"], "Sam Second");
});

backend_test!(a_bad_or_refused_virement_comes_back_on_the_form, |app: TestApp| async move {
    setup(&app).await;
    let approver = sign_in(&app, Role::Approver).await;
    let bad = [
        ("grant", "not a code"),
        ("financial_year", "2023-25"),
        ("from_project", ""),
        ("to_project", "P2"),
        ("amount", "-5"),
        ("approved_on", "2023-13-01"),
        ("approval_ref", "ok"),
        ("reason", ""),
    ];
    let p = post_from(&app, &approver, "/virements/new", "/virements", &bad).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    for field in ["grant", "financial_year", "from_project", "amount", "approved_on", "reason"] {
        assert!(element(&p.text, &format!("{field}-error")).len() > 20, "{field}");
    }
    assert!(element(&p.text, "grant").contains("value=\"not a code\""), "kept");
    // More than P2 has: the overspend rule's figures.
    let mut fields = virement("100");
    fields[2] = ("from_project", "P2");
    fields[3] = ("to_project", "P1");
    let p = post_from(&app, &approver, "/virements/new", "/virements", &fields).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.text);
    assert!(element(&p.text, "figure-available").ends_with(">£0.00"), "{}", p.text);
    // A viewer: a 403 page; no token: 403.
    let viewer = sign_in(&app, Role::Viewer).await;
    assert_eq!(send(&app, "GET", "/virements/new", Some(&viewer), None, &[]).await.status, StatusCode::FORBIDDEN);
    let p = send(&app, "POST", "/virements", Some(&approver), Some(&encode(&virement("10"))), &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(app.balance("available:LDF:2023-24:P2").await, "0.00", "nothing moved");
    // No such virement: a 404 page.
    let p = send(&app, "GET", "/virements/9999", Some(&viewer), None, &[]).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
});

backend_test!(a_person_offered_no_decision_on_a_waiting_virement_is_told_why, |app: TestApp| async move {
    let (approver, id, page_path) = proposed(&app, "6000").await;
    // Its proposer: another approver must decide it.
    let page = send(&app, "GET", &page_path, Some(&approver), None, &[]).await;
    assert!(!page.text.contains("approve-form"), "{}", page.text);
    let why = element(&page.text, "no-decision");
    assert!(why.contains("You proposed this virement, so another approver must decide it"), "{why}");
    assert!(why.contains("an approver or admin other than you may approve or reject it"), "{why}");
    // Sent anyway and refused: the page again says why.
    let own =
        post_from(&app, &approver, "/dashboard?financial_year=2023-24", &format!("{page_path}/approve"), &[]).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.text);
    assert!(element(&own.text, "no-decision").contains("another approver must decide it"), "{}", own.text);
    // A role that decides none: who may.
    for (role, word) in [(Role::Viewer, "viewer"), (Role::Finance, "finance")] {
        let secret = sign_in(&app, role).await;
        let page = send(&app, "GET", &page_path, Some(&secret), None, &[]).await;
        assert!(!page.text.contains("approve-form"), "{word}: {}", page.text);
        let why = element(&page.text, "no-decision");
        assert!(why.contains(&format!("Your role ({word}) does not decide virements")), "{why}");
        assert!(why.contains("an approver or admin other than its proposer, test approver, must approve"), "{why}");
    }
    // Another approver is offered the forms, and no excuse; once decided, nobody is.
    let second = second_approver(&app).await;
    let page = send(&app, "GET", &page_path, Some(&second), None, &[]).await;
    assert!(page.text.contains("id=\"approve-form\"") && !page.text.contains("no-decision"), "{}", page.text);
    assert_eq!(id_of(&post_from(&app, &second, &page_path, &format!("{page_path}/approve"), &[]).await), id);
    let page = send(&app, "GET", &page_path, Some(&approver), None, &[]).await;
    assert!(!page.text.contains("no-decision") && !page.text.contains("approve-form"), "{}", page.text);
});
