//! Locked quarters. An admin locks a quarter once its return is filed; every
//! path that writes an entry then refuses one dated in it (409 `period_closed`, naming the
//! quarter), while the next quarter stays open for corrections. Locking serialises with
//! postings: nothing dated in the quarter is recorded after the lock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::StatusCode;
use grant_ledger::csv::mapping::Mapping;
use grant_ledger::model::import::{Engine, ImportOptions, ImportReport};
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::{Reply, TestApp};

const HEADER: &str = "date,grant,project,supplier,description,invoice_ref,amount,source_ref\n";
const Q3: &str = "/api/v1/financial-years/2023-24/quarters/3";

async fn lock(app: &TestApp, path: &str, reason: &str) -> Reply {
    app.post(&format!("{path}/lock"), Role::Admin, json!({ "reason": reason })).await
}

async fn unlock(app: &TestApp, path: &str, body: Value) -> Reply {
    app.post(&format!("{path}/unlock"), Role::Admin, body).await
}

/// Locks the quarters of 2023-24 before `quarter`, in order: a quarter is locked only once
/// every earlier one is.
async fn lock_before(app: &TestApp, quarter: u8) {
    for q in 1..quarter {
        let r = lock(app, &format!("/api/v1/financial-years/2023-24/quarters/{q}"), "returns filed in order").await;
        assert_eq!(r.status, StatusCode::OK, "Q{q}: {}", r.body);
    }
}

/// Insists on 409 `period_closed` naming 2023-24 Q3.
fn assert_q3_locked(r: &Reply, what: &str) {
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "period_closed"), "{what}: {}", r.body);
    assert_eq!(r.body["quarter"], 3, "{what}: {}", r.body);
    assert_eq!(r.body["financial_year"], "2023-24", "{what}: {}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("2023-24 Q3 is locked"), "{what}: {}", r.body);
}

async fn run_engine(app: &TestApp, file: &str, engine: Engine) -> ImportReport {
    let opts = ImportOptions { dry_run: false, created_by: "test", idem: None, engine };
    grant_ledger::csv::import_spend(&app.store, file.as_bytes(), &Mapping::generic(), opts, &|_| {}).await.unwrap()
}

fn commitment(date: &str, amount: &str) -> Value {
    json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "s", "amount": amount, "date": date })
}

fn allocation(approved_on: &str) -> Value {
    json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "amount": "100",
            "approved_on": approved_on, "approval_ref": "m" })
}

backend_test!(a_locked_quarter_refuses_every_entry_dated_in_it, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "10000").await;
    app.project("P2", "ASB").await;
    let before = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-11-01", "300")).await;
    let c = app.ok("/api/v1/commitments", Role::Finance, commitment("2023-09-01", "200")).await;

    lock_before(&app, 3).await;
    let r = lock(&app, Q3, "Q3 return filed with the Commissioner").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["financial_year"], "2023-24");
    assert_eq!(r.body["quarter"], 3);
    assert_eq!(r.body["locked"], true);
    assert_eq!(r.body["reason"], "Q3 return filed with the Commissioner");
    assert_eq!(r.body["changed_by"], "test admin");
    // Locking it again is a conflict.
    let again = lock(&app, Q3, "twice").await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "conflict"), "{}", again.body);

    // A spend, an allocation, a commitment, a refund and a reversal dated in Q3: refused.
    let r = app.post("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-12-15", "900")).await;
    assert_q3_locked(&r, "spend");
    let r = app.post("/api/v1/allocations", Role::Approver, allocation("2023-10-02")).await;
    assert_q3_locked(&r, "allocation");
    let r = app.post("/api/v1/commitments", Role::Finance, commitment("2023-10-01", "50")).await;
    assert_q3_locked(&r, "commitment");
    let refund = json!({ "grant": "LDF", "project": "P1", "date": "2023-12-31", "amount": "1", "reason": "r" });
    let r = app.post("/api/v1/refunds", Role::Finance, refund).await;
    assert_q3_locked(&r, "refund");
    let reverse = format!("/api/v1/entries/{}/reverse", before["entry_id"]);
    let r = app.post(&reverse, Role::Finance, json!({ "date": "2023-12-20", "reason": "wrong supplier" })).await;
    assert_q3_locked(&r, "reversal");
    let release = format!("/api/v1/commitments/{}/release", c["commitment_id"]);
    let r = app.post(&release, Role::Finance, json!({ "date": "2023-10-31", "amount": "200", "reason": "done" })).await;
    assert_q3_locked(&r, "release");
    let virement = |on: &str| {
        json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": "P1", "to_project": "P2", "amount": "100",
                "approved_on": on, "approval_ref": "chair's action", "reason": "demand moved" })
    };
    let r = app.post("/api/v1/virements", Role::Approver, virement("2023-12-01")).await;
    assert_q3_locked(&r, "virement");
    // An award whose entry falls in Q3 (ASB-EI has no 2023-24 award yet).
    let award = |on: &str| json!({ "financial_year": "2023-24", "amount": "5000", "awarded_on": on, "reference": "r" });
    let r = app.post("/api/v1/grants/ASB-EI/awards", Role::Approver, award("2023-11-30")).await;
    assert_q3_locked(&r, "award");

    // An import line dated in Q3, by either engine: a line error on `date`, nothing written.
    let file =
        format!("{HEADER}2024-01-05,LDF,P1,S,Fine,I-1,10.00,Q-1\n2023-10-10,LDF,P1,S,Back-dated,I-2,20.00,Q-2\n");
    for engine in [Engine::PerLine, Engine::Bulk] {
        let r = run_engine(&app, &file, engine).await;
        assert_eq!((r.accepted, r.rejected, r.posted), (1, 1, false), "{engine:?}: {r:?}");
        let lines: Vec<(u64, &str, &str)> = r.errors.iter().map(|e| (e.line, e.field.as_str(), e.code)).collect();
        assert_eq!(lines, [(3, "date", "period_closed")], "{engine:?}: {r:?}");
        assert!(r.errors[0].message.contains("2023-24 Q3 is locked"), "{engine:?}: {r:?}");
    }
    let r = app.import_spend(file.clone()).await;
    assert_eq!(r.body["errors"][0]["code"], "period_closed", "{}", r.body);
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-300.00", "nothing of Q3 was written");

    // The next quarter is open: the correction goes there, and so does the rest.
    let r = app.post(&reverse, Role::Finance, json!({ "date": "2024-01-02", "reason": "wrong supplier" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2024-01-03", "40")).await;
    app.ok("/api/v1/allocations", Role::Approver, allocation("2024-01-04")).await;
    app.ok("/api/v1/commitments", Role::Finance, commitment("2024-01-05", "25")).await;
    app.ok(&release, Role::Finance, json!({ "date": "2024-01-05", "amount": "200", "reason": "done" })).await;
    app.ok("/api/v1/virements", Role::Approver, virement("2024-01-08")).await;
    app.ok("/api/v1/grants/ASB-EI/awards", Role::Approver, award("2024-01-10")).await;
    let r = run_engine(&app, &format!("{HEADER}2024-01-06,LDF,P1,S,Fine,I-3,10.00,Q-3\n"), Engine::Bulk).await;
    assert_eq!((r.accepted, r.posted), (1, true), "{r:?}");
    // 300 spent, reversed, then 40 and 10 spent in Q4; 200 committed and released, 25
    // committed; 10,100 allocated, 100 vired to P2: 10,100 - 100 - 50 - 25 available.
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-50.00");
    assert_eq!(app.balance("committed:LDF:2023-24:P1").await, "-25.00");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-9925.00");
    assert_eq!(app.balance("available:LDF:2023-24:P2").await, "-100.00");
    app.assert_verified().await;
});

backend_test!(a_year_end_dated_in_a_locked_quarter_is_refused, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let q4 = "/api/v1/financial-years/2023-24/quarters/4";
    lock_before(&app, 4).await;
    assert_eq!(lock(&app, q4, "Q4 return filed").await.status, StatusCode::OK);
    // A year end is dated the year's last day by default, in Q4.
    let r = app
        .post(
            "/api/v1/grants/LDF/awards/2023-24/year-end",
            Role::Approver,
            json!({ "return_to_funder": "61394", "reason": "r" }),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "period_closed"), "{}", r.body);
    assert_eq!(r.body["quarter"], 4, "{}", r.body);
    // Unlocked (with a reason), it posts.
    let r = unlock(&app, q4, json!({ "reason": "late credit note" })).await;
    assert_eq!((r.status, r.body["locked"].clone()), (StatusCode::OK, json!(false)), "{}", r.body);
    app.ok(
        "/api/v1/grants/LDF/awards/2023-24/year-end",
        Role::Approver,
        json!({ "return_to_funder": "61394", "reason": "r" }),
    )
    .await;
    app.assert_verified().await;
});

backend_test!(unlock_needs_a_reason_and_admin_and_both_are_audited, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    // Bad paths and bodies, each named.
    for (path, field) in [
        ("/api/v1/financial-years/2023-24/quarters/5", "q"),
        ("/api/v1/financial-years/2023-24/quarters/0", "q"),
        ("/api/v1/financial-years/2023-24/quarters/Q3", "q"),
        ("/api/v1/financial-years/2023/quarters/3", "fy"),
    ] {
        let r = lock(&app, path, "r").await;
        assert_eq!(
            (r.status, r.fields()),
            (StatusCode::UNPROCESSABLE_ENTITY, vec![field.to_owned()]),
            "{path}: {}",
            r.body
        );
    }
    let r = lock(&app, "/api/v1/financial-years/2030-31/quarters/3", "r").await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{}", r.body);
    let r = app.get("/api/v1/financial-years/2030-31/quarters", Role::Viewer).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = app.post(&format!("{Q3}/lock"), Role::Admin, json!({})).await;
    assert_eq!(r.fields(), ["reason"], "{}", r.body);
    let r = app.post(&format!("{Q3}/lock"), Role::Admin, json!({ "reason": "  " })).await;
    assert_eq!(r.fields(), ["reason"], "{}", r.body);
    // Unlocking an open quarter is a conflict.
    let r = unlock(&app, Q3, json!({ "reason": "r" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{}", r.body);
    // Admin alone.
    for role in [Role::Viewer, Role::Finance, Role::Approver, Role::Funder] {
        let r = app.post(&format!("{Q3}/lock"), role, json!({ "reason": "r" })).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"), "{role:?}");
    }
    lock_before(&app, 3).await;
    assert_eq!(lock(&app, Q3, "Q3 return filed").await.status, StatusCode::OK);
    for role in [Role::Viewer, Role::Finance, Role::Approver, Role::Funder] {
        let r = app.post(&format!("{Q3}/unlock"), role, json!({ "reason": "r" })).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"), "{role:?}");
    }
    // Unlocking needs a reason.
    let r = unlock(&app, Q3, json!({})).await;
    assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["reason".to_owned()]), "{}", r.body);
    let r = unlock(&app, Q3, json!({ "reason": "" })).await;
    assert_eq!(r.fields(), ["reason"], "{}", r.body);
    // Every role reads the quarters.
    let r = app.get("/api/v1/financial-years/2023-24/quarters", Role::Funder).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let locked: Vec<(i64, bool)> =
        r.body.as_array().unwrap().iter().map(|q| (q["quarter"].as_i64().unwrap(), q["locked"] == true)).collect();
    assert_eq!(locked, [(1, true), (2, true), (3, true), (4, false)]);
    assert_eq!(r.body[2]["reason"], "Q3 return filed");
    assert_eq!(r.body[3]["changed_by"], Value::Null);
    let r = unlock(&app, Q3, json!({ "reason": "a late invoice belongs in Q3" })).await;
    assert_eq!((r.status, r.body["locked"].clone()), (StatusCode::OK, json!(false)), "{}", r.body);
    // Open again: an entry dated in Q3 posts.
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-12-01", "5")).await;

    // The audit trail has both, newest first, with who, why and the state before and after.
    let trail = app.get("/api/v1/audit?entity=quarter&key=2023-24/Q3", Role::Viewer).await;
    let items = trail.body["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|i| i["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["unlock", "lock"], "{}", trail.body);
    assert_eq!(items[0]["reason"], "a late invoice belongs in Q3");
    assert_eq!(items[0]["actor"], "test admin");
    assert_eq!(items[0]["before"]["locked"], true);
    assert_eq!(items[0]["after"]["locked"], false);
    assert_eq!(items[1]["reason"], "Q3 return filed");
    assert_eq!(items[1]["before"]["locked"], false);
    app.assert_verified().await;

    // The command line does the same, as the token's person.
    let admin = app.token(Role::Admin).to_owned();
    let args =
        ["quarter", "lock", "--financial-year", "2023-24", "--quarter", "3", "--reason", "Q3 filed", "--token", &admin];
    let (ok, out, err) = app.cli(&args);
    assert!(ok && out.contains("\"locked\": true"), "{out}{err}");
    let (ok, _, err) = app.cli(&[
        "quarter",
        "lock",
        "--financial-year",
        "2023-24",
        "--quarter",
        "3",
        "--reason",
        "again",
        "--token",
        &admin,
    ]);
    assert!(!ok && err.contains("already locked"), "{err}");
    let (ok, _, err) = app.cli(&[
        "quarter",
        "lock",
        "--financial-year",
        "2023-24",
        "--quarter",
        "1",
        "--reason",
        "bad\u{1b}reason",
        "--token",
        &admin,
    ]);
    assert!(!ok && err.contains("control characters"), "{err}");
    let finance = app.token(Role::Finance).to_owned();
    let (ok, _, err) = app.cli(&[
        "quarter",
        "unlock",
        "--financial-year",
        "2023-24",
        "--quarter",
        "3",
        "--reason",
        "r",
        "--token",
        &finance,
    ]);
    assert!(!ok && err.contains("may not"), "{err}");
    let (ok, _, err) = app.cli(&[
        "quarter",
        "lock",
        "--financial-year",
        "2023-24",
        "--quarter",
        "5",
        "--reason",
        "r",
        "--token",
        &admin,
    ]);
    assert!(!ok, "quarter 5: {err}");
    let (ok, out, err) = app.cli(&["quarter", "list", "--financial-year", "2023-24", "--token", &finance]);
    let listed: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert!(ok && listed[2]["locked"] == true && listed[3]["locked"] == false, "{out}");
    // Q2 stays locked while Q3 is.
    let args =
        ["quarter", "unlock", "--financial-year", "2023-24", "--quarter", "2", "--reason", "r", "--token", &admin];
    let (ok, _, err) = app.cli(&args);
    assert!(!ok && err.contains("2023-24 Q3 is locked"), "{err}");
    let (ok, out, err) = app.cli(&[
        "quarter",
        "unlock",
        "--financial-year",
        "2023-24",
        "--quarter",
        "3",
        "--reason",
        "reopened",
        "--token",
        &admin,
    ]);
    assert!(ok && out.contains("\"locked\": false"), "{out}{err}");
});

backend_test!(verify_names_a_quarter_lock_edited_in_the_database, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-11-01", "10")).await;
    lock_before(&app, 3).await;
    assert_eq!(lock(&app, Q3, "Q3 filed").await.status, StatusCode::OK);
    app.assert_verified().await;
    // As if the lock had been taken long before the spend was recorded. The row is held to
    // the lock's audit record, and entries to the lock's time there (tests/api/tamper.rs).
    sqlx::query("update quarter_locks set changed_at = '2000-01-01T00:00:00Z' where quarter = 3")
        .execute(app.store.pool())
        .await
        .unwrap();
    let problems = grant_ledger::storage::verify::verify(&app.store).await.unwrap();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let want = "quarter_locks 2023-24/Q3: changed_at is 2000-01-01T00:00:00Z but its audit trail says ";
    assert!(problems[0].starts_with(want), "{problems:#?}");
});

// Writers post spends dated in Q3 to two awards while an admin locks Q3. Each writer keeps
// going until it is refused. Whatever committed before the lock is all there is: the entries
// dated in Q3 read right after the lock answered are exactly those at the end, and each was
// recorded no later than the lock.
// As in race.rs, only the PostgreSQL run can catch a lock taken too late: SQLite's writer
// holds the whole database.
backend_test!(postings_racing_a_lock_never_slip_in_after_it, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "50000").await;
    let award = json!({ "financial_year": "2023-24", "amount": "5000", "awarded_on": "2023-04-01", "reference": "r" });
    app.ok("/api/v1/grants/ASB-EI/awards", Role::Approver, award).await;
    app.allocate("ASB-EI", "2023-24", "P1", "5000").await;
    lock_before(&app, 3).await;
    let app = Arc::new(app);
    let posted = Arc::new(AtomicUsize::new(0));
    const WRITERS: usize = 6;
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (app, posted) = (app.clone(), posted.clone());
        writers.push(tokio::spawn(async move {
            let (mut created, mut busy) = (0usize, 0usize);
            for i in 0..400 {
                let grant = if (w + i) % 2 == 0 { "LDF" } else { "ASB-EI" };
                let date = format!("2023-{}-{:02}", 10 + (i % 3), 1 + (w % 28));
                let mut body = TestApp::spend_body(grant, "P1", &date, "1");
                body["invoice_ref"] = json!(format!("W{w}-{i}"));
                let r = app.post("/api/v1/spend", Role::Finance, body).await;
                match (r.status, r.code()) {
                    (StatusCode::CREATED, _) => {
                        created += 1;
                        posted.fetch_add(1, Ordering::SeqCst);
                    }
                    (StatusCode::SERVICE_UNAVAILABLE, "busy") => busy += 1,
                    (StatusCode::CONFLICT, "period_closed") => return (created, busy, true),
                    other => panic!("writer {w}: unexpected answer {other:?}: {}", r.body),
                }
            }
            (created, busy, false)
        }));
    }
    // Lock once the writers are well under way.
    while posted.load(Ordering::SeqCst) < 12 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let locked = loop {
        let r = lock(&app, Q3, "Q3 return filed").await;
        match (r.status, r.code()) {
            (StatusCode::OK, _) => break r.body,
            (StatusCode::SERVICE_UNAVAILABLE, "busy") => continue,
            other => panic!("lock: {other:?} {}", r.body),
        }
    };
    let q3_entries = || async {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "select id, created_at from entries
             where financial_year = '2023-24' and entry_date >= '2023-10-01' and entry_date <= '2023-12-31' order by id",
        )
        .fetch_all(app.store.pool())
        .await
        .unwrap();
        rows
    };
    let at_lock = q3_entries().await;
    let mut created = 0;
    for w in writers {
        let (c, _busy, refused) = w.await.unwrap();
        assert!(refused, "every writer runs until the lock refuses it");
        created += c;
    }
    let at_end = q3_entries().await;
    assert_eq!(at_end, at_lock, "entries dated in Q3 were recorded after the lock");
    assert_eq!(at_end.len(), created, "every accepted spend, and only those, is in Q3");
    assert!(created >= 12, "{created}");
    let changed_at = locked["changed_at"].as_str().unwrap();
    for (id, at) in &at_end {
        assert!(at.as_str() <= changed_at, "entry {id} recorded at {at}, after the lock at {changed_at}");
    }
    app.assert_verified().await;
});

// Rule 8: a locked quarter never has an open quarter before it in its year. Locking Q3 while
// Q1 or Q2 is open would leave spend dated in them free to change Q3's cumulative figures.
backend_test!(quarters_are_locked_in_order_and_unlocked_in_reverse, |app: TestApp| async move {
    let q = |n: u8| format!("/api/v1/financial-years/2023-24/quarters/{n}");
    let refused = |r: &Reply, naming: &str| {
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains(naming), "should name {naming}: {}", r.body);
    };
    refused(&lock(&app, &q(3), "Q3 filed").await, "2023-24 Q1 is open");
    refused(&lock(&app, &q(4), "Q4 filed").await, "2023-24 Q1 is open");
    assert_eq!(lock(&app, &q(1), "Q1 filed").await.status, StatusCode::OK);
    refused(&lock(&app, &q(3), "Q3 filed").await, "2023-24 Q2 is open");
    assert_eq!(lock(&app, &q(2), "Q2 filed").await.status, StatusCode::OK);
    assert_eq!(lock(&app, &q(3), "Q3 filed").await.status, StatusCode::OK);
    // Unlocking goes the other way: Q2 is held while Q3 is locked.
    refused(&unlock(&app, &q(1), json!({ "reason": "late invoice" })).await, "2023-24 Q3 is locked");
    refused(&unlock(&app, &q(2), json!({ "reason": "late invoice" })).await, "2023-24 Q3 is locked");
    assert_eq!(unlock(&app, &q(3), json!({ "reason": "late invoice" })).await.status, StatusCode::OK);
    assert_eq!(unlock(&app, &q(2), json!({ "reason": "late invoice" })).await.status, StatusCode::OK);
    // Another year's quarters are their own.
    let other = "/api/v1/financial-years/2024-25/quarters/1";
    assert_eq!(lock(&app, other, "Q1 filed").await.status, StatusCode::OK);
    let states = app.get("/api/v1/financial-years/2023-24/quarters", Role::Viewer).await;
    let locked: Vec<bool> = states.body.as_array().unwrap().iter().map(|s| s["locked"] == true).collect();
    assert_eq!(locked, [true, false, false, false], "{}", states.body);
    // The refusals wrote nothing to the trail: two locks and two unlocks of 2023-24 Q1-Q3.
    let trail = app.get("/api/v1/audit?entity=quarter", Role::Viewer).await;
    assert_eq!(trail.body["items"].as_array().unwrap().len(), 6, "{}", trail.body);
});
