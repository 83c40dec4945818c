//! The 360Giving files held to the standard's own tools: the JSON to the standard's JSON
//! schema (1.4.3, vendored in standards/360giving/, checked by the Python `jsonschema`
//! package with its format checks), and the CSV read back by flattentool into the same data
//! as the JSON, hostile names included. The identifiers and settings the standard's
//! data-quality checks look at: org-ids of the org-id.guide register's lists, charity numbers
//! in their registers' forms, the beneficiary area, the data source. And the commitment
//! contract: the document requires of a grant agreement what the server does (`purpose`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::open_data::{agreement, organisation, project, raw_get, text};
use crate::support::TestApp;

const GIVING_JSON: &str = "/api/v1/exports/360giving?financial_year=2023-24";
const GIVING_CSV: &str = "/api/v1/exports/360giving?financial_year=2023-24&format=csv";

/// Runs a program a check needs. Where it is missing, the check is skipped with a message,
/// except in CI (env `CI` set), where the test fails: `.ci/run` installs it.
fn needed(program: &str, args: &[&str]) -> Option<Output> {
    let missing = |why: String| {
        assert!(std::env::var_os("CI").is_none(), "{program} is needed in CI (.ci/run installs it): {why}");
        eprintln!("skipping the {program} check: {why}");
        None
    };
    match Command::new(program).args(args).output() {
        Ok(out) => Some(out),
        Err(e) => missing(format!("{program} is not installed ({e})")),
    }
}

/// Python 3 with `jsonschema` and the two format checkers the standard's fields need
/// (`date-time`, `uri`), or `None` (skipped outside CI) where they are missing.
fn python_with_jsonschema() -> Option<()> {
    let probe = needed("python3", &["-c", "import jsonschema, rfc3339_validator, rfc3986_validator"])?;
    if probe.status.success() {
        return Some(());
    }
    let why = String::from_utf8_lossy(&probe.stderr).into_owned();
    assert!(
        std::env::var_os("CI").is_none(),
        "jsonschema, rfc3339-validator and rfc3986-validator are needed in CI (.ci/run installs them): {why}"
    );
    eprintln!(
        "skipping the 360Giving schema check: pip install jsonschema rfc3339-validator rfc3986-validator ({why})"
    );
    None
}

/// A fresh directory under the system's temporary one.
fn temp_dir(name: &str) -> PathBuf {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    let dir = std::env::temp_dir().join(format!("gl_{}_{}_{name}", std::process::id(), hex::encode(bytes)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn standard(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("standards/360giving").join(file)
}

/// Validates each of `files` against the standard's package schema, the grant schema
/// registered at its own address and at the 1.4.2 address the package schema names (the
/// README in standards/360giving says why): answers each file's errors, `path: message`.
/// Nothing is fetched: a reference to anything else fails.
fn schema_errors(files: &[Value]) -> Option<Vec<Vec<String>>> {
    python_with_jsonschema()?;
    let dir = temp_dir("schema");
    let input = dir.join("files.json");
    std::fs::write(&input, serde_json::to_vec(files).unwrap()).unwrap();
    let script = r#"
import json, sys
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
grant = json.load(open(sys.argv[1]))
package = json.load(open(sys.argv[2]))
files = json.load(open(sys.argv[3]))
named_by_package = "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/360-giving-schema.json"
# The schemas name draft 2020-12 as http://json-schema.org/draft/2020-12/schema, an address
# `referencing` does not know (the draft's own is https): say the draft outright.
resource = Resource(contents=grant, specification=DRAFT202012)
registry = Registry().with_resources([(grant["$id"], resource), (named_by_package, resource)])
checker = Draft202012Validator.FORMAT_CHECKER
missing = {"date-time", "uri"} - set(checker.checkers)
if missing:
    sys.exit(f"the format checks {sorted(missing)} are not installed")
Draft202012Validator.check_schema(package)
Draft202012Validator.check_schema(grant)
validator = Draft202012Validator(package, registry=registry, format_checker=checker)
out = []
for f in files:
    out.append(sorted("/".join(map(str, e.absolute_path)) + ": " + e.message for e in validator.iter_errors(f)))
print(json.dumps(out))
"#;
    let grant = standard("360-giving-schema.json");
    let package = standard("360-giving-package-schema.json");
    let run = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args([grant.as_os_str(), package.as_os_str(), input.as_os_str()])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(run.status.success(), "jsonschema: {}", String::from_utf8_lossy(&run.stderr));
    Some(serde_json::from_slice(&run.stdout).unwrap())
}

/// flattentool's reading of a 360Giving CSV, as 360Giving's own tools read a spreadsheet:
/// the standard's titles converted back to the schema's fields.
fn flattentool_reads(csv: &str) -> Option<Value> {
    let dir = temp_dir("flattentool");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("grants.csv"), csv).unwrap();
    let output = dir.join("out.json");
    let schema = standard("360-giving-schema.json");
    let args = [
        "unflatten",
        "--convert-titles",
        "--schema",
        schema.to_str().unwrap(),
        "--root-list-path",
        "grants",
        "--id-name",
        "id",
        "-f",
        "csv",
        "-o",
        output.to_str().unwrap(),
        input.to_str().unwrap(),
    ];
    // The flattentool package installs its command as `flatten-tool`.
    let run = needed("flatten-tool", &args)?;
    assert!(run.status.success(), "flatten-tool: {}", String::from_utf8_lossy(&run.stderr));
    let read = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    Some(read)
}

/// Every leaf of `v` with its path: what "agree as data" compares.
fn leaves(v: &Value, at: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, v)| leaves(v, format!("{at}/{k}"), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| leaves(v, format!("{at}/{i}"), out)),
        // Numbers as numbers: 2500.50 and 2500.5 are one amount.
        Value::Number(n) => out.push((at, json!(n.as_f64().unwrap()))),
        other => out.push((at, other.clone())),
    }
}

/// Partners whose names a spreadsheet would run as formulas, with charity numbers of each
/// register's form and postcodes of three countries; one agreement each in 2023-24.
async fn hostile_partners(app: &TestApp) {
    for (code, name, kind, charity, postcode) in [
        ("MINUS", "-Minus Group", "vcse", "1099999-2", "b79 7bz"),
        ("CMD", "=cmd|' /C calc'!A0", "vcse", "NIC100002", ""),
        ("PLUS", "+x", "private", "SC012345", "JE2 3AB"),
        ("AT", "@x", "public", "", ""),
    ] {
        organisation(
            app,
            json!({ "code": code, "name": name, "kind": kind, "charity_number": charity, "postcode": postcode }),
        )
        .await;
    }
    project(app, "YOUTH", "-Youth diversion").await;
    project(app, "CLEAN", "=Clean neighbourhoods").await;
    app.allocate("LDF", "2023-24", "YOUTH", "20000.00").await;
    app.allocate("LDF", "2023-24", "CLEAN", "20000.00").await;
    for (project, recipient, purpose, amount) in [
        ("YOUTH", "MINUS", "-5 evenings a week, \"detached\" work", "2500.50"),
        ("YOUTH", "CMD", "=1+1", "1000.00"),
        ("CLEAN", "PLUS", "+44 helpline, and litter picks", "999.99"),
        ("CLEAN", "AT", "@everyone: graffiti removal", "12000.00"),
    ] {
        agreement(
            app,
            project,
            recipient,
            "2023-09-15",
            ("2023-10-01", "2024-03-31"),
            purpose,
            &[("2023-24", amount)],
            "",
        )
        .await;
    }
}

backend_test!(
    the_360giving_json_keeps_the_standards_schema_and_the_csv_reads_back_as_the_json,
    |app: TestApp| async move {
        hostile_partners(&app).await;
        let json: Value = serde_json::from_str(&text(&app, GIVING_JSON).await).unwrap();
        let csv = text(&app, GIVING_CSV).await;
        let grants = json["grants"].as_array().unwrap();
        assert_eq!(grants.len(), 4);
        let recipients: Vec<(&str, &str)> = grants
            .iter()
            .map(|g| {
                (
                    g["recipientOrganization"][0]["id"].as_str().unwrap(),
                    g["recipientOrganization"][0]["name"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            recipients,
            vec![
                ("GB-CHC-1099999-2", "-Minus Group"),
                ("GB-NIC-100002", "=cmd|' /C calc'!A0"),
                ("GB-SC-SC012345", "+x"),
                ("360G-tamworthcsp-org-AT", "@x"),
            ],
            "each register's form of charity number makes its org-id"
        );
        let countries: Vec<&Value> = grants.iter().map(|g| &g["recipientOrganization"][0]["location"]).collect();
        assert_eq!(
            countries,
            [&json!([{ "countryCode": "GB" }]), &Value::Null, &json!([{ "countryCode": "JE" }]), &Value::Null]
        );

        // The standard's schema, with a file broken per rule beside it: the validator refuses
        // each, so a pass is the schema's and not a validator that reads nothing.
        let broken = |edit: &dyn Fn(&mut Value)| {
            let mut file = json.clone();
            edit(&mut file);
            file
        };
        let files = [
            json.clone(),
            json!({ "grants": [] }),
            broken(&|f| f["grants"][0]["amountAwarded"] = json!("2500.50")),
            broken(&|f| f["grants"][0]["dateModified"] = json!("yesterday")),
            broken(&|f| f["grants"][0]["dataSource"] = json!("www.tamworth.gov.uk, the council's site")),
            broken(&|f| f["grants"][0]["beneficiaryLocation"][0]["countryCode"] = json!("UK")),
            broken(&|f| f["grants"][1]["recipientOrganization"] = json!([])),
        ];
        if let Some(errors) = schema_errors(&files) {
            assert_eq!(errors[0], Vec::<String>::new(), "the ledger's file keeps the 360Giving schema");
            for (i, want) in [
                (1, "grants: [] should be non-empty"),
                (2, "grants/0/amountAwarded: '2500.50' is not of type 'number'"),
                (3, "grants/0/dateModified: 'yesterday' is not a 'date-time'"),
                (4, "grants/0/dataSource: \"www.tamworth.gov.uk, the council's site\" is not a 'uri'"),
                (5, "grants/0/beneficiaryLocation/0/countryCode: 'UK' is not one of"),
                (6, "grants/1/recipientOrganization: [] should be non-empty"),
            ] {
                assert!(errors[i].iter().any(|e| e.starts_with(want)), "file {i}: want {want}: {:?}", errors[i]);
            }
        }

        // flattentool reads the CSV back into the JSON's data, field for field.
        if let Some(read) = flattentool_reads(&csv) {
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            leaves(&json, String::new(), &mut ours);
            leaves(&read, String::new(), &mut theirs);
            let differ: Vec<_> = ours.iter().filter(|o| !theirs.contains(o)).collect();
            assert!(
                differ.is_empty(),
                "{} of {} fields differ: {differ:?}\nflattentool read {read:#}",
                differ.len(),
                ours.len()
            );
            assert_eq!(ours.len(), theirs.len(), "flattentool read fields the JSON lacks: {read:#}");
        }
    }
);

backend_test!(the_real_fixtures_360giving_file_keeps_the_schema_with_a_bom_on_its_csv, |app: TestApp| async move {
    crate::open_data::partners_and_agreements(&app).await;
    let json: Value = serde_json::from_str(&text(&app, GIVING_JSON).await).unwrap();
    if let Some(errors) = schema_errors(std::slice::from_ref(&json)) {
        assert_eq!(errors[0], Vec::<String>::new());
    }
    let plain = text(&app, GIVING_CSV).await;
    let (status, _, bom) = raw_get(&app, &format!("{GIVING_CSV}&bom=true"), Role::Viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bom, [b"\xEF\xBB\xBF".as_slice(), plain.as_bytes()].concat(), "the same file after the mark");
    let r = app.get(&format!("{GIVING_JSON}&bom=true"), Role::Viewer).await;
    assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["bom".to_owned()]), "{}", r.body);
});

backend_test!(org_ids_name_a_current_list_of_the_org_id_register_in_its_form, |app: TestApp| async move {
    let create =
        |code: &str, org_id: &str| json!({ "code": code, "name": "Youth Trust", "kind": "vcse", "org_id": org_id });
    for (org_id, why) in [
        ("ZZ-NOPE-1", "ZZ-NOPE-1 begins with no list of the org-id.guide register"),
        ("GB-CHARITY-1123456", "begins with no list of the org-id.guide register"),
        ("GB-GOVUK-D1", "GB-GOVUK is deprecated in the org-id.guide register"),
        ("XI-GRID-grid.1234.5", "XI-GRID is deprecated"),
        ("GB-NIC-NIC100002", "a GB-NIC identifier is the Northern Irish charity number's six digits"),
        ("GB-SC-012345", "a GB-SC identifier is the Scottish charity number with its SC"),
        ("GB-CHC-SC012345", "a GB-CHC identifier is the charity number"),
        ("GB-COH-1234567", "a GB-COH identifier is the eight-character company number"),
        ("gb-chc-1123456", "must be an org-id.guide identifier"),
    ] {
        let r = app.post("/api/v1/organisations", Role::Approver, create("YT", org_id)).await;
        assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["org_id".to_owned()]), "{org_id}");
        let message = r.body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(why), "{org_id}: {message}");
    }
    for (i, org_id) in [
        "GB-CHC-1123456",
        "GB-CHC-1099999-2",
        "GB-SC-SC012345",
        "GB-NIC-100002",
        "GB-COH-SC123456",
        "GB-MPR-12345R",
        "XI-ROR-02wnqcb97",
    ]
    .iter()
    .enumerate()
    {
        organisation(&app, create(&format!("OK{i}"), org_id)).await;
    }
    let r = app.patch("/api/v1/organisations/OK0", Role::Approver, json!({ "org_id": "ZZ-NOPE-1" })).await;
    assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["org_id".to_owned()]));
    let approver = app.token(Role::Approver).to_owned();
    let (ok, _, err) =
        app.cli(&["organisation", "update", "--code", "OK0", "--org-id", "GB-GOVUK-D1", "--token", &approver]);
    assert!(!ok && err.contains("GB-GOVUK is deprecated"), "{err}");
    assert_eq!(app.get("/api/v1/organisations/OK0", Role::Viewer).await.body["org_id"], "GB-CHC-1123456");

    // The funder's org-id, a setting, is held to the same rule.
    let r = app.patch("/api/v1/settings", Role::Admin, json!({ "funding_org_id": "ZZ-NOPE-1" })).await;
    assert_eq!((r.status, r.fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["funding_org_id".to_owned()]));
    assert!(r.body["errors"][0]["message"].as_str().unwrap().contains("begins with no list"), "{}", r.body);

    // An org-id stored before this rule (or written outside the ledger) is not published: the
    // 360Giving export names the organisation or the setting to correct.
    project(&app, "YOUTH", "Youth diversion").await;
    app.allocate("LDF", "2023-24", "YOUTH", "20000.00").await;
    agreement(
        &app,
        "YOUTH",
        "OK0",
        "2023-09-15",
        ("2023-10-01", "2024-03-31"),
        "Mentoring",
        &[("2023-24", "100.00")],
        "",
    )
    .await;
    assert_eq!(app.get(GIVING_JSON, Role::Viewer).await.status, StatusCode::OK);
    sqlx::query("update organisations set org_id = 'ZZ-NOPE-1' where code = 'OK0'")
        .execute(app.store.pool())
        .await
        .unwrap();
    let r = app.get(GIVING_CSV, Role::Viewer).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{}", r.body);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("organisation OK0's org_id \"ZZ-NOPE-1\"") && detail.contains("begins with no list"),
        "{detail}"
    );
    sqlx::query("update organisations set org_id = 'GB-CHC-1123456' where code = 'OK0'")
        .execute(app.store.pool())
        .await
        .unwrap();
    sqlx::query("update settings set value = 'GB-GOVUK-D1' where key = 'funding_org_id'")
        .execute(app.store.pool())
        .await
        .unwrap();
    let r = app.get(GIVING_JSON, Role::Viewer).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("setting funding_org_id is \"GB-GOVUK-D1\""), "{}", r.body);
});

backend_test!(charity_numbers_take_their_registers_forms, |app: TestApp| async move {
    for (i, number) in ["1123456", "220949", "1099999-2", "SC012345", "NIC100002"].iter().enumerate() {
        let body = json!({ "code": format!("C{i}"), "name": "A charity", "kind": "vcse", "charity_number": number });
        organisation(&app, body).await;
    }
    for bad in
        ["12345", "123456789", "1099999-", "1099999-123", "SC12345", "sc012345", "NI100002", "NIC10002", "CHC1123456"]
    {
        let body = json!({ "code": "BAD", "name": "A charity", "kind": "vcse", "charity_number": bad });
        let r = app.post("/api/v1/organisations", Role::Approver, body).await;
        assert_eq!(
            (r.status, r.fields()),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["charity_number".to_owned()]),
            "{bad}"
        );
    }
});

backend_test!(the_beneficiary_area_and_data_source_are_settings_checked_and_needed, |app: TestApp| async move {
    let r = app.get("/api/v1/settings", Role::Viewer).await;
    assert_eq!(
        (&r.body["area_code"], &r.body["area_name"], &r.body["data_source"]),
        (&json!("E07000199"), &json!("Tamworth"), &json!("https://www.tamworth.gov.uk/")),
        "the Tamworth fixtures set them"
    );
    for (field, value) in [
        ("area_code", json!("E0700019")),
        ("area_code", json!("Tamworth")),
        ("area_code", json!("E92000001")),
        ("area_name", json!(" ")),
        ("data_source", json!("www.tamworth.gov.uk")),
        ("data_source", json!("ftp://tamworth.gov.uk/")),
        ("data_source", json!("https://tamworth.gov.uk/a b")),
    ] {
        let r = app.patch("/api/v1/settings", Role::Admin, json!({ field: value })).await;
        assert_eq!(
            (r.status, r.fields()),
            (StatusCode::UNPROCESSABLE_ENTITY, vec![field.to_owned()]),
            "{field} {value}"
        );
    }
    let r = app
        .patch(
            "/api/v1/settings",
            Role::Admin,
            json!({ "area_code": "E22000123", "area_name": "Tamworth CSP area", "data_source": "https://example.org/360/grants.json" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    crate::open_data::partners_and_agreements(&app).await;
    let json: Value = serde_json::from_str(&text(&app, GIVING_JSON).await).unwrap();
    assert_eq!(
        json["grants"][0]["beneficiaryLocation"],
        json!([{ "name": "Tamworth CSP area", "countryCode": "GB", "geoCode": "E22000123", "geoCodeType": "CSP" }])
    );
    assert_eq!(json["grants"][0]["dataSource"], "https://example.org/360/grants.json");
    for key in ["area_code", "area_name", "data_source"] {
        sqlx::query("delete from settings where key = $1").bind(key).execute(app.store.pool()).await.unwrap();
        let r = app.get(GIVING_CSV, Role::Viewer).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{key}: {}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains(&format!("setting {key} is not set")), "{}", r.body);
        app.patch(
            "/api/v1/settings",
            Role::Admin,
            json!({ key: match key {
            "area_code" => "E07000199", "area_name" => "Tamworth", _ => "https://www.tamworth.gov.uk/" } }),
        )
        .await;
    }
    assert_eq!(app.get(GIVING_CSV, Role::Viewer).await.status, StatusCode::OK);
});

/// The commitment body as the OpenAPI document states it, checked by `jsonschema` against the
/// served document itself; `None` where the validator is missing (skipped outside CI).
fn document_accepts(doc: &Value, bodies: &[Value]) -> Option<Vec<bool>> {
    python_with_jsonschema()?;
    let dir = temp_dir("contract");
    let input = dir.join("input.json");
    std::fs::write(&input, serde_json::to_vec(&json!({ "doc": doc, "bodies": bodies })).unwrap()).unwrap();
    let script = r##"
import json, sys
from jsonschema import Draft202012Validator
given = json.load(open(sys.argv[1]))
schema = dict(given["doc"])
schema["$ref"] = "#/components/schemas/CommitmentBody"
validator = Draft202012Validator(schema)
print(json.dumps([validator.is_valid(b) for b in given["bodies"]]))
"##;
    let run = Command::new("python3").arg("-c").arg(script).arg(&input).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(run.status.success(), "jsonschema: {}", String::from_utf8_lossy(&run.stderr));
    Some(serde_json::from_slice(&run.stdout).unwrap())
}

backend_test!(the_document_requires_of_a_grant_agreement_what_the_server_does, |app: TestApp| async move {
    organisation(&app, json!({ "code": "YT", "name": "Tamworth Youth Trust", "kind": "vcse" })).await;
    project(&app, "YOUTH", "Youth diversion").await;
    app.allocate("LDF", "2023-24", "YOUTH", "20000.00").await;
    let agreement = json!({
        "kind": "grant_agreement", "grant": "LDF", "financial_year": "2023-24", "project": "YOUTH",
        "amount": "100.00", "date": "2023-09-15", "recipient": "YT", "start_date": "2023-10-01",
        "end_date": "2024-03-31", "purpose": "Mentoring", "schedule": [{ "financial_year": "2023-24", "amount": "100.00" }],
    });
    let order = json!({ "grant": "LDF", "financial_year": "2023-24", "project": "YOUTH", "supplier": "Signs Ltd",
                        "amount": "50.00", "date": "2023-07-01" });
    let without = |body: &Value, field: &str| {
        let mut b = body.clone();
        b.as_object_mut().unwrap().remove(field);
        b
    };
    let with = |body: &Value, field: &str, value: Value| {
        let mut b = body.clone();
        b[field] = value;
        b
    };
    // Each body, what the document says of it, and the field the server names refusing it.
    let cases: Vec<(Value, Option<&str>)> = vec![
        (agreement.clone(), None),
        (order.clone(), None),
        (with(&order, "kind", json!("purchase_order")), None),
        (without(&agreement, "purpose"), Some("purpose")),
        (with(&agreement, "purpose", json!(" ")), Some("purpose")),
        (without(&agreement, "recipient"), Some("recipient")),
        (without(&agreement, "schedule"), Some("schedule")),
        (without(&agreement, "start_date"), Some("start_date")),
        (without(&agreement, "kind"), Some("recipient")),
        (without(&order, "supplier"), Some("supplier")),
        (with(&order, "purpose", json!("Mentoring")), Some("purpose")),
    ];
    let doc = serde_json::to_value(grant_ledger::http::openapi::document()).unwrap();
    let bodies: Vec<Value> = cases.iter().map(|(b, _)| b.clone()).collect();
    let documented = document_accepts(&doc, &bodies);
    for (i, (body, refused)) in cases.iter().enumerate() {
        let r = app.post("/api/v1/commitments", Role::Finance, body.clone()).await;
        match refused {
            None => assert_eq!(r.status, StatusCode::CREATED, "{body}: {}", r.body),
            Some(field) => {
                assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.body);
                assert!(r.fields().contains(&field.to_string()), "{body}: {}", r.body);
            }
        }
        if let Some(documented) = &documented {
            assert_eq!(documented[i], refused.is_none(), "the document and the server disagree on {body}");
        }
    }
});
