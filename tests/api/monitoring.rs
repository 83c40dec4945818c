//! The quarterly monitoring cycle on the hand-computed scenario of `reports.rs` (2022-23):
//! officers' forecasts in two quarters, indicators with quarterly targets and returns, the
//! monitoring return (every column, as CSV against a golden file and as XLSX read back by
//! openpyxl), `as_at` on the variance and quarterly reports, and the refusals.
//!
//! Forecasts (pounds), each made on the date shown:
//! - Q2, 2022-09-15: LDF A1 9000 amber ("Summer sessions cancelled")
//! - Q3, 2022-11-01: LDF A1 9500 green; 2022-12-20: LDF A1 9800 green (supersedes 9500)
//! - Q3, 2022-12-10: LDF D1 6000 red
//!
//! As at 2022-12-31 (Q3), officer forecast per row: A1 ASB-EI none → actual + committed
//! 1200 + 0 = 1200; A1 LDF 9800; D1 LDF 6000; V1 SSF none → 1250 + 0 = 1250. Total 18250,
//! budget 25000, forecast underspend 6750; basis mixed; worst progress red. Priority ASB:
//! 1200 + 9800 = 11000 against 16000, underspend 5000, mixed, green. Grant LDF: 9800 + 6000 =
//! 15800 against 18000, underspend 2200, officer, red.
//!
//! Indicators of A1 in 2022-23: SESS (sessions) targets 10, 12, 14, 12; returns Q1 8, Q2 11
//! then 12 (supersedes), Q3 13, Q4 20. YP (people) targets 25 a quarter; return Q1 30.
//! To the end of Q3: SESS target 36, actual 8 + 12 + 13 = 33; YP target 75, actual 30. A1's
//! spend to the end of Q3 from both grants: 1200 + 2500 = 3700, so cost per output
//! 3700 / 33 = 112.1212… → 112.12 and 3700 / 30 = 123.333… → 123.33.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use grant_ledger::storage::tokens::Role;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::backend_test;
use crate::reports::scenario;
use crate::support::TestApp;

fn forecast(quarter: u8, project: &str, amount: &str, rag: &str, made_on: &str, explanation: &str, why: &str) -> Value {
    json!({ "grant": "LDF", "financial_year": "2022-23", "quarter": quarter, "project": project,
            "forecast_outturn": amount, "explanation": explanation, "progress_rag": rag, "rag_reason": why,
            "made_on": made_on })
}

async fn monitoring_scenario(app: &TestApp) {
    scenario(app).await;
    let forecasts = [
        forecast(2, "A1", "9000", "amber", "2022-09-15", "Summer sessions cancelled", "Behind profile after Q2"),
        forecast(3, "A1", "9500", "green", "2022-11-01", "Catching up", "On profile"),
        forecast(3, "D1", "6000", "red", "2022-12-10", "Op Target paused", "+1 partner withdrew"),
        forecast(
            3,
            "A1",
            "9800",
            "green",
            "2022-12-20",
            "Catching up, two extra sessions",
            "On profile since November",
        ),
    ];
    for f in forecasts {
        app.ok("/api/v1/forecasts", Role::Finance, f).await;
    }
    let sess = json!({ "code": "SESS", "name": "Diversion sessions", "unit": "sessions", "financial_year": "2022-23",
                       "baseline": "0", "target": "48", "quarterly_targets": ["10", "12", "14", "12"] });
    let yp = json!({ "code": "YP", "name": "Young people engaged", "unit": "people", "financial_year": "2022-23",
                     "baseline": "12.5", "target": "100", "quarterly_targets": ["25", "25", "25", "25"] });
    app.ok("/api/v1/projects/A1/indicators", Role::Approver, sess).await;
    app.ok("/api/v1/projects/A1/indicators", Role::Approver, yp).await;
    for (indicator, quarter, actual, role) in [
        ("SESS", 1, "8", Role::Finance),
        ("SESS", 2, "11", Role::Finance),
        ("SESS", 2, "12", Role::Approver),
        ("SESS", 3, "13", Role::Finance),
        ("SESS", 4, "20", Role::Finance),
        ("YP", 1, "30", Role::Finance),
    ] {
        app.ok(
            "/api/v1/indicator-returns",
            role,
            json!({ "project": "A1", "indicator": indicator, "financial_year": "2022-23", "quarter": quarter,
                    "actual": actual, "evidence_ref": "Register Q", "note": "From the session register" }),
        )
        .await;
    }
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
    list.as_array().unwrap().iter().find(|x| x[key] == code).unwrap_or_else(|| panic!("no {code} in {list}"))
}

/// officer_forecast, forecast_underspend, forecast_basis, progress_rag (or null)
fn outlook(v: &Value) -> (String, String, String, Value) {
    (
        v["officer_forecast"].as_str().unwrap().to_owned(),
        v["forecast_underspend"].as_str().unwrap().to_owned(),
        v["forecast_basis"].as_str().unwrap().to_owned(),
        v["progress_rag"].clone(),
    )
}

fn o(forecast: &str, underspend: &str, basis: &str, rag: Value) -> (String, String, String, Value) {
    (forecast.to_owned(), underspend.to_owned(), basis.to_owned(), rag)
}

backend_test!(forecasts_feed_the_variance_report_by_quarter_and_as_at, |app: TestApp| async move {
    monitoring_scenario(&app).await;
    let listed = app.get("/api/v1/forecasts?financial_year=2022-23", Role::Funder).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "history is kept: {items:?}");
    let superseded: Vec<(String, bool)> = items
        .iter()
        .map(|f| (f["forecast_outturn"].as_str().unwrap().to_owned(), f["superseded"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        superseded,
        [("9000.00", false), ("9500.00", true), ("9800.00", false), ("6000.00", false)]
            .map(|(a, s)| (a.to_owned(), s))
            .to_vec(),
        "ordered by quarter, grant, project, date; only the Q3 A1 forecast of 11-01 is superseded"
    );
    assert_eq!(items[0]["quarter"], 2, "quarter is a JSON number");
    assert_eq!(items[0]["made_on"], "2022-09-15");
    assert_eq!(items[0]["made_by"], "test finance");
    let q3 = app.get("/api/v1/forecasts?financial_year=2022-23&quarter=3&project=D1", Role::Viewer).await;
    assert_eq!(q3.body["items"].as_array().unwrap().len(), 1);

    // As at the end of Q3: the latest Q3 forecast of each project.
    let r = app.get("/api/v1/reports/variance?financial_year=2022-23&as_at=2022-12-31", Role::Viewer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = &r.body;
    assert_eq!(b["forecast_quarter"], 3);
    assert_eq!(outlook(row(b, "ASB-EI", "A1")), o("1200.00", "4800.00", "commitments", Value::Null));
    assert_eq!(outlook(row(b, "LDF", "A1")), o("9800.00", "200.00", "officer", json!("green")));
    assert_eq!(row(b, "LDF", "A1")["explanation"], "Catching up, two extra sessions");
    assert_eq!(row(b, "LDF", "A1")["rag_reason"], "On profile since November");
    assert_eq!(outlook(row(b, "LDF", "D1")), o("6000.00", "2000.00", "officer", json!("red")));
    assert_eq!(outlook(row(b, "SSF", "V1")), o("1250.00", "-250.00", "commitments", Value::Null));
    assert_eq!(outlook(&b["totals"]), o("18250.00", "6750.00", "mixed", json!("red")));
    assert_eq!(outlook(find(&b["priorities"], "priority", "ASB")), o("11000.00", "5000.00", "mixed", json!("green")));
    assert_eq!(outlook(find(&b["grants"], "grant", "LDF")), o("15800.00", "2200.00", "officer", json!("red")));
    assert_eq!(find(&b["grants"], "grant", "LDF")["explanation"], "", "subtotals carry no one officer's words");
    // The commitment-position forecast is still there beside the officer's.
    assert_eq!(row(b, "LDF", "A1")["forecast_outturn"], "3500.00");

    // As at 2022-12-15: the 9800 made on 12-20 is not yet made; the 9500 of 11-01 shows.
    let r = app.get("/api/v1/reports/variance?financial_year=2022-23&as_at=2022-12-15", Role::Viewer).await;
    assert_eq!(outlook(row(&r.body, "LDF", "A1")), o("9500.00", "500.00", "officer", json!("green")));
    // As at 2022-10-31: Q3 has a forecast for neither project yet, so A1's of Q2 stands.
    let r = app.get("/api/v1/reports/variance?financial_year=2022-23&as_at=2022-10-31", Role::Viewer).await;
    assert_eq!(r.body["forecast_quarter"], 3);
    assert_eq!(outlook(row(&r.body, "LDF", "A1")), o("9000.00", "1000.00", "officer", json!("amber")));
    assert_eq!(row(&r.body, "LDF", "A1")["forecast_quarter"], 2, "made for Q2, not updated in Q3");
    assert_eq!(row(&r.body, "LDF", "D1")["forecast_basis"], "commitments");
    assert_eq!(row(&r.body, "LDF", "D1")["forecast_quarter"], Value::Null);
    assert_eq!(
        (&r.body["totals"]["forecast_basis"], &r.body["totals"]["forecast_quarter"]),
        (&json!("mixed"), &json!(2))
    );
    // As at the end of Q2, and Q2 asked for on a current report: the amber 9000.
    for path in [
        "/api/v1/reports/variance?financial_year=2022-23&as_at=2022-09-30",
        "/api/v1/reports/variance?financial_year=2022-23&quarter=2",
    ] {
        let r = app.get(path, Role::Viewer).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        assert_eq!(r.body["forecast_quarter"], 2, "{path}");
        assert_eq!(outlook(row(&r.body, "LDF", "A1")), o("9000.00", "1000.00", "officer", json!("amber")), "{path}");
        assert_eq!(row(&r.body, "LDF", "A1")["explanation"], "Summer sessions cancelled");
        assert_eq!(row(&r.body, "LDF", "D1")["forecast_basis"], "commitments", "{path}");
    }
    // A current report of a finished year reads Q4, where no forecast was made: Q3's stand.
    let r = app.get("/api/v1/reports/variance?financial_year=2022-23", Role::Viewer).await;
    assert_eq!(r.body["forecast_quarter"], 4);
    assert_eq!(outlook(row(&r.body, "LDF", "A1")), o("9800.00", "200.00", "officer", json!("green")));
    assert_eq!(outlook(row(&r.body, "LDF", "D1")), o("6000.00", "2000.00", "officer", json!("red")));
    assert_eq!(row(&r.body, "LDF", "D1")["forecast_quarter"], 3);

    // The CSV carries the same figures.
    let csv =
        app.get("/api/v1/reports/variance?financial_year=2022-23&as_at=2022-12-31&format=csv", Role::Viewer).await;
    let text = csv.body.as_str().unwrap();
    assert!(
        text.contains(
            ",9800.00,200.00,officer,3,green,\"Catching up, two extra sessions\",On profile since November\r\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(",6000.00,2000.00,officer,3,red,Op Target paused,'+1 partner withdrew\r\n"),
        "defused: {text}"
    );

    // The CLI table shows them too.
    use grant_ledger::cli::{Format, ReportCommand, report_text};
    let table = report_text(
        &app.store,
        ReportCommand::Variance {
            financial_year: "2022-23".into(),
            as_at: Some("2022-12-31".into()),
            as_known_at: None,
            grant: None,
            format: Format::Table,
        },
    )
    .await
    .unwrap();
    let total = table.lines().last().unwrap();
    assert!(total.contains("18,250.00") && total.contains("6,750.00") && total.contains("mixed"), "{table}");
    assert!(table.lines().any(|l| l.contains("9,800.00") && l.contains("Catching up, two extra sessions")), "{table}");
    app.assert_verified().await;
});

backend_test!(indicators_keep_every_return_and_the_latest_counts, |app: TestApp| async move {
    monitoring_scenario(&app).await;
    let r = app.get("/api/v1/projects/A1/indicators?financial_year=2022-23", Role::Funder).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.iter().map(|i| i["code"].as_str().unwrap()).collect::<Vec<_>>(), ["SESS", "YP"]);
    let sess = &items[0];
    assert_eq!(sess["quarterly_targets"], json!(["10", "12", "14", "12"]));
    assert_eq!(sess["target"], "48");
    assert_eq!(sess["actuals"], json!(["8", "12", "13", "20"]), "the later Q2 return supersedes the earlier");
    let returns = sess["returns"].as_array().unwrap();
    assert_eq!(returns.len(), 5, "both Q2 returns are kept");
    assert_eq!(
        returns.iter().map(|r| r["superseded"].as_bool().unwrap()).collect::<Vec<_>>(),
        [false, true, false, false, false]
    );
    assert_eq!(returns[2]["recorded_by"], "test approver");
    assert_eq!(items[1]["baseline"], "12.5");
    assert_eq!(items[1]["actuals"], json!(["30", null, null, null]));
    let none = app.get("/api/v1/projects/D1/indicators", Role::Viewer).await;
    assert_eq!(none.body["items"], json!([]));
    let other_year = app.get("/api/v1/projects/A1/indicators?financial_year=2023-24", Role::Viewer).await;
    assert_eq!(other_year.body["items"], json!([]));
});

/// A GET's status, content type and raw bytes.
pub(crate) async fn raw_get(app: &TestApp, path: &str) -> (StatusCode, String, Vec<u8>) {
    let req = Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {}", app.token(Role::Funder)))
        .body(Body::empty())
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, ct, resp.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// Reads a workbook with openpyxl: per sheet, its name, frozen cell, column widths, and
/// every cell's value and number format. openpyxl is required (`.ci/run` installs it): a
/// machine without it fails here rather than skipping.
pub(crate) fn read_workbook(bytes: &[u8]) -> Value {
    let path = std::env::temp_dir().join(format!("gl-monitoring-{}-{}.xlsx", std::process::id(), rand_suffix()));
    std::fs::write(&path, bytes).unwrap();
    let script = r#"
import json, sys
import openpyxl
from openpyxl.utils import get_column_letter
wb = openpyxl.load_workbook(sys.argv[1])
out = []
for ws in wb.worksheets:
    rows = []
    for row in ws.iter_rows():
        rows.append([[c.value, c.number_format] for c in row])
    widths = [ws.column_dimensions[get_column_letter(i + 1)].width for i in range(ws.max_column)]
    out.append({"name": ws.title, "freeze": ws.freeze_panes, "widths": widths, "rows": rows})
print(json.dumps(out))
"#;
    let run = std::process::Command::new("python3").arg("-c").arg(script).arg(&path).output();
    let _ = std::fs::remove_file(&path);
    let run = run.expect("python3 must be installed to read the workbook back");
    assert!(
        run.status.success(),
        "python3 with openpyxl must read the workbook (pip install openpyxl): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).unwrap()
}

fn rand_suffix() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    hex::encode(b)
}

/// A CSV cell as the workbook holds it: numbers as numbers, text without the defusing `'`
/// (a string cell never runs as a formula), empty as nothing.
fn expected_cell(text: &str) -> Value {
    if text.is_empty() {
        return Value::Null;
    }
    if let Ok(n) = text.parse::<f64>() {
        return json!(n);
    }
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => json!(rest),
        _ => json!(text),
    }
}

backend_test!(the_monitoring_return_matches_the_golden_file_and_its_workbook, |app: TestApp| async move {
    monitoring_scenario(&app).await;
    let golden = include_str!("../golden/monitoring-return-2022-23-q3.csv");
    let (status, ct, bytes) = raw_get(&app, "/api/v1/exports/monitoring-return?financial_year=2022-23&quarter=3").await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(ct, "text/csv; charset=utf-8");
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert_eq!(text, golden, "every column of every line, computed by hand");
    let (_, _, with_bom) =
        raw_get(&app, "/api/v1/exports/monitoring-return?financial_year=2022-23&quarter=3&bom=true").await;
    assert_eq!(&with_bom[..3], b"\xEF\xBB\xBF");
    assert_eq!(&with_bom[3..], golden.as_bytes());
    // Filing a return stores these same bytes.
    let year = grant_ledger::domain::FinancialYear::parse("2022-23").unwrap();
    let r = grant_ledger::reports::run::monitoring_return(&app.store, year, 3, &grant_ledger::model::known::Known::Now)
        .await
        .unwrap();
    assert_eq!(grant_ledger::reports::monitoring::csv(&r, false), golden.as_bytes());

    // Q2: the amber forecast, targets and returns to the end of Q2, spend as at 2022-09-30.
    let (_, _, q2) = raw_get(&app, "/api/v1/exports/monitoring-return?financial_year=2022-23&quarter=2").await;
    let q2 = String::from_utf8(q2).unwrap();
    let mut reader = csv::Reader::from_reader(q2.as_bytes());
    let lines: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let a1_ldf_sess = lines.iter().find(|l| &l[1] == "LDF" && &l[6] == "A1" && &l[17] == "SESS").unwrap();
    assert_eq!(
        a1_ldf_sess.iter().skip(9).collect::<Vec<_>>(),
        [
            "10000.00",
            "2500.00",
            "1000.00",
            "9000.00",
            "1000.00",
            "Summer sessions cancelled",
            "amber",
            "Behind profile after Q2",
            "SESS",
            "Diversion sessions",
            "sessions",
            "22",
            "20",
            "125.00"
        ],
        "A1 spent 2500 by 2022-09-30 (all LDF), 4000 committed less 2500 spent and 500 released; 2500 / (8 + 12)"
    );
    assert_eq!(&lines.last().unwrap()[6], "TOTAL");

    // The workbook: the same cells, numbers as numbers in £, a frozen header, the variance sheet.
    let (status, ct, xlsx) =
        raw_get(&app, "/api/v1/exports/monitoring-return?financial_year=2022-23&quarter=3&format=xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let book = read_workbook(&xlsx);
    let sheets = book.as_array().unwrap();
    assert_eq!(sheets.len(), 2);
    let sheet = &sheets[0];
    assert_eq!(sheet["name"], "Monitoring return");
    assert_eq!(sheet["freeze"], "A2", "the header row is frozen");
    let mut golden_reader = csv::ReaderBuilder::new().has_headers(false).from_reader(golden.as_bytes());
    let golden_rows: Vec<csv::StringRecord> = golden_reader.records().map(Result::unwrap).collect();
    let rows = sheet["rows"].as_array().unwrap();
    assert_eq!(rows.len(), golden_rows.len(), "a header and the same lines");
    for (r, (cells, want)) in rows.iter().zip(&golden_rows).enumerate() {
        let cells = cells.as_array().unwrap();
        assert_eq!(cells.len(), 23, "row {r}");
        for (c, (cell, text)) in cells.iter().zip(want.iter()).enumerate() {
            let want = if r == 0 { json!(text) } else { expected_cell(text) };
            let column = golden_rows[0].get(c).unwrap();
            match want.as_f64() {
                Some(n) => assert_eq!(cell[0].as_f64(), Some(n), "row {r} column {column} ({text:?}) is a number"),
                None => assert_eq!(cell[0], want, "row {r} column {column} ({text:?})"),
            }
        }
    }
    // Money columns carry a £ format; quantities and the quarter plain number formats.
    let budget = &rows[1][9];
    assert!(budget[1].as_str().unwrap().contains('£'), "budget format: {budget}");
    assert!(rows[1][22][1].as_str().unwrap().contains('£'), "cost per output is money");
    assert!(!rows[1][20][1].as_str().unwrap().contains('£'), "a quantity is not money");
    assert_eq!(rows[1][3][0].as_f64(), Some(3.0), "the quarter is a number");
    // Columns are wide enough for what they hold.
    let widths = sheet["widths"].as_array().unwrap();
    let width = |c: usize| widths[c].as_f64().unwrap();
    assert!(width(5) >= "Serious and Public Place Violence (including VAWG)".len() as f64, "priority_name");
    assert!(width(14) >= "Includes actual plus committed where no officer forecast was made".len() as f64);
    assert!(width(9) >= "£25,000.00".len() as f64, "budget");
    assert!(width(3) >= "quarter".len() as f64);

    let variance = &sheets[1];
    assert_eq!(variance["name"], "Variance");
    assert_eq!(variance["freeze"], "A2");
    let vrows = variance["rows"].as_array().unwrap();
    assert_eq!(vrows[0][12][0], "officer_forecast");
    let total = vrows.last().unwrap().as_array().unwrap();
    assert_eq!(total[2][0], "TOTAL");
    let n = |c: usize| total[c][0].as_f64();
    assert_eq!((n(4), n(6), n(12), n(13)), (Some(25000.0), Some(7650.0), Some(18250.0), Some(6750.0)));
    assert_eq!(total[14][0], "mixed");
    assert_eq!(vrows.len(), 1 + 4 + 3 + 3 + 1, "header, rows, priority and grant subtotals, total");
});

backend_test!(every_report_and_page_honours_as_at, |app: TestApp| async move {
    scenario(&app).await;
    // Spend per quarter as at 2022-11-30: Q1 2500; Q2 3000 + 200; Q3 the 200 reversed, 1200,
    // the 300 refund (700); Q4 nothing yet. Their sum is the variance report's actual then.
    let q = app.get("/api/v1/reports/quarterly?financial_year=2022-23&as_at=2022-11-30", Role::Funder).await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    let t = &q.body["totals"];
    assert_eq!(q.body["as_at"], "2022-11-30");
    assert_eq!(
        [&t["q1"], &t["q2"], &t["q3"], &t["q4"], &t["total"]],
        ["2500.00", "3200.00", "700.00", "0.00", "6400.00"]
    );
    let v = app.get("/api/v1/reports/variance?financial_year=2022-23&as_at=2022-11-30", Role::Funder).await;
    assert_eq!(v.body["totals"]["actual"], "6400.00");
    let whole = app.get("/api/v1/reports/quarterly?financial_year=2022-23", Role::Funder).await;
    assert_eq!(whole.body["as_at"], Value::Null);
    assert_eq!((&whole.body["totals"]["q3"], &whole.body["totals"]["q4"]), (&json!("1950.00"), &json!("700.00")));
    let csv =
        app.get("/api/v1/reports/quarterly?financial_year=2022-23&as_at=2022-12-31&format=csv", Role::Funder).await;
    assert!(
        csv.body
            .as_str()
            .unwrap()
            .contains("LDF,ASB,A1,\"Youth diversion, town centre\",2500.00,0.00,0.00,0.00,2500.00")
    );
    let bad = app.get("/api/v1/reports/quarterly?financial_year=2022-23&as_at=30/11/2022", Role::Funder).await;
    assert_eq!((bad.status, bad.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["as_at".to_owned()]));

    // The page: headline actual and the quarter table's total agree as at the same date.
    let secret = crate::pages::sign_in(&app, Role::Viewer).await;
    let p =
        crate::pages::send(&app, "GET", "/dashboard?financial_year=2022-23&as_at=2022-11-30", Some(&secret), None, &[])
            .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert!(p.text.contains("<dd id=\"headline-actual\">£6,400.00</dd>"), "{}", p.text);
    assert!(
        p.text.contains(
            "<tfoot><tr><th scope=\"row\">Total</th><td class=\"num\">£2,500.00</td><td class=\"num\">£3,200.00</td>\
             <td class=\"num\">£700.00</td><td class=\"num\">£0.00</td><td class=\"num\">£6,400.00</td></tr></tfoot>"
        ),
        "{}",
        p.text
    );
});

backend_test!(the_dashboard_shows_forecasts_indicators_and_opens_on_a_year_with_an_award, |app: TestApp| async move {
    monitoring_scenario(&app).await;
    let secret = crate::pages::sign_in(&app, Role::Viewer).await;
    let p =
        crate::pages::send(&app, "GET", "/dashboard?financial_year=2022-23&as_at=2022-12-31", Some(&secret), None, &[])
            .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    let t = &p.text;
    assert!(t.contains("<table id=\"forecasts\""), "{t}");
    assert!(t.contains("Catching up, two extra sessions") && t.contains("+1 partner withdrew"), "{t}");
    assert!(t.contains("<td class=\"num officer-forecast\">£18,250.00</td>"), "the total's officer forecast: {t}");
    assert!(
        t.contains("<tr data-project=\"A1\" data-indicator=\"SESS\"><th scope=\"row\">A1<br><span class=\"sub\">Youth diversion, town centre</span></th>\
                    <td>Diversion sessions</td><td>sessions</td><td class=\"num\">36</td><td class=\"num\">33</td><td class=\"num\">£112.12</td></tr>"),
        "{t}"
    );
    assert!(t.contains("href=\"/dashboard/monitoring-return?financial_year=2022-23&amp;quarter=3&amp;format=xlsx\""));
    assert!(!t.contains("<script"), "still script-free");
    let d = crate::pages::send(
        &app,
        "GET",
        "/dashboard/monitoring-return?financial_year=2022-23&quarter=3",
        Some(&secret),
        None,
        &[],
    )
    .await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.text.trim_start_matches('\u{feff}'), include_str!("../golden/monitoring-return-2022-23-q3.csv"));

    // Without a year the page opens on the year holding today if it has an award, else the
    // latest year with one: the fixtures award up to 2024-25 and set up 2025-26 without one,
    // and today's year (2026-27 or later) has none. Every branch, with today fixed, is in
    // tests/api/default_year.rs.
    let d = crate::pages::send(&app, "GET", "/dashboard", Some(&secret), None, &[]).await;
    assert!(d.text.contains("<h1>Budget report 2024-25</h1>"), "{}", d.text);
});

backend_test!(monitoring_refuses_what_it_cannot_take, |app: TestApp| async move {
    monitoring_scenario(&app).await;
    let good = forecast(3, "D1", "5000", "amber", "2022-12-11", "Slower", "Partner left");
    let with = |key: &str, value: Value| {
        let mut b = good.clone();
        b[key] = value;
        b
    };
    let cases: Vec<(Value, Role, StatusCode, &str, &str)> = vec![
        (with("quarter", json!(5)), Role::Finance, StatusCode::UNPROCESSABLE_ENTITY, "quarter", "quarter 1 to 4"),
        (
            with("quarter", json!("3")),
            Role::Finance,
            StatusCode::UNPROCESSABLE_ENTITY,
            "quarter",
            "quarter is a number",
        ),
        (
            with("progress_rag", json!("purple")),
            Role::Finance,
            StatusCode::UNPROCESSABLE_ENTITY,
            "progress_rag",
            "bad rag",
        ),
        (
            with("rag_reason", json!("")),
            Role::Finance,
            StatusCode::UNPROCESSABLE_ENTITY,
            "rag_reason",
            "amber says why",
        ),
        (
            with("forecast_outturn", json!("-5")),
            Role::Finance,
            StatusCode::UNPROCESSABLE_ENTITY,
            "forecast_outturn",
            "signed",
        ),
        (
            with("forecast_outturn", json!(5000)),
            Role::Finance,
            StatusCode::UNPROCESSABLE_ENTITY,
            "forecast_outturn",
            "number",
        ),
        (with("explanation", json!("a\u{0}b")), Role::Finance, StatusCode::UNPROCESSABLE_ENTITY, "explanation", "NUL"),
        (
            with("explanation", json!("x".repeat(2001))),
            Role::Finance,
            StatusCode::UNPROCESSABLE_ENTITY,
            "explanation",
            "too long",
        ),
        (
            with("made_on", json!("2022-09-30")),
            Role::Finance,
            StatusCode::UNPROCESSABLE_ENTITY,
            "made_on",
            "outside Q3",
        ),
        (with("grant", json!("NOPE")), Role::Finance, StatusCode::NOT_FOUND, "", "unknown grant"),
        (with("project", json!("ZZ9")), Role::Finance, StatusCode::UNPROCESSABLE_ENTITY, "project", "unknown project"),
        (
            with("project", json!("V1")),
            Role::Finance,
            StatusCode::UNPROCESSABLE_ENTITY,
            "project",
            "LDF does not fund V1",
        ),
        (
            json!({ "grant": "SSF", "financial_year": "2023-24", "quarter": 1, "project": "V1", "forecast_outturn": "1",
                    "progress_rag": "green", "made_on": "2023-05-01" }),
            Role::Finance,
            StatusCode::UNPROCESSABLE_ENTITY,
            "financial_year",
            "SSF has no award in 2023-24",
        ),
        (
            with("financial_year", json!("2099-00")),
            Role::Finance,
            StatusCode::UNPROCESSABLE_ENTITY,
            "financial_year",
            "no such year",
        ),
        (with("colour", json!("red")), Role::Finance, StatusCode::UNPROCESSABLE_ENTITY, "colour", "unknown field"),
        (good.clone(), Role::Viewer, StatusCode::FORBIDDEN, "", "a viewer"),
        (good.clone(), Role::Funder, StatusCode::FORBIDDEN, "", "a funder"),
    ];
    for (body, role, status, field, why) in cases {
        let r = app.post("/api/v1/forecasts", role, body).await;
        assert_eq!(r.status, status, "{why}: {}", r.body);
        if !field.is_empty() {
            assert!(r.fields().contains(&field.to_owned()), "{why}: expected {field} named in {}", r.body);
        }
    }
    app.ok("/api/v1/forecasts", Role::Approver, good.clone()).await;
    app.ok("/api/v1/forecasts", Role::Admin, with("forecast_outturn", json!("0"))).await;
    app.ok("/api/v1/forecasts", Role::Finance, with("quarter", json!(3.0))).await; // JSON Schema's integer
    let r = app.post("/api/v1/forecasts", Role::Finance, with("quarter", json!(2.5))).await;
    assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["quarter".to_owned()]));

    let ind = json!({ "code": "REF", "name": "Referrals", "unit": "referrals", "financial_year": "2022-23",
                      "baseline": "0", "target": "40", "quarterly_targets": ["10", "10", "10", "10"] });
    let with = |key: &str, value: Value| {
        let mut b = ind.clone();
        b[key] = value;
        b
    };
    let cases: Vec<(&str, Value, Role, StatusCode, &str, &str)> = vec![
        (
            "D1",
            with("target", json!("12.34567")),
            Role::Approver,
            StatusCode::UNPROCESSABLE_ENTITY,
            "target",
            "five places",
        ),
        ("D1", with("target", json!("-1")), Role::Approver, StatusCode::UNPROCESSABLE_ENTITY, "target", "negative"),
        ("D1", with("target", json!(40)), Role::Approver, StatusCode::UNPROCESSABLE_ENTITY, "target", "a JSON number"),
        (
            "D1",
            with("baseline", json!("1000000001")),
            Role::Approver,
            StatusCode::UNPROCESSABLE_ENTITY,
            "baseline",
            "too big",
        ),
        (
            "D1",
            with("quarterly_targets", json!(["1", "2", "3"])),
            Role::Approver,
            StatusCode::UNPROCESSABLE_ENTITY,
            "quarterly_targets",
            "three",
        ),
        (
            "D1",
            with("quarterly_targets", json!(["1", "2", "x", "4"])),
            Role::Approver,
            StatusCode::UNPROCESSABLE_ENTITY,
            "quarterly_targets[2]",
            "bad one",
        ),
        ("D1", with("unit", json!("")), Role::Approver, StatusCode::UNPROCESSABLE_ENTITY, "unit", "blank unit"),
        (
            "D1",
            with("financial_year", json!("2099-00")),
            Role::Approver,
            StatusCode::UNPROCESSABLE_ENTITY,
            "financial_year",
            "no such year",
        ),
        ("ZZ9", ind.clone(), Role::Approver, StatusCode::NOT_FOUND, "", "unknown project"),
        ("D1", ind.clone(), Role::Finance, StatusCode::FORBIDDEN, "", "finance does not set indicators"),
        ("A1", with("code", json!("SESS")), Role::Approver, StatusCode::CONFLICT, "", "SESS exists in 2022-23"),
    ];
    for (project, body, role, status, field, why) in cases {
        let r = app.post(&format!("/api/v1/projects/{project}/indicators"), role, body).await;
        assert_eq!(r.status, status, "{why}: {}", r.body);
        if !field.is_empty() {
            assert!(r.fields().contains(&field.to_owned()), "{why}: expected {field} named in {}", r.body);
        }
    }
    let missing = app.get("/api/v1/projects/ZZ9/indicators", Role::Viewer).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let ret = json!({ "project": "A1", "indicator": "SESS", "financial_year": "2022-23", "quarter": 4, "actual": "3" });
    let with = |key: &str, value: Value| {
        let mut b = ret.clone();
        b[key] = value;
        b
    };
    let cases: Vec<(Value, Role, StatusCode, &str, &str)> = vec![
        (with("quarter", json!(0)), Role::Finance, StatusCode::UNPROCESSABLE_ENTITY, "quarter", "quarter 0"),
        (with("actual", json!("abc")), Role::Finance, StatusCode::UNPROCESSABLE_ENTITY, "actual", "not a quantity"),
        (with("actual", json!("1e3")), Role::Finance, StatusCode::UNPROCESSABLE_ENTITY, "actual", "an exponent"),
        (
            with("indicator", json!("NOPE")),
            Role::Finance,
            StatusCode::UNPROCESSABLE_ENTITY,
            "indicator",
            "no such indicator",
        ),
        (
            with("financial_year", json!("2023-24")),
            Role::Finance,
            StatusCode::UNPROCESSABLE_ENTITY,
            "indicator",
            "not in that year",
        ),
        (with("project", json!("ZZ9")), Role::Finance, StatusCode::UNPROCESSABLE_ENTITY, "project", "unknown project"),
        (ret.clone(), Role::Viewer, StatusCode::FORBIDDEN, "", "a viewer"),
        (ret.clone(), Role::Funder, StatusCode::FORBIDDEN, "", "a funder"),
    ];
    for (body, role, status, field, why) in cases {
        let r = app.post("/api/v1/indicator-returns", role, body).await;
        assert_eq!(r.status, status, "{why}: {}", r.body);
        if !field.is_empty() {
            assert!(r.fields().contains(&field.to_owned()), "{why}: expected {field} named in {}", r.body);
        }
    }

    for (path, field) in [
        ("/api/v1/exports/monitoring-return?financial_year=2022-23&quarter=5", "quarter"),
        ("/api/v1/exports/monitoring-return?financial_year=2022-23", "quarter"),
        ("/api/v1/exports/monitoring-return?financial_year=2022-23&quarter=3&format=pdf", "format"),
        ("/api/v1/reports/variance?financial_year=2022-23&quarter=0", "quarter"),
        ("/api/v1/forecasts?quarter=9", "quarter"),
    ] {
        let r = app.get(path, Role::Viewer).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", r.body);
        assert_eq!(r.fields(), vec![field.to_owned()], "{path}");
    }
    // Nothing refused was written: the four scenario forecasts and the three accepted here.
    let all = app.get("/api/v1/forecasts", Role::Viewer).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 7);
});

backend_test!(forecasts_and_returns_are_append_only, |app: TestApp| async move {
    monitoring_scenario(&app).await;
    for sql in [
        "update forecasts set forecast_pence = 1",
        "delete from forecasts",
        "update indicator_returns set actual = '1'",
        "delete from indicator_returns",
    ] {
        let r = sqlx::query(sql).execute(app.store.pool()).await;
        assert!(r.is_err(), "{sql} must be refused by a trigger");
    }
});

backend_test!(a_stored_quantity_outside_its_type_is_named_not_defaulted, |app: TestApp| async move {
    monitoring_scenario(&app).await;
    sqlx::query(
        "insert into indicator_returns (project_code, indicator_code, financial_year, quarter, actual, evidence_ref,
                                        note, recorded_by, recorded_at)
         values ('A1', 'YP', '2022-23', 2, 'lots', '', '', 'someone', '2026-01-01T00:00:00Z')",
    )
    .execute(app.store.pool())
    .await
    .unwrap();
    let r = app.get("/api/v1/projects/A1/indicators", Role::Viewer).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.body);
    let problems = grant_ledger::storage::verify::verify(&app.store).await.unwrap();
    assert!(
        problems.iter().any(|p| p.contains("indicator_returns") && p.contains("column actual")),
        "verify names the row: {problems:#?}"
    );
});

backend_test!(
    a_monitoring_return_is_filed_byte_for_byte_and_later_forecasts_show_as_changes,
    |app: TestApp| async move {
        monitoring_scenario(&app).await;
        let golden = include_str!("../golden/monitoring-return-2022-23-q3.csv");
        let filed = app
            .ok(
                "/api/v1/returns",
                Role::Finance,
                json!({ "kind": "monitoring-return", "financial_year": "2022-23", "quarter": 3 }),
            )
            .await;
        let id = filed["id"].as_i64().unwrap();
        let (status, _, bytes) = raw_get(&app, &format!("/api/v1/returns/{id}/file")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(String::from_utf8(bytes).unwrap(), golden, "the filed file is the download, byte for byte");
        let unchanged = app.get(&format!("/api/v1/returns/{id}/changes"), Role::Viewer).await;
        assert_eq!(unchanged.body["changed"], false, "{}", unchanged.body);
        app.assert_verified().await;

        // A later Q3 forecast for D1 changes the return generated now, not the filed one.
        app.ok(
            "/api/v1/forecasts",
            Role::Finance,
            forecast(3, "D1", "7000", "amber", "2022-12-30", "Partner back", "Restarting"),
        )
        .await;
        let changes = app.get(&format!("/api/v1/returns/{id}/changes"), Role::Viewer).await;
        assert_eq!(changes.body["changed"], true, "{}", changes.body);
        let text = changes.body.to_string();
        assert!(
            text.contains("officer_forecast_outturn") && text.contains("6000.00") && text.contains("7000.00"),
            "{text}"
        );
        app.assert_verified().await;
    }
);

backend_test!(the_cli_exports_the_monitoring_return, |app: TestApp| async move {
    monitoring_scenario(&app).await;
    let (ok, out, err) = app.cli(&["export", "monitoring-return", "--financial-year", "2022-23", "--quarter", "3"]);
    assert!(ok, "{err}");
    assert_eq!(out, include_str!("../golden/monitoring-return-2022-23-q3.csv"));
    let known = grant_ledger::model::known::Known::Now;
    let xlsx =
        grant_ledger::cli::monitoring_return_bytes(&app.store, "2022-23", 3, "xlsx", false, &known).await.unwrap();
    assert_eq!(&xlsx[..2], b"PK", "a workbook is a zip file");
    let (ok, _, err) = app.cli(&["export", "monitoring-return", "--financial-year", "2022-23", "--quarter", "5"]);
    assert!(!ok && err.contains("--quarter"), "{err}");
});
