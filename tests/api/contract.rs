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
    let doc = openapi::document();
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
    let doc = openapi::document();
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
    let doc = openapi::document();
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
        app.post("/api/v1/funders", Role::Operator, serde_json::json!({ "code": "F1", "name": "£".repeat(max) })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .post("/api/v1/funders", Role::Operator, serde_json::json!({ "code": "F2", "name": "x".repeat(max + 1) }))
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
                Some(app.token(Role::Operator)),
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
            Some(app.token(Role::Operator)),
            Some(body),
            &[("idempotency-key", "a-b_c.1~!")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
});

// ---- what a client generated from the document needs ------------------------------------

/// The schema `$ref` names, or the schema itself.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => resolve(doc, &doc["components"]["schemas"][name]),
        None => schema,
    }
}

/// The `format` a property's schema carries, through `$ref` and `oneOf`/`anyOf`/`allOf`.
fn format_of(doc: &Value, schema: &Value) -> Option<String> {
    let schema = resolve(doc, schema);
    if let Some(format) = schema["format"].as_str() {
        return Some(format.to_owned());
    }
    ["oneOf", "anyOf", "allOf"].iter().filter_map(|k| schema[*k].as_array()).flatten().find_map(|s| format_of(doc, s))
}

/// The format a property's name promises: a day (`date`, `as_at`, `…_on`, `…_date`,
/// `…Date`) or an instant (`…_at`, `dateModified`). `…_to_date` is money: spent to date.
fn promised_format(name: &str) -> Option<&'static str> {
    if name.ends_with("_to_date") {
        None
    } else if name == "date"
        || name == "as_at"
        || name.ends_with("_on")
        || name.ends_with("_date")
        || name.ends_with("Date")
    {
        Some("date")
    } else if name.ends_with("_at") || name == "dateModified" {
        Some("date-time")
    } else {
        None
    }
}

#[test]
fn every_date_and_instant_carries_its_format() {
    let doc = openapi::document();
    let mut checked = 0;
    let mut wrong = Vec::new();
    fn walk(doc: &Value, at: &str, schema: &Value, checked: &mut usize, wrong: &mut Vec<String>) {
        match schema {
            Value::Object(map) => {
                if let Some(Value::Object(properties)) = map.get("properties") {
                    for (name, property) in properties {
                        if let Some(want) = promised_format(name) {
                            *checked += 1;
                            let got = format_of(doc, property);
                            if got.as_deref() != Some(want) {
                                wrong.push(format!("{at}.{name}: {got:?}, not {want}"));
                            }
                        }
                    }
                }
                for (key, value) in map {
                    walk(doc, &format!("{at}/{key}"), value, checked, wrong);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(doc, at, v, checked, wrong)),
            _ => {}
        }
    }
    walk(&doc, "", &doc["components"]["schemas"], &mut checked, &mut wrong);
    // And every query parameter of the API so named (the pages' forms send an unset date empty).
    for o in operations().into_iter().filter(|o| o.path.starts_with("/api/v1/")) {
        for p in o.op["parameters"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap();
            if let Some(want) = promised_format(name).or((name == "from" || name == "to").then_some("date")) {
                checked += 1;
                if format_of(&doc, &p["schema"]).as_deref() != Some(want) {
                    wrong.push(format!("{} {} ?{name}: not {want}", o.method, o.path));
                }
            }
        }
    }
    assert!(checked >= 60, "only {checked} dates and instants found: is the rule still finding them?");
    assert!(wrong.is_empty(), "{} of {checked} lack their format:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn every_page_is_one_named_schema_referring_to_its_item() {
    let doc = openapi::document();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    // No generic instance (`Page_EntryView`): a client would name its class after it and
    // repeat the item's fields inside it.
    let generic: Vec<_> = schemas.keys().filter(|k| k.contains('_')).collect();
    assert!(generic.is_empty(), "{generic:?}");
    let mut pages = 0;
    for (name, schema) in schemas {
        if schema["properties"].get("next_cursor").is_none() {
            continue;
        }
        pages += 1;
        assert!(name.ends_with("Page"), "{name} is a page");
        let item = &schema["properties"]["items"]["items"];
        assert!(item["$ref"].is_string(), "{name}'s items are repeated inline: {item}");
    }
    assert!(pages >= 17, "{pages} pages");
    // Every list answers a page by reference: no page is written out inside an operation.
    // (A list page of the site pages with the same cursors, and answers HTML.)
    for o in operations() {
        assert!(!o.op.to_string().contains(r#""next_cursor":{"#), "{} {} writes a page inline", o.method, o.path);
        let api = o.path.starts_with("/api/");
        if api && o.op["parameters"].as_array().into_iter().flatten().any(|p| p["name"] == "cursor") {
            let answer = &o.op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"];
            assert!(answer.as_str().is_some_and(|r| r.ends_with("Page")), "{} {}: {answer}", o.method, o.path);
        }
    }
}

/// Every path parameter says what it takes, so a request of the right form is one the
/// server reads: strings by a pattern, ids as integers from 1.
#[test]
fn every_path_parameter_carries_its_pattern() {
    let doc = openapi::document();
    let mut seen = std::collections::BTreeSet::new();
    for o in operations() {
        for p in o.op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "path") {
            let name = p["name"].as_str().unwrap();
            seen.insert(name.to_owned());
            let schema = resolve(&doc, &p["schema"]);
            let ok = match schema["type"].as_str() {
                Some("string") => schema["pattern"].as_str().is_some_and(|r| r.starts_with('^') && r.ends_with('$')),
                Some("integer") => schema["minimum"].as_i64() == Some(1),
                _ => false,
            };
            assert!(ok, "{} {} {{{name}}}: {schema}", o.method, o.path);
            assert_eq!(p["required"], true, "{} {} {{{name}}}", o.method, o.path);
        }
    }
    for name in ["grant", "fy", "code", "id", "q", "evidence_id"] {
        assert!(seen.contains(name), "{{{name}}} documented nowhere");
    }
}

backend_test!(a_path_parameter_of_its_pattern_is_read_and_one_outside_it_is_refused, |app: TestApp| async move {
    // Of the pattern but naming no grant: a missing record, not a bad field.
    let r = app.get("/api/v1/grants/NO-SUCH_GRANT/awards", Role::Admin).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{}", r.body);
    let r = app.get("/api/v1/grants/LDF/awards", Role::Admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Outside it: refused naming the parameter.
    let code = regex::Regex::new(&pattern_of("Code")).unwrap();
    for bad in ["-LDF", "L%20DF", &"x".repeat(33)] {
        assert!(!code.is_match(bad) || bad.contains('%'), "{bad}");
        let r = app.get(&format!("/api/v1/grants/{bad}/awards"), Role::Admin).await;
        assert_eq!(
            (r.status, r.fields()),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["grant".to_owned()]),
            "{bad}: {}",
            r.body
        );
    }
});

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The media types a route answers by `format=`, declared each with a schema a client can
/// read: CSV as a string, the workbook as bytes; the CSV import takes the file as `text/csv`
/// or as bytes.
#[test]
fn every_download_declares_its_media_types_and_bytes_as_bytes() {
    let doc = openapi::document();
    let media = |word: &str| match word {
        "json" => "application/json",
        "csv" => "text/csv",
        "html" => "text/html",
        "xlsx" => XLSX,
        "hledger" | "beancount" => "text/plain",
        other => panic!("format {other} has no media type here"),
    };
    let mut csv_routes = 0;
    for o in operations().into_iter().filter(|o| o.method == "get") {
        let content = &o.op["responses"]["200"]["content"];
        let Some(content) = content.as_object() else { continue };
        for (kind, c) in content {
            let schema = resolve(&doc, &c["schema"]);
            match kind.as_str() {
                "text/csv" | "text/plain" | "text/html" | "text/css" => {
                    assert_eq!(schema["type"], "string", "{} {}: {kind} as {schema}", o.method, o.path)
                }
                XLSX => assert_eq!(
                    (&schema["type"], &schema["format"]),
                    (&Value::from("string"), &Value::from("binary")),
                    "{} {}: the workbook as {schema}",
                    o.method,
                    o.path
                ),
                "application/json" => {}
                other => panic!("{} {}: {other} undeclared here", o.method, o.path),
            }
        }
        csv_routes += usize::from(content.contains_key("text/csv"));
        let format = o.op["parameters"].as_array().into_iter().flatten().find(|p| p["name"] == "format");
        if let Some(format) = format {
            let pattern = format["schema"]["pattern"].as_str().unwrap();
            let words = pattern.trim_start_matches("^(").trim_end_matches(")$").split('|');
            let declared: std::collections::BTreeSet<_> = content.keys().map(String::as_str).collect();
            let answered: std::collections::BTreeSet<_> = words.map(media).collect();
            assert_eq!(declared, answered, "{} {}: formats {pattern}", o.method, o.path);
        }
    }
    assert!(csv_routes >= 14, "{csv_routes} routes declare CSV");
    let body = &doc["paths"]["/api/v1/imports/spend"]["post"]["requestBody"]["content"];
    assert_eq!(body["text/csv"]["schema"]["type"], "string", "{body}");
    assert_eq!(resolve(&doc, &body["application/octet-stream"]["schema"])["format"], "binary", "{body}");
}

backend_test!(each_format_is_answered_as_the_media_type_declared_for_it, |app: TestApp| async move {
    // Every API route with `format=`, asked for each: the answer's type is the one declared.
    let values = |name: &str| match name {
        "financial_year" => "2023-24",
        "quarter" => "3",
        "grant" => "LDF",
        "from" => "2023-04-01",
        "to" => "2024-03-31",
        other => panic!("no value for the required ?{other}"),
    };
    for o in operations().into_iter().filter(|o| o.method == "get" && o.path.starts_with("/api/v1/")) {
        let params = o.op["parameters"].as_array().cloned().unwrap_or_default();
        let Some(format) = params.iter().find(|p| p["name"] == "format") else { continue };
        let required: Vec<String> = params
            .iter()
            .filter(|p| p["in"] == "query" && p["required"] == true && p["name"] != "format")
            .map(|p| format!("{0}={1}", p["name"].as_str().unwrap(), values(p["name"].as_str().unwrap())))
            .collect();
        let pattern = format["schema"]["pattern"].as_str().unwrap();
        for word in pattern.trim_start_matches("^(").trim_end_matches(")$").split('|') {
            let path = format!("{}?{}&format={word}", o.path, required.join("&"));
            let r = app.get(&path, Role::Admin).await;
            // 360Giving publishes grant agreements, which this ledger has none of: its 404
            // is a problem, declared as such.
            assert!(r.status == StatusCode::OK || r.code() == "not_found", "{path}: {}", r.body);
            let answered = r.headers["content-type"].to_str().unwrap().split(';').next().unwrap().to_owned();
            let declared = &o.op["responses"][r.status.as_str()]["content"];
            assert!(declared.get(&answered).is_some(), "{path} answered {} {answered}, undeclared", r.status);
        }
    }
});

/// Where each link comes from: a creating operation (a POST answering 201) links to every
/// operation on the record it created (its path then one parameter, e.g. `POST /projects` to
/// `GET /projects/{code}` and `POST /projects/{code}/indicators`), and an answer naming the
/// entry it posted (`entry_id`) links to that entry and to its reversal.
#[test]
fn each_creating_operation_links_to_the_operations_on_what_it_created() {
    let doc = openapi::document();
    assert_eq!(doc["servers"], serde_json::json!([{ "url": "/" }]));
    let ops = operations();
    let by_id = |id: &str| ops.iter().find(|o| o.op["operationId"] == id);
    let mut links = 0;
    for o in ops.iter().filter(|o| o.method == "post") {
        let Some(created) = o.op["responses"].get("201") else { continue };
        let answer = resolve(&doc, &created["content"]["application/json"]["schema"]);
        let fields = answer["properties"].as_object().unwrap();
        let linked = |to: &Operation| {
            created["links"].as_object().into_iter().flatten().any(|(_, l)| {
                by_id(l["operationId"].as_str().unwrap()).is_some_and(|t| t.method == to.method && t.path == to.path)
            })
        };
        // Operations on what it created: the path, one parameter, then no other.
        let prefix = format!("{}/{{", o.path);
        for to in ops.iter().filter(|t| t.path.starts_with(&prefix)) {
            let rest = &to.path[prefix.len()..];
            // But revoking a token (`LINKS` says why).
            let unlinked = to.path == "/api/v1/tokens/{id}";
            if rest.split_once('}').is_some_and(|(_, after)| !after.contains('{')) && !unlinked {
                assert!(linked(to), "{} {} does not link to {} {}", o.method, o.path, to.method, to.path);
            }
        }
        if fields.contains_key("entry_id") {
            for id in ["get_entry", "reverse"] {
                assert!(linked(by_id(id).unwrap()), "{} {} does not link to {id}", o.method, o.path);
            }
        }
        // Each link names an operation, fills exactly its path parameters, from fields of
        // this answer or parameters of this request.
        for (name, link) in created["links"].as_object().into_iter().flatten() {
            links += 1;
            let target = by_id(link["operationId"].as_str().unwrap())
                .unwrap_or_else(|| panic!("{} {}: link {name} names no operation", o.method, o.path));
            let wanted: std::collections::BTreeSet<&str> = target.op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            let given = link["parameters"].as_object().unwrap();
            assert_eq!(given.keys().map(String::as_str).collect::<std::collections::BTreeSet<_>>(), wanted, "{name}");
            for value in given.values() {
                let value = value.as_str().unwrap();
                if let Some(field) = value.strip_prefix("$response.body#/") {
                    assert!(fields.contains_key(field), "{} {} link {name}: no field {field}", o.method, o.path);
                } else {
                    let param = value.strip_prefix("$request.path.").unwrap_or_else(|| panic!("{name}: {value}"));
                    assert!(o.path.contains(&format!("{{{param}}}")), "{} {} link {name}: {value}", o.method, o.path);
                }
            }
        }
    }
    assert!(links >= 40, "{links} links");
}

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
