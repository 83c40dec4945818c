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
    let env: Vec<(&str, &str)> = token.map(|t| ("GRANT_LEDGER_TOKEN", t)).into_iter().collect();
    cli_with(app, &env, None, args)
}

/// As `cli`, with these environment variables and, when given, this standard input.
fn cli_with(app: &TestApp, env: &[(&str, &str)], stdin: Option<&str>, args: &[&str]) -> (i32, String, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"));
    cmd.args(args).env("DATABASE_URL", &app.url).env("RUST_LOG", "warn");
    cmd.env_remove("GRANT_LEDGER_TOKEN").env_remove("GRANT_LEDGER_PASSWORD");
    cmd.envs(env.iter().copied()).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("running grant-ledger");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
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

backend_test!(a_user_records_with_their_password, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    for (name, role) in [("alice", "approver"), ("victor", "viewer")] {
        let body = serde_json::json!({ "username": name, "display_name": name, "role": role,
                                       "password": format!("{name}'s long passphrase") });
        let r =
            app.call(axum::http::Method::POST, "/api/v1/users", Some(app.token(Role::Admin)), Some(body), &[]).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let mut args = allocation("P1", "100");
    args.extend(["--user", "alice"]);
    // The password from the environment.
    let (code, out, err) = cli_with(&app, &[("GRANT_LEDGER_PASSWORD", "alice's long passphrase")], None, &args);
    assert_eq!(code, 0, "{err}");
    let id = serde_json::from_str::<Value>(&out).unwrap()["entry_id"].as_i64().unwrap();
    let entry = app.get(&format!("/api/v1/entries/{id}"), Role::Viewer).await;
    assert_eq!(entry.body["created_by"], "alice", "{}", entry.body);
    // From standard input; a token in the environment gives way to --user.
    let mut piped = args.clone();
    piped.push("--password-stdin");
    let env = [("GRANT_LEDGER_TOKEN", app.token(Role::Viewer))];
    let (code, _, err) = cli_with(&app, &env, Some("alice's long passphrase\n"), &piped);
    assert_eq!(code, 0, "{err}");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-200.00");

    // Refused: a wrong password, no password, a role that may not, both --user and --token.
    let (code, _, err) = cli_with(&app, &[], Some("not it\n"), &piped);
    assert_eq!((code, err.trim()), (1, "--user: no such live user, or not that password"));
    let (code, _, err) = cli_with(&app, &[], None, &args);
    assert_eq!(code, 1);
    assert!(err.contains("GRANT_LEDGER_PASSWORD") && err.contains("--password-stdin"), "{err}");
    let mut viewer = allocation("P1", "100");
    viewer.extend(["--user", "victor", "--password-stdin"]);
    let (code, _, err) = cli_with(&app, &[], Some("victor's long passphrase\n"), &viewer);
    assert_eq!(code, 1);
    assert!(err.starts_with("forbidden: "), "{err}");
    let mut both = args.clone();
    both.extend(["--token", app.token(Role::Approver)]);
    let (code, _, err) = cli_with(&app, &[("GRANT_LEDGER_PASSWORD", "alice's long passphrase")], None, &both);
    assert_eq!((code, err.trim()), (1, "--user: give --user or --token, not both"));
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-200.00");
});

/// Runs a recording as `token` and insists it succeeded; the record.
fn recorded(app: &TestApp, token: &str, args: &[&str]) -> Value {
    let (code, out, err) = cli(app, Some(token), args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {out}"))
}

backend_test!(each_recording_command_records_what_its_route_records, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let approver = app.token(Role::Approver).to_owned();
    let finance = app.token(Role::Finance).to_owned();
    let project = ["project", "--code", "P2", "--name", "Youth diversion", "--priority", "ASB", "--status", "active"];
    assert_eq!(recorded(&app, &approver, &project)["code"], "P2");
    let read = app.get("/api/v1/projects/P2", Role::Viewer).await;
    assert_eq!((read.body["name"].as_str(), read.body["priority"].as_str()), (Some("Youth diversion"), Some("ASB")));
    let award = ["--grant", "LDF", "--financial-year", "2023-24"];

    recorded(&app, &approver, &allocation("P1", "20000"));
    let vire = |amount: &'static str| {
        let rest = ["--from-project", "P1", "--to-project", "P2", "--amount", amount, "--approved-on", "2023-04-10"];
        [&["vire"][..], &award, &rest, &["--approval-ref", "CSP minute 5", "--reason", "moved"]].concat()
    };
    assert_eq!(recorded(&app, &approver, &vire("1000"))["status"], "posted");
    assert_eq!(app.balance("available:LDF:2023-24:P2").await, "-1000.00");
    // Above the approval threshold it waits for a second approver, as the API's 202.
    assert_eq!(recorded(&app, &approver, &vire("6000"))["status"], "pending");

    let po = ["--project", "P1", "--supplier", "Youth Trust", "--reference", "PO-1", "--amount", "5000"];
    let commitment = recorded(&app, &finance, &[&["commit"][..], &award, &po, &["--date", "2023-04-20"]].concat());
    assert_eq!(commitment["kind"], "purchase_order");
    let id = commitment["commitment_id"].as_i64().unwrap().to_string();
    let spend = recorded(
        &app,
        &finance,
        &[
            "spend",
            "--grant",
            "LDF",
            "--project",
            "P1",
            "--date",
            "2023-05-10",
            "--supplier",
            "Youth Trust",
            "--description",
            "Sessions",
            "--invoice-ref",
            "INV-1",
            "--amount",
            "2000",
            "--commitment-id",
            &id,
            "--vat-recoverable",
        ],
    );
    assert_eq!(spend["amount"], "2000.00", "{spend}");
    let release = recorded(
        &app,
        &finance,
        &["release", &id, "--date", "2023-06-01", "--amount", "1000", "--reason", "not needed"],
    );
    assert_eq!(release["outstanding"], "2000.00", "{release}");
    let refund = recorded(
        &app,
        &finance,
        &[
            "refund",
            "--grant",
            "LDF",
            "--project",
            "P1",
            "--date",
            "2023-06-02",
            "--amount",
            "100",
            "--reason",
            "credit note",
        ],
    );
    let refund_id = refund["entry_id"].as_i64().unwrap().to_string();
    let reversal = recorded(&app, &finance, &["reverse", &refund_id, "--date", "2023-06-03", "--reason", "in error"]);
    assert_eq!(reversal["reverses"].as_i64().unwrap().to_string(), refund_id);

    // What the API reads: 20000 less 1000 moved, less 5000 committed, of which 2000 spent
    // and 1000 released back; the refund reversed.
    assert_eq!(app.balance("committed:LDF:2023-24:P1").await, "-2000.00");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "-15000.00");
    let entry = app.get(&format!("/api/v1/entries/{}", spend["entry_id"]), Role::Viewer).await;
    assert_eq!(entry.body["created_by"], "test finance");

    // Refusals: finance may not reverse an allocation; a release of a commitment that is not
    // there names the rule's code; a bad id is a bad field.
    let first = app.get("/api/v1/entries?limit=500", Role::Viewer).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "allocation")
        .map(|e| e["id"].as_i64().unwrap().to_string())
        .unwrap();
    let (code, _, err) = cli(&app, Some(&finance), &["reverse", &first, "--date", "2023-06-03", "--reason", "r"]);
    assert_eq!((code, err.starts_with("forbidden: ")), (1, true), "{err}");
    let (code, _, err) =
        cli(&app, Some(&finance), &["release", "999999", "--date", "2023-06-01", "--amount", "1", "--reason", "r"]);
    assert_eq!((code, err.starts_with("not_found: ")), (1, true), "{err}");
    let (code, _, err) =
        cli(&app, Some(&finance), &["release", "x", "--date", "2023-06-01", "--amount", "1", "--reason", "r"]);
    assert_eq!((code, err.trim()), (2, "ID: must be a positive whole number"), "{err}");
    let (code, _, err) = cli(&app, Some(&finance), &["spend", "--vat-recoverable=maybe"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--vat-recoverable: must be true or false"), "{err}");
    app.assert_verified().await;
});

/// The forms a route's body takes in the document, each `$ref` followed: the one schema, or
/// each of its `oneOf` (a commitment: a purchase order or a grant agreement).
fn body_forms<'a>(doc: &'a Value, path: &str) -> Vec<&'a Value> {
    let resolve = |s: &'a Value| match s["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => s,
    };
    let body = resolve(&doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]);
    match body["oneOf"].as_array() {
        Some(forms) => forms.iter().map(resolve).collect(),
        None => vec![body],
    }
}

fn names(list: &Value) -> BTreeSet<String> {
    match list {
        Value::Object(map) => map.keys().cloned().collect(),
        Value::Array(items) => items.iter().map(|r| r.as_str().unwrap().to_owned()).collect(),
        _ => BTreeSet::new(),
    }
}

/// For every recording command, the flags are the properties of its API route's body (of
/// one of its forms), walked from the served OpenAPI document: the same names, the same
/// required ones marked, each with help; the id of the route's path is its one argument.
#[test]
fn every_recording_commands_flags_are_its_api_bodys_properties() {
    let doc = grant_ledger::http::openapi::document();
    assert!(Op::ALL.len() >= 8, "{:?}", Op::ALL);
    for op in Op::ALL {
        let command = record::command(*op);
        let identity = ["token", "user", "password-stdin"];
        let flags: BTreeSet<String> = command
            .get_arguments()
            .filter_map(|a| a.get_long())
            .filter(|l| !identity.contains(l))
            .map(|l| l.replace('-', "_"))
            .collect();
        let forms = body_forms(&doc, op.path());
        let body = forms.iter().find(|f| names(&f["properties"]) == flags).unwrap_or_else(|| {
            panic!("{}: flags {flags:?} are not the properties of a form of {}: {forms:#?}", op.name(), op.path())
        });
        let required = names(&body["required"]);
        for arg in command.get_arguments() {
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(!help.trim().is_empty(), "{} {:?} has no help", op.name(), arg.get_id());
            if let Some(long) = arg.get_long().filter(|l| !identity.contains(l)) {
                let is_required = required.contains(&long.replace('-', "_"));
                assert_eq!(help.contains("[required]"), is_required, "{} --{long}: {help}", op.name());
            }
        }
        let positional: Vec<&str> = command.get_positionals().map(|a| a.get_id().as_str()).collect();
        let path_ids = op.path().matches("{id}").count();
        assert_eq!(positional.len(), path_ids, "{}: {positional:?} for {}", op.name(), op.path());
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
            let named = |l: &str| {
                let rest = l.trim_start().strip_prefix(&format!("--{}", flag.long));
                rest.is_some_and(|r| r.starts_with([' ', '[']))
            };
            let line = help.lines().position(named);
            let line = line.unwrap_or_else(|| panic!("{} --help lacks --{}: {help}", op.name(), flag.long));
            let text: String = help.lines().skip(line).take(2).collect();
            let start: String = flag.help.chars().take(20).collect();
            assert!(text.contains(&start), "{}: --{}: {help}", op.name(), flag.long);
        }
        assert!(help.contains("--token"), "{help}");
    }
}
