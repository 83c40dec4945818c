//! The recording forms, driven over HTTP as a browser posts them: the allocation form needs
//! a session, a role that may allocate and the session's own form token; a good post records
//! as the signed-in person and goes to the entry's page; a bad one comes back with every
//! value kept (escaped), a summary and each message beside its field; a ledger rule's refusal
//! shows its figures.

use axum::http::{StatusCode, header};
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::backend_test;
use crate::hostile_pages::{ESCAPED, HOSTILE};
use crate::pages::{Page, send, sign_in};
use crate::support::TestApp;

/// `application/x-www-form-urlencoded`, as a browser writes it.
fn encode(pairs: &[(&str, &str)]) -> String {
    let enc = |t: &str| {
        t.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => (b as char).to_string(),
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// A good allocation's fields, as the form sends them.
fn good() -> Vec<(&'static str, &'static str)> {
    vec![
        ("grant", "LDF"),
        ("financial_year", "2023-24"),
        ("project", "P1"),
        ("amount", "1500.00"),
        ("approved_on", "2023-06-01"),
        ("approval_ref", "CSP minute 7"),
        ("memo", ""),
    ]
}

/// Opens the form as `secret`'s session and posts `fields` with its token.
async fn post_form(app: &TestApp, secret: &str, fields: &[(&str, &str)]) -> Page {
    let form = send(app, "GET", "/allocations/new", Some(secret), None, &[]).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    let body = format!("{}&csrf_token={}", encode(fields), form.form_token());
    send(app, "POST", "/allocations", Some(secret), Some(&body), &[]).await
}

/// The text of the element with `id`, up to its closing tag.
fn element<'a>(page: &'a str, id: &str) -> &'a str {
    let at = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}: {page}"));
    let rest = &page[at..];
    &rest[..rest.find("</").unwrap_or(rest.len())]
}

backend_test!(the_form_needs_a_session_a_role_that_allocates_and_its_own_token, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    // No session: to sign in, and back to the form.
    let p = send(&app, "GET", "/allocations/new", None, None, &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.headers[header::LOCATION], "/sign-in?next=/allocations/new");
    let p = send(&app, "POST", "/allocations", None, Some(&encode(&good())), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.headers[header::LOCATION], "/sign-in?next=/allocations/new");

    // A viewer: a 403 page, for the form and for a post with a good token.
    let viewer = sign_in(&app, Role::Viewer).await;
    let p = send(&app, "GET", "/allocations/new", Some(&viewer), None, &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.text);
    assert!(p.is_html() && p.text.contains("Not allowed"), "{}", p.text);
    let d = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&viewer), None, &[]).await;
    let body = format!("{}&csrf_token={}", encode(&good()), d.form_token());
    let p = send(&app, "POST", "/allocations", Some(&viewer), Some(&body), &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.text);
    assert!(p.is_html());

    // An approver without a token, with another session's, or with two: refused, nothing recorded.
    let approver = sign_in(&app, Role::Approver).await;
    let other = sign_in(&app, Role::Approver).await;
    let others_form = send(&app, "GET", "/allocations/new", Some(&other), None, &[]).await;
    let own_form = send(&app, "GET", "/allocations/new", Some(&approver), None, &[]).await;
    assert_eq!(own_form.status, StatusCode::OK);
    assert_ne!(others_form.form_token(), own_form.form_token());
    for body in [
        encode(&good()),
        format!("{}&csrf_token=", encode(&good())),
        format!("{}&csrf_token={}", encode(&good()), others_form.form_token()),
        format!("{}&csrf_token={t}&csrf_token={t}", encode(&good()), t = own_form.form_token()),
    ] {
        let p = send(&app, "POST", "/allocations", Some(&approver), Some(&body), &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{body}: {}", p.text);
        assert!(p.text.contains("This form was not accepted"), "{}", p.text);
    }
    // From another origin, even with the right token.
    let body = format!("{}&csrf_token={}", encode(&good()), own_form.form_token());
    let p =
        send(&app, "POST", "/allocations", Some(&approver), Some(&body), &[("origin", "https://evil.example")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "0.00", "nothing was allocated");
});

backend_test!(a_good_allocation_goes_to_its_entry_recorded_by_the_person, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let approver = sign_in(&app, Role::Approver).await;
    let form = send(&app, "GET", "/allocations/new", Some(&approver), None, &[]).await;
    // Each field once, labelled, its kind and whether it is required from the schema, and
    // the ledger's grants, years and projects offered.
    for (name, kind) in [
        ("grant", "text"),
        ("financial_year", "text"),
        ("project", "text"),
        ("amount", "text"),
        ("approved_on", "date"),
        ("approval_ref", "text"),
    ] {
        let input = element(&form.text, name);
        assert!(input.contains(&format!("type=\"{kind}\"")) && input.contains("required"), "{name}: {input}");
        assert!(form.text.contains(&format!("<label for=\"{name}\">")), "{name}");
    }
    assert!(form.text.contains("<textarea id=\"memo\" name=\"memo\""), "{}", form.text);
    assert!(!element(&form.text, "memo").contains("required"));
    assert!(form.text.contains("<option value=\"LDF\">"), "grants offered: {}", form.text);
    assert!(form.text.contains("<option value=\"2023-24\">"), "years offered");
    assert!(form.text.contains("<option value=\"P1\">P1 — Project P1</option>"), "projects offered");
    assert!(!form.text.contains("role=\"alert\""), "no errors on a fresh form");

    let mut fields = good();
    fields[6] = ("memo", "Second tranche\nfor the summer");
    let p = post_form(&app, &approver, &fields).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    let location = p.headers[header::LOCATION].to_str().unwrap().to_owned();
    let id: i64 = location.strip_prefix("/entries/").and_then(|i| i.parse().ok()).expect(&location);
    let entry = app.get(&format!("/api/v1/entries/{id}"), Role::Viewer).await;
    assert_eq!(entry.status, StatusCode::OK);
    assert_eq!(entry.body["created_by"], "test approver", "recorded as the signed-in person");
    assert_eq!(entry.body["kind"], "allocation");
    assert_eq!(entry.body["memo"], "Second tranche\nfor the summer");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-1500.00");

    // The entry's page.
    let page = send(&app, "GET", &location, Some(&approver), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains(&format!("<h1>Entry {id}</h1>")), "{}", page.text);
    assert!(element(&page.text, "entry-kind").ends_with(">allocation"), "{}", page.text);
    assert!(element(&page.text, "entry-created-by").ends_with(">test approver"));
    assert!(element(&page.text, "entry-project").ends_with(">P1"), "{}", page.text);
    assert!(element(&page.text, "entry-approval_ref").ends_with(">CSP minute 7"), "{}", page.text);
    assert!(page.text.contains("<td>available:LDF:2023-24:P1</td>"), "{}", page.text);
    assert!(page.text.contains("£1,500.00"));
    // Every role reads it; none without a session; a missing one is a 404 page.
    let viewer = sign_in(&app, Role::Viewer).await;
    assert_eq!(send(&app, "GET", &location, Some(&viewer), None, &[]).await.status, StatusCode::OK);
    let p = send(&app, "GET", &location, None, None, &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let p = send(&app, "GET", "/entries/999999", Some(&viewer), None, &[]).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(p.is_html() && p.text.contains("Not found"), "{}", p.text);
    let p = send(&app, "GET", "/entries/0", Some(&viewer), None, &[]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.is_html());

    // Reversed through the API: each page names the other.
    let r = app
        .ok(
            &format!("/api/v1/entries/{id}/reverse"),
            Role::Approver,
            json!({ "date": "2023-07-01", "reason": "Minute withdrawn" }),
        )
        .await;
    let reversal = r["entry_id"].as_i64().expect("the reversal's id");
    let page = send(&app, "GET", &location, Some(&viewer), None, &[]).await;
    assert!(page.text.contains(&format!("href=\"/entries/{reversal}\"")), "{}", page.text);
    let page = send(&app, "GET", &format!("/entries/{reversal}"), Some(&viewer), None, &[]).await;
    assert!(page.text.contains(&format!("href=\"/entries/{id}\"")), "{}", page.text);
});

backend_test!(every_bad_field_comes_back_beside_its_field_with_the_values_kept, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let approver = sign_in(&app, Role::Approver).await;
    let bad = [
        ("grant", "not a code"),
        ("financial_year", "2023-25"),
        ("project", ""),
        ("amount", "-5"),
        ("approved_on", "2023-13-01"),
        ("approval_ref", "   "),
        ("memo", "kept"),
    ];
    let p = post_form(&app, &approver, &bad).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(p.is_html());
    let summary = &p.text[p.text.find("role=\"alert\"").expect("a summary")..];
    for field in ["grant", "financial_year", "project", "amount", "approved_on", "approval_ref"] {
        let error = element(&p.text, &format!("{field}-error"));
        assert!(error.len() > format!("id=\"{field}-error\">").len(), "{field}: an empty message");
        assert!(summary.contains(&format!("<a href=\"#{field}\">")), "{field} linked from the summary");
        let input = &p.text[p.text.find(&format!("id=\"{field}\" name=\"{field}\"")).unwrap()..];
        let input = &input[..input.find('>').unwrap()];
        assert!(input.contains(&format!("aria-describedby=\"{field}-error")), "{field}: {input}");
        assert!(input.contains("aria-invalid=\"true\""), "{field}: {input}");
    }
    assert!(!p.text.contains("id=\"memo-error\""), "a good field has no message");
    // Every value as typed.
    for (field, value) in
        [("grant", "not a code"), ("financial_year", "2023-25"), ("amount", "-5"), ("approval_ref", "   ")]
    {
        assert!(
            element(&p.text, field).contains(&format!("value=\"{value}\"")),
            "{field}: {}",
            element(&p.text, field)
        );
    }
    assert!(p.text.contains(">kept</textarea>"), "{}", p.text);
    // The form again carries a good token: corrected, it records.
    let body = format!("{}&csrf_token={}", encode(&good()), p.form_token());
    let ok = send(&app, "POST", "/allocations", Some(&approver), Some(&body), &[]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text);
    // An unknown field is refused as the API refuses it.
    let mut extra = good();
    extra.push(("priority", "ASB"));
    let p = post_form(&app, &approver, &extra).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.text.contains("priority: is not a field of this request"), "{}", p.text);
});

backend_test!(an_over_allocation_shows_what_is_unallocated, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1394").await;
    let approver = sign_in(&app, Role::Approver).await;
    let mut fields = good();
    fields[3] = ("amount", "60001");
    let p = post_form(&app, &approver, &fields).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.text);
    assert!(p.text.contains("role=\"alert\""));
    assert!(element(&p.text, "figure-unallocated").ends_with(">£60,000.00"), "{}", p.text);
    assert!(element(&p.text, "figure-requested").ends_with(">£60,001.00"), "{}", p.text);
    assert!(element(&p.text, "amount").contains("value=\"60001\""), "kept");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-1394.00", "nothing more allocated");
    // A project the ledger does not have: the form again, saying so beside the field.
    let mut fields = good();
    fields[2] = ("project", "NOPE");
    let p = post_form(&app, &approver, &fields).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(p.text.contains("role=\"alert\""), "{}", p.text);
    assert!(element(&p.text, "project-error").ends_with("no project NOPE"), "{}", p.text);
});

backend_test!(hostile_text_in_every_field_comes_back_escaped, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let approver = sign_in(&app, Role::Approver).await;
    let all: Vec<(&str, &str)> = good().iter().map(|(k, _)| (*k, HOSTILE)).collect();
    let p = post_form(&app, &approver, &all).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(!p.text.contains("<script>") && !p.text.contains("<img"), "{}", p.text);
    for (field, _) in &all {
        if *field == "memo" {
            assert!(p.text.contains(&format!(">{ESCAPED}</textarea>")), "{}", p.text);
        } else {
            assert!(element(&p.text, field).contains(&format!("value=\"{ESCAPED}\"")), "{field}: {}", p.text);
        }
    }
    // Recorded, the text fields show escaped on the entry's page.
    let mut fields = good();
    fields[5] = ("approval_ref", HOSTILE);
    fields[6] = ("memo", HOSTILE);
    let p = post_form(&app, &approver, &fields).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    let page = send(&app, "GET", p.headers[header::LOCATION].to_str().unwrap(), Some(&approver), None, &[]).await;
    assert!(!page.text.contains("<script>") && !page.text.contains("<img"), "{}", page.text);
    assert!(element(&page.text, "entry-memo").ends_with(ESCAPED), "{}", page.text);
    assert!(element(&page.text, "entry-approval_ref").ends_with(ESCAPED), "{}", page.text);
});
