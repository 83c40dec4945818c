//! Organisations, the delivery partners. Created and
//! changed by approvers, read by every role, every identifier checked for shape, every
//! change audited and held to its audit record by `verify`.

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::{Reply, TestApp};

const ORGS: &str = "/api/v1/organisations";

fn youth_trust() -> Value {
    json!({ "code": "YT", "name": "Tamworth Youth Trust", "kind": "vcse", "charity_number": "1123456",
            "company_number": "01234567", "org_id": "GB-CHC-1123456", "postcode": "b79 7bz" })
}

fn refused(r: &Reply, field: &str) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.code(), "validation_failed", "{}", r.body);
    assert!(r.fields().contains(&field.to_owned()), "expected {field} named: {}", r.body);
}

async fn listed(app: &TestApp) -> Vec<Value> {
    let r = app.get(ORGS, Role::Viewer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

backend_test!(organisations_are_created_read_changed_and_audited, |app: TestApp| async move {
    let created = app.ok(ORGS, Role::Approver, youth_trust()).await;
    assert_eq!(
        created,
        json!({ "code": "YT", "name": "Tamworth Youth Trust", "kind": "vcse", "charity_number": "1123456",
                "company_number": "01234567", "org_id": "GB-CHC-1123456", "postcode": "B79 7BZ" })
    );
    // Identifiers are optional: a public body with none.
    let council = app
        .ok(ORGS, Role::Admin, json!({ "code": "SCC", "name": "Staffordshire County Council", "kind": "public" }))
        .await;
    assert_eq!((&council["org_id"], &council["postcode"]), (&json!(""), &json!("")));
    for role in [Role::Viewer, Role::Funder, Role::Finance, Role::Approver, Role::Admin] {
        let r = app.get(&format!("{ORGS}/YT"), role).await;
        assert_eq!((r.status, &r.body), (StatusCode::OK, &created), "{role:?}");
    }
    let codes: Vec<Value> = listed(&app).await.iter().map(|o| o["code"].clone()).collect();
    assert_eq!(codes, vec![json!("SCC"), json!("YT")]);
    assert_eq!(app.get(&format!("{ORGS}/NOPE"), Role::Viewer).await.status, StatusCode::NOT_FOUND);

    // Only approvers (and admin) write; a code is taken once.
    for role in [Role::Viewer, Role::Funder, Role::Finance] {
        assert_eq!(app.post(ORGS, role, youth_trust()).await.status, StatusCode::FORBIDDEN, "{role:?}");
    }
    let r = app.post(ORGS, Role::Approver, youth_trust()).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{}", r.body);

    // A change: a new postcode (written the Royal Mail way), kind, and a cleared charity number.
    let r = app
        .patch(
            &format!("{ORGS}/YT"),
            Role::Approver,
            json!({ "postcode": "sw1a1aa", "kind": "private", "charity_number": "" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (&r.body["postcode"], &r.body["kind"], &r.body["charity_number"]),
        (&json!("SW1A 1AA"), &json!("private"), &json!(""))
    );
    assert_eq!(r.body["org_id"], "GB-CHC-1123456", "fields not given stay as they were");
    assert_eq!(
        app.patch(&format!("{ORGS}/YT"), Role::Finance, json!({ "name": "X" })).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.patch(&format!("{ORGS}/NOPE"), Role::Approver, json!({ "name": "X" })).await.status,
        StatusCode::NOT_FOUND
    );

    // The audit trail holds the creation and the change, with what it replaced.
    let r = app.get("/api/v1/audit?entity=organisation&key=YT", Role::Viewer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["update", "create"], "newest first: {}", r.body);
    assert_eq!(items[0]["before"]["postcode"], "B79 7BZ", "{}", r.body);
    assert_eq!(items[0]["after"]["postcode"], "SW1A 1AA", "{}", r.body);
    app.assert_verified().await;

    // A row changed outside the ledger no longer equals its audit record: verify says so.
    sqlx::query("update organisations set org_id = 'GB-CHC-999' where code = 'YT'")
        .execute(app.store.pool())
        .await
        .unwrap();
    let problems = grant_ledger::storage::verify::verify(&app.store).await.unwrap();
    assert!(
        problems.iter().any(|p| p.contains("organisations YT: org_id is GB-CHC-999")),
        "verify should name the changed org_id: {problems:#?}"
    );
});

backend_test!(bad_organisations_are_refused_naming_the_field_and_nothing_is_written, |app: TestApp| async move {
    let with = |field: &str, value: Value| {
        let mut b = youth_trust();
        b[field] = value;
        b
    };
    for (body, field) in [
        (with("kind", json!("charity")), "kind"),
        (with("org_id", json!("GBCHC1123456")), "org_id"),
        (with("org_id", json!("GB-CHC-")), "org_id"),
        (with("org_id", json!("GB-CHC-11 23")), "org_id"),
        (with("charity_number", json!("12")), "charity_number"),
        (with("charity_number", json!("CHC1123456")), "charity_number"),
        (with("company_number", json!("1234567")), "company_number"),
        (with("postcode", json!("B79")), "postcode"),
        (with("postcode", json!("1B7 7BZ")), "postcode"),
        (with("name", json!("")), "name"),
        (with("code", json!("bad code")), "code"),
        (with("name", json!("Trust\u{7}")), "name"),
    ] {
        let r = app.post(ORGS, Role::Approver, body.clone()).await;
        refused(&r, field);
    }
    let mut no_kind = youth_trust();
    no_kind.as_object_mut().unwrap().remove("kind");
    refused(&app.post(ORGS, Role::Approver, no_kind).await, "kind");
    assert!(listed(&app).await.is_empty(), "nothing was written");

    app.ok(ORGS, Role::Approver, youth_trust()).await;
    let before = app.get(&format!("{ORGS}/YT"), Role::Viewer).await.body;
    for (body, field) in [
        (json!({ "org_id": "XX" }), "org_id"),
        (json!({ "postcode": "B79", "name": "New name" }), "postcode"),
        (json!({ "code": "YT2" }), "code"),
        (json!({ "kind": null }), "kind"),
        (json!({ "colour": "blue" }), "colour"),
    ] {
        refused(&app.patch(&format!("{ORGS}/YT"), Role::Approver, body).await, field);
    }
    assert_eq!(app.get(&format!("{ORGS}/YT"), Role::Viewer).await.body, before, "nothing was changed");
    let r = app.get("/api/v1/audit?entity=organisation", Role::Viewer).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "only the one creation is audited: {}", r.body);
    app.assert_verified().await;
});
