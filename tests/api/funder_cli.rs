//! The funder's cash and organisations from the CLI: `schedule show|set`, `receipt`, `repayment` and `organisation
//! list|add|update` run the real binary against the test ledger. Each records what the API
//! records, and each refusal names the flag, exits non-zero and writes nothing.

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::TestApp;

const SCHEDULE: &str = "/api/v1/grants/LDF/awards/2023-24/payment-schedule";

/// Runs the CLI and insists it succeeded, returning its output as JSON.
fn ok_json(app: &TestApp, args: &[&str]) -> Value {
    let (ok, out, err) = app.cli(args);
    assert!(ok, "{args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {out}"))
}

/// Runs the CLI and insists it failed naming `words`, returning its error output.
fn refused(app: &TestApp, args: &[&str], words: &[&str]) -> String {
    let (ok, out, err) = app.cli(args);
    assert!(!ok, "{args:?} should have been refused: {out}");
    for w in words {
        assert!(err.contains(w), "{args:?}: expected {w:?} in: {err}");
    }
    err
}

async fn audit_count(app: &TestApp, entity: &str) -> usize {
    let r = app.get(&format!("/api/v1/audit?entity={entity}"), Role::Viewer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["items"].as_array().unwrap().len()
}

/// The cash side's balances, which a refusal must leave as they were.
async fn cash_balances(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for a in ["cash", "received", "owed", "claimed"] {
        out.push(app.balance(&format!("{a}:LDF:2023-24")).await);
    }
    out
}

fn run(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn award<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["--grant", "LDF", "--financial-year", "2023-24"]);
    all
}

backend_test!(the_schedule_is_shown_and_set_from_the_command_line, |app: TestApp| async move {
    let approver = app.token(Role::Approver).to_owned();
    let viewer = app.token(Role::Viewer).to_owned();
    let finance = app.token(Role::Finance).to_owned();
    let set = award(&[
        "schedule",
        "set",
        "--instalment",
        "2024-01-31:12278.80:subject to evaluation: after the report",
        "--instalment",
        "2023-04-30:49115.20",
        "--token",
        &approver,
    ]);
    let want = json!([
        { "due_on": "2023-04-30", "amount": "49115.20", "condition": "" },
        { "due_on": "2024-01-31", "amount": "12278.80", "condition": "subject to evaluation: after the report" },
    ]);
    assert_eq!(ok_json(&app, &set), want);
    assert_eq!(app.get(SCHEDULE, Role::Funder).await.body, want, "the API reads what the CLI set");
    assert_eq!(ok_json(&app, &award(&["schedule", "show", "--token", &viewer])), want);
    assert_eq!(audit_count(&app, "payment_schedule").await, 1, "audited as the PUT route is");

    // Refusals, each naming the flag and writing nothing.
    let cases: [(Vec<&str>, &[&str]); 6] = [
        (
            award(&["schedule", "set", "--instalment", "2023-04-30:61394.01", "--token", &approver]),
            &["--instalment", "more than the award of 61394.00"],
        ),
        (
            award(&[
                "schedule",
                "set",
                "--instalment",
                "2023-02-30:1",
                "--instalment",
                "2023-05-01:-1",
                "--token",
                &approver,
            ]),
            &["--instalment 1 (due_on)", "--instalment 2 (amount)"],
        ),
        (
            award(&["schedule", "set", "--instalment", "2023-04-30", "--token", &approver]),
            &["--instalment 1", "DUE_ON:AMOUNT"],
        ),
        (
            award(&["schedule", "set", "--instalment", "2023-04-30:1:bad\u{1b}x", "--token", &approver]),
            &["condition", "control characters"],
        ),
        (award(&["schedule", "set", "--clear", "--token", &finance]), &["may not"]),
        (award(&["schedule", "set", "--token", &approver]), &["--instalment"]),
    ];
    for (args, words) in &cases {
        refused(&app, args, words);
    }
    let other = ["schedule", "set", "--grant", "LDF", "--financial-year", "2030-31", "--instalment", "2030-05-01:1"];
    refused(&app, &[&other[..], &["--token", &approver]].concat(), &["not found"]);
    let bad_year = ["schedule", "show", "--grant", "LDF", "--financial-year", "2023-25", "--token", &viewer];
    refused(&app, &bad_year, &["--financial-year"]);
    assert_eq!(app.get(SCHEDULE, Role::Funder).await.body, want, "refusals changed the schedule");
    assert_eq!(audit_count(&app, "payment_schedule").await, 1, "refusals audited something");

    // --clear empties it, as PUT [] does.
    assert_eq!(ok_json(&app, &award(&["schedule", "set", "--clear", "--token", &approver])), json!([]));
    assert_eq!(app.get(SCHEDULE, Role::Funder).await.body, json!([]));
    app.assert_verified().await;
});

backend_test!(receipts_and_repayments_are_recorded_from_the_command_line, |app: TestApp| async move {
    let finance = app.token(Role::Finance).to_owned();
    let approver = app.token(Role::Approver).to_owned();
    let cash = |what: &'static str, date: &'static str, amount: &'static str, reference: &'static str, token: &str| {
        let mut args = award(&[what, "--date", date, "--amount", amount, "--reference", reference]);
        args.extend(["--token", token]);
        args.into_iter().map(str::to_owned).collect::<Vec<String>>()
    };

    let r = ok_json(&app, &run(&cash("receipt", "2023-04-20", "49115.20", "SCO remittance 1", &finance)));
    assert_eq!(
        (&r["grant"], &r["financial_year"], &r["amount"], &r["received"], &r["owed_to_funder"]),
        (&json!("LDF"), &json!("2023-24"), &json!("49115.20"), &json!("49115.20"), &json!("0.00")),
        "{r}"
    );
    assert!(r["entry_id"].as_i64().is_some(), "{r}");
    assert_eq!(app.balance("received:LDF:2023-24").await, "-49115.20");
    let entry = app.get(&format!("/api/v1/entries/{}", r["entry_id"]), Role::Viewer).await;
    assert_eq!(entry.body["kind"], "receipt", "{}", entry.body);

    // Receipt refusals: each names its flag and writes nothing.
    let before = cash_balances(&app).await;
    let receipt_refusals: [(Vec<String>, &[&str]); 6] = [
        (cash("receipt", "2023-05-01", "12278.81", "too much", &finance), &["--amount", "more than the award"]),
        (cash("receipt", "2023-05-01", "ten", "x", &finance), &["--amount"]),
        (cash("receipt", "2023-05-01", "0", "x", &finance), &["--amount"]),
        (cash("receipt", "2024-04-01", "1.00", "x", &finance), &["--date"]),
        (cash("receipt", "2023-05-01", "1.00", "", &finance), &["--reference", "is required"]),
        (cash("receipt", "2023-05-01", "1.00", "x", &approver), &["may not"]),
    ];
    for (args, words) in &receipt_refusals {
        refused(&app, &run(args), words);
    }
    let mut no_grant = cash("receipt", "2023-05-01", "1.00", "x", &finance);
    let at = no_grant.iter().position(|a| a == "--grant").unwrap() + 1;
    no_grant[at] = "NOPE".to_owned();
    refused(&app, &run(&no_grant), &["--grant"]);
    assert_eq!(cash_balances(&app).await, before, "a refused receipt wrote to the cash accounts");

    // Nothing is owed until a year end returns money: £10,000 returned, the rest carried.
    refused(&app, &run(&cash("repayment", "2024-03-26", "0.01", "early", &finance)), &["--amount", "owed"]);
    let r = app
        .post(
            "/api/v1/grants/LDF/awards/2023-24/year-end",
            Role::Approver,
            json!({ "carry_forward": "51394.00", "return_to_funder": "10000.00", "date": "2024-03-25", "reason": "year end" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let before = cash_balances(&app).await;
    refused(&app, &run(&cash("repayment", "2024-03-26", "10000.01", "too much", &finance)), &["--amount", "owed"]);
    refused(&app, &run(&cash("repayment", "2024-03-24", "100.00", "before the year end", &finance)), &["2024-03-24"]);
    refused(&app, &run(&cash("repayment", "2024-03-26", "1.00", "x", &approver)), &["may not"]);
    assert_eq!(cash_balances(&app).await, before, "a refused repayment wrote to the cash accounts");

    let r = ok_json(&app, &run(&cash("repayment", "2024-03-26", "4000.00", "BACS 1", &finance)));
    assert_eq!(
        (&r["amount"], &r["owed_to_funder"], &r["received"]),
        (&json!("4000.00"), &json!("6000.00"), &json!("49115.20"))
    );
    let entry = app.get(&format!("/api/v1/entries/{}", r["entry_id"]), Role::Viewer).await;
    assert_eq!(entry.body["kind"], "repayment", "{}", entry.body);
    assert_eq!(app.balance("owed:LDF:2023-24").await, "-6000.00");
    app.assert_verified().await;
});

backend_test!(organisations_are_listed_added_and_changed_from_the_command_line, |app: TestApp| async move {
    let approver = app.token(Role::Approver).to_owned();
    let viewer = app.token(Role::Viewer).to_owned();
    let finance = app.token(Role::Finance).to_owned();
    assert_eq!(ok_json(&app, &["organisation", "list", "--token", &viewer]), json!([]));
    let added = ok_json(
        &app,
        &[
            "organisation",
            "add",
            "--code",
            "YT",
            "--name",
            "Tamworth Youth Trust",
            "--kind",
            "vcse",
            "--charity-number",
            "1123456",
            "--company-number",
            "01234567",
            "--org-id",
            "GB-CHC-1123456",
            "--postcode",
            "b79 7bz",
            "--token",
            &approver,
        ],
    );
    let want = json!({ "code": "YT", "name": "Tamworth Youth Trust", "kind": "vcse", "charity_number": "1123456",
                       "company_number": "01234567", "org_id": "GB-CHC-1123456", "postcode": "B79 7BZ" });
    assert_eq!(added, want);
    assert_eq!(app.get("/api/v1/organisations/YT", Role::Viewer).await.body, want, "the API reads what the CLI added");
    assert_eq!(audit_count(&app, "organisation").await, 1);

    // Refusals of an addition: the same shape checks as the route, each flag named.
    let add = |extra: &[&'static str]| {
        let mut args =
            vec!["organisation", "add", "--code", "SCC", "--name", "Staffordshire County Council", "--kind", "public"];
        args.extend_from_slice(extra);
        args
    };
    let cases: [(Vec<&str>, &[&str]); 7] = [
        (add(&["--postcode", "B79"]), &["--postcode", "UK postcode"]),
        (add(&["--charity-number", "12345"]), &["--charity-number"]),
        (add(&["--company-number", "1234567"]), &["--company-number"]),
        (add(&["--org-id", "GBCHC1"]), &["--org-id"]),
        (
            vec!["organisation", "add", "--code", "SCC", "--name", "x", "--kind", "charity"],
            &["--kind", "vcse, public, private"],
        ),
        (vec!["organisation", "add", "--code", "S C", "--name", "x", "--kind", "public"], &["--code"]),
        (vec!["organisation", "add", "--code", "YT", "--name", "again", "--kind", "public"], &["already exists"]),
    ];
    for (args, words) in &cases {
        refused(&app, &[&args[..], &["--token", &approver]].concat(), words);
    }
    refused(&app, &[&add(&[])[..], &["--token", &finance]].concat(), &["may not"]);
    let listed = ok_json(&app, &["organisation", "list", "--token", &viewer]);
    assert_eq!(listed, json!([want]), "refusals added nothing");
    assert_eq!(audit_count(&app, "organisation").await, 1, "refusals audited nothing");

    // A change: a new kind and postcode, a cleared charity number.
    let changed = ok_json(
        &app,
        &[
            "organisation",
            "update",
            "--code",
            "YT",
            "--kind",
            "private",
            "--postcode",
            "sw1a1aa",
            "--charity-number",
            "",
            "--token",
            &approver,
        ],
    );
    assert_eq!(
        (&changed["kind"], &changed["postcode"], &changed["charity_number"], &changed["name"]),
        (&json!("private"), &json!("SW1A 1AA"), &json!(""), &json!("Tamworth Youth Trust"))
    );
    assert_eq!(audit_count(&app, "organisation").await, 2);
    let update_refusals: [(Vec<&str>, &[&str]); 5] = [
        (vec!["--code", "YT", "--org-id", "nope"], &["--org-id"]),
        (vec!["--code", "YT", "--name", "  "], &["--name", "blank"]),
        (vec!["--code", "YT", "--name", "bad\u{1b}name"], &["--name", "control characters"]),
        (vec!["--code", "YT"], &["give a field to change"]),
        (vec!["--code", "NOPE", "--name", "x"], &["not found"]),
    ];
    for (args, words) in &update_refusals {
        refused(&app, &[&["organisation", "update"][..], &args[..], &["--token", &approver]].concat(), words);
    }
    refused(&app, &["organisation", "update", "--code", "YT", "--name", "x", "--token", &finance], &["may not"]);
    let r = app.get("/api/v1/organisations/YT", Role::Viewer).await;
    assert_eq!(r.body, changed, "refusals changed the organisation");
    assert_eq!(audit_count(&app, "organisation").await, 2, "refusals audited nothing");
    app.assert_verified().await;
});
