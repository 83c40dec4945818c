//! The commands beside the recording ones that send what the API takes as a body (evidence,
//! returns, tokens, cash, organisations, virement rejection, years, quarters, users,
//! schedules) take their flags from the same request type: `--help` shows a flag, with its
//! help, for every property of the route's body in the served OpenAPI document, and a bad
//! field is refused naming its flag (exit 2), writing nothing.

use grant_ledger::storage::tokens::Role;
use serde_json::Value;

use crate::backend_test;
use crate::support::TestApp;

/// Each command, the route whose body it sends, and the properties it takes otherwise than
/// as a flag (its argument, a password from standard input).
const COMMANDS: [(&[&str], &str, &str, &[&str]); 15] = [
    (&["agreement", "evidence"], "post", "/api/v1/commitments/{id}/evidence", &[]),
    (&["agreement", "reverse-evidence"], "post", "/api/v1/commitments/{id}/evidence/{evidence_id}/reverse", &[]),
    (&["return", "file"], "post", "/api/v1/returns", &[]),
    (&["token", "create"], "post", "/api/v1/tokens", &[]),
    (&["receipt"], "post", "/api/v1/receipts", &[]),
    (&["repayment"], "post", "/api/v1/repayments", &[]),
    (&["organisation", "add"], "post", "/api/v1/organisations", &[]),
    (&["organisation", "update"], "patch", "/api/v1/organisations/{code}", &[]),
    (&["virement", "reject"], "post", "/api/v1/virements/{id}/reject", &[]),
    (&["year", "close"], "post", "/api/v1/financial-years/{fy}/close", &[]),
    (&["year", "reopen"], "post", "/api/v1/financial-years/{fy}/reopen", &[]),
    (&["year", "end"], "post", "/api/v1/grants/{grant}/awards/{fy}/year-end", &[]),
    (&["quarter", "lock"], "post", "/api/v1/financial-years/{fy}/quarters/{q}/lock", &[]),
    (&["quarter", "unlock"], "post", "/api/v1/financial-years/{fy}/quarters/{q}/unlock", &[]),
    (&["user", "add"], "post", "/api/v1/users", &["username", "password"]),
];

/// A schema with its reference followed; an optional body (`oneOf` null or it) as it.
fn resolve(doc: &Value, schema: &Value) -> Value {
    if let Some(r) = schema["$ref"].as_str() {
        return doc.pointer(&r.replacen('#', "", 1)).cloned().unwrap_or(Value::Null);
    }
    let parts: Vec<&Value> = schema["oneOf"].as_array().into_iter().flatten().filter(|p| p["type"] != "null").collect();
    match parts.as_slice() {
        [one] => resolve(doc, one),
        _ => schema.clone(),
    }
}

/// The body schema of a route in the served document.
fn body_schema(doc: &Value, method: &str, path: &str) -> Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "no {method} {path} in the document");
    resolve(doc, &op["requestBody"]["content"]["application/json"]["schema"])
}

fn help(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
        .args(args)
        .arg("--help")
        .output()
        .expect("running grant-ledger");
    assert!(out.status.success(), "{args:?} --help: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The help of `--long` in a command's help: the text after the flag up to the next flag.
fn flag_help(help: &str, long: &str) -> Option<String> {
    let lines: Vec<&str> = help.lines().collect();
    let at = lines.iter().position(|l| {
        let rest = l.trim_start().strip_prefix(&format!("--{long}"));
        rest.is_some_and(|r| r.starts_with([' ', '[']))
    })?;
    let own = lines[at].trim_start().split_once("  ").map(|(_, h)| h.trim()).unwrap_or("");
    let more = lines[at + 1..].iter().take_while(|l| !l.trim_start().starts_with('-')).map(|l| l.trim());
    Some(std::iter::once(own).chain(more).collect::<Vec<_>>().join(" ").trim().to_owned())
}

/// `--help` of each command lists a flag, with help, for every property of its route's body,
/// `[required]` on those the body requires (unless the command gives a default).
#[test]
fn each_body_commands_help_lists_every_field_of_its_request_type() {
    let doc = grant_ledger::http::openapi::document();
    for (command, method, path, elsewhere) in COMMANDS {
        let schema = body_schema(&doc, method, path);
        let properties = schema["properties"].as_object().unwrap_or_else(|| panic!("{path}: {schema:#}"));
        let required: Vec<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        assert!(!properties.is_empty(), "{path} has no properties");
        let shown = help(command);
        for field in properties.keys() {
            if elsewhere.contains(&field.as_str()) {
                continue;
            }
            let long = field.replace('_', "-");
            let text = flag_help(&shown, &long).unwrap_or_else(|| panic!("{command:?} --help lacks --{long}: {shown}"));
            assert!(text.len() > 10, "{command:?} --{long} has no help: {text:?}");
            let defaulted = text.contains("[default: ");
            if required.contains(&field.as_str()) && !defaulted {
                assert!(text.contains("[required]"), "{command:?} --{long}: {text}");
            } else {
                assert!(!text.contains("[required]"), "{command:?} --{long}: {text}");
            }
        }
    }
    // `user add`: the username is its argument, the password never a flag.
    let shown = help(&["user", "add"]);
    assert!(shown.contains("<USERNAME>") && shown.contains("--password-stdin"), "{shown}");
    assert!(flag_help(&shown, "password").is_none(), "a password flag: {shown}");
    // `schedule set`: each part of `--instalment` is a property of an instalment of the body.
    let doc_schedule = body_schema(&doc, "put", "/api/v1/grants/{grant}/awards/{fy}/payment-schedule");
    let item = resolve(&doc, &doc_schedule["items"]);
    let text = flag_help(&help(&["schedule", "set"]), "instalment").expect("--instalment");
    for field in item["properties"].as_object().expect("an instalment's properties").keys() {
        assert!(text.contains(&format!("{}: ", field.to_uppercase())), "--instalment lacks {field}: {text}");
    }
}

/// The binary's exit status and stderr, run against the test ledger with no token in the
/// environment and an empty standard input.
fn run(app: &TestApp, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
        .args(args)
        .env("DATABASE_URL", &app.url)
        .env("RUST_LOG", "warn")
        .env_remove("GRANT_LEDGER_TOKEN")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("running grant-ledger");
    (out.status.code().expect("exited"), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// What a refusal must leave as it was: the entries, the audit trail, the tokens, the users.
async fn written(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    for path in ["/api/v1/entries?limit=500", "/api/v1/audit?limit=500", "/api/v1/tokens?limit=500", "/api/v1/users"] {
        out.push(app.get(path, Role::Admin).await.body);
    }
    out
}

backend_test!(each_body_command_refuses_a_bad_field_naming_its_flag, |app: TestApp| async move {
    let finance = app.token(Role::Finance).to_owned();
    let approver = app.token(Role::Approver).to_owned();
    let admin = app.token(Role::Admin).to_owned();
    let award = ["--grant", "LDF", "--financial-year", "2023-24"];
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec![
                "agreement",
                "evidence",
                "1",
                "--date",
                "2024-02-30",
                "--amount-evidenced",
                "1",
                "--status",
                "partial",
            ],
            &finance,
            "--date: ",
        ),
        // The old spelling of the flag still works, and is named by the new one.
        (
            vec!["agreement", "evidence", "1", "--date", "2024-02-01", "--amount", "lots", "--status", "partial"],
            &finance,
            "--amount-evidenced: ",
        ),
        (
            vec!["agreement", "evidence", "1", "--date", "2024-02-01", "--amount", "1", "--status", "most"],
            &finance,
            "--status: ",
        ),
        (vec!["agreement", "reverse-evidence", "1", "1", "--date", "2024-02-01"], &finance, "--reason: "),
        (vec!["return", "file", "--financial-year", "2023-24", "--quarter", "5"], &finance, "--quarter: "),
        (
            vec!["return", "file", "--financial-year", "2023-24", "--quarter", "1", "--kind", "annual"],
            &finance,
            "--kind: ",
        ),
        (
            [&["receipt"][..], &award, &["--date", "2023-05-01", "--amount", "ten", "--reference", "r"]].concat(),
            &finance,
            "--amount: ",
        ),
        (
            [&["repayment"][..], &award, &["--date", "2023-13-01", "--amount", "1", "--reference", "r"]].concat(),
            &finance,
            "--date: ",
        ),
        (vec!["organisation", "add", "--code", "S C", "--name", "x", "--kind", "public"], &approver, "--code: "),
        (vec!["organisation", "update", "--code", "YT", "--postcode", "B79"], &approver, "--postcode: "),
        (vec!["virement", "reject", "1"], &approver, "--reason: "),
        (vec!["year", "close", "2023-24", "--reason", "bad\u{1b}reason"], &admin, "--reason: "),
        (vec!["year", "reopen", "2023-24"], &admin, "--reason: "),
        (
            vec!["year", "end", "LDF", "2023-24", "--carry-forward", "-1", "--reason", "r"],
            &approver,
            "--carry-forward: ",
        ),
        (vec!["year", "end", "LDF", "2023-24", "--return", "x", "--reason", "r"], &approver, "--return-to-funder: "),
        (vec!["quarter", "lock", "--financial-year", "2023-24", "--quarter", "1"], &admin, "--reason: "),
        (
            vec!["quarter", "unlock", "--financial-year", "2023-24", "--quarter", "1", "--reason", " "],
            &admin,
            "--reason: ",
        ),
        (
            vec!["schedule", "set", "--grant", "LDF", "--financial-year", "2023-24", "--instalment", "2023-04-31:1"],
            &approver,
            "--instalment 1 (due_on): ",
        ),
    ];
    let before = written(&app).await;
    for (args, token, says) in &cases {
        let (code, err) = run(&app, &[&args[..], &["--token", token]].concat());
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.lines().any(|l| l.starts_with(says)), "{args:?}: expected a line starting {says:?}: {err}");
    }
    // The operator's commands take no token.
    for (args, says) in [
        (vec!["token", "create", "--name", "Jo Bloggs", "--role", "boss"], "--role: "),
        (vec!["token", "create", "--role", "viewer"], "--name: "),
        (vec!["user", "add", "carol", "--role", "boss"], "--role: "),
    ] {
        let (code, err) = run(&app, &args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.lines().any(|l| l.starts_with(says)), "{args:?}: expected a line starting {says:?}: {err}");
    }
    assert_eq!(written(&app).await, before, "a refusal wrote something");
    app.assert_verified().await;
});
