//! Typed storage: a stored value outside its type (an unknown status, role or overspend
//! rule; a bad date, year, kind or amount) is written with raw SQL past the schema's
//! checks, as an edit outside the ledger would be. The API must answer a bare 500 problem
//! (never a panic, never a silent default that changes what a rule does), write nothing,
//! and `verify` must name the row.

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use grant_ledger::storage::{Backend, StoreError, controls, reference, verify};
use serde_json::{Value, json};
use sqlx::Executor;

use crate::backend_test;
use crate::support::{Reply, TestApp};

/// Runs `sql` past the schema's check constraints, foreign keys and append-only triggers.
/// Each test has its own database, so what is lifted here stays lifted only there.
async fn tamper(app: &TestApp, table: &str, sql: &str) {
    let mut conn = app.store.pool().acquire().await.unwrap();
    match app.store.backend() {
        Backend::Sqlite => {
            conn.execute("pragma ignore_check_constraints = on").await.unwrap();
            conn.execute("pragma foreign_keys = off").await.unwrap();
            conn.execute(format!("drop trigger if exists {table}_no_update").as_str()).await.unwrap();
            conn.execute(sql).await.unwrap();
            conn.execute("pragma foreign_keys = on").await.unwrap();
            conn.execute("pragma ignore_check_constraints = off").await.unwrap();
        }
        Backend::Postgres => {
            let checks: Vec<(String,)> = sqlx::query_as(
                "select conname::text from pg_constraint where conrelid = $1::regclass and contype = 'c'",
            )
            .bind(table)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
            for (name,) in checks {
                conn.execute(format!("alter table {table} drop constraint {name}").as_str()).await.unwrap();
            }
            // Replica mode fires no trigger: neither the append-only ones nor foreign keys.
            conn.execute("set session_replication_role = replica").await.unwrap();
            conn.execute(sql).await.unwrap();
            conn.execute("set session_replication_role = origin").await.unwrap();
        }
    }
}

/// A bare 500 problem: the code `internal`, and nothing of the stored value in the body.
fn assert_internal(r: &Reply, stored: &str, what: &str) {
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{what}: {}", r.body);
    assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json", "{what}");
    assert_eq!(r.code(), "internal", "{what}");
    assert!(!r.body.to_string().contains(stored), "{what}: the body reveals nothing: {}", r.body);
}

/// `verify` (the library and the binary) names the row: table, key and column.
async fn assert_verify_names(app: &TestApp, names: &str) {
    let problems = verify::verify(&app.store).await.unwrap();
    assert!(problems.iter().any(|p| p.contains(names)), "verify should name {names:?}: {problems:#?}");
}

async fn spend(app: &TestApp, project: &str, amount: &str) -> Reply {
    app.post("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", project, "2023-06-01", amount)).await
}

backend_test!(an_unknown_overspend_rule_is_refused_not_read_as_stop, |app: TestApp| async move {
    app.project("PA", "ASB").await;
    app.allocate("LDF", "2023-24", "PA", "100").await;
    assert_eq!(spend(&app, "PA", "150").await.code(), "overspend", "stop refuses an overspend");
    tamper(&app, "grants", "update grants set on_overspend = 'sideways' where code = 'LDF'").await;

    // Before: read as `stop`, so this answered 409 overspend as if the rule were known.
    assert_internal(&spend(&app, "PA", "150").await, "sideways", "spend under an unknown rule");
    assert_internal(&spend(&app, "PA", "10").await, "sideways", "even spend within budget");
    assert_internal(&app.get("/api/v1/grants", Role::Viewer).await, "sideways", "GET /grants");
    assert_eq!(app.balance("spent:LDF:2023-24:PA").await, "0.00", "nothing was written");

    let mut db_tx = app.store.begin_read().await.unwrap();
    let err = reference::get_grant_in(&mut db_tx, "LDF").await.unwrap_err();
    let StoreError::Corrupt(what) = err else { panic!("a typed refusal, got {err:?}") };
    assert!(what.contains("grants code LDF: column on_overspend") && what.contains("sideways"), "{what}");
    assert_verify_names(&app, "grants code LDF: column on_overspend").await;
});

backend_test!(an_unknown_project_status_is_refused_not_read_as_closed, |app: TestApp| async move {
    app.project("PA", "ASB").await;
    app.allocate("LDF", "2023-24", "PA", "100").await;
    tamper(&app, "projects", "update projects set status = 'paused' where code = 'PA'").await;

    // Before: anything but `active` read as closed, so spend was refused 422 as if closed.
    assert_internal(&spend(&app, "PA", "10").await, "paused", "spend to the project");
    assert_internal(&app.get("/api/v1/projects/PA", Role::Viewer).await, "paused", "GET /projects/PA");
    assert_internal(&app.get("/api/v1/projects", Role::Viewer).await, "paused", "GET /projects");
    let patch = app.patch("/api/v1/projects/PA", Role::Approver, json!({ "name": "Renamed" })).await;
    assert_internal(&patch, "paused", "PATCH /projects/PA");
    assert_eq!(app.balance("spent:LDF:2023-24:PA").await, "0.00", "nothing was written");
    assert_verify_names(&app, "projects code PA: column status").await;
});

backend_test!(an_unknown_year_status_is_refused_not_read_as_closed, |app: TestApp| async move {
    app.project("PA", "ASB").await;
    app.allocate("LDF", "2023-24", "PA", "100").await;
    tamper(&app, "financial_years", "update financial_years set status = 'frozen' where code = '2023-24'").await;

    // Before: anything but `open` read as closed, so spend answered 409 period_closed.
    assert_internal(&spend(&app, "PA", "10").await, "frozen", "spend in the year");
    assert_internal(&app.get("/api/v1/financial-years", Role::Viewer).await, "frozen", "GET /financial-years");
    let close = app.post("/api/v1/financial-years/2023-24/close", Role::Admin, json!({ "reason": "r" })).await;
    assert_internal(&close, "frozen", "closing the year");
    assert_verify_names(&app, "financial_years code 2023-24: column status").await;
});

/// A virement above the approval threshold, left pending. Returns its id.
async fn pending_virement(app: &TestApp) -> i64 {
    app.project("PA", "ASB").await;
    app.project("PB", "ASB").await;
    app.allocate("LDF", "2023-24", "PA", "10000").await;
    let body = json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": "PA", "to_project": "PB",
                       "amount": "6000", "approved_on": "2023-05-01", "approval_ref": "m", "reason": "r" });
    let r = app.post("/api/v1/virements", Role::Approver, body).await;
    assert_eq!((r.status, r.body["status"].as_str()), (StatusCode::ACCEPTED, Some("pending")), "{}", r.body);
    r.body["virement_id"].as_i64().unwrap()
}

backend_test!(an_unknown_virement_status_is_refused, |app: TestApp| async move {
    let id = pending_virement(&app).await;
    tamper(&app, "virements", &format!("update virements set status = 'limbo' where id = {id}")).await;

    assert_internal(&app.get(&format!("/api/v1/virements/{id}"), Role::Viewer).await, "limbo", "GET one");
    assert_internal(&app.get("/api/v1/virements", Role::Viewer).await, "limbo", "GET the list");
    let approve = app.post(&format!("/api/v1/virements/{id}/approve"), Role::Admin, json!({})).await;
    assert_internal(&approve, "limbo", "approving it");
    assert_eq!(app.balance("available:LDF:2023-24:PB").await, "0.00", "nothing was posted");
    assert_verify_names(&app, &format!("virements id {id}: column status")).await;
});

backend_test!(an_unreadable_approval_date_is_refused_without_a_panic, |app: TestApp| async move {
    let id = pending_virement(&app).await;
    tamper(&app, "virements", &format!("update virements set approved_on = 'not a date' where id = {id}")).await;

    assert_internal(&app.get(&format!("/api/v1/virements/{id}"), Role::Viewer).await, "not a date", "GET one");
    // Before: `expect("stored dates are valid")` panicked; now the read itself refuses.
    let err = controls::get_virement(&app.store, id).await.unwrap_err();
    let StoreError::Corrupt(what) = err else { panic!("a typed refusal, got {err:?}") };
    assert!(what.contains(&format!("virements id {id}: column approved_on")), "{what}");
    assert_verify_names(&app, &format!("virements id {id}: column approved_on")).await;
});

backend_test!(an_unknown_token_role_is_refused_not_read_as_viewer, |app: TestApp| async move {
    let made = app.ok("/api/v1/tokens", Role::Admin, json!({ "name": "Odd", "role": "finance" })).await;
    let (id, secret) = (made["id"].as_i64().unwrap(), made["token"].as_str().unwrap().to_owned());
    tamper(&app, "tokens", &format!("update tokens set role = 'superuser' where id = {id}")).await;

    // Before: listed as a viewer; and signing in with it answered 401 as if it did not exist.
    assert_internal(&app.get("/api/v1/tokens", Role::Admin).await, "superuser", "GET /tokens");
    let r = app.call(axum::http::Method::GET, "/api/v1/projects", Some(&secret), None, &[]).await;
    assert_internal(&r, "superuser", "a request with that token");
    assert_verify_names(&app, &format!("tokens id {id}: column role")).await;
});

backend_test!(verify_on_the_command_line_names_the_unreadable_row, |app: TestApp| async move {
    tamper(&app, "grants", "update grants set on_overspend = 'sideways' where code = 'LDF'").await;
    let (ok, stdout, _) = app.cli(&["verify"]);
    assert!(!ok, "verify exits non-zero");
    assert!(stdout.contains("grants code LDF: column on_overspend"), "{stdout}");
});

/// A corrupt value on one of the main read paths: where it is written, which request
/// reads it, and what verify names. `sqlite_only` where PostgreSQL's column types refuse it.
struct Case {
    what: &'static str,
    table: &'static str,
    sql: &'static str,
    stored: &'static str,
    path: &'static str,
    body: Option<fn() -> Value>,
    names: &'static str,
    sqlite_only: bool,
}

fn spend_body() -> Value {
    TestApp::spend_body("LDF", "PA", "2023-05-01", "1")
}
fn reverse_body() -> Value {
    json!({ "date": "2023-07-01", "reason": "mistake" })
}
fn release_body() -> Value {
    json!({ "amount": "1", "date": "2023-07-01", "reason": "cancelled" })
}
fn virement_body() -> Value {
    json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": "PA", "to_project": "PB",
            "amount": "1", "approved_on": "2023-05-01", "approval_ref": "m", "reason": "r" })
}

const CASES: &[Case] = &[
    Case {
        what: "a posting's date that is not a date, read by a rule-8 check",
        table: "postings",
        sql: "update postings set entry_date = 'someday' where entry_id = (select max(entry_id) from postings)",
        stored: "someday",
        path: "/api/v1/spend",
        body: Some(spend_body),
        names: "column entry_date",
        sqlite_only: false,
    },
    Case {
        what: "an entry's year that is not a year, read by a reversal",
        table: "entries",
        sql: "update entries set financial_year = '2023/2024' where id = (select max(id) from entries)",
        stored: "2023/2024",
        path: "/api/v1/entries/{last}/reverse",
        body: Some(reverse_body),
        names: "entries id {last}: column financial_year",
        sqlite_only: false,
    },
    Case {
        what: "an entry's kind outside the set, read by a reversal",
        table: "entries",
        sql: "update entries set kind = 'teleport' where id = (select max(id) from entries)",
        stored: "teleport",
        path: "/api/v1/entries/{last}/reverse",
        body: Some(reverse_body),
        names: "entries id {last}: column kind",
        sqlite_only: false,
    },
    Case {
        what: "an entry's details that are not JSON",
        table: "entries",
        sql: "update entries set details = 'not json' where id = (select max(id) from entries)",
        stored: "not json",
        path: "/api/v1/entries/{last}",
        body: None,
        names: "",
        sqlite_only: false,
    },
    Case {
        what: "a commitment's year that is not a year, read by a release",
        table: "commitments",
        sql: "update commitments set financial_year = 'last year'",
        stored: "last year",
        path: "/api/v1/commitments/{commitment}/release",
        body: Some(release_body),
        names: "commitments id {commitment}: column financial_year",
        sqlite_only: false,
    },
    Case {
        what: "a commitment's kind outside its set, read by its view",
        table: "commitments",
        sql: "update commitments set kind = 'loan'",
        stored: "loan",
        path: "/api/v1/commitments/{commitment}",
        body: None,
        names: "commitments id {commitment}: column kind",
        sqlite_only: false,
    },
    Case {
        what: "a commitment's kind outside its set, read by a release",
        table: "commitments",
        sql: "update commitments set kind = 'loan'",
        stored: "loan",
        path: "/api/v1/commitments/{commitment}/release",
        body: Some(release_body),
        names: "commitments id {commitment}: column kind",
        sqlite_only: false,
    },
    Case {
        what: "a posting's amount that is text, not pence",
        table: "postings",
        sql: "update postings set amount_pence = 'ten pounds' where entry_id = (select max(entry_id) from postings)",
        stored: "ten pounds",
        path: "/api/v1/entries/{last}",
        body: None,
        names: "column amount_pence",
        sqlite_only: true,
    },
    Case {
        what: "a balance that is text, not pence",
        table: "balances",
        sql: "update balances set balance_pence = 'lots' where account = 'available:LDF:2023-24:PA'",
        stored: "lots",
        path: "/api/v1/accounts",
        body: None,
        names: "balances account available:LDF:2023-24:PA: column balance_pence",
        sqlite_only: true,
    },
    Case {
        what: "a quarterly plan above 100%, once clamped silently",
        table: "spend_profiles",
        sql: "update spend_profiles set q1_pct = 250",
        stored: "250",
        path: "/api/v1/spend-profiles",
        body: None,
        names: "",
        sqlite_only: false,
    },
    Case {
        what: "a virement threshold that is not money, once read as the default",
        table: "settings",
        sql: "insert into settings (key, value) values ('virement_approval_threshold', 'lots')",
        stored: "lots",
        path: "/api/v1/virements",
        body: Some(virement_body),
        names: "",
        sqlite_only: false,
    },
];

/// Sets up a ledger with a commitment, a quarterly plan and a spend; writes the case's
/// corrupt value; the request must answer a bare 500, write no entry, and verify name the row.
async fn check_case(app: &TestApp, case: &Case) {
    if case.sqlite_only && app.store.backend() != Backend::Sqlite {
        return;
    }
    app.project("PA", "ASB").await;
    app.project("PB", "ASB").await;
    app.allocate("LDF", "2023-24", "PA", "1000").await;
    let plan =
        json!({ "grant": "LDF", "financial_year": "2023-24", "project": "PA", "q1": 25, "q2": 25, "q3": 25, "q4": 25 });
    app.ok("/api/v1/spend-profiles", Role::Approver, plan).await;
    let c = app
        .ok(
            "/api/v1/commitments",
            Role::Finance,
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "PA", "supplier": "S",
                    "amount": "10", "date": "2023-05-02" }),
        )
        .await;
    let commitment = c["commitment_id"].as_i64().unwrap().to_string();
    let spent = app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "PA", "2023-06-01", "5")).await;
    let last = spent["entry_id"].as_i64().unwrap().to_string();
    let fill = |s: &str| s.replace("{last}", &last).replace("{commitment}", &commitment);

    tamper(app, case.table, case.sql).await;
    let entries = entry_count(app).await;
    let path = fill(case.path);
    let r = match case.body {
        Some(body) => app.post(&path, Role::Admin, body()).await,
        None => app.get(&path, Role::Viewer).await,
    };
    assert_internal(&r, case.stored, case.what);
    assert_eq!(entry_count(app).await, entries, "{}: nothing was written", case.what);
    if !case.names.is_empty() {
        assert_verify_names(app, &fill(case.names)).await;
    }
}

async fn entry_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from entries").fetch_one(app.store.pool()).await.unwrap()
}

macro_rules! corrupt_case {
    ($name:ident, $index:expr) => {
        backend_test!($name, |app: TestApp| async move { check_case(&app, &CASES[$index]).await });
    };
}

corrupt_case!(a_posting_date_that_is_not_a_date, 0);
corrupt_case!(an_entry_year_that_is_not_a_year, 1);
corrupt_case!(an_entry_kind_outside_the_set, 2);
corrupt_case!(entry_details_that_are_not_json, 3);
corrupt_case!(a_commitment_year_that_is_not_a_year, 4);
corrupt_case!(a_posting_amount_that_is_text, 5);
corrupt_case!(a_balance_that_is_text, 6);
corrupt_case!(a_quarterly_plan_above_100_percent, 7);
corrupt_case!(a_virement_threshold_that_is_not_money, 8);

/// Where the test's log lines go.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_corrupt_value_is_logged_with_its_row_and_the_body_says_nothing() {
    use axum::response::IntoResponse;
    use grant_ledger::http::error::AppError;
    use http_body_util::BodyExt;

    let log = LogBuffer::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    let _current = tracing::subscriber::set_default(subscriber);
    let what = "grants code LDF: column on_overspend: \"sideways\" is not a known value";
    let response = AppError::Store(StoreError::Corrupt(what.into())).into_response();

    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("\"code\":\"internal\"") && !body.contains("LDF") && !body.contains("sideways"), "{body}");
    let logged = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("ERROR") && logged.contains("grants code LDF: column on_overspend"), "{logged}");
}

backend_test!(a_virement_status_filter_outside_the_set_is_refused, |app: TestApp| async move {
    let r = app.get("/api/v1/virements?status=limbo", Role::Viewer).await;
    assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["status".to_owned()]), "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("pending, approved, rejected, posted"), "{}", r.body);
    // Before, the command line listed nothing for a misspelt status, as if none matched.
    let (ok, _, stderr) = app.cli(&["virement", "list", "--status", "Pending"]);
    assert!(!ok && stderr.contains("\"Pending\" is not a known virement status"), "{stderr}");
});

backend_test!(verify_names_every_stored_word_outside_its_set, |app: TestApp| async move {
    // Account kinds, organisation kinds and return kinds, beside the statuses, roles, rules
    // and entry and commitment kinds above: each column holding a closed set is read by it.
    app.project("PA", "ASB").await;
    app.allocate("LDF", "2023-24", "PA", "100").await;
    crate::agreements::partner(&app).await;
    let filed = app
        .ok(
            "/api/v1/returns",
            Role::Finance,
            json!({ "kind": "commissioner-return", "financial_year": "2023-24", "quarter": 1 }),
        )
        .await;
    let id = filed["id"].as_i64().unwrap();
    tamper(&app, "balances", "update balances set kind = 'limbo' where account = 'available:LDF:2023-24:PA'").await;
    tamper(&app, "organisations", "update organisations set kind = 'guild' where code = 'SAFE'").await;
    tamper(&app, "filed_returns", &format!("update filed_returns set kind = 'tax-return' where id = {id}")).await;
    for names in [
        "balances account available:LDF:2023-24:PA: column kind",
        "organisations code SAFE: column kind",
        &format!("filed_returns id {id}: column kind"),
    ] {
        assert_verify_names(&app, names).await;
    }
});
