//! Every stored name the pages show is shown as text: hostile markup, quotes, ampersands and
//! formula-looking text go in through the API and come out escaped on the dashboard and on
//! an error page, never as markup.

use axum::http::StatusCode;
use grant_ledger::storage::reference;
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::backend_test;
use crate::pages::{SignInPage, send};
use crate::support::TestApp;

/// Markup, an attribute break-out, a quote, an ampersand and a spreadsheet formula.
pub(crate) const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>'&=cmd|' /C calc'!A0";
/// The same, as a page must show it.
pub(crate) const ESCAPED: &str =
    "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;'&amp;=cmd|' /C calc'!A0";

backend_test!(hostile_names_are_escaped_on_every_page, |app: TestApp| async move {
    let h = |what: &str| format!("{what} {HOSTILE}");
    // The partnership's name comes from the reference data a ledger is set up with.
    let mut db_tx = app.store.begin().await.unwrap();
    reference::set_setting_in(&mut db_tx, "partnership", &h("partnership"), "setup").await.unwrap();
    db_tx.commit().await.unwrap();
    app.ok(
        "/api/v1/priorities",
        Role::Approver,
        json!({ "code": "PRX", "name": h("priority"), "description": h("d") }),
    )
    .await;
    app.ok("/api/v1/projects", Role::Approver, json!({ "code": "P1", "name": h("project"), "priority": "PRX" })).await;
    app.allocate("LDF", "2023-24", "P1", "12000").await;
    let mut spend = TestApp::spend_body("LDF", "P1", "2023-05-01", "2000");
    spend["supplier"] = json!(h("supplier"));
    app.ok("/api/v1/spend", Role::Finance, spend).await;
    app.ok(
        "/api/v1/organisations",
        Role::Approver,
        json!({ "code": "ESC", "name": h("organisation"), "kind": "vcse" }),
    )
    .await;
    let mut agreement = crate::agreements::agreement_body();
    agreement["recipient"] = json!("ESC");
    agreement["purpose"] = json!(h("purpose"));
    agreement["amount"] = json!("1000.00");
    agreement["schedule"] = json!([{ "financial_year": "2023-24", "amount": "1000.00" }]);
    let id = app.ok("/api/v1/commitments", Role::Finance, agreement).await["commitment_id"].as_i64().unwrap();
    let mut paid = TestApp::spend_body("LDF", "P1", "2023-10-05", "500");
    paid["commitment_id"] = json!(id);
    paid["supplier"] = json!(h("supplier"));
    app.ok("/api/v1/spend", Role::Finance, paid).await;
    let evidence =
        json!({ "date": "2023-11-01", "amount_evidenced": "100.00", "status": "partial", "note": h("note") });
    let e = app.ok(&format!("/api/v1/commitments/{id}/evidence"), Role::Finance, evidence).await;
    let reverse = format!("/api/v1/commitments/{id}/evidence/{}/reverse", e["id"]);
    app.ok(&reverse, Role::Finance, json!({ "date": "2023-11-02", "reason": h("reversal") })).await;
    let forecast = json!({ "grant": "LDF", "financial_year": "2023-24", "quarter": 4, "project": "P1",
        "forecast_outturn": "9000", "explanation": h("explanation"), "progress_rag": "amber",
        "rag_reason": h("rag reason"), "made_on": "2024-01-15" });
    app.ok("/api/v1/forecasts", Role::Finance, forecast).await;
    let indicator = json!({ "code": "SESS", "name": h("indicator"), "unit": h("unit"), "financial_year": "2023-24",
        "baseline": "0", "target": "40", "quarterly_targets": ["10", "10", "10", "10"] });
    app.ok("/api/v1/projects/P1/indicators", Role::Approver, indicator).await;
    let lock = "/api/v1/financial-years/2023-24/quarters/1/lock";
    assert_eq!(app.post(lock, Role::Admin, json!({ "reason": h("lock") })).await.status, StatusCode::OK);
    let token = app.ok("/api/v1/tokens", Role::Admin, json!({ "name": h("token"), "role": "viewer" })).await;

    let form = SignInPage::open(&app.router).await;
    let signed_in = form.post(&app.router, &format!("token={}", token["token"].as_str().unwrap()), &[]).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{}", signed_in.text);
    let secret = signed_in.cookie("gl_session").expect("the session cookie");
    let d = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&secret), None, &[]).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    for what in [
        "partnership",
        "priority",
        "project",
        "organisation",
        "purpose",
        "reversal",
        "explanation",
        "rag reason",
        "indicator",
        "unit",
        "lock",
        "token",
    ] {
        assert!(d.text.contains(&format!("{what} {ESCAPED}")), "the {what} shown escaped: {}", d.text);
    }
    assert!(!d.text.contains("<script") && !d.text.contains("<img"), "no markup from a name: {}", d.text);

    // An error page shows what it was asked for as text too.
    let path = format!("/dashboard?financial_year={}", "%3Cimg%20src%3Dx%20onerror%3Dalert(2)%3E%22%27%26");
    let e = send(&app, "GET", &path, Some(&secret), None, &[]).await;
    assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", e.text);
    assert!(!e.text.contains("<img"), "{}", e.text);
});
