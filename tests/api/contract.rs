//! The contract is the code: the document at /openapi.json is generated from the handlers,
//! and here every documented operation is routed, every routed method is documented, every
//! schema it names exists, and the value schemas mean what the parsers accept.

use axum::http::{Method, StatusCode};
use grant_ledger::domain::{FinancialYear, Money};
use grant_ledger::http::openapi;
use grant_ledger::storage::tokens::Role;
use serde_json::Value;

use crate::backend_test;
use crate::support::TestApp;

/// One documented operation.
pub struct Operation {
    pub method: String,
    pub path: String,
    pub description: String,
    pub op: Value,
}

/// Every operation of the served document.
pub fn operations() -> Vec<Operation> {
    let doc = serde_json::to_value(openapi::document()).unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let description = op["description"].as_str().unwrap_or_default().to_owned();
            ops.push(Operation { method: method.clone(), path: path.clone(), description, op: op.clone() });
        }
    }
    ops
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// A concrete path for a documented one, with parameters that name nothing.
fn concrete(path: &str) -> String {
    path.replace("{fy}", "2099-00").replace("{grant}", "NOPE").replace("{code}", "NOPE").replace("{id}", "999999")
}

/// Routed: answered by a handler, not by the fallback ("route not found") or with 405.
fn routed(status: StatusCode, body: &Value) -> bool {
    status != StatusCode::METHOD_NOT_ALLOWED && body["detail"] != "route not found"
}

backend_test!(every_documented_operation_is_routed_and_no_other_method_is, |app: TestApp| async move {
    let ops = operations();
    assert!(ops.len() >= 55, "{} operations", ops.len());
    let admin = app.token(Role::Admin).to_owned();
    for path in ops.iter().map(|o| o.path.clone()).collect::<std::collections::BTreeSet<_>>() {
        for method in METHODS {
            let documented = ops.iter().any(|o| o.path == path && o.method == method);
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app.call(m, &concrete(&path), Some(&admin), None, &[]).await;
            assert_eq!(
                routed(r.status, &r.body),
                documented,
                "{method} {path}: documented {documented}, answered {}",
                r.status
            );
        }
    }
    // Paths that are in no document are not routed either (but for the reference itself).
    for path in ["/api/v1/nothing", "/api/v1", "/api/v1/entries/1/postings", "/admin"] {
        let r = app.call(Method::GET, path, Some(&admin), None, &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    let r = app.call(Method::GET, "/docs/", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "the reference is served");
    assert!(r.body.as_str().unwrap().contains("swagger-ui"), "{}", r.body);
    // Nothing is fetched from elsewhere: the page and its script name no other site.
    for asset in ["/docs/", "/docs/swagger-initializer.js"] {
        let text = app.call(Method::GET, asset, None, None, &[]).await.body.as_str().unwrap().to_owned();
        assert!(!text.contains("http://") && !text.contains("https://"), "{asset}: {text}");
    }
    let js = app.call(Method::GET, "/docs/swagger-initializer.js", None, None, &[]).await;
    assert!(js.body.as_str().unwrap().contains(r#""validatorUrl": "none""#), "{}", js.body);
});

/// The only place a route may be added is `routes!`, which documents it: no `.route(` in the
/// HTTP layer, so nothing can be served without the document knowing.
#[test]
fn routes_are_only_added_through_their_documentation() {
    let mut offenders = Vec::new();
    let mut stack = vec![std::path::PathBuf::from("src/http")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    if [".route(", ".route_service(", ".nest("].iter().any(|p| line.contains(p)) {
                        offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "routes added without documentation:\n{}", offenders.join("\n"));
}

#[test]
fn every_operation_states_roles_and_every_answer() {
    let doc = serde_json::to_value(openapi::document()).unwrap();
    for o in operations() {
        let responses = o.op["responses"].as_object().unwrap();
        let api = o.path.starts_with("/api/v1/");
        if api {
            assert!(o.description.contains("Roles: "), "{} {} states no roles", o.method, o.path);
            for status in ["401", "429"] {
                assert!(responses.contains_key(status), "{} {} lacks {status}", o.method, o.path);
            }
            assert_eq!(o.op["security"], serde_json::json!([{ "bearer": [] }]), "{} {}", o.method, o.path);
        }
        if api && o.method != "get" {
            assert!(responses.contains_key("503"), "{} {} lacks 503", o.method, o.path);
        }
        let has_params = o.op["parameters"].as_array().is_some_and(|p| !p.is_empty());
        if has_params || o.op.get("requestBody").is_some() {
            assert!(responses.contains_key("422"), "{} {} lacks 422", o.method, o.path);
        }
        for (status, r) in responses {
            let Some(content) = r["content"].as_object() else {
                assert!(["204", "303"].contains(&status.as_str()), "{} {} {status} has no content", o.method, o.path);
                continue;
            };
            for media in content.values() {
                check_refs(&doc, &media["schema"]);
            }
            if let Some(problem) = content.get("application/problem+json") {
                assert!(status.as_str() >= "400", "{} {} {status} answers a problem", o.method, o.path);
                assert_eq!(problem["schema"]["$ref"], "#/components/schemas/Problem");
            }
            if status.starts_with('2') && api && o.method != "delete" {
                let schema = &content.values().next().unwrap()["schema"];
                assert!(
                    schema.get("$ref").is_some() || schema["type"] == "string" || schema.get("oneOf").is_some(),
                    "{} {} {status} answers an anonymous schema: {schema}",
                    o.method,
                    o.path
                );
            }
        }
        // Bodies and parameters too: every `$ref` anywhere in the operation resolves.
        check_refs(&doc, &o.op);
    }
    // The ones the issue found missing.
    let ops = operations();
    for (m, p) in [
        ("get", "/api/v1/virements"),
        ("get", "/api/v1/virements/{id}"),
        ("post", "/api/v1/virements/{id}/approve"),
        ("post", "/api/v1/virements/{id}/reject"),
        ("post", "/api/v1/financial-years/{fy}/reopen"),
        ("post", "/api/v1/grants/{grant}/awards/{fy}/year-end"),
        ("get", "/api/v1/audit"),
        ("get", "/api/v1/settings"),
        ("patch", "/api/v1/settings"),
        ("post", "/sign-in"),
        ("get", "/dashboard/variance.csv"),
    ] {
        assert!(ops.iter().any(|o| o.method == m && o.path == p), "{m} {p} undocumented");
    }
}

/// Every `$ref` under `schema` names a schema in components.
fn check_refs(doc: &Value, schema: &Value) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                let name = r.strip_prefix("#/components/schemas/").unwrap();
                assert!(doc["components"]["schemas"][name].is_object(), "{r} is not in components.schemas");
            }
            map.values().for_each(|v| check_refs(doc, v));
        }
        Value::Array(items) => items.iter().for_each(|v| check_refs(doc, v)),
        _ => {}
    }
}

/// A schema's pattern as a matcher: the patterns here use only `^`, `$`, alternation, classes
/// and counted repeats, which the `regex` crate reads the same as ECMA-262.
fn pattern_of(name: &str) -> String {
    let doc = serde_json::to_value(openapi::document()).unwrap();
    doc["components"]["schemas"][name]["pattern"].as_str().unwrap_or_else(|| panic!("{name} has no pattern")).to_owned()
}

#[test]
fn value_schemas_accept_exactly_what_the_parsers_accept() {
    let year = regex::Regex::new(&pattern_of("FinancialYear")).unwrap();
    for start in 1990..2110 {
        for end in 0..100 {
            let text = format!("{start}-{end:02}");
            assert_eq!(year.is_match(&text), FinancialYear::parse(&text).is_ok(), "{text}");
        }
    }
    let amount = regex::Regex::new(&pattern_of("Amount")).unwrap();
    for text in ["1", "0.01", "0.1", "0.50", "1500.00", "61394.5", "999999999.99", "1000000000", "1000000000.00"] {
        assert!(amount.is_match(text), "{text} is a valid amount");
        assert!(Money::parse_positive(text).is_ok(), "{text}");
    }
    for text in ["0", "0.00", "-1", "1.234", "1e3", "1,000", "1000000000.01", "1000000001", " 1", "£1", ""] {
        assert!(!amount.is_match(text), "{text} is not a valid amount");
    }
    let money = regex::Regex::new(&pattern_of("Money")).unwrap();
    for pence in [0, 1, -1, 150_000, -50_000, 100_000_000_000] {
        assert!(money.is_match(&Money::from_pence(pence).to_string()), "{pence}");
    }
    let code = regex::Regex::new(&pattern_of("Code")).unwrap();
    for text in ["LDF", "P1", "a-b_c", &"x".repeat(32), "", "-a", "a b", &"x".repeat(33), "é"] {
        assert_eq!(code.is_match(text), grant_ledger::domain::is_valid_code(text), "{text:?}");
    }
}

backend_test!(a_zero_id_is_a_bad_field_not_a_missing_record, |app: TestApp| async move {
    // The document says ids are at least 1, so 0 is refused for its form, naming it.
    for path in ["/api/v1/entries/0", "/api/v1/virements/0"] {
        let r = app.get(path, Role::Admin).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{path}: {}", r.body);
        assert_eq!(r.fields(), vec!["id"]);
    }
    let r = app.call(Method::DELETE, "/api/v1/tokens/0", Some(app.token(Role::Admin)), None, &[]).await;
    assert_eq!(r.fields(), vec!["id"], "{}", r.body);
});

backend_test!(a_secret_shorter_than_any_token_is_refused_without_counting, |app: TestApp| async move {
    // schemathesis probes every operation with a short invalid token; those cannot be guesses.
    let short = "SCHEMATHESIS-INVALID-VALUE";
    assert!(short.len() < grant_ledger::http::auth::SECRET_LEN_MIN);
    for _ in 0..3 * grant_ledger::http::throttle::FAILURES_MAX {
        let r = app.call(Method::GET, "/api/v1/funders", Some(short), None, &[]).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    }
    assert_eq!(app.get("/api/v1/funders", Role::Viewer).await.status, StatusCode::OK);
    // A wrong secret of a real token's length still counts.
    let long = "x".repeat(grant_ledger::http::auth::SECRET_LEN_MIN);
    for _ in 0..grant_ledger::http::throttle::FAILURES_MAX {
        app.call(Method::GET, "/api/v1/funders", Some(&long), None, &[]).await;
    }
    assert_eq!(app.get("/api/v1/funders", Role::Viewer).await.status, StatusCode::TOO_MANY_REQUESTS);
});

// ---- what schemathesis found in the server ---------------------------------------------------

backend_test!(the_token_of_a_request_cannot_revoke_itself, |app: TestApp| async move {
    // The run revoked the admin token it was using (DELETE /tokens/1), and every request
    // after that failed authentication: a real admin can lock themself out the same way.
    let listed = app.get("/api/v1/tokens?limit=500", Role::Admin).await;
    let admin = app.token(Role::Admin);
    let own = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "admin")
        .map(|t| t["id"].as_i64().unwrap())
        .unwrap();
    let r = app.call(Method::DELETE, &format!("/api/v1/tokens/{own}"), Some(admin), None, &[]).await;
    if r.status == StatusCode::CONFLICT {
        assert_eq!(r.code(), "conflict");
        assert_eq!(app.get("/api/v1/funders", Role::Admin).await.status, StatusCode::OK, "still signed in");
    } else {
        // The first admin token listed was another's: it may be revoked, and this one still works.
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    }
    // Another admin token can revoke it.
    let other = app.post("/api/v1/tokens", Role::Admin, serde_json::json!({ "name": "second", "role": "admin" })).await;
    let other_secret = other.body["token"].as_str().unwrap().to_owned();
    let other_id = other.body["id"].as_i64().unwrap();
    let r = app.call(Method::DELETE, &format!("/api/v1/tokens/{other_id}"), Some(&other_secret), None, &[]).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{}", r.body);
    let r = app.call(Method::DELETE, &format!("/api/v1/tokens/{other_id}"), Some(admin), None, &[]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = app.call(Method::GET, "/api/v1/funders", Some(&other_secret), None, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
});

backend_test!(an_empty_api_filter_is_refused_not_read_as_none, |app: TestApp| async move {
    // `?project=` used to list every project's entries: a filter that silently widened.
    for path in ["/api/v1/entries?project=", "/api/v1/accounts?grant=", "/api/v1/audit?key=", "/api/v1/funders?cursor="]
    {
        let r = app.get(path, Role::Admin).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{path}");
        assert_eq!(r.fields().len(), 1, "{path}: {}", r.body);
    }
    let long = "x".repeat(grant_ledger::http::input::TEXT_LEN_MAX + 1);
    let r = app.get(&format!("/api/v1/audit?key={long}"), Role::Admin).await;
    assert_eq!(r.fields(), vec!["key"], "{}", r.body);
    // The dashboard's form sends its unset fields empty, and is still served.
    let r = app.call(Method::GET, "/dashboard?financial_year=&as_at=", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "to sign-in, not refused");
});

backend_test!(null_in_a_patch_is_refused_not_read_as_zero, |app: TestApp| async move {
    let before = app.get("/api/v1/settings", Role::Admin).await.body["virement_approval_threshold"].clone();
    assert_ne!(before, "0.00");
    // It used to set the virement approval threshold to zero: every virement then needed a
    // second approver.
    let r =
        app.patch("/api/v1/settings", Role::Admin, serde_json::json!({ "virement_approval_threshold": null })).await;
    assert_eq!(r.fields(), vec!["virement_approval_threshold"], "{}", r.body);
    assert_eq!(app.get("/api/v1/settings", Role::Admin).await.body["virement_approval_threshold"], before);
    let r = app.patch("/api/v1/settings", Role::Admin, serde_json::json!({ "rag_red_pct": null })).await;
    assert_eq!(r.fields(), vec!["rag_red_pct"], "{}", r.body);
    for bad in ["", "1e1", " 5", "5.123", "101", "-1"] {
        let r = app.patch("/api/v1/settings", Role::Admin, serde_json::json!({ "rag_red_pct": bad })).await;
        assert_eq!(r.fields(), vec!["rag_red_pct"], "{bad:?}: {}", r.body);
    }
    let r = app.patch("/api/v1/settings", Role::Admin, serde_json::json!({ "rag_red_pct": "100.00" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.project("P1", "ASB").await;
    let r = app.patch("/api/v1/projects/P1", Role::Approver, serde_json::json!({ "name": null })).await;
    assert_eq!(r.fields(), vec!["name"], "{}", r.body);
});

backend_test!(closing_a_year_takes_an_empty_or_null_body, |app: TestApp| async move {
    for body in ["", "null"] {
        let path = "/api/v1/financial-years/2090-91/close";
        let r = app.send_bytes(Method::POST, path, Role::Admin, "application/json", body.into()).await;
        // Read as no fields, so the answer is about the year, which this ledger lacks.
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{body:?}: {}", r.body);
    }
});

backend_test!(text_is_limited_in_characters_not_bytes, |app: TestApp| async move {
    let max = grant_ledger::http::input::TEXT_LEN_MAX;
    // 2,000 pound signs are 4,000 bytes, and as many characters as the document allows.
    let r =
        app.post("/api/v1/funders", Role::Admin, serde_json::json!({ "code": "F1", "name": "£".repeat(max) })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .post("/api/v1/funders", Role::Admin, serde_json::json!({ "code": "F2", "name": "x".repeat(max + 1) }))
        .await;
    assert_eq!(r.fields(), vec!["name"], "{}", r.body);
});

backend_test!(an_idempotency_key_is_visible_ascii_without_spaces, |app: TestApp| async move {
    // "1-255 visible ASCII characters", says the error; a key with a space inside used to pass.
    let body = serde_json::json!({ "code": "F7", "name": "Funder seven" });
    for key in ["a b", "tab\there", "é"] {
        let r = app
            .call(
                Method::POST,
                "/api/v1/funders",
                Some(app.token(Role::Admin)),
                Some(body.clone()),
                &[("idempotency-key", key)],
            )
            .await;
        assert_eq!(r.fields(), vec!["Idempotency-Key"], "{key:?}: {}", r.body);
    }
    let r = app
        .call(
            Method::POST,
            "/api/v1/funders",
            Some(app.token(Role::Admin)),
            Some(body),
            &[("idempotency-key", "a-b_c.1~!")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
});

/// The schema of query parameter `name` of `method path`.
fn parameter_schema(method: &str, path: &str, name: &str) -> Value {
    let doc = serde_json::to_value(openapi::document()).unwrap();
    let params = doc["paths"][path][method]["parameters"].as_array().unwrap_or_else(|| panic!("{method} {path}"));
    let param = params.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("{method} {path}: no {name}"));
    param["schema"].clone()
}

#[test]
fn word_filters_take_their_patterns_from_the_sets() {
    use grant_ledger::domain::{EntryKind, VirementStatus};
    // The entries list once documented ten kinds of twelve: receipts and repayments were
    // refused by a schema-valid client.
    let kind = parameter_schema("get", "/api/v1/entries", "kind");
    let pattern = regex::Regex::new(kind["pattern"].as_str().unwrap()).unwrap();
    for k in EntryKind::ALL {
        assert!(pattern.is_match(k.as_str()), "the kind pattern refuses {k}");
    }
    assert!(!pattern.is_match("teleport") && !pattern.is_match(""));
    assert_eq!(kind["enum"], serde_json::json!(EntryKind::WORDS));
    let status = parameter_schema("get", "/api/v1/virements", "status");
    assert_eq!(status["pattern"], VirementStatus::PATTERN);
    assert_eq!(status["enum"], serde_json::json!(VirementStatus::WORDS));
}

#[test]
fn every_word_parameter_states_its_set_as_enum_and_pattern() {
    // A closed set's parameter is its type, inlined: the words are its `enum`, and its
    // pattern accepts exactly them; no parameter spells a list of words by hand.
    let mut seen = 0;
    for op in operations() {
        for p in op.op["parameters"].as_array().into_iter().flatten() {
            let schema = &p["schema"];
            let Some(words) = schema["enum"].as_array() else {
                let pattern = schema["pattern"].as_str().unwrap_or_default();
                assert!(!pattern.starts_with("^(") || pattern.contains('['), "{} {}: {pattern}", op.method, op.path);
                continue;
            };
            seen += 1;
            let pattern = regex::Regex::new(schema["pattern"].as_str().unwrap()).unwrap();
            for w in words {
                assert!(pattern.is_match(w.as_str().unwrap()), "{} {} {}: {w}", op.method, op.path, p["name"]);
            }
            assert!(!pattern.is_match("") && !pattern.is_match("nonsense"));
        }
    }
    assert!(seen >= 9, "{seen} word parameters");
}
