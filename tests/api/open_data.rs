//! Open data. Grant agreements awarded in a year, published as the
//! Transparency Code's VCSE grants CSV and in the 360Giving Data Standard (JSON and CSV),
//! each compared byte for byte with a file written by hand; the JSON held to the standard's
//! rules; `as_known_at`, the settings they need, and formula defusing. The 360Giving files
//! held to the standard's own schema and tools: tests/api/giving_standard.rs.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use grant_ledger::reports::open_data::check_360giving;
use grant_ledger::storage::tokens::Role;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::backend_test;
use crate::support::TestApp;

const VCSE: &str = "/api/v1/exports/vcse-grants?financial_year=2023-24";
const GIVING_JSON: &str = "/api/v1/exports/360giving?financial_year=2023-24";
const GIVING_CSV: &str = "/api/v1/exports/360giving?financial_year=2023-24&format=csv";

/// A reply's status, content type and bytes, untouched.
pub async fn raw_get(app: &TestApp, path: &str, role: Role) -> (StatusCode, String, Vec<u8>) {
    let req = Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {}", app.token(role)))
        .body(Body::empty())
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let content_type = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, resp.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// A reply that must be 200, as text.
pub async fn text(app: &TestApp, path: &str) -> String {
    let (status, _, bytes) = raw_get(app, path, Role::Viewer).await;
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(status, StatusCode::OK, "{path}: {text}");
    text
}

pub async fn organisation(app: &TestApp, body: Value) {
    app.ok("/api/v1/organisations", Role::Approver, body).await;
}

pub async fn project(app: &TestApp, code: &str, name: &str) {
    app.ok("/api/v1/projects", Role::Approver, json!({ "code": code, "name": name, "priority": "ASB" })).await;
}

/// Records a grant agreement through the API and answers its id.
#[allow(clippy::too_many_arguments)]
pub async fn agreement(
    app: &TestApp,
    project: &str,
    recipient: &str,
    date: &str,
    (start, end): (&str, &str),
    purpose: &str,
    schedule: &[(&str, &str)],
    reference: &str,
) -> i64 {
    let total: i64 = schedule.iter().map(|(_, a)| grant_ledger::domain::Money::parse(a).unwrap().pence()).sum();
    let amount = grant_ledger::domain::Money::from_pence(total).to_string();
    let parts: Vec<Value> = schedule.iter().map(|(y, a)| json!({ "financial_year": y, "amount": a })).collect();
    let body = json!({
        "kind": "grant_agreement", "grant": "LDF", "financial_year": schedule[0].0, "project": project,
        "reference": reference, "amount": amount, "date": date, "memo": "", "recipient": recipient,
        "start_date": start, "end_date": end, "purpose": purpose, "schedule": parts,
    });
    app.ok("/api/v1/commitments", Role::Finance, body).await["commitment_id"].as_i64().unwrap()
}

/// Three organisations, two projects funded in both years, and agreements: two to VCSE
/// partners in 2023-24 (one over two years), one to a public body, a purchase order, and
/// one awarded in 2024-25. Answers the agreements' ids in the order made.
pub async fn partners_and_agreements(app: &TestApp) -> Vec<i64> {
    organisation(
        app,
        json!({ "code": "YT", "name": "Tamworth Youth Trust", "kind": "vcse", "charity_number": "1123456",
                "company_number": "06543210", "org_id": "GB-CHC-1123456", "postcode": "b79 7bz" }),
    )
    .await;
    organisation(
        app,
        json!({ "code": "GCIC", "name": "Glascote Community CIC", "kind": "vcse", "company_number": "12345678",
                "postcode": "B77 2AA" }),
    )
    .await;
    organisation(app, json!({ "code": "SCC", "name": "Staffordshire County Council", "kind": "public" })).await;
    project(app, "YOUTH", "Youth diversion").await;
    project(app, "CLEAN", "Clean neighbourhoods").await;
    app.allocate("LDF", "2023-24", "YOUTH", "20000.00").await;
    app.allocate("LDF", "2023-24", "CLEAN", "15000.00").await;
    app.allocate("LDF", "2024-25", "YOUTH", "20000.00").await;
    let two_years = agreement(
        app,
        "YOUTH",
        "YT",
        "2023-09-15",
        ("2023-10-01", "2024-09-30"),
        "Detached youth work in Glascote and Belgrave, evenings and weekends",
        &[("2023-24", "6000.00"), ("2024-25", "6000.00")],
        "GA-2023-01",
    )
    .await;
    let one_year = agreement(
        app,
        "CLEAN",
        "GCIC",
        "2023-05-20",
        ("2023-06-01", "2024-03-31"),
        "Community litter picks, with \"Keep Tamworth Tidy\" kits",
        &[("2023-24", "2500.50")],
        "GA-2023-02",
    )
    .await;
    let public = agreement(
        app,
        "CLEAN",
        "SCC",
        "2023-11-01",
        ("2023-11-01", "2024-03-31"),
        "Graffiti removal on county highways",
        &[("2023-24", "4000.00")],
        "GA-2023-03",
    )
    .await;
    // A purchase order is no grant: neither export shows it.
    app.ok(
        "/api/v1/commitments",
        Role::Finance,
        json!({ "grant": "LDF", "financial_year": "2023-24", "project": "CLEAN", "supplier": "Signs Ltd",
                "reference": "PO-1", "amount": "300.00", "date": "2023-07-01" }),
    )
    .await;
    let next_year = agreement(
        app,
        "YOUTH",
        "GCIC",
        "2024-04-10",
        ("2024-05-01", "2025-03-31"),
        "Summer youth activity evenings",
        &[("2024-25", "3000.00")],
        "GA-2024-01",
    )
    .await;
    vec![two_years, one_year, public, next_year]
}

/// A 360Giving file with each `dateModified` (JSON) or `Last Modified` (CSV) written as
/// `MODIFIED`, after checking each is an instant of this run to the second, as the golden files
/// hold them: when a grant was recorded is the clock's, not the test's.
pub fn modified_as_written(file: &str) -> String {
    let instant = regex::Regex::new(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z").unwrap();
    let now = chrono::Utc::now();
    let mut found = 0;
    let written = instant.replace_all(file, |c: &regex::Captures| {
        let t = chrono::DateTime::parse_from_rfc3339(&c[0]).unwrap();
        assert!(t <= now && t > now - chrono::Duration::hours(1), "{t}: not of this run");
        found += 1;
        "MODIFIED"
    });
    assert!(found > 0, "no instant in {file}");
    written.into_owned()
}

backend_test!(both_exports_match_the_files_written_by_hand, |app: TestApp| async move {
    let ids = partners_and_agreements(&app).await;
    assert_eq!(ids, vec![1, 2, 3, 5], "the golden files name these ids");

    let (status, content_type, vcse) = raw_get(&app, VCSE, Role::Viewer).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "text/csv; charset=utf-8"));
    assert_eq!(String::from_utf8(vcse).unwrap(), include_str!("../golden/vcse-grants-2023-24.csv"));

    let (status, content_type, giving) = raw_get(&app, GIVING_JSON, Role::Viewer).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "application/json"));
    let giving = String::from_utf8(giving).unwrap();
    assert_eq!(modified_as_written(&giving), include_str!("../golden/360giving-2023-24.json"));
    assert_eq!(text(&app, &format!("{GIVING_JSON}&format=json")).await, giving, "json is the default");
    let parsed: Value = serde_json::from_str(&giving).unwrap();
    assert_eq!(check_360giving(&parsed), Vec::<String>::new(), "the file keeps the standard's rules");
    assert_eq!(parsed["grants"].as_array().unwrap().len(), 3);

    let giving_csv = text(&app, GIVING_CSV).await;
    assert_eq!(modified_as_written(&giving_csv), include_str!("../golden/360giving-2023-24.csv"));

    // The next year holds only what was awarded in it: the two-year agreement is not repeated.
    let next = text(&app, "/api/v1/exports/vcse-grants?financial_year=2024-25").await;
    assert_eq!(next.lines().count(), 2, "{next}");
    assert!(next.contains(",3000.00,3000.00,5,LDF,YOUTH,"), "{next}");

    // The CLI writes the same bytes.
    let (ok, out, err) = app.cli(&["export", "vcse-grants", "--financial-year", "2023-24"]);
    assert!(ok, "{err}");
    assert_eq!(out, include_str!("../golden/vcse-grants-2023-24.csv"));
    let (ok, out, err) = app.cli(&["export", "360giving", "--financial-year", "2023-24"]);
    assert!(ok, "{err}");
    assert_eq!(out, giving);
    let (ok, out, err) = app.cli(&["export", "360giving", "--financial-year", "2023-24", "--format", "csv"]);
    assert!(ok, "{err}");
    assert_eq!(out, giving_csv);
    app.assert_verified().await;
});

backend_test!(an_agreement_recorded_after_as_known_at_is_left_out, |app: TestApp| async move {
    organisation(&app, json!({ "code": "YT", "name": "Tamworth Youth Trust", "kind": "vcse" })).await;
    project(&app, "YOUTH", "Youth diversion").await;
    app.allocate("LDF", "2023-24", "YOUTH", "20000.00").await;
    let first = agreement(
        &app,
        "YOUTH",
        "YT",
        "2023-09-15",
        ("2023-10-01", "2024-03-31"),
        "Detached youth work",
        &[("2023-24", "1000.00")],
        "",
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // Awarded earlier, recorded later: as known at `between` it was not yet awarded.
    let second = agreement(
        &app,
        "YOUTH",
        "YT",
        "2023-05-01",
        ("2023-05-01", "2024-03-31"),
        "Mentoring",
        &[("2023-24", "2000.00")],
        "",
    )
    .await;
    let ids = |csv: &str| -> Vec<String> {
        csv.lines().skip(1).map(|l| l.split(',').nth(9).unwrap().to_owned()).collect::<Vec<_>>()
    };
    let now = text(&app, VCSE).await;
    assert_eq!(ids(&now), vec![second.to_string(), first.to_string()], "award date order");
    let at = format!("&as_known_at={}", between.replace('+', "%2B"));
    let then = text(&app, &format!("{VCSE}{at}")).await;
    assert_eq!(ids(&then), vec![first.to_string()], "{then}");
    let giving: Value = serde_json::from_str(&text(&app, &format!("{GIVING_JSON}{at}")).await).unwrap();
    let grant_ids: Vec<&str> = giving["grants"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert_eq!(grant_ids, vec![format!("360G-tamworthcsp-{first}")]);
    let before_any = app.get(&format!("{GIVING_CSV}&as_known_at=2000-01-01T00:00:00Z"), Role::Viewer).await;
    assert_eq!((before_any.status, before_any.code()), (StatusCode::NOT_FOUND, "not_found"), "nothing to publish yet");
    let (ok, out, err) = app.cli(&["export", "vcse-grants", "--financial-year", "2023-24", "--as-known-at", &between]);
    assert!(ok, "{err}");
    assert_eq!(out, then);
});

backend_test!(formula_like_text_is_defused_in_the_vcse_file_and_kept_in_360giving, |app: TestApp| async move {
    organisation(&app, json!({ "code": "EVIL", "name": "=HYPERLINK(\"http://x\",\"Trust\")", "kind": "vcse" })).await;
    project(&app, "YOUTH", "Youth diversion").await;
    app.allocate("LDF", "2023-24", "YOUTH", "20000.00").await;
    agreement(
        &app,
        "YOUTH",
        "EVIL",
        "2023-09-15",
        ("2023-10-01", "2024-03-31"),
        "+Youth work",
        &[("2023-24", "1000.00")],
        "",
    )
    .await;
    let vcse = text(&app, VCSE).await;
    assert!(vcse.contains(",\"'=HYPERLINK(\"\"http://x\"\",\"\"Trust\"\")\",,'+Youth work,1000.00,"), "{vcse}");
    // The 360Giving CSV is data interchange: the JSON's values, as they are (docs/open-data.md).
    let giving = text(&app, GIVING_CSV).await;
    assert!(giving.contains(",+Youth work,GBP,1000.00,"), "{giving}");
    assert!(giving.contains(",\"=HYPERLINK(\"\"http://x\"\",\"\"Trust\"\")\","), "{giving}");
    let json: Value = serde_json::from_str(&text(&app, GIVING_JSON).await).unwrap();
    assert_eq!(json["grants"][0]["recipientOrganization"][0]["name"], "=HYPERLINK(\"http://x\",\"Trust\")");
    assert_eq!(json["grants"][0]["recipientOrganization"][0]["id"], "360G-tamworthcsp-org-EVIL");
});

backend_test!(the_settings_are_checked_and_an_unset_one_is_a_conflict, |app: TestApp| async move {
    let r = app.get("/api/v1/settings", Role::Viewer).await;
    assert_eq!(
        (&r.body["giving_prefix"], &r.body["funding_org_id"], &r.body["funding_org_name"]),
        (&json!("360G-tamworthcsp"), &json!("GB-LAE-TAW"), &json!("Tamworth Borough Council")),
        "the Tamworth fixtures set them"
    );
    for (field, value) in [
        ("giving_prefix", json!("tamworthcsp")),
        ("giving_prefix", json!("360G-")),
        ("giving_prefix", json!("360G-tam worth")),
        ("funding_org_id", json!("LAE-TAW")),
        ("funding_org_id", json!("")),
        ("funding_org_name", json!(" ")),
        ("funding_org_name", json!(7)),
    ] {
        let r = app.patch("/api/v1/settings", Role::Admin, json!({ field: value })).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            "{field}: {}",
            r.body
        );
        assert_eq!(r.fields(), vec![field.to_owned()], "{}", r.body);
    }
    // A refused patch changes nothing, the good part of it included.
    let r = app
        .patch("/api/v1/settings", Role::Admin, json!({ "funding_org_name": "Tamworth BC", "funding_org_id": "x" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/api/v1/settings", Role::Viewer).await.body["funding_org_name"], "Tamworth Borough Council");
    let r = app.patch("/api/v1/settings", Role::Approver, json!({ "giving_prefix": "360G-other" })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .patch(
            "/api/v1/settings",
            Role::Admin,
            json!({ "giving_prefix": "360G-tamworth-csp", "funding_org_id": "GB-LAE-TAW", "funding_org_name": "Tamworth BC" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (&r.body["giving_prefix"], &r.body["funding_org_name"]),
        (&json!("360G-tamworth-csp"), &json!("Tamworth BC"))
    );
    let audit = app.get("/api/v1/audit?entity=setting", Role::Admin).await;
    let keys: Vec<&str> = audit.body["items"].as_array().unwrap().iter().filter_map(|a| a["key"].as_str()).collect();
    assert!(keys.contains(&"giving_prefix") && keys.contains(&"funding_org_name"), "{}", audit.body);

    // A ledger whose publisher is not set yet: each export names the setting it needs.
    for key in ["funding_org_name", "giving_prefix", "funding_org_id"] {
        sqlx::query("delete from settings where key = $1").bind(key).execute(app.store.pool()).await.unwrap();
        assert_eq!(app.get("/api/v1/settings", Role::Viewer).await.body[key], Value::Null);
    }
    for (path, named) in [(VCSE, "funding_org_name"), (GIVING_JSON, "giving_prefix"), (GIVING_CSV, "giving_prefix")] {
        let r = app.get(path, Role::Viewer).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{path}: {}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains(named), "{path}: {}", r.body);
    }
    let r = app.patch("/api/v1/settings", Role::Admin, json!({ "giving_prefix": "360G-tamworthcsp" })).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.get(GIVING_JSON, Role::Viewer).await;
    assert!(r.body["detail"].as_str().unwrap().contains("funding_org_id"), "{}", r.body);
    let (ok, _, err) = app.cli(&["export", "360giving", "--financial-year", "2023-24"]);
    assert!(!ok && err.contains("funding_org_id"), "{err}");
});

backend_test!(the_exports_are_read_by_every_role_and_refuse_bad_parameters, |app: TestApp| async move {
    // No agreements: the VCSE file is its header alone (a nil return); 360Giving has nothing
    // to publish, since its package holds at least one grant.
    assert_eq!(text(&app, VCSE).await, format!("{}\r\n", grant_ledger::reports::open_data::VCSE_HEADER.join(",")));
    for path in [GIVING_JSON, GIVING_CSV] {
        let r = app.get(path, Role::Viewer).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{path}: {}", r.body);
        assert!(r.body["detail"].as_str().unwrap().starts_with("no grants to publish for 2023-24"), "{}", r.body);
    }
    partners_and_agreements(&app).await;
    for role in [Role::Viewer, Role::Funder, Role::Finance, Role::Approver, Role::Admin] {
        for path in [VCSE, GIVING_JSON, GIVING_CSV] {
            let (status, _, bytes) = raw_get(&app, path, role).await;
            assert_eq!(status, StatusCode::OK, "{role:?} {path}");
            assert!(!bytes.is_empty());
        }
    }
    for (path, field) in [
        ("/api/v1/exports/vcse-grants", "financial_year"),
        ("/api/v1/exports/vcse-grants?financial_year=2023", "financial_year"),
        ("/api/v1/exports/vcse-grants?financial_year=2023-24&as_known_at=yesterday", "as_known_at"),
        ("/api/v1/exports/vcse-grants?financial_year=2023-24&format=csv", "format"),
        ("/api/v1/exports/360giving?financial_year=2023-24&format=xml", "format"),
        ("/api/v1/exports/360giving?financial_year=2023-24&as_known_at=2024-01-10", "as_known_at"),
        ("/api/v1/exports/360giving", "financial_year"),
    ] {
        let r = app.get(path, Role::Viewer).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{path}");
        assert_eq!(r.fields(), vec![field.to_owned()], "{path}: {}", r.body);
    }
    for path in
        ["/api/v1/exports/vcse-grants?financial_year=2030-31", "/api/v1/exports/360giving?financial_year=2030-31"]
    {
        let r = app.get(path, Role::Viewer).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{path}");
    }
    let r = app.call(axum::http::Method::GET, VCSE, None, None, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
});

backend_test!(an_agreement_whose_commitment_is_reversed_is_left_out, |app: TestApp| async move {
    organisation(&app, json!({ "code": "YT", "name": "Tamworth Youth Trust", "kind": "vcse" })).await;
    project(&app, "YOUTH", "Youth diversion").await;
    app.allocate("LDF", "2023-24", "YOUTH", "20000.00").await;
    let body = json!({
        "kind": "grant_agreement", "grant": "LDF", "financial_year": "2023-24", "project": "YOUTH",
        "amount": "1000.00", "date": "2023-09-15", "recipient": "YT", "start_date": "2023-10-01",
        "end_date": "2024-03-31", "purpose": "Recorded in error", "schedule": [{ "financial_year": "2023-24", "amount": "1000.00" }],
    });
    let made = app.ok("/api/v1/commitments", Role::Finance, body).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let before = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let entry = made["entry_id"].as_i64().unwrap();
    app.ok(
        &format!("/api/v1/entries/{entry}/reverse"),
        Role::Finance,
        json!({ "date": "2023-09-20", "reason": "agreement recorded against the wrong partner" }),
    )
    .await;
    assert_eq!(text(&app, VCSE).await.lines().count(), 1, "a reversed agreement was never made");
    assert_eq!(app.get(GIVING_JSON, Role::Viewer).await.status, StatusCode::NOT_FOUND, "nothing to publish");
    // As known before the reversal, it stood.
    let then = text(&app, &format!("{VCSE}&as_known_at={before}")).await;
    assert_eq!(then.lines().count(), 2, "{then}");
    assert!(then.contains(",Recorded in error,1000.00,1000.00,"), "{then}");
    app.assert_verified().await;
});
