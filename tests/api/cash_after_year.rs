//! Cash after the year (docs/design.md rule 9, docs/cash.md): a repayment of a year's underspend
//! made after 31 March is dated when it is made, in the award's chain, even once the year's
//! last quarter is locked or the year itself closed; a receipt may come before the year. The
//! year its date falls in still decides whether it is taken, and the cash position shows it
//! at its true date. The budget side stays in its year.

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::{Reply, TestApp};

fn cash(date: &str, amount: &str, reference: &str) -> Value {
    json!({ "grant": "LDF", "financial_year": "2023-24", "date": date, "amount": amount, "reference": reference })
}

/// The LDF row of the 2023-24 cash position as at `as_at`.
async fn position(app: &TestApp, as_at: &str) -> Value {
    let r = app.get(&format!("/api/v1/reports/cash-position?financial_year=2023-24&as_at={as_at}"), Role::Viewer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rows = r.body["awards"].as_array().unwrap();
    rows.iter().find(|row| row["grant"] == "LDF").cloned().unwrap_or_else(|| panic!("no LDF row: {}", r.body))
}

/// (received, spent, cash_held, returned, repaid, owed_to_funder) of a row.
fn cash_figures(row: &Value) -> [&str; 6] {
    ["received", "spent", "cash_held", "returned", "repaid", "owed_to_funder"].map(|f| row[f].as_str().unwrap_or("?"))
}

fn refused_naming(r: &Reply, field: &str) {
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{}", r.body);
    assert_eq!(r.fields(), [field], "{}", r.body);
}

fn period_closed(r: &Reply) {
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "period_closed"), "{}", r.body);
}

/// LDF 2023-24 paid in full (£61,394 on 20 April 2023), £30,000 spent by P1, and the year
/// end on 31 March 2024 returning the £31,394 left, now owed to the funder.
async fn year_returned(app: &TestApp) {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "50000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-06-01", "30000")).await;
    app.ok("/api/v1/receipts", Role::Finance, cash("2023-04-20", "61394.00", "SCO remittance")).await;
    let end = json!({ "return_to_funder": "31394.00", "reason": "underspend returned" });
    app.ok("/api/v1/grants/LDF/awards/2023-24/year-end", Role::Approver, end).await;
    assert_eq!(app.balance("owed:LDF:2023-24").await, "-31394.00");
}

/// Locks every quarter of a year up to `last`, in order (an earlier quarter already locked
/// with a later one is a conflict, and is fine).
async fn lock_to(app: &TestApp, fy: &str, last: u8) {
    for q in 1..=last {
        let path = format!("/api/v1/financial-years/{fy}/quarters/{q}/lock");
        let r = app.post(&path, Role::Admin, json!({ "reason": "return filed" })).await;
        assert!(r.status == StatusCode::OK || r.code() == "conflict", "{}", r.body);
    }
}

/// Every account and its balance, as the ledger holds them.
async fn all_balances(app: &TestApp) -> Vec<(String, String)> {
    let (_, balances) = grant_ledger::storage::exports::journal(&app.store).await.unwrap();
    balances.into_iter().map(|(a, m)| (a, m.to_string())).collect()
}

backend_test!(a_repayment_in_may_is_dated_in_may_after_q4_is_locked, |app: TestApp| async move {
    year_returned(&app).await;
    // The Q4 return is filed and every quarter of 2023-24 locked.
    let filed = app
        .ok(
            "/api/v1/returns",
            Role::Finance,
            json!({ "kind": "commissioner-return", "financial_year": "2023-24", "quarter": 4 }),
        )
        .await;
    lock_to(&app, "2023-24", 4).await;
    let r = app.post("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2024-03-30", "1")).await;
    period_closed(&r);

    // The underspend is repaid on 10 May 2024: dated then, kept in the award's chain.
    let repaid = app.ok("/api/v1/repayments", Role::Finance, cash("2024-05-10", "31394.00", "BACS 10 May")).await;
    assert_eq!((&repaid["date"], &repaid["owed_to_funder"]), (&json!("2024-05-10"), &json!("0.00")), "{repaid}");
    let entry = app.get(&format!("/api/v1/entries/{}", repaid["entry_id"]), Role::Viewer).await;
    assert_eq!(
        (&entry.body["kind"], &entry.body["date"], &entry.body["financial_year"]),
        (&json!("repayment"), &json!("2024-05-10"), &json!("2023-24")),
        "{}",
        entry.body
    );
    let listed = app.get("/api/v1/entries?financial_year=2023-24&kind=repayment", Role::Viewer).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1, "{}", listed.body);

    // As at 31 March the repayment is still to come; as at 10 May it is made.
    let at_year_end = position(&app, "2024-03-31").await;
    assert_eq!(cash_figures(&at_year_end), ["61394.00", "30000.00", "31394.00", "31394.00", "0.00", "31394.00"]);
    let day_before = position(&app, "2024-05-09").await;
    assert_eq!(cash_figures(&day_before), cash_figures(&at_year_end), "not repaid on 9 May");
    let after = position(&app, "2024-05-10").await;
    assert_eq!(cash_figures(&after), ["61394.00", "30000.00", "0.00", "31394.00", "31394.00", "0.00"]);
    // The dashboard's section and the CLI are the same report.
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
    assert!(out.contains("LDF,2023-24,61394.00,0.00,61394.00,0.00,30000.00,31394.00,31394.00,0.00,31394.00"), "{out}");

    // The filed Q4 return holds no cash: nothing since its filing changes it, and its
    // quarter shows no later entry (the repayment is dated after the quarter).
    let changes = app.get(&format!("/api/v1/returns/{}/changes", filed["id"]), Role::Viewer).await;
    assert_eq!(changes.status, StatusCode::OK, "{}", changes.body);
    assert_eq!(changes.body["entries"], json!([]), "{}", changes.body);
    app.assert_verified().await;

    // The journal exports carry it at its date; hledger and bean-check agree with every balance.
    let journal = app.get("/api/v1/exports/journal?format=hledger", Role::Viewer).await;
    let journal = journal.body.as_str().unwrap().to_owned();
    assert!(journal.contains("\n2024-05-10 * ("), "{journal}");
    crate::interchange::journals_agree(&app, &journal, &all_balances(&app).await).await;
});

backend_test!(the_year_a_late_entry_falls_in_decides, |app: TestApp| async move {
    year_returned(&app).await;
    // 2024-25's Q1 is locked: a repayment dated in it is refused, naming that quarter.
    lock_to(&app, "2024-25", 1).await;
    let before = app.balance("owed:LDF:2023-24").await;
    let r = app.post("/api/v1/repayments", Role::Finance, cash("2024-05-10", "1000.00", "in a locked quarter")).await;
    period_closed(&r);
    assert_eq!((&r.body["financial_year"], &r.body["quarter"]), (&json!("2024-25"), &json!(1)), "{}", r.body);
    assert_eq!(app.balance("owed:LDF:2023-24").await, before, "a refusal wrote nothing");
    app.ok("/api/v1/repayments", Role::Finance, cash("2024-07-01", "1000.00", "in Q2")).await;

    // The award's year may close while repayments are still to come (docs/cash.md): none
    // is then dated in it, but one dated after it is still taken.
    let r =
        app.post("/api/v1/financial-years/2023-24/close", Role::Admin, json!({ "reason": "accounts signed" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    period_closed(
        &app.post("/api/v1/repayments", Role::Finance, cash("2024-03-31", "1.00", "in the closed year")).await,
    );
    period_closed(&app.post("/api/v1/receipts", Role::Finance, cash("2023-05-01", "0.01", "in the closed year")).await);
    let late =
        app.ok("/api/v1/repayments", Role::Finance, cash("2024-08-01", "2000.00", "after the closed year")).await;
    assert_eq!(late["owed_to_funder"], "28394.00");
    // Its figures as at any date of the closed year do not move.
    let at_end = position(&app, "2024-03-31").await;
    assert_eq!(cash_figures(&at_end), ["61394.00", "30000.00", "31394.00", "31394.00", "0.00", "31394.00"]);
    // A repayment recorded in error is reversed after the year too, by finance; the budget
    // side of a closed year still takes nothing, whatever the date.
    let reverse = format!("/api/v1/entries/{}/reverse", late["entry_id"]);
    app.ok(&reverse, Role::Finance, json!({ "date": "2024-08-02", "reason": "paid twice" })).await;
    assert_eq!(app.balance("owed:LDF:2023-24").await, "-30394.00");
    let spend = app.get("/api/v1/entries?financial_year=2023-24&kind=spend", Role::Viewer).await;
    let spend_id = &spend.body["items"][0]["id"];
    let r = app
        .post(
            &format!("/api/v1/entries/{spend_id}/reverse"),
            Role::Finance,
            json!({ "date": "2024-08-02", "reason": "x" }),
        )
        .await;
    refused_naming(&r, "date");
    period_closed(
        &app.post(
            &format!("/api/v1/entries/{spend_id}/reverse"),
            Role::Finance,
            json!({ "date": "2024-03-31", "reason": "x" }),
        )
        .await,
    );

    // 2024-25 closes once its own award is resolved: then nothing is dated in it either.
    let end = json!({ "return_to_funder": "61394.00", "reason": "unspent" });
    app.ok("/api/v1/grants/LDF/awards/2024-25/year-end", Role::Approver, end).await;
    let r = app.post("/api/v1/financial-years/2024-25/close", Role::Admin, json!({ "reason": "closed" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app.post("/api/v1/repayments", Role::Finance, cash("2024-09-01", "1.00", "in a closed later year")).await;
    period_closed(&r);
    assert!(r.body["detail"].as_str().unwrap().contains("2024-25"), "{}", r.body);
    let r = app.ok("/api/v1/repayments", Role::Finance, cash("2025-04-10", "394.00", "in 2025-26")).await;
    assert_eq!(r["owed_to_funder"], "30000.00");
    app.assert_verified().await;
});

backend_test!(cash_may_be_dated_a_year_before_and_two_years_after, |app: TestApp| async move {
    // A receipt may come up to a year before the award's year begins, not a day more.
    let r = app.post("/api/v1/receipts", Role::Finance, cash("2022-03-31", "1000.00", "too early")).await;
    refused_naming(&r, "date");
    assert!(r.body["detail"].as_str().unwrap().contains("2022-04-01 to 2024-03-31"), "{}", r.body);
    let early = app.ok("/api/v1/receipts", Role::Finance, cash("2022-04-01", "1000.00", "paid in advance")).await;
    assert_eq!(early["received"], "1000.00");
    refused_naming(&app.post("/api/v1/receipts", Role::Finance, cash("2024-04-01", "1.00", "after")).await, "date");
    // The cash position shows it from its date, before the award's year begins.
    let r = app.get("/api/v1/reports/cash-position?financial_year=2023-24&as_at=2022-04-01", Role::Viewer).await;
    let ldf = r.body["awards"].as_array().unwrap().iter().find(|a| a["grant"] == "LDF").cloned().unwrap();
    assert_eq!((&ldf["received"], &ldf["awarded"]), (&json!("1000.00"), &json!("0.00")), "{}", r.body);
    let r = app.get("/api/v1/reports/cash-position?financial_year=2023-24&as_at=2022-03-31", Role::Viewer).await;
    assert!(r.body["awards"].as_array().unwrap().iter().all(|a| a["grant"] != "LDF"), "{}", r.body);

    // A repayment may come up to two years after the year ends, not a day more.
    let end = json!({ "return_to_funder": "61394.00", "reason": "unspent" });
    app.ok("/api/v1/grants/LDF/awards/2023-24/year-end", Role::Approver, end).await;
    let r = app.post("/api/v1/repayments", Role::Finance, cash("2026-04-01", "100.00", "too late")).await;
    refused_naming(&r, "date");
    assert!(r.body["detail"].as_str().unwrap().contains("2023-04-01 to 2026-03-31"), "{}", r.body);
    let r = app.post("/api/v1/repayments", Role::Finance, cash("2023-03-31", "100.00", "before the year")).await;
    refused_naming(&r, "date");
    app.ok("/api/v1/repayments", Role::Finance, cash("2026-03-31", "100.00", "two years on")).await;
    assert_eq!(app.balance("owed:LDF:2023-24").await, "-61294.00");

    // The budget side is unchanged: every other kind is dated in its award's year.
    app.project("P1", "ASB").await;
    let body = json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "S",
                       "amount": "1", "date": "2024-04-01" });
    refused_naming(&app.post("/api/v1/commitments", Role::Finance, body).await, "date");
    let body = json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "amount": "1",
                       "approved_on": "2024-04-01", "approval_ref": "late" });
    let r = app.post("/api/v1/allocations", Role::Approver, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    app.assert_verified().await;

    // The CLI follows the same rules, naming the flag.
    let finance = app.token(Role::Finance).to_owned();
    let run = |date: &str| {
        app.cli(&[
            "repayment",
            "--grant",
            "LDF",
            "--financial-year",
            "2023-24",
            "--date",
            date,
            "--amount",
            "10.00",
            "--reference",
            "BACS",
            "--token",
            &finance,
        ])
    };
    let (ok, _, err) = run("2026-04-01");
    assert!(!ok && err.contains("--date"), "{err}");
    let (ok, out, err) = run("2025-06-30");
    assert!(ok, "{err}");
    let printed: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!((&printed["date"], &printed["owed_to_funder"]), (&json!("2025-06-30"), &json!("61284.00")));
    app.assert_verified().await;
    // The receipt a year early and the repayments years late are in the journals at their
    // dates (an account opens at its first posting); both tools agree with every balance.
    let journal = app.get("/api/v1/exports/journal?format=beancount", Role::Viewer).await;
    let journal = journal.body.as_str().unwrap().to_owned();
    assert!(journal.contains("2022-04-01 open Assets:Cash:LDF:FY2023-24 GBP"), "{journal}");
    assert!(journal.contains("\n2026-03-31 * "), "{journal}");
    let journal = app.get("/api/v1/exports/journal?format=hledger", Role::Viewer).await;
    crate::interchange::journals_agree(&app, journal.body.as_str().unwrap(), &all_balances(&app).await).await;
});

/// Drops (SQLite) or disables (PostgreSQL) the append-only triggers of `table`, as an
/// attacker with the database file would.
async fn open_up(app: &TestApp, table: &str) {
    let sqls = if app.store.backend() == grant_ledger::storage::Backend::Sqlite {
        vec![format!("drop trigger if exists {table}_no_update"), format!("drop trigger if exists {table}_no_delete")]
    } else {
        vec![format!("alter table {table} disable trigger {table}_append_only")]
    };
    for sql in sqls {
        sqlx::query(&sql).execute(app.store.pool()).await.unwrap();
    }
}

async fn exec(app: &TestApp, sql: &str) {
    sqlx::query(sql).execute(app.store.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

backend_test!(verify_holds_cash_to_its_dates_and_quarters, |app: TestApp| async move {
    year_returned(&app).await;
    let repaid = app.ok("/api/v1/repayments", Role::Finance, cash("2024-05-10", "1000.00", "BACS")).await;
    let id = repaid["entry_id"].as_i64().unwrap();
    // 2024-25's Q1, where the repayment lies, is locked after it: sound.
    lock_to(&app, "2024-25", 1).await;
    app.assert_verified().await;
    let problems = || async { grant_ledger::storage::verify::verify(&app.store).await.unwrap() };
    let named = |found: &[String], start: &str| {
        assert!(found.iter().any(|p| p.starts_with(start)), "expected {start:?} in {found:#?}");
    };
    open_up(&app, "entries").await;
    open_up(&app, "postings").await;
    // Recorded after the lock of the quarter its date falls in (another year's quarter).
    exec(&app, &format!("update entries set created_at = '2999-01-01T00:00:00.000000Z' where id = {id}")).await;
    named(&problems().await, &format!("entry {id}: dated 2024-05-10 in 2024-25 Q1, locked at"));
    // Moved a day past the two years a repayment may come after its year.
    exec(&app, &format!("update entries set entry_date = '2026-04-01' where id = {id}")).await;
    exec(&app, &format!("update postings set entry_date = '2026-04-01' where entry_id = {id}")).await;
    named(
        &problems().await,
        &format!("entry {id}: date 2026-04-01 is outside 2023-04-01 to 2026-03-31, the dates a repayment of 2023-24"),
    );
    // A spend (the budget side) moved after its year.
    let spend = app.get("/api/v1/entries?financial_year=2023-24&kind=spend", Role::Viewer).await;
    let spend_id = spend.body["items"][0]["id"].as_i64().unwrap();
    exec(&app, &format!("update entries set entry_date = '2024-05-10' where id = {spend_id}")).await;
    exec(&app, &format!("update postings set entry_date = '2024-05-10' where entry_id = {spend_id}")).await;
    named(&problems().await, &format!("entry {spend_id}: date 2024-05-10 is not in its financial year 2023-24"));
});

backend_test!(
    a_late_repayment_racing_the_lock_of_its_quarter_lands_before_it_or_not_at_all,
    |app: TestApp| async move {
        year_returned(&app).await;
        let app = std::sync::Arc::new(app);
        let q1 = "/api/v1/financial-years/2024-25/quarters/1";
        for round in 0..3 {
            let repayments: Vec<_> = (0..6)
                .map(|n| {
                    let app = app.clone();
                    tokio::spawn(async move {
                        let r = app
                            .post(
                                "/api/v1/repayments",
                                Role::Finance,
                                cash("2024-05-10", "1.00", &format!("r{round}-{n}")),
                            )
                            .await;
                        assert!(r.status == StatusCode::CREATED || r.code() == "period_closed", "{}", r.body);
                    })
                })
                .collect();
            let r = app.post(&format!("{q1}/lock"), Role::Admin, json!({ "reason": "race" })).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            for t in repayments {
                t.await.unwrap();
            }
            // No repayment dated in the quarter was recorded after it was locked.
            app.assert_verified().await;
            let r = app.post(&format!("{q1}/unlock"), Role::Admin, json!({ "reason": "race" })).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    }
);
