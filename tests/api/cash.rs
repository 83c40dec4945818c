//! The funder's cash. An award paid in two instalments, a receipt short of
//! the schedule, a year end returning money, a repayment that clears it, and the cash
//! position's every figure, by hand; and the refusals, each writing nothing.

use axum::http::{Method, StatusCode};
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::{Reply, TestApp};

const SCHEDULE: &str = "/api/v1/grants/LDF/awards/2023-24/payment-schedule";

async fn put(app: &TestApp, path: &str, role: Role, body: Value) -> Reply {
    app.call(Method::PUT, path, Some(app.token(role)), Some(body), &[]).await
}

fn cash(date: &str, amount: &str, reference: &str) -> Value {
    json!({ "grant": "LDF", "financial_year": "2023-24", "date": date, "amount": amount, "reference": reference })
}

/// The LDF 2023-24 row of the cash position as at `as_at`.
async fn position(app: &TestApp, as_at: &str) -> Value {
    let r = app.get(&format!("/api/v1/reports/cash-position?financial_year=2023-24&as_at={as_at}"), Role::Funder).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["as_at"], as_at);
    let rows = r.body["awards"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "one award in 2023-24: {}", r.body);
    rows[0].clone()
}

/// Insists on every figure of a row, in API order.
fn assert_row(row: &Value, figures: [&str; 11], flag: bool) {
    let names = [
        "awarded",
        "scheduled_to_date",
        "received",
        "due_not_received",
        "spent",
        "cash_held",
        "returned",
        "repaid",
        "owed_to_funder",
        "underspend",
        "financial_year",
    ];
    for (name, want) in names.iter().zip(figures) {
        assert_eq!(row[*name], want, "{name} in {row}");
    }
    assert_eq!(row["grant"], "LDF");
    assert_eq!(row["underspend_flag"], flag, "{row}");
}

/// The cash side's balances, which a refusal must leave as they were.
async fn cash_balances(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for a in ["cash", "received", "owed", "claimed"] {
        out.push(app.balance(&format!("{a}:LDF:2023-24")).await);
    }
    out
}

fn refused(r: &Reply, status: StatusCode, field: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        assert_eq!(r.code(), "validation_failed", "{}", r.body);
        assert!(r.fields().contains(&field.to_owned()), "expected {field} named: {}", r.body);
    }
}

backend_test!(an_award_paid_in_instalments_returned_and_repaid, |app: TestApp| async move {
    // LDF 2023-24 is awarded £61,394.00 (the fixtures): 80% up front, 20% on evaluation.
    let schedule = json!([
        { "due_on": "2024-03-15", "amount": "12278.80", "condition": "subject to evaluation" },
        { "due_on": "2023-04-15", "amount": "49115.20" },
    ]);
    let r = put(&app, SCHEDULE, Role::Approver, schedule).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app.get(SCHEDULE, Role::Funder).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        json!([
            { "due_on": "2023-04-15", "amount": "49115.20", "condition": "" },
            { "due_on": "2024-03-15", "amount": "12278.80", "condition": "subject to evaluation" },
        ])
    );
    let audit = app.get("/api/v1/audit?entity=payment_schedule", Role::Viewer).await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1, "{}", audit.body);
    assert_eq!(audit.body["items"][0]["key"], "LDF/2023-24", "{}", audit.body);

    // A schedule a penny over the award is refused, naming it, and the old one stands.
    let over = json!([{ "due_on": "2023-04-15", "amount": "61394.01" }]);
    refused(&put(&app, SCHEDULE, Role::Approver, over).await, StatusCode::UNPROCESSABLE_ENTITY, "schedule");
    let bad = json!([{ "due_on": "2023-02-30", "amount": "1" }, { "due_on": "2023-05-01", "amount": "-1" }]);
    let r = put(&app, SCHEDULE, Role::Approver, bad).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "schedule[0].due_on");
    assert!(r.fields().contains(&"schedule[1].amount".to_owned()), "{}", r.body);
    refused(&put(&app, SCHEDULE, Role::Finance, json!([])).await, StatusCode::FORBIDDEN, "");
    assert_eq!(app.get(SCHEDULE, Role::Viewer).await.body.as_array().unwrap().len(), 2);
    let audit = app.get("/api/v1/audit?entity=payment_schedule", Role::Viewer).await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1, "refusals audit nothing");

    // Budget: P1 gets £50,000 and spends £30,000.
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "50000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-06-01", "30000")).await;

    // The first instalment falls due on 15 April; nothing has arrived by the 16th.
    assert_row(
        &position(&app, "2023-04-16").await,
        ["61394.00", "49115.20", "0.00", "49115.20", "0.00", "0.00", "0.00", "0.00", "0.00", "61394.00", "2023-24"],
        true,
    );

    // Receipts: the 80% in full, then £10,000 of the £12,278.80 due.
    let first = app.ok("/api/v1/receipts", Role::Finance, cash("2023-04-20", "49115.20", "SCO remittance 1")).await;
    assert_eq!(first["received"], "49115.20");
    let second = app.ok("/api/v1/receipts", Role::Finance, cash("2024-03-20", "10000.00", "SCO remittance 2")).await;
    assert_eq!(second["received"], "59115.20");
    assert_eq!(second["owed_to_funder"], "0.00");

    // Refusals of a receipt, each writing nothing.
    let before = cash_balances(&app).await;
    // £2,278.81 would take receipts a penny past the award.
    let r = app.post("/api/v1/receipts", Role::Finance, cash("2024-03-21", "2278.81", "too much")).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "amount");
    for (amount, field) in [("0", "amount"), ("-5.00", "amount"), ("1.001", "amount"), ("ten", "amount")] {
        let r = app.post("/api/v1/receipts", Role::Finance, cash("2024-03-21", amount, "x")).await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, field);
    }
    for date in ["2023-02-30", "2024-04-01", "yesterday"] {
        let r = app.post("/api/v1/receipts", Role::Finance, cash(date, "1.00", "x")).await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "date");
    }
    let mut no_ref = cash("2024-03-21", "1.00", "x");
    no_ref["reference"] = json!("");
    refused(&app.post("/api/v1/receipts", Role::Finance, no_ref).await, StatusCode::UNPROCESSABLE_ENTITY, "reference");
    for role in [Role::Approver, Role::Viewer, Role::Funder] {
        let r = app.post("/api/v1/receipts", role, cash("2024-03-21", "1.00", "x")).await;
        refused(&r, StatusCode::FORBIDDEN, "");
        let r = app.post("/api/v1/repayments", role, cash("2024-03-21", "1.00", "x")).await;
        refused(&r, StatusCode::FORBIDDEN, "");
    }
    // A locked quarter takes no receipt dated in it (quarters lock in order, Q1 first).
    let quarters = ["/api/v1/financial-years/2023-24/quarters/1", "/api/v1/financial-years/2023-24/quarters/2"];
    for q in quarters {
        let r = app.post(&format!("{q}/lock"), Role::Admin, json!({ "reason": "return filed" })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let r = app.post("/api/v1/receipts", Role::Finance, cash("2023-08-01", "1.00", "late")).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "period_closed"), "{}", r.body);
    for q in quarters.iter().rev() {
        let r = app.post(&format!("{q}/unlock"), Role::Admin, json!({ "reason": "done" })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    // Nothing is owed yet, so any repayment is more than is owed.
    let r = app.post("/api/v1/repayments", Role::Finance, cash("2024-03-21", "0.01", "early")).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "amount");
    assert_eq!(cash_balances(&app).await, before, "a refusal wrote to the cash accounts");

    // Before the year end: £11,394 unallocated and £20,000 available, above £15,000.
    assert_row(
        &position(&app, "2024-03-24").await,
        [
            "61394.00", "61394.00", "59115.20", "2278.80", "30000.00", "29115.20", "0.00", "0.00", "0.00", "31394.00",
            "2023-24",
        ],
        true,
    );

    // The year end (dated 25 March) carries £21,394 and returns £10,000, now owed.
    app.ok(
        "/api/v1/grants/LDF/awards/2023-24/year-end",
        Role::Approver,
        json!({ "carry_forward": "21394.00", "return_to_funder": "10000.00", "date": "2024-03-25", "reason": "year end" }),
    )
    .await;
    assert_eq!(app.balance("owed:LDF:2023-24").await, "-10000.00");
    assert_eq!(app.balance("claimed:LDF:2023-24").await, "10000.00");

    let before = cash_balances(&app).await;
    // A repayment above what is owed, or dated before the year end raised it: refused.
    let r = app.post("/api/v1/repayments", Role::Finance, cash("2024-03-28", "10000.01", "too much")).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "amount");
    let r = app.post("/api/v1/repayments", Role::Finance, cash("2024-03-24", "100.00", "before")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.body["as_at"], "2024-03-24", "{}", r.body);
    assert_eq!(cash_balances(&app).await, before, "a refusal wrote to the cash accounts");

    // Repaid in two parts; the second clears it, and a third penny is refused.
    let r = app.ok("/api/v1/repayments", Role::Finance, cash("2024-03-26", "4000.00", "BACS 1")).await;
    assert_eq!(r["owed_to_funder"], "6000.00");
    let r = app.post("/api/v1/repayments", Role::Finance, cash("2024-03-28", "6000.01", "BACS 2")).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "amount");
    let r = app.ok("/api/v1/repayments", Role::Finance, cash("2024-03-28", "6000.00", "BACS 2")).await;
    assert_eq!(r["owed_to_funder"], "0.00");
    assert_eq!(r["received"], "59115.20");
    let r = app.post("/api/v1/repayments", Role::Finance, cash("2024-03-29", "0.01", "BACS 3")).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "amount");

    // Every figure at the year's end: cash held = 59,115.20 − 30,000 − 10,000.
    assert_row(
        &position(&app, "2024-03-31").await,
        [
            "61394.00", "61394.00", "59115.20", "2278.80", "30000.00", "19115.20", "10000.00", "10000.00", "0.00",
            "0.00", "2023-24",
        ],
        false,
    );
    // As at 27 March: returned, £4,000 of it repaid, £6,000 owed.
    assert_row(
        &position(&app, "2024-03-27").await,
        [
            "61394.00", "61394.00", "59115.20", "2278.80", "30000.00", "25115.20", "10000.00", "4000.00", "6000.00",
            "0.00", "2023-24",
        ],
        false,
    );
    // The accounts the figures are sums of.
    assert_eq!(app.balance("cash:LDF:2023-24").await, "49115.20");
    assert_eq!(app.balance("received:LDF:2023-24").await, "-59115.20");
    assert_eq!(app.balance("owed:LDF:2023-24").await, "0.00");
    assert_eq!(app.balance("returned:LDF:2023-24").await, "-10000.00");
    app.assert_verified().await;

    // The CLI prints the same figures.
    let (ok, out, err) = app.cli(&[
        "report",
        "cash-position",
        "--financial-year",
        "2023-24",
        "--as-at",
        "2024-03-31",
        "--format",
        "csv",
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("LDF,2023-24,61394.00,61394.00,59115.20,2278.80,30000.00,19115.20,10000.00,10000.00,0.00,0.00,no"),
        "{out}"
    );

    // A closed year takes no receipt or repayment.
    let r = app.post("/api/v1/financial-years/2023-24/close", Role::Admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let before = cash_balances(&app).await;
    let r = app.post("/api/v1/receipts", Role::Finance, cash("2024-03-30", "1.00", "late")).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "period_closed"), "{}", r.body);
    assert_eq!(cash_balances(&app).await, before);
    app.assert_verified().await;
});

backend_test!(the_clawback_threshold_is_a_setting, |app: TestApp| async move {
    let r = app.get("/api/v1/settings", Role::Viewer).await;
    assert_eq!(r.body["clawback_threshold"], "15000.00", "{}", r.body);
    // LDF 2023-24's whole £61,394 is unallocated: flagged above £15,000, not above £61,394.
    let row = position(&app, "2023-04-01").await;
    assert_eq!((row["underspend"].as_str(), row["underspend_flag"].as_bool()), (Some("61394.00"), Some(true)));
    let r = app.patch("/api/v1/settings", Role::Admin, json!({ "clawback_threshold": "61394.00" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["clawback_threshold"], "61394.00");
    assert_eq!(position(&app, "2023-04-01").await["underspend_flag"], false);
    let r = app.patch("/api/v1/settings", Role::Admin, json!({ "clawback_threshold": "lots" })).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "clawback_threshold");
    let r = app.patch("/api/v1/settings", Role::Approver, json!({ "clawback_threshold": "1.00" })).await;
    refused(&r, StatusCode::FORBIDDEN, "");
    assert_eq!(app.get("/api/v1/settings", Role::Viewer).await.body["clawback_threshold"], "61394.00");
    // The report's own refusals name the parameter.
    let r = app.get("/api/v1/reports/cash-position?financial_year=2023-25", Role::Viewer).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "financial_year");
    let r = app.get("/api/v1/reports/cash-position?financial_year=2023-24&as_at=2024-02-30", Role::Viewer).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "as_at");
    let r = app.get("/api/v1/grants/LDF/awards/2030-31/payment-schedule", Role::Viewer).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
});

backend_test!(receipts_replay_under_their_key_and_are_reversed_by_finance, |app: TestApp| async move {
    let key = [("idempotency-key", "receipt-2023-05-01")];
    let body = cash("2023-05-01", "1000.00", "SCO remittance");
    let first =
        app.call(Method::POST, "/api/v1/receipts", Some(app.token(Role::Finance)), Some(body.clone()), &key).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = app.call(Method::POST, "/api/v1/receipts", Some(app.token(Role::Finance)), Some(body), &key).await;
    assert_eq!((again.status, &again.body), (StatusCode::CREATED, &first.body));
    assert_eq!(app.balance("received:LDF:2023-24").await, "-1000.00", "posted once");
    // Unknown grants and awards are named.
    let mut other = cash("2023-05-01", "1.00", "x");
    other["grant"] = json!("NOPE");
    refused(&app.post("/api/v1/receipts", Role::Finance, other).await, StatusCode::UNPROCESSABLE_ENTITY, "grant");
    let mut other = cash("2030-05-01", "1.00", "x");
    other["financial_year"] = json!("2030-31");
    refused(
        &app.post("/api/v1/receipts", Role::Finance, other).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "financial_year",
    );
    // A receipt recorded in error is reversed by finance, not by an approver.
    let reverse = format!("/api/v1/entries/{}/reverse", first.body["entry_id"]);
    let body = json!({ "date": "2023-05-02", "reason": "paid to the wrong award" });
    refused(&app.post(&reverse, Role::Approver, body.clone()).await, StatusCode::FORBIDDEN, "");
    app.ok(&reverse, Role::Finance, body).await;
    assert_eq!(app.balance("received:LDF:2023-24").await, "0.00");
    assert_eq!(app.balance("cash:LDF:2023-24").await, "0.00");
    app.assert_verified().await;
});
