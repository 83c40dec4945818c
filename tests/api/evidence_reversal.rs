//! Partners' evidence recorded in error is corrected by a reversal that names it, with a
//! reason (`POST /commitments/{id}/evidence/{evidence_id}/reverse`): the evidence stays as
//! recorded, stops counting, and the agreement's view, the dashboard and the CLI show the
//! corrected figures and the reversal with its reason. verify holds each reversal to its
//! audit record.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::agreements::{agreement_body, agreement_history};
use crate::backend_test;
use crate::pages::{send, sign_in};
use crate::support::TestApp;

fn reversal(date: &str, reason: &str) -> Value {
    json!({ "date": date, "reason": reason })
}

fn path(agreement: &Value, evidence: &Value) -> String {
    format!("/api/v1/commitments/{agreement}/evidence/{evidence}/reverse")
}

async fn detail(app: &TestApp, id: &Value) -> Value {
    app.get(&format!("/api/v1/commitments/{id}"), Role::Viewer).await.body
}

backend_test!(evidence_recorded_in_error_is_reversed_and_stops_counting, |app: TestApp| async move {
    let id = json!(agreement_history(&app).await);
    // Paid 11,000, clawed back 500; evidenced 5,500 (satisfactory) and 1,000 (partial).
    let before = detail(&app, &id).await;
    let (first, second) = (before["evidence"][0]["id"].clone(), before["evidence"][1]["id"].clone());
    assert_eq!((before["evidenced"].clone(), before["unevidenced"].clone()), (json!("6500.00"), json!("4000.00")));
    // Evidence above what is unevidenced is refused while the mistaken form still counts.
    let more = json!({ "date": "2024-08-01", "amount_evidenced": "4500.00", "status": "partial", "note": "receipts" });
    let r = app.post(&format!("/api/v1/commitments/{id}/evidence"), Role::Finance, more.clone()).await;
    assert_eq!(r.fields(), ["amount_evidenced"], "{}", r.body);

    // The July form was for another grant: reversed, with the reason.
    let r =
        app.post(&path(&id, &second), Role::Finance, reversal("2024-07-20", "The form was for another grant")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["evidence_id"], second);
    assert_eq!(r.body["commitment_id"], id);
    assert_eq!(r.body["date"], "2024-07-20");
    assert_eq!(r.body["created_by"], "test finance");
    // Kept as recorded, shown with its reversal; the figures leave it out.
    let after = detail(&app, &id).await;
    assert_eq!(after["evidence"][1]["amount_evidenced"], "1000.00", "the evidence itself is never edited");
    assert_eq!(after["evidence"][1]["reversal"]["reason"], "The form was for another grant", "{after}");
    assert_eq!(after["evidence"][0].get("reversal"), None, "{after}");
    assert_eq!((after["evidenced"].clone(), after["unevidenced"].clone()), (json!("5500.00"), json!("5000.00")));
    assert_eq!(after["evidence_status"], "satisfactory", "the latest evidence still standing");
    // Now the partner's real receipts fit.
    let r = app.post(&format!("/api/v1/commitments/{id}/evidence"), Role::Finance, more).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let third = r.body["id"].clone();

    // Reversed once only; another agreement's evidence, or none, is not found.
    let r = app.post(&path(&id, &second), Role::Finance, reversal("2024-07-21", "again")).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "already_reversed"), "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains(&format!("evidence {second}")), "{}", r.body);
    let mut body = agreement_body();
    body["reference"] = json!("GA-2023-02");
    let other = app.ok("/api/v1/commitments", Role::Finance, body).await["commitment_id"].clone();
    let po = json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "s", "amount": "1",
                     "date": "2023-10-01" });
    let po = app.ok("/api/v1/commitments", Role::Finance, po).await["commitment_id"].clone();
    for (agreement, evidence, code) in [
        (&other, &first, StatusCode::NOT_FOUND),
        (&id, &json!(999_999), StatusCode::NOT_FOUND),
        (&json!(999_999), &first, StatusCode::NOT_FOUND),
        (&po, &first, StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let r = app.post(&path(agreement, evidence), Role::Finance, reversal("2024-08-01", "r")).await;
        assert_eq!(r.status, code, "{agreement}/{evidence}: {}", r.body);
    }
    // Bad fields, each named; nothing is written.
    for (body, field) in [
        (reversal("2024-01-31", "before the evidence"), "date"),
        (reversal("2024-02-30", "no such day"), "date"),
        (json!({ "reason": "no date" }), "date"),
        (reversal("2024-08-01", ""), "reason"),
        (reversal("2024-08-01", "bell\u{7}"), "reason"),
        (json!({ "date": "2024-08-01", "reason": "r", "amount": "1" }), "amount"),
    ] {
        let r = app.post(&path(&id, &first), Role::Finance, body.clone()).await;
        assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec![field.to_owned()]), "{body}");
    }
    let r = app
        .post(&format!("/api/v1/commitments/{id}/evidence/0/reverse"), Role::Finance, reversal("2024-08-01", "r"))
        .await;
    assert_eq!(r.fields(), ["evidence_id"], "{}", r.body);
    // Roles as for recording evidence: finance and admin.
    for role in [Role::Viewer, Role::Approver, Role::Funder] {
        let r = app.post(&path(&id, &first), role, reversal("2024-08-01", "r")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role:?}");
    }
    assert_eq!(detail(&app, &id).await["evidenced"], "10000.00", "the refusals wrote nothing");
    // Under an Idempotency-Key the same request replays; admin may reverse too.
    let tok = app.token(Role::Admin).to_owned();
    let key = [("idempotency-key", "reverse-third")];
    let body = reversal("2024-08-02", "Receipts were copies of the July ones");
    let a = app.call(Method::POST, &path(&id, &third), Some(&tok), Some(body.clone()), &key).await;
    let b = app.call(Method::POST, &path(&id, &third), Some(&tok), Some(body), &key).await;
    assert_eq!((a.status, b.status), (StatusCode::CREATED, StatusCode::CREATED), "{}", b.body);
    assert_eq!(a.body, b.body);
    assert_eq!(detail(&app, &id).await["evidenced"], "5500.00");

    // The audit trail has each reversal, with who and why.
    let trail = app.get("/api/v1/audit?entity=evidence_reversal", Role::Viewer).await;
    let items = trail.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", trail.body);
    assert_eq!(items[1]["reason"], "The form was for another grant");
    assert_eq!(items[1]["key"], format!("{id}/{second}"));

    // The command line shows the reversal with the evidence, and reverses as finance.
    let finance = app.token(Role::Finance).to_owned();
    let (ok, out, err) = app.cli(&["agreement", "show", &id.to_string(), "--token", &finance]);
    let shown: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert!(ok && shown["evidence"][1]["reversal"]["reason"] == "The form was for another grant", "{out}");
    assert_eq!(shown["evidenced"], "5500.00");
    let args = ["agreement", "reverse-evidence", &id.to_string(), &first.to_string(), "--date", "2024-09-01"];
    let (ok, _, err) = app.cli(&[&args[..], &["--reason", " ", "--token", &finance]].concat());
    assert!(!ok && err.contains("reason"), "a blank reason: {err}");
    let (ok, out, err) = app.cli(&[&args[..], &["--reason", "Signed by nobody", "--token", &finance]].concat());
    assert!(ok && out.contains("Signed by nobody"), "{out}{err}");
    let (ok, _, err) = app.cli(&[&args[..], &["--reason", "twice", "--token", &finance]].concat());
    assert!(!ok && err.contains("already been reversed"), "{err}");
    let viewer = app.token(Role::Viewer).to_owned();
    let (ok, _, err) = app.cli(&[&args[..], &["--reason", "r", "--token", &viewer]].concat());
    assert!(!ok && err.contains("may not"), "{err}");
    let after = detail(&app, &id).await;
    assert_eq!((after["evidenced"].clone(), after["evidence_status"].clone()), (json!("0.00"), Value::Null));

    // The dashboard's partners' section: the corrected figures, and each reversal with its
    // reason, escaped.
    let evidence = json!({ "date": "2024-09-02", "amount_evidenced": "10.00", "status": "partial", "note": "" });
    let fourth = app.ok(&format!("/api/v1/commitments/{id}/evidence"), Role::Finance, evidence).await["id"].clone();
    app.ok(&path(&id, &fourth), Role::Finance, reversal("2024-09-03", "<b>typed</b> & wrong")).await;
    let cookie = sign_in(&app, Role::Viewer).await;
    let page = send(&app, "GET", "/dashboard?financial_year=2024-25", Some(&cookie), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    let row = page.text.split(&format!("<tr data-agreement=\"{id}\">")).nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(
        row.contains("<td class=\"num\">£0.00</td><td class=\"num\">£10,500.00</td>"),
        "evidenced, unevidenced: {row}"
    );
    let reversed = page.text.split("id=\"evidence-reversed\"").nth(1).expect("a table of reversed evidence");
    assert!(reversed.contains(&format!("<tr data-evidence=\"{second}\">")), "{reversed}");
    assert!(reversed.contains("<td>The form was for another grant</td>"), "{reversed}");
    assert!(reversed.contains("&lt;b&gt;typed&lt;/b&gt; &amp; wrong") && !reversed.contains("<b>typed"), "{reversed}");
    app.assert_verified().await;
});

// As for every race here, only the PostgreSQL run can catch a lock left out: SQLite's
// writer holds the whole database, so its racers never overlap.
backend_test!(two_reversals_of_one_evidence_at_once_post_one, |app: TestApp| async move {
    let id = json!(agreement_history(&app).await);
    let evidence = detail(&app, &id).await["evidence"][0]["id"].clone();
    let app = Arc::new(app);
    let mut handles = Vec::new();
    for n in 0..6 {
        let (app, path) = (app.clone(), path(&id, &evidence));
        handles.push(tokio::spawn(async move {
            loop {
                let r = app.post(&path, Role::Finance, reversal("2024-03-01", &format!("racer {n}"))).await;
                if r.status != StatusCode::SERVICE_UNAVAILABLE {
                    return r;
                }
            }
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        let r = h.await.unwrap();
        statuses.push((r.status, r.code().to_owned()));
    }
    statuses.sort();
    let created = statuses.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    assert_eq!(created, 1, "{statuses:?}");
    assert!(statuses.iter().all(|(s, c)| *s == StatusCode::CREATED || c == "already_reversed"), "{statuses:?}");
    assert_eq!(detail(&app, &id).await["evidenced"], "1000.00");
    app.assert_verified().await;
});

async fn exec(app: &TestApp, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(app.store.pool()).await.map(|_| ())
}

async fn problems(app: &TestApp) -> Vec<String> {
    grant_ledger::storage::verify::verify(&app.store).await.unwrap()
}

fn named(found: &[String], needle: &str) {
    assert!(found.iter().any(|p| p.starts_with("evidence reversal ") && p.contains(needle)), "{needle}: {found:#?}");
}

backend_test!(a_reversal_altered_outside_the_ledger_is_named, |app: TestApp| async move {
    let id = json!(agreement_history(&app).await);
    let d = detail(&app, &id).await;
    let (first, second) = (d["evidence"][0]["id"].clone(), d["evidence"][1]["id"].clone());
    app.ok(&path(&id, &second), Role::Finance, reversal("2024-07-20", "wrong grant")).await;
    app.assert_verified().await;
    // The table refuses changes with its own trigger, not a foreign key.
    for sql in [
        format!("update evidence_reversals set reason = 'other' where evidence_id = {second}"),
        format!("delete from evidence_reversals where evidence_id = {second}"),
    ] {
        let e = exec(&app, &sql).await.expect_err(&sql);
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    use grant_ledger::storage::Backend;
    if app.store.backend() == Backend::Sqlite {
        exec(&app, "drop trigger evidence_reversals_no_update").await.unwrap();
        exec(&app, "drop trigger evidence_reversals_no_delete").await.unwrap();
    } else {
        exec(&app, "alter table evidence_reversals disable trigger evidence_reversals_append_only").await.unwrap();
    }
    exec(&app, &format!("update evidence_reversals set reason = 'other' where evidence_id = {second}")).await.unwrap();
    named(&problems(&app).await, &format!("{id}/{second}: differs from its audit record"));
    exec(&app, &format!("delete from evidence_reversals where evidence_id = {second}")).await.unwrap();
    named(&problems(&app).await, &format!("{id}/{second}: in the audit trail but no longer stored"));
    // A reversal written straight into the table, of evidence the figures then leave out.
    exec(
        &app,
        &format!(
            "insert into evidence_reversals (evidence_id, commitment_id, reversal_date, reason, created_by, created_at)
             values ({first}, {id}, '2024-07-01', 'hidden', 'x', '2024-07-01T00:00:00Z')"
        ),
    )
    .await
    .unwrap();
    let found = problems(&app).await;
    named(&found, &format!("{id}/{first}: has no audit record"));
    // A reversal naming another agreement's evidence.
    let mut body = agreement_body();
    body["reference"] = json!("GA-2023-02");
    let other = app.ok("/api/v1/commitments", Role::Finance, body).await["commitment_id"].clone();
    exec(&app, &format!("update evidence_reversals set commitment_id = {other} where evidence_id = {first}"))
        .await
        .unwrap();
    named(&problems(&app).await, &format!("{other}/{first}: reverses no evidence of agreement {other}"));
    exec(&app, &format!("update evidence_reversals set reversal_date = 'soon' where evidence_id = {first}"))
        .await
        .unwrap();
    let found = problems(&app).await;
    assert!(found.iter().any(|p| p.contains("evidence_reversals") && p.contains("reversal_date")), "{found:#?}");
});
