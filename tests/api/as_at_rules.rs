//! Rule 8: the rules hold as at every date, not only at the latest. A correction is never
//! dated before what it corrects; a back-dated entry that would break rule 2, rule 4 under
//! `stop`, or the structural rules in an earlier as-at report is refused, naming the date;
//! the import engines and `verify` hold the same line. A reversal is checked under the rule
//! its original was.

use axum::http::StatusCode;
use grant_ledger::csv::mapping::Mapping;
use grant_ledger::model::import::{Engine, ImportOptions, ImportReport};
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::{Reply, TestApp};

const HEADER: &str = "date,grant,project,supplier,description,invoice_ref,amount,source_ref\n";

fn spend(project: &str, date: &str, amount: &str) -> Value {
    TestApp::spend_body("LDF", project, date, amount)
}

/// An allocation decided on `approved_on`, so dated then (inside the year).
async fn allocate_on(app: &TestApp, project: &str, amount: &str, approved_on: &str) -> Value {
    app.ok(
        "/api/v1/allocations",
        Role::Approver,
        json!({ "grant": "LDF", "financial_year": "2023-24", "project": project, "amount": amount,
                "approved_on": approved_on, "approval_ref": "m" }),
    )
    .await
}

fn virement(grant: &str, from: &str, to: &str, amount: &str, on: &str) -> Value {
    json!({ "grant": grant, "financial_year": "2023-24", "from_project": from, "to_project": to, "amount": amount,
            "approved_on": on, "approval_ref": "m", "reason": "r" })
}

async fn reverse(app: &TestApp, entry: &Value, date: &str, role: Role) -> Reply {
    app.post(&format!("/api/v1/entries/{}/reverse", entry["entry_id"]), role, json!({ "date": date, "reason": "r" }))
        .await
}

/// A 422 naming `date` alone.
fn assert_date_refused(r: &Reply, what: &str) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", r.body);
    assert_eq!(r.code(), "validation_failed", "{what}: {}", r.body);
    assert_eq!(r.fields(), ["date"], "{what}: {}", r.body);
}

/// A refusal of rule `code` that names the as-at date it would break at.
fn assert_refused_as_at(r: &Reply, code: &str, date: &str) {
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.code(), code, "{}", r.body);
    assert_eq!(r.body["as_at"], date, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains(date), "{}", r.body);
}

/// P1: £1,000 allocated on 1 April, £600 spent on 1 June, £500 more allocated on 1 September.
/// Available is £900 now, but only £400 as at any date from 1 June to 31 August.
async fn dip_in_june(app: &TestApp) {
    app.project("P1", "ASB").await;
    app.project("P2", "ASB").await;
    allocate_on(app, "P1", "1000", "2023-04-01").await;
    app.ok("/api/v1/spend", Role::Finance, spend("P1", "2023-06-01", "600")).await;
    allocate_on(app, "P1", "500", "2023-09-01").await;
}

async fn as_at_available(app: &TestApp, project: &str, as_at: &str) -> String {
    let r = app.get(&format!("/api/v1/reports/variance?financial_year=2023-24&as_at={as_at}"), Role::Viewer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rows = r.body["rows"].as_array().expect("variance rows");
    let row = rows.iter().find(|row| row["project"] == project).expect("the project's row");
    row["available"].as_str().unwrap().to_owned()
}

backend_test!(a_reversal_dated_before_its_entry_is_refused, |app: TestApp| async move {
    // The issue's reproduction: £800 spent on 1 March 2024, "reversed" on 2 April 2023.
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let s = app.ok("/api/v1/spend", Role::Finance, spend("P1", "2024-03-01", "800")).await;
    let r = reverse(&app, &s, "2023-04-02", Role::Finance).await;
    assert_date_refused(&r, "reversal before its spend");
    assert!(r.body["detail"].as_str().unwrap().contains("2024-03-01"), "{}", r.body);
    // The day before is refused; the same day is not.
    assert_date_refused(&reverse(&app, &s, "2024-02-29", Role::Finance).await, "a day early");
    let ok = reverse(&app, &s, "2024-03-01", Role::Finance).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    app.assert_verified().await;
});

backend_test!(a_release_and_a_spend_dated_before_their_commitment_are_refused, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let c = app
        .ok(
            "/api/v1/commitments",
            Role::Finance,
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "Youth Trust",
                    "reference": "PO-1", "amount": "500", "date": "2023-06-01" }),
        )
        .await;
    let id = c["commitment_id"].as_i64().unwrap();
    let release = |date: &str| json!({ "date": date, "amount": "100", "reason": "r" });
    let r = app.post(&format!("/api/v1/commitments/{id}/release"), Role::Finance, release("2023-05-31")).await;
    assert_date_refused(&r, "release before its commitment");
    let mut early = spend("P1", "2023-05-31", "100");
    early["commitment_id"] = json!(id);
    let r = app.post("/api/v1/spend", Role::Finance, early.clone()).await;
    assert_date_refused(&r, "spend against a commitment before it");
    // Nothing was written by the refusals.
    assert_eq!(app.balance("committed:LDF:2023-24:P1").await, "-500.00");
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "0.00");
    // On the commitment's own date both pass.
    app.ok(&format!("/api/v1/commitments/{id}/release"), Role::Finance, release("2023-06-01")).await;
    early["date"] = json!("2023-06-01");
    app.ok("/api/v1/spend", Role::Finance, early).await;
    app.assert_verified().await;
});

backend_test!(a_refund_dated_before_its_spend_is_refused, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    app.ok("/api/v1/spend", Role::Finance, spend("P1", "2023-06-01", "300")).await;
    let refund = |date: &str, amount: &str| json!({ "grant": "LDF", "project": "P1", "date": date, "amount": amount, "reference": "CN-1", "reason": "r" });
    // Spent holds nothing as at 31 May: a refund then would leave it below zero.
    let r = app.post("/api/v1/refunds", Role::Finance, refund("2023-05-31", "100")).await;
    assert_refused_as_at(&r, "conflict", "2023-05-31");
    // A later refund of more than was spent by its date is refused too.
    let r = app.post("/api/v1/refunds", Role::Finance, refund("2023-06-02", "300.01")).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{}", r.body);
    app.ok("/api/v1/refunds", Role::Finance, refund("2023-06-01", "300")).await;
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "0.00");
    app.assert_verified().await;
});

backend_test!(a_back_dated_spend_that_overspends_an_earlier_date_is_refused, |app: TestApp| async move {
    dip_in_june(&app).await;
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-900.00");
    // £500 on 1 May: fine as at May, but as at June available would be £400 − £500.
    let r = app.post("/api/v1/spend", Role::Finance, spend("P1", "2023-05-01", "500")).await;
    assert_refused_as_at(&r, "overspend", "2023-06-01");
    assert_eq!(r.body["available"], "400.00", "{}", r.body);
    assert_eq!(r.body["shortfall"], "100.00", "{}", r.body);
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-900.00");
    // Short today as well: the refusal names no earlier date.
    let r = app.post("/api/v1/spend", Role::Finance, spend("P1", "2023-09-02", "900.01")).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "overspend"), "{}", r.body);
    assert!(r.body.get("as_at").is_none(), "{}", r.body);
    // The same spend dated after the top-up passes; £400 on 1 May passes too.
    app.ok("/api/v1/spend", Role::Finance, spend("P1", "2023-05-01", "400")).await;
    app.ok("/api/v1/spend", Role::Finance, spend("P1", "2023-09-01", "500")).await;
    assert_eq!(as_at_available(&app, "P1", "2023-06-30").await, "0.00");
    app.assert_verified().await;
});

backend_test!(a_back_dated_virement_and_commitment_are_held_to_every_date, |app: TestApp| async move {
    dip_in_june(&app).await;
    // A virement is checked under `stop`: £500 out of P1 on 1 May is refused as at June.
    let r = app.post("/api/v1/virements", Role::Approver, virement("LDF", "P1", "P2", "500", "2023-05-01")).await;
    assert_refused_as_at(&r, "overspend", "2023-06-01");
    // A commitment drawing on available is held to it too.
    let r = app
        .post(
            "/api/v1/commitments",
            Role::Finance,
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "s",
                    "reference": "PO", "amount": "400.01", "date": "2023-04-15" }),
        )
        .await;
    assert_refused_as_at(&r, "overspend", "2023-06-01");
    app.ok("/api/v1/virements", Role::Approver, virement("LDF", "P1", "P2", "400", "2023-05-01")).await;
    app.assert_verified().await;
});

backend_test!(over_allocation_as_at_an_earlier_date_names_it, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.project("P2", "ASB").await;
    // £61,394 awarded; £60,394 allocated on 1 April, £1,000 on 1 June, and the June
    // allocation reversed on 1 September: £1,000 unallocated now, nothing from June to August.
    allocate_on(&app, "P1", "60394", "2023-04-01").await;
    let june = allocate_on(&app, "P2", "1000", "2023-06-01").await;
    let r = reverse(&app, &june, "2023-09-01", Role::Approver).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(app.balance("unallocated:LDF:2023-24").await, "-1000.00");
    let r = app
        .post(
            "/api/v1/allocations",
            Role::Approver,
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "amount": "1",
                    "approved_on": "2023-05-01", "approval_ref": "m" }),
        )
        .await;
    assert_refused_as_at(&r, "over_allocation", "2023-06-01");
    assert_eq!(r.body["unallocated"], "0.00", "{}", r.body);
    allocate_on(&app, "P1", "1000", "2023-09-01").await;
    app.assert_verified().await;
});

async fn warn_grant(app: &TestApp, code: &str, amount: &str) {
    app.ok(
        "/api/v1/grants",
        Role::Approver,
        json!({ "code": code, "name": "Warn grant", "funder": "SCO", "restricted_to_priority": null, "on_overspend": "warn" }),
    )
    .await;
    app.ok(
        &format!("/api/v1/grants/{code}/awards"),
        Role::Approver,
        json!({ "financial_year": "2023-24", "amount": amount, "awarded_on": "2023-04-01", "reference": "R" }),
    )
    .await;
}

backend_test!(under_warn_an_overspend_as_at_an_earlier_date_posts_flagged, |app: TestApp| async move {
    warn_grant(&app, "SOFT", "3000").await;
    app.project("W1", "ASB").await;
    let alloc = |amount: &str, on: &str| {
        json!({ "grant": "SOFT", "financial_year": "2023-24", "project": "W1", "amount": amount,
                "approved_on": on, "approval_ref": "m" })
    };
    app.ok("/api/v1/allocations", Role::Approver, alloc("1000", "2023-04-01")).await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("SOFT", "W1", "2023-06-01", "600")).await;
    app.ok("/api/v1/allocations", Role::Approver, alloc("500", "2023-09-01")).await;
    let s = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("SOFT", "W1", "2023-05-01", "500")).await;
    let w = &s["warnings"];
    assert_eq!(w.as_array().map(|a| a.len()), Some(1), "{s}");
    assert_eq!(w[0]["project"], "W1", "{s}");
    assert_eq!(w[0]["shortfall"], "100.00", "{s}");
    assert_eq!(w[0]["as_at"], "2023-06-01", "{s}");
    // A spend that fits every date carries no warnings at all.
    let fine = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("SOFT", "W1", "2023-09-02", "100")).await;
    assert!(fine.get("warnings").is_none(), "{fine}");
    app.assert_verified().await;
});

async fn run_engine(app: &TestApp, file: &str, engine: Engine) -> ImportReport {
    let opts = ImportOptions { dry_run: false, created_by: "test", idem: None, engine };
    grant_ledger::csv::import_spend(&app.store, file.as_bytes(), &Mapping::generic(), opts, &|_| {}).await.unwrap()
}

backend_test!(a_back_dated_import_line_is_refused_by_both_engines, |app: TestApp| async move {
    dip_in_june(&app).await;
    for engine in [Engine::PerLine, Engine::Bulk] {
        // Line 2 is fine now but overspends as at June; line 3 refunds before any spend.
        let file = format!(
            "{HEADER}2023-09-02,LDF,P1,S,Fine,I-1,100.00,B-1\n\
             2023-05-01,LDF,P1,S,Back-dated,I-2,500.00,B-2\n\
             2023-04-02,LDF,P1,S,Early credit,I-3,-1.00,B-3\n"
        );
        let r = run_engine(&app, &file, engine).await;
        assert_eq!((r.accepted, r.rejected, r.posted), (1, 2, false), "{engine:?}: {r:?}");
        let lines: Vec<(u64, &str, &str)> = r.errors.iter().map(|e| (e.line, e.field.as_str(), e.code)).collect();
        assert_eq!(lines, [(3, "date", "overspend"), (4, "date", "conflict")], "{engine:?}: {r:?}");
        assert!(r.errors[0].message.contains("2023-06-01"), "{engine:?}: {r:?}");
        assert!(r.errors[1].message.contains("2023-04-02"), "{engine:?}: {r:?}");
        // Lines of the same file count: a later line's spend is what an earlier-dated one breaks.
        let file = format!(
            "{HEADER}2023-07-01,LDF,P1,S,Takes the rest,I-4,400.00,B-4\n\
             2023-06-15,LDF,P1,S,Too late for June,I-5,0.01,B-5\n"
        );
        let r = run_engine(&app, &file, engine).await;
        let lines: Vec<(u64, &str, &str)> = r.errors.iter().map(|e| (e.line, e.field.as_str(), e.code)).collect();
        assert_eq!(lines, [(3, "date", "overspend")], "{engine:?}: {r:?}");
        assert!(r.errors[0].message.contains("2023-07-01"), "{engine:?}: {r:?}");
    }
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-900.00");
    app.assert_verified().await;
});

backend_test!(verify_finds_a_rule_broken_as_at_an_earlier_date, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000").await;
    let s = app.ok("/api/v1/spend", Role::Finance, spend("P1", "2024-03-01", "800")).await;
    app.assert_verified().await;
    // What the old API accepted: a reversal of that spend dated 2 April 2023, written as
    // the ledger would have (entry, postings, balances), bypassing only the checks.
    let pool = app.store.pool();
    let id: i64 = sqlx::query_scalar(
        "insert into entries (kind, entry_date, financial_year, grant_code, memo, details, created_by, created_at,
                              reverses, prev_hash, hash)
         values ('reversal', '2023-04-02', '2023-24', 'LDF', 'r', '{}', 'raw', '2024-03-02T00:00:00Z', $1, 'x', 'y')
         returning id",
    )
    .bind(s["entry_id"].as_i64().unwrap())
    .fetch_one(pool)
    .await
    .unwrap();
    for (line, account, amount) in [(1i64, "spent:LDF:2023-24:P1", 80_000i64), (2, "available:LDF:2023-24:P1", -80_000)]
    {
        sqlx::query(
            "insert into postings (entry_id, line, account, amount_pence, entry_date) values ($1, $2, $3, $4, '2023-04-02')",
        )
        .bind(id)
        .bind(line)
        .bind(account)
        .bind(amount)
        .execute(pool)
        .await
        .unwrap();
    }
    let problems = grant_ledger::storage::verify::verify(&app.store).await.unwrap();
    let joined = problems.join("\n");
    assert!(
        problems.iter().any(|p| p.contains("spent:LDF:2023-24:P1") && p.contains("2023-04-02")),
        "spent below zero as at 2023-04-02 not named:\n{joined}"
    );
    assert!(
        problems.iter().any(|p| p.contains(&format!("entry {id}")) && p.contains("before")),
        "reversal dated before its original not named:\n{joined}"
    );
});

backend_test!(
    verify_finds_a_release_before_its_commitment_and_a_stop_overspend_in_the_past,
    |app: TestApp| async move {
        app.project("P1", "ASB").await;
        app.allocate("LDF", "2023-24", "P1", "1000").await;
        let c = app
            .ok(
                "/api/v1/commitments",
                Role::Finance,
                json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "s",
                    "reference": "PO", "amount": "500", "date": "2023-06-01" }),
            )
            .await;
        app.ok("/api/v1/spend", Role::Finance, spend("P1", "2023-07-01", "500")).await;
        app.ok("/api/v1/refunds", Role::Finance,
        json!({ "grant": "LDF", "project": "P1", "date": "2023-09-01", "amount": "500", "reference": "CN", "reason": "r" }))
        .await;
        app.assert_verified().await;
        let pool = app.store.pool();
        // A release dated before its commitment, and a spend on 1 August that overspent
        // available as at August (the refund of 1 September made it whole again today).
        let rows = [
            ("release", "2023-05-01", Some(c["commitment_id"].as_i64().unwrap()), "committed", "available", 100_i64),
            ("spend", "2023-08-01", None, "available", "spent", 400),
        ];
        for (kind, date, commitment, from, to, pence) in rows {
            let id: i64 = sqlx::query_scalar(
            "insert into entries (kind, entry_date, financial_year, grant_code, memo, details, created_by, created_at,
                                  commitment_id, prev_hash, hash)
             values ($1, $2, '2023-24', 'LDF', 'raw', '{}', 'raw', '2024-01-01T00:00:00Z', $3, 'x', $4) returning id",
        )
        .bind(kind)
        .bind(date)
        .bind(commitment)
        .bind(format!("h-{kind}"))
        .fetch_one(pool)
        .await
        .unwrap();
            for (line, account, amount) in [(1i64, from, pence), (2, to, -pence)] {
                sqlx::query(
                "insert into postings (entry_id, line, account, amount_pence, entry_date) values ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(line)
            .bind(format!("{account}:LDF:2023-24:P1"))
            .bind(amount)
            .bind(date)
            .execute(pool)
            .await
            .unwrap();
            }
        }
        let problems = grant_ledger::storage::verify::verify(&app.store).await.unwrap();
        let joined = problems.join("\n");
        assert!(
            problems.iter().any(|p| p.contains("commitment") && p.contains("2023-05-01") && p.contains("before")),
            "release before its commitment not named:\n{joined}"
        );
        assert!(
            problems.iter().any(|p| p.contains("available:LDF:2023-24:P1") && p.contains("2023-08-01")),
            "available below zero as at 2023-08-01 not named:\n{joined}"
        );
    }
);

backend_test!(a_reversal_is_checked_under_its_originals_rule, |app: TestApp| async move {
    warn_grant(&app, "SOFT", "3000").await;
    app.project("WA", "ASB").await;
    app.project("WB", "ASB").await;
    app.ok(
        "/api/v1/allocations",
        Role::Approver,
        json!({ "grant": "SOFT", "financial_year": "2023-24", "project": "WA", "amount": "1000",
                "approved_on": "2023-04-01", "approval_ref": "m" }),
    )
    .await;
    let into_wb = app.ok("/api/v1/virements", Role::Approver, virement("SOFT", "WA", "WB", "500", "2023-05-01")).await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("SOFT", "WB", "2023-06-01", "500")).await;
    // WB has nothing left: a £10 virement out is refused, and so is undoing the one in.
    let r = app.post("/api/v1/virements", Role::Approver, virement("SOFT", "WB", "WA", "10", "2023-07-01")).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "overspend"), "{}", r.body);
    let r = reverse(&app, &into_wb, "2023-07-01", Role::Approver).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "overspend"), "{}", r.body);
    assert_eq!(app.balance("available:SOFT:2023-24:WB").await, "0.00");

    // A refund's reversal is spend again: under `warn` it posts, and says so.
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("SOFT", "WA", "2023-06-01", "500")).await;
    let refund = app
        .ok(
            "/api/v1/refunds",
            Role::Finance,
            json!({ "grant": "SOFT", "project": "WA", "date": "2023-07-01", "amount": "200", "reference": "CN", "reason": "r" }),
        )
        .await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("SOFT", "WA", "2023-07-02", "200")).await;
    let r = reverse(&app, &refund, "2023-08-01", Role::Finance).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let w = &r.body["warnings"];
    assert_eq!(w.as_array().map(|a| a.len()), Some(1), "{}", r.body);
    assert_eq!(w[0]["project"], "WA", "{}", r.body);
    assert_eq!(w[0]["shortfall"], "200.00", "{}", r.body);
    assert_eq!(app.balance("available:SOFT:2023-24:WA").await, "200.00");
    app.assert_verified().await;
});
