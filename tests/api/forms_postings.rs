//! The forms for spend, refunds and commitments, the commitment page's release and evidence
//! forms and the entry page's reversal form, driven over HTTP as a browser posts them.

use axum::http::{StatusCode, header};
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::backend_test;
use crate::forms::encode;
use crate::hostile_pages::{ESCAPED, HOSTILE};
use crate::pages::{Page, send, sign_in};
use crate::support::TestApp;

/// A good spend's fields, as the form sends them: £100 net with £20 VAT not recoverable.
fn good_spend() -> Vec<(&'static str, &'static str)> {
    vec![
        ("grant", "LDF"),
        ("project", "P1"),
        ("date", "2023-06-10"),
        ("supplier", "Acme Ltd"),
        ("invoice_ref", "INV-7"),
        ("description", "Leaflets"),
        ("amount", "100.00"),
        ("vat", "20.00"),
        ("shown_checkbox", "vat_recoverable"),
    ]
}

/// Opens `page` as `secret`'s session and posts `fields` with its token to `action`.
pub(crate) async fn post_to(app: &TestApp, secret: &str, page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    let form = send(app, "GET", page, Some(secret), None, &[]).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    let body = format!("{}&csrf_token={}", encode(fields), form.form_token());
    send(app, "POST", action, Some(secret), Some(&body), &[]).await
}

pub(crate) fn element<'a>(page: &'a str, id: &str) -> &'a str {
    let at = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}: {page}"));
    let rest = &page[at..];
    &rest[..rest.find("</").unwrap_or(rest.len())]
}

pub(crate) fn location(p: &Page) -> String {
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    p.headers[header::LOCATION].to_str().unwrap().to_owned()
}

fn id_in(location: &str, prefix: &str) -> i64 {
    location.strip_prefix(prefix).and_then(|i| i.parse().ok()).unwrap_or_else(|| panic!("{location}"))
}

backend_test!(spend_with_vat_goes_to_its_entry_recorded_by_the_person, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let finance = sign_in(&app, Role::Finance).await;
    let form = send(&app, "GET", "/spend/new", Some(&finance), None, &[]).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    // The API's default, recoverable VAT, starts ticked; the confirmations are not shown.
    assert!(element(&form.text, "vat_recoverable").contains("checked"), "{}", form.text);
    assert!(!form.text.contains("id=\"duplicate_of_entry_ok\""));
    assert!(!form.text.contains("id=\"overspend_ok\""));
    assert!(element(&form.text, "date").contains("type=\"date\""));
    assert!(element(&form.text, "description").starts_with("id=\"description\" name=\"description\" rows"));

    let p = post_to(&app, &finance, "/spend/new", "/spend", &good_spend()).await;
    let to = location(&p);
    let id = id_in(&to, "/entries/");
    let entry = app.get(&format!("/api/v1/entries/{id}"), Role::Viewer).await;
    assert_eq!(entry.body["created_by"], "test finance");
    assert_eq!(entry.body["kind"], "spend");
    assert_eq!(entry.body["details"]["vat"], "20.00");
    assert_eq!(entry.body["details"]["vat_recoverable"], false, "unticked is false, not the default");
    assert_eq!(entry.body["details"]["charged"], "120.00");
    let page = send(&app, "GET", &to, Some(&finance), None, &[]).await;
    assert!(element(&page.text, "entry-supplier").ends_with(">Acme Ltd"), "{}", page.text);
    assert!(element(&page.text, "entry-vat").ends_with(">20.00"), "{}", page.text);

    // Ticked, the VAT is recoverable and the budget bears the net amount only.
    let mut fields = good_spend();
    fields[4] = ("invoice_ref", "INV-8");
    fields.push(("vat_recoverable", "on"));
    let id = id_in(&location(&post_to(&app, &finance, "/spend/new", "/spend", &fields).await), "/entries/");
    let entry = app.get(&format!("/api/v1/entries/{id}"), Role::Viewer).await;
    assert_eq!(entry.body["details"]["vat_recoverable"], true);
    assert_eq!(entry.body["details"]["charged"], "100.00");
});

backend_test!(a_bad_spend_comes_back_with_each_problem_beside_its_field, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let finance = sign_in(&app, Role::Finance).await;
    let bad = [
        ("grant", "not a code"),
        ("project", "P1"),
        ("date", "2023-02-30"),
        ("supplier", " "),
        ("description", ""),
        ("amount", "-5"),
        ("vat", "lots"),
        ("shown_checkbox", "vat_recoverable"),
    ];
    let p = post_to(&app, &finance, "/spend/new", "/spend", &bad).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    let summary = &p.text[p.text.find("role=\"alert\"").expect("a summary")..];
    for field in ["grant", "date", "supplier", "description", "amount", "vat"] {
        assert!(element(&p.text, &format!("{field}-error")).len() > 20, "{field}");
        assert!(summary.contains(&format!("<a href=\"#{field}\">")), "{field}");
    }
    assert!(element(&p.text, "vat").contains("value=\"lots\""), "kept");
    assert!(!element(&p.text, "vat_recoverable").contains("checked"), "left unticked, shown unticked");
});

backend_test!(an_overspend_shows_what_is_available_and_a_warn_grant_asks_first, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "100").await;
    let finance = sign_in(&app, Role::Finance).await;
    let p = post_to(&app, &finance, "/spend/new", "/spend", &good_spend()).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.text);
    assert!(p.text.contains("role=\"alert\""));
    assert!(element(&p.text, "figure-available").ends_with(">£100.00"), "{}", p.text);
    assert!(element(&p.text, "figure-requested").ends_with(">£120.00"), "{}", p.text);
    assert!(!p.text.contains("id=\"overspend_ok\""), "a stop grant offers no confirmation");
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "0.00");

    // A grant that warns: the form asks; ticked, it records the spend flagged.
    app.ok(
        "/api/v1/grants",
        Role::Approver,
        json!({ "code": "SOFT", "name": "Warn grant", "funder": "SCO", "restricted_to_priority": null, "on_overspend": "warn" }),
    )
    .await;
    app.ok(
        "/api/v1/grants/SOFT/awards",
        Role::Approver,
        json!({ "financial_year": "2023-24", "amount": "3000", "awarded_on": "2023-04-01", "reference": "R" }),
    )
    .await;
    app.allocate("SOFT", "2023-24", "P1", "100").await;
    let mut fields = good_spend();
    fields[0] = ("grant", "SOFT");
    let p = post_to(&app, &finance, "/spend/new", "/spend", &fields).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.text);
    assert!(element(&p.text, "figure-shortfall").ends_with(">£20.00"), "{}", p.text);
    assert!(p.text.contains("id=\"overspend_ok\""), "{}", p.text);
    assert_eq!(app.balance("spent:SOFT:2023-24:P1").await, "0.00", "nothing recorded before it is confirmed");
    let body = format!("{}&overspend_ok=on&csrf_token={}", encode(&fields), p.form_token());
    let ok = send(&app, "POST", "/spend", Some(&finance), Some(&body), &[]).await;
    let id = id_in(&location(&ok), "/entries/");
    assert_eq!(app.balance("spent:SOFT:2023-24:P1").await, "-120.00");
    assert_eq!(app.get(&format!("/api/v1/entries/{id}"), Role::Viewer).await.body["created_by"], "test finance");
});

backend_test!(a_duplicate_shows_the_entry_it_repeats_and_is_confirmed_with_the_box, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let finance = sign_in(&app, Role::Finance).await;
    let first = id_in(&location(&post_to(&app, &finance, "/spend/new", "/spend", &good_spend()).await), "/entries/");
    let p = post_to(&app, &finance, "/spend/new", "/spend", &good_spend()).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.text);
    assert!(element(&p.text, "duplicate-of").contains(&format!("href=\"/entries/{first}\"")), "{}", p.text);
    assert!(element(&p.text, "duplicate-date").ends_with(">2023-06-10"));
    assert!(element(&p.text, "duplicate-supplier").ends_with(">Acme Ltd"));
    assert!(element(&p.text, "duplicate-invoice-ref").ends_with(">INV-7"));
    assert!(element(&p.text, "duplicate-amount").ends_with(">£120.00"), "{}", p.text);
    assert!(p.text.contains("id=\"duplicate_of_entry_ok\""), "{}", p.text);
    let body = format!("{}&duplicate_of_entry_ok=on&csrf_token={}", encode(&good_spend()), p.form_token());
    let ok = send(&app, "POST", "/spend", Some(&finance), Some(&body), &[]).await;
    let second = id_in(&location(&ok), "/entries/");
    let entry = app.get(&format!("/api/v1/entries/{second}"), Role::Viewer).await;
    assert_eq!(entry.body["details"]["duplicate_of"], first);
});

backend_test!(the_forms_refuse_a_viewer_and_a_post_without_its_token, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let spent = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-06-01", "10")).await;
    let entry = spent["entry_id"].as_i64().unwrap();
    let po = app
        .ok(
            "/api/v1/commitments",
            Role::Finance,
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "S", "amount": "50",
                    "date": "2023-06-01" }),
        )
        .await;
    let c = po["commitment_id"].as_i64().unwrap();
    let viewer = sign_in(&app, Role::Viewer).await;
    for page in ["/spend/new", "/refunds/new", "/commitments/new", "/commitments/new?kind=grant_agreement"] {
        let p = send(&app, "GET", page, Some(&viewer), None, &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{page}");
        assert!(p.is_html());
    }
    // The record pages show a viewer no form.
    let p = send(&app, "GET", &format!("/commitments/{c}"), Some(&viewer), None, &[]).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert!(!p.text.contains("<form method=\"post\" action=\"/commitments/"), "{}", p.text);
    let p = send(&app, "GET", &format!("/entries/{entry}"), Some(&viewer), None, &[]).await;
    assert!(!p.text.contains("/reverse\""), "{}", p.text);
    let token = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&viewer), None, &[]).await.form_token();
    let finance = sign_in(&app, Role::Finance).await;
    let own = send(&app, "GET", "/spend/new", Some(&finance), None, &[]).await.form_token();
    let actions = [
        "/spend".to_owned(),
        "/refunds".to_owned(),
        "/commitments".to_owned(),
        format!("/commitments/{c}/release"),
        format!("/commitments/{c}/evidence"),
        format!("/entries/{entry}/reverse"),
    ];
    for action in &actions {
        let body = format!("date=2023-07-01&reason=x&amount=1&csrf_token={token}");
        let p = send(&app, "POST", action, Some(&viewer), Some(&body), &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "viewer {action}: {}", p.text);
        for body in ["date=2023-07-01&reason=x&amount=1".to_owned(), "date=2023-07-01&csrf_token=nope".to_owned()] {
            let p = send(&app, "POST", action, Some(&finance), Some(&body), &[]).await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "{action} {body}: {}", p.text);
            assert!(p.text.contains("This form was not accepted"), "{}", p.text);
        }
        let body = format!("date=2023-07-01&csrf_token={own}");
        // No session: refused, as a redirect would drop what was typed.
        let p = send(&app, "POST", action, None, Some(&body), &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "no session, {action}");
    }
    assert_eq!(app.get(&format!("/api/v1/entries/{entry}"), Role::Viewer).await.body["reversed_by"], json!(null));
});

backend_test!(hostile_text_in_the_spend_form_comes_back_escaped, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let finance = sign_in(&app, Role::Finance).await;
    let texts = ["grant", "project", "date", "supplier", "invoice_ref", "description", "amount", "vat", "source_ref"];
    let all: Vec<(&str, &str)> = texts.iter().map(|k| (*k, HOSTILE)).collect();
    let p = post_to(&app, &finance, "/spend/new", "/spend", &all).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(!p.text.contains("<script>") && !p.text.contains("<img"), "{}", p.text);
    assert!(p.text.contains(&format!(">{ESCAPED}</textarea>")), "{}", p.text);
    assert!(element(&p.text, "supplier").contains(&format!("value=\"{ESCAPED}\"")));
    // Recorded, shown escaped on the entry's page.
    let mut fields = good_spend();
    fields[3] = ("supplier", HOSTILE);
    fields[5] = ("description", HOSTILE);
    let to = location(&post_to(&app, &finance, "/spend/new", "/spend", &fields).await);
    let page = send(&app, "GET", &to, Some(&finance), None, &[]).await;
    assert!(!page.text.contains("<script>") && !page.text.contains("<img"), "{}", page.text);
    assert!(element(&page.text, "entry-supplier").ends_with(ESCAPED), "{}", page.text);
});

backend_test!(a_refund_and_a_clawback_under_an_agreement, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "20000").await;
    app.allocate("LDF", "2024-25", "P1", "20000").await;
    crate::agreements::partner(&app).await;
    let ga = app.ok("/api/v1/commitments", Role::Finance, crate::agreements::agreement_body()).await;
    let c = ga["commitment_id"].as_i64().unwrap();
    let mut pay = TestApp::spend_body("LDF", "P1", "2023-10-05", "3000");
    pay["commitment_id"] = json!(c);
    app.ok("/api/v1/spend", Role::Finance, pay).await;
    let finance = sign_in(&app, Role::Finance).await;
    let form = send(&app, "GET", "/refunds/new", Some(&finance), None, &[]).await;
    assert!(form.text.contains("<label for=\"commitment_id\">Grant agreement it claws back under"), "{}", form.text);
    let cid = c.to_string();
    let fields = [
        ("grant", "LDF"),
        ("project", "P1"),
        ("date", "2023-11-01"),
        ("amount", "500"),
        ("reference", "CN-1"),
        ("reason", "Underspent outreach sessions"),
        ("commitment_id", cid.as_str()),
    ];
    let to = location(&post_to(&app, &finance, "/refunds/new", "/refunds", &fields).await);
    let entry = app.get(&format!("/api/v1/entries/{}", id_in(&to, "/entries/")), Role::Viewer).await;
    assert_eq!(entry.body["kind"], "refund");
    assert_eq!(entry.body["created_by"], "test finance");
    assert_eq!(entry.body["commitment_id"], c);
    let page = send(&app, "GET", &format!("/commitments/{c}"), Some(&finance), None, &[]).await;
    assert!(element(&page.text, "commitment-clawed-back").ends_with(">£500.00"), "{}", page.text);
    // More than was paid under it: refused on the form.
    let mut fields = fields.to_vec();
    fields[3] = ("amount", "9000");
    fields[4] = ("reference", "CN-2");
    let p = post_to(&app, &finance, "/refunds/new", "/refunds", &fields).await;
    assert!(p.status == StatusCode::CONFLICT || p.status == StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(p.text.contains("role=\"alert\""));
});

backend_test!(a_purchase_order_and_a_grant_agreement_with_its_parts_from_the_form, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "20000").await;
    app.allocate("LDF", "2024-25", "P1", "20000").await;
    crate::agreements::partner(&app).await;
    let finance = sign_in(&app, Role::Finance).await;
    let form = send(&app, "GET", "/commitments/new", Some(&finance), None, &[]).await;
    assert!(form.text.contains("name=\"kind\" value=\"purchase_order\""), "{}", form.text);
    assert!(form.text.contains("href=\"/commitments/new?kind=grant_agreement\""));
    let po = [
        ("kind", "purchase_order"),
        ("grant", "LDF"),
        ("financial_year", "2023-24"),
        ("project", "P1"),
        ("supplier", "Print Co"),
        ("amount", "400"),
        ("date", "2023-06-01"),
    ];
    let to = location(&post_to(&app, &finance, "/commitments/new", "/commitments", &po).await);
    let c = id_in(&to, "/commitments/");
    let api = app.get(&format!("/api/v1/commitments/{c}"), Role::Viewer).await;
    assert_eq!(api.body["supplier"], "Print Co");
    let page = send(&app, "GET", &to, Some(&finance), None, &[]).await;
    assert!(element(&page.text, "commitment-outstanding").ends_with(">£400.00"), "{}", page.text);

    let form = send(&app, "GET", "/commitments/new?kind=grant_agreement", Some(&finance), None, &[]).await;
    assert!(form.text.contains("name=\"kind\" value=\"grant_agreement\""), "{}", form.text);
    assert!(form.text.contains("id=\"schedule[3].amount\""), "four part rows: {}", form.text);
    let mut ga = vec![
        ("kind", "grant_agreement"),
        ("recipient", "SAFE"),
        ("purpose", "Detached youth outreach"),
        ("grant", "LDF"),
        ("project", "P1"),
        ("financial_year", "2023-24"),
        ("amount", "12000"),
        ("date", "2023-09-20"),
        ("start_date", "2023-10-01"),
        ("end_date", "2024-09-30"),
        ("schedule[0].financial_year", "2023-24"),
        ("schedule[0].amount", "7000"),
        ("schedule[1].financial_year", "2024-25"),
        ("schedule[1].amount", "4000"),
        ("schedule[2].financial_year", ""),
        ("schedule[2].amount", ""),
    ];
    // Parts that do not add up, and a bad part: each named.
    let p = post_to(&app, &finance, "/commitments/new?kind=grant_agreement", "/commitments", &ga).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(element(&p.text, "schedule-error").len() > 25, "{}", p.text);
    assert!(element(&p.text, "schedule[1].amount").contains("value=\"4000\""), "kept");
    ga[13] = ("schedule[1].amount", "-3");
    let p = post_to(&app, &finance, "/commitments/new?kind=grant_agreement", "/commitments", &ga).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(element(&p.text, "schedule[1].amount-error").len() > 30, "{}", p.text);
    assert!(p.text.contains("<a href=\"#schedule[1].amount\">"), "{}", p.text);
    ga[13] = ("schedule[1].amount", "5000");
    let to = location(&post_to(&app, &finance, "/commitments/new?kind=grant_agreement", "/commitments", &ga).await);
    let c = id_in(&to, "/commitments/");
    let api = app.get(&format!("/api/v1/commitments/{c}"), Role::Viewer).await;
    assert_eq!(api.body["schedule"].as_array().unwrap().len(), 2);
    assert_eq!(api.body["recipient"], "SAFE");
    let page = send(&app, "GET", &to, Some(&finance), None, &[]).await;
    assert!(page.text.contains("<td>2024-25</td>"), "{}", page.text);
    assert!(element(&page.text, "commitment-recipient").contains("SAFE"));
});

backend_test!(release_and_evidence_from_the_commitments_page, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "20000").await;
    app.allocate("LDF", "2024-25", "P1", "20000").await;
    crate::agreements::partner(&app).await;
    let ga = app.ok("/api/v1/commitments", Role::Finance, crate::agreements::agreement_body()).await;
    let c = ga["commitment_id"].as_i64().unwrap();
    let mut pay = TestApp::spend_body("LDF", "P1", "2023-10-05", "3000");
    pay["commitment_id"] = json!(c);
    app.ok("/api/v1/spend", Role::Finance, pay).await;
    let finance = sign_in(&app, Role::Finance).await;
    let page = format!("/commitments/{c}");
    let release = format!("/commitments/{c}/release");
    let evidence = format!("/commitments/{c}/evidence");
    // More than is outstanding: the page again with the problem, the values kept.
    let too_much = [("date", "2023-12-01"), ("amount", "50000"), ("reason", "Scope cut")];
    let p = post_to(&app, &finance, &page, &release, &too_much).await;
    assert!(matches!(p.status, StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY), "{}", p.text);
    assert!(p.text.contains("role=\"alert\""));
    assert!(p.text.contains("value=\"50000\""));
    let ok = [("date", "2023-12-01"), ("amount", "1000"), ("reason", "Scope cut")];
    assert_eq!(location(&post_to(&app, &finance, &page, &release, &ok).await), page);
    let api = app.get(&format!("/api/v1/commitments/{c}"), Role::Viewer).await;
    assert_eq!(api.body["outstanding"], "8000.00", "{}", api.body);

    let bad = [("date", "2023-12-02"), ("amount_evidenced", "x"), ("status", "great"), ("note", "")];
    let p = post_to(&app, &finance, &page, &evidence, &bad).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(p.text.contains("id=\"amount_evidenced-error\"") && p.text.contains("id=\"status-error\""));
    let good = [("date", "2023-12-02"), ("amount_evidenced", "2500"), ("status", "partial"), ("note", "Q3 form")];
    assert_eq!(location(&post_to(&app, &finance, &page, &evidence, &good).await), page);
    let p = send(&app, "GET", &page, Some(&finance), None, &[]).await;
    assert!(element(&p.text, "commitment-evidenced").ends_with(">£2,500.00"), "{}", p.text);
    assert!(p.text.contains("<td>Q3 form</td><td>test finance</td>"), "{}", p.text);
});

backend_test!(an_entry_is_reversed_from_its_page, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let spent = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-06-01", "10")).await;
    let id = spent["entry_id"].as_i64().unwrap();
    let finance = sign_in(&app, Role::Finance).await;
    let page = format!("/entries/{id}");
    let action = format!("/entries/{id}/reverse");
    let p = send(&app, "GET", &page, Some(&finance), None, &[]).await;
    assert!(p.text.contains(&format!("action=\"{action}\"")), "{}", p.text);
    let p = post_to(&app, &finance, &page, &action, &[("date", "2023-05-01"), ("reason", "")]).await;
    assert!(p.status.is_client_error(), "{}", p.text);
    assert!(p.text.contains("id=\"reason-error\""), "{}", p.text);
    let to =
        location(&post_to(&app, &finance, &page, &action, &[("date", "2023-06-02"), ("reason", "Keyed twice")]).await);
    assert_eq!(to, page);
    let p = send(&app, "GET", &page, Some(&finance), None, &[]).await;
    assert!(element(&p.text, "entry-reversed-by").contains("href=\"/entries/"), "{}", p.text);
    assert!(!p.text.contains(&format!("action=\"{action}\"")), "no second reversal offered");
    let reversal =
        app.get(&page.replace("/entries", "/api/v1/entries"), Role::Viewer).await.body["reversed_by"].clone();
    let r = app.get(&format!("/api/v1/entries/{reversal}"), Role::Viewer).await;
    assert_eq!(r.body["created_by"], "test finance");
    // An approver may not reverse spend: 403.
    let approver = sign_in(&app, Role::Approver).await;
    let token = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&approver), None, &[]).await.form_token();
    let body = format!("date=2023-06-03&reason=x&csrf_token={token}");
    let p = send(&app, "POST", &action, Some(&approver), Some(&body), &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
});
