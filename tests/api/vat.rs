//! VAT. Spend and refunds take `vat` and `vat_recoverable`; `amount` stays
//! net. Irrecoverable VAT is charged to the budget with the net (the `charged` figure, which
//! the overspend rule and rule 8 see); recoverable VAT is not. Figures by hand.

use axum::http::StatusCode;
use grant_ledger::csv::mapping::Mapping;
use grant_ledger::model::import::{Engine, ImportOptions, ImportReport};
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::{Reply, TestApp};

fn spend(amount: &str, vat: Option<&str>, recoverable: Option<bool>, supplier: &str) -> Value {
    let mut b = TestApp::spend_body("LDF", "P1", "2023-06-01", amount);
    b["supplier"] = json!(supplier);
    if let Some(v) = vat {
        b["vat"] = json!(v);
    }
    if let Some(r) = recoverable {
        b["vat_recoverable"] = json!(r);
    }
    b
}

fn refund(amount: &str, vat: &str, recoverable: bool, spend_entry_id: i64) -> Value {
    json!({ "grant": "LDF", "project": "P1", "date": "2023-07-01", "amount": amount, "vat": vat,
            "vat_recoverable": recoverable, "spend_entry_id": spend_entry_id, "reference": "CN-1",
            "reason": "credit note" })
}

fn refused(r: &Reply, status: StatusCode, field: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        assert!(r.fields().contains(&field.to_owned()), "expected {field} named: {}", r.body);
    }
}

async fn p1(app: &TestApp) -> (String, String) {
    (app.balance("available:LDF:2023-24:P1").await, app.balance("spent:LDF:2023-24:P1").await)
}

backend_test!(irrecoverable_vat_is_charged_to_the_budget_and_recoverable_vat_is_not, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "5000.00").await;

    // £1,000 net with £200 irrecoverable VAT: the budget bears £1,200.
    let a = app.ok("/api/v1/spend", Role::Finance, spend("1000.00", Some("200.00"), Some(false), "Hall Co")).await;
    assert_eq!(
        (&a["amount"], &a["vat"], &a["vat_recoverable"], &a["charged"]),
        (&json!("1000.00"), &json!("200.00"), &json!(false), &json!("1200.00"))
    );
    let a_id = a["entry_id"].as_i64().unwrap();
    assert_eq!(p1(&app).await, ("-3800.00".into(), "-1200.00".into()));
    let entry = app.get(&format!("/api/v1/entries/{a_id}"), Role::Viewer).await;
    assert_eq!(entry.status, StatusCode::OK, "{}", entry.body);
    let d = &entry.body["details"];
    assert_eq!(
        (&d["vat"], &d["vat_recoverable"], &d["charged"]),
        (&json!("200.00"), &json!(false), &json!("1200.00")),
        "{}",
        entry.body
    );

    // £600 net with £120 recoverable VAT (the default): the budget bears £600.
    let b = app.ok("/api/v1/spend", Role::Finance, spend("600.00", Some("120.00"), None, "Print Co")).await;
    assert_eq!((&b["vat_recoverable"], &b["charged"]), (&json!(true), &json!("600.00")));
    let b_id = b["entry_id"].as_i64().unwrap();
    assert_eq!(p1(&app).await, ("-3200.00".into(), "-1800.00".into()));

    // £3,000 net with £600 irrecoverable VAT is £3,600 on the budget, over the £3,200 left:
    // refused as overspend, nothing written. Recoverable, the same invoice fits.
    let r = app.post("/api/v1/spend", Role::Finance, spend("3000.00", Some("600.00"), Some(false), "Big Co")).await;
    refused(&r, StatusCode::CONFLICT, "");
    assert_eq!(r.code(), "overspend", "{}", r.body);
    assert_eq!(p1(&app).await, ("-3200.00".into(), "-1800.00".into()));
    let c = app.ok("/api/v1/spend", Role::Finance, spend("3000.00", Some("600.00"), Some(true), "Big Co")).await;
    assert_eq!(c["charged"], "3000.00");
    assert_eq!(p1(&app).await, ("-200.00".into(), "-4800.00".into()));
    // Spend without VAT is as before.
    let plain = app.ok("/api/v1/spend", Role::Finance, spend("10.00", None, None, "Tea Co")).await;
    assert_eq!((&plain["vat"], &plain["charged"]), (&Value::Null, &json!("10.00")));
    assert_eq!(p1(&app).await, ("-190.00".into(), "-4810.00".into()));

    // Refusals, each naming its field and writing nothing.
    let before = p1(&app).await;
    for (body, field) in [
        (refund("100.00", "120.00", false, a_id), "vat"), // more VAT than the refund itself
        (refund("600.00", "201.00", false, a_id), "vat"), // more than spend A's £200
        (refund("100.00", "10.00", false, b_id), "vat_recoverable"), // spend B's VAT was recoverable
        (refund("100.00", "-1.00", false, a_id), "vat"),
        (
            json!({ "grant": "LDF", "project": "P1", "date": "2023-07-01", "amount": "100.00", "vat_recoverable": "no", "reason": "x" }),
            "vat_recoverable",
        ),
        (
            json!({ "grant": "LDF", "project": "P1", "date": "2023-07-01", "amount": "100.00", "vat": 10, "reason": "x" }),
            "vat",
        ),
        (refund("100.00", "10.00", false, 1), "spend_entry_id"), // entry 1 is not a spend of P1
        (refund("100.00", "10.00", false, 999_999), "spend_entry_id"),
    ] {
        let r = app.post("/api/v1/refunds", Role::Finance, body.clone()).await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, field);
    }
    let r = app.post("/api/v1/spend", Role::Finance, spend("10.00", Some("1.999"), Some(false), "X")).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "vat");
    let r = app.post("/api/v1/spend", Role::Finance, spend("10.00", Some("1.00"), None, "X")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let mut bad = spend("10.00", Some("1.00"), None, "X");
    bad["vat_recoverable"] = json!("false");
    refused(&app.post("/api/v1/spend", Role::Finance, bad).await, StatusCode::UNPROCESSABLE_ENTITY, "vat_recoverable");
    assert_eq!(before, ("-190.00".into(), "-4810.00".into()));
    assert_eq!(p1(&app).await, ("-180.00".into(), "-4820.00".into()), "only the one good £10 spend was written");

    // A refund of £600 net and £120 irrecoverable VAT against spend A returns £720.
    let f = app.ok("/api/v1/refunds", Role::Finance, refund("600.00", "120.00", false, a_id)).await;
    assert_eq!(
        (&f["amount"], &f["vat"], &f["charged"], &f["spend_entry_id"]),
        (&json!("600.00"), &json!("120.00"), &json!("720.00"), &json!(a_id))
    );
    assert_eq!(p1(&app).await, ("-900.00".into(), "-4100.00".into()));

    // The Transparency export: Amount net, Irrecoverable VAT beside it; under £500 net left out.
    let r = app.get("/api/v1/exports/transparency?from=2023-04-01&to=2024-03-31", Role::Funder).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.body.as_str().unwrap().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    let dept = "Tamworth Community Safety Partnership (LDF)";
    assert_eq!(
        lines,
        vec![
            "Date,Department,Beneficiary,Purpose,Amount,Irrecoverable VAT,Merchant category",
            &format!("2023-06-01,{dept},Hall Co,Delivery,1000.00,200.00,"),
            &format!("2023-06-01,{dept},Print Co,Delivery,600.00,,"),
            &format!("2023-06-01,{dept},Big Co,Delivery,3000.00,,"),
            &format!("2023-07-01,{dept},Hall Co,Refund: credit note,-600.00,-120.00,"),
        ],
        "{text}"
    );

    // Reversing spend A takes back the gross £1,200, and the export shows the VAT negative.
    app.ok(
        &format!("/api/v1/entries/{a_id}/reverse"),
        Role::Finance,
        json!({ "date": "2023-08-01", "reason": "wrong" }),
    )
    .await;
    assert_eq!(p1(&app).await, ("-2100.00".into(), "-2900.00".into()));
    let r = app.get("/api/v1/exports/transparency?from=2023-08-01&to=2023-08-31", Role::Funder).await;
    assert!(r.body.as_str().unwrap().contains(",Reversal: wrong,-1000.00,-200.00,"), "{}", r.body);
    app.assert_verified().await;
});

const VAT_HEADER: &str = "date,grant,project,supplier,description,invoice_ref,amount,source_ref,vat,vat_recoverable\n";

async fn run(app: &TestApp, file: &str, engine: Engine, dry_run: bool) -> ImportReport {
    let opts = ImportOptions { dry_run, created_by: "test", idem: None, engine };
    grant_ledger::csv::import_spend(&app.store, file.as_bytes(), &Mapping::generic(), opts, &|_| {}).await.unwrap()
}

backend_test!(import_lines_with_vat_post_alike_on_both_engines, |app: TestApp| async move {
    app.project("P2", "ASB").await;
    app.project("P3", "ASB").await;
    app.allocate("LDF", "2023-24", "P2", "1000.00").await;
    app.allocate("LDF", "2023-24", "P3", "1000.00").await;
    let file = |project: &str| {
        format!(
            "{VAT_HEADER}2023-06-01,LDF,{project},Hall Co,Hall hire,I-1,100.00,{project}-1,20.00,false\n\
             2023-06-02,LDF,{project},Print Co,Leaflets,I-2,50.00,{project}-2,10.00,\n\
             2023-06-03,LDF,{project},Hall Co,Credit note,I-3,-25.00,{project}-3,-5.00,no\n"
        )
    };
    // £120 + £50 − £30 = £140 charged to each project, whichever engine posts the file.
    for (project, engine) in [("P2", Engine::PerLine), ("P3", Engine::Bulk)] {
        let r = run(&app, &file(project), engine, false).await;
        assert_eq!((r.accepted, r.rejected, r.posted), (3, 0, true), "{engine:?}: {r:?}");
        assert_eq!(app.balance(&format!("spent:LDF:2023-24:{project}")).await, "-140.00", "{engine:?}");
        assert_eq!(app.balance(&format!("available:LDF:2023-24:{project}")).await, "-860.00", "{engine:?}");
    }
    // A file without the VAT columns still imports (they are optional).
    let plain =
        "date,grant,project,supplier,description,invoice_ref,amount,source_ref\n2023-06-04,LDF,P2,S,D,I-4,1.00,P2-4\n";
    let r = run(&app, plain, Engine::Bulk, false).await;
    assert_eq!((r.accepted, r.posted), (1, true), "{r:?}");

    // Bad VAT: both engines refuse the same lines naming the same fields; nothing posts.
    let bad = format!(
        "{VAT_HEADER}2023-06-05,LDF,P2,S,Credit,I-5,-10.00,B-1,12.00,\n\
         2023-06-05,LDF,P2,S,D,I-6,10.00,B-2,abc,\n\
         2023-06-05,LDF,P2,S,D,I-7,10.00,B-3,1.00,maybe\n\
         2023-06-05,LDF,P2,S,D,I-8,10.00,B-4,-2.00,\n\
         2023-06-05,LDF,P2,S,D,I-9,10.00,B-5,2.00,false\n"
    );
    let per_line = run(&app, &bad, Engine::PerLine, false).await;
    let bulk = run(&app, &bad, Engine::Bulk, false).await;
    assert_eq!(per_line, bulk);
    let named: Vec<(u64, &str)> = bulk.errors.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(named, vec![(2, "vat"), (3, "vat"), (4, "vat_recoverable"), (5, "vat")], "{bulk:?}");
    assert_eq!((bulk.accepted, bulk.rejected, bulk.posted), (1, 4, false));
    assert_eq!(app.balance("spent:LDF:2023-24:P2").await, "-141.00");
    app.assert_verified().await;
});

backend_test!(the_transparency_layout_reads_its_irrecoverable_vat_column, |app: TestApp| async move {
    app.project("P4", "ASB").await;
    app.allocate("LDF", "2023-24", "P4", "1000.00").await;
    // The Code's own layout: its VAT column is irrecoverable VAT, so it is charged with the
    // net (£100 + £20, and £50 with none); a re-published export reads back the same.
    let file = "Date,Transaction number,Amount,Irrecoverable VAT,Supplier name,Expense area,Expense type,Expense code,Extended description\n\
                01/06/2023,T-1,£100.00,£20.00,Hall Co,P4,Hire,4401,Hall hire\n\
                02/06/2023,T-2,50.00,,Print Co,P4,Print,4402,Leaflets\n";
    let r = app
        .send_bytes(
            axum::http::Method::POST,
            "/api/v1/imports/spend?mapping=transparency&grant=LDF&dry_run=false",
            Role::Finance,
            "text/csv",
            file.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((&r.body["accepted"], &r.body["posted"]), (&json!(2), &json!(true)), "{}", r.body);
    assert_eq!(app.balance("spent:LDF:2023-24:P4").await, "-170.00");
    assert_eq!(app.balance("available:LDF:2023-24:P4").await, "-830.00");
    app.assert_verified().await;
});

backend_test!(refunds_naming_one_spend_are_held_to_what_is_left_of_it, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "5000.00").await;
    // £1,000 net with £200 irrecoverable VAT: £1,200 on the budget.
    let a = app.ok("/api/v1/spend", Role::Finance, spend("1000.00", Some("200.00"), Some(false), "Big Co")).await;
    let a_id = a["entry_id"].as_i64().unwrap();
    app.ok("/api/v1/refunds", Role::Finance, refund("600.00", "120.00", false, a_id)).await;
    // £400 net and £80 of VAT are left of it to refund.
    let before = p1(&app).await;
    let r = app.post("/api/v1/refunds", Role::Finance, refund("400.01", "0.00", false, a_id)).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "amount");
    let r = app.post("/api/v1/refunds", Role::Finance, refund("400.00", "80.01", false, a_id)).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "vat");
    assert_eq!(p1(&app).await, before, "refusals write nothing");
    let last = app.ok("/api/v1/refunds", Role::Finance, refund("400.00", "80.00", false, a_id)).await;
    assert_eq!(last["charged"], "480.00");
    // All of it is back: the budget bears nothing of spend A.
    assert_eq!(p1(&app).await, ("-5000.00".into(), "0.00".into()));
    let r = app.post("/api/v1/refunds", Role::Finance, refund("0.01", "0.00", false, a_id)).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "amount");
    // A reversed refund gives back its room.
    let id = last["entry_id"].as_i64().unwrap();
    app.ok(
        &format!("/api/v1/entries/{id}/reverse"),
        Role::Finance,
        json!({ "date": "2023-07-02", "reason": "posted twice" }),
    )
    .await;
    let mut again = refund("400.00", "80.00", false, a_id);
    again["date"] = json!("2023-07-03");
    app.ok("/api/v1/refunds", Role::Finance, again).await;
    app.assert_verified().await;
});

backend_test!(a_refund_of_a_reversed_spend_is_refused, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "1000.00").await;
    let bought = app.ok("/api/v1/spend", Role::Finance, spend("100.00", Some("20.00"), Some(false), "Cafe")).await;
    let id = bought["entry_id"].as_i64().unwrap();
    let path = format!("/api/v1/entries/{id}/reverse");
    let reversed = app.post(&path, Role::Finance, json!({ "date": "2023-06-02", "reason": "keyed twice" })).await;
    assert_eq!(reversed.status, StatusCode::CREATED, "{}", reversed.body);
    let before = p1(&app).await;
    let r = app.post("/api/v1/refunds", Role::Finance, refund("50.00", "10.00", false, id)).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "spend_entry_id");
    assert!(r.body.to_string().contains("was reversed by entry"), "{}", r.body);
    assert_eq!(p1(&app).await, before, "nothing written");
    app.assert_verified().await;
});
