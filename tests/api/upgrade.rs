//! A ledger written before migration 0016 verifies clean once upgraded. 0016 began recording
//! virements, forecasts, indicator returns, sign-ins and a token's secret hash in the audit
//! trail, and `verify` holds those rows to it; the ledger's first opening after the upgrade
//! records each row stored before then, once (`storage::upgrade`), and ends the sessions.
//!
//! A ledger written before migration 0019 (entries' typed columns) verifies clean once
//! migrated, and its reports, exports and duplicate checks are what they were.

use std::borrow::Cow;

use grant_ledger::domain::{AuditAction, AuditEntity, FinancialYear, Quantity, Role};
use grant_ledger::model::Actor;
use grant_ledger::model::monitoring::IndicatorCmd;
use grant_ledger::model::reference::Project;
use grant_ledger::storage::audit::{self, Change};
use grant_ledger::storage::entry_columns::NAMES as ENTRY_COLUMNS;
use grant_ledger::storage::tokens::Role as TokenRole;
use grant_ledger::storage::tokens::hash_secret;
use grant_ledger::storage::{Backend as StoreBackend, monitoring, reference, tokens, verify};
use serde_json::{Value, json};
use sqlx::Row;

use crate::backend_test;
use crate::support::TestApp;
use crate::tamper::{KEY, keyed_cli};

const OLD_ADMIN: &str = "gl_a-secret-given-to-a-token-before-the-upgrade";
const OLD_LEAVER: &str = "gl_a-secret-revoked-before-the-upgrade";

async fn exec(app: &TestApp, sql: &str) {
    sqlx::query(sql).execute(app.store.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Changes the schema under the running ledger, then closes every idle connection of its read
/// pool on SQLite, so the statements that follow are prepared on connections opened after the
/// change. (A SQLite connection that last read the schema before another connection changed
/// it was seen, now and then, to refuse `alter table … add column` as a duplicate of a column
/// the change had dropped: it checked the statement against the schema it held.)
async fn ddl(app: &TestApp, sql: &str) {
    fresh_readers(app).await;
    exec(app, sql).await;
    fresh_readers(app).await;
}

/// Closes every idle connection of the read pool (SQLite), so the next statement is prepared
/// on a connection that reads the schema as it is now.
async fn fresh_readers(app: &TestApp) {
    if app.store.backend() == StoreBackend::Sqlite {
        let pool = app.store.pool();
        let mut idle = Vec::new();
        for _ in 0..pool.size() {
            idle.push(pool.acquire().await.unwrap());
        }
        for conn in idle {
            conn.close().await.unwrap();
        }
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(app.store.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get("n")
}

/// Today's write path fills the entry columns migration 0019 adds. A ledger written as it
/// was before an earlier migration is written with them lent (plain, untyped), and they are
/// taken back before it is migrated, so 0019 fills them from what the entries' details say.
async fn lend_entry_columns(app: &TestApp) {
    for name in ENTRY_COLUMNS {
        let kind = if ["project", "supplier", "invoice_ref", "reference"].contains(&name) { "text" } else { "bigint" };
        ddl(app, &format!("alter table entries add column {name} {kind}")).await;
    }
}

/// Takes back the entry columns (0019's own, or lent), leaving entries as 0018 left them;
/// with `since_0019`, also `import_id` and `amount_pence`, which 0022 and 0024 add.
async fn take_back_entry_columns(app: &TestApp, since_0019: bool) {
    for index in ["entries_refund_of", "entries_supplier", "entries_invoice_ref", "entries_import"] {
        if index != "entries_import" || since_0019 {
            ddl(app, &format!("drop index if exists {index}")).await;
        }
    }
    for name in ENTRY_COLUMNS.into_iter().filter(|n| !["import_id", "amount_pence"].contains(n) || since_0019) {
        ddl(app, &format!("alter table entries drop column {name}")).await;
    }
}

/// Empties the test's database and migrates it to the last version before 0016.
async fn schema_before_0016(app: &TestApp) {
    let pool = app.store.pool();
    let mut migrator = if app.store.backend() == StoreBackend::Sqlite {
        let mut conn = pool.acquire().await.unwrap();
        sqlx::query("pragma foreign_keys = off").execute(&mut *conn).await.unwrap();
        let tables: Vec<String> =
            sqlx::query("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")
                .fetch_all(&mut *conn)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get("name"))
                .collect();
        for t in tables {
            sqlx::query(&format!("drop table \"{t}\"")).execute(&mut *conn).await.unwrap();
        }
        sqlx::query("pragma foreign_keys = on").execute(&mut *conn).await.unwrap();
        sqlx::migrate!("migrations/sqlite")
    } else {
        exec(app, "drop schema public cascade").await;
        exec(app, "create schema public").await;
        sqlx::migrate!("migrations/postgres")
    };
    // The migrator reads which migrations are applied on a connection that knows the tables
    // are gone.
    fresh_readers(app).await;
    migrator.migrations = Cow::Owned(migrator.migrations.iter().filter(|m| m.version < 16).cloned().collect());
    migrator.run(pool).await.unwrap();
    fresh_readers(app).await;
    lend_entry_columns(app).await;
}

/// A token as the ledger made one before 0016: its record holds its name and role only.
async fn old_token(app: &TestApp, name: &str, role: Role, secret: &str) -> i64 {
    let mut db_tx = app.store.begin().await.unwrap();
    let id: i64 = sqlx::query(
        "insert into tokens (name, role, secret_hash, created_at) values ($1, $2, $3, '2024-01-01T00:00:00Z')
         returning id",
    )
    .bind(name)
    .bind(role.as_str())
    .bind(hash_secret(secret))
    .fetch_one(&mut *db_tx)
    .await
    .unwrap()
    .get("id");
    let after = json!({ "id": id, "name": name, "role": role });
    let change = Change {
        actor: "configuration",
        action: AuditAction::Create,
        entity: AuditEntity::Token,
        key: &id.to_string(),
        before: None,
        after: Some(after),
        reason: "",
    };
    audit::record_in(&mut db_tx, change).await.unwrap();
    db_tx.commit().await.unwrap();
    id
}

/// A ledger as the code before 0016 wrote it: the fixtures and a project, recorded as ever;
/// and tokens, a revoked token, a pending virement, a forecast, an indicator's return and a
/// session, written as they were then.
async fn ledger_before_0016(app: &TestApp) -> (i64, i64) {
    schema_before_0016(app).await;
    grant_ledger::fixtures::load_reference(&app.store).await.unwrap();
    let old = Actor { name: "Old Hand", idem: None };
    let project = Project {
        code: "P1".into(),
        name: "Project P1".into(),
        priority: "ASB".into(),
        lead_organisation: String::new(),
        description: String::new(),
        status: grant_ledger::domain::ProjectStatus::Active,
    };
    reference::create_project(&app.store, project, old).await.unwrap();
    let year = FinancialYear::parse("2023-24").unwrap();
    let q = |t: &str| Quantity::parse(t).unwrap();
    let cmd = IndicatorCmd {
        project: "P1".into(),
        code: "SESS".into(),
        name: "Sessions".into(),
        unit: "sessions".into(),
        year,
        baseline: q("0"),
        target: q("4"),
        quarterly_targets: [q("1"), q("1"), q("1"), q("1")],
    };
    monitoring::create_indicator(&app.store, cmd, old).await.unwrap();
    let admin = old_token(app, "Old Admin", Role::Admin, OLD_ADMIN).await;
    let leaver = old_token(app, "Old Leaver", Role::Finance, OLD_LEAVER).await;
    let mut db_tx = app.store.begin().await.unwrap();
    let at = "2024-02-01T00:00:00Z";
    sqlx::query("update tokens set revoked_at = $2 where id = $1")
        .bind(leaver)
        .bind(at)
        .execute(&mut *db_tx)
        .await
        .unwrap();
    let key = leaver.to_string();
    let change = Change {
        actor: "Old Admin",
        action: AuditAction::Revoke,
        entity: AuditEntity::Token,
        key: &key,
        before: Some(json!({ "revoked_at": null })),
        after: Some(json!({ "revoked_at": at })),
        reason: "",
    };
    audit::record_in(&mut db_tx, change).await.unwrap();
    db_tx.commit().await.unwrap();
    exec(
        app,
        "insert into virements (grant_code, financial_year, from_project, to_project, amount_pence, approved_on,
                                approval_ref, reason, status, proposed_by, proposed_at)
         values ('LDF', '2023-24', 'P1', 'P1', 100, '2023-09-01', 'chair', 'moved', 'pending', 'Old Hand',
                 '2023-09-01T10:00:00Z')",
    )
    .await;
    exec(
        app,
        "insert into forecasts (grant_code, financial_year, quarter, project_code, forecast_pence, explanation,
                                progress_rag, rag_reason, made_on, made_by, made_at)
         values ('LDF', '2023-24', 1, 'P1', 100, 'e', 'green', 'r', '2023-05-01', 'Old Hand',
                 '2023-05-01T10:00:00.000000Z')",
    )
    .await;
    exec(
        app,
        "insert into indicator_returns (project_code, indicator_code, financial_year, quarter, actual, evidence_ref,
                                        note, recorded_by, recorded_at)
         values ('P1', 'SESS', '2023-24', 1, '1', 'register', '', 'Old Hand', '2023-07-01T10:00:00.000000Z')",
    )
    .await;
    exec(
        app,
        &format!(
            "insert into sessions (id_hash, token_id, created_at, expires_at)
             values ('{}', {admin}, '2024-03-01T00:00:00Z', '2999-01-01T00:00:00Z')",
            hash_secret("an old cookie")
        ),
    )
    .await;
    take_back_entry_columns(app, true).await;
    (admin, leaver)
}

/// Every migration applied, without the first opening's upgrade that `Store::migrate` runs.
async fn schema_migrated_not_upgraded(app: &TestApp) {
    let migrator = if app.store.backend() == StoreBackend::Sqlite {
        sqlx::migrate!("migrations/sqlite")
    } else {
        sqlx::migrate!("migrations/postgres")
    };
    migrator.run(app.store.pool()).await.unwrap();
}

async fn problems(app: &TestApp) -> Vec<String> {
    let mut found = verify::verify(&app.store).await.unwrap();
    found.extend(grant_ledger::reports::filing::verify(&app.store).await.unwrap());
    found
}

/// What the upgrade left in the trail and the tables, whoever ran it.
async fn assert_upgraded(app: &TestApp, admin: i64) {
    assert!(problems(app).await.is_empty(), "{:#?}", problems(app).await);
    assert_eq!(count(app, "select count(*) as n from sessions").await, 0, "the old sessions are ended");
    let principal = tokens::authenticate(&app.store, OLD_ADMIN).await.unwrap().expect("the old token still works");
    assert_eq!((principal.token_id, principal.role), (Some(admin), Role::Admin));
    let baselines = |entity: &str| {
        format!(
            "select count(*) as n from audit_log where action = 'baseline' and actor = 'upgrade' and entity = '{entity}'"
        )
    };
    for (entity, n) in [("token", 2), ("virement", 1), ("forecast", 1), ("indicator_return", 1), ("session", 0)] {
        assert_eq!(count(app, &baselines(entity)).await, n, "{entity}");
    }
    let upgrades = "select count(*) as n from audit_log where entity = 'ledger' and entity_key = '0016'";
    assert_eq!(count(app, upgrades).await, 1);
    // Opened again, it is not upgraded again.
    app.store.migrate().await.unwrap();
    assert_eq!(count(app, upgrades).await, 1);

    // From now on those rows are held to the trail like any other.
    exec(app, &format!("update tokens set secret_hash = 'ab' where id = {admin}")).await;
    let found = problems(app).await;
    assert!(found.iter().any(|p| p.starts_with(&format!("tokens {admin}: secret_hash is ab but"))), "{found:#?}");
    exec(app, "update virements set amount_pence = 99999").await;
    let found = problems(app).await;
    assert!(found.iter().any(|p| p.contains(": amount_pence is 99999 but its audit trail says 100")), "{found:#?}");
}

backend_test!(a_ledger_written_before_0016_verifies_clean_once_upgraded, |app: TestApp| async move {
    let (admin, _) = ledger_before_0016(&app).await;
    // With the schema migrated but before the upgrade records them, today's verify names what
    // the old code left unrecorded.
    schema_migrated_not_upgraded(&app).await;
    let found = problems(&app).await;
    assert!(found.iter().any(|p| p.starts_with(&format!("tokens {admin}: secret_hash is"))), "{found:#?}");
    assert!(found.iter().any(|p| p.starts_with("virements 1: has no audit record")), "{found:#?}");
    // Two servers start at once: the ledger is upgraded once. (On SQLite the migration tool
    // takes no lock, and the second to apply a migration fails; so there they start in turn.)
    let other = grant_ledger::storage::Store::connect(&app.url).await.unwrap();
    if app.store.backend() == StoreBackend::Postgres {
        let (a, b) = tokio::join!(app.store.migrate(), other.migrate());
        a.unwrap();
        b.unwrap();
    } else {
        app.store.migrate().await.unwrap();
        other.migrate().await.unwrap();
    }
    other.close().await;
    assert_upgraded(&app, admin).await;
});

backend_test!(a_ledger_written_before_0016_upgraded_by_a_keyed_binary_verifies_clean, |app: TestApp| async move {
    let (admin, _) = ledger_before_0016(&app).await;
    // The binary opens the ledger (and upgrades it) with the chain key, then seals the heads.
    let (ok, out, err) = keyed_cli(&app, Some(KEY), &["verify", "--seal"]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = keyed_cli(&app, Some(KEY), &["verify"]);
    assert!(ok, "{out}{err}");
    let keyed = "select count(*) as n from audit_log where actor = 'upgrade' and hash_version = 2";
    // 0016's six, and 0025's three: SCO's baseline, its upgrade, the home partnership adopted.
    assert_eq!(count(&app, keyed).await, 6 + 3, "the baselines and the upgrades are keyed links");
    assert_upgraded(&app, admin).await;
});

/// What a reader of the ledger sees of its spend and refunds: the Transparency file (which
/// leaves out a reversed accidental duplicate), the journal, the variance report, an entry
/// list and a purchase order's payments.
async fn figures(app: &TestApp, order: i64) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        "/api/v1/exports/transparency?from=2023-04-01&to=2024-03-31".to_owned(),
        "/api/v1/exports/journal?format=hledger".to_owned(),
        "/api/v1/reports/variance?financial_year=2023-24".to_owned(),
        "/api/v1/entries?grant=LDF&financial_year=2023-24&limit=100".to_owned(),
        format!("/api/v1/commitments/{order}"),
    ] {
        let r = app.get(&path, TokenRole::Admin).await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{path}: {}", r.body);
        out.push(r.body);
    }
    out
}

backend_test!(a_ledger_written_before_0019_keeps_its_figures_once_migrated, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "20000.00").await;
    let spend = |supplier: &str, invoice: &str, amount: &str| {
        let mut b = TestApp::spend_body("LDF", "P1", "2023-06-01", amount);
        b["supplier"] = json!(supplier);
        b["invoice_ref"] = json!(invoice);
        b
    };
    let order = app
        .ok(
            "/api/v1/commitments",
            TokenRole::Finance,
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "Youth Trust",
                    "reference": "PO-1", "amount": "3000.00", "date": "2023-05-01" }),
        )
        .await["commitment_id"]
        .as_i64()
        .unwrap();
    // Irrecoverable VAT, drawn on the purchase order.
    let mut a = spend("Youth Trust", "INV-1", "1000.00");
    (a["vat"], a["vat_recoverable"], a["commitment_id"]) = (json!("200.00"), json!(false), json!(order));
    let a_id = app.ok("/api/v1/spend", TokenRole::Finance, a.clone()).await["entry_id"].as_i64().unwrap();
    // Recoverable VAT.
    let mut b = spend("Hall Co", "INV-2", "600.00");
    (b["vat"], b["vat_recoverable"]) = (json!("120.00"), json!(true));
    app.ok("/api/v1/spend", TokenRole::Finance, b).await;
    // A real second invoice, confirmed; and an accidental one, confirmed and then reversed.
    let mut again = spend("Print Co", "INV-3", "700.00");
    app.ok("/api/v1/spend", TokenRole::Finance, again.clone()).await;
    again["duplicate_of_entry_ok"] = json!(true);
    let twice = app.ok("/api/v1/spend", TokenRole::Finance, again).await["entry_id"].as_i64().unwrap();
    let reverse = json!({ "date": "2023-06-05", "reason": "posted twice" });
    app.ok(&format!("/api/v1/entries/{twice}/reverse"), TokenRole::Finance, reverse).await;
    // A refund naming spend A, with its VAT; and one naming no spend or supplier.
    let refund = json!({ "grant": "LDF", "project": "P1", "date": "2023-07-01", "amount": "300.00", "vat": "60.00",
                         "vat_recoverable": false, "spend_entry_id": a_id, "reference": "CN-1", "reason": "credit note" });
    app.ok("/api/v1/refunds", TokenRole::Finance, refund.clone()).await;
    let plain = json!({ "grant": "LDF", "project": "P1", "date": "2023-07-02", "amount": "50.00", "reference": "CN-2",
                        "reason": "returned kit" });
    app.ok("/api/v1/refunds", TokenRole::Finance, plain).await;
    let before = figures(&app, order).await;

    // The ledger as 0018 left it: entries without the columns, and 0019 not applied (0022's
    // `import_id` stays: it is not 0019's to fill).
    take_back_entry_columns(&app, false).await;
    exec(&app, "delete from _sqlx_migrations where version = 19").await;
    assert_eq!(count(&app, "select count(*) as n from _sqlx_migrations where version = 19").await, 0);
    app.store.migrate().await.unwrap();

    app.assert_verified().await;
    let supplier = "select count(*) as n from entries where supplier = 'Youth Trust' and invoice_ref = 'INV-1'
                    and vat_pence = 20000 and vat_recoverable = 0";
    assert_eq!(count(&app, supplier).await, 1, "the columns are filled from the details");
    let refunds = format!("select count(*) as n from entries where refund_of = {a_id} and vat_pence = 6000");
    assert_eq!(count(&app, &refunds).await, 1);
    assert_eq!(count(&app, "select count(*) as n from entries where duplicate_of is not null").await, 1);
    assert_eq!(figures(&app, order).await, before, "reports and exports read the same from the migrated columns");

    // The duplicate checks find what was recorded before the migration.
    let r = app.post("/api/v1/spend", TokenRole::Finance, a).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "duplicate"), "{}", r.body);
    assert_eq!(r.body["duplicate_of"], json!(a_id), "{}", r.body);
    let r = app.post("/api/v1/refunds", TokenRole::Finance, refund).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "duplicate"), "{}", r.body);
    // A refund of spend A beyond what is left of it (£1,000 net less £300) is refused.
    let more = json!({ "grant": "LDF", "project": "P1", "date": "2023-07-03", "amount": "700.01",
                       "spend_entry_id": a_id, "reference": "CN-3", "reason": "too much" });
    let r = app.post("/api/v1/refunds", TokenRole::Finance, more).await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.body);
    assert!(r.fields().contains(&"amount".to_owned()), "{}", r.body);
    app.assert_verified().await;
});
