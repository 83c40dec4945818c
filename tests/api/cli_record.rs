//! The recording commands (`grant-ledger allocate …`) run the real binary against the test
//! ledger: what they record reads back through the API, bad fields are all named at once
//! (exit 2), a ledger rule is named by its code (exit 3), and a caller without a token or
//! with the wrong role is refused (exit 1), writing nothing. Their flags are the properties
//! of the API's request body, each with its help.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use grant_ledger::cli::record::{self, Op};
use grant_ledger::storage::tokens::Role;
use serde_json::Value;

use crate::backend_test;
use crate::support::TestApp;

/// The binary's exit status, stdout and stderr, run against the test ledger. `token` goes in
/// GRANT_LEDGER_TOKEN; any such variable of the test's own environment is removed first.
fn cli(app: &TestApp, token: Option<&str>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"));
    cmd.args(args).env("DATABASE_URL", &app.url).env("RUST_LOG", "warn").env_remove("GRANT_LEDGER_TOKEN");
    if let Some(t) = token {
        cmd.env("GRANT_LEDGER_TOKEN", t);
    }
    let out = cmd.output().expect("running grant-ledger");
    (
        out.status.code().expect("exited, not killed"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn allocation<'a>(project: &'a str, amount: &'a str) -> Vec<&'a str> {
    vec![
        "allocate",
        "--grant",
        "LDF",
        "--financial-year",
        "2023-24",
        "--project",
        project,
        "--amount",
        amount,
        "--approved-on",
        "2023-03-16",
        "--approval-ref",
        "CSP minute 4",
    ]
}

async fn entry_count(app: &TestApp) -> usize {
    let r = app.get("/api/v1/entries?limit=500", Role::Viewer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["items"].as_array().unwrap().len()
}

backend_test!(an_allocation_recorded_by_the_cli_reads_back_through_the_api, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let approver = app.token(Role::Approver).to_owned();
    let mut args = allocation("P1", "1500");
    args.extend(["--memo", "from a script", "--token", &approver]);
    let (code, out, err) = cli(&app, None, &args);
    assert_eq!(code, 0, "{err}");
    let record: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("no JSON ({e}): {out}"));
    assert_eq!(record["amount"], "1500.00");
    assert_eq!(record["project"], "P1");
    assert_eq!(record["financial_year"], "2023-24");
    assert_eq!(record["memo"], "from a script");
    let id = record["entry_id"].as_i64().expect("the record names its entry");
    let entry = app.get(&format!("/api/v1/entries/{id}"), Role::Viewer).await;
    assert_eq!(entry.status, StatusCode::OK, "{}", entry.body);
    assert_eq!(entry.body["created_by"], "test approver", "recorded as the token's person: {}", entry.body);
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-1500.00");

    // The token from the environment, as a script would give it.
    let (code, out, err) = cli(&app, Some(&approver), &allocation("P1", "250.50"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"250.50\""), "{out}");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-1750.50");
    app.assert_verified().await;
});

backend_test!(every_bad_field_is_named_at_once_and_nothing_is_written, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let before = entry_count(&app).await;
    let approver = app.token(Role::Approver);
    let args = [
        "allocate",
        "--grant",
        "L D F",
        "--financial-year",
        "2023-25",
        "--project",
        "P1",
        "--amount",
        "-5",
        "--approved-on",
        "2023-02-30",
        "--token",
        approver,
    ];
    let (code, out, err) = cli(&app, None, &args);
    assert_eq!(code, 2, "bad fields exit 2: {out}{err}");
    assert!(out.is_empty(), "{out}");
    let named: BTreeSet<&str> = err.lines().filter_map(|l| l.split(": ").next()).collect();
    let want: BTreeSet<&str> =
        ["--grant", "--financial-year", "--amount", "--approved-on", "--approval-ref"].into_iter().collect();
    assert_eq!(named, want, "each bad flag on a line of its own: {err}");
    assert!(err.contains("--approval-ref: is required"), "{err}");
    assert_eq!(entry_count(&app).await, before);
});

backend_test!(over_allocation_exits_3_naming_the_rule, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let mut args = allocation("P1", "61394.01");
    let approver = app.token(Role::Approver).to_owned();
    args.extend(["--token", &approver]);
    let (code, out, err) = cli(&app, None, &args);
    assert_eq!(code, 3, "a ledger rule exits 3: {out}{err}");
    assert!(err.starts_with("over_allocation: "), "{err}");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "0.00");
    // The whole award is allowed.
    args[8] = "61394.00";
    let (code, _, err) = cli(&app, None, &args);
    assert_eq!(code, 0, "{err}");
});

backend_test!(a_caller_without_identity_or_the_role_is_refused, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let before = entry_count(&app).await;
    // No token at all: the flag is named.
    let (code, out, err) = cli(&app, None, &allocation("P1", "10"));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("--token") && err.contains("GRANT_LEDGER_TOKEN"), "{err}");
    // A token the ledger never issued.
    let mut args = allocation("P1", "10");
    let unknown = format!("gl_{}", "0".repeat(64));
    args.extend(["--token", &unknown]);
    let (code, _, err) = cli(&app, None, &args);
    assert_eq!(code, 1);
    assert!(err.contains("--token: is not a token of this ledger"), "{err}");
    // Roles the API refuses an allocation are refused here, before the fields are read.
    for role in [Role::Finance, Role::Viewer, Role::Funder] {
        let (code, out, err) = cli(&app, Some(app.token(role)), &["allocate", "--amount", "nonsense"]);
        assert_eq!(code, 1, "{role:?}: {out}{err}");
        assert!(err.starts_with("forbidden: "), "{role:?}: {err}");
        let api = app.post("/api/v1/allocations", role, serde_json::json!({})).await;
        assert_eq!(api.status, StatusCode::FORBIDDEN, "the API refuses {role:?} too");
    }
    assert_eq!(entry_count(&app).await, before, "nothing was written");
    // Admin may.
    let (code, _, err) = cli(&app, Some(app.token(Role::Admin)), &allocation("P1", "10"));
    assert_eq!(code, 0, "{err}");
});

/// A request body schema of the document, its `$ref` followed.
fn body_schema<'a>(doc: &'a Value, path: &str) -> &'a Value {
    let body = &doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"];
    match body["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => body,
    }
}

/// For every recording command, the flags are the properties of its API route's body,
/// walked from the served OpenAPI document: same names, same required ones, each with help.
#[test]
fn every_recording_commands_flags_are_its_api_bodys_properties() {
    let doc = grant_ledger::http::openapi::document();
    assert!(!Op::ALL.is_empty());
    for op in Op::ALL {
        let body = body_schema(&doc, op.path());
        let properties: BTreeSet<String> =
            body["properties"].as_object().unwrap_or_else(|| panic!("{op:?}: {body}")).keys().cloned().collect();
        let required: BTreeSet<String> =
            body["required"].as_array().into_iter().flatten().map(|r| r.as_str().unwrap().to_owned()).collect();

        let command = record::command(*op);
        let identity = ["token"];
        let flags: BTreeSet<String> = command
            .get_arguments()
            .filter_map(|a| a.get_long())
            .filter(|l| !identity.contains(l))
            .map(|l| l.replace('-', "_"))
            .collect();
        assert_eq!(flags, properties, "{}: flags against the body's properties", op.name());
        // The id of the route's path is the command's one argument.
        let positional: Vec<&str> = command.get_positionals().map(|a| a.get_id().as_str()).collect();
        let path_ids = op.path().matches("{id}").count();
        assert_eq!(positional.len(), path_ids, "{}: {positional:?} for {}", op.name(), op.path());
        for arg in command.get_arguments() {
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(!help.trim().is_empty(), "{} --{:?} has no help", op.name(), arg.get_long());
            if let Some(long) = arg.get_long().filter(|l| !identity.contains(l)) {
                let is_required = required.contains(&long.replace('-', "_"));
                assert_eq!(help.contains("[required]"), is_required, "{} --{long}: {help}", op.name());
            }
        }
    }
}

/// `--help` of each recording command shows every flag.
#[test]
fn each_recording_commands_help_lists_every_flag() {
    for op in Op::ALL {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
            .args([op.name(), "--help"])
            .output()
            .expect("running grant-ledger");
        assert!(out.status.success());
        let help = String::from_utf8_lossy(&out.stdout);
        for flag in record::flags(*op) {
            let line = help.lines().position(|l| l.trim_start().starts_with(&format!("--{} ", flag.long)));
            let line = line.unwrap_or_else(|| panic!("{} --help lacks --{}: {help}", op.name(), flag.long));
            let text: String = help.lines().skip(line).take(2).collect();
            let start: String = flag.help.chars().take(20).collect();
            assert!(text.contains(&start), "{}: --{}: {help}", op.name(), flag.long);
        }
        assert!(help.contains("--token"), "{help}");
    }
}
