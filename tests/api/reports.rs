//! Reports against figures computed by hand on one scenario in 2022-23: LDF (stop) and
//! ASB-EI (restricted to ASB) side by side on project A1, a `warn` grant overspent on V1, a
//! commitment partly spent and partly released, a spend reversed and a refund on D1.
//!
//! Hand computation (pounds), in entry-date order:
//! - allocations dated 2022-04-01: LDF A1 10000, LDF D1 8000, ASB-EI A1 6000, SSF V1 1000
//! - 2022-05-10 LDF A1 commitment 4000; 2022-06-15 spend 2500 against it (Q1)
//! - 2022-07-20 LDF D1 spend 3000; 2022-08-01 LDF D1 spend 200 (Q2)
//! - 2022-09-01 LDF A1 release 500 of the commitment (Q2)
//! - 2022-10-05 reversal of the 200 (Q3); 2022-10-15 ASB-EI A1 spend 1200 (Q3)
//! - 2022-11-10 LDF D1 refund 300 (Q3); 2022-12-01 SSF V1 spend 1250, 250 over budget (Q3)
//! - 2023-01-20 LDF A1 spend 700 without a commitment (Q4)
//!
//! | row        | budget | committed | actual | available | variance | forecast | % |
//! | A1 ASB-EI  |  6000  |      0    |  1200  |   4800    |   4800   |   1200   | 20.0 |
//! | A1 LDF     | 10000  |   1000    |  3200  |   5800    |   6800   |   4200   | 32.0 |
//! | D1 LDF     |  8000  |      0    |  2700  |   5300    |   5300   |   2700   | 33.8 |
//! | V1 SSF     |  1000  |      0    |  1250  |   -250    |   -250   |   1250   | 125.0 |
//! | total      | 25000  |   1000    |  8350  |  15650    |  16650   |   9350   | 33.4 |

use axum::http::{Method, StatusCode};
use grant_ledger::domain::rag::RagRule;
use grant_ledger::storage::tokens::Role;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::TestApp;

pub(crate) async fn scenario(app: &TestApp) {
    app.ok("/api/v1/funders", Role::Operator, json!({ "code": "HO", "name": "Home Office" })).await;
    app.ok(
        "/api/v1/grants",
        Role::Approver,
        json!({ "code": "SSF", "name": "Safer Streets", "funder": "HO", "on_overspend": "warn" }),
    )
    .await;
    app.ok(
        "/api/v1/grants/SSF/awards",
        Role::Approver,
        json!({ "financial_year": "2022-23", "amount": "5000", "awarded_on": "2022-03-01" }),
    )
    .await;
    for (code, name, priority, lead) in [
        ("A1", "Youth diversion, town centre", "ASB", "Tamworth Borough Council"),
        ("D1", "County lines \"Op Target\"", "DRUGS", "=cmd|' /C calc'!A0"),
        ("V1", "Safer streets", "VIOLENCE", "@Staffs Police"),
    ] {
        app.ok(
            "/api/v1/projects",
            Role::Approver,
            json!({ "code": code, "name": name, "priority": priority, "lead_organisation": lead }),
        )
        .await;
    }
    for (grant, project, amount) in
        [("LDF", "A1", "10000"), ("LDF", "D1", "8000"), ("ASB-EI", "A1", "6000"), ("SSF", "V1", "1000")]
    {
        app.ok(
            "/api/v1/allocations",
            Role::Approver,
            json!({ "grant": grant, "financial_year": "2022-23", "project": project, "amount": amount,
                    "approved_on": "2022-03-20", "approval_ref": "CSP minute 22/14" }),
        )
        .await;
    }
    let c = app
        .ok(
            "/api/v1/commitments",
            Role::Finance,
            json!({ "grant": "LDF", "financial_year": "2022-23", "project": "A1", "supplier": "Youth Trust",
                    "reference": "PO-1", "amount": "4000", "date": "2022-05-10" }),
        )
        .await;
    let commitment = c["commitment_id"].as_i64().unwrap();
    let mut against = TestApp::spend_body("LDF", "A1", "2022-06-15", "2500");
    against["commitment_id"] = json!(commitment);
    app.ok("/api/v1/spend", Role::Finance, against).await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "D1", "2022-07-20", "3000")).await;
    let wrong = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "D1", "2022-08-01", "200")).await;
    app.ok(
        &format!("/api/v1/commitments/{commitment}/release"),
        Role::Finance,
        json!({ "date": "2022-09-01", "amount": "500", "reason": "fewer sessions" }),
    )
    .await;
    app.ok(
        &format!("/api/v1/entries/{}/reverse", wrong["entry_id"]),
        Role::Finance,
        json!({ "date": "2022-10-05", "reason": "posted to the wrong project" }),
    )
    .await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("ASB-EI", "A1", "2022-10-15", "1200")).await;
    app.ok(
        "/api/v1/refunds",
        Role::Finance,
        json!({ "grant": "LDF", "project": "D1", "date": "2022-11-10", "amount": "300",
                "reference": "CN-7", "reason": "credit note" }),
    )
    .await;
    let over = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("SSF", "V1", "2022-12-01", "1250")).await;
    assert_eq!(over["warnings"][0]["shortfall"], "250.00");
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "A1", "2023-01-20", "700")).await;
    app.assert_verified().await;
}

/// budget, committed, actual, available, variance, forecast_outturn, percent_spent
fn figures(v: &Value) -> (String, String, String, String, String, String, String) {
    let s = |k: &str| v[k].as_str().unwrap_or_else(|| panic!("{k} missing in {v}")).to_owned();
    (
        s("budget"),
        s("committed"),
        s("actual"),
        s("available"),
        s("variance"),
        s("forecast_outturn"),
        v["percent_spent"].to_string(),
    )
}

fn f(
    b: &str,
    c: &str,
    a: &str,
    av: &str,
    v: &str,
    fo: &str,
    p: &str,
) -> (String, String, String, String, String, String, String) {
    (b.into(), c.into(), a.into(), av.into(), v.into(), fo.into(), p.into())
}

fn row<'a>(report: &'a Value, grant: &str, project: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["grant"] == grant && r["project"] == project)
        .unwrap_or_else(|| panic!("no row {grant} {project} in {report}"))
}

fn find<'a>(list: &'a Value, key: &str, code: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|r| r[key] == code).unwrap_or_else(|| panic!("no {code} in {list}"))
}

backend_test!(variance_matches_hand_computed_figures, |app: TestApp| async move {
    scenario(&app).await;
    let r = app.get("/api/v1/reports/variance?financial_year=2022-23", Role::Funder).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = &r.body;
    assert_eq!(b["financial_year"], "2022-23");
    assert_eq!(b["as_at"], Value::Null);
    let order: Vec<(String, String)> = b["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["project"].as_str().unwrap().into(), r["grant"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        order,
        [("A1", "ASB-EI"), ("A1", "LDF"), ("D1", "LDF"), ("V1", "SSF")].map(|(p, g)| (p.to_owned(), g.to_owned()))
    );
    assert_eq!(
        figures(row(b, "ASB-EI", "A1")),
        f("6000.00", "0.00", "1200.00", "4800.00", "4800.00", "1200.00", "20.0")
    );
    assert_eq!(
        figures(row(b, "LDF", "A1")),
        f("10000.00", "1000.00", "3200.00", "5800.00", "6800.00", "4200.00", "32.0")
    );
    assert_eq!(figures(row(b, "LDF", "D1")), f("8000.00", "0.00", "2700.00", "5300.00", "5300.00", "2700.00", "33.8"));
    assert_eq!(figures(row(b, "SSF", "V1")), f("1000.00", "0.00", "1250.00", "-250.00", "-250.00", "1250.00", "125.0"));
    assert_eq!(row(b, "LDF", "A1")["project_name"], "Youth diversion, town centre");
    assert_eq!(row(b, "LDF", "A1")["priority"], "ASB");
    // The year is over, so the profile is 100%: everything well under it, and the overspend, is red.
    assert_eq!(row(b, "SSF", "V1")["rag"], "red");
    assert_eq!(row(b, "LDF", "D1")["rag"], "red");

    let p = &b["priorities"];
    assert_eq!(
        figures(find(p, "priority", "ASB")),
        f("16000.00", "1000.00", "4400.00", "10600.00", "11600.00", "5400.00", "27.5")
    );
    assert_eq!(
        figures(find(p, "priority", "DRUGS")),
        f("8000.00", "0.00", "2700.00", "5300.00", "5300.00", "2700.00", "33.8")
    );
    assert_eq!(
        figures(find(p, "priority", "VIOLENCE")),
        f("1000.00", "0.00", "1250.00", "-250.00", "-250.00", "1250.00", "125.0")
    );
    let g = &b["grants"];
    let ldf = find(g, "grant", "LDF");
    assert_eq!(figures(ldf), f("18000.00", "1000.00", "5900.00", "11100.00", "12100.00", "6900.00", "32.8"));
    assert_eq!((ldf["awarded"].as_str(), ldf["unallocated"].as_str()), (Some("61394.00"), Some("43394.00")));
    let asb = find(g, "grant", "ASB-EI");
    assert_eq!((asb["awarded"].as_str(), asb["unallocated"].as_str()), (Some("10000.00"), Some("4000.00")));
    assert_eq!(
        figures(find(g, "grant", "SSF")),
        f("1000.00", "0.00", "1250.00", "-250.00", "-250.00", "1250.00", "125.0")
    );
    let t = &b["totals"];
    assert_eq!(figures(t), f("25000.00", "1000.00", "8350.00", "15650.00", "16650.00", "9350.00", "33.4"));
    assert_eq!((t["awarded"].as_str(), t["unallocated"].as_str()), (Some("76394.00"), Some("51394.00")));

    // One grant only.
    let only = app.get("/api/v1/reports/variance?financial_year=2022/23&grant=ASB-EI", Role::Viewer).await;
    assert_eq!(only.body["rows"].as_array().unwrap().len(), 1);
    assert_eq!(only.body["totals"]["awarded"], "10000.00");

    // The same rows as CSV.
    let csv = app.get("/api/v1/reports/variance?financial_year=2022-23&format=csv", Role::Funder).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let text = csv.body.as_str().unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "grant,priority,project,project_name,budget,committed,actual,available,variance,percent_spent,forecast_outturn,rag,\
         officer_forecast,forecast_underspend,forecast_basis,forecast_quarter,progress_rag,explanation,rag_reason"
    );
    assert_eq!(
        lines[2],
        "LDF,ASB,A1,\"Youth diversion, town centre\",10000.00,1000.00,3200.00,5800.00,6800.00,32.0,4200.00,red,\
         4200.00,5800.00,commitments,,,,"
    );
    assert_eq!(
        lines[4],
        "SSF,VIOLENCE,V1,Safer streets,1000.00,0.00,1250.00,-250.00,-250.00,125.0,1250.00,red,1250.00,-250.00,commitments,,,,"
    );
    assert_eq!(lines.len(), 6, "header, four rows, and the empty string after the last CRLF");
});

backend_test!(as_at_leaves_out_later_entries, |app: TestApp| async move {
    scenario(&app).await;
    let r = app.get("/api/v1/reports/variance?financial_year=2022-23&as_at=2022-09-30", Role::Viewer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = &r.body;
    assert_eq!(b["as_at"], "2022-09-30");
    // At the end of Q2: the reversal, the refund, ASB-EI's and SSF's spend and A1's Q4 spend are later.
    assert_eq!(
        figures(row(b, "LDF", "A1")),
        f("10000.00", "1000.00", "2500.00", "6500.00", "7500.00", "3500.00", "25.0")
    );
    assert_eq!(figures(row(b, "LDF", "D1")), f("8000.00", "0.00", "3200.00", "4800.00", "4800.00", "3200.00", "40.0"));
    assert_eq!(figures(row(b, "ASB-EI", "A1")), f("6000.00", "0.00", "0.00", "6000.00", "6000.00", "0.00", "0.0"));
    assert_eq!(figures(&b["totals"]), f("25000.00", "1000.00", "5700.00", "18300.00", "19300.00", "6700.00", "22.8"));
    // Profile at the end of Q2 is 50%: 25 points behind is amber, 10 points behind green, 50 red.
    assert_eq!(row(b, "LDF", "A1")["rag"], "amber");
    assert_eq!(row(b, "LDF", "D1")["rag"], "green");
    assert_eq!(row(b, "ASB-EI", "A1")["rag"], "red");

    // As-at sums the postings up to the date early in the year and takes the later ones off the
    // balance late in the year; either way the figures are the hand-computed ones.
    for (date, actual, available) in [
        ("2022-06-30", "2500.00", "21000.00"), // 1500 still committed before the release
        ("2022-09-29", "5700.00", "18300.00"),
        ("2022-10-05", "5500.00", "18500.00"),
        ("2022-12-31", "7650.00", "16350.00"),
        ("2023-03-31", "8350.00", "15650.00"),
        ("2024-01-01", "8350.00", "15650.00"),
    ] {
        let r = app.get(&format!("/api/v1/reports/variance?financial_year=2022-23&as_at={date}"), Role::Viewer).await;
        let t = &r.body["totals"];
        assert_eq!((t["actual"].as_str(), t["available"].as_str()), (Some(actual), Some(available)), "as at {date}");
    }

    // Before anything was posted, there is nothing to report.
    let empty = app.get("/api/v1/reports/variance?financial_year=2022-23&as_at=2022-03-31", Role::Viewer).await;
    assert_eq!(empty.body["rows"], json!([]));
    assert_eq!(empty.body["totals"]["awarded"], "0.00");

    // The thresholds are configurable: with amber at 30 points A1 is green.
    grant_ledger::storage::reports::set_rag_rule(
        &app.store,
        RagRule { amber_pct: Decimal::from(30), red_pct: Decimal::from(60) },
        "test",
    )
    .await
    .unwrap();
    let relaxed = app.get("/api/v1/reports/variance?financial_year=2022-23&as_at=2022-09-30", Role::Viewer).await;
    assert_eq!(row(&relaxed.body, "LDF", "A1")["rag"], "green");
    assert_eq!(row(&relaxed.body, "ASB-EI", "A1")["rag"], "amber");
});

backend_test!(quarterly_and_multi_year_views, |app: TestApp| async move {
    scenario(&app).await;
    let r = app.get("/api/v1/reports/quarterly?financial_year=2022-23", Role::Funder).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let q = |v: &Value| -> [String; 5] { ["q1", "q2", "q3", "q4", "total"].map(|k| v[k].as_str().unwrap().to_owned()) };
    let rows = r.body["rows"].as_array().unwrap();
    let get = |g: &str, p: &str| rows.iter().find(|r| r["grant"] == g && r["project"] == p).unwrap();
    assert_eq!(q(get("LDF", "A1")), ["2500.00", "0.00", "0.00", "700.00", "3200.00"]);
    assert_eq!(q(get("LDF", "D1")), ["0.00", "3200.00", "-500.00", "0.00", "2700.00"], "reversal and refund net in Q3");
    assert_eq!(q(get("ASB-EI", "A1")), ["0.00", "0.00", "1200.00", "0.00", "1200.00"]);
    assert_eq!(q(get("SSF", "V1")), ["0.00", "0.00", "1250.00", "0.00", "1250.00"]);
    assert_eq!(q(find(&r.body["priorities"], "code", "ASB")), ["2500.00", "0.00", "1200.00", "700.00", "4400.00"]);
    assert_eq!(q(find(&r.body["grants"], "code", "LDF")), ["2500.00", "3200.00", "-500.00", "700.00", "5900.00"]);
    assert_eq!(q(&r.body["totals"]), ["2500.00", "3200.00", "1950.00", "700.00", "8350.00"]);

    let m = app.get("/api/v1/reports/multi-year?grant=LDF", Role::Funder).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.body);
    let years = m.body["years"].as_array().unwrap();
    assert_eq!(years.len(), 3);
    let y = |v: &Value| -> [String; 5] {
        ["awarded", "allocated", "committed", "actual", "unspent"].map(|k| v[k].as_str().unwrap().to_owned())
    };
    assert_eq!(years[0]["financial_year"], "2022-23");
    assert_eq!(y(&years[0]), ["61394.00", "18000.00", "1000.00", "5900.00", "55494.00"]);
    assert_eq!(y(&years[1]), ["61394.00", "0.00", "0.00", "0.00", "61394.00"]);
    assert_eq!(y(&years[2]["cumulative"]), ["184182.00", "18000.00", "1000.00", "5900.00", "178282.00"]);
    assert_eq!(y(&m.body["totals"]), y(&years[2]["cumulative"]));
    let none = app.get("/api/v1/reports/multi-year?grant=NOPE", Role::Funder).await;
    assert_eq!(none.code(), "not_found");
});

backend_test!(commissioner_return_matches_the_golden_file, |app: TestApp| async move {
    scenario(&app).await;
    let r = app.get("/api/v1/exports/commissioner-return?financial_year=2022-23&quarter=3", Role::Funder).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers["content-disposition"].to_str().unwrap().contains("commissioner-return-2022-23-q3.csv"));
    let golden = include_str!("../golden/commissioner-return-2022-23-q3.csv");
    assert_eq!(r.body.as_str().unwrap(), golden);

    let bom =
        app.get("/api/v1/exports/commissioner-return?financial_year=2022-23&quarter=3&bom=true", Role::Viewer).await;
    let text = bom.body.as_str().unwrap();
    assert!(text.starts_with('\u{feff}'), "a byte-order mark first");
    assert_eq!(&text['\u{feff}'.len_utf8()..], golden);

    // Q1: spend in the quarter equals spend to date.
    let q1 = app.get("/api/v1/exports/commissioner-return?financial_year=2022-23&quarter=1", Role::Viewer).await;
    let lines: Vec<&str> = q1.body.as_str().unwrap().lines().collect();
    assert!(lines[2].contains(",2500.00,2500.00,"), "{}", lines[2]);
    assert!(lines.last().unwrap().contains(",TOTAL,"));
});

backend_test!(reports_refuse_bad_queries, |app: TestApp| async move {
    let cases: &[(&str, &str, &str)] = &[
        ("/api/v1/reports/variance", "financial_year", "a year is required"),
        ("/api/v1/reports/variance?financial_year=2023", "financial_year", "malformed year"),
        ("/api/v1/reports/variance?financial_year=2030-31", "financial_year", "a year the ledger lacks"),
        ("/api/v1/reports/variance?financial_year=2023-24&as_at=31/12/2023", "as_at", "as_at is YYYY-MM-DD"),
        ("/api/v1/reports/variance?financial_year=2023-24&format=xlsx", "format", "json or csv only"),
        ("/api/v1/reports/variance?financial_year=2023-24&asat=2023-12-31", "asat", "a misspelt parameter"),
        ("/api/v1/reports/quarterly", "financial_year", "a year is required"),
        ("/api/v1/reports/multi-year", "grant", "a grant is required"),
        ("/api/v1/exports/commissioner-return?financial_year=2023-24", "quarter", "a quarter is required"),
        ("/api/v1/exports/commissioner-return?financial_year=2023-24&quarter=5", "quarter", "quarters are 1-4"),
        ("/api/v1/exports/commissioner-return?financial_year=2023-24&quarter=2&bom=yes", "bom", "bom is true or false"),
    ];
    for (path, field, why) in cases {
        let r = app.get(path, Role::Viewer).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{why}: {}", r.body);
        assert_eq!(r.fields(), [*field], "{why}");
    }
    let r = app.call(Method::GET, "/api/v1/reports/variance?financial_year=2023-24", None, None, &[]).await;
    assert_eq!(r.code(), "unauthorized");
    for role in Role::ALL {
        let r = app.get("/api/v1/exports/commissioner-return?financial_year=2023-24&quarter=1", role).await;
        assert_eq!(r.status, StatusCode::OK, "every role reads exports: {role:?}");
    }
});

backend_test!(cli_prints_an_aligned_table_and_csv, |app: TestApp| async move {
    use grant_ledger::cli::{Format, ReportCommand, report_text};
    scenario(&app).await;
    let variance = |format, as_at: Option<&str>| ReportCommand::Variance {
        financial_year: "2022-23".into(),
        as_at: as_at.map(Into::into),
        as_known_at: None,
        grant: None,
        format,
    };
    let table = report_text(&app.store, variance(Format::Table, Some("2022-09-30"))).await.unwrap();
    assert!(table.starts_with("Variance report 2022-23, as at 2022-09-30. Awarded 76394.00, unallocated 51394.00."));
    let lines: Vec<&str> = table.lines().skip(2).collect();
    assert!(lines[0].starts_with("grant   priority  project"), "{table}");
    let width = lines[1].len();
    assert!(lines.iter().all(|l| l.len() <= width), "no line is wider than the rule under the header:\n{table}");
    let total = lines.last().unwrap();
    assert!(total.contains("TOTAL") && total.contains("25,000.00") && total.contains("5,700.00"), "{total}");
    // Each project's line carries its name beside its code.
    assert!(lines[2..].iter().any(|l| l.contains("A1          Youth diversion")), "project names are shown:\n{table}");
    // Numbers are right-aligned: every row's budget ends in the same column.
    let end = lines[0].find("budget").unwrap() + "budget".len();
    assert!(lines[2..].iter().all(|l| l[..end].ends_with(".00")), "{table}");
    let multi = report_text(
        &app.store,
        ReportCommand::MultiYear { grant: "LDF".into(), as_known_at: None, format: Format::Table },
    )
    .await
    .unwrap();
    assert!(
        multi.lines().any(|l| l.starts_with("2022-23") && l.contains("61,394.00") && l.ends_with("55,494.00")),
        "{multi}"
    );
    assert!(multi.lines().any(|l| l.starts_with("2024-25") && l.ends_with("178,282.00")), "{multi}");
    // `export commissioner-return` writes exactly the golden file.
    let bytes =
        grant_ledger::cli::commissioner_return_csv(&app.store, "2022-23", 3, false, &Default::default()).await.unwrap();
    assert_eq!(String::from_utf8(bytes).unwrap(), include_str!("../golden/commissioner-return-2022-23-q3.csv"));
    let csv = report_text(&app.store, variance(Format::Csv, None)).await.unwrap();
    assert_eq!(csv.lines().count(), 5);
    let bad = report_text(
        &app.store,
        ReportCommand::Variance {
            financial_year: "2022".into(),
            as_at: None,
            as_known_at: None,
            grant: None,
            format: Format::Json,
        },
    )
    .await;
    assert!(bad.unwrap_err().to_string().contains("--financial-year"));
});

backend_test!(a_quarterly_plan_sets_the_profile_of_its_project, |app: TestApp| async move {
    scenario(&app).await;
    // LDF A1 plans to spend most of its budget early: 60% in Q1, then 10, 10, 20.
    let plan = json!({ "grant": "LDF", "financial_year": "2022-23", "project": "A1", "q1": 60, "q2": "10", "q3": 10, "q4": 20 });
    let set = app.post("/api/v1/spend-profiles", Role::Approver, plan.clone()).await;
    assert_eq!(set.status, StatusCode::CREATED, "{}", set.body);
    assert_eq!((set.body["q1"].as_u64(), set.body["set_by"].as_str()), (Some(60), Some("test approver")));

    let r = app.get("/api/v1/reports/variance?financial_year=2022-23&as_at=2022-09-30", Role::Viewer).await;
    let a1 = row(&r.body, "LDF", "A1");
    assert_eq!((a1["profile"]["low_pct"].as_str(), a1["profile"]["high_pct"].as_str()), (Some("70"), Some("70")));
    assert_eq!(a1["rag"], "red", "25% spent against a planned 70% is 45 points behind (amber when straight-line)");
    assert_eq!(row(&r.body, "LDF", "D1")["rag"], "green", "projects without a plan stay straight-line");
    assert_eq!(row(&r.body, "LDF", "D1")["profile"]["low_pct"], "50");
    // ASB holds ASB-EI A1 (6000, straight-line 50%) and LDF A1 (10000, planned 70%): the
    // subtotal's band is weighted by budget, 62.5%, and 15.6% spent is red.
    assert_eq!(find(&r.body["priorities"], "priority", "ASB")["rag"], "red");
    // The current report (after the year) is unchanged: every plan ends at 100%.
    let now = app.get("/api/v1/reports/variance?financial_year=2022-23", Role::Viewer).await;
    assert_eq!(row(&now.body, "LDF", "A1")["profile"]["low_pct"], "100");

    // Setting again replaces the plan.
    let mut flat = plan.clone();
    for (q, v) in [("q1", 25), ("q2", 25), ("q3", 25), ("q4", 25)] {
        flat[q] = json!(v);
    }
    app.ok("/api/v1/spend-profiles", Role::Admin, flat).await;
    let list = app.get("/api/v1/spend-profiles?financial_year=2022-23", Role::Funder).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1, "{}", list.body);
    assert_eq!(list.body["items"][0]["q1"], 25);
    // Plans are reference data: both settings are in the audit trail, before and after.
    let trail = app.get("/api/v1/audit?entity=spend_profile", Role::Viewer).await;
    let items = trail.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", trail.body);
    assert_eq!((items[0]["action"].as_str(), items[0]["actor"].as_str()), (Some("update"), Some("test admin")));
    assert_eq!(items[0]["after"]["q1"], 25);
    assert_eq!(items[1]["action"], "create");
    let r = app.get("/api/v1/reports/variance?financial_year=2022-23&as_at=2022-09-30", Role::Viewer).await;
    assert_eq!(row(&r.body, "LDF", "A1")["rag"], "amber");

    // Refusals, each naming its field.
    let with = |k: &str, v: Value| {
        let mut b = plan.clone();
        b[k] = v;
        b
    };
    let cases: Vec<(Value, Vec<&str>, &str)> = vec![
        (with("q4", json!(30)), vec!["q1", "q2", "q3", "q4"], "must sum to 100"),
        (with("q1", json!(101)), vec!["q1"], "at most 100"),
        (with("q2", json!(-1)), vec!["q2"], "not negative"),
        (with("q3", json!("ten")), vec!["q3"], "a whole number"),
        (with("q3", json!(10.5)), vec!["q3"], "whole percent only"),
        (with("project", json!("NOPE")), vec!["project"], "an existing project"),
        (with("financial_year", json!("2025-26")), vec!["financial_year"], "LDF has no 2025-26 award"),
        (with("colour", json!("red")), vec!["colour"], "unknown fields refused"),
    ];
    for (body, fields, why) in cases {
        let r = app.post("/api/v1/spend-profiles", Role::Approver, body).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{why}: {}", r.body);
        assert_eq!(r.fields(), fields, "{why}");
    }
    let r = app.post("/api/v1/spend-profiles", Role::Finance, plan).await;
    assert_eq!(r.code(), "forbidden", "a plan is a budget decision");
});

// An unknown or lower-case grant must not answer an all-zero report rated green: an officer
// could report "all green, nothing spent".
backend_test!(an_unknown_grant_filter_is_not_found, |app: TestApp| async move {
    use grant_ledger::cli::{Format, ReportCommand, report_text};
    for path in [
        "/api/v1/reports/variance?financial_year=2023-24&grant=NOPE",
        "/api/v1/reports/variance?financial_year=2023-24&grant=ldf",
        "/api/v1/reports/variance?financial_year=2023-24&grant=NOPE&format=csv",
        "/api/v1/reports/quarterly?financial_year=2023-24&grant=NOPE",
        "/api/v1/reports/multi-year?grant=NOPE",
    ] {
        let r = app.get(path, Role::Viewer).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{path}: {}", r.body);
    }
    let r = app.get("/api/v1/reports/variance?financial_year=2023-24&grant=ldf", Role::Viewer).await;
    assert!(r.body["detail"].as_str().unwrap().contains("upper case"), "{}", r.body);
    let report = |grant: &str| ReportCommand::Variance {
        financial_year: "2023-24".into(),
        as_at: None,
        as_known_at: None,
        grant: Some(grant.into()),
        format: Format::Table,
    };
    let refused = report_text(&app.store, report("ldf")).await;
    assert!(refused.unwrap_err().to_string().contains("grant ldf"), "the CLI names the unknown grant");
    assert!(report_text(&app.store, report("LDF")).await.is_ok());
    let (ok, _, stderr) = app.cli(&["report", "variance", "--financial-year", "2023-24", "--grant", "ldf"]);
    assert!(!ok, "the CLI exits non-zero on an unknown grant: {stderr}");
});

// The RAG thresholds are settings like the approval threshold: shown, patched by admin,
// each refused value named, and a refused patch changes nothing.
backend_test!(rag_thresholds_are_settings, |app: TestApp| async move {
    let r = app.get("/api/v1/settings", Role::Viewer).await;
    assert_eq!(
        (r.body["rag_amber_pct"].as_str(), r.body["rag_red_pct"].as_str()),
        (Some("10"), Some("25")),
        "{}",
        r.body
    );
    let r = app.patch("/api/v1/settings", Role::Admin, json!({ "rag_amber_pct": "15" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.body["rag_amber_pct"].as_str(), r.body["rag_red_pct"].as_str()), (Some("15"), Some("25")));
    let cases = [
        (json!({ "rag_amber_pct": "abc" }), vec!["rag_amber_pct"], "not a number"),
        (json!({ "rag_red_pct": "101" }), vec!["rag_red_pct"], "above 100"),
        (json!({ "rag_amber_pct": "-1", "rag_red_pct": "x" }), vec!["rag_amber_pct", "rag_red_pct"], "both named"),
        (json!({ "rag_amber_pct": "30" }), vec!["rag_amber_pct"], "amber above red"),
        (json!({ "rag_red_pct": "5", "virement_approval_threshold": "1" }), vec!["rag_red_pct"], "red below amber"),
    ];
    for (body, fields, why) in cases {
        let r = app.patch("/api/v1/settings", Role::Admin, body).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{why}: {}", r.body);
        assert_eq!(r.fields(), fields, "{why}");
    }
    let r = app.get("/api/v1/settings", Role::Viewer).await;
    assert_eq!(r.body["rag_amber_pct"], "15", "refused patches changed nothing");
    assert_eq!(r.body["virement_approval_threshold"], "5000.00", "a refused patch sets none of its settings");
    let r = app.patch("/api/v1/settings", Role::Approver, json!({ "rag_amber_pct": "12" })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});
