//! The funder's fund, its shares, reallocations, payments and the reconciliation (docs/api.md,
//! "Funds, shares, reallocations and payments") on Staffordshire's Locality Deal Fund
//! 2022-23: £724,750 across nine partnerships (`fixtures::staffordshire()`), Tamworth (TAM)
//! the home partnership, whose ledger holds LDF 2022-23 at £61,394 and ASB-EI 2022-23 at
//! £10,000 from the fixtures.

use axum::http::{Method, StatusCode};
use grant_ledger::domain::{AuditAction, AuditEntity};
use grant_ledger::storage::audit::{self, Change};
use grant_ledger::storage::tokens::{self, Role};
use serde_json::{Value, json};
use sqlx::Row;

use crate::backend_test;
use crate::support::{Reply, TestApp};

const FUNDS: &str = "/api/v1/funder/funds";
const FUND: &str = "/api/v1/funder/funds/LDF/2022-23";
const SHARES: &str = "/api/v1/funder/funds/LDF/2022-23/shares";
const REALLOCATIONS: &str = "/api/v1/funder/reallocations";
const PAYMENTS: &str = "/api/v1/funder/payments";
const RECONCILIATION: &str = "/api/v1/funder/reconciliation?financial_year=2022-23";

async fn put(app: &TestApp, path: &str, role: Role, body: Value) -> Reply {
    app.call(Method::PUT, path, Some(app.token(role)), Some(body), &[]).await
}

async fn one(app: &TestApp, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(app.store.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get("n")
}

/// Registers a partnership funded by `funder`, as the operator does.
async fn register(app: &TestApp, code: &str, name: &str, funder: &str, area_code: &str) {
    let body = json!({ "code": code, "name": name, "funder": funder, "area_code": area_code });
    let r = app.post("/api/v1/partnerships", Role::Operator, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// The eight partnerships beside Tamworth, as the county's fixture has them.
async fn the_county(app: &TestApp) -> grant_ledger::fixtures::County {
    let county = grant_ledger::fixtures::staffordshire().unwrap();
    for p in county.partnerships.iter().filter(|p| p.code != "TAM") {
        register(app, &p.code, &p.name, "SCO", &p.area_code).await;
    }
    county
}

fn shares_of(county: &grant_ledger::fixtures::County) -> Value {
    county.partnerships.iter().map(|p| json!({ "partnership": p.code, "amount": p.share })).collect()
}

/// The fund declared and its nine shares set as published.
pub(crate) async fn declared(app: &TestApp) -> grant_ledger::fixtures::County {
    let county = the_county(app).await;
    app.ok(FUNDS, Role::FunderAdmin, json!({ "grant": "LDF", "financial_year": "2022-23", "amount": "724750" })).await;
    let r = put(app, SHARES, Role::FunderAdmin, shares_of(&county)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    county
}

fn ok(r: &Reply) -> &Value {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    &r.body
}

fn refused(r: &Reply, field: &str) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.code(), "validation_failed", "{}", r.body);
    assert!(r.fields().contains(&field.to_owned()), "expected {field} named: {}", r.body);
}

fn conflict(r: &Reply, code: &str, partnership: &str) {
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.code(), code, "{}", r.body);
    assert_eq!(r.body["partnership"], partnership, "{}", r.body);
}

/// LDF 2022-23's award in Tamworth's ledger, as the awards list shows it.
async fn tam_award(app: &TestApp) -> Value {
    let r = app.get("/api/v1/grants/LDF/awards", Role::Viewer).await;
    ok(&r)["items"].as_array().unwrap().iter().find(|a| a["financial_year"] == "2022-23").unwrap().clone()
}

fn share(fund: &Value, code: &str) -> String {
    let s = fund["shares"].as_array().unwrap().iter().find(|s| s["partnership"] == code);
    s.map_or_else(|| "none".to_owned(), |s| s["amount"].as_str().unwrap().to_owned())
}

backend_test!(staffordshire_by_hand, |app: TestApp| async move {
    let county = the_county(&app).await;
    // Tamworth's ledger: P1 allocated £50,000 of LDF 2022-23, a receipt of £30,000 of it and
    // £9,000 of ASB-EI; a third grant, SVF, awarded £5,000 and not yet paid.
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2022-23", "P1", "50000").await;
    let receipt = |grant: &str, amount: &str, reference: &str| {
        json!({ "grant": grant, "financial_year": "2022-23", "date": "2022-05-03", "amount": amount,
                "reference": reference })
    };
    app.ok("/api/v1/receipts", Role::Finance, receipt("LDF", "30000", "SCO LDF 1")).await;
    app.ok("/api/v1/receipts", Role::Finance, receipt("ASB-EI", "9000", "SCO ASB 1")).await;
    app.ok(
        "/api/v1/grants",
        Role::Approver,
        json!({ "code": "SVF", "name": "Serious Violence Fund", "funder": "SCO", "on_overspend": "stop" }),
    )
    .await;
    app.ok(
        "/api/v1/grants/SVF/awards",
        Role::Approver,
        json!({ "financial_year": "2022-23", "amount": "5000", "awarded_on": "2022-04-01", "reference": "SVF" }),
    )
    .await;

    // The fund, declared once.
    let fund = app
        .ok(FUNDS, Role::FunderAdmin, json!({ "grant": "LDF", "financial_year": "2022-23", "amount": "724750" }))
        .await;
    assert_eq!((fund["amount"].as_str(), fund["shares_total"].as_str()), (Some("724750.00"), Some("0.00")));
    let again =
        app.post(FUNDS, Role::FunderAdmin, json!({ "grant": "LDF", "financial_year": "2022-23", "amount": "1" }));
    assert_eq!(again.await.code(), "conflict");

    // The nine shares: 85,000 + 77,000 + 49,914 + 80,000 + 68,000 + 78,000 + 75,442 + 61,394
    // + 150,000 = 724,750, the fund exactly. TAM's share is its award, already £61,394.
    let r = put(&app, SHARES, Role::FunderAdmin, shares_of(&county)).await;
    let fund = ok(&r).clone();
    assert_eq!(fund["shares"].as_array().unwrap().len(), 9);
    assert_eq!(fund["shares_total"], "724750.00");
    assert_eq!(fund["over_by"], "0.00");
    assert_eq!(fund["ceiling"], "724750.00");
    assert_eq!(share(&fund, "TAM"), "61394.00");
    assert_eq!(tam_award(&app).await["amount"], "61394.00");
    assert_eq!(one(&app, "select count(*) as n from entries where kind = 'share'").await, 0, "no change, no entry");

    // TAM's share set to £60,000 and back: its award follows, by entries of kind `share`.
    let mut lower = shares_of(&county);
    lower[7]["amount"] = json!("60000");
    assert_eq!(lower[7]["partnership"], "TAM");
    ok(&put(&app, SHARES, Role::FunderAdmin, lower).await);
    assert_eq!(tam_award(&app).await["amount"], "60000.00");
    assert_eq!(tam_award(&app).await["unallocated"], "10000.00");
    ok(&put(&app, SHARES, Role::FunderAdmin, shares_of(&county)).await);
    assert_eq!(tam_award(&app).await["amount"], "61394.00");
    assert_eq!(one(&app, "select count(*) as n from entries where kind = 'share'").await, 2);

    // After Q3: £5,000 from Cannock Chase to Tamworth, and £2,000 from Tamworth to Lichfield.
    let to_tam = app
        .ok(
            REALLOCATIONS,
            Role::FunderAdmin,
            json!({ "grant": "LDF", "financial_year": "2022-23", "from_partnership": "CAN", "to_partnership": "TAM",
                    "amount": "5000", "date": "2023-01-16", "reason": "Cannock's underspend to Tamworth's town centre work" }),
        )
        .await;
    assert_eq!(
        (&to_tam["from"]["partnership"], &to_tam["from"]["before"], &to_tam["from"]["after"]),
        (&json!("CAN"), &json!("85000.00"), &json!("80000.00"))
    );
    assert_eq!(to_tam["from"]["entry_id"], Value::Null, "Cannock's ledger is not in this service");
    assert_eq!((&to_tam["to"]["before"], &to_tam["to"]["after"]), (&json!("61394.00"), &json!("66394.00")));
    let entry_id = to_tam["to"]["entry_id"].as_i64().expect("TAM's award changed by an entry");
    let entry = app.get(&format!("/api/v1/entries/{entry_id}"), Role::Viewer).await;
    let entry = ok(&entry);
    assert_eq!(entry["kind"], "reallocation");
    assert_eq!(entry["date"], "2023-01-16");
    assert!(entry["memo"].as_str().unwrap().contains("Cannock's underspend"), "the reason shows: {entry}");
    let reverse = format!("/api/v1/entries/{entry_id}/reverse");
    let undo = app.post(&reverse, Role::Approver, json!({ "date": "2023-01-20", "reason": "no" })).await;
    assert_eq!((undo.status, undo.code()), (StatusCode::CONFLICT, "conflict"), "the funder corrects it: {}", undo.body);
    let from_tam = app
        .ok(
            REALLOCATIONS,
            Role::FunderAdmin,
            json!({ "grant": "LDF", "financial_year": "2022-23", "from_partnership": "TAM", "to_partnership": "LIC",
                    "amount": "2000", "date": "2023-02-01", "reason": "Lichfield's CCTV" }),
        )
        .await;
    assert_eq!((&from_tam["from"]["after"], &from_tam["to"]["after"]), (&json!("64394.00"), &json!("51914.00")));
    // 61,394 + 5,000 − 2,000 = 64,394 awarded; 64,394 − 50,000 allocated = 14,394 unallocated.
    let award = tam_award(&app).await;
    assert_eq!((&award["amount"], &award["unallocated"]), (&json!("64394.00"), &json!("14394.00")));
    // As at 31 December the award was still £61,394 (the reallocations are dated in Q4).
    let dec = app.get("/api/v1/reports/variance?financial_year=2022-23&as_at=2022-12-31&grant=LDF", Role::Viewer).await;
    assert_eq!(ok(&dec)["totals"]["awarded"], "61394.00");
    // The fund's total never changed: CAN 80,000, LIC 51,914, TAM 64,394.
    let fund = app.get(FUND, Role::Funder).await;
    let fund = ok(&fund).clone();
    assert_eq!(fund["shares_total"], "724750.00");
    assert_eq!(
        (share(&fund, "CAN"), share(&fund, "LIC"), share(&fund, "TAM")),
        ("80000.00".into(), "51914.00".into(), "64394.00".into())
    );

    // The overview: the fund and its shares, and TAM's row on its own ledger's figures.
    let overview = app.get("/api/v1/funder/overview?financial_year=2022-23", Role::Funder).await;
    let overview = ok(&overview).clone();
    let ldf = overview["funds"].as_array().unwrap().iter().find(|f| f["grant"] == "LDF").unwrap().clone();
    assert_eq!(
        (&ldf["amount"], &ldf["shares_total"], &ldf["over_by"]),
        (&json!("724750.00"), &json!("724750.00"), &json!("0.00"))
    );
    let row = overview["rows"].as_array().unwrap().iter().find(|r| r["grant"] == "LDF").unwrap().clone();
    for (name, want) in [
        ("partnership", "TAM"),
        ("awarded", "64394.00"),
        ("allocated", "50000.00"),
        ("unallocated", "14394.00"),
        ("received", "30000.00"),
    ] {
        assert_eq!(row[name], want, "{name} in {row}");
    }

    // Payments: LDF £30,000 (received: matched), ASB-EI £10,000 (£9,000 received: differs),
    // SVF £5,000 (nothing received yet), and Cannock's £20,000 (its ledger is elsewhere).
    let pay = |partnership: &str, grant: &str, amount: &str, reference: &str| {
        json!({ "partnership": partnership, "grant": grant, "financial_year": "2022-23", "date": "2022-05-01",
                "amount": amount, "reference": reference })
    };
    let p = app.ok(PAYMENTS, Role::FunderAdmin, pay("TAM", "LDF", "30000", "REM-1")).await;
    assert_eq!((&p["partnership"], &p["amount"]), (&json!("TAM"), &json!("30000.00")));
    app.ok(PAYMENTS, Role::FunderAdmin, pay("TAM", "ASB-EI", "10000", "REM-2")).await;
    let svf = app.ok(PAYMENTS, Role::FunderAdmin, pay("TAM", "SVF", "5000", "REM-3")).await;
    app.ok(PAYMENTS, Role::FunderAdmin, pay("CAN", "LDF", "20000", "REM-1")).await;
    let twice = app.post(PAYMENTS, Role::FunderAdmin, pay("TAM", "SVF", "5000", "REM-3")).await;
    assert_eq!((twice.status, twice.code()), (StatusCode::CONFLICT, "conflict"), "{}", twice.body);

    let rec = app.get(RECONCILIATION, Role::Funder).await;
    let rec = ok(&rec).clone();
    let rows: Vec<(&str, &str, &str, &str, &str)> = rec["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["grant"].as_str().unwrap(),
                r["paid"].as_str().unwrap(),
                r["received"].as_str().unwrap(),
                r["difference"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("ASB-EI", "10000.00", "9000.00", "1000.00", "differs"),
            ("LDF", "30000.00", "30000.00", "0.00", "matched"),
            ("SVF", "5000.00", "0.00", "5000.00", "paid_not_received"),
        ]
    );
    assert!(rec["rows"].as_array().unwrap().iter().all(|r| r["partnership"] == "TAM"));
    let unmatched: Vec<i64> =
        rec["unmatched_payments"].as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
    assert_eq!(unmatched.len(), 2, "ASB-EI's £10,000 and SVF's £5,000: {rec}");
    assert!(unmatched.contains(&svf["id"].as_i64().unwrap()));
    assert_eq!(rec["not_held"], json!([{ "partnership": "CAN", "grant": "LDF", "paid": "20000.00" }]));
    let csv = app.get(&format!("{RECONCILIATION}&format=csv"), Role::FunderAdmin).await;
    let text = ok(&csv).as_str().unwrap().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "partnership,grant,paid,received,difference,status");
    assert_eq!(lines[2], "TAM,LDF,30000.00,30000.00,0.00,matched");
    assert_eq!(lines.len(), 4, "{text}");

    // Audited: the fund, each share set, both sides of each reallocation, each payment.
    let audited = |entity: &str| {
        let app = &app;
        let entity = entity.to_owned();
        async move { one(app, &format!("select count(*) as n from audit_log where entity = '{entity}'")).await }
    };
    assert_eq!(audited("fund").await, 1);
    assert_eq!(audited("reallocation").await, 2);
    assert_eq!(audited("funder_payment").await, 4);
    // 9 shares set, TAM's twice more, then 2 sides of 2 reallocations.
    assert_eq!(audited("fund_share").await, 9 + 2 + 4);
    app.assert_verified().await;
});

/// What a refusal must leave as it was: the fund, TAM's award, the audit trail, the entries.
async fn state(app: &TestApp) -> (Value, Value, i64, i64) {
    let fund = app.get(FUND, Role::FunderAdmin).await;
    (
        ok(&fund).clone(),
        tam_award(app).await,
        one(app, "select count(*) as n from audit_log").await,
        one(app, "select count(*) as n from entries").await,
    )
}

pub(crate) fn reallocation(from: &str, to: &str, amount: &str, date: &str) -> Value {
    json!({ "grant": "LDF", "financial_year": "2022-23", "from_partnership": from, "to_partnership": to,
            "amount": amount, "date": date, "reason": "a test" })
}

/// Sets the funder's over-programming allowance as an operator's change is recorded.
async fn allow_over(app: &TestApp, pct: i64) {
    let mut db_tx = app.store.begin().await.unwrap();
    sqlx::query("update funders set over_programming_percent = $1 where code = 'SCO'")
        .bind(pct)
        .execute(&mut *db_tx)
        .await
        .unwrap();
    let change = Change {
        actor: "test",
        action: AuditAction::Update,
        entity: AuditEntity::Funder,
        key: "SCO",
        before: None,
        after: Some(json!({ "over_programming_percent": pct })),
        reason: "allowance",
    };
    audit::record_in(&mut db_tx, change).await.unwrap();
    db_tx.commit().await.unwrap();
}

backend_test!(every_refusal_changes_nothing, |app: TestApp| async move {
    let county = declared(&app).await;
    // Another funder's partnership, to be refused as unfunded.
    app.ok("/api/v1/funders", Role::Operator, json!({ "code": "WMP", "name": "West Midlands PCC" })).await;
    register(&app, "BIR", "Birmingham Community Safety Partnership", "WMP", "E08000025").await;
    // TAM: P1 allocated £60,000 from the start of the year; P2 £1,000 from 1 February.
    app.project("P1", "ASB").await;
    app.project("P2", "ASB").await;
    app.allocate("LDF", "2022-23", "P1", "60000").await;
    app.ok(
        "/api/v1/allocations",
        Role::Approver,
        json!({ "grant": "LDF", "financial_year": "2022-23", "project": "P2", "amount": "1000",
                "approved_on": "2023-02-01", "approval_ref": "CSP minute 9" }),
    )
    .await;
    let before = state(&app).await;
    let unchanged = |what: &'static str| {
        let app = &app;
        let before = before.clone();
        async move { assert_eq!(state(app).await, before, "{what} changed something") }
    };

    // Shares above the fund, then above it with a 10% allowance.
    let mut over = shares_of(&county);
    over[8]["amount"] = json!("150001");
    refused(&put(&app, SHARES, Role::FunderAdmin, over.clone()).await, "shares");
    unchanged("shares above the fund").await;
    allow_over(&app, 10).await;
    let before = state(&app).await;
    let unchanged = |what: &'static str| {
        let app = &app;
        let before = before.clone();
        async move { assert_eq!(state(app).await, before, "{what} changed something") }
    };
    // 10% of £724,750 is £72,475: the shares may add up to £797,225 and not a penny more.
    over[8]["amount"] = json!("222476");
    refused(&put(&app, SHARES, Role::FunderAdmin, over.clone()).await, "shares");
    unchanged("shares above the allowance").await;
    let mut twice = shares_of(&county);
    twice.as_array_mut().unwrap().push(json!({ "partnership": "CAN", "amount": "0" }));
    refused(&put(&app, SHARES, Role::FunderAdmin, twice).await, "shares[9].partnership");
    let negative = json!([{ "partnership": "CAN", "amount": "-5" }]);
    refused(&put(&app, SHARES, Role::FunderAdmin, negative).await, "shares[0].amount");
    let unknown = json!([{ "partnership": "XYZ", "amount": "5" }]);
    refused(&put(&app, SHARES, Role::FunderAdmin, unknown).await, "shares[0].partnership");
    let unfunded = json!([{ "partnership": "BIR", "amount": "5" }]);
    refused(&put(&app, SHARES, Role::FunderAdmin, unfunded).await, "shares[0].partnership");
    let r = put(&app, "/api/v1/funder/funds/LDF/2030-31/shares", Role::FunderAdmin, json!([])).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no such fund: {}", r.body);
    unchanged("refused shares").await;
    // TAM's share below what its ledger has allocated (£61,000).
    let mut below = shares_of(&county);
    below[7]["amount"] = json!("60999.99");
    conflict(&put(&app, SHARES, Role::FunderAdmin, below).await, "over_allocation", "TAM");
    unchanged("a share below the allocations").await;

    // Reallocations: TAM holds £394 unallocated; as at 16 January, before P2's allocation,
    // £1,394, which a reallocation dated then must still leave from 1 February on.
    let r = app.post(REALLOCATIONS, Role::FunderAdmin, reallocation("TAM", "CAN", "395", "2023-03-01")).await;
    conflict(&r, "over_allocation", "TAM");
    let r = app.post(REALLOCATIONS, Role::FunderAdmin, reallocation("TAM", "CAN", "1000", "2023-01-16")).await;
    conflict(&r, "over_allocation", "TAM");
    // As at 16 January it would leave £394: what stands from 1 February on is what counts.
    assert_eq!(r.body["unallocated"], "394.00", "{}", r.body);
    // More than Cannock's share.
    let r = app.post(REALLOCATIONS, Role::FunderAdmin, reallocation("CAN", "TAM", "85000.01", "2023-01-16")).await;
    conflict(&r, "over_allocation", "CAN");
    refused(
        &app.post(REALLOCATIONS, Role::FunderAdmin, reallocation("CAN", "CAN", "5", "2023-01-16")).await,
        "to_partnership",
    );
    refused(&app.post(REALLOCATIONS, Role::FunderAdmin, reallocation("CAN", "TAM", "0", "2023-01-16")).await, "amount");
    refused(
        &app.post(REALLOCATIONS, Role::FunderAdmin, reallocation("CAN", "TAM", "-5", "2023-01-16")).await,
        "amount",
    );
    refused(
        &app.post(REALLOCATIONS, Role::FunderAdmin, reallocation("CAN", "BIR", "5", "2023-01-16")).await,
        "to_partnership",
    );
    refused(
        &app.post(REALLOCATIONS, Role::FunderAdmin, reallocation("XYZ", "TAM", "5", "2023-01-16")).await,
        "from_partnership",
    );
    refused(&app.post(REALLOCATIONS, Role::FunderAdmin, reallocation("CAN", "TAM", "5", "2023-04-01")).await, "date");
    unchanged("refused reallocations").await;

    // A locked quarter of the home ledger: Q1 to Q3 locked, a date in Q3 refused, Q4 taken.
    for q in 1..=3 {
        let path = format!("/api/v1/financial-years/2022-23/quarters/{q}/lock");
        ok(&app.post(&path, Role::Admin, json!({ "reason": "filed" })).await);
    }
    let before = state(&app).await;
    let r = app.post(REALLOCATIONS, Role::FunderAdmin, reallocation("CAN", "TAM", "5", "2022-12-01")).await;
    conflict(&r, "period_closed", "TAM");
    assert_eq!(state(&app).await, before, "a locked quarter changed something");
    // A reallocation between two other partnerships touches no ledger here: taken.
    app.ok(REALLOCATIONS, Role::FunderAdmin, reallocation("CAN", "EST", "5", "2022-12-01")).await;
    app.ok(REALLOCATIONS, Role::FunderAdmin, reallocation("CAN", "TAM", "5", "2023-01-16")).await;
    app.assert_verified().await;
});

backend_test!(a_closed_year_takes_no_share_or_reallocation, |app: TestApp| async move {
    let county = declared(&app).await;
    // Resolve 2022-23 (everything returned to the funder) and close it.
    for grant in ["LDF", "ASB-EI"] {
        let unallocated = tam_unallocated(&app, grant).await;
        app.ok(
            &format!("/api/v1/grants/{grant}/awards/2022-23/year-end"),
            Role::Approver,
            json!({ "return_to_funder": unallocated, "reason": "returned" }),
        )
        .await;
    }
    let r = app.post("/api/v1/financial-years/2022-23/close", Role::Admin, json!({ "reason": "year end" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let before = state(&app).await;
    let mut lower = shares_of(&county);
    lower[7]["amount"] = json!("60000");
    conflict(&put(&app, SHARES, Role::FunderAdmin, lower).await, "period_closed", "TAM");
    let r = app.post(REALLOCATIONS, Role::FunderAdmin, reallocation("CAN", "TAM", "5", "2023-01-16")).await;
    conflict(&r, "period_closed", "TAM");
    assert_eq!(state(&app).await, before, "a closed year changed something");
    app.assert_verified().await;
});

async fn tam_unallocated(app: &TestApp, grant: &str) -> String {
    let r = app.get(&format!("/api/v1/grants/{grant}/awards"), Role::Viewer).await;
    let award = ok(&r)["items"].as_array().unwrap().iter().find(|a| a["financial_year"] == "2022-23").unwrap().clone();
    award["unallocated"].as_str().unwrap().to_owned()
}

backend_test!(every_new_route_as_every_role, |app: TestApp| async move {
    declared(&app).await;
    let writes: [(Method, &str); 4] =
        [(Method::POST, FUNDS), (Method::PUT, SHARES), (Method::POST, REALLOCATIONS), (Method::POST, PAYMENTS)];
    for role in Role::ALL {
        for (method, path) in &writes {
            // An empty object: the one role that may is told what is missing, nothing is written.
            let r = app.call(method.clone(), path, Some(app.token(role)), Some(json!({})), &[]).await;
            let want = if role == Role::FunderAdmin { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::FORBIDDEN };
            assert_eq!(r.status, want, "{role:?} {method} {path}: {}", r.body);
        }
        for path in [FUND, RECONCILIATION] {
            let want = if matches!(role, Role::Funder | Role::FunderAdmin | Role::Admin) {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(app.get(path, role).await.status, want, "{role:?} GET {path}");
        }
    }
    // A funder's admin of a funder that funds no partnership here is not told of them.
    app.ok("/api/v1/funders", Role::Operator, json!({ "code": "WMP", "name": "West Midlands PCC" })).await;
    let other =
        tokens::create_for_funder(&app.store, "WMP admin", Role::FunderAdmin, "WMP", "test", None).await.unwrap();
    let r = app
        .call(
            Method::POST,
            PAYMENTS,
            Some(&other.token),
            Some(json!({ "partnership": "TAM", "grant": "LDF", "financial_year": "2022-23", "date": "2022-05-01",
                         "amount": "1", "reference": "X" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    app.assert_verified().await;
});

backend_test!(a_payment_names_a_funded_partnership_and_its_funders_grant, |app: TestApp| async move {
    the_county(&app).await;
    let pay = |partnership: &str, grant: &str| {
        json!({ "partnership": partnership, "grant": grant, "financial_year": "2022-23", "date": "2022-05-01",
                "amount": "10", "reference": "R" })
    };
    let r = app.post(PAYMENTS, Role::FunderAdmin, pay("XYZ", "LDF")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    refused(&app.post(PAYMENTS, Role::FunderAdmin, pay("TAM", "NOPE")).await, "grant");
    let mut bad = pay("TAM", "LDF");
    bad["amount"] = json!("0");
    bad["date"] = json!("2022-13-01");
    let r = app.post(PAYMENTS, Role::FunderAdmin, bad).await;
    refused(&r, "amount");
    assert!(r.fields().contains(&"date".to_owned()), "{}", r.body);
    assert_eq!(one(&app, "select count(*) as n from funder_payments").await, 0);
    app.ok(PAYMENTS, Role::FunderAdmin, pay("TAM", "LDF")).await;
    app.ok(PAYMENTS, Role::FunderAdmin, pay("CAN", "LDF")).await;
    app.assert_verified().await;
});

backend_test!(the_command_line_declares_shares_reallocates_pays_and_reconciles, |app: TestApp| async move {
    let county = the_county(&app).await;
    let admin = app.token(Role::FunderAdmin).to_owned();
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--token", &admin]);
        app.cli(&all)
    };
    let (done, out, err) =
        run(&["funder", "fund", "add", "--grant", "LDF", "--financial-year", "2022-23", "--amount", "724750"]);
    assert!(done, "{err}");
    assert!(out.contains("\"amount\": \"724750.00\""), "{out}");
    let shares: Vec<String> = county.partnerships.iter().map(|p| format!("{}:{}", p.code, p.share)).collect();
    let mut args = vec!["funder", "fund", "shares", "--grant", "LDF", "--financial-year", "2022-23"];
    for s in &shares {
        args.extend(["--share", s.as_str()]);
    }
    let (done, out, err) = run(&args);
    assert!(done, "{err}");
    assert!(out.contains("\"shares_total\": \"724750.00\""), "{out}");
    // A bad share is named by its flag, nothing written.
    let (done, _, err) =
        run(&["funder", "fund", "shares", "--grant", "LDF", "--financial-year", "2022-23", "--share", "TAM:-1"]);
    assert!(!done && err.contains("--share 1 (amount)"), "{err}");
    let (done, _, err) = run(&[
        "funder",
        "fund",
        "reallocate",
        "--grant",
        "LDF",
        "--financial-year",
        "2022-23",
        "--from-partnership",
        "CAN",
        "--to-partnership",
        "TAM",
        "--amount",
        "5000",
        "--date",
        "2023-01-16",
        "--reason",
        "by hand",
    ]);
    assert!(done, "{err}");
    assert_eq!(tam_award(&app).await["amount"], "66394.00");
    let (done, _, err) = run(&[
        "funder",
        "pay",
        "TAM",
        "--grant",
        "LDF",
        "--financial-year",
        "2022-23",
        "--date",
        "2022-05-01",
        "--amount",
        "30000",
        "--reference",
        "REM-1",
    ]);
    assert!(done, "{err}");
    let (done, out, err) = run(&["funder", "reconciliation", "--financial-year", "2022-23", "--format", "csv"]);
    assert!(done, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["partnership,grant,paid,received,difference,status", "TAM,LDF,30000.00,0.00,30000.00,paid_not_received"]
    );
    // A partnership's role acts for no funder.
    let finance = app.token(Role::Finance).to_owned();
    let (done, _, err) = app.cli(&[
        "funder",
        "pay",
        "TAM",
        "--grant",
        "LDF",
        "--financial-year",
        "2022-23",
        "--date",
        "2022-05-01",
        "--amount",
        "1",
        "--reference",
        "X",
        "--token",
        &finance,
    ]);
    assert!(!done && err.contains("may not"), "{err}");
    app.assert_verified().await;
});

// `serve --demo` fills a county: the eight other partnerships registered, the fund declared
// with its nine shares; Tamworth's award is its share, unchanged; loading it again adds nothing.
backend_test!(the_demo_fills_a_county, |app: TestApp| async move {
    grant_ledger::fixtures::load_demo(&app.store).await.unwrap();
    let fund = app.get(FUND, Role::Funder).await;
    let fund = ok(&fund).clone();
    assert_eq!((fund["amount"].as_str(), fund["shares_total"].as_str()), (Some("724750.00"), Some("724750.00")));
    assert_eq!(fund["shares"].as_array().unwrap().len(), 9, "{fund}");
    assert_eq!((share(&fund, "TAM"), share(&fund, "LIC")), ("61394.00".into(), "49914.00".into()));
    assert_eq!(tam_award(&app).await["amount"], "61394.00");
    let listed = app.get("/api/v1/partnerships", Role::Operator).await;
    assert_eq!(ok(&listed)["items"].as_array().unwrap().len(), 9, "{}", listed.body);
    let entries = one(&app, "select count(*) as n from entries").await;
    grant_ledger::fixtures::load_county(&app.store).await.unwrap();
    assert_eq!(one(&app, "select count(*) as n from entries").await, entries);
    assert_eq!(ok(&app.get(FUND, Role::Funder).await)["shares_total"], "724750.00");
    app.assert_verified().await;
});

// The funder's page of a year (`/funder/{fy}`): the fund with every share and Tamworth's row,
// for the funder's roles and admin; the 403 page for the partnership's other roles; a year
// that is not one, a page saying so.
backend_test!(the_funders_page_shows_the_county_to_the_funder_alone, |app: TestApp| async move {
    use crate::pages::{send, sign_in};
    declared(&app).await;
    let filed = json!({ "kind": "commissioner-return", "financial_year": "2022-23", "quarter": 1 });
    let filed = app.ok("/api/v1/returns", Role::Finance, filed).await["id"].as_i64().unwrap();
    for role in [Role::Funder, Role::FunderAdmin, Role::Admin] {
        let secret = sign_in(&app, role).await;
        let page = send(&app, "GET", "/funder/2022-23", Some(&secret), None, &[]).await;
        assert_eq!(page.status, StatusCode::OK, "{role}: {}", page.text);
        for shown in [
            "Fund: LDF 2022-23, £724,750.00",
            "Lichfield District Community Safety Partnership</th><td class=\"num\">£49,914.00",
            "Stoke-on-Trent Community Safety Partnership [Illustrative]</th><td class=\"num\">£150,000.00",
            "<th scope=\"row\">Tamworth Community Safety Partnership</th><td>LDF</td><td class=\"num\">£61,394.00",
        ] {
            assert!(page.text.contains(shown), "{role}: {shown}: {}", page.text);
        }
        // The return filed, long after Q1's due date (the ledger's today is the clock's).
        let returns = page.text.split("id=\"funder-returns\"").nth(1).unwrap_or_else(|| panic!("{}", page.text));
        assert!(returns.contains(&format!("href=\"/returns/{filed}\">commissioner-return</a>")), "{returns}");
        assert!(returns.contains("2022-07-30") && returns.contains("<strong>Late</strong>"), "{returns}");
        let dashboard = send(&app, "GET", "/dashboard?financial_year=2022-23", Some(&secret), None, &[]).await;
        assert!(dashboard.text.contains("href=\"/funder/2022-23\""), "{role}: the dashboard links to it");
    }
    for role in [Role::Viewer, Role::Finance, Role::Approver] {
        let secret = sign_in(&app, role).await;
        let page = send(&app, "GET", "/funder/2022-23", Some(&secret), None, &[]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{role}: {}", page.text);
        assert!(!page.text.contains("724,750"), "{role}");
        let dashboard = send(&app, "GET", "/dashboard?financial_year=2022-23", Some(&secret), None, &[]).await;
        assert!(!dashboard.text.contains("/funder/"), "{role}: no link to it");
    }
    let secret = sign_in(&app, Role::Funder).await;
    for (path, status) in
        [("/funder/2031-32", StatusCode::UNPROCESSABLE_ENTITY), ("/funder/soon", StatusCode::UNPROCESSABLE_ENTITY)]
    {
        let page = send(&app, "GET", path, Some(&secret), None, &[]).await;
        assert_eq!(page.status, status, "{path}: {}", page.text);
        assert!(page.is_html() && page.text.contains("back-dashboard"), "{path}: a page with a way back");
    }
    let page = send(&app, "GET", "/funder/2022-23", None, None, &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "without a session: to sign in");

    // The funder_admin's forms: a reallocation and a payment, each back to the year's page.
    let officer = sign_in(&app, Role::FunderAdmin).await;
    let page = send(&app, "GET", "/funder/2022-23", Some(&officer), None, &[]).await;
    assert!(page.text.contains("href=\"/funder/reallocations/new\""), "{}", page.text);
    for (form, fields) in [
        (
            "/funder/reallocations",
            "grant=LDF&financial_year=2022-23&from_partnership=CAN&to_partnership=TAM&amount=5000&date=2023-01-16&reason=underspend",
        ),
        (
            "/funder/payments",
            "partnership=TAM&grant=LDF&financial_year=2022-23&date=2022-05-03&amount=30000&reference=SCO+LDF+1",
        ),
    ] {
        let token = send(&app, "GET", &format!("{form}/new"), Some(&officer), None, &[]).await.form_token();
        let done = send(&app, "POST", form, Some(&officer), Some(&format!("{fields}&csrf_token={token}")), &[]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{form}: {}", done.text);
        assert_eq!(done.headers["location"], "/funder/2022-23", "{form}");
    }
    let fund = app.get(FUND, Role::Funder).await;
    assert_eq!((share(&fund.body, "CAN"), share(&fund.body, "TAM")), ("80000.00".into(), "66394.00".into()));
    assert_eq!(tam_award(&app).await["amount"], "66394.00");
    let paid = one(&app, "select count(*) as n from funder_payments where reference = 'SCO LDF 1'").await;
    assert_eq!(paid, 1);
    // The page sets the payment beside Tamworth's receipts: none yet.
    let page = send(&app, "GET", "/funder/2022-23", Some(&officer), None, &[]).await;
    let table = page.text.split("id=\"reconciliation\"").nth(1).unwrap_or_else(|| panic!("{}", page.text));
    assert!(
        table.contains("<tr data-status=\"paid_not_received\"><th scope=\"row\">Tamworth Community Safety Partnership</th><td>LDF</td><td class=\"num\">£30,000.00</td><td class=\"num\">£0.00</td>"),
        "{table}"
    );
    let unmatched = page.text.split("id=\"unmatched-payments\"").nth(1).unwrap_or_else(|| panic!("{}", page.text));
    assert!(unmatched.contains("SCO LDF 1"), "{unmatched}");
    // Received in Tamworth's ledger: matched.
    let receipt = json!({ "grant": "LDF", "financial_year": "2022-23", "date": "2022-05-04", "amount": "30000",
                          "reference": "SCO LDF 1" });
    app.ok("/api/v1/receipts", Role::Finance, receipt).await;
    let page = send(&app, "GET", "/funder/2022-23", Some(&officer), None, &[]).await;
    assert!(page.text.contains("<tr data-status=\"matched\"><th scope=\"row\">Tamworth"), "{}", page.text);
    assert!(!page.text.contains("id=\"unmatched-payments\""), "{}", page.text);
    // The partnership's admin may open neither form.
    let admin = sign_in(&app, Role::Admin).await;
    for form in ["/funder/reallocations/new", "/funder/payments/new"] {
        assert_eq!(send(&app, "GET", form, Some(&admin), None, &[]).await.status, StatusCode::FORBIDDEN, "{form}");
    }
    app.assert_verified().await;
});

// `?partnership=` on the reports: the home partnership's code (or none) reads its ledger; a
// partnership the funder funds is 404 saying its ledger is not held here, to the funder alone;
// to anyone else, and for a code no one registered, 404 as if there were none.
backend_test!(a_report_names_whose_ledger_it_is, |app: TestApp| async move {
    the_county(&app).await;
    let reports = [
        "/api/v1/reports/variance?financial_year=2022-23",
        "/api/v1/reports/quarterly?financial_year=2022-23",
        "/api/v1/reports/cash-position?financial_year=2022-23",
        "/api/v1/reports/multi-year?grant=LDF",
    ];
    for report in reports {
        for role in [Role::Viewer, Role::Funder] {
            let own = app.get(report, role).await;
            let named = app.get(&format!("{report}&partnership=TAM"), role).await;
            assert_eq!(
                (own.status, named.status),
                (StatusCode::OK, StatusCode::OK),
                "{report} as {role}: {}",
                named.body
            );
            assert_eq!(own.body, named.body, "{report} as {role}: naming the home partnership changes nothing");
        }
        let not_held = app.get(&format!("{report}&partnership=LIC"), Role::Funder).await;
        assert_eq!((not_held.status, not_held.code()), (StatusCode::NOT_FOUND, "not_found"), "{report}");
        assert!(not_held.body["detail"].as_str().unwrap().contains("not held in this service"), "{}", not_held.body);
        for (role, code) in
            [(Role::Viewer, "LIC"), (Role::Finance, "LIC"), (Role::Funder, "NOPE"), (Role::Viewer, "NOPE")]
        {
            let r = app.get(&format!("{report}&partnership={code}"), role).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{report} {code} as {role}");
            let detail = r.body["detail"].as_str().unwrap().to_owned();
            assert!(detail.contains(&format!("partnership {code}")) && !detail.contains("held"), "{report}: {detail}");
        }
        let bad = app.get(&format!("{report}&partnership=no%20such"), Role::Funder).await;
        refused(&bad, "partnership");
    }
});

// The funder's page's downloads are the API route's overview: the same CSV (with a
// byte-order mark for Excel) and a workbook that reads back, through openpyxl, as the API's
// does; for the funder's roles and admin alone.
backend_test!(the_funders_page_downloads_the_overview, |app: TestApp| async move {
    use crate::pages::{send, sign_in};
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    declared(&app).await;
    let secret = sign_in(&app, Role::Funder).await;
    let page = send(&app, "GET", "/funder/2022-23", Some(&secret), None, &[]).await;
    assert!(
        page.text.contains("href=\"/dashboard/funder-overview?financial_year=2022-23&amp;format=xlsx\""),
        "{}",
        page.text
    );
    let csv = send(&app, "GET", "/dashboard/funder-overview?financial_year=2022-23", Some(&secret), None, &[]).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    let api = app.get("/api/v1/funder/overview?financial_year=2022-23&format=csv&bom=true", Role::Funder).await;
    assert_eq!(csv.text, ok(&api).as_str().unwrap(), "the page's CSV is the API's");
    assert!(csv.text.contains("TAM,Tamworth Community Safety Partnership,LDF,61394.00"), "{}", csv.text);
    // The workbook, as bytes.
    let req = axum::http::Request::builder()
        .uri("/dashboard/funder-overview?financial_year=2022-23&format=xlsx")
        .header("cookie", format!("gl_session={secret}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let bytes = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
    let (_, _, api_bytes) =
        crate::monitoring::raw_get(&app, "/api/v1/funder/overview?financial_year=2022-23&format=xlsx").await;
    assert_eq!(crate::monitoring::read_workbook(&bytes), crate::monitoring::read_workbook(&api_bytes));
    // Refused: a bad format, and the partnership's other roles.
    let bad =
        send(&app, "GET", "/dashboard/funder-overview?financial_year=2022-23&format=pdf", Some(&secret), None, &[]);
    let bad = bad.await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert!(bad.is_html() && bad.text.contains("format"), "{}", bad.text);
    let viewer = sign_in(&app, Role::Viewer).await;
    let refused =
        send(&app, "GET", "/dashboard/funder-overview?financial_year=2022-23", Some(&viewer), None, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
});
