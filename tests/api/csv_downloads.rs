//! Every CSV download alike: each takes `bom` (one way, stated in the document), each ends its
//! lines CRLF (RFC 4180), and the Transparency file names who a refund or a clawback was
//! with, from the spend or the agreement it names.

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::open_data::{partners_and_agreements, raw_get};
use crate::support::TestApp;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Every route that answers CSV, asked for CSV; each has something to write here.
const CSV_ROUTES: [&str; 8] = [
    "/api/v1/reports/variance?financial_year=2023-24&format=csv",
    "/api/v1/reports/quarterly?financial_year=2023-24&format=csv",
    "/api/v1/reports/cash-position?financial_year=2023-24&format=csv",
    "/api/v1/exports/commissioner-return?financial_year=2023-24&quarter=3",
    "/api/v1/exports/monitoring-return?financial_year=2023-24&quarter=3&format=csv",
    "/api/v1/exports/transparency?from=2023-04-01&to=2024-03-31",
    "/api/v1/exports/vcse-grants?financial_year=2023-24",
    "/api/v1/exports/360giving?financial_year=2023-24&format=csv",
];

async fn csv(app: &TestApp, path: &str) -> Vec<u8> {
    let (status, content_type, bytes) = raw_get(app, path, Role::Viewer).await;
    assert_eq!(status, StatusCode::OK, "{path}: {}", String::from_utf8_lossy(&bytes));
    assert_eq!(content_type, "text/csv; charset=utf-8", "{path}");
    bytes
}

/// A spend over £500 with the supplier it names, and its entry id.
async fn spend(
    app: &TestApp,
    project: &str,
    supplier: &str,
    invoice: &str,
    amount: &str,
    commitment: Option<i64>,
) -> i64 {
    let mut body = TestApp::spend_body("LDF", project, "2023-10-20", amount);
    body["supplier"] = json!(supplier);
    body["invoice_ref"] = json!(invoice);
    if let Some(id) = commitment {
        body["commitment_id"] = json!(id);
    }
    app.ok("/api/v1/spend", Role::Finance, body).await["entry_id"].as_i64().unwrap()
}

backend_test!(every_csv_download_takes_bom_and_ends_its_lines_crlf, |app: TestApp| async move {
    partners_and_agreements(&app).await;
    spend(&app, "YOUTH", "Signs Ltd", "INV-1", "750.00", None).await;
    let doc = serde_json::to_value(grant_ledger::http::openapi::document()).unwrap();
    for path in CSV_ROUTES {
        let plain = csv(&app, path).await;
        assert!(!plain.starts_with(BOM), "{path}: no mark unless asked");
        let text = String::from_utf8(plain.clone()).unwrap();
        assert!(
            text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'),
            "{path}: every line CRLF: {text:?}"
        );
        assert_eq!(csv(&app, &format!("{path}&bom=true")).await, [BOM, &plain].concat(), "{path}");
        assert_eq!(csv(&app, &format!("{path}&bom=false")).await, plain, "{path}");
        let r = app.get(&format!("{path}&bom=yes"), Role::Viewer).await;
        assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["bom".to_owned()]), "{path}");
        let route = path.split('?').next().unwrap();
        let params = doc["paths"][route]["get"]["parameters"].as_array().unwrap();
        let bom = params.iter().find(|p| p["name"] == "bom").unwrap_or_else(|| panic!("{route}: bom undocumented"));
        assert_eq!((&bom["in"], &bom["required"]), (&json!("query"), &json!(false)), "{route}");
    }
    // Where a route answers JSON unless asked for CSV, the mark belongs to the CSV only.
    for path in [
        "/api/v1/reports/variance?financial_year=2023-24",
        "/api/v1/reports/quarterly?financial_year=2023-24&format=json",
        "/api/v1/reports/cash-position?financial_year=2023-24",
        "/api/v1/exports/360giving?financial_year=2023-24",
    ] {
        let r = app.get(&format!("{path}&bom=true"), Role::Viewer).await;
        assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["bom".to_owned()]), "{path}");
        assert_eq!(app.get(&format!("{path}&bom=false"), Role::Viewer).await.status, StatusCode::OK, "{path}");
    }
});

/// The Transparency file's rows: (beneficiary, purpose, amount), after the header.
fn transparency_rows(text: &str) -> Vec<(String, String, String)> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader.records().map(|r| r.unwrap()).map(|r| (r[2].to_owned(), r[3].to_owned(), r[4].to_owned())).collect()
}

backend_test!(refunds_and_clawbacks_name_their_beneficiary_in_the_transparency_file, |app: TestApp| async move {
    let ids = partners_and_agreements(&app).await;
    let agreement = ids[0]; // Tamworth Youth Trust, YOUTH, 6000.00 in 2023-24
    let bought = spend(&app, "CLEAN", "Signs Ltd", "INV-10", "1500.00", None).await;
    spend(&app, "YOUTH", "Tamworth Youth Trust", "GA-PAY-1", "3000.00", Some(agreement)).await;
    let refund = |amount: &str, extra: Value| {
        let mut body = json!({ "grant": "LDF", "project": "CLEAN", "date": "2023-11-01", "amount": amount,
                               "reference": "CN-1", "reason": "credit note" });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    // A refund naming the spend it returns; a clawback under the agreement; a refund naming
    // neither, whose beneficiary the ledger cannot know.
    let returned =
        app.ok("/api/v1/refunds", Role::Finance, refund("600.00", json!({ "spend_entry_id": bought }))).await;
    let mut clawback = refund("700.00", json!({ "commitment_id": agreement }));
    clawback["project"] = json!("YOUTH");
    clawback["reason"] = json!("unspent at the year's end");
    app.ok("/api/v1/refunds", Role::Finance, clawback).await;
    let mut unnamed = refund("550.00", json!({}));
    unnamed["reason"] = json!("credit note, no invoice named");
    app.ok("/api/v1/refunds", Role::Finance, unnamed).await;
    // A reversal of the refund that named its spend names the same beneficiary.
    let entry = returned["entry_id"].as_i64().unwrap();
    app.ok(
        &format!("/api/v1/entries/{entry}/reverse"),
        Role::Finance,
        json!({ "date": "2023-11-02", "reason": "refund recorded twice" }),
    )
    .await;

    let text =
        String::from_utf8(csv(&app, "/api/v1/exports/transparency?from=2023-04-01&to=2024-03-31").await).unwrap();
    let rows = transparency_rows(&text);
    let row = |purpose: &str| -> (String, String) {
        let r = rows.iter().find(|r| r.1 == purpose).unwrap_or_else(|| panic!("no row {purpose}: {text}"));
        (r.0.clone(), r.2.clone())
    };
    assert_eq!(row("Refund: credit note"), ("Signs Ltd".to_owned(), "-600.00".to_owned()), "{text}");
    assert_eq!(row("Refund: unspent at the year's end"), ("Tamworth Youth Trust".to_owned(), "-700.00".to_owned()));
    assert_eq!(row("Reversal: refund recorded twice"), ("Signs Ltd".to_owned(), "600.00".to_owned()));
    let unnamed: Vec<_> = rows.iter().filter(|r| r.2 == "-550.00").collect();
    assert_eq!(unnamed.len(), 1);
    assert_eq!(unnamed[0].0, "", "a refund naming nothing has no beneficiary to show: {text}");
    // The CLI writes the same file.
    let (ok, out, err) = app.cli(&["export", "transparency", "--from", "2023-04-01", "--to", "2024-03-31"]);
    assert!(ok, "{err}");
    assert_eq!(out, text);
    app.assert_verified().await;
});
