//! CSV interchange end to end: spend import (all or nothing, duplicates, dry run, every
//! refusal named), hostile files, the bulk engine against the per-line one, and the
//! transparency and journal exports, the journals checked by hledger and bean-check.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use grant_ledger::csv::mapping::Mapping;
use grant_ledger::model::import::{Engine, ImportOptions, ImportReport};
use grant_ledger::storage::tokens::Role;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::backend_test;
use crate::support::{Backend, Rng, TestApp, TestDb};

const HEADER: &str = "date,grant,project,supplier,description,invoice_ref,amount,source_ref\n";

/// Sends raw bytes, as a finance officer's file would arrive.
async fn send_csv(app: &TestApp, path: &str, role: Role, bytes: Vec<u8>) -> (StatusCode, Value, String) {
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("authorization", format!("Bearer {}", app.token(role)))
        .header("content-type", "text/csv")
        .body(Body::from(bytes))
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let content_type = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, body, content_type)
}

async fn import(app: &TestApp, query: &str, csv: &str) -> (StatusCode, Value) {
    let (status, body, _) = send_csv(app, &format!("/api/v1/imports/spend{query}"), Role::Finance, csv.into()).await;
    (status, body)
}

/// A text reply (exports).
async fn get_text(app: &TestApp, path: &str, role: Role) -> (StatusCode, String) {
    let req = Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {}", app.token(role)))
        .body(Body::empty())
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    (status, String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
}

async fn entry_count(app: &TestApp) -> i64 {
    let (entries, _) = grant_ledger::storage::exports::journal(&app.store).await.unwrap();
    entries.len() as i64
}

/// Every account and its balance, as the ledger holds them.
async fn all_balances(app: &TestApp) -> Vec<(String, String)> {
    let (_, balances) = grant_ledger::storage::exports::journal(&app.store).await.unwrap();
    balances.into_iter().map(|(a, m)| (a, m.to_string())).collect()
}

fn errors_of(body: &Value) -> Vec<(u64, String, String)> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

backend_test!(generic_import_posts_all_lines_and_a_rerun_posts_nothing, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.project("P2", "DRUGS").await;
    app.allocate("LDF", "2023-24", "P1", "10000").await;
    app.allocate("LDF", "2023-24", "P2", "5000").await;
    // A byte-order mark, dd/mm/yyyy dates, CRLF line ends, a quoted cell, and a credit note.
    let file = format!(
        "\u{feff}{}\r\n2023-05-01,LDF,P1,Youth Trust,\"Sessions, May\",INV-1,1500.00,FIN-1\r\n\
         02/06/2023,LDF,P2,Cafe Ltd,Outreach lunch,INV-2,250.5,FIN-2\r\n\
         15/06/2023,LDF,P1,Youth Trust,Credit note,CN-1,-200,FIN-3\r\n",
        HEADER.trim_end()
    );
    let (status, body) = import(&app, "", &file).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64(), body["rejected"].as_u64()),
        (Some(3), Some(0), Some(0))
    );
    assert_eq!(body["posted"], true);
    assert_eq!(body["errors"], json!([]));
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-1300.00");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-8700.00");
    assert_eq!(app.balance("spent:LDF:2023-24:P2").await, "-250.50");
    let refunds = app.get("/api/v1/entries?kind=refund", Role::Viewer).await;
    assert_eq!(refunds.body["items"][0]["source_ref"], "FIN-3");
    assert_eq!(refunds.body["items"][0]["details"]["supplier"], "Youth Trust");

    let before = entry_count(&app).await;
    let (status, body) = import(&app, "", &file).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["accepted"].as_u64(), body["duplicates"].as_u64()), (Some(0), Some(3)), "{body}");
    assert_eq!(entry_count(&app).await, before, "a second run posts nothing");
    app.assert_verified().await;
});

backend_test!(dry_run_reports_exactly_what_a_real_run_does, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    app.ok("/api/v1/spend", Role::Finance, {
        let mut b = TestApp::spend_body("LDF", "P1", "2023-04-10", "100");
        b["source_ref"] = json!("OLD-1");
        b
    })
    .await;
    let file = format!(
        "{HEADER}2023-05-01,LDF,P1,S,D,I,400,A-1\n2023-05-01,LDF,P1,S,D,I,100,OLD-1\n2023-05-02,LDF,P1,S,D,I,400,A-1\n\
         2023-05-03,LDF,P1,S,D,I,500,A-3\n"
    );
    let balances = all_balances(&app).await;
    let (dry_status, dry) = import(&app, "?dry_run=true", &file).await;
    assert_eq!(all_balances(&app).await, balances, "a dry run posts nothing");
    let (real_status, real) = import(&app, "?dry_run=false", &file).await;
    assert_eq!(dry_status, real_status);
    assert_eq!(real_status, StatusCode::OK, "{real}");
    for field in ["accepted", "duplicates", "rejected", "errors", "warnings"] {
        assert_eq!(dry[field], real[field], "{field}: dry run {dry} vs real run {real}");
    }
    assert_eq!((dry["dry_run"].clone(), dry["posted"].clone()), (json!(true), json!(false)));
    assert_eq!((real["dry_run"].clone(), real["posted"].clone()), (json!(false), json!(true)));
    assert_eq!(real["accepted"], 2);
    assert_eq!(real["duplicates"], 2, "one already recorded, one repeated within the file");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "0.00");

    // The same for a file that a real run refuses: both answer 422 with one report.
    let refused = format!("{HEADER}2023-05-04,LDF,P1,S,D,I,0.01,B-1\n");
    let (s1, dry) = import(&app, "?dry_run=true", &refused).await;
    let (s2, real) = import(&app, "", &refused).await;
    assert_eq!((s1, s2), (StatusCode::UNPROCESSABLE_ENTITY, StatusCode::UNPROCESSABLE_ENTITY));
    assert_eq!(dry["errors"], real["errors"]);
    assert_eq!(errors_of(&real), vec![(2, "amount".into(), "overspend".into())]);
    app.assert_verified().await;
});

backend_test!(every_rejected_line_is_reported_and_nothing_is_posted, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.project("P2", "DRUGS").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    app.allocate("LDF", "2024-25", "P1", "1000").await;
    app.allocate("ASB-EI", "2022-23", "P1", "1000").await;
    // A year closes only once its money is resolved: return it all to the funder.
    app.ok(
        "/api/v1/grants/LDF/awards/2024-25/year-end",
        Role::Approver,
        json!({ "return_to_funder": "61394", "reason": "r" }),
    )
    .await;
    let r =
        app.call(Method::POST, "/api/v1/financial-years/2024-25/close", Some(app.token(Role::Admin)), None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let before = all_balances(&app).await;
    let entries_before = entry_count(&app).await;
    let file = format!(
        "{HEADER}\
         2023-05-01,LDF,P1,S,D,I,100,OK-1\n\
         2023-05-01,LDF,NOPE,S,D,I,100,X-2\n\
         2023-05-01,NOGRANT,P1,S,D,I,100,X-3\n\
         2023-05-01,LDF,P1,S,D,I,12.345,X-4\n\
         2023-02-30,LDF,P1,S,D,I,100,X-5\n\
         2024-05-01,LDF,P1,S,D,I,100,X-6\n\
         2023-05-01,LDF,P1,S,D,I,950,X-7\n\
         2022-05-01,ASB-EI,P2,S,D,I,100,X-8\n\
         2025-05-01,LDF,P1,S,D,I,100,X-9\n\
         2023-05-02,LDF,P1,S,D,I,-500,X-10\n\
         2023-05-01,LDF,P1,S,D,I,100,OK-1\n"
    );
    let (status, body) = import(&app, "", &file).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "validation_failed");
    assert_eq!(body["posted"], false);
    assert_eq!(
        errors_of(&body),
        vec![
            (3, "project".into(), "validation_failed".into()),
            (4, "grant".into(), "validation_failed".into()),
            (5, "amount".into(), "validation_failed".into()),
            (6, "date".into(), "validation_failed".into()),
            (7, "date".into(), "period_closed".into()),
            (8, "amount".into(), "overspend".into()),
            (9, "project".into(), "restricted_fund".into()),
            (10, "date".into(), "validation_failed".into()),
            (11, "amount".into(), "conflict".into()),
        ],
        "{body}"
    );
    assert_eq!(
        (body["accepted"].as_u64(), body["rejected"].as_u64(), body["duplicates"].as_u64()),
        (Some(1), Some(9), Some(1))
    );
    let messages: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert!(messages[0].contains("no project NOPE"), "{}", messages[0]);
    assert!(messages[5].contains("available 900.00, requested 950.00, shortfall 50.00"), "{}", messages[5]);
    assert!(messages[7].contains("no award for 2025-26"), "{}", messages[7]);
    assert_eq!(all_balances(&app).await, before, "all or nothing");
    assert_eq!(entry_count(&app).await, entries_before);
    app.assert_verified().await;
});

backend_test!(transparency_preset_maps_cost_centres_to_projects, |app: TestApp| async move {
    app.project("CS100", "ASB").await;
    app.allocate("LDF", "2023-24", "CS100", "5000").await;
    let file = "Body name,Date,Transaction number,Amount,Supplier name,Expense area,Expense type,Expense code,Extended description\n\
                Tamworth BC,01/05/2023,T-1,\"£1,500.00\",Youth Trust,CS100,Grants,5001,Diversionary sessions\n\
                Tamworth BC,03/05/2023,T-2,-£100.00,Youth Trust,CS100,Grants,5001,\n";
    let (status, body) = import(&app, "?mapping=transparency&grant=LDF", file).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"], 2);
    assert_eq!(app.balance("spent:LDF:2023-24:CS100").await, "-1400.00");
    // Without a grant, each line says what is missing.
    let (status, body) = import(&app, "?mapping=transparency", &file.replace("T-", "U-")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        errors_of(&body),
        vec![(2, "grant".into(), "validation_failed".into()), (3, "grant".into(), "validation_failed".into())]
    );
    let (status, body) = import(&app, "?mapping=unit4", file).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("mapping")));
    app.assert_verified().await;
});

backend_test!(toml_mapping_rules_send_expense_codes_to_projects_and_grants, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.project("P2", "DRUGS").await;
    app.allocate("LDF", "2022-23", "P2", "5000").await;
    app.allocate("ASB-EI", "2022-23", "P1", "5000").await;
    let mapping = Mapping::from_toml(
        r#"
        preset = "transparency"
        date_format = "%d-%b-%Y"
        default_grant = "LDF"
        cost_centre_is_project = false
        [columns]
        date = "Payment date"
        amount = "Net amount"
        [[rules]]
        cost_centre = "CSP01"
        expense_code = "4401"
        project = "P1"
        grant = "ASB-EI"
        [[rules]]
        cost_centre = "CSP01"
        project = "P2"
        "#,
    )
    .unwrap();
    let file = "Payment date,Transaction number,Net amount,Supplier name,Expense area,Expense type,Expense code,Extended description\n\
                01-May-2022,9001,700.00,Youth Trust,CSP01,Grants,4401,ASB diversion\n\
                02-May-2022,9002,300.00,Drug Aid,CSP01,Grants,5001,Outreach\n\
                03-May-2022,9003,10.00,Other,CSP99,Grants,5001,Not ours\n";
    let opts = |dry_run| ImportOptions { dry_run, created_by: "test", idem: None, engine: Engine::Bulk };
    let report =
        grant_ledger::csv::import_spend(&app.store, file.as_bytes(), &mapping, opts(false), &|_| {}).await.unwrap();
    assert_eq!(report.rejected, 1, "{report:?}");
    assert_eq!((report.errors[0].line, report.errors[0].field.as_str()), (4, "project"));
    let file = file.lines().take(3).collect::<Vec<_>>().join("\n");
    let report =
        grant_ledger::csv::import_spend(&app.store, file.as_bytes(), &mapping, opts(false), &|_| {}).await.unwrap();
    assert_eq!((report.accepted, report.posted), (2, true), "{report:?}");
    assert_eq!(app.balance("spent:ASB-EI:2022-23:P1").await, "-700.00");
    assert_eq!(app.balance("spent:LDF:2022-23:P2").await, "-300.00");
    app.assert_verified().await;
});

backend_test!(hostile_files_get_a_clear_error_and_post_nothing, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let good = "2023-05-01,LDF,P1,S,D,I,1,A\n";
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let random: Vec<u8> = (0..10 * 1024 * 1024).map(|_| rng.next() as u8).collect();
    let mut latin1 = format!("{HEADER}{good}2023-05-01,LDF,P1,Caf").into_bytes();
    latin1.extend_from_slice(b"\xE9 Ltd,D,I,1,B\n");
    let utf16: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain(format!("{HEADER}{good}").encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let cases: Vec<(&str, Vec<u8>, u64, &str)> = vec![
        ("UTF-16", utf16, 1, "UTF-16"),
        ("Latin-1", latin1, 3, "not UTF-8"),
        (
            "missing column",
            format!("date,grant,project,supplier,description,amount,source_ref\n{good}").into_bytes(),
            1,
            "invoice_ref",
        ),
        (
            "extra column",
            format!("{}vat_rate\n{},0\n", HEADER.replace('\n', ","), good.trim_end()).into_bytes(),
            1,
            "not a column",
        ),
        ("extra cell", format!("{HEADER}{},extra\n", good.trim_end()).into_bytes(), 2, "has 9 cells"),
        ("empty", Vec::new(), 1, "empty"),
        (
            "unclosed quote",
            format!("{HEADER}{good}2023-05-01,LDF,P1,\"Never closed,D,I,1,B\n{good}").into_bytes(),
            3,
            "never closed",
        ),
        ("random bytes", random, 1, ""),
        (
            "a line of a million characters",
            format!("{HEADER}{}\n", "x".repeat(1_000_000)).into_bytes(),
            2,
            "longer than",
        ),
    ];
    let before = all_balances(&app).await;
    for (what, bytes, line, needle) in cases {
        let (status, body, content_type) = send_csv(&app, "/api/v1/imports/spend", Role::Finance, bytes).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
        assert_eq!(content_type, "application/problem+json", "{what}");
        let first = &body["errors"][0];
        assert!(first["message"].as_str().unwrap().contains(needle), "{what}: {body}");
        if what != "random bytes" {
            assert_eq!(first["line"].as_u64(), Some(line), "{what}: {body}");
        }
        assert_eq!(body["posted"], false, "{what}");
    }
    assert_eq!(all_balances(&app).await, before, "nothing posted");
    app.assert_verified().await;
});

backend_test!(import_needs_the_finance_role_and_exports_are_readable_by_all, |app: TestApp| async move {
    for role in [Role::Viewer, Role::Funder, Role::Approver] {
        let (status, _, _) = send_csv(&app, "/api/v1/imports/spend", role, HEADER.into()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}");
    }
    let (status, body, _) = send_csv(&app, "/api/v1/imports/spend", Role::Admin, HEADER.into()).await;
    assert_eq!(status, StatusCode::OK, "a header alone imports nothing: {body}");
    for role in Role::ALL {
        for path in
            ["/api/v1/exports/journal?format=hledger", "/api/v1/exports/transparency?from=2023-04-01&to=2024-03-31"]
        {
            // Every role of the partnership and its funder; the operator reads no ledger.
            let want = if role == Role::Operator { StatusCode::FORBIDDEN } else { StatusCode::OK };
            assert_eq!(get_text(&app, path, role).await.0, want, "{role:?} {path}");
        }
    }
    let r = app.get("/api/v1/exports/journal?format=ledger", Role::Viewer).await;
    assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["format".to_owned()]));
    let r = app.get("/api/v1/exports/transparency?from=2023-04-01", Role::Viewer).await;
    assert_eq!(r.fields(), ["to"]);
    let r = app.get("/api/v1/imports/spend", Role::Finance).await;
    assert_ne!(r.status, StatusCode::OK);
});

backend_test!(transparency_export_lists_spend_over_500_with_text_defused, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "10000").await;
    let file = format!(
        "{HEADER}2023-05-01,LDF,P1,=HYPERLINK(\"http://evil\"),@SUM(A1),I-1,1500.00,T-1\n\
         2023-05-02,LDF,P1,Small Ltd,Tea,I-2,500.00,T-2\n\
         2023-05-03,LDF,P1,Youth Trust,-credit,I-3,-600,T-3\n\
         2023-05-04,LDF,P1,Big Ltd,Hall hire,I-5,800,T-5\n\
         2024-04-03,LDF,P1,Later,Outside the range,I-4,900,T-4\n"
    );
    app.allocate("LDF", "2024-25", "P1", "1000").await;
    let (status, body) = import(&app, "", &file).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let spent = app.get("/api/v1/entries?kind=spend", Role::Viewer).await;
    let first = spent.body["items"][0]["id"].as_i64().unwrap();
    app.ok(
        &format!("/api/v1/entries/{first}/reverse"),
        Role::Finance,
        json!({ "date": "2023-06-01", "reason": "wrong project" }),
    )
    .await;
    let (status, text) =
        get_text(&app, "/api/v1/exports/transparency?from=2023-04-01&to=2024-03-31", Role::Funder).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        vec![
            "Date,Department,Beneficiary,Purpose,Amount,Irrecoverable VAT,Merchant category",
            "2023-05-01,Tamworth Community Safety Partnership (LDF),\"'=HYPERLINK(\"\"http://evil\"\")\",'@SUM(A1),1500.00,,",
            "2023-05-03,Tamworth Community Safety Partnership (LDF),Youth Trust,Refund: -credit,-600.00,,",
            "2023-05-04,Tamworth Community Safety Partnership (LDF),Big Ltd,Hall hire,800.00,,",
            "2023-06-01,Tamworth Community Safety Partnership (LDF),\"'=HYPERLINK(\"\"http://evil\"\")\",Reversal: wrong project,-1500.00,,",
        ],
        "{text}"
    );
});

/// Builds the same reference data in a second, fresh ledger on the same backend.
async fn twin(app: &TestApp) -> (TestApp, TestDb) {
    let backend = match app.store.backend() {
        grant_ledger::storage::Backend::Sqlite => Backend::Sqlite,
        grant_ledger::storage::Backend::Postgres => Backend::Postgres,
    };
    let db = TestDb::create(backend).await.expect("the backend under test is available");
    (TestApp::start(&db.url).await, db)
}

async fn scenario_setup(app: &TestApp) {
    for (code, priority) in [("P1", "ASB"), ("P2", "DRUGS"), ("P3", "ASB"), ("P4", "VIOLENCE")] {
        app.project(code, priority).await;
    }
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
    for (grant, fy, project, amount) in [
        ("LDF", "2023-24", "P1", "2000"),
        ("LDF", "2023-24", "P2", "1500"),
        ("LDF", "2022-23", "P4", "1000"),
        ("ASB-EI", "2022-23", "P3", "800"),
        ("SOFT", "2023-24", "P2", "500"),
    ] {
        app.allocate(grant, fy, project, amount).await;
    }
}

/// Purchase orders for the random files to draw on, made alike in both ledgers: PO-1 for
/// P1 and PO-2 for P2 in LDF 2023-24, and two small orders sharing the reference PO-X.
/// Answers PO-1's and PO-2's ids.
async fn purchase_orders(app: &TestApp) -> [i64; 2] {
    let po = |project: &str, reference: &str, amount: &str, date: &str| {
        json!({ "grant": "LDF", "financial_year": "2023-24", "project": project, "supplier": "S",
                "reference": reference, "amount": amount, "date": date })
    };
    let a = app.ok("/api/v1/commitments", Role::Finance, po("P1", "PO-1", "300", "2023-05-01")).await;
    let b = app.ok("/api/v1/commitments", Role::Finance, po("P2", "PO-2", "200", "2023-06-01")).await;
    app.ok("/api/v1/commitments", Role::Finance, po("P1", "PO-X", "10", "2023-05-01")).await;
    app.ok("/api/v1/commitments", Role::Finance, po("P2", "PO-X", "10", "2023-05-01")).await;
    [a["commitment_id"].as_i64().unwrap(), b["commitment_id"].as_i64().unwrap()]
}

fn random_file(rng: &mut Rng, lines: usize, orders: [i64; 2]) -> String {
    // The generic layout with its optional VAT and commitment columns.
    let mut file = format!("{},vat,vat_recoverable,commitment_id,commitment_reference\n", HEADER.trim_end());
    for i in 0..lines {
        let grant = *rng.pick(&["LDF", "LDF", "ASB-EI", "SOFT", "NOGRANT"]);
        let project = *rng.pick(&["P1", "P2", "P3", "P4", "P9"]);
        // Dates out of order, some before the scenario's allocations' dates, so lines are
        // checked as at earlier dates than lines before them (rule 8).
        let date = *rng.pick(&["2023-05-01", "2022-06-15", "15/01/2024", "2025-04-02", "2023-04-01", "2023-09-30"]);
        let pence = rng.below(40_000) as i64 + 1;
        let pence = if rng.below(5) == 0 { -pence } else { pence };
        let sign = if pence < 0 { "-" } else { "" };
        let source_ref = if rng.below(4) == 0 { format!("R-{}", rng.below(lines as u64)) } else { format!("L-{i}") };
        // VAT: none, up to a fifth of the amount, or (sometimes) more than a refund itself.
        let vat = match rng.below(4) {
            0 => String::new(),
            1 => format!("{}.{:02}", pence.abs() * 2 / 100, pence.abs() * 2 % 100),
            _ => format!("{}.{:02}", pence.abs() / 500, pence.abs() / 5 % 100),
        };
        let recoverable = *rng.pick(&["", "true", "false", "no"]);
        // A purchase order by id or by reference: mostly of the line's grant, project and
        // year, sometimes not, dated before the line, unknown, or a reference two orders share.
        let order = rng.below(2) as usize;
        let (id, reference) = match rng.below(8) {
            0 | 1 => (orders[order].to_string(), ""),
            2 => (String::new(), *rng.pick(&["PO-1", "PO-2", "PO-1", "PO-2", "PO-X", "PO-NONE"])),
            3 if rng.below(4) == 0 => ("999".to_owned(), ""),
            _ => (String::new(), ""),
        };
        let order = match reference {
            "PO-1" => 0,
            "PO-2" => 1,
            _ => order,
        };
        let (grant, project, date) = if (!id.is_empty() || !reference.is_empty()) && rng.below(4) != 0 {
            ("LDF", ["P1", "P2"][order], *rng.pick(&["2023-09-30", "15/01/2024", "2023-05-01"]))
        } else {
            (grant, project, date)
        };
        file.push_str(&format!(
            "{date},{grant},{project},Supplier {i},Line {i},INV-{i},{sign}{}.{:02},{source_ref},{vat},{recoverable},{id},{reference}\n",
            pence.abs() / 100,
            pence.abs() % 100
        ));
    }
    file
}

async fn run_engine(app: &TestApp, file: &str, engine: Engine, dry_run: bool) -> ImportReport {
    let opts = ImportOptions { dry_run, created_by: "test", idem: None, engine };
    grant_ledger::csv::import_spend(&app.store, file.as_bytes(), &Mapping::generic(), opts, &|_| {}).await.unwrap()
}

/// The entries as (kind, date, memo, postings), without ids and timestamps.
async fn entry_shapes(app: &TestApp) -> Vec<String> {
    let (entries, _) = grant_ledger::storage::exports::journal(&app.store).await.unwrap();
    entries.iter().map(|e| format!("{} {} {} {:?}", e.kind, e.date, e.memo, e.postings)).collect()
}

backend_test!(bulk_engine_agrees_with_the_per_line_path, |app: TestApp| async move {
    let (other, db) = twin(&app).await;
    scenario_setup(&app).await;
    scenario_setup(&other).await;
    let orders = purchase_orders(&app).await;
    assert_eq!(purchase_orders(&other).await, orders, "the twins' orders have the same ids");
    async fn committed(app: &TestApp) -> (String, String) {
        (app.balance("committed:LDF:2023-24:P1").await, app.balance("committed:LDF:2023-24:P2").await)
    }
    let committed_before = committed(&app).await;
    let (mut posted, mut codes, mut warned) = (0, std::collections::BTreeSet::new(), 0);
    let (mut as_at_refusals, mut vat_refusals, mut commitment_refusals) = (0, 0, 0);
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let file = random_file(&mut rng, 40, orders);
        // Files with refusals: both engines report the same lines, fields and reasons.
        let per_line = run_engine(&app, &file, Engine::PerLine, true).await;
        let bulk = run_engine(&app, &file, Engine::Bulk, true).await;
        assert_eq!(per_line, bulk, "seed {seed}:\n{file}");
        codes.extend(bulk.errors.iter().map(|e| e.code));
        vat_refusals += bulk.errors.iter().filter(|e| e.field == "vat").count();
        commitment_refusals += bulk.errors.iter().filter(|e| e.field.starts_with("commitment_")).count();
        as_at_refusals += bulk.errors.iter().filter(|e| e.field == "date" && e.code != "validation_failed").count();
        // The lines that pass, posted for real: the same entries and balances either way.
        let rejected: std::collections::BTreeSet<u64> = bulk.errors.iter().map(|e| e.line).collect();
        let passing: String = file
            .lines()
            .enumerate()
            .filter(|(i, _)| !rejected.contains(&(*i as u64 + 1)))
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let a = run_engine(&app, &passing, Engine::PerLine, false).await;
        let b = run_engine(&other, &passing, Engine::Bulk, false).await;
        assert_eq!((a.accepted, a.duplicates, a.rejected), (b.accepted, b.duplicates, b.rejected), "seed {seed}");
        assert_eq!((a.warnings.clone(), a.posted), (b.warnings.clone(), b.posted), "seed {seed}");
        assert_eq!(all_balances(&app).await, all_balances(&other).await, "seed {seed}");
        assert_eq!(entry_shapes(&app).await, entry_shapes(&other).await, "seed {seed}");
        posted += b.accepted * usize::from(b.posted);
        warned += b.warnings.len();
    }
    // The random files must exercise what they compare: refusals of each kind, posting, warnings.
    assert!(posted > 0 && warned > 0, "posted {posted}, warned {warned}");
    assert!(as_at_refusals > 0, "no line was refused as at an earlier date");
    for code in ["validation_failed", "overspend", "restricted_fund", "conflict"] {
        assert!(codes.contains(code), "no {code} among {codes:?}");
    }
    assert!(vat_refusals > 0, "no line was refused for its VAT");
    assert!(commitment_refusals > 0, "no line was refused for the commitment it names");
    assert_ne!(committed(&app).await, committed_before, "no imported line drew on a purchase order");
    app.assert_verified().await;
    other.assert_verified().await;
    other.store.close().await;
    db.drop().await;
});

/// A clean file long enough to span several of the bulk engine's batches and insert
/// statements. Project P2 first appears after line 3,000, so its spent account is opened
/// by a late batch while earlier entries are already written.
fn long_file(lines: usize) -> String {
    let mut file = HEADER.to_owned();
    for i in 0..lines {
        let project = if i < 3_000 || i % 2 == 0 { "P1" } else { "P2" };
        let (sign, pence) = if i % 7 == 3 { ("-", 1) } else { ("", 1 + i % 5) };
        file.push_str(&format!(
            "2023-05-{:02},LDF,{project},S{i},Line {i},INV-{i},{sign}0.{pence:02},LONG-{i}\n",
            1 + i % 28
        ));
    }
    file
}

backend_test!(a_long_import_is_written_while_it_is_checked, |app: TestApp| async move {
    scenario_setup(&app).await;
    let before = all_balances(&app).await;
    let entries_before = entry_shapes(&app).await.len();

    // A bad line near the end, after the writer has written thousands of entries: nothing
    // is posted, and the report names the line.
    let mut doomed = long_file(4_500);
    doomed.push_str("2023-05-02,LDF,P9,S,Bad project,INV-X,1.00,LONG-X\n");
    let report = run_engine(&app, &doomed, Engine::Bulk, false).await;
    assert_eq!((report.accepted, report.rejected, report.posted), (4_500, 1, false));
    assert_eq!(report.errors[0].line, 4_502);
    assert_eq!(all_balances(&app).await, before);
    assert_eq!(entry_shapes(&app).await.len(), entries_before);

    // A dry run of the clean file posts nothing either, and says what the real run does.
    let file = long_file(4_500);
    let dry = run_engine(&app, &file, Engine::Bulk, true).await;
    assert_eq!(all_balances(&app).await, before);
    let real = run_engine(&app, &file, Engine::Bulk, false).await;
    assert_eq!((real.accepted, real.rejected, real.posted), (4_500, 0, true));
    assert_eq!((dry.accepted, dry.duplicates, dry.rejected, dry.posted), (real.accepted, 0, 0, false));

    // Every line became one entry, in file order across batches and statements, and each
    // project's spent balance is the file's net spend for it.
    let shapes = entry_shapes(&app).await;
    assert_eq!(shapes.len(), entries_before + 4_500);
    for (i, shape) in shapes[entries_before..].iter().enumerate() {
        assert!(shape.contains(&format!(" Line {i} ")), "entry {i} is out of order: {shape}");
    }
    let mut net = std::collections::BTreeMap::<&str, i64>::new();
    for line in file.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let pence: i64 = cells[6].replace("0.", "").parse().unwrap();
        *net.entry(if cells[2] == "P1" { "P1" } else { "P2" }).or_default() += pence;
    }
    let balances = all_balances(&app).await;
    for (project, pence) in net {
        let account = format!("spent:LDF:2023-24:{project}");
        let (_, balance) = balances.iter().find(|(a, _)| a == &account).expect("the spent account was opened");
        assert_eq!(
            balance.trim_start_matches('-'),
            format!("{}.{:02}", pence.abs() / 100, pence.abs() % 100),
            "{account}"
        );
    }
    app.assert_verified().await;
});

/// Runs a plain-text accounting tool. When it is not installed the check is skipped with
/// a message, except in CI (env `CI` set), where a missing tool fails the test.
fn run_tool(program: &str, args: &[&str]) -> Option<std::process::Output> {
    match std::process::Command::new(program).args(args).output() {
        Ok(out) => Some(out),
        Err(e) if crate::support::in_ci() => {
            panic!("{program} is needed in CI (.ci/run installs it): {e}")
        }
        Err(e) => {
            eprintln!("skipping the {program} cross-check: {program} is not installed ({e})");
            None
        }
    }
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    let path = std::env::temp_dir().join(format!("gl_{}_{}_{name}", std::process::id(), hex::encode(bytes)));
    std::fs::write(&path, text).unwrap();
    path
}

/// A random history through the API: allocations, commitments, spend with and without a
/// commitment, releases, refunds, reversals and an import, with awkward memos and codes.
async fn random_history(app: &TestApp, seed: u64) {
    let mut rng = Rng(seed);
    let projects = [("P1", "ASB"), ("P2", "DRUGS"), ("p_low", "ASB"), ("X-9", "VIOLENCE")];
    for (code, priority) in projects {
        app.project(code, priority).await;
    }
    let memos = ["plain", "tea; biscuits", "say \"hi\" \\ back", "line\nbreak", "=1+1", "", "café £5"];
    let awards = [("LDF", "2022-23"), ("LDF", "2023-24"), ("LDF", "2024-25"), ("ASB-EI", "2022-23")];
    for (grant, fy) in awards {
        for (code, priority) in projects {
            if grant == "ASB-EI" && priority != "ASB" {
                continue;
            }
            app.allocate(grant, fy, code, &format!("{}.{:02}", 500 + rng.below(3000), rng.below(100))).await;
        }
    }
    let mut commitments: Vec<(i64, String)> = Vec::new();
    let mut posted: Vec<(i64, i32)> = Vec::new();
    for i in 0..80 {
        let (grant, fy) = *rng.pick(&awards);
        let (project, _) = *rng.pick(&projects);
        let year: i32 = fy[..4].parse().unwrap();
        let date = format!(
            "{}-{:02}-{:02}",
            if rng.below(2) == 0 { year } else { year + 1 },
            1 + rng.below(3),
            1 + rng.below(28)
        );
        let date = if date.as_str() < format!("{year}-04-01").as_str() {
            format!("{year}-06-{:02}", 1 + rng.below(28))
        } else {
            date
        };
        let amount = format!("{}.{:02}", 1 + rng.below(400), rng.below(100));
        let memo = *rng.pick(&memos);
        let r = match rng.below(6) {
            0 => {
                let r = app
                    .post("/api/v1/commitments", Role::Finance, json!({ "grant": grant, "financial_year": fy, "project": project,
                        "supplier": "S", "reference": format!("PO-{i}"), "amount": amount, "date": date, "memo": memo }))
                    .await;
                if let Some(id) = r.body["commitment_id"].as_i64() {
                    commitments.push((id, date.clone()));
                }
                r
            }
            1 if !commitments.is_empty() => {
                // Dated as its commitment: a release is never dated before it (rule 8).
                let (id, date) = rng.pick(&commitments).clone();
                app.post(
                    &format!("/api/v1/commitments/{id}/release"),
                    Role::Finance,
                    json!({ "date": date, "amount": "1.00", "reason": memo }),
                )
                .await
            }
            2 => {
                app.post(
                    "/api/v1/refunds",
                    Role::Finance,
                    json!({ "grant": grant, "project": project, "date": date,
                    "amount": "2.50", "reference": "CN", "reason": if memo.is_empty() { "credit" } else { memo } }),
                )
                .await
            }
            3 if !posted.is_empty() => {
                let (id, year) = *rng.pick(&posted);
                let date = format!("{year}-09-{:02}", 1 + rng.below(28));
                app.post(&format!("/api/v1/entries/{id}/reverse"), Role::Admin, json!({ "date": date, "reason": memo }))
                    .await
            }
            _ => {
                let mut body = TestApp::spend_body(grant, project, &date, &amount);
                body["description"] = json!(if memo.is_empty() { "spend" } else { memo });
                if !commitments.is_empty() && rng.below(2) == 0 {
                    body["commitment_id"] = json!(rng.pick(&commitments).0);
                }
                app.post("/api/v1/spend", Role::Finance, body).await
            }
        };
        if let Some(id) = r.body["entry_id"].as_i64()
            && r.status == StatusCode::CREATED
        {
            posted.push((id, year));
        }
        // Refusals (overspend, a wrong commitment, a date outside the year) are part of a
        // realistic history; only a server error would be a bug here.
        assert!(r.status.is_success() || r.status.is_client_error(), "{}", r.body);
    }
    // A confirmed second invoice: both journals carry the entry it repeats (`duplicate_of`).
    app.allocate("LDF", "2023-24", "P1", "10").await;
    let first = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-08-01", "3.00")).await;
    let mut second = TestApp::spend_body("LDF", "P1", "2023-08-01", "3.00");
    second["duplicate_of_entry_ok"] = json!(true);
    let second = app.ok("/api/v1/spend", Role::Finance, second).await;
    assert_eq!(second["duplicate_of"], first["entry_id"]);
    let file = format!(
        "{HEADER}2023-07-01,LDF,P1,\"Quote \"\"Ltd\"\"\",\"a;b\",I,1.23,IMP-1\n2023-07-02,LDF,P1,S,x,I,-1.00,IMP-2\n"
    );
    let (status, body) = import(app, "", &file).await;
    assert!(status.is_success() || status == StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    funder_cash(app).await;
}

/// The funder's side of the history: receipts, a year end returning ASB-EI 2022-23's unspent
/// money (now owed), part of it repaid, and a receipt for LDF 2023-24.
async fn funder_cash(app: &TestApp) {
    let receipt = |grant: &str, fy: &str, date: &str, amount: &str| json!({ "grant": grant, "financial_year": fy, "date": date, "amount": amount, "reference": "remittance; \"SCO\"" });
    app.ok("/api/v1/receipts", Role::Finance, receipt("ASB-EI", "2022-23", "2022-05-01", "10000.00")).await;
    app.ok("/api/v1/receipts", Role::Finance, receipt("LDF", "2023-24", "2023-04-20", "40000.00")).await;
    let unspent: i64 = all_balances(app)
        .await
        .iter()
        .filter(|(a, _)| a == "unallocated:ASB-EI:2022-23" || a.starts_with("available:ASB-EI:2022-23:"))
        .map(|(_, b)| -grant_ledger::domain::Money::parse_signed(b).unwrap().pence())
        .sum();
    assert!(unspent > 2, "ASB-EI 2022-23 should have money left: {unspent}");
    let unspent = grant_ledger::domain::Money::from_pence(unspent);
    app.ok(
        "/api/v1/grants/ASB-EI/awards/2022-23/year-end",
        Role::Approver,
        json!({ "return_to_funder": unspent.to_string(), "reason": "returned" }),
    )
    .await;
    let half = grant_ledger::domain::Money::from_pence(unspent.pence() / 2);
    app.ok("/api/v1/repayments", Role::Finance, receipt("ASB-EI", "2022-23", "2023-03-31", &half.to_string())).await;
}

backend_test!(journal_balances_equal_ours_in_hledger_and_beancount, |app: TestApp| async move {
    random_history(&app, 0x5DEE_CE66_D1CE_4E5B).await;
    // Spend with irrecoverable VAT and a refund of part of it: the gross on the budget.
    app.allocate("LDF", "2023-24", "P1", "100.00").await;
    let mut body = TestApp::spend_body("LDF", "P1", "2023-12-01", "10.00");
    body["vat"] = json!("2.00");
    body["vat_recoverable"] = json!(false);
    let spend = app.ok("/api/v1/spend", Role::Finance, body).await;
    assert_eq!(spend["charged"], "12.00");
    let refund = json!({ "grant": "LDF", "project": "P1", "date": "2023-12-02", "amount": "5.00", "vat": "1.00",
        "vat_recoverable": false, "spend_entry_id": spend["entry_id"], "reason": "part credit" });
    assert_eq!(app.ok("/api/v1/refunds", Role::Finance, refund).await["charged"], "6.00");
    app.assert_verified().await;
    let ours = all_balances(&app).await;
    assert!(ours.len() > 20, "the history should touch many accounts: {ours:?}");
    for account in ["cash:ASB-EI:2022-23", "received:ASB-EI:2022-23", "owed:ASB-EI:2022-23", "claimed:ASB-EI:2022-23"] {
        assert!(ours.iter().any(|(a, b)| a == account && b != "0.00"), "the history should move {account}: {ours:?}");
    }

    let (status, journal) = get_text(&app, "/api/v1/exports/journal?format=hledger", Role::Funder).await;
    assert_eq!(status, StatusCode::OK);
    for kind in
        ["allocation", "commitment", "release", "spend", "refund", "reversal", "receipt", "year_end", "repayment"]
    {
        assert!(journal.contains(&format!("kind:{kind}\n")), "the history has no {kind}");
    }
    // The confirmed second invoice is a tag in hledger and metadata in beancount, which
    // both tools read (journals_agree runs them).
    assert!(journal.contains("kind:spend, duplicate_of:"), "no duplicate_of tag");
    let (_, beancount) = get_text(&app, "/api/v1/exports/journal?format=beancount", Role::Funder).await;
    assert!(beancount.contains("\n  duplicate_of: "), "no duplicate_of metadata");
    journals_agree(&app, &journal, &ours).await;
});

/// hledger's balances of the hledger `journal` equal the ledger's (`ours`), and bean-check
/// passes the Beancount journal, which asserts every balance (and fails one a penny out).
/// Either check is skipped, saying so, where its tool is not installed outside CI.
pub(crate) async fn journals_agree(app: &TestApp, journal: &str, ours: &[(String, String)]) {
    let path = temp_file("ledger.journal", journal);
    let file = path.to_str().unwrap();
    if let Some(check) = run_tool("hledger", &["-f", file, "check", "accounts", "commodities"]) {
        assert!(check.status.success(), "hledger check: {}", String::from_utf8_lossy(&check.stderr));
        let bal = run_tool("hledger", &["-f", file, "bal", "--flat", "-E", "-N", "-O", "csv"]).unwrap();
        assert!(bal.status.success(), "hledger bal: {}", String::from_utf8_lossy(&bal.stderr));
        let printed: std::collections::BTreeMap<String, String> = String::from_utf8(bal.stdout)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let cells: Vec<&str> = l.trim_matches('"').split("\",\"").collect();
                let amount = cells[1].trim_end_matches(" GBP");
                (cells[0].to_owned(), if amount == "0" { "0.00".to_owned() } else { amount.to_owned() })
            })
            .collect();
        for (account, balance) in ours {
            assert_eq!(printed.get(account).map(String::as_str).unwrap_or("0.00"), balance, "hledger: {account}");
        }
        for account in printed.keys() {
            assert!(ours.iter().any(|(a, _)| a == account), "hledger printed {account}, which the ledger lacks");
        }
    }
    std::fs::remove_file(&path).ok();

    let (status, beancount) = get_text(app, "/api/v1/exports/journal?format=beancount", Role::Funder).await;
    assert_eq!(status, StatusCode::OK);
    // The export asserts every balance with zero tolerance; bean-check verifies each one.
    let asserted = beancount.lines().filter(|l| l.contains(" balance ")).count();
    assert_eq!(asserted, ours.len(), "one balance directive per account");
    let path = temp_file("ledger.beancount", &beancount);
    if let Some(check) = run_tool("bean-check", &[path.to_str().unwrap()]) {
        assert!(
            check.status.success(),
            "bean-check: {}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        // The check can fail: one balance a penny out is caught.
        let (account, balance) = &ours[0];
        let wrong = grant_ledger::domain::Money::from_pence(
            grant_ledger::domain::Money::parse_signed(balance).unwrap().pence() + 1,
        );
        let name = grant_ledger::csv::journal::beancount_account(account);
        let needle = format!(" balance {name}  {balance} ~");
        assert!(beancount.contains(&needle), "{needle}");
        let tampered = beancount.replacen(&needle, &format!(" balance {name}  {wrong} ~"), 1);
        std::fs::write(&path, tampered).unwrap();
        let check = run_tool("bean-check", &[path.to_str().unwrap()]).unwrap();
        assert!(!check.status.success(), "bean-check accepted a balance a penny out");
    }
    std::fs::remove_file(&path).ok();
}

backend_test!(concurrent_imports_cannot_both_spend_the_last_money, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let a = format!("{HEADER}2023-05-01,LDF,P1,S,D,IA,600,CA-1\n");
    let b = format!("{HEADER}2023-05-01,LDF,P1,S,D,IB,600,CB-1\n");
    let ((sa, _), (sb, _)) = tokio::join!(import(&app, "", &a), import(&app, "", &b));
    let mut statuses = [sa, sb];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY], "rule 7: exactly one import posts");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-400.00");
    app.assert_verified().await;
});

/// The CLI end to end on a SQLite file: a refused import exits 1 and posts nothing, a
/// clean one exits 0, and both exports write their files.
#[tokio::test]
async fn cli_import_and_exports() {
    use clap::Parser;
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let run = |args: Vec<String>| {
        let url = db.url.clone();
        async move {
            let mut argv = vec!["grant-ledger".to_owned(), "--database-url".to_owned(), url];
            argv.extend(args);
            grant_ledger::cli::run(grant_ledger::cli::Cli::parse_from(argv)).await.unwrap()
        }
    };
    let csv = temp_file("spend.csv", &format!("{HEADER}2023-05-01,LDF,NOPE,S,D,I,100,CLI-1\n"));
    let args = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(run(args("init")).await, 0, "only init (or serve) creates the ledger");
    assert_eq!(
        run(args(&format!("import spend {} --dry-run", csv.display()))).await,
        1,
        "an unknown project is refused"
    );
    let mapping = temp_file("map.toml", "preset = \"generic\"\nextra_columns_ok = true\n");
    assert_eq!(run(args(&format!("import spend {} --mapping {}", csv.display(), mapping.display()))).await, 1);
    let header_only = temp_file("empty.csv", HEADER);
    assert_eq!(run(args(&format!("import spend {}", header_only.display()))).await, 0);
    let journal = std::env::temp_dir().join(format!("gl_cli_{}.beancount", std::process::id()));
    assert_eq!(run(args(&format!("export journal --format beancount --output {}", journal.display()))).await, 0);
    assert!(std::fs::read_to_string(&journal).unwrap().contains("option \"operating_currency\" \"GBP\""));
    let spend = std::env::temp_dir().join(format!("gl_cli_{}.csv", std::process::id()));
    assert_eq!(
        run(args(&format!("export transparency --from 2023-04-01 --to 2024-03-31 --output {}", spend.display()))).await,
        0
    );
    assert!(std::fs::read_to_string(&spend).unwrap().starts_with("Date,Department,Beneficiary,Purpose,Amount"));
    for f in [csv, mapping, header_only, journal, spend] {
        std::fs::remove_file(f).ok();
    }
    db.drop().await;
}

// Amounts and dates as finance systems write them, through the API and the command line: a
// thousands separator, a bracketed credit (a refund, as a negative amount is), a midnight
// time; another time of day is refused naming its line and column. The command line lists
// each line it skipped as a duplicate with what it repeats.
backend_test!(finance_system_numbers_and_dates_import_as_written, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "5000").await;
    let file = format!(
        "{HEADER}2023-06-01 00:00:00,LDF,P1,Youth Trust,Sessions,I-1,\"1,250.00\",F-1\n\
         2023-06-02T00:00:00,LDF,P1,Youth Trust,Credit note,C-1,(120.00),F-2\n"
    );
    let (status, body) = import(&app, "", &file).await;
    assert_eq!((status, body["accepted"].clone()), (StatusCode::OK, json!(2)), "{body}");
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-1130.00");
    let refunds = app.get("/api/v1/entries?kind=refund", Role::Viewer).await;
    assert_eq!(refunds.body["items"][0]["date"], "2023-06-02", "{}", refunds.body);
    let (status, body) = import(&app, "", &format!("{HEADER}2023-06-03 09:30:00,LDF,P1,S,D,I-2,1.00,F-3\n")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!((body["errors"][0]["line"].clone(), body["errors"][0]["field"].clone()), (json!(2), json!("date")));

    // The same invoice under new references, and a line repeating it: both skipped, listed.
    let again = temp_file(
        "again.csv",
        &format!(
            "{HEADER}2023-06-01,LDF,P1,YOUTH TRUST,Sessions again,i-1,1250,F-9\n\
             2023-06-04,LDF,P1,Cafe,Lunch,L-1,9.00,F-10\n2023-06-04,LDF,P1,Cafe,Lunch,L-1,9.00,F-11\n"
        ),
    );
    let spend = app.get("/api/v1/entries?kind=spend", Role::Viewer).await.body["items"][0]["id"].clone();
    let (ok, out, err) = app.cli(&["import", "spend", again.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    assert!(err.contains(&format!("line 2: skipped: a duplicate by invoice of entry {spend}")), "{err}");
    assert!(err.contains("line 4: skipped: a duplicate by invoice of line 3"), "{err}");
    assert!(out.contains("1 accepted, 2 duplicates") || err.contains("1 accepted, 2 duplicates"), "{out}{err}");
    std::fs::remove_file(&again).ok();
    app.assert_verified().await;
});
