//! Duplicate invoices: a spend or refund repeating one recorded and not reversed (same grant,
//! project, supplier or reference, invoice reference, amount and date) is refused with 409
//! `duplicate`, naming the entry it repeats, unless it is confirmed as a second invoice; an
//! import skips such lines as duplicates, by either engine; the Transparency file shows no
//! duplicate that was posted by mistake and reversed.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use grant_ledger::csv::mapping::Mapping;
use grant_ledger::model::import::{Engine, ImportOptions, ImportReport};
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::{Reply, TestApp};

const HEADER: &str = "date,grant,project,supplier,description,invoice_ref,amount,source_ref\n";

fn invoice() -> Value {
    json!({ "grant": "LDF", "project": "P1", "date": "2023-06-01", "supplier": "Youth Trust",
            "description": "Mentoring, May", "invoice_ref": "INV-7", "amount": "250.00" })
}

fn credit() -> Value {
    json!({ "grant": "LDF", "project": "P1", "date": "2023-06-10", "amount": "20.00", "reference": "CN-3",
            "reason": "Session cancelled" })
}

/// Insists on 409 `duplicate` naming entry `of`, in the detail too.
fn assert_duplicate(r: &Reply, of: &Value, what: &str) {
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "duplicate"), "{what}: {}", r.body);
    assert_eq!(&r.body["duplicate_of"], of, "{what}: {}", r.body);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("repeats entry {of}")), "{what}: {detail}");
    assert!(detail.contains("duplicate_of_entry_ok"), "{what}: the detail says how to confirm: {detail}");
}

backend_test!(a_repeated_invoice_is_refused_unless_confirmed, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.project("P2", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "5000").await;
    app.allocate("LDF", "2023-24", "P2", "5000").await;
    let first = app.ok("/api/v1/spend", Role::Finance, invoice()).await;
    let id = &first["entry_id"];

    // The same invoice again, also as typed differently (case, spaces), and with VAT: refused.
    let r = app.post("/api/v1/spend", Role::Finance, invoice()).await;
    assert_duplicate(&r, id, "the same body");
    let mut retyped = invoice();
    retyped["supplier"] = json!("  youth   TRUST ");
    retyped["invoice_ref"] = json!("inv-7");
    retyped["description"] = json!("typed again");
    assert_duplicate(&app.post("/api/v1/spend", Role::Finance, retyped).await, id, "retyped");
    let mut with_vat = invoice();
    with_vat["vat"] = json!("50.00");
    with_vat["vat_recoverable"] = json!(false);
    assert_duplicate(&app.post("/api/v1/spend", Role::Finance, with_vat).await, id, "the same net with VAT");
    // A refusal wrote nothing and saved no answer: the key may be used again.
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-250.00");
    let key = [("idempotency-key", "dup-1")];
    let tok = app.token(Role::Finance).to_owned();
    let r = app.call(Method::POST, "/api/v1/spend", Some(&tok), Some(invoice()), &key).await;
    assert_duplicate(&r, id, "under a key");

    // Any one field different is another invoice.
    for (field, value) in [
        ("project", json!("P2")),
        ("date", json!("2023-06-02")),
        ("supplier", json!("Youth Trust Ltd")),
        ("invoice_ref", json!("INV-8")),
        ("amount", json!("250.01")),
    ] {
        let mut body = invoice();
        body[field] = value;
        let r = app.post("/api/v1/spend", Role::Finance, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{field}: {}", r.body);
        assert_eq!(r.body.get("duplicate_of"), None, "{field}: {}", r.body);
    }

    // Confirmed as a real second invoice, it posts and records the entry it repeats.
    let mut again = invoice();
    again["duplicate_of_entry_ok"] = json!(true);
    let r = app.call(Method::POST, "/api/v1/spend", Some(&tok), Some(again.clone()), &key).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(&r.body["duplicate_of"], id, "{}", r.body);
    let second = r.body["entry_id"].clone();
    let entry = app.get(&format!("/api/v1/entries/{second}"), Role::Viewer).await;
    assert_eq!(&entry.body["details"]["duplicate_of"], id, "{}", entry.body);
    // A third is refused, naming the first; the flag on a fresh invoice records nothing.
    assert_duplicate(&app.post("/api/v1/spend", Role::Finance, invoice()).await, id, "a third");
    let mut fresh = invoice();
    fresh["invoice_ref"] = json!("INV-9");
    fresh["duplicate_of_entry_ok"] = json!(true);
    let r = app.ok("/api/v1/spend", Role::Finance, fresh).await;
    assert_eq!(r.get("duplicate_of"), None, "{r}");
    let mut bad = invoice();
    bad["duplicate_of_entry_ok"] = json!("yes");
    let r = app.post("/api/v1/spend", Role::Finance, bad).await;
    assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["duplicate_of_entry_ok".to_owned()]));

    // Only standing entries count: once the first is reversed the second stands for it, and
    // once both are, the invoice may be recorded again.
    let reverse = |entry: &Value| format!("/api/v1/entries/{entry}/reverse");
    app.ok(&reverse(id), Role::Finance, json!({ "date": "2023-06-05", "reason": "posted twice" })).await;
    assert_duplicate(&app.post("/api/v1/spend", Role::Finance, invoice()).await, &second, "after a reversal");
    app.ok(&reverse(&second), Role::Finance, json!({ "date": "2023-06-05", "reason": "wrong year" })).await;
    let third = app.ok("/api/v1/spend", Role::Finance, invoice()).await;
    assert_eq!(third.get("duplicate_of"), None, "{third}");

    // Refunds alike: the same reference, amount and date again.
    let refund = app.ok("/api/v1/refunds", Role::Finance, credit()).await;
    assert_duplicate(&app.post("/api/v1/refunds", Role::Finance, credit()).await, &refund["entry_id"], "a refund");
    let mut other = credit();
    other["reference"] = json!("CN-4");
    app.ok("/api/v1/refunds", Role::Finance, other).await;
    let mut confirmed = credit();
    confirmed["duplicate_of_entry_ok"] = json!(true);
    let r = app.ok("/api/v1/refunds", Role::Finance, confirmed).await;
    assert_eq!(r["duplicate_of"], refund["entry_id"], "{r}");
    // A refund never repeats a spend, nor a spend a refund.
    let mut like_spend = credit();
    like_spend["reference"] = json!("INV-7");
    like_spend["date"] = json!("2023-06-01");
    like_spend["amount"] = json!("250.00");
    app.ok("/api/v1/refunds", Role::Finance, like_spend).await;
    app.assert_verified().await;
});

// Only the PostgreSQL run can catch a check made outside the award's lock: SQLite's writer
// holds the whole database from `begin immediate`, so there the racers never overlap. (With
// the check moved before the lock, the PostgreSQL run posts seven of the eight.)
backend_test!(identical_spends_racing_post_once, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "5000").await;
    let app = Arc::new(app);
    let mut handles = Vec::new();
    for _ in 0..8 {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            loop {
                let r = app.post("/api/v1/spend", Role::Finance, invoice()).await;
                if r.status != StatusCode::SERVICE_UNAVAILABLE {
                    return r;
                }
            }
        }));
    }
    let mut replies = Vec::new();
    for h in handles {
        replies.push(h.await.unwrap());
    }
    let posted: Vec<&Reply> = replies.iter().filter(|r| r.status == StatusCode::CREATED).collect();
    assert_eq!(posted.len(), 1, "exactly one of the identical spends posts: {replies:?}");
    let id = &posted[0].body["entry_id"];
    for r in replies.iter().filter(|r| r.status != StatusCode::CREATED) {
        assert_duplicate(r, id, "a racing twin");
    }
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-250.00");
    // With the flag, every racer posts: each a confirmed second invoice of the first.
    let mut handles = Vec::new();
    for _ in 0..4 {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            let mut body = invoice();
            body["duplicate_of_entry_ok"] = json!(true);
            app.ok("/api/v1/spend", Role::Finance, body).await
        }));
    }
    for h in handles {
        assert_eq!(&h.await.unwrap()["duplicate_of"], id);
    }
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-1250.00");
    app.assert_verified().await;
});

async fn run_engine(app: &TestApp, file: &str, engine: Engine, dry_run: bool) -> ImportReport {
    let opts = ImportOptions { dry_run, created_by: "test", idem: None, engine };
    grant_ledger::csv::import_spend(&app.store, file.as_bytes(), &Mapping::generic(), opts, &|_| {}).await.unwrap()
}

backend_test!(an_import_skips_repeated_invoices_naming_what_each_repeats, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "5000").await;
    let spend = app.ok("/api/v1/spend", Role::Finance, invoice()).await;
    app.ok("/api/v1/refunds", Role::Finance, credit()).await;
    let earlier = app.import_spend(format!("{HEADER}2023-07-01,LDF,P1,S,D,I-1,10.00,ERP-1\n")).await;
    assert_eq!(earlier.body["accepted"], 1, "{}", earlier.body);
    let entry_of = |source_ref: &str| {
        let store = app.store.clone();
        let source_ref = source_ref.to_owned();
        async move {
            let row: (i64,) = sqlx::query_as("select id from entries where source_ref = $1")
                .bind(source_ref)
                .fetch_one(store.pool())
                .await
                .unwrap();
            row.0
        }
    };
    let erp1 = entry_of("ERP-1").await;
    let file = format!(
        "{HEADER}\
         2023-06-01,LDF,P1,youth trust,Mentoring again,INV-7,250.00,ERP-2\n\
         2023-07-02,LDF,P1,Cafe,Lunch,R-1,30.00,ERP-3\n\
         2023-07-02,LDF,P1,CAFE,Lunch twice,r-1,30,ERP-4\n\
         2023-07-05,LDF,P1,S,D,I-9,5.00,ERP-1\n\
         2023-07-05,LDF,P1,S,D,I-9,5.00,ERP-5\n\
         2023-06-10,LDF,P1,,Credit,CN-3,-20.00,ERP-6\n\
         2023-07-06,LDF,P1,S,Fine,I-10,1.00,ERP-5\n"
    );
    // The credit line names a supplier, where the recorded refund names none: another credit.
    let file = file.replace(",,Credit", ",Youth Trust,Credit");
    // Both engines skip the same lines; a dry run reports what the real run does.
    let mut dry = Vec::new();
    for engine in [Engine::PerLine, Engine::Bulk] {
        dry.push(run_engine(&app, &file, engine, true).await);
    }
    let r = run_engine(&app, &file, Engine::Bulk, false).await;
    for d in &dry {
        assert_eq!(*d, ImportReport { dry_run: true, posted: false, ..r.clone() }, "a dry run or the per-line engine");
    }
    assert_eq!((r.accepted, r.duplicates, r.rejected, r.posted), (3, 4, 0, true), "{r:#?}");
    let skipped: Vec<(u64, &str, Option<i64>, Option<u64>)> =
        r.duplicate_lines.iter().map(|d| (d.line, d.by, d.duplicate_of, d.duplicate_of_line)).collect();
    let spend_id = spend["entry_id"].as_i64().unwrap();
    assert_eq!(
        skipped,
        [
            (2, "invoice", Some(spend_id), None),
            (4, "invoice", None, Some(3)),
            (5, "source_ref", Some(erp1), None),
            (8, "source_ref", None, Some(6)),
        ],
        "{r:#?}"
    );
    // Over the API the report lists them too; a second run posts nothing.
    let again = app.import_spend(file).await;
    let counts = (again.body["accepted"].clone(), again.body["duplicates"].clone());
    assert_eq!(counts, (json!(0), json!(7)), "{}", again.body);
    let lines = &again.body["duplicate_lines"];
    assert_eq!(lines[0], json!({ "line": 2, "by": "invoice", "duplicate_of": spend_id }), "{}", again.body);
    assert_eq!(lines[1], json!({ "line": 3, "by": "source_ref", "duplicate_of": entry_of("ERP-3").await }));
    app.assert_verified().await;
});

backend_test!(the_transparency_file_leaves_out_a_duplicate_posted_by_mistake, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "5000").await;
    let mut big = invoice();
    big["amount"] = json!("900.00");
    let first = app.ok("/api/v1/spend", Role::Finance, big.clone()).await;
    // As a ledger recorded before duplicates were refused: the second posted, then reversed.
    big["duplicate_of_entry_ok"] = json!(true);
    let second = app.ok("/api/v1/spend", Role::Finance, big.clone()).await;
    let path = format!("/api/v1/entries/{}/reverse", second["entry_id"]);
    app.ok(&path, Role::Finance, json!({ "date": "2023-06-20", "reason": "paid twice by mistake" })).await;
    // A spend reversed for another reason still shows with its reversal.
    let mut other = invoice();
    other["invoice_ref"] = json!("INV-11");
    other["amount"] = json!("700.00");
    let wrong = app.ok("/api/v1/spend", Role::Finance, other).await;
    let path = format!("/api/v1/entries/{}/reverse", wrong["entry_id"]);
    app.ok(&path, Role::Finance, json!({ "date": "2023-06-21", "reason": "wrong project" })).await;
    let file = app.get("/api/v1/exports/transparency?from=2023-04-01&to=2024-03-31", Role::Funder).await;
    let text = file.body.as_str().unwrap();
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(lines.len(), 3, "the payment, and the other spend with its reversal:\n{text}");
    assert!(lines[0].contains("Youth Trust,\"Mentoring, May\",900.00"), "{text}");
    assert!(lines[1].contains(",700.00,"), "{text}");
    assert!(lines[2].contains("Reversal: wrong project,-700.00"), "{text}");
    assert!(!text.contains("paid twice"), "{text}");
    assert_eq!(second["duplicate_of"], first["entry_id"]);
    app.assert_verified().await;
});
