//! The county's registry (docs/api.md, "The county"): the home partnership the ledger is
//! adopted as, the service's roles `operator` and `funder_admin`, and a funder's roles bound
//! to their funder: one that does not fund the home partnership is not told its ledger exists.

use std::borrow::Cow;

use axum::http::{Method, StatusCode};
use grant_ledger::domain::{AuditAction, AuditEntity};
use grant_ledger::model::tokens::LedgerAccess;
use grant_ledger::storage::audit::{self, Change};
use grant_ledger::storage::tokens::{Role, hash_secret};
use grant_ledger::storage::{Backend as StoreBackend, partnerships, reference, tokens, verify};
use serde_json::{Value, json};
use sqlx::Row;

use crate::backend_test;
use crate::support::TestApp;

async fn exec(app: &TestApp, sql: &str) {
    sqlx::query(sql).execute(app.store.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(app.store.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get("n")
}

async fn problems(app: &TestApp) -> Vec<String> {
    verify::verify(&app.store).await.unwrap()
}

/// A second funder, HO, that does not fund the home partnership, with a token of each of a
/// funder's roles.
async fn other_funder(app: &TestApp) -> (String, String) {
    app.ok("/api/v1/funders", Role::Operator, json!({ "code": "HO", "name": "Home Office" })).await;
    let mut made = Vec::new();
    for role in [Role::Funder, Role::FunderAdmin] {
        let t =
            tokens::create_for_funder(&app.store, &format!("HO {role}"), role, "HO", "test setup", None).await.unwrap();
        assert_eq!(t.funder.as_deref(), Some("HO"));
        made.push(t.token);
    }
    (made[0].clone(), made[1].clone())
}

/// Every GET of the served document under `/api/v1/`, its path parameters filled in.
async fn ledger_gets(app: &TestApp) -> Vec<String> {
    let doc = app.call(Method::GET, "/openapi.json", None, None, &[]).await.body;
    let mut paths = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if path.starts_with("/api/v1/") && ops.get("get").is_some() && !is_registry(path) {
            paths.push(
                path.replace("{fy}", "2023-24")
                    .replace("{grant}", "LDF")
                    .replace("{code}", "P1")
                    .replace("{id}", "1")
                    .replace("{username}", "nobody"),
            );
        }
    }
    assert!(paths.len() > 20, "the sweep reaches the ledger's reads: {paths:?}");
    paths
}

/// The service's registry, which a funder's roles reach whatever partnership they fund.
fn is_registry(path: &str) -> bool {
    path.starts_with("/api/v1/partnerships") || path == "/api/v1/funders" || path == "/api/v1/operator/health"
}

backend_test!(the_fresh_ledger_is_adopted_as_tamworths_funded_by_sco, |app: TestApp| async move {
    let home = partnerships::home(&app.store).await.unwrap().expect("a home partnership");
    assert_eq!(
        (home.code.as_str(), home.name.as_str(), home.funder.as_str(), home.area_code.as_str(), home.home.0),
        ("TAM", "Tamworth Community Safety Partnership", "SCO", "E07000199", true)
    );
    // The test's funder tokens were made after: they belong to the home partnership's funder.
    for role in [Role::Funder, Role::FunderAdmin] {
        let p = tokens::authenticate(&app.store, app.token(role)).await.unwrap().unwrap();
        assert_eq!(p.funder.as_deref(), Some("SCO"), "{role}");
        assert_eq!(p.ledger_access(), LedgerAccess::Allowed, "{role}");
    }
    let p = tokens::authenticate(&app.store, app.token(Role::Finance)).await.unwrap().unwrap();
    assert_eq!(p.funder, None, "a partnership's role belongs to no funder");
    // Opened again, nothing is adopted twice.
    app.store.migrate().await.unwrap();
    assert_eq!(count(&app, "select count(*) as n from partnerships").await, 1);
    assert!(problems(&app).await.is_empty(), "{:#?}", problems(&app).await);
});

backend_test!(the_operator_reaches_no_ledger_route, |app: TestApp| async move {
    for path in ledger_gets(&app).await {
        let r = app.get(&path, Role::Operator).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "GET {path} as operator: {}", r.body);
    }
    let r = app.post("/api/v1/projects", Role::Operator, json!({ "code": "P9", "name": "x", "priority": "ASB" })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(count(&app, "select count(*) as n from projects where code = 'P9'").await, 0);
});

backend_test!(a_funder_admin_reads_as_a_funder_and_administers_nothing_of_the_partnership, |app: TestApp| async move {
    for path in ["/api/v1/projects", "/api/v1/funder/overview?financial_year=2023-24", "/api/v1/entries"] {
        let r = app.get(path, Role::FunderAdmin).await;
        assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.body);
    }
    let r = app.get("/api/v1/audit", Role::FunderAdmin).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the audit trail is the partnership's administration");
    for (path, body) in [
        ("/api/v1/projects", json!({ "code": "P9", "name": "x", "priority": "ASB" })),
        ("/api/v1/tokens", json!({ "name": "x", "role": "viewer" })),
    ] {
        let r = app.post(path, Role::FunderAdmin, body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {path}: {}", r.body);
    }
});

backend_test!(a_funder_that_does_not_fund_the_home_partnership_is_told_nothing, |app: TestApp| async move {
    let (funder, funder_admin) = other_funder(&app).await;
    app.project("P1", "ASB").await;
    for path in ledger_gets(&app).await {
        for (role, token) in [("funder", &funder), ("funder_admin", &funder_admin)] {
            let r = app.call(Method::GET, &path, Some(token), None, &[]).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "GET {path} as HO's {role}: {}", r.body);
            assert_eq!(r.code(), "not_found");
            assert!(!r.body.to_string().contains("P1"), "GET {path} as HO's {role} shows nothing: {}", r.body);
        }
    }
    // The home partnership's own funder still reads it.
    assert_eq!(app.get("/api/v1/projects/P1", Role::Funder).await.status, StatusCode::OK);
    let p = tokens::authenticate(&app.store, &funder).await.unwrap().unwrap();
    assert_eq!(p.ledger_access(), LedgerAccess::Hidden);
});

backend_test!(a_partnership_admin_grants_only_a_partnerships_roles, |app: TestApp| async move {
    for role in ["operator", "funder_admin"] {
        let r = app.post("/api/v1/tokens", Role::Admin, json!({ "name": "x", "role": role })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "token of {role}: {}", r.body);
        assert_eq!(r.fields(), ["role"]);
        let user = json!({ "username": "x", "display_name": "X", "role": role, "password": "a long enough password" });
        let r = app.post("/api/v1/users", Role::Admin, user).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "user of {role}: {}", r.body);
        assert!(r.fields().contains(&"role".to_owned()), "{}", r.body);
    }
    assert_eq!(count(&app, "select count(*) as n from tokens where name = 'x'").await, 0);
    // A funder's token made by the partnership's admin belongs to the partnership's funder.
    let made = app.ok("/api/v1/tokens", Role::Admin, json!({ "name": "SCO reader", "role": "funder" })).await;
    assert_eq!(made["funder"], "SCO", "{made}");
    assert!(problems(&app).await.is_empty(), "{:#?}", problems(&app).await);
});

backend_test!(a_partnerships_role_cannot_name_a_funder, |app: TestApp| async move {
    let r = tokens::create_for_funder(&app.store, "x", Role::Viewer, "SCO", "test", None).await;
    assert!(
        matches!(r, Err(grant_ledger::storage::StoreError::Invalid { ref field, .. }) if field == "funder"),
        "{r:?}"
    );
    let r = tokens::create_for_funder(&app.store, "x", Role::FunderAdmin, "NOPE", "test", None).await;
    assert!(matches!(r, Err(grant_ledger::storage::StoreError::NotFound(_))), "{r:?}");
    // The database holds the same rule: a partnership's role names no funder.
    let r = sqlx::query(
        "insert into tokens (name, role, secret_hash, created_at, funder) values ('x', 'viewer', 'ab', 'now', 'SCO')",
    )
    .execute(app.store.pool())
    .await;
    assert!(r.is_err(), "a viewer's token naming a funder is refused by the database");
});

backend_test!(partnership_and_funder_rows_are_held_to_the_audit_trail, |app: TestApp| async move {
    assert!(problems(&app).await.is_empty(), "{:#?}", problems(&app).await);
    let id: i64 =
        sqlx::query("select id from partnerships where home = 1").fetch_one(app.store.pool()).await.unwrap().get("id");
    exec(&app, "update partnerships set funder = 'SCO', name = 'Someone Else' where home = 1").await;
    exec(&app, "update funders set over_programming_percent = 50 where code = 'SCO'").await;
    let (funder, _) = other_funder(&app).await;
    let bound: i64 = sqlx::query("select id from tokens where funder = 'HO' and role = 'funder'")
        .fetch_one(app.store.pool())
        .await
        .unwrap()
        .get("id");
    exec(&app, &format!("update tokens set funder = 'SCO' where id = {bound}")).await;
    let found = problems(&app).await;
    for start in [
        format!("partnerships {id}: name is Someone Else but its audit trail says Tamworth"),
        "funders SCO: over_programming_percent is 50 but its audit trail says 0".to_owned(),
        format!("tokens {bound}: funder is SCO but its audit trail says HO"),
    ] {
        assert!(found.iter().any(|p| p.starts_with(&start)), "expected {start:?}: {found:#?}");
    }
    // The rebound token now reads the home ledger; verify is what names it.
    assert_eq!(app.call(Method::GET, "/api/v1/projects", Some(&funder), None, &[]).await.status, StatusCode::OK);
});

/// Empties the test's database and migrates it to the last version before 0025.
async fn schema_before_0025(app: &TestApp) {
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
    migrator.migrations = Cow::Owned(migrator.migrations.iter().filter(|m| m.version < 25).cloned().collect());
    migrator.run(pool).await.unwrap();
}

/// Inserts a row as the code before 0025 wrote it, with its audit record.
async fn old_row(app: &TestApp, sql: &str, entity: AuditEntity, key: &str, after: Value) {
    let mut db_tx = app.store.begin().await.unwrap();
    sqlx::query(sql).execute(&mut *db_tx).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let change = Change {
        actor: "Old Hand",
        action: AuditAction::Create,
        entity,
        key,
        before: None,
        after: Some(after),
        reason: "",
    };
    audit::record_in(&mut db_tx, change).await.unwrap();
    db_tx.commit().await.unwrap();
}

backend_test!(a_ledger_written_before_0025_is_adopted_once_and_verifies_clean, |app: TestApp| async move {
    schema_before_0025(&app).await;
    // Two funders, the later-coded one funding the ledger's grants; the partnership's code
    // and name as its settings hold them; a funder's token and a viewer's.
    for (code, name) in [("AAA", "A Trust"), ("HO", "Home Office")] {
        let sql = format!("insert into funders (code, name) values ('{code}', '{name}')");
        old_row(&app, &sql, AuditEntity::Funder, code, json!({ "code": code, "name": name })).await;
    }
    let sql = "insert into grants (code, name, funder, restricted_to_priority, on_overspend)
               values ('G1', 'Grant one', 'HO', null, 'stop')";
    let after = json!({ "code": "G1", "name": "Grant one", "funder": "HO", "restricted_to_priority": null, "on_overspend": "stop" });
    old_row(&app, sql, AuditEntity::Grant, "G1", after).await;
    let mut db_tx = app.store.begin().await.unwrap();
    reference::set_setting_in(&mut db_tx, "partnership_code", "LIC", "Old Hand").await.unwrap();
    reference::set_setting_in(&mut db_tx, "partnership", "Lichfield District CSP", "Old Hand").await.unwrap();
    db_tx.commit().await.unwrap();
    let mut ids = Vec::new();
    for (role, secret) in
        [("funder", "gl_an-old-funder-token-made-before-0025"), ("viewer", "gl_an-old-viewer-token-made-before-0025")]
    {
        let sql = format!(
            "insert into tokens (name, role, secret_hash, created_at) values ('old {role}', '{role}', '{}', '2024-01-01T00:00:00Z')",
            hash_secret(secret)
        );
        exec(&app, &sql).await;
        let id: i64 = sqlx::query(&format!("select id from tokens where name = 'old {role}'"))
            .fetch_one(app.store.pool())
            .await
            .unwrap()
            .get("id");
        let mut db_tx = app.store.begin().await.unwrap();
        let after =
            json!({ "id": id, "name": format!("old {role}"), "role": role, "secret_hash": hash_secret(secret) });
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
        ids.push((id, secret));
    }

    app.store.migrate().await.unwrap();
    let home = partnerships::home(&app.store).await.unwrap().expect("adopted");
    assert_eq!(
        (home.code.as_str(), home.name.as_str(), home.funder.as_str(), home.area_code.as_str()),
        ("LIC", "Lichfield District CSP", "HO", "E07000199"),
        "the code and name from the settings, the funder of the ledger's grants"
    );
    let funder = tokens::authenticate(&app.store, ids[0].1).await.unwrap().expect("the old funder token works");
    assert_eq!((funder.funder.as_deref(), funder.ledger_access()), (Some("HO"), LedgerAccess::Allowed));
    let viewer = tokens::authenticate(&app.store, ids[1].1).await.unwrap().unwrap();
    assert_eq!(viewer.funder, None);
    assert!(problems(&app).await.is_empty(), "{:#?}", problems(&app).await);
    let upgrades = "select count(*) as n from audit_log where entity = 'ledger' and entity_key = '0025'";
    assert_eq!(count(&app, upgrades).await, 1);
    let baselined = "select count(*) as n from audit_log where entity = 'funder' and action = 'baseline'";
    assert_eq!(count(&app, baselined).await, 2, "each funder's new columns");

    // Opened again, nothing is done again.
    app.store.migrate().await.unwrap();
    assert_eq!(count(&app, upgrades).await, 1);
    assert_eq!(count(&app, "select count(*) as n from partnerships").await, 1);
    // From now on the funders' new columns are held to the trail.
    exec(&app, "update funders set return_due_days = 90 where code = 'HO'").await;
    let found = problems(&app).await;
    assert!(found.iter().any(|p| p.starts_with("funders HO: return_due_days is 90 but")), "{found:#?}");
});

backend_test!(a_ledger_with_no_funder_adopts_nothing_until_it_has_one, |app: TestApp| async move {
    schema_before_0025(&app).await;
    app.store.migrate().await.unwrap();
    assert!(partnerships::home(&app.store).await.unwrap().is_none());
    // A funder's token cannot be made while no funder funds the home partnership.
    let r = tokens::create(&app.store, "early", Role::Funder, "test").await;
    assert!(matches!(r, Err(grant_ledger::storage::StoreError::Conflict(_))), "{r:?}");
    grant_ledger::fixtures::load_reference(&app.store).await.unwrap();
    let home = partnerships::ensure_home(&app.store).await.unwrap().expect("adopted once it has a funder");
    assert_eq!((home.code.as_str(), home.funder.as_str()), ("TAM", "SCO"));
    assert!(problems(&app).await.is_empty(), "{:#?}", problems(&app).await);
});
