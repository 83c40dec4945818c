//! Grant agreements with delivery partners. An agreement from October 2023
//! to September 2024 committed across 2023-24 and 2024-25, paid in tranches, partly
//! evidenced, with a clawback, every figure worked by hand; a part that waits for its
//! year's award; and the refusals, each writing nothing.

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::{Reply, TestApp};

fn refused(r: &Reply, status: StatusCode, field: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        assert!(r.fields().contains(&field.to_owned()), "expected {field} named: {}", r.body);
    }
}

/// The delivery partner, a charity.
pub async fn partner(app: &TestApp) {
    app.ok(
        "/api/v1/organisations",
        Role::Approver,
        json!({ "code": "SAFE", "name": "Safer Streets Trust", "kind": "vcse", "charity_number": "1234567",
                "org_id": "GB-CHC-1234567", "postcode": "B79 7BZ" }),
    )
    .await;
}

/// £12,000 for October 2023 to September 2024: £7,000 in 2023-24 and £5,000 in 2024-25.
pub fn agreement_body() -> Value {
    json!({
        "kind": "grant_agreement", "grant": "LDF", "financial_year": "2023-24", "project": "P1",
        "reference": "GA-2023-01", "amount": "12000.00", "date": "2023-09-20", "recipient": "SAFE",
        "start_date": "2023-10-01", "end_date": "2024-09-30",
        "purpose": "Detached youth outreach in the town centre",
        "schedule": [ { "financial_year": "2023-24", "amount": "7000.00" }, { "financial_year": "2024-25", "amount": "5000.00" } ],
    })
}

fn payment(date: &str, amount: &str, id: i64) -> Value {
    let mut body = TestApp::spend_body("LDF", "P1", date, amount);
    body["commitment_id"] = json!(id);
    body["supplier"] = json!("Safer Streets Trust");
    body
}

fn evidence(date: &str, amount: &str, status: &str) -> Value {
    json!({ "date": date, "amount_evidenced": amount, "status": status, "note": "quarterly monitoring form" })
}

/// The agreement's history up to its clawback, as the scenario test and the journal
/// cross-check both run it. Answers the agreement's id.
pub async fn agreement_history(app: &TestApp) -> i64 {
    partner(app).await;
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "20000.00").await;
    app.allocate("LDF", "2024-25", "P1", "20000.00").await;
    let made = app.ok("/api/v1/commitments", Role::Finance, agreement_body()).await;
    let id = made["commitment_id"].as_i64().unwrap();
    // Tranches: £6,000 in October, £1,000 in January, £4,000 in April 2024.
    for (date, amount) in [("2023-10-05", "6000.00"), ("2024-01-10", "1000.00"), ("2024-04-10", "4000.00")] {
        let paid = app.ok("/api/v1/spend", Role::Finance, payment(date, amount, id)).await;
        assert_eq!(paid["covered_by_commitment"], amount, "{paid}");
    }
    app.ok(
        &format!("/api/v1/commitments/{id}/evidence"),
        Role::Finance,
        evidence("2024-02-01", "5500.00", "satisfactory"),
    )
    .await;
    app.ok(&format!("/api/v1/commitments/{id}/evidence"), Role::Finance, evidence("2024-07-01", "1000.00", "partial"))
        .await;
    // The partner kept £500 it could not spend: clawed back in October 2024.
    let claw = json!({ "grant": "LDF", "project": "P1", "date": "2024-10-15", "amount": "500.00",
        "reference": "CLAW-1", "reason": "Unspent grant returned under clause 7", "commitment_id": id });
    let clawed = app.ok("/api/v1/refunds", Role::Finance, claw).await;
    assert_eq!(clawed["commitment_id"], id);
    id
}

backend_test!(an_agreement_across_two_years_paid_evidenced_and_clawed_back, |app: TestApp| async move {
    let id = agreement_history(&app).await;
    // Each year's part is committed in its own award, and drawn down by its own tranches.
    assert_eq!(app.balance("committed:LDF:2023-24:P1").await, "0.00");
    assert_eq!(app.balance("committed:LDF:2024-25:P1").await, "-1000.00");
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-7000.00");
    // £4,000 paid in 2024-25 less the £500 clawed back.
    assert_eq!(app.balance("spent:LDF:2024-25:P1").await, "-3500.00");
    // 2024-25: 20,000 allocated − 1,000 committed − 3,500 spent.
    assert_eq!(app.balance("available:LDF:2024-25:P1").await, "-15500.00");

    let d = app.get(&format!("/api/v1/commitments/{id}"), Role::Viewer).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    let d = d.body;
    for (field, want) in [
        ("kind", "grant_agreement"),
        ("recipient", "SAFE"),
        ("recipient_name", "Safer Streets Trust"),
        ("supplier", "Safer Streets Trust"),
        ("start_date", "2023-10-01"),
        ("end_date", "2024-09-30"),
        ("financial_year", "2023-24"),
        ("amount", "12000.00"),
        ("paid", "11000.00"),
        ("clawed_back", "500.00"),
        ("outstanding", "1000.00"),
        ("evidenced", "6500.00"),
        // 11,000 − 500 − 6,500
        ("unevidenced", "4000.00"),
        ("evidence_status", "partial"),
    ] {
        assert_eq!(d[field], want, "{field} in {d}");
    }
    let parts = d["schedule"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(
        (&parts[0]["financial_year"], &parts[0]["amount"], &parts[0]["status"], &parts[0]["outstanding"]),
        (&json!("2023-24"), &json!("7000.00"), &json!("committed"), &json!("0.00"))
    );
    assert_eq!(
        (&parts[1]["financial_year"], &parts[1]["amount"], &parts[1]["status"], &parts[1]["outstanding"]),
        (&json!("2024-25"), &json!("5000.00"), &json!("committed"), &json!("1000.00"))
    );
    let payments = d["payments"].as_array().unwrap();
    let seen: Vec<(&str, &str, &str)> = payments
        .iter()
        .map(|p| (p["kind"].as_str().unwrap(), p["date"].as_str().unwrap(), p["amount"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("spend", "2023-10-05", "6000.00"),
            ("spend", "2024-01-10", "1000.00"),
            ("spend", "2024-04-10", "4000.00"),
            ("refund", "2024-10-15", "500.00"),
        ]
    );
    assert_eq!(payments[3]["memo"], "Unspent grant returned under clause 7");
    assert_eq!(d["evidence"].as_array().unwrap().len(), 2);

    // The list shows the agreement's parts too.
    let listed = app.get("/api/v1/commitments?project=P1", Role::Viewer).await;
    let item = &listed.body["items"][0];
    assert_eq!(item["kind"], "grant_agreement");
    assert_eq!(item["outstanding"], "1000.00");
    assert_eq!(item["schedule"].as_array().unwrap().len(), 2, "{item}");

    // 2023-24's year end returns its unspent £54,394 (41,394 unallocated, 13,000 of P1) and
    // moves nothing of the agreement: its 2024-25 part is in another award.
    let end = json!({ "carry_forward": "0", "return_to_funder": "54394.00", "reason": "year end" });
    app.ok("/api/v1/grants/LDF/awards/2023-24/year-end", Role::Approver, end).await;
    assert_eq!(app.balance("committed:LDF:2024-25:P1").await, "-1000.00");
    assert_eq!(app.get(&format!("/api/v1/commitments/{id}"), Role::Viewer).await.body["outstanding"], "1000.00");

    // The last £1,000 will not be paid: released in 2024-25, the part of the release's year.
    let r = app
        .ok(
            &format!("/api/v1/commitments/{id}/release"),
            Role::Finance,
            json!({ "date": "2024-10-20", "amount": "1000.00", "reason": "agreement ended" }),
        )
        .await;
    assert_eq!(r["outstanding"], "0.00");
    let d = app.get(&format!("/api/v1/commitments/{id}"), Role::Viewer).await.body;
    assert_eq!(d["outstanding"], "0.00");
    app.assert_verified().await;
    // hledger and bean-check agree with every balance after all of it.
    let (_, balances) = grant_ledger::storage::exports::journal(&app.store).await.unwrap();
    let ours: Vec<(String, String)> = balances.into_iter().map(|(a, m)| (a, m.to_string())).collect();
    let journal = app.get("/api/v1/exports/journal?format=hledger", Role::Funder).await;
    assert_eq!(journal.status, StatusCode::OK);
    crate::interchange::journals_agree(&app, journal.body.as_str().unwrap(), &ours).await;
});

backend_test!(a_part_waits_for_its_years_award_and_is_committed_later, |app: TestApp| async move {
    partner(&app).await;
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2024-25", "P1", "20000.00").await;
    // 2024-25 to 2025-26: LDF has no 2025-26 award yet, so that part waits.
    let mut body = agreement_body();
    body["financial_year"] = json!("2024-25");
    body["date"] = json!("2024-09-01");
    body["start_date"] = json!("2024-10-01");
    body["end_date"] = json!("2025-09-30");
    body["schedule"] = json!([{ "financial_year": "2024-25", "amount": "7000.00" }, { "financial_year": "2025-26", "amount": "5000.00" }]);
    let made = app.ok("/api/v1/commitments", Role::Finance, body).await;
    let id = made["commitment_id"].as_i64().unwrap();
    assert_eq!(made["outstanding"], "7000.00");
    assert_eq!(made["schedule"][1]["status"], "waiting", "{made}");
    assert_eq!(app.balance("committed:LDF:2024-25:P1").await, "-7000.00");

    let part = json!({ "financial_year": "2025-26", "date": "2025-04-01" });
    let path = format!("/api/v1/commitments/{id}/parts");
    // Before the award: refused, naming the year.
    refused(&app.post(&path, Role::Finance, part.clone()).await, StatusCode::UNPROCESSABLE_ENTITY, "financial_year");
    // A payment in 2025-26 cannot draw on a part not committed yet.
    app.ok(
        "/api/v1/grants/LDF/awards",
        Role::Approver,
        json!({ "financial_year": "2025-26", "amount": "61394.00", "awarded_on": "2025-03-01", "reference": "SCO 2025" }),
    )
    .await;
    app.allocate("LDF", "2025-26", "P1", "10000.00").await;
    let r = app.post(&path, Role::Finance, json!({ "financial_year": "2025-26", "date": "2024-12-01" })).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "date");
    let r = app.post(&path, Role::Finance, json!({ "financial_year": "2026-27", "date": "2026-04-01" })).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "financial_year");
    refused(&app.post(&path, Role::Viewer, part.clone()).await, StatusCode::FORBIDDEN, "");
    let done = app.ok(&path, Role::Finance, part.clone()).await;
    assert_eq!(done["amount"], "5000.00");
    assert_eq!(app.balance("committed:LDF:2025-26:P1").await, "-5000.00");
    // Twice is a conflict, and writes nothing.
    refused(&app.post(&path, Role::Finance, part).await, StatusCode::CONFLICT, "");
    assert_eq!(app.balance("committed:LDF:2025-26:P1").await, "-5000.00");
    let d = app.get(&format!("/api/v1/commitments/{id}"), Role::Viewer).await.body;
    assert_eq!(d["outstanding"], "12000.00");
    assert_eq!(d["schedule"][1]["status"], "committed");
    assert_eq!(d["evidence_status"], Value::Null);

    // Releasing what is left of the 2024-25 part leaves the 2025-26 part as it was.
    app.ok(
        &format!("/api/v1/commitments/{id}/release"),
        Role::Finance,
        json!({ "date": "2025-03-31", "amount": "7000.00", "reason": "moved" }),
    )
    .await;
    assert_eq!(app.balance("committed:LDF:2025-26:P1").await, "-5000.00");
    app.assert_verified().await;
});

/// Counts the rows a refusal must not add to.
async fn counts(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for table in ["entries", "commitments", "agreement_parts", "agreement_evidence", "audit_log"] {
        let n: i64 = sqlx::query_scalar::<_, i64>(&format!("select count(*) from {table}"))
            .fetch_one(app.store.pool())
            .await
            .unwrap_or(-1);
        out.push(format!("{table}={n}"));
    }
    out
}

backend_test!(bad_agreements_evidence_and_clawbacks_are_refused_writing_nothing, |app: TestApp| async move {
    let id = agreement_history(&app).await;
    let before = counts(&app).await;

    // An agreement whose yearly parts do not add up.
    let mut body = agreement_body();
    body["amount"] = json!("12000.01");
    refused(&app.post("/api/v1/commitments", Role::Finance, body).await, StatusCode::UNPROCESSABLE_ENTITY, "schedule");
    for (field, value, named) in [
        ("recipient", json!("NOBODY"), "recipient"),
        ("end_date", json!("2023-09-30"), "end_date"),
        ("schedule", json!([]), "schedule"),
        ("schedule", json!("7000"), "schedule"),
        ("schedule", json!([{ "financial_year": "2023-24", "amount": "-7000" }]), "schedule[0].amount"),
        ("schedule", json!([{ "financial_year": "2023-24", "amount": "12000.00", "extra": 1 }]), "schedule[0].extra"),
        (
            "schedule",
            json!([{ "financial_year": "2024-25", "amount": "7000.00" }, { "financial_year": "2023-24", "amount": "5000.00" }]),
            "schedule[1].financial_year",
        ),
        ("financial_year", json!("2024-25"), "financial_year"),
        ("purpose", json!(""), "purpose"),
        ("purpose", json!("a\u{7}b"), "purpose"),
        ("kind", json!("loan"), "kind"),
    ] {
        let mut body = agreement_body();
        body[field] = value;
        refused(&app.post("/api/v1/commitments", Role::Finance, body).await, StatusCode::UNPROCESSABLE_ENTITY, named);
    }
    // A purchase order with an agreement's terms.
    let mut po = agreement_body();
    po["kind"] = json!("purchase_order");
    po["supplier"] = json!("Acme");
    let r = app.post("/api/v1/commitments", Role::Finance, po).await;
    for field in ["recipient", "start_date", "end_date", "purpose", "schedule"] {
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, field);
    }

    // Evidence on a purchase order.
    let po = app
        .ok(
            "/api/v1/commitments",
            Role::Finance,
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "Acme", "amount": "10.00", "date": "2023-05-01" }),
        )
        .await;
    let po_id = po["commitment_id"].as_i64().unwrap();
    let before = {
        let mut b = before;
        b.clear();
        b.extend(counts(&app).await);
        b
    };
    let r = app
        .post(
            &format!("/api/v1/commitments/{po_id}/evidence"),
            Role::Finance,
            evidence("2024-02-01", "5.00", "satisfactory"),
        )
        .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "id");
    let path = format!("/api/v1/commitments/{id}/evidence");
    // More evidenced than was paid and neither evidenced nor clawed back: 11,000 − 500 − 6,500 = 4,000.
    refused(
        &app.post(&path, Role::Finance, evidence("2024-11-01", "4000.01", "satisfactory")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "amount_evidenced",
    );
    refused(
        &app.post(&path, Role::Finance, evidence("2024-11-01", "1.00", "none")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "amount_evidenced",
    );
    refused(
        &app.post(&path, Role::Finance, evidence("2024-11-01", "0.00", "partial")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "amount_evidenced",
    );
    refused(
        &app.post(&path, Role::Finance, evidence("2024-11-01", "1.00", "great")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "status",
    );
    refused(
        &app.post(&path, Role::Finance, evidence("2023-09-01", "1.00", "partial")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "date",
    );
    refused(
        &app.post(&path, Role::Approver, evidence("2024-11-01", "1.00", "partial")).await,
        StatusCode::FORBIDDEN,
        "",
    );
    refused(
        &app.post("/api/v1/commitments/999999/evidence", Role::Finance, evidence("2024-11-01", "1.00", "partial"))
            .await,
        StatusCode::NOT_FOUND,
        "",
    );

    // A clawback above what is neither evidenced nor clawed back (4,000), or tied to a purchase order.
    let claw = |amount: &str, commitment: i64| {
        json!({ "grant": "LDF", "project": "P1", "date": "2024-10-16", "amount": amount, "reference": "CLAW-2",
                "reason": "more back", "commitment_id": commitment })
    };
    refused(
        &app.post("/api/v1/refunds", Role::Finance, claw("4000.01", id)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "amount",
    );
    refused(
        &app.post("/api/v1/refunds", Role::Finance, claw("1.00", po_id)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "commitment_id",
    );
    refused(
        &app.post("/api/v1/refunds", Role::Finance, claw("1.00", 999_999)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "commitment_id",
    );
    // A payment in a year the agreement has no part in.
    let mut late = payment("2025-04-10", "1.00", id);
    late["date"] = json!("2022-10-10");
    refused(&app.post("/api/v1/spend", Role::Finance, late).await, StatusCode::UNPROCESSABLE_ENTITY, "commitment_id");
    // A part of a purchase order.
    let r = app
        .post(
            &format!("/api/v1/commitments/{po_id}/parts"),
            Role::Finance,
            json!({ "financial_year": "2024-25", "date": "2024-04-01" }),
        )
        .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "id");

    // Reversing the £6,000 tranche would leave £5,000 paid against £6,500 evidenced.
    let first_payment =
        app.get(&format!("/api/v1/commitments/{id}"), Role::Viewer).await.body["payments"][0]["entry_id"]
            .as_i64()
            .unwrap();
    let r = app
        .post(
            &format!("/api/v1/entries/{first_payment}/reverse"),
            Role::Finance,
            json!({ "date": "2024-11-01", "reason": "paid twice" }),
        )
        .await;
    refused(&r, StatusCode::CONFLICT, "");
    assert!(r.body["detail"].as_str().unwrap().contains("neither evidenced nor clawed back"), "{}", r.body);

    assert_eq!(counts(&app).await, before, "a refusal wrote something");
    let d = app.get(&format!("/api/v1/commitments/{id}"), Role::Viewer).await.body;
    assert_eq!((&d["evidenced"], &d["clawed_back"]), (&json!("6500.00"), &json!("500.00")));
    refused(&app.get("/api/v1/commitments/999999", Role::Viewer).await, StatusCode::NOT_FOUND, "");
    // The funder reads the agreement whole, as its dashboard lists it.
    assert_eq!(app.get(&format!("/api/v1/commitments/{id}"), Role::Funder).await.status, StatusCode::OK);
    app.assert_verified().await;
});

async fn exec(app: &TestApp, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(app.store.pool()).await.map(|_| ())
}

/// Drops (SQLite) or disables (PostgreSQL) the append-only triggers of `table`.
async fn unlock(app: &TestApp, table: &str) {
    use grant_ledger::storage::Backend;
    if app.store.backend() == Backend::Sqlite {
        exec(app, &format!("drop trigger if exists {table}_no_update")).await.unwrap();
        exec(app, &format!("drop trigger if exists {table}_no_delete")).await.unwrap();
    } else {
        exec(app, &format!("alter table {table} disable trigger {table}_append_only")).await.unwrap();
    }
}

async fn problems(app: &TestApp) -> Vec<String> {
    grant_ledger::storage::verify::verify(&app.store).await.unwrap()
}

backend_test!(an_agreement_altered_outside_the_ledger_is_named, |app: TestApp| async move {
    let id = agreement_history(&app).await;
    app.assert_verified().await;
    // The tables refuse changes outright.
    for sql in [
        format!("update commitments set purpose = 'other' where id = {id}"),
        format!("update agreement_parts set amount_pence = 1 where commitment_id = {id}"),
        format!("delete from agreement_evidence where commitment_id = {id}"),
    ] {
        assert!(exec(&app, &sql).await.is_err(), "{sql} was let through");
    }
    unlock(&app, "commitments").await;
    unlock(&app, "agreement_parts").await;
    let named = |found: Vec<String>, what: &str| {
        assert!(
            found.iter().any(|p| p.starts_with(&format!("commitment {id}:")) && p.contains(what)),
            "{what}: {found:#?}"
        );
    };
    exec(&app, &format!("update commitments set purpose = 'Something else' where id = {id}")).await.unwrap();
    named(problems(&app).await, "its purpose differs");
    exec(&app, &format!("update commitments set purpose = 'Detached youth outreach in the town centre', recipient = null where id = {id}"))
        .await
        .unwrap();
    named(problems(&app).await, "its recipient differs");
    exec(&app, &format!("update commitments set recipient = 'SAFE' where id = {id}")).await.unwrap();
    assert!(problems(&app).await.is_empty());
    // Moving £1,000 of the agreement from one year's part to the other.
    exec(
        &app,
        &format!(
            "update agreement_parts set amount_pence = 600000 where commitment_id = {id} and financial_year = '2023-24'"
        ),
    )
    .await
    .unwrap();
    exec(
        &app,
        &format!(
            "update agreement_parts set amount_pence = 600000 where commitment_id = {id} and financial_year = '2024-25'"
        ),
    )
    .await
    .unwrap();
    let found = problems(&app).await;
    named(found.clone(), "its amount or project differs");
    named(found, "not its part there");

    // Evidence raised, deleted or added behind the ledger's back.
    unlock(&app, "agreement_evidence").await;
    exec(
        &app,
        &format!(
            "update agreement_evidence set amount_pence = 900000 where commitment_id = {id} and status = 'partial'"
        ),
    )
    .await
    .unwrap();
    let found = problems(&app).await;
    assert!(
        found.iter().any(|p| p.starts_with(&format!("evidence {id}/")) && p.contains("differs from its audit record")),
        "{found:#?}"
    );
    exec(&app, &format!("delete from agreement_evidence where commitment_id = {id} and status = 'partial'"))
        .await
        .unwrap();
    let found = problems(&app).await;
    assert!(found.iter().any(|p| p.contains("in the audit trail but no longer stored")), "{found:#?}");
    exec(
        &app,
        &format!(
            "insert into agreement_evidence (commitment_id, evidence_date, amount_pence, status, note, created_by, created_at)
             values ({id}, '2024-08-01', 100, 'satisfactory', '', 'x', '2024-08-01T00:00:00Z')"
        ),
    )
    .await
    .unwrap();
    // SQLite may hand the new row the deleted row's id, whose audit record it then contradicts.
    let found = problems(&app).await;
    assert!(
        found.iter().any(|p| p.contains("has no audit record") || p.contains(&format!("evidence {id}/2: differs"))),
        "{found:#?}"
    );
});

backend_test!(evidence_clawbacks_and_part_commits_race_without_breaking_the_agreement, |app: TestApp| async move {
    let id = agreement_history(&app).await;
    // A second agreement whose 2025-26 part waits: two requests race to commit it.
    let mut body = agreement_body();
    body["financial_year"] = json!("2024-25");
    body["date"] = json!("2024-09-01");
    body["start_date"] = json!("2024-10-01");
    body["end_date"] = json!("2025-09-30");
    body["reference"] = json!("GA-2024-02");
    body["schedule"] = json!([{ "financial_year": "2024-25", "amount": "1000.00" }, { "financial_year": "2025-26", "amount": "1000.00" }]);
    body["amount"] = json!("2000.00");
    let second = app.ok("/api/v1/commitments", Role::Finance, body).await["commitment_id"].as_i64().unwrap();
    app.ok(
        "/api/v1/grants/LDF/awards",
        Role::Approver,
        json!({ "financial_year": "2025-26", "amount": "61394.00", "awarded_on": "2025-03-01", "reference": "SCO 2025" }),
    )
    .await;
    app.allocate("LDF", "2025-26", "P1", "5000.00").await;

    // Paid 11,000, clawed back 500, evidenced 6,500. Eight £500 evidence forms, six £1,000
    // clawbacks and two part commits, all at once.
    let app = std::sync::Arc::new(app);
    let mut handles = Vec::new();
    for i in 0..16 {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            let (path, body) = match i {
                0..8 => {
                    (format!("/api/v1/commitments/{id}/evidence"), evidence("2024-11-01", "500.00", "satisfactory"))
                }
                8..14 => (
                    "/api/v1/refunds".to_owned(),
                    json!({ "grant": "LDF", "project": "P1", "date": "2024-11-02", "amount": "1000.00",
                            "reference": format!("CLAW-{i}"), "reason": "race", "commitment_id": id }),
                ),
                _ => (
                    format!("/api/v1/commitments/{second}/parts"),
                    json!({ "financial_year": "2025-26", "date": "2025-04-01" }),
                ),
            };
            (i, app.post(&path, Role::Finance, body).await)
        }));
    }
    let mut commits = 0;
    for h in handles {
        let (i, r) = h.await.unwrap();
        match (r.status, i) {
            (StatusCode::CREATED, 14..) => commits += 1,
            (StatusCode::CREATED, _) | (StatusCode::UNPROCESSABLE_ENTITY, 0..14) => {}
            (StatusCode::CONFLICT, _) => {}
            other => panic!("unexpected answer {other:?}: {}", r.body),
        }
    }
    assert_eq!(commits, 1, "exactly one request commits the waiting part");
    assert_eq!(app.balance("committed:LDF:2025-26:P1").await, "-1000.00");
    let d = app.get(&format!("/api/v1/commitments/{id}"), Role::Viewer).await.body;
    let pence = |field: &str| grant_ledger::domain::Money::parse(d[field].as_str().unwrap()).unwrap().pence();
    assert!(pence("clawed_back") <= pence("paid"), "{d}");
    assert!(pence("evidenced") + pence("clawed_back") <= pence("paid"), "evidenced beyond what is paid: {d}");
    assert!(pence("evidenced") > 650_000, "some evidence got in: {d}");
    app.assert_verified().await;
});

backend_test!(the_cli_lists_shows_and_records_evidence, |app: TestApp| async move {
    let id = agreement_history(&app).await;
    let (ok, out, err) =
        app.cli(&["agreement", "list", "--financial-year", "2024-25", "--token", app.token(Role::Viewer)]);
    assert!(ok, "{err}");
    let line = out.lines().find(|l| l.contains("Safer Streets Trust")).unwrap_or_else(|| panic!("{out}"));
    for figure in ["5,000.00", "12,000.00", "11,000.00", "500.00", "6,500.00", "4,000.00", "1,000.00", "partial"] {
        assert!(line.contains(figure), "{figure} in {line}");
    }
    let (ok, out, err) = app.cli(&["agreement", "show", &id.to_string(), "--token", app.token(Role::Viewer)]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["unevidenced"], "4000.00");

    let evidence_args = |amount: &'static str, role: Role| {
        vec![
            "agreement".to_owned(),
            "evidence".to_owned(),
            id.to_string(),
            "--date".to_owned(),
            "2024-11-01".to_owned(),
            "--amount".to_owned(),
            amount.to_owned(),
            "--status".to_owned(),
            "satisfactory".to_owned(),
            "--token".to_owned(),
            app.token(role).to_owned(),
        ]
    };
    let run = |args: Vec<String>| app.cli(&args.iter().map(String::as_str).collect::<Vec<_>>());
    // Refused: more than is unevidenced, a bad amount, a role that may not; nothing written.
    for (amount, role, says) in [
        ("4000.01", Role::Finance, "--amount-evidenced"),
        ("lots", Role::Finance, "--amount"),
        ("1.00", Role::Viewer, "may not"),
    ] {
        let (ok, _, err) = run(evidence_args(amount, role));
        assert!(!ok && err.contains(says), "{amount}: {err}");
    }
    let d = app.get(&format!("/api/v1/commitments/{id}"), Role::Viewer).await.body;
    assert_eq!(d["evidenced"], "6500.00");
    let (ok, out, err) = run(evidence_args("4000.00", Role::Finance));
    assert!(ok, "{err}");
    assert!(out.contains("\"amount_evidenced\": \"4000.00\""), "{out}");
    let d = app.get(&format!("/api/v1/commitments/{id}"), Role::Viewer).await.body;
    assert_eq!((&d["evidenced"], &d["unevidenced"]), (&json!("10500.00"), &json!("0.00")));
});
