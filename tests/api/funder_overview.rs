//! The funder's overview and its list of returns (docs/reports.md, "The funder's overview";
//! docs/returns.md, "Late and overdue") on Tamworth's LDF 2023-24, awarded £61,394.00 by the
//! fixtures. Set up here:
//! - P1 (ASB) allocated £40,000, P2 (DOMESTIC-ABUSE) £15,000: allocated 55,000, unallocated
//!   61,394 − 55,000 = 6,394.
//! - An order of £10,000 on P1 (committed 10,000); spend £8,000 on P1 and £3,000 on P2, not
//!   against the order (spent 11,000).
//! - No officer forecast: the forecast is actual + committed = 21,000, leaving
//!   55,000 − 21,000 = 34,000 unspent.
//! - A receipt of £30,000 from the funder (received 30,000); no year end, so owed 0.
//!
//! The year ended long before the clock's today, so all four quarters are past due (30 days)
//! and, with no Commissioner's return filed, four are overdue.

use axum::http::{Method, StatusCode};
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::{Reply, TestApp};

const OVERVIEW: &str = "/api/v1/funder/overview?financial_year=2023-24";
const RETURNS: &str = "/api/v1/funder/returns?financial_year=2023-24";

async fn set_up(app: &TestApp) {
    app.project("P1", "ASB").await;
    app.project("P2", "DOMESTIC-ABUSE").await;
    app.allocate("LDF", "2023-24", "P1", "40000").await;
    app.allocate("LDF", "2023-24", "P2", "15000").await;
    let order = json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "Youth charity",
                        "reference": "PO-1", "amount": "10000", "date": "2023-05-01" });
    app.ok("/api/v1/commitments", Role::Finance, order).await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-06-01", "8000")).await;
    let mut p2 = TestApp::spend_body("LDF", "P2", "2023-07-01", "3000");
    p2["invoice_ref"] = json!("INV-2");
    app.ok("/api/v1/spend", Role::Finance, p2).await;
    let receipt = json!({ "grant": "LDF", "financial_year": "2023-24", "date": "2023-04-20", "amount": "30000",
                          "reference": "SCO remittance 1" });
    app.ok("/api/v1/receipts", Role::Finance, receipt).await;
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

/// A filed return written straight into the table with the filing time the test needs: the
/// filing takes the clock's instant, which a test cannot set back to 2023.
async fn filed_at(app: &TestApp, kind: &str, quarter: i64, at: &str) {
    sqlx::query(
        "insert into filed_returns (kind, financial_year, quarter, filed_at, filed_by, file_name, content_type, body,
                                    sha256, anchors)
         values ($1, '2023-24', $2, $3, 'test', 'r.csv', 'text/csv', $4, 'ab', '')",
    )
    .bind(kind)
    .bind(quarter)
    .bind(at)
    .bind(vec![0u8])
    .execute(app.store.pool())
    .await
    .unwrap();
}

backend_test!(the_overview_row_is_the_ledgers_own_figures, |app: TestApp| async move {
    set_up(&app).await;
    let r = app.get(OVERVIEW, Role::Funder).await;
    let body = ok(&r).clone();
    assert_eq!(body["financial_year"], "2023-24");
    assert_eq!(body["return_due_days"], 30);
    let rows = body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "one partnership, one grant awarded in 2023-24: {body}");
    let row = &rows[0];
    let by_hand = [
        ("partnership", json!("TAM")),
        ("partnership_name", json!("Tamworth Community Safety Partnership")),
        ("grant", json!("LDF")),
        ("awarded", json!("61394.00")),
        ("allocated", json!("55000.00")),
        ("unallocated", json!("6394.00")),
        ("committed", json!("10000.00")),
        ("spent", json!("11000.00")),
        ("officer_forecast", json!("21000.00")),
        ("forecast_underspend", json!("34000.00")),
        ("received", json!("30000.00")),
        ("owed_to_funder", json!("0.00")),
        ("last_return_filed_at", Value::Null),
        ("returns_overdue", json!(4)),
    ];
    for (name, want) in &by_hand {
        assert_eq!(&row[*name], want, "{name} in {row}");
    }
    let names: Vec<&str> = row.as_object().unwrap().keys().map(String::as_str).collect();
    let mut columns = grant_ledger::reports::overview::CSV_HEADER;
    columns.sort_unstable();
    assert_eq!(names, columns, "the row's fields are the columns (the unit test holds their order)");

    // The same figures on the ledger's own reports, which the row is built from.
    let variance = app.get("/api/v1/reports/variance?financial_year=2023-24", Role::Funder).await;
    let g = &ok(&variance)["grants"][0];
    assert_eq!(g["grant"], "LDF");
    for (mine, theirs) in [
        ("awarded", "awarded"),
        ("allocated", "budget"),
        ("unallocated", "unallocated"),
        ("committed", "committed"),
        ("spent", "actual"),
        ("officer_forecast", "officer_forecast"),
        ("forecast_underspend", "forecast_underspend"),
        ("rag", "rag"),
        ("rag_why", "rag_why"),
    ] {
        assert_eq!(row[mine], g[theirs], "{mine} against the variance report's {theirs}");
    }
    let cash = app.get("/api/v1/reports/cash-position?financial_year=2023-24", Role::Funder).await;
    let a = &ok(&cash)["awards"][0];
    assert_eq!((&row["received"], &row["owed_to_funder"]), (&a["received"], &a["owed_to_funder"]));

    // Totals: the fund's side, per grant across partnerships (one today).
    let totals = body["totals"].as_array().unwrap();
    assert_eq!(totals.len(), 1, "{body}");
    assert_eq!(totals[0]["grant"], "LDF");
    assert_eq!(totals[0]["partnerships"], 1);
    for (name, _) in by_hand.iter().skip(3).take(9) {
        assert_eq!(totals[0][*name], row[*name], "total {name}");
    }
    assert_eq!(totals[0]["returns_overdue"], 4);

    // The admin reads it too; the partnership's own roles do not, on either route.
    for role in Role::ALL {
        let want = if matches!(role, Role::Funder | Role::FunderAdmin | Role::Admin) {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(app.get(OVERVIEW, role).await.status, want, "{role:?} overview");
        assert_eq!(app.get(RETURNS, role).await.status, want, "{role:?} returns");
    }
});

backend_test!(the_overview_as_csv_and_as_a_workbook, |app: TestApp| async move {
    set_up(&app).await;
    let r = app.get(&format!("{OVERVIEW}&format=csv"), Role::Funder).await;
    let text = ok(&r).as_str().unwrap().to_owned();
    assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "partnership,partnership_name,grant,awarded,allocated,unallocated,committed,spent,officer_forecast,\
         forecast_underspend,rag,rag_why,received,owed_to_funder,last_return_filed_at,returns_overdue"
    );
    assert_eq!(lines.len(), 2, "the header and LDF's row: {text}");
    assert!(
        lines[1].starts_with(
            "TAM,Tamworth Community Safety Partnership,LDF,61394.00,55000.00,6394.00,10000.00,11000.00,21000.00,34000.00,"
        ),
        "{}",
        lines[1]
    );
    assert!(lines[1].ends_with(",30000.00,0.00,,4"), "{}", lines[1]);
    let with_bom = app.get(&format!("{OVERVIEW}&format=csv&bom=true"), Role::Funder).await;
    assert!(ok(&with_bom).as_str().unwrap().starts_with('\u{feff}'));

    let (status, content_type, bytes) = crate::monitoring::raw_get(&app, &format!("{OVERVIEW}&format=xlsx")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let book = crate::monitoring::read_workbook(&bytes);
    let sheets: Vec<&str> = book.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(sheets, ["Overview", "Totals"]);
    let overview = &book[0]["rows"];
    let header: Vec<&str> = overview[0].as_array().unwrap().iter().map(|c| c[0].as_str().unwrap()).collect();
    assert_eq!(header, grant_ledger::reports::overview::CSV_HEADER);
    let row = overview[1].as_array().unwrap();
    assert_eq!(row[0][0], "TAM");
    assert_eq!(row[3][0], json!(61394), "awarded, a number");
    assert_eq!(row[3][1], "£#,##0.00;[Red]-£#,##0.00", "in pounds");
    assert_eq!(row[7][0], json!(11000), "spent");
    assert_eq!(row[12][0], json!(30000), "received");
    assert_eq!(row[15][0], json!(4), "returns overdue");
    let totals = &book[1]["rows"];
    assert_eq!(totals[1][0][0], "LDF");
    assert_eq!(totals[1][2][0], json!(61394), "the total awarded");

    // The CLI prints the same CSV from the same rows.
    let (done, stdout, stderr) =
        app.cli(&["report", "funder-overview", "--financial-year", "2023-24", "--format", "csv"]);
    assert!(done, "{stderr}");
    assert_eq!(stdout, text);

    // Bad parameters, each named.
    refused(&app.get("/api/v1/funder/overview", Role::Funder).await, "financial_year");
    refused(&app.get("/api/v1/funder/overview?financial_year=2023-25", Role::Funder).await, "financial_year");
    refused(&app.get("/api/v1/funder/overview?financial_year=2030-31", Role::Funder).await, "financial_year");
    refused(&app.get(&format!("{OVERVIEW}&format=pdf"), Role::Funder).await, "format");
    refused(&app.get(&format!("{OVERVIEW}&bom=true"), Role::Funder).await, "bom");
    refused(&app.get(&format!("{OVERVIEW}&format=xlsx&bom=true"), Role::Funder).await, "bom");
    refused(&app.get(&format!("{OVERVIEW}&grant=LDF"), Role::Funder).await, "grant");
    refused(&app.get(&format!("{RETURNS}&quarter=5"), Role::Funder).await, "quarter");
    refused(&app.get("/api/v1/funder/returns?financial_year=2030-31", Role::Funder).await, "financial_year");
});

backend_test!(a_return_filed_after_its_due_date_is_late_and_a_quarter_without_one_overdue, |app: TestApp| async move {
    set_up(&app).await;
    // Filed through the API now, years after Q1 2023-24 ended: late, and Q1 is no longer overdue.
    let filed = app
        .ok(
            "/api/v1/returns",
            Role::Finance,
            json!({ "kind": "commissioner-return", "financial_year": "2023-24", "quarter": 1 }),
        )
        .await;
    let r = app.get(OVERVIEW, Role::Funder).await;
    let row = &ok(&r)["rows"][0];
    assert_eq!(row["returns_overdue"], 3);
    assert_eq!(row["last_return_filed_at"], filed["filed_at"]);

    // Q2 ends 30 September 2023: due 30 October. Filed 31 days after its end: late.
    filed_at(&app, "commissioner-return", 2, "2023-10-31T09:00:00.000000Z").await;
    // Q3 ends 31 December 2023. A monitoring return 30 days after: on time, but not the
    // return the funder requires, so Q3 stays overdue.
    filed_at(&app, "monitoring-return", 3, "2024-01-30T09:00:00.000000Z").await;
    let r = app.get(RETURNS, Role::Funder).await;
    let items = ok(&r)["items"].as_array().unwrap().clone();
    let seen: Vec<(i64, &str, bool, &str)> = items
        .iter()
        .map(|i| {
            (
                i["quarter"].as_i64().unwrap(),
                i["kind"].as_str().unwrap(),
                i["late"].as_bool().unwrap(),
                i["due_on"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, "commissioner-return", true, "2023-07-30"),
            (2, "commissioner-return", true, "2023-10-30"),
            (3, "monitoring-return", false, "2024-01-30"),
        ]
    );
    assert!(items.iter().all(|i| i["partnership"] == "TAM"));
    assert_eq!(items[0]["id"], filed["id"]);
    assert_eq!(items[0]["sha256"], filed["sha256"]);
    let q2 = app.get(&format!("{RETURNS}&quarter=2"), Role::Funder).await;
    assert_eq!(ok(&q2)["items"].as_array().unwrap().len(), 1);
    let row = &ok(&app.get(OVERVIEW, Role::Funder).await)["rows"][0].clone();
    assert_eq!(row["returns_overdue"], 2, "Q3 and Q4 have no Commissioner's return");

    // A day more allowed and the Q2 return was on time.
    let r = app.patch("/api/v1/settings", Role::Admin, json!({ "return_due_days": 31 })).await;
    assert_eq!(ok(&r)["return_due_days"], 31);
    let r = app.get(&format!("{RETURNS}&quarter=2"), Role::Funder).await;
    assert_eq!(ok(&r)["items"][0]["late"], false);
    assert_eq!(ok(&r)["items"][0]["due_on"], "2023-10-31");
    let r = app.patch("/api/v1/settings", Role::Admin, json!({ "return_due_days": 30 })).await;
    ok(&r);

    // As at a day the pages may take as today: a return filed later does not count yet.
    let on = |today: &str| crate::default_year::on(&app, today);
    let day = on("2023-10-30");
    let row = ok(&day.get(OVERVIEW, Role::Funder).await)["rows"][0].clone();
    assert_eq!(row["returns_overdue"], 1, "Q1 is overdue; Q2 is due today, not yet overdue");
    assert_eq!(row["last_return_filed_at"], Value::Null);
    let day = on("2023-10-31");
    let row = ok(&day.get(OVERVIEW, Role::Funder).await)["rows"][0].clone();
    assert_eq!(row["returns_overdue"], 1, "Q1 still; Q2 was filed that day, late");
    assert_eq!(row["last_return_filed_at"], "2023-10-31T09:00:00.000000Z");
    let day = on("2023-07-30");
    assert_eq!(ok(&day.get(OVERVIEW, Role::Funder).await)["rows"][0]["returns_overdue"], 0, "Q1 due today");
});

backend_test!(the_funders_settings_are_checked_and_named, |app: TestApp| async move {
    let before = ok(&app.get("/api/v1/settings", Role::Viewer).await).clone();
    assert_eq!(before["return_due_days"], 30);
    assert_eq!(before["partnership_code"], "TAM");
    for bad in [json!(366), json!(-1), json!(30.5), json!("ten"), json!(null), json!(true)] {
        refused(
            &app.patch("/api/v1/settings", Role::Admin, json!({ "return_due_days": bad })).await,
            "return_due_days",
        );
    }
    for bad in [json!("TAM W"), json!(""), json!(7)] {
        refused(
            &app.patch("/api/v1/settings", Role::Admin, json!({ "partnership_code": bad })).await,
            "partnership_code",
        );
    }
    // A patch with one bad field writes none of it.
    let r = app
        .patch("/api/v1/settings", Role::Admin, json!({ "return_due_days": 10, "partnership_code": "no good" }))
        .await;
    refused(&r, "partnership_code");
    for role in [Role::Approver, Role::Finance, Role::Viewer, Role::Funder] {
        let r = app
            .call(Method::PATCH, "/api/v1/settings", Some(app.token(role)), Some(json!({ "return_due_days": 5 })), &[])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role:?}");
    }
    assert_eq!(ok(&app.get("/api/v1/settings", Role::Viewer).await), &before, "nothing written");

    for (days, code) in [(0, "TAMW"), (365, "TAM")] {
        let r = app
            .patch("/api/v1/settings", Role::Admin, json!({ "return_due_days": days, "partnership_code": code }))
            .await;
        assert_eq!(ok(&r)["return_due_days"], days);
        let r = app.get(OVERVIEW, Role::Funder).await;
        assert_eq!(ok(&r)["rows"][0]["partnership"], code);
        assert_eq!(ok(&r)["return_due_days"], days);
    }
    let audit = app.get("/api/v1/audit?entity=setting", Role::Admin).await;
    let keys: Vec<&str> = ok(&audit)["items"].as_array().unwrap().iter().filter_map(|i| i["key"].as_str()).collect();
    assert!(keys.contains(&"return_due_days") && keys.contains(&"partnership_code"), "each change audited: {keys:?}");
});
