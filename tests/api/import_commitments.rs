//! Imported invoices settle their purchase orders: the generic layout's optional
//! `commitment_id` and `commitment_reference` columns, the transparency layout's "Purchase
//! order number" and a mapping file's own column name an order, and the line draws on it as
//! `POST /spend` does, by either engine. A reference no order carries, or more than one, and
//! every check `POST /spend` makes, refuse the line naming line and column.

use axum::http::StatusCode;
use grant_ledger::csv::mapping::Mapping;
use grant_ledger::model::import::{Engine, ImportOptions, ImportReport};
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::TestApp;

const HEADER: &str =
    "date,grant,project,supplier,description,invoice_ref,amount,source_ref,commitment_id,commitment_reference\n";

fn order(project: &str, reference: &str, amount: &str) -> Value {
    json!({ "grant": "LDF", "financial_year": "2023-24", "project": project, "supplier": "Youth Trust",
            "reference": reference, "amount": amount, "date": "2023-05-01" })
}

async fn run(app: &TestApp, file: &str, mapping: &Mapping, engine: Engine, dry_run: bool) -> ImportReport {
    let opts = ImportOptions { dry_run, created_by: "test", idem: None, engine };
    grant_ledger::csv::import_spend(&app.store, file.as_bytes(), mapping, opts, &|_| {}).await.unwrap()
}

/// Both engines, dry, give one report; then the bulk engine posts it for real.
async fn import(app: &TestApp, file: &str, mapping: &Mapping) -> ImportReport {
    let per_line = run(app, file, mapping, Engine::PerLine, true).await;
    let bulk = run(app, file, mapping, Engine::Bulk, true).await;
    assert_eq!(per_line, bulk, "the engines disagree on\n{file}");
    run(app, file, mapping, Engine::Bulk, false).await
}

backend_test!(imported_invoices_draw_on_their_purchase_orders, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.project("P2", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "5000").await;
    app.allocate("LDF", "2023-24", "P2", "5000").await;
    let po1 =
        app.ok("/api/v1/commitments", Role::Finance, order("P1", "PO-100", "1000")).await["commitment_id"].clone();
    let po2 = app.ok("/api/v1/commitments", Role::Finance, order("P2", "PO-200", "500")).await["commitment_id"].clone();

    // By reference, then by id: the second line takes what is left of the order and the
    // rest from the budget, as a spend through the API does.
    let file = format!(
        "{HEADER}2023-06-01,LDF,P1,Youth Trust,Sessions,INV-1,600.00,S-1,,PO-100\n\
         2023-06-02,LDF,P1,Youth Trust,Sessions,INV-2,\"1,000.00\",S-2,{po1},\n\
         2023-06-03,LDF,P2,Youth Trust,Sessions,INV-3,100.00,S-3,, PO-200 \n\
         2023-06-04,LDF,P2,Cafe,Lunch,INV-4,20.00,S-4,,\n"
    );
    let r = import(&app, &file, &Mapping::generic()).await;
    assert_eq!((r.accepted, r.rejected, r.posted), (4, 0, true), "{r:#?}");
    assert_eq!(app.balance("committed:LDF:2023-24:P1").await, "0.00");
    assert_eq!(app.balance("spent:LDF:2023-24:P1").await, "-1600.00");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-3400.00", "600 of the 1,600 from the budget");
    assert_eq!(app.balance("committed:LDF:2023-24:P2").await, "-400.00");
    let view = app.get(&format!("/api/v1/commitments/{po1}"), Role::Viewer).await;
    assert_eq!((view.body["outstanding"].clone(), view.body["paid"].clone()), (json!("0.00"), json!("1600.00")));
    assert_eq!(view.body["payments"].as_array().unwrap().len(), 2, "{}", view.body);

    // Each refusal names its line and column, by either engine, and posts nothing.
    app.ok("/api/v1/commitments", Role::Finance, order("P1", "PO-300", "10")).await;
    app.ok("/api/v1/commitments", Role::Finance, order("P1", "PO-300", "10")).await;
    let bad = format!(
        "{HEADER}2023-07-01,LDF,P1,S,Shared reference,I-1,1.00,B-1,,PO-300\n\
         2023-07-01,LDF,P1,S,Unknown reference,I-2,1.00,B-2,,PO-999\n\
         2023-07-01,LDF,P1,S,Unknown id,I-3,1.00,B-3,999,\n\
         2023-07-01,LDF,P1,S,Another project's order,I-4,1.00,B-4,,PO-200\n\
         2023-07-01,LDF,P1,S,Another project's order,I-5,1.00,B-5,{po2},\n\
         2023-04-20,LDF,P2,S,Before the order,I-6,1.00,B-6,,PO-200\n\
         2023-07-01,LDF,P2,S,A credit,I-7,(1.00),B-7,,PO-200\n\
         2023-07-01,LDF,P2,S,Not an id,I-8,1.00,B-8,PO-200,\n\
         2023-07-01,LDF,P2,S,Both,I-9,1.00,B-9,{po2},PO-200\n\
         2024-05-01,LDF,P2,S,Another year,I-10,1.00,B-10,{po2},\n\
         2023-07-01,LDF,P2,S,Fine,I-11,1.00,B-11,{po2},\n"
    );
    let r = import(&app, &bad, &Mapping::generic()).await;
    let named: Vec<(u64, &str)> = r.errors.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(
        named,
        [
            (2, "commitment_reference"),
            (3, "commitment_reference"),
            (4, "commitment_id"),
            (5, "commitment_reference"),
            (6, "commitment_id"),
            (7, "date"),
            (8, "commitment_reference"),
            (9, "commitment_id"),
            (10, "commitment_reference"),
            (11, "commitment_id"),
        ],
        "{r:#?}"
    );
    assert!(r.errors[0].message.contains("2 commitments have the reference \"PO-300\""), "{r:#?}");
    assert!(r.errors[1].message.contains("no commitment has the reference \"PO-999\""), "{r:#?}");
    assert!(r.errors[3].message.contains("project P2, not this spend's"), "{r:#?}");
    assert!(r.errors[5].message.contains("the date of commitment"), "{r:#?}");
    assert!(r.errors[6].message.contains("credit line"), "{r:#?}");
    assert_eq!((r.accepted, r.rejected, r.posted), (1, 10, false), "{r:#?}");
    assert_eq!(app.balance("committed:LDF:2023-24:P2").await, "-400.00", "nothing posted");

    // The transparency layout names the order by its number; a mapping file names the column.
    let transparency = "Body name,Date,Transaction number,Amount,Supplier name,Expense area,Expense type,Expense code,Extended description,Purchase order number\n\
                        Tamworth BC,01/08/2023,T-1,\"£150.00\",Youth Trust,P2,Grants,5001,August,PO-200\n";
    let r = import(&app, transparency, &Mapping::transparency().with_default_grant(Some("LDF".into()))).await;
    assert_eq!((r.accepted, r.posted), (1, true), "{r:#?}");
    assert_eq!(app.balance("committed:LDF:2023-24:P2").await, "-250.00");
    let mapping = Mapping::from_toml(
        "preset = \"transparency\"\ndefault_grant = \"LDF\"\n[columns]\ncommitment_reference = \"PO\"\nsource_ref = \"Ref\"\ninvoice_ref = \"Ref\"\n",
    )
    .unwrap();
    let file = "Date,Ref,Amount,Supplier name,Expense area,Expense type,Expense code,Extended description,PO\n\
                02/08/2023,M-1,50.00,Youth Trust,P2,Grants,5001,Late August,PO-200\n";
    let r = import(&app, file, &mapping).await;
    assert_eq!((r.accepted, r.posted), (1, true), "{r:#?}");
    assert_eq!(app.balance("committed:LDF:2023-24:P2").await, "-200.00");
    app.assert_verified().await;
});

backend_test!(an_imported_payment_draws_on_its_agreement_part, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "5000").await;
    app.allocate("LDF", "2024-25", "P1", "5000").await;
    let partner = json!({ "code": "SAFE", "name": "Safe Spaces", "kind": "vcse" });
    app.ok("/api/v1/organisations", Role::Approver, partner).await;
    let agreement = json!({ "kind": "grant_agreement", "grant": "LDF", "financial_year": "2023-24", "project": "P1",
        "reference": "GA-1", "amount": "3000", "date": "2023-09-20", "recipient": "SAFE",
        "start_date": "2023-10-01", "end_date": "2024-09-30", "purpose": "Outreach",
        "schedule": [ { "financial_year": "2023-24", "amount": "2000" }, { "financial_year": "2024-25", "amount": "1000" } ] });
    let id = app.ok("/api/v1/commitments", Role::Finance, agreement).await["commitment_id"].clone();
    // Each payment draws on the part of its own year.
    let file = format!(
        "{HEADER}2023-10-05,LDF,P1,Safe Spaces,First tranche,T-1,1500.00,G-1,,GA-1\n\
         2024-04-05,LDF,P1,Safe Spaces,Second tranche,T-2,1200.00,G-2,{id},\n"
    );
    let r = import(&app, &file, &Mapping::generic()).await;
    assert_eq!((r.accepted, r.posted), (2, true), "{r:#?}");
    assert_eq!(app.balance("committed:LDF:2023-24:P1").await, "-500.00");
    assert_eq!(app.balance("committed:LDF:2024-25:P1").await, "0.00");
    assert_eq!(app.balance("available:LDF:2024-25:P1").await, "-3800.00", "200 above the part from the budget");
    let view = app.get(&format!("/api/v1/commitments/{id}"), Role::Viewer).await;
    assert_eq!(view.body["paid"], "2700.00", "{}", view.body);
    let r = app.import_spend(format!("{HEADER}2023-09-01,LDF,P1,S,Before,T-3,1.00,G-3,{id},\n")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "date", "{}", r.body);
    app.assert_verified().await;
});
