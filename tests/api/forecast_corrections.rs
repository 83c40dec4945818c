//! A forecast stands until superseded, and forecasts and indicator returns recorded in
//! error are withdrawn with a reason, never edited (docs/design.md rule 10; docs/api.md
//! "Forecast rows add `forecast_quarter`").
//!
//! The scenario: P1 (ASB) has £10,000 of LDF 2023-24 and spends £2,000 on 1 May 2023 and
//! £3,000 on 1 December 2023, so actual + committed is £2,000 as at the end of Q1 and Q2
//! and £5,000 from Q3 on. Its officer forecasts £9,000 in Q2 (made 15 August 2023).

use axum::http::{Method, StatusCode};
use chrono::SecondsFormat;
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::TestApp;

fn forecast(quarter: u8, amount: &str, made_on: &str, explanation: &str) -> Value {
    json!({ "grant": "LDF", "financial_year": "2023-24", "quarter": quarter, "project": "P1",
            "forecast_outturn": amount, "explanation": explanation, "progress_rag": "amber",
            "rag_reason": "behind", "made_on": made_on })
}

async fn scenario(app: &TestApp) -> i64 {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "10000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-05-01", "2000")).await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-12-01", "3000")).await;
    let f = app.ok("/api/v1/forecasts", Role::Finance, forecast(2, "9000", "2023-08-15", "Summer scheme late")).await;
    f["id"].as_i64().unwrap()
}

/// The P1 row of the variance report at `query`.
async fn p1(app: &TestApp, query: &str) -> Value {
    let r = app.get(&format!("/api/v1/reports/variance?financial_year=2023-24{query}"), Role::Viewer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["rows"].as_array().unwrap().iter().find(|r| r["project"] == "P1").cloned().unwrap()
}

/// (officer_forecast, forecast_basis, forecast_quarter) of a row or subtotal.
fn shown(v: &Value) -> (String, String, Value) {
    (
        v["officer_forecast"].as_str().unwrap().to_owned(),
        v["forecast_basis"].as_str().unwrap().to_owned(),
        v["forecast_quarter"].clone(),
    )
}

fn s(officer: &str, basis: &str, quarter: Value) -> (String, String, Value) {
    (officer.to_owned(), basis.to_owned(), quarter)
}

/// The P1 line of a monitoring return, by column name.
async fn monitoring_line(app: &TestApp, quarter: u8, extra: &str) -> std::collections::HashMap<String, String> {
    let path = format!("/api/v1/exports/monitoring-return?financial_year=2023-24&quarter={quarter}{extra}");
    let r = app.get(&path, Role::Viewer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let text = r.body.as_str().unwrap().to_owned();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let line = reader.records().map(Result::unwrap).find(|l| &l[6] == "P1").unwrap_or_else(|| panic!("{text}"));
    header.into_iter().zip(line.iter().map(str::to_owned)).collect()
}

async fn dashboard(app: &TestApp, secret: &str, as_at: &str) -> String {
    let path = format!("/dashboard?financial_year=2023-24&as_at={as_at}");
    let p = crate::pages::send(app, "GET", &path, Some(secret), None, &[]).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    p.text
}

fn instant_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

backend_test!(a_forecast_made_in_q2_stands_in_q4_until_superseded, |app: TestApp| async move {
    scenario(&app).await;
    // The Q4 view (the case): the Q2 forecast, marked as made for Q2.
    for query in ["&as_at=2024-03-31", "&quarter=4", ""] {
        assert_eq!(shown(&p1(&app, query).await), s("9000.00", "officer", json!(2)), "{query}");
    }
    let r = app.get("/api/v1/reports/variance?financial_year=2023-24&as_at=2024-03-31", Role::Viewer).await;
    let ldf = r.body["grants"].as_array().unwrap().iter().find(|g| g["grant"] == "LDF").unwrap();
    assert_eq!(shown(ldf), s("9000.00", "officer", json!(2)), "the subtotal: the earliest of its rows' quarters");
    assert_eq!(r.body["forecast_quarter"], 4);
    // Q1 knows nothing of it; Q2 shows it as its own; before it was made, nothing stands.
    assert_eq!(shown(&p1(&app, "&as_at=2023-06-30").await), s("2000.00", "commitments", Value::Null));
    assert_eq!(shown(&p1(&app, "&quarter=1").await), s("5000.00", "commitments", Value::Null), "now, for Q1");
    assert_eq!(shown(&p1(&app, "&as_at=2023-09-30").await), s("9000.00", "officer", json!(2)));
    assert_eq!(shown(&p1(&app, "&as_at=2023-08-14").await), s("2000.00", "commitments", Value::Null));

    // The monitoring return says whose quarter the words are, on the line and the total.
    let q4 = monitoring_line(&app, 4, "").await;
    assert_eq!(q4["officer_forecast_outturn"], "9000.00");
    assert_eq!(q4["variance_explanation"], "Forecast made in Q2, not updated in Q4: Summer scheme late");
    let q2 = monitoring_line(&app, 2, "").await;
    assert_eq!(q2["variance_explanation"], "Summer scheme late");
    let r = app.get("/api/v1/exports/monitoring-return?financial_year=2023-24&quarter=4", Role::Viewer).await;
    let total = r.body.as_str().unwrap().lines().last().unwrap().to_owned();
    assert!(
        total.contains(",9000.00,1000.00,\"Includes forecasts made before Q4, not updated since\",amber,"),
        "{total}"
    );
    // The variance CSV carries the quarter beside the basis.
    let csv =
        app.get("/api/v1/reports/variance?financial_year=2023-24&as_at=2024-03-31&format=csv", Role::Viewer).await;
    assert!(csv.body.as_str().unwrap().contains(",9000.00,1000.00,officer,2,amber,"), "{}", csv.body);

    // The dashboard marks it as not updated this quarter; in Q2 it is not marked.
    let secret = crate::pages::sign_in(&app, Role::Viewer).await;
    let q4 = dashboard(&app, &secret, "2024-03-31").await;
    assert!(
        q4.contains("data-basis=\"officer\" data-not-updated=\"true\">Amber<br><span class=\"sub\">officer's forecast of Q2, not updated this quarter</span>"),
        "{q4}"
    );
    let q2 = dashboard(&app, &secret, "2023-09-30").await;
    assert!(!q2.contains("data-not-updated"), "{q2}");

    // A Q3 forecast supersedes it from when it was made.
    app.ok("/api/v1/forecasts", Role::Finance, forecast(3, "8000", "2023-11-20", "Back on track")).await;
    assert_eq!(shown(&p1(&app, "&as_at=2024-03-31").await), s("8000.00", "officer", json!(3)));
    assert_eq!(shown(&p1(&app, "&as_at=2023-11-19").await), s("9000.00", "officer", json!(2)));
    assert_eq!(shown(&p1(&app, "&quarter=2").await), s("9000.00", "officer", json!(2)), "Q2's view keeps Q2's");
    app.assert_verified().await;
});

backend_test!(a_forecast_recorded_in_error_is_withdrawn_with_a_reason, |app: TestApp| async move {
    let q2 = scenario(&app).await;
    // In Q3 the officer types £500 for £5,000, and the Q3 return is filed with it.
    let wrong = app.ok("/api/v1/forecasts", Role::Finance, forecast(3, "500", "2023-11-20", "typo")).await;
    let wrong_id = wrong["id"].as_i64().unwrap();
    let filed = app
        .ok(
            "/api/v1/returns",
            Role::Finance,
            json!({ "kind": "monitoring-return", "financial_year": "2023-24", "quarter": 3 }),
        )
        .await;
    let before = instant_now();
    assert_eq!(shown(&p1(&app, "&quarter=3").await), s("500.00", "officer", json!(3)));

    // Refusals first, each writing nothing.
    let withdraw = |id: i64| format!("/api/v1/forecasts/{id}/withdraw");
    for (role, status) in [(Role::Viewer, StatusCode::FORBIDDEN), (Role::Funder, StatusCode::FORBIDDEN)] {
        let r = app.post(&withdraw(wrong_id), role, json!({ "reason": "typo" })).await;
        assert_eq!(r.status, status, "{role:?}: {}", r.body);
    }
    for (body, field) in [
        (json!({}), "reason"),
        (json!({ "reason": "" }), "reason"),
        (json!({ "reason": "x", "amount": "5000" }), "amount"),
    ] {
        let r = app.post(&withdraw(wrong_id), Role::Finance, body).await;
        assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec![field.to_owned()]), "{}", r.body);
    }
    let r = app.post(&withdraw(999_999), Role::Finance, json!({ "reason": "x" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{}", r.body);
    let r = app.post("/api/v1/forecasts/abc/withdraw", Role::Finance, json!({ "reason": "x" })).await;
    assert_eq!(r.fields(), ["id"], "{}", r.body);
    assert_eq!(shown(&p1(&app, "&quarter=3").await), s("500.00", "officer", json!(3)), "nothing was withdrawn");

    // Withdrawn (by an approver: the roles that record forecasts), under an idempotency key.
    let key = [("idempotency-key", "withdraw-typo")];
    let token = app.token(Role::Approver).to_owned();
    let body = json!({ "reason": "£500 typed for £5,000" });
    let done = app.call(Method::POST, &withdraw(wrong_id), Some(&token), Some(body.clone()), &key).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    assert_eq!(done.body["id"], wrong_id);
    assert_eq!(done.body["withdrawal"]["reason"], "£500 typed for £5,000");
    assert_eq!(done.body["withdrawal"]["withdrawn_by"], "test approver");
    let again = app.call(Method::POST, &withdraw(wrong_id), Some(&token), Some(body), &key).await;
    assert_eq!((again.status, &again.body), (StatusCode::CREATED, &done.body), "replayed, not withdrawn twice");
    let r = app.post(&withdraw(wrong_id), Role::Finance, json!({ "reason": "twice" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{}", r.body);

    // It no longer counts: the Q2 forecast stands again. As known before, it still shows.
    assert_eq!(shown(&p1(&app, "&quarter=3").await), s("9000.00", "officer", json!(2)));
    let at = format!("&quarter=3&as_known_at={before}");
    assert_eq!(shown(&p1(&app, &at).await), s("500.00", "officer", json!(3)));
    let line = monitoring_line(&app, 3, &format!("&as_known_at={before}")).await;
    assert_eq!(line["officer_forecast_outturn"], "500.00");
    // The list keeps both, the withdrawn one with its reason.
    let listed = app.get("/api/v1/forecasts?financial_year=2023-24", Role::Funder).await;
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", listed.body);
    assert_eq!(items[0]["withdrawal"], Value::Null);
    assert_eq!(items[1]["withdrawal"]["reason"], "£500 typed for £5,000");
    assert_eq!(items[1]["forecast_outturn"], "500.00", "never edited");
    // The filed return still regenerates as filed (verify); its figures have changed since.
    app.assert_verified().await;
    let changes = app.get(&format!("/api/v1/returns/{}/changes", filed["id"]), Role::Viewer).await;
    assert_eq!(changes.body["changed"], true, "{}", changes.body);

    // Within one quarter: a later forecast supersedes, and withdrawing it lets the earlier stand.
    let a = app.ok("/api/v1/forecasts", Role::Finance, forecast(3, "5000", "2023-11-21", "corrected")).await;
    let b = app.ok("/api/v1/forecasts", Role::Finance, forecast(3, "5100", "2023-11-22", "second thoughts")).await;
    assert_eq!(shown(&p1(&app, "&quarter=3").await).0, "5100.00");
    app.ok(&withdraw(b["id"].as_i64().unwrap()), Role::Finance, json!({ "reason": "not agreed" })).await;
    assert_eq!(shown(&p1(&app, "&quarter=3").await), s("5000.00", "officer", json!(3)));
    let listed = app.get("/api/v1/forecasts?financial_year=2023-24&quarter=3", Role::Viewer).await;
    let flags: Vec<(Value, bool, bool)> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].clone(), f["superseded"].as_bool().unwrap(), !f["withdrawal"].is_null()))
        .collect();
    assert_eq!(
        flags,
        [(json!(wrong_id), true, true), (a["id"].clone(), false, false), (b["id"].clone(), false, true)],
        "a withdrawn forecast supersedes nothing; a standing one does"
    );
    // Every forecast withdrawn: the commitment position shows again.
    app.ok(&withdraw(a["id"].as_i64().unwrap()), Role::Finance, json!({ "reason": "x" })).await;
    app.ok(&withdraw(q2), Role::Finance, json!({ "reason": "x" })).await;
    assert_eq!(shown(&p1(&app, "&quarter=3").await), s("5000.00", "commitments", Value::Null));
    app.assert_verified().await;
});

backend_test!(a_forecast_of_a_closed_year_is_not_withdrawn, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2022-23", "P1", "100").await;
    let f = json!({ "grant": "LDF", "financial_year": "2022-23", "quarter": 4, "project": "P1",
                    "forecast_outturn": "0", "progress_rag": "green", "made_on": "2023-03-01" });
    let f = app.ok("/api/v1/forecasts", Role::Finance, f).await;
    let end = json!({ "return_to_funder": "61394.00", "reason": "unspent" });
    app.ok("/api/v1/grants/LDF/awards/2022-23/year-end", Role::Approver, end).await;
    let end = json!({ "return_to_funder": "10000.00", "reason": "unspent" });
    app.ok("/api/v1/grants/ASB-EI/awards/2022-23/year-end", Role::Approver, end).await;
    let r = app.post("/api/v1/financial-years/2022-23/close", Role::Admin, json!({ "reason": "closed" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app.post(&format!("/api/v1/forecasts/{}/withdraw", f["id"]), Role::Admin, json!({ "reason": "x" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "period_closed"), "{}", r.body);
    let listed = app.get("/api/v1/forecasts?financial_year=2022-23", Role::Viewer).await;
    assert_eq!(listed.body["items"][0]["withdrawal"], Value::Null);
});

/// P1's SESS indicator of 2023-24 as listed.
async fn actuals(app: &TestApp) -> Value {
    let r = app.get("/api/v1/projects/P1/indicators?financial_year=2023-24", Role::Viewer).await;
    r.body["items"][0].clone()
}

backend_test!(an_indicator_return_recorded_in_error_is_withdrawn_with_a_reason, |app: TestApp| async move {
    scenario(&app).await;
    let sess = json!({ "code": "SESS", "name": "Sessions", "unit": "sessions", "financial_year": "2023-24",
                       "baseline": "0", "target": "40", "quarterly_targets": ["10", "10", "10", "10"] });
    app.ok("/api/v1/projects/P1/indicators", Role::Approver, sess).await;
    let ret = |actual: &str| json!({ "project": "P1", "indicator": "SESS", "financial_year": "2023-24", "quarter": 1, "actual": actual });
    let first = app.ok("/api/v1/indicator-returns", Role::Finance, ret("8")).await;
    let wrong = app.ok("/api/v1/indicator-returns", Role::Finance, ret("80")).await;

    assert_eq!(actuals(&app).await["actuals"], json!(["80", null, null, null]));
    let before = instant_now();

    let withdraw = |id: &Value| format!("/api/v1/indicator-returns/{id}/withdraw");
    let r = app.post(&withdraw(&wrong["id"]), Role::Viewer, json!({ "reason": "typo" })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.post(&withdraw(&wrong["id"]), Role::Finance, json!({ "reason": " " })).await;
    assert_eq!(r.fields(), ["reason"], "{}", r.body);
    let r = app.post(&withdraw(&json!(424242)), Role::Finance, json!({ "reason": "x" })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let done = app.ok(&withdraw(&wrong["id"]), Role::Finance, json!({ "reason": "80 typed for 8" })).await;
    assert_eq!((&done["actual"], &done["withdrawal"]["reason"]), (&json!("80"), &json!("80 typed for 8")));
    let r = app.post(&withdraw(&wrong["id"]), Role::Approver, json!({ "reason": "again" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{}", r.body);

    // The earlier return counts again and is no longer superseded; both are listed.
    let sess = actuals(&app).await;
    assert_eq!(sess["actuals"], json!(["8", null, null, null]));
    let returns = sess["returns"].as_array().unwrap();
    assert_eq!(
        (&returns[0]["id"], &returns[0]["superseded"], &returns[0]["withdrawal"]),
        (&first["id"], &json!(false), &Value::Null)
    );
    assert_eq!(returns[1]["withdrawal"]["reason"], "80 typed for 8");
    // The monitoring return: actual to date 8 now, 80 as known before the withdrawal.
    assert_eq!(monitoring_line(&app, 1, "").await["actual_to_date"], "8");
    assert_eq!(monitoring_line(&app, 1, &format!("&as_known_at={before}")).await["actual_to_date"], "80");
    // Withdrawn too: the quarter has no return.
    app.ok(&withdraw(&first["id"]), Role::Approver, json!({ "reason": "register lost" })).await;
    assert_eq!(actuals(&app).await["actuals"], json!([null, null, null, null]));
    assert_eq!(monitoring_line(&app, 1, "").await["actual_to_date"], "");
    app.assert_verified().await;
});

backend_test!(withdrawals_are_append_only, |app: TestApp| async move {
    let f = scenario(&app).await;
    app.ok(&format!("/api/v1/forecasts/{f}/withdraw"), Role::Finance, json!({ "reason": "x" })).await;
    let sess = json!({ "code": "SESS", "name": "Sessions", "unit": "sessions", "financial_year": "2023-24",
                       "baseline": "0", "target": "4", "quarterly_targets": ["1", "1", "1", "1"] });
    app.ok("/api/v1/projects/P1/indicators", Role::Approver, sess).await;
    let body =
        json!({ "project": "P1", "indicator": "SESS", "financial_year": "2023-24", "quarter": 1, "actual": "1" });
    let r = app.ok("/api/v1/indicator-returns", Role::Finance, body).await;
    app.ok(&format!("/api/v1/indicator-returns/{}/withdraw", r["id"]), Role::Finance, json!({ "reason": "x" })).await;
    // Each table's own trigger refuses: these rows have no dependants.
    for table in ["forecast_withdrawals", "indicator_return_withdrawals"] {
        for sql in [format!("update {table} set reason = 'edited'"), format!("delete from {table}")] {
            let err = sqlx::query(&sql).execute(app.store.pool()).await.expect_err(&sql).to_string();
            assert!(err.contains("append-only"), "{sql}: {err}");
        }
    }
    let listed = app.get("/api/v1/forecasts?financial_year=2023-24", Role::Viewer).await;
    assert_eq!(listed.body["items"][0]["withdrawal"]["reason"], "x");
});
