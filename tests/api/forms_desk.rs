//! The desk's forms built after the postings': a project (its form, its page, its status),
//! a receipt and a repayment, a forecast and an indicator return, driven over HTTP as a
//! browser posts them.

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::backend_test;
use crate::forms_postings::{element, location, post_to};
use crate::hostile_pages::{ESCAPED, HOSTILE};
use crate::pages::{send, sign_in};
use crate::support::TestApp;

fn project(code: &'static str, name: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![("code", code), ("name", name), ("priority", "ASB"), ("lead_organisation", "Police"), ("description", "")]
}

backend_test!(a_project_is_recorded_shown_and_closed_from_its_pages, |app: TestApp| async move {
    let approver = sign_in(&app, Role::Approver).await;
    let form = send(&app, "GET", "/projects/new", Some(&approver), None, &[]).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(element(&form.text, "status").starts_with("id=\"status\" name=\"status\""), "a choice of its words");
    let to = location(&post_to(&app, &approver, "/projects/new", "/projects", &project("P9", "Street pastors")).await);
    assert_eq!(to, "/projects/P9");
    let api = app.get("/api/v1/projects/P9", Role::Viewer).await;
    assert_eq!(api.body["name"], "Street pastors");
    assert_eq!(api.body["status"], "active", "the API's default");

    // The page: what it is, its year's figures, its entries, and the way to its status.
    app.allocate("LDF", "2023-24", "P9", "750").await;
    let page = send(&app, "GET", "/projects/P9?financial_year=2023-24", Some(&approver), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(element(&page.text, "project-name").ends_with(">Street pastors"), "{}", page.text);
    assert!(element(&page.text, "project-status").ends_with(">active"), "{}", page.text);
    assert!(element(&page.text, "project-entries").contains("href=\"/entries?project=P9\""), "{}", page.text);
    assert!(page.text.contains("£750.00"), "its budget: {}", page.text);
    // The entries list links each entry's project to its page.
    let list = send(&app, "GET", "/entries?project=P9", Some(&approver), None, &[]).await;
    assert!(list.text.contains("<a href=\"/projects/P9\">P9</a>"), "{}", list.text);

    let p = post_to(&app, &approver, "/projects/P9/status", "/projects/P9/status", &[("status", "closed")]).await;
    assert_eq!(location(&p), "/projects/P9");
    assert_eq!(app.get("/api/v1/projects/P9", Role::Viewer).await.body["status"], "closed");
    let p = post_to(&app, &approver, "/projects/P9/status", "/projects/P9/status", &[("status", "shut")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(element(&p.text, "status-error").len() > 20, "{}", p.text);
    let p = send(&app, "GET", "/projects/NOPE", Some(&approver), None, &[]).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
});

backend_test!(a_refused_project_keeps_its_values_and_names_each_field, |app: TestApp| async move {
    let approver = sign_in(&app, Role::Approver).await;
    let bad = [("code", "not a code"), ("name", " "), ("priority", "ASB"), ("status", "paused")];
    let p = post_to(&app, &approver, "/projects/new", "/projects", &bad).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    let summary = &p.text[p.text.find("role=\"alert\"").expect("a summary")..];
    for field in ["code", "name", "status"] {
        assert!(element(&p.text, &format!("{field}-error")).len() > 20, "{field}");
        assert!(summary.contains(&format!("<a href=\"#{field}\">")), "{field}");
    }
    assert!(element(&p.text, "code").contains("value=\"not a code\""), "kept");

    // A priority the plan does not have, and a code already taken.
    let p =
        post_to(&app, &approver, "/projects/new", "/projects", &[("code", "P9"), ("name", "X"), ("priority", "NOPE")])
            .await;
    assert!(p.status.is_client_error() && p.text.contains("role=\"alert\""), "{}", p.text);
    assert!(p.text.contains("NOPE"), "{}", p.text);
    location(&post_to(&app, &approver, "/projects/new", "/projects", &project("P9", "First")).await);
    let p = post_to(&app, &approver, "/projects/new", "/projects", &project("P9", "Second")).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.text);
    assert!(element(&p.text, "name").contains("value=\"Second\""), "kept");
    assert_eq!(app.get("/api/v1/projects/P9", Role::Viewer).await.body["name"], "First", "nothing half-written");

    // Hostile text comes back escaped, on the form and on the project's page.
    let p = post_to(&app, &approver, "/projects/new", "/projects", &[("code", HOSTILE), ("name", HOSTILE)]).await;
    assert!(!p.text.contains("<script>") && !p.text.contains("<img"), "{}", p.text);
    assert!(element(&p.text, "name").contains(&format!("value=\"{ESCAPED}\"")));
    let to = location(&post_to(&app, &approver, "/projects/new", "/projects", &project("P8", HOSTILE)).await);
    let page = send(&app, "GET", &to, Some(&approver), None, &[]).await;
    assert!(!page.text.contains("<script>") && !page.text.contains("<img"), "{}", page.text);
    assert!(element(&page.text, "project-name").ends_with(ESCAPED), "{}", page.text);
});

fn receipt(amount: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("grant", "LDF"),
        ("financial_year", "2023-24"),
        ("date", "2023-05-02"),
        ("amount", amount),
        ("reference", "REM-1"),
    ]
}

backend_test!(a_receipt_goes_to_its_entry_and_a_repayment_of_nothing_owed_is_refused, |app: TestApp| async move {
    let finance = sign_in(&app, Role::Finance).await;
    let to = location(&post_to(&app, &finance, "/receipts/new", "/receipts", &receipt("1000")).await);
    let id: i64 = to.strip_prefix("/entries/").and_then(|i| i.parse().ok()).expect(&to);
    let entry = app.get(&format!("/api/v1/entries/{id}"), Role::Viewer).await;
    assert_eq!(entry.body["kind"], "receipt");
    assert_eq!(entry.body["created_by"], "test finance");

    let p = post_to(&app, &finance, "/receipts/new", "/receipts", &receipt("-3")).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(element(&p.text, "amount-error").len() > 20, "{}", p.text);
    assert!(element(&p.text, "amount").contains("value=\"-3\""), "kept");

    // Nothing is owed to the funder: the repayment is refused, naming the amount.
    let p = post_to(&app, &finance, "/repayments/new", "/repayments", &receipt("10")).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(element(&p.text, "amount-error").len() > 20, "{}", p.text);
    assert!(element(&p.text, "reference").contains("value=\"REM-1\""), "kept");
    let p = post_to(&app, &finance, "/receipts/new", "/receipts", &[("grant", "LDF"), ("reference", HOSTILE)]).await;
    assert!(!p.text.contains("<script>") && !p.text.contains("<img"), "{}", p.text);
    assert!(element(&p.text, "reference").contains(&format!("value=\"{ESCAPED}\"")));
});

fn forecast(reason: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("grant", "LDF"),
        ("financial_year", "2023-24"),
        ("quarter", "2"),
        ("project", "P1"),
        ("forecast_outturn", "900"),
        ("explanation", "Summer scheme late"),
        ("progress_rag", "amber"),
        ("rag_reason", reason),
        ("made_on", "2023-08-15"),
    ]
}

backend_test!(a_forecast_and_an_indicator_return_from_their_forms, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let finance = sign_in(&app, Role::Finance).await;
    // Amber needs its reason.
    let p = post_to(&app, &finance, "/forecasts/new", "/forecasts", &forecast("")).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(element(&p.text, "rag_reason-error").len() > 20, "{}", p.text);
    assert!(p.text.contains(">Summer scheme late</textarea>"), "kept");
    let to = location(&post_to(&app, &finance, "/forecasts/new", "/forecasts", &forecast("behind")).await);
    assert_eq!(to, "/dashboard?financial_year=2023-24");
    let listed = app.get("/api/v1/forecasts?financial_year=2023-24", Role::Viewer).await;
    assert_eq!(listed.body["items"][0]["forecast_outturn"], "900.00", "{}", listed.body);
    assert_eq!(listed.body["items"][0]["made_by"], "test finance", "{}", listed.body);

    let indicator = json!({ "code": "SESS", "name": "Sessions", "unit": "sessions", "financial_year": "2023-24",
                            "baseline": "0", "target": "48", "quarterly_targets": ["12", "12", "12", "12"] });
    app.ok("/api/v1/projects/P1/indicators", Role::Approver, indicator).await;
    let ret =
        [("project", "P1"), ("indicator", "SESS"), ("financial_year", "2023-24"), ("quarter", "1"), ("actual", "9")];
    let to = location(&post_to(&app, &finance, "/indicator-returns/new", "/indicator-returns", &ret).await);
    assert_eq!(to, "/projects/P1");
    let p =
        post_to(&app, &finance, "/indicator-returns/new", "/indicator-returns", &[("project", "P1"), ("quarter", "5")])
            .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(element(&p.text, "quarter-error").len() > 20, "{}", p.text);
});

backend_test!(the_forecast_form_takes_today_from_the_ledger_not_the_clock, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    // Today fixed in Q2 of 2023-24, years before the clock's: each answer below is the other
    // way round on the clock's today.
    let app = crate::default_year::on(&app, "2023-08-15");
    let finance = sign_in(&app, Role::Finance).await;
    let sent = |quarter: &'static str, made_on: Option<&'static str>| {
        let mut fields: Vec<_> = forecast("behind").into_iter().filter(|(k, _)| *k != "made_on").collect();
        fields.iter_mut().filter(|(k, _)| *k == "quarter").for_each(|f| f.1 = quarter);
        fields.extend(made_on.map(|d| ("made_on", d)));
        fields
    };
    let p = post_to(&app, &finance, "/forecasts/new", "/forecasts", &sent("3", None)).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(element(&p.text, "quarter-error").contains("has not begun"), "{}", p.text);
    let p = post_to(&app, &finance, "/forecasts/new", "/forecasts", &sent("2", Some("2023-08-16"))).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(element(&p.text, "made_on-error").contains("must not be after today"), "{}", p.text);
    // Made on today by default, not on the quarter's last day.
    location(&post_to(&app, &finance, "/forecasts/new", "/forecasts", &sent("2", None)).await);
    let listed = app.get("/api/v1/forecasts?financial_year=2023-24", Role::Viewer).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1, "{}", listed.body);
    assert_eq!(listed.body["items"][0]["made_on"], "2023-08-15", "{}", listed.body);
    // The API reads on the same today.
    let body = json!({ "grant": "LDF", "financial_year": "2023-24", "quarter": 3, "project": "P1",
                       "forecast_outturn": "900", "progress_rag": "green" });
    let r = app.post("/api/v1/forecasts", Role::Finance, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "quarter", "{}", r.body);
});

backend_test!(the_desk_forms_refuse_a_viewer_and_a_post_without_its_token, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let viewer = sign_in(&app, Role::Viewer).await;
    let pages = ["/projects/new", "/projects/P1/status", "/receipts/new", "/repayments/new", "/forecasts/new"];
    for page in pages.iter().chain(&["/indicator-returns/new", "/grants/LDF/awards/2023-24/payment-schedule"]) {
        let p = send(&app, "GET", page, Some(&viewer), None, &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{page}");
        assert!(p.is_html());
    }
    let p = send(&app, "GET", "/projects/P1", Some(&viewer), None, &[]).await;
    assert_eq!(p.status, StatusCode::OK, "a viewer reads the project's page");
    assert!(!p.text.contains("/projects/P1/status"), "but is not offered its status: {}", p.text);
    let token = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&viewer), None, &[]).await.form_token();
    let admin = sign_in(&app, Role::Admin).await;
    let own = send(&app, "GET", "/projects/new", Some(&admin), None, &[]).await.form_token();
    let other =
        send(&app, "GET", "/projects/new", Some(&sign_in(&app, Role::Admin).await), None, &[]).await.form_token();
    let schedule = "/grants/LDF/awards/2023-24/payment-schedule";
    let actions = ["/projects", "/projects/P1/status", "/receipts", "/repayments", "/forecasts", "/indicator-returns"];
    for action in actions.iter().chain(&[schedule]) {
        let fields = "code=P7&name=x&priority=ASB&status=closed&grant=LDF&schedule%5B0%5D.amount=1";
        let p = send(&app, "POST", action, Some(&viewer), Some(&format!("{fields}&csrf_token={token}")), &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "viewer {action}: {}", p.text);
        for body in [fields.to_owned(), format!("{fields}&csrf_token=nope"), format!("{fields}&csrf_token={other}")] {
            let p = send(&app, "POST", action, Some(&admin), Some(&body), &[]).await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "{action} {body}: {}", p.text);
            assert!(p.text.contains("This form was not accepted"), "{}", p.text);
        }
        let p = send(&app, "POST", action, None, Some(&format!("{fields}&csrf_token={own}")), &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "no session, {action}");
    }
    assert_eq!(app.get("/api/v1/projects/P1", Role::Viewer).await.body["status"], "active", "nothing changed");
    assert_eq!(app.get("/api/v1/projects/P7", Role::Viewer).await.status, StatusCode::NOT_FOUND);
    let schedule = app.get("/api/v1/grants/LDF/awards/2023-24/payment-schedule", Role::Viewer).await;
    assert_eq!(schedule.body, json!([]), "no schedule set");
});

backend_test!(the_virements_page_lists_those_waiting_for_the_person_not_their_own, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.project("P2", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "9000").await;
    let body = json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": "P1", "to_project": "P2",
                       "amount": "6000", "approved_on": "2023-09-01", "approval_ref": "minute 4", "reason": HOSTILE });
    let proposed = app.post("/api/v1/virements", Role::Approver, body).await;
    assert_eq!(proposed.status, StatusCode::ACCEPTED, "above the threshold it waits: {}", proposed.body);
    let proposed = proposed.body;
    let id = proposed["virement_id"].as_i64().unwrap();
    assert_eq!(proposed["status"], "pending");
    let admin = sign_in(&app, Role::Admin).await;
    let p = send(&app, "GET", "/virements", Some(&admin), None, &[]).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert!(p.text.contains(&format!("<a href=\"/virements/{id}\">Virement {id}</a>")), "{}", p.text);
    assert!(p.text.contains("£6,000.00 of LDF 2023-24 from P1 to P2, proposed by test approver"), "{}", p.text);
    // Its proposer decides nothing of it; a viewer decides nothing at all.
    for role in [Role::Approver, Role::Viewer] {
        let p = send(&app, "GET", "/virements", Some(&sign_in(&app, role).await), None, &[]).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.text);
        assert!(!p.text.contains("id=\"waiting\""), "{role:?}: {}", p.text);
    }
    // Once decided, it waits no more.
    let token = send(&app, "GET", &format!("/virements/{id}"), Some(&admin), None, &[]).await.form_token();
    let body = format!("csrf_token={token}");
    let p = send(&app, "POST", &format!("/virements/{id}/approve"), Some(&admin), Some(&body), &[]).await;
    assert_eq!(location(&p), format!("/virements/{id}"));
    let p = send(&app, "GET", "/virements", Some(&admin), None, &[]).await;
    assert!(!p.text.contains("id=\"waiting\""), "{}", p.text);
});
