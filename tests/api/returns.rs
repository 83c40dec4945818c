//! Filed returns, figures as known at a moment, and what changed since a filing.
//! Every test runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.

use std::sync::Arc;

use axum::http::StatusCode;
use grant_ledger::storage::Backend as StoreBackend;
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::backend_test;
use crate::support::TestApp;

const Q3_RETURN: &str = "/api/v1/exports/commissioner-return?financial_year=2023-24&quarter=3";

fn q3() -> Value {
    json!({ "kind": "commissioner-return", "financial_year": "2023-24", "quarter": 3 })
}

/// P1 (ASB) with £10,000 of LDF 2023-24 and £1,250.50 spent on 5 October 2023 (Q3).
async fn ledger(app: &TestApp) -> i64 {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "10000").await;
    let s = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-10-05", "1250.50")).await;
    s["entry_id"].as_i64().unwrap()
}

/// The text of a CSV response (the stored bytes are UTF-8 CSV).
fn text(r: &crate::support::Reply) -> String {
    r.body.as_str().unwrap_or_else(|| panic!("not a text body: {}", r.body)).to_owned()
}

/// The cell of `column` on the line of project `project` of a Commissioner's return.
fn cell(csv: &str, project: &str, column: &str) -> String {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == column).unwrap();
    let p = header.iter().position(|h| *h == "project").unwrap();
    let line = lines.find(|l| l.split(',').nth(p) == Some(project)).unwrap_or_else(|| panic!("{project}: {csv}"));
    line.split(',').nth(at).unwrap().to_owned()
}

async fn all_problems(app: &TestApp) -> Vec<String> {
    let mut problems = grant_ledger::storage::verify::verify(&app.store).await.unwrap();
    problems.extend(grant_ledger::reports::filing::verify(&app.store).await.unwrap());
    problems
}

backend_test!(a_filed_return_is_held_to_what_was_sent, |app: TestApp| async move {
    let first_spend = ledger(&app).await;
    let sent = text(&app.get(Q3_RETURN, Role::Funder).await);
    assert_eq!(cell(&sent, "P1", "spent_to_date"), "1250.50");

    let filed = app.ok("/api/v1/returns", Role::Finance, q3()).await;
    let id = filed["id"].as_i64().unwrap();
    assert_eq!(filed["kind"], "commissioner-return");
    assert_eq!(filed["financial_year"], "2023-24");
    assert_eq!(filed["quarter"], 3);
    assert_eq!(filed["filed_by"], "test finance");
    assert_eq!(filed["bytes"].as_i64().unwrap(), sent.len() as i64);
    assert_eq!(filed["sha256"].as_str().unwrap(), hex::encode(Sha256::digest(sent.as_bytes())));
    assert!(
        filed["position"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().contains("award grant=LDF year=2023-24"))
    );
    let filed_at = filed["filed_at"].as_str().unwrap().to_owned();

    // The stored file is the return as it was, byte for byte, with its type and name.
    let file = app.get(&format!("/api/v1/returns/{id}/file"), Role::Funder).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(text(&file), sent);
    assert_eq!(file.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(file.headers["content-disposition"], "attachment; filename=\"commissioner-return-2023-24-q3.csv\"");

    // A back-dated spend in Q3, and the first spend reversed: both recorded after the filing.
    let late = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-12-15", "900")).await;
    let late = late["entry_id"].as_i64().unwrap();
    let reversal = app
        .ok(
            &format!("/api/v1/entries/{first_spend}/reverse"),
            Role::Finance,
            json!({ "date": "2023-12-20", "reason": "Invoice paid twice" }),
        )
        .await;
    let reversal = reversal["entry_id"].as_i64().unwrap();
    let now = text(&app.get(Q3_RETURN, Role::Funder).await);
    assert_eq!(cell(&now, "P1", "spent_to_date"), "900.00");

    // The file has not moved.
    assert_eq!(text(&app.get(&format!("/api/v1/returns/{id}/file"), Role::Viewer).await), sent);
    // Regenerated as known at the filing, the return is the file; a moment before the
    // filing it is too (nothing was recorded in between), and now it is not.
    let at = |t: &str| format!("{Q3_RETURN}&as_known_at={}", t.replace('+', "%2B"));
    assert_eq!(text(&app.get(&at(&filed_at), Role::Funder).await), sent);
    assert_ne!(now, sent);

    // What changed: the two entries, and P1's figures as filed and now.
    let changes = app.get(&format!("/api/v1/returns/{id}/changes"), Role::Viewer).await;
    assert_eq!(changes.status, StatusCode::OK, "{}", changes.body);
    let c = &changes.body;
    assert_eq!(c["changed"], true);
    assert_eq!(c["return"]["id"], id);
    let ids: Vec<i64> = c["entries"].as_array().unwrap().iter().map(|e| e["entry_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![late, reversal]);
    assert_eq!(c["entries"][1]["reverses"], first_spend);
    let p1 = c["lines"].as_array().unwrap().iter().find(|l| l["line"]["project"] == "P1").expect("P1 changed");
    assert_eq!(p1["status"], "changed");
    let figure = |column: &str| {
        let f = p1["figures"].as_array().unwrap().iter().find(|f| f["column"] == column).unwrap();
        (f["filed"].as_str().unwrap().to_owned(), f["now"].as_str().unwrap().to_owned())
    };
    assert_eq!(figure("spent_to_date"), ("1250.50".into(), "900.00".into()));
    assert_eq!(figure("spent_in_quarter"), ("1250.50".into(), "900.00".into()));
    assert_eq!(figure("available"), ("8749.50".into(), "9100.00".into()));
    assert!(p1["figures"].as_array().unwrap().iter().all(|f| f["column"] != "allocated"), "allocated did not move");

    // Listed, and read back as a record.
    let list = app.get("/api/v1/returns?kind=commissioner-return&financial_year=2023-24", Role::Funder).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1, "{}", list.body);
    assert_eq!(app.get(&format!("/api/v1/returns/{id}"), Role::Funder).await.body, filed);
    assert!(
        app.get("/api/v1/returns?financial_year=2022-23", Role::Funder).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // verify regenerates the return at its position and finds it equal to the file.
    let problems = all_problems(&app).await;
    assert!(problems.is_empty(), "{problems:#?}");
});

backend_test!(as_known_at_leaves_out_what_was_recorded_later, |app: TestApp| async move {
    ledger(&app).await;
    let before = app.get("/api/v1/reports/variance?financial_year=2023-24", Role::Viewer).await.body;
    // Entries record their time to the microsecond; a moment later is after them.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let moment = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-06-01", "100")).await;
    let q = |path: &str| format!("{path}&as_known_at={moment}");
    let known = app.get(&q("/api/v1/reports/variance?financial_year=2023-24"), Role::Viewer).await;
    assert_eq!(known.status, StatusCode::OK, "{}", known.body);
    let shown = known.body["as_known_at"].as_str().unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(shown).unwrap(),
        chrono::DateTime::parse_from_rfc3339(&moment).unwrap()
    );
    assert_eq!(known.body["totals"]["actual"], before["totals"]["actual"]);
    assert_eq!(known.body["totals"]["actual"], "1250.50");
    let now = app.get("/api/v1/reports/variance?financial_year=2023-24", Role::Viewer).await.body;
    assert_eq!(now["totals"]["actual"], "1350.50");
    // It combines with as_at (entry date): as at 30 June, and known at the moment, nothing.
    let both = app.get(&q("/api/v1/reports/variance?financial_year=2023-24&as_at=2023-06-30"), Role::Viewer).await.body;
    assert_eq!(both["totals"]["actual"], "0.00");
    // Quarterly, multi-year, journal and transparency exports take it too.
    let quarterly = app.get(&q("/api/v1/reports/quarterly?financial_year=2023-24"), Role::Viewer).await;
    assert_eq!(quarterly.status, StatusCode::OK, "{}", quarterly.body);
    assert!(!quarterly.body.to_string().contains("100.00"), "the June spend is not known yet: {}", quarterly.body);
    let journal = text(&app.get(&q("/api/v1/exports/journal?format=hledger"), Role::Viewer).await);
    assert!(!journal.contains("2023-06-01"), "{journal}");
    let transparency =
        text(&app.get(&q("/api/v1/exports/transparency?from=2023-04-01&to=2024-03-31"), Role::Viewer).await);
    assert!(transparency.contains("1250.50") && !transparency.contains("2023-06-01"), "{transparency}");
    let multi = app.get(&q("/api/v1/reports/multi-year?grant=LDF"), Role::Viewer).await;
    assert_eq!(multi.status, StatusCode::OK, "{}", multi.body);
    // A bad instant names the field.
    for bad in ["2024-01-10", "2024-01-10T09:00:00", "yesterday"] {
        let r =
            app.get(&format!("/api/v1/reports/variance?financial_year=2023-24&as_known_at={bad}"), Role::Viewer).await;
        assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["as_known_at".to_owned()]), "{bad}");
    }
});

backend_test!(filing_refuses_bad_input_and_the_wrong_roles, |app: TestApp| async move {
    ledger(&app).await;
    for role in [Role::Viewer, Role::Funder] {
        assert_eq!(app.post("/api/v1/returns", role, q3()).await.status, StatusCode::FORBIDDEN);
    }
    for role in [Role::Finance, Role::Approver, Role::Admin] {
        assert_eq!(app.post("/api/v1/returns", role, q3()).await.status, StatusCode::CREATED, "{role:?}");
    }
    let cases = [
        (json!({ "kind": "commissioner-return", "financial_year": "2023-24", "quarter": 5 }), "quarter"),
        (json!({ "kind": "commissioner-return", "financial_year": "2023-24", "quarter": "3" }), "quarter"),
        (json!({ "kind": "commissioner-return", "financial_year": "2023-24", "quarter": 2.5 }), "quarter"),
        (json!({ "kind": "commissioner-return", "financial_year": "2023-24" }), "quarter"),
        (json!({ "kind": "variance", "financial_year": "2023-24", "quarter": 3 }), "kind"),
        (json!({ "financial_year": "2023-24", "quarter": 3 }), "kind"),
        (json!({ "kind": "commissioner-return", "financial_year": "2023", "quarter": 3 }), "financial_year"),
        (json!({ "kind": "commissioner-return", "financial_year": "2023-24", "quarter": 3, "bom": true }), "bom"),
    ];
    for (body, field) in cases {
        let r = app.post("/api/v1/returns", Role::Finance, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.body);
        assert_eq!(r.fields(), vec![field.to_owned()], "{body}");
    }
    let r = app
        .post(
            "/api/v1/returns",
            Role::Finance,
            json!({ "kind": "commissioner-return", "financial_year": "2030-31", "quarter": 1 }),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{}", r.body);
    // Nothing was stored by any refusal: the three filings above only.
    let list = app.get("/api/v1/returns", Role::Viewer).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 3);
    for path in ["/api/v1/returns/99", "/api/v1/returns/99/file", "/api/v1/returns/99/changes"] {
        assert_eq!(app.get(path, Role::Viewer).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(app.get("/api/v1/returns/0", Role::Viewer).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A funder reads what changed since a filing (tests/api/funder_reads.rs).
    assert_eq!(app.get("/api/v1/returns/1/changes", Role::Funder).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/returns?kind=nope", Role::Viewer).await.fields(), vec!["kind".to_owned()]);
});

async fn exec(app: &TestApp, sql: &str) {
    sqlx::query(sql).execute(app.store.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

backend_test!(a_filed_return_is_append_only_and_tampering_is_named, |app: TestApp| async move {
    ledger(&app).await;
    let filed = app.ok("/api/v1/returns", Role::Finance, q3()).await;
    let id = filed["id"].as_i64().unwrap();
    // The triggers refuse a change and a removal.
    for sql in [
        format!("update filed_returns set filed_by = 'someone else' where id = {id}"),
        format!("delete from filed_returns where id = {id}"),
    ] {
        assert!(sqlx::query(&sql).execute(app.store.pool()).await.is_err(), "{sql} must be refused");
    }
    // Someone with the database file works round them and edits the stored bytes.
    if app.store.backend() == StoreBackend::Sqlite {
        exec(&app, "drop trigger filed_returns_no_update").await;
    } else {
        exec(&app, "alter table filed_returns disable trigger filed_returns_append_only").await;
    }
    let sent = text(&app.get(&format!("/api/v1/returns/{id}/file"), Role::Viewer).await);
    let forged = sent.replace("1250.50", "1205.50");
    sqlx::query("update filed_returns set body = $1 where id = $2")
        .bind(forged.as_bytes().to_vec())
        .bind(id)
        .execute(app.store.pool())
        .await
        .unwrap();
    let problems = all_problems(&app).await;
    let name = format!("filed return {id} (commissioner-return 2023-24 Q3)");
    assert!(problems.iter().any(|p| p.starts_with(&name) && p.contains("SHA-256")), "{problems:#?}");
    assert!(problems.iter().any(|p| p.starts_with(&name) && p.contains("spent_to_date")), "{problems:#?}");
    // And the hash made to match: the audit trail's record of the filing still differs.
    let sha = hex::encode(Sha256::digest(forged.as_bytes()));
    exec(&app, &format!("update filed_returns set sha256 = '{sha}' where id = {id}")).await;
    let problems = all_problems(&app).await;
    assert!(
        problems.iter().any(|p| p.starts_with(&name) && p.contains("sha256 differs from the audit trail")),
        "{problems:#?}"
    );
    // The CLI's verify says so too, and fails.
    let (ok, out, _) = app.cli(&["verify"]);
    assert!(!ok && out.contains(&name), "{out}");
});

backend_test!(returns_filed_while_writers_race_equal_the_ledger_at_their_position, |app: TestApp| async move {
    // Two grants with 2023-24 awards, three projects; writers post spend and allocations
    // across both while filers file the Q3 return over and over.
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
        json!({ "financial_year": "2023-24", "amount": "50000", "awarded_on": "2023-03-01" }),
    )
    .await;
    for p in ["P1", "P2", "P3"] {
        app.project(p, "ASB").await;
        app.allocate("LDF", "2023-24", p, "10000").await;
        app.allocate("SSF", "2023-24", p, "5000").await;
    }
    // One filing before the race and one after it bracket the ones during it.
    let first = app.ok("/api/v1/returns", Role::Finance, q3()).await;
    let mut filed = vec![(first["id"].as_i64().unwrap(), first["filed_at"].as_str().unwrap().to_owned())];
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for w in 0..4u32 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..12u32 {
                let grant = if (w + i) % 2 == 0 { "LDF" } else { "SSF" };
                let project = ["P1", "P2", "P3"][((w + i) % 3) as usize];
                let day = 1 + (i % 28);
                let month = [7, 10, 12][(i % 3) as usize];
                let body = TestApp::spend_body(grant, project, &format!("2023-{month:02}-{day:02}"), "1.25");
                let r = app.post("/api/v1/spend", Role::Finance, body).await;
                assert!(r.status == StatusCode::CREATED || r.status == StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
            }
        }));
    }
    let mut filers = Vec::new();
    for _ in 0..2 {
        let app = app.clone();
        filers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for _ in 0..5 {
                let r = app.post("/api/v1/returns", Role::Finance, q3()).await;
                assert!(r.status == StatusCode::CREATED || r.status == StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
                if r.status == StatusCode::CREATED {
                    ids.push((r.body["id"].as_i64().unwrap(), r.body["filed_at"].as_str().unwrap().to_owned()));
                }
            }
            ids
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut during = Vec::new();
    for f in filers {
        during.extend(f.await.unwrap());
    }
    assert!(during.len() >= 5, "most filings got through: {during:?}");
    filed.extend(during);
    let last = app.ok("/api/v1/returns", Role::Finance, q3()).await;
    filed.push((last["id"].as_i64().unwrap(), last["filed_at"].as_str().unwrap().to_owned()));
    // Every filed return equals the ledger regenerated at its position (verify does it), and
    // the return regenerated as known at its filing time is its file.
    let problems = all_problems(&app).await;
    assert!(problems.is_empty(), "{problems:#?}");
    for (id, at) in &filed {
        let file = text(&app.get(&format!("/api/v1/returns/{id}/file"), Role::Viewer).await);
        let again = text(&app.get(&format!("{Q3_RETURN}&as_known_at={at}"), Role::Viewer).await);
        assert_eq!(file, again, "return {id} filed at {at}");
    }
    // The first and last filings differ (the writers' Q3 spend is in the last), so the
    // comparison above compared different ledgers; how many the racing filings saw varies
    // with the scheduler.
    let mut distinct = std::collections::BTreeSet::new();
    for (id, _) in &filed {
        distinct.insert(text(&app.get(&format!("/api/v1/returns/{id}/file"), Role::Viewer).await));
    }
    let file = |i: usize| filed[i].0;
    assert_ne!(
        text(&app.get(&format!("/api/v1/returns/{}/file", file(0)), Role::Viewer).await),
        text(&app.get(&format!("/api/v1/returns/{}/file", file(filed.len() - 1)), Role::Viewer).await),
    );
    eprintln!("{} filings saw {} different ledgers", filed.len(), distinct.len());
});

backend_test!(the_cli_files_lists_shows_and_compares_returns, |app: TestApp| async move {
    ledger(&app).await;
    let finance = app.token(Role::Finance).to_owned();
    let (ok, out, err) =
        app.cli(&["return", "file", "--financial-year", "2023-24", "--quarter", "3", "--token", &finance]);
    assert!(ok, "{out}{err}");
    let filed: Value = serde_json::from_str(&out).unwrap();
    let id = filed["id"].as_i64().unwrap().to_string();
    let (ok, out, _) = app.cli(&["return", "list", "--financial-year", "2023-24", "--token", &finance]);
    assert!(ok && out.contains("commissioner-return  2023-24 Q3"), "{out}");
    // `show --file` writes the stored bytes; `show` writes the record and its anchor lines,
    // which `verify --against` proves the ledger still holds.
    let (ok, bytes, _) = app.cli(&["return", "show", &id, "--file", "--token", &finance]);
    assert!(ok);
    assert_eq!(Some(bytes.as_str()), app.get(&format!("/api/v1/returns/{id}/file"), Role::Viewer).await.body.as_str());
    let (ok, shown, _) = app.cli(&["return", "show", &id, "--token", &finance]);
    assert!(ok && shown.contains("grant-ledger-anchor v1 award grant=LDF year=2023-24"), "{shown}");
    // Named for the backend too: both backends' runs of this test share the process and
    // the return id, and must not read each other's file.
    let anchors = std::env::temp_dir().join(format!(
        "grant-ledger-return-{}-{:?}-{id}.txt",
        std::process::id(),
        app.store.backend()
    ));
    std::fs::write(&anchors, &shown).unwrap();
    let (ok, out, err) = app.cli(&["verify", "--against", anchors.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    // `changes` exits 0 while the return still matches, 3 once a figure of it has moved.
    let (ok, out, _) = app.cli(&["return", "changes", &id, "--token", &finance]);
    assert!(ok && out.contains("\"changed\": false"), "{out}");
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-12-15", "900")).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
        .args(["return", "changes", &id, "--token", &finance])
        .env("DATABASE_URL", &app.url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stdout));
    // A viewer may not file.
    let viewer = app.token(Role::Viewer).to_owned();
    let (ok, _, err) =
        app.cli(&["return", "file", "--financial-year", "2023-24", "--quarter", "3", "--token", &viewer]);
    assert!(!ok && err.contains("viewer role may not"), "{err}");
    std::fs::remove_file(anchors).ok();
});
