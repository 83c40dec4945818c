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
    // A partnership deleted, or one written outside the ledger, is named too.
    let lic = json!({ "code": "LIC", "name": "Lichfield District CSP", "funder": "SCO", "area_code": "E07000194" });
    let lic_id = app.ok("/api/v1/partnerships", Role::Operator, lic).await["id"].as_i64().unwrap();
    exec(
        &app,
        "insert into partnerships (code, name, funder, area_code, home, created_at)
         values ('EVIL', 'Evil', 'HO', 'E07000192', 0, '2026-01-01T00:00:00Z')",
    )
    .await;
    exec(&app, "delete from partnerships where code = 'LIC'").await;
    let found = problems(&app).await;
    for start in [format!("partnerships {lic_id}: in the audit trail but no longer stored"), "partnerships ".to_owned()]
    {
        assert!(found.iter().any(|p| p.starts_with(&start)), "expected {start:?}: {found:#?}");
    }
    assert!(found.iter().any(|p| p.ends_with("has no audit record: written outside the ledger")), "{found:#?}");
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

// Every operation of the served document but the registry's, as the operator: refused,
// never answered with data, and nothing written.
backend_test!(the_operator_is_refused_every_ledger_operation, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let doc = app.call(Method::GET, "/openapi.json", None, None, &[]).await.body;
    let audit_before = count(&app, "select count(*) as n from audit_log").await;
    let mut swept = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/") || is_registry(path) || path.starts_with("/api/v1/funders/") {
            continue;
        }
        let filled = path
            .replace("{fy}", "2023-24")
            .replace("{grant}", "LDF")
            .replace("{code}", "P1")
            .replace("{id}", "1")
            .replace("{evidence_id}", "1")
            .replace("{username}", "nobody");
        for method in ops.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (m != Method::GET && m != Method::DELETE).then(|| json!({}));
            let r = app.call(m, &filled, Some(app.token(Role::Operator)), body, &[]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {filled} as operator: {}", r.body);
            swept += 1;
        }
    }
    assert!(swept > 60, "the sweep reaches every operation: {swept}");
    assert_eq!(count(&app, "select count(*) as n from audit_log").await, audit_before, "nothing was written");
});

backend_test!(the_operator_registers_funders_and_their_first_admins, |app: TestApp| async move {
    // Only the operator adds a funder; a partnership's admin is refused.
    let body = json!({ "code": "HO", "name": "Home Office" });
    assert_eq!(app.post("/api/v1/funders", Role::Admin, body.clone()).await.status, StatusCode::FORBIDDEN);
    let made = app.ok("/api/v1/funders", Role::Operator, body.clone()).await;
    assert_eq!(
        made,
        json!({ "code": "HO", "name": "Home Office", "over_programming_percent": 0, "return_due_days": 30 })
    );
    let r = app.post("/api/v1/funders", Role::Operator, body).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("code HO"), "the refusal names the code: {}", r.body);
    let r = app.post("/api/v1/funders", Role::Operator, json!({ "code": "no spaces", "name": "" })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["code", "name"], "{}", r.body);
    let listed = app.get("/api/v1/funders", Role::Operator).await.body;
    let codes: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["HO", "SCO"]);

    // Its first funder_admin: a token answered once, of HO.
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Operator) {
        let r = app.post("/api/v1/funders/HO/admins", role, json!({ "name": "x" })).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role}: {}", r.body);
    }
    let r = app.post("/api/v1/funders/NOPE/admins", Role::Operator, json!({ "name": "x" })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = app.post("/api/v1/funders/HO/admins", Role::Operator, json!({})).await;
    assert_eq!(r.fields(), ["name"], "{}", r.body);
    let admin = app.ok("/api/v1/funders/HO/admins", Role::Operator, json!({ "name": "Jo at the Home Office" })).await;
    assert_eq!((admin["role"].as_str(), admin["funder"].as_str()), (Some("funder_admin"), Some("HO")), "{admin}");
    let secret = admin["token"].as_str().unwrap();
    // HO funds no partnership of this service: its admin sees none, and no ledger.
    let r = app.call(Method::GET, "/api/v1/partnerships", Some(secret), None, &[]).await;
    assert_eq!((r.status, r.body["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{}", r.body);
    let r = app.call(Method::GET, "/api/v1/projects", Some(secret), None, &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let audited = "select count(*) as n from audit_log where actor = 'test operator' and entity in ('funder', 'token')";
    assert_eq!(count(&app, audited).await, 2, "the funder and its admin's token are audited");
    assert!(problems(&app).await.is_empty(), "{:#?}", problems(&app).await);
});

backend_test!(the_operator_registers_partnerships_but_no_admin_of_a_ledger_not_held, |app: TestApp| async move {
    let lic = json!({ "code": "LIC", "name": "Lichfield District CSP", "funder": "SCO", "area_code": "E07000194" });
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Operator) {
        assert_eq!(app.post("/api/v1/partnerships", role, lic.clone()).await.status, StatusCode::FORBIDDEN, "{role}");
    }
    // Each bad field named.
    let r = app
        .post(
            "/api/v1/partnerships",
            Role::Operator,
            json!({ "code": "L I C", "name": " ", "funder": "SCO", "area_code": "E0700019" }),
        )
        .await;
    assert_eq!(r.fields(), ["code", "name", "area_code"], "{}", r.body);
    for area in ["e07000194", "X07000194", "E070001941", "07000194E"] {
        let r = app.post("/api/v1/partnerships", Role::Operator, with(&lic, "area_code", area)).await;
        assert_eq!(r.fields(), ["area_code"], "{area}: {}", r.body);
    }
    let r = app.post("/api/v1/partnerships", Role::Operator, with(&lic, "funder", "NOPE")).await;
    assert_eq!(r.fields(), ["funder"], "{}", r.body);
    let made = app.ok("/api/v1/partnerships", Role::Operator, lic.clone()).await;
    assert_eq!((made["code"].as_str(), made["home"].as_bool()), (Some("LIC"), Some(false)), "{made}");
    let r = app.post("/api/v1/partnerships", Role::Operator, lic.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().starts_with("code:"), "{}", r.body);
    let r = app.post("/api/v1/partnerships", Role::Operator, with(&lic, "code", "TAM")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "the home partnership's code is taken too: {}", r.body);

    // Who sees which.
    let codes = |r: &crate::support::Reply| -> Vec<String> {
        r.body["items"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(codes(&app.get("/api/v1/partnerships", Role::Operator).await), ["LIC", "TAM"]);
    assert_eq!(codes(&app.get("/api/v1/partnerships", Role::Funder).await), ["LIC", "TAM"], "SCO funds both");
    assert_eq!(codes(&app.get("/api/v1/partnerships", Role::FunderAdmin).await), ["LIC", "TAM"]);
    for role in [Role::Admin, Role::Viewer, Role::Finance, Role::Approver] {
        assert_eq!(codes(&app.get("/api/v1/partnerships", role).await), ["TAM"], "{role} sees its own");
    }

    // An admin for the home partnership; none for a partnership whose ledger is not held.
    let tokens_before = count(&app, "select count(*) as n from tokens").await;
    let r = app.post("/api/v1/partnerships/LIC/admins", Role::Operator, json!({ "name": "Lichfield admin" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("does not yet hold more than one partnership's ledger"),
        "{}",
        r.body
    );
    assert_eq!(count(&app, "select count(*) as n from tokens").await, tokens_before, "no token was made");
    let r = app.post("/api/v1/partnerships/NOPE/admins", Role::Operator, json!({ "name": "x" })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Operator) {
        let r = app.post("/api/v1/partnerships/TAM/admins", role, json!({ "name": "x" })).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role}");
    }
    let admin = app.ok("/api/v1/partnerships/TAM/admins", Role::Operator, json!({ "name": "Tamworth admin" })).await;
    assert_eq!(admin["role"], "admin");
    let r = app.call(Method::GET, "/api/v1/tokens", Some(admin["token"].as_str().unwrap()), None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "the home partnership's admin administers its ledger");
    let audited = "select count(*) as n from audit_log where actor = 'test operator' and entity = 'partnership'";
    assert_eq!(count(&app, audited).await, 1);
    assert!(problems(&app).await.is_empty(), "{:#?}", problems(&app).await);
});

/// `body` with one field set.
fn with(body: &Value, field: &str, value: &str) -> Value {
    let mut body = body.clone();
    body[field] = json!(value);
    body
}

backend_test!(the_operators_health_counts_and_names_nothing, |app: TestApp| async move {
    app.ok(
        "/api/v1/projects",
        Role::Approver,
        json!({ "code": "SECRETP", "name": "A project the operator must not see", "priority": "ASB" }),
    )
    .await;
    app.allocate("LDF", "2023-24", "SECRETP", "1234.56").await;
    let lic = json!({ "code": "LIC", "name": "Lichfield District CSP", "funder": "SCO", "area_code": "E07000194" });
    app.ok("/api/v1/partnerships", Role::Operator, lic).await;
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Operator) {
        assert_eq!(app.get("/api/v1/operator/health", role).await.status, StatusCode::FORBIDDEN, "{role}");
    }
    let r = app.get("/api/v1/operator/health", Role::Operator).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "ok");
    let text = r.body.to_string();
    for secret in ["SECRETP", "A project", "1234", "LDF"] {
        assert!(!text.contains(secret), "the health shows no {secret}: {text}");
    }
    let rows = r.body["partnerships"].as_array().unwrap();
    let tam = rows.iter().find(|p| p["code"] == "TAM").unwrap();
    let entries = count(&app, "select count(*) as n from entries").await;
    assert!(entries > 0);
    assert_eq!(tam["entries"], entries);
    assert_eq!(tam["tokens"], count(&app, "select count(*) as n from tokens where revoked_at is null").await);
    assert!(tam["last_entry_at"].is_string());
    let lic = rows.iter().find(|p| p["code"] == "LIC").unwrap();
    assert_eq!((lic["entries"].as_i64(), lic["home"].as_bool()), (Some(0), Some(false)));
});

backend_test!(the_registry_from_the_command_line, |app: TestApp| async move {
    let (ok, _, err) = app.cli(&["funder", "add", "--code", "HO", "--name", "Home Office"]);
    assert!(ok, "{err}");
    let (ok, _, err) = app.cli(&["funder", "add", "--code", "HO", "--name", "Again"]);
    assert!(!ok && err.contains("code HO"), "{err}");
    let (ok, out, err) = app.cli(&["funder", "list"]);
    assert!(ok, "{err}");
    assert_eq!(out, "HO\tHome Office\nSCO\tStaffordshire Commissioner's Office\n");
    let lic = ["--code", "LIC", "--name", "Lichfield District CSP", "--funder", "SCO", "--area-code", "E07000194"];
    let (ok, _, err) = app.cli(&[&["partnership", "add"][..], &lic[..]].concat());
    assert!(ok, "{err}");
    let (ok, _, err) =
        app.cli(&["partnership", "add", "--code", "X", "--name", "X", "--funder", "SCO", "--area-code", "E1"]);
    assert!(!ok && err.contains("--area-code"), "the bad flag is named: {err}");
    let (ok, out, err) = app.cli(&["partnership", "list"]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "  LIC\tSCO\tE07000194\tLichfield District CSP\n* TAM\tSCO\tE07000199\tTamworth Community Safety Partnership\n"
    );
    // Adopting is refused while the service holds another partnership.
    let (ok, _, err) = app.cli(&[
        "partnership",
        "adopt",
        "--code",
        "TAW",
        "--name",
        "T",
        "--funder",
        "SCO",
        "--area-code",
        "E07000199",
    ]);
    assert!(!ok && err.contains("LIC"), "{err}");

    // --partnership: the home partnership's code, or a refusal naming it.
    let (ok, out, err) = app.cli(&["--partnership", "TAM", "token", "list"]);
    assert!(ok && out.contains("test admin"), "{err}");
    let (ok, _, err) = app.cli(&["token", "list", "--partnership", "LIC"]);
    assert!(!ok, "a partnership whose ledger is not held is refused");
    assert!(err.contains("--partnership LIC") && err.contains("TAM"), "{err}");
    assert!(problems(&app).await.is_empty(), "{:#?}", problems(&app).await);
});

backend_test!(adopting_renames_the_home_partnership_and_its_settings, |app: TestApp| async move {
    app.ok("/api/v1/funders", Role::Operator, json!({ "code": "HO", "name": "Home Office" })).await;
    let (ok, _, err) = app.cli(&[
        "partnership",
        "adopt",
        "--code",
        "TAW",
        "--name",
        "Tamworth CSP",
        "--funder",
        "HO",
        "--area-code",
        "E07000199",
    ]);
    assert!(ok, "{err}");
    let home = partnerships::home(&app.store).await.unwrap().unwrap();
    assert_eq!((home.code.as_str(), home.name.as_str(), home.funder.as_str()), ("TAW", "Tamworth CSP", "HO"));
    assert_eq!(reference::partnership_code(&app.store).await.unwrap(), "TAW", "the setting follows");
    // SCO's tokens belong to a funder that no longer funds this ledger: they are told nothing.
    assert_eq!(app.get("/api/v1/projects", Role::Funder).await.status, StatusCode::NOT_FOUND);
    let (ok, _, _) = app.cli(&["--partnership", "TAW", "token", "list"]);
    assert!(ok);
    let (ok, _, err) = app.cli(&["--partnership", "TAM", "token", "list"]);
    assert!(!ok && err.contains("TAW"), "{err}");
    assert!(problems(&app).await.is_empty(), "{:#?}", problems(&app).await);
});

#[tokio::test]
async fn the_operator_token_comes_from_the_environment() {
    let dir = std::env::temp_dir().join(format!("gl_operator_env_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("ledger.db").display());
    let run = |secret: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
            .arg("init")
            .env("DATABASE_URL", &url)
            .env("GRANT_LEDGER_OPERATOR_TOKEN", secret)
            .env_remove("GRANT_LEDGER_ADMIN_TOKEN")
            .output()
            .unwrap()
    };
    let short = run("too-short-to-be-safe");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("GRANT_LEDGER_OPERATOR_TOKEN"));
    assert!(!dir.join("ledger.db").exists(), "refused before the ledger was made");
    let secret = "an-operator-secret-of-at-least-thirty-two-characters";
    let made = run(secret);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let store = grant_ledger::storage::Store::connect(&url).await.unwrap();
    let p = tokens::authenticate(&store, secret).await.unwrap().expect("the operator token works");
    assert_eq!((p.role, p.funder), (Role::Operator, None));
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

backend_test!(the_command_lines_tokens_pass_the_same_gate, |app: TestApp| async move {
    let (ho_funder, _) = other_funder(&app).await;
    let (ok, _, err) = app.cli(&["audit", "--token", app.token(Role::Operator)]);
    assert!(!ok, "the operator reads no audit trail of a ledger");
    assert!(err.contains("may not"), "{err}");
    let (ok, _, err) = app.cli(&["agreement", "list", "--financial-year", "2023-24", "--token", &ho_funder]);
    assert!(!ok && err.contains("not found"), "HO's funder is told nothing: {err}");
    let (ok, out, err) =
        app.cli(&["agreement", "list", "--financial-year", "2023-24", "--token", app.token(Role::Funder)]);
    assert!(ok, "SCO's funder reads its partnership's agreements: {out}{err}");
});

backend_test!(the_partnership_code_setting_and_the_home_partnership_change_together, |app: TestApp| async move {
    let r = app.patch("/api/v1/settings", Role::Admin, json!({ "partnership_code": "TAW" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(partnerships::home(&app.store).await.unwrap().unwrap().code, "TAW");
    let lic = json!({ "code": "LIC", "name": "Lichfield District CSP", "funder": "SCO", "area_code": "E07000194" });
    app.ok("/api/v1/partnerships", Role::Operator, lic).await;
    let r = app.patch("/api/v1/settings", Role::Admin, json!({ "partnership_code": "LIC" })).await;
    assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["partnership_code".to_owned()]));
    assert_eq!(reference::partnership_code(&app.store).await.unwrap(), "TAW", "nothing half-written");
    assert!(problems(&app).await.is_empty(), "{:#?}", problems(&app).await);
});

// A funder's user whose funder funds no partnership here, at the pages: signing in with its
// token shows it no page of the ledger (the pages' session passes the API's gate).
backend_test!(another_funders_user_reaches_no_page_of_the_ledger, |app: TestApp| async move {
    app.ok("/api/v1/funders", Role::Operator, json!({ "code": "HO", "name": "Home Office" })).await;
    let admin = app.ok("/api/v1/funders/HO/admins", Role::Operator, json!({ "name": "Jo at the Home Office" })).await;
    let secret = admin["token"].as_str().unwrap();
    let form = crate::pages::SignInPage::open(&app.router).await;
    let signed = form.post(&app.router, &format!("token={secret}"), &[]).await;
    let session = signed.cookie("gl_session");
    for path in
        ["/dashboard?financial_year=2023-24", "/entries", "/commitments", "/financial-years/2023-24", "/returns"]
    {
        let page = crate::pages::send(&app, "GET", path, session.as_deref(), None, &[]).await;
        assert_ne!(page.status, StatusCode::OK, "{path}: {}", page.text);
        for ledger_text in ["Budget report", "LDF", "Tamworth"] {
            assert!(!page.text.contains(ledger_text), "{path} shows {ledger_text:?}: {}", page.text);
        }
    }
});
