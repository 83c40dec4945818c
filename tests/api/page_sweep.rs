//! Every page that takes a post, read from the served contract rather than listed by hand, so
//! a form added later is covered the day it is added: without the session's own form token, or
//! with another session's, it is refused (403, "This form was not accepted"); a viewer is
//! refused every recording form and every recording post; without a session nothing is
//! accepted; and none of those refusals writes anything. And every form, sent the hostile text
//! of the other page tests in each of its text fields, shows it back only escaped.

use axum::http::{Method, StatusCode};
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::backend_test;
use crate::forms::encode;
use crate::hostile_pages::{ESCAPED, HOSTILE};
use crate::imports::HEADER;
use crate::pages::{send, sign_in};
use crate::support::TestApp;

/// The page posts a viewer may make: their own session and password.
const A_VIEWERS_OWN: &[&str] = &["/sign-out", "/account/password"];

/// The session that may open the form at `template`: the funder's forms are funder_admin's
/// alone, every other form admin may open.
fn may_open<'a>(template: &str, admin: &'a String, funder_admin: &'a String) -> &'a String {
    if template.starts_with("/funder/") { funder_admin } else { admin }
}

/// How many rows the ledger's audit trail, entries and sessions hold: a refusal changes none
/// of the first two (the third only grows by the sessions the test opens).
async fn written(app: &TestApp) -> (i64, i64) {
    let count = |table: &'static str| async move {
        sqlx::query_scalar::<_, i64>(&format!("select count(*) from {table}"))
            .fetch_one(app.store.pool())
            .await
            .unwrap()
    };
    (count("audit_log").await, count("entries").await)
}

/// The id of the first row of `table`.
async fn first_id(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(&format!("select min(id) from {table}")).fetch_one(app.store.pool()).await.unwrap()
}

/// The contract's page paths (not under /api/) that answer `method`.
async fn page_paths(app: &TestApp, method: &str) -> Vec<String> {
    let doc = app.call(Method::GET, "/openapi.json", None, None, &[]).await.body;
    let paths = doc["paths"].as_object().expect("the contract's paths");
    paths
        .iter()
        .filter(|(path, item)| !path.starts_with("/api/") && item.get(method).is_some())
        .map(|(path, _)| path.clone())
        .collect()
}

/// `template` with each `{param}` replaced by a record the ledger holds; None when the
/// records name none for one of them.
fn fill(template: &str, records: &[(&str, String)]) -> Option<String> {
    let mut path = template.to_owned();
    while let Some(start) = path.find('{') {
        let end = start + path[start..].find('}').unwrap();
        let key = &path[start..=end];
        // An id names a record of the collection the path begins with.
        let lookup =
            if key == "{id}" { format!("{}/{key}", template.split('/').nth(1).unwrap()) } else { key.to_owned() };
        let value = records.iter().find(|(k, _)| *k == lookup)?.1.clone();
        path.replace_range(start..=end, &value);
    }
    Some(path)
}

/// `fill`, for the sweep that must reach every page: a page with no record is a test to extend.
fn fill_every(template: &str, records: &[(&str, String)]) -> String {
    fill(template, records).unwrap_or_else(|| panic!("{template}: no record for its path; add one to this test"))
}

/// One record of each kind a page acts on by its id or code, and the values that fill a path's
/// `{param}` with them.
async fn one_of_each(app: &TestApp) -> Vec<(&'static str, String)> {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "9000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-05-01", "100")).await;
    app.ok(
        "/api/v1/commitments",
        Role::Finance,
        json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "date": "2023-05-02",
                "amount": "200", "supplier": "Youth Trust", "reference": "PO-1" }),
    )
    .await;
    app.project("P2", "ASB").await;
    let waiting = app.post(
        "/api/v1/virements",
        Role::Approver,
        json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": "P1", "to_project": "P2",
                "amount": "6000", "approved_on": "2023-05-03", "approval_ref": "CSP-1",
                "reason": "waits for a second approver" }),
    );
    assert_eq!(waiting.await.status, StatusCode::ACCEPTED);
    let file = format!("{HEADER}2023-05-04,LDF,P1,Cafe,Lunch,INV-9,5,A-9\n");
    let kept = app.send_bytes(Method::POST, "/api/v1/imports", Role::Finance, "text/csv", file.into_bytes()).await;
    assert_eq!(kept.status, StatusCode::CREATED, "{:?}", kept.body);
    let user = app.post(
        "/api/v1/users",
        Role::Admin,
        json!({ "username": "casey", "display_name": "Casey", "role": "finance", "password": "a long enough password" }),
    );
    assert_eq!(user.await.status, StatusCode::CREATED);
    vec![
        ("entries/{id}", first_id(app, "entries").await.to_string()),
        ("commitments/{id}", first_id(app, "commitments").await.to_string()),
        ("virements/{id}", first_id(app, "virements").await.to_string()),
        ("imports/{id}", first_id(app, "imports").await.to_string()),
        ("{code}", "P1".to_owned()),
        ("{username}", "casey".to_owned()),
        ("{grant}", "LDF".to_owned()),
        ("{fy}", "2023-24".to_owned()),
        ("{financial_year}", "2023-24".to_owned()),
        ("{quarter}", "1".to_owned()),
        ("{q}", "1".to_owned()),
    ]
}

backend_test!(every_page_post_needs_its_own_token_a_session_and_a_role_that_records, |app: TestApp| async move {
    let records = one_of_each(&app).await;
    let admin = sign_in(&app, Role::Admin).await;
    let funder_admin = sign_in(&app, Role::FunderAdmin).await;
    let viewer = sign_in(&app, Role::Viewer).await;
    let form_token = |secret: String| {
        let app = &app;
        async move { send(app, "GET", "/dashboard?financial_year=2023-24", Some(&secret), None, &[]).await.form_token() }
    };
    let foreign = form_token(sign_in(&app, Role::Admin).await).await;
    let viewers = form_token(viewer.clone()).await;
    let before = written(&app).await;

    let posts = page_paths(&app, "post").await;
    assert!(posts.len() >= 30, "the contract lists the page posts: {posts:?}");
    for template in posts.iter().filter(|p| *p != "/sign-in") {
        let path = fill_every(template, &records);
        // Fields a form of any kind might read, so a refusal is not for want of a field.
        let fields = "reason=x&amount=1&grant=LDF&financial_year=2023-24&project=P1&date=2023-06-01&name=x";
        for (why, body) in [
            ("no form token", fields.to_owned()),
            ("a made-up form token", format!("{fields}&csrf_token=nope")),
            ("another session's form token", format!("{fields}&csrf_token={foreign}")),
        ] {
            let p = send(&app, "POST", &path, Some(&admin), Some(&body), &[]).await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "POST {path} with {why}: {}", p.text);
            assert!(p.is_html(), "POST {path} with {why}: an HTML page");
            assert!(p.text.contains("This form was not accepted"), "POST {path} with {why}: {}", p.text);
        }
        let p = send(&app, "POST", &path, None, Some(&format!("{fields}&csrf_token={foreign}")), &[]).await;
        assert!(
            p.status == StatusCode::FORBIDDEN || p.status == StatusCode::SEE_OTHER,
            "POST {path} without a session: {:?}",
            p.status
        );
        if p.status == StatusCode::SEE_OTHER {
            assert!(p.headers["location"].to_str().unwrap().starts_with("/sign-in"), "{path}: only to sign in");
        }
        if !A_VIEWERS_OWN.contains(&template.as_str()) {
            let p =
                send(&app, "POST", &path, Some(&viewer), Some(&format!("{fields}&csrf_token={viewers}")), &[]).await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "POST {path} as a viewer with its own token: {}", p.text);
            assert!(p.is_html(), "POST {path} as a viewer: an HTML page");
        }
    }
    assert_eq!(written(&app).await, before, "no refused post wrote an entry or an audit record");

    // The forms themselves: a viewer is shown none of them. A form page is a path that ends
    // in /new, or one below a collection that also takes the form's post (a collection's own
    // path, e.g. /commitments, is its list, which a viewer reads).
    let mut forms = 0;
    for template in page_paths(&app, "get").await {
        let below_a_collection = template.matches('/').count() > 1;
        let is_form = template.ends_with("/new") || (below_a_collection && posts.contains(&template));
        if !is_form || A_VIEWERS_OWN.contains(&template.as_str()) || template == "/sign-in" {
            continue;
        }
        let path = fill_every(&template, &records);
        let p = send(&app, "GET", &path, Some(&viewer), None, &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "GET {path} as a viewer: {}", p.text);
        let p = send(&app, "GET", &path, Some(may_open(&template, &admin, &funder_admin)), None, &[]).await;
        assert_eq!(p.status, StatusCode::OK, "GET {path} as a role that may: {}", p.text);
        assert!(p.text.contains("name=\"csrf_token\""), "GET {path}: the form carries its token");
        forms += 1;
    }
    assert!(forms >= 19, "the contract lists the form pages: {forms}");
});

/// The fields a page's recording forms send: `(action, [(name, value)])`, each text field
/// filled with `text`, each hidden field and choice as the page gives it.
fn forms_filled(page: &str, text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let form = regex::Regex::new(r#"(?s)<form([^>]*method="post"[^>]*)>(.*?)</form>"#).unwrap();
    let input = regex::Regex::new(r#"<input([^>]*)>"#).unwrap();
    let attr = |tag: &str, name: &str| {
        regex::Regex::new(&format!(r#"\b{name}="([^"]*)""#)).unwrap().captures(tag).map(|c| c[1].to_owned())
    };
    let choice = regex::Regex::new(r#"(?s)<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>"#).unwrap();
    let area = regex::Regex::new(r#"<textarea[^>]*name="([^"]+)""#).unwrap();
    // An upload (multipart) is sent its hostile file by the import pages' own test.
    form.captures_iter(page)
        .filter(|f| !f[1].contains("multipart") && attr(&f[1], "action").is_some_and(|a| a != "/sign-out"))
        .map(|f| {
            let body = &f[2];
            let mut fields = Vec::new();
            for i in input.captures_iter(body) {
                let Some(name) = attr(&i[1], "name") else { continue };
                let kind = attr(&i[1], "type").unwrap_or_else(|| "text".to_owned());
                match kind.as_str() {
                    "hidden" => fields.push((name, attr(&i[1], "value").unwrap_or_default().replace("&amp;", "&"))),
                    "checkbox" | "radio" | "file" | "submit" => {}
                    _ => fields.push((name, text.to_owned())),
                }
            }
            for s in choice.captures_iter(body) {
                let first = attr(&s[2], "value").unwrap_or_default();
                fields.push((s[1].to_owned(), first));
            }
            for t in area.captures_iter(body) {
                fields.push((t[1].to_owned(), text.to_owned()));
            }
            (attr(&f[1], "action").unwrap().replace("&amp;", "&"), fields)
        })
        .collect()
}

backend_test!(hostile_text_through_every_form_comes_back_escaped, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "9000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-05-01", "100")).await;
    let records = vec![
        ("entries/{id}", first_id(&app, "entries").await.to_string()),
        ("{code}", "P1".to_owned()),
        ("{username}", "nobody".to_owned()),
        ("{grant}", "LDF".to_owned()),
        ("{fy}", "2023-24".to_owned()),
        ("{q}", "1".to_owned()),
    ];
    // A person with a password, so the password form is theirs to send too.
    let added = app.post(
        "/api/v1/users",
        Role::Admin,
        json!({ "username": "ada", "display_name": "Ada", "role": "admin", "password": "a long enough password" }),
    );
    assert_eq!(added.await.status, StatusCode::CREATED);
    let signed_in = crate::users::sign_in_as(&app.router, "ada", "a long enough password").await;
    let admin = signed_in.cookie("gl_session").expect("a session");
    let funder_admin = sign_in(&app, Role::FunderAdmin).await;
    let posts = page_paths(&app, "post").await;
    let (mut sent, mut echoed) = (0, 0);
    for template in page_paths(&app, "get").await {
        let below_a_collection = template.matches('/').count() > 1;
        let is_form = template.ends_with("/new") || (below_a_collection && posts.contains(&template));
        // Pages of records this test does not make (commitments, virements, imports, users)
        // are sent hostile text by their own tests.
        if !is_form || template == "/sign-in" {
            continue;
        }
        let Some(path) = fill(&template, &records) else { continue };
        let who = may_open(&template, &admin, &funder_admin);
        let page = send(&app, "GET", &path, Some(who), None, &[]).await;
        assert_eq!(page.status, StatusCode::OK, "GET {path}: {}", page.text);
        // Not the forms that would disable or reset the person sending them.
        for (action, fields) in forms_filled(&page.text, HOSTILE).into_iter().filter(|(a, _)| !a.contains("/ada/")) {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let p = send(&app, "POST", &action, Some(who), Some(&encode(&pairs)), &[]).await;
            assert!(p.status.as_u16() < 500, "POST {action} from {path}: {:?} {}", p.status, p.text);
            assert_ne!(p.status, StatusCode::FORBIDDEN, "POST {action} from {path}: its own token: {}", p.text);
            let shown = if p.status == StatusCode::SEE_OTHER {
                let to = p.headers["location"].to_str().unwrap().to_owned();
                send(&app, "GET", &to, Some(who), None, &[]).await.text
            } else {
                p.text
            };
            assert!(!shown.contains("<script>") && !shown.contains("<img"), "POST {action} from {path}: {shown}");
            if action.contains("password") {
                assert!(!shown.contains(ESCAPED), "POST {action}: a password is never shown back: {shown}");
            }
            echoed += usize::from(shown.contains(ESCAPED));
            sent += 1;
        }
    }
    assert!(sent >= 19, "hostile text went through the forms: {sent}");
    // All but the password forms, which never show a password back, show the text kept.
    assert!(echoed >= sent - 2, "the text came back, escaped, from {echoed} of {sent}");
});

backend_test!(every_page_calls_the_person_by_their_display_name_escaped, |app: TestApp| async move {
    let mut records = one_of_each(&app).await;
    let filed = app.post(
        "/api/v1/returns",
        Role::Finance,
        json!({ "kind": "commissioner-return", "financial_year": "2023-24", "quarter": 1 }),
    );
    let filed = filed.await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
    records.push(("returns/{id}", filed.body["id"].as_i64().unwrap().to_string()));
    let user = app.post(
        "/api/v1/users",
        Role::Admin,
        json!({ "username": "kim", "display_name": format!("Kim {HOSTILE}"), "role": "admin",
                "password": "a long enough password" }),
    );
    assert_eq!(user.await.status, StatusCode::CREATED);
    let signed_in = crate::users::sign_in_as(&app.router, "kim", "a long enough password").await;
    let kim = signed_in.cookie("gl_session").expect("a session");
    let shown = format!("Signed in as Kim {ESCAPED}.");
    let mut named = Vec::new();
    for template in page_paths(&app, "get").await {
        let Some(path) = fill(&template, &records) else { continue };
        let page = send(&app, "GET", &path, Some(&kim), None, &[]).await;
        if page.status != StatusCode::OK || !page.text.contains("Signed in as") {
            continue;
        }
        assert!(page.text.contains(&shown), "GET {path}: the display name, escaped: {}", page.text);
        assert!(!page.text.contains("Signed in as kim"), "GET {path}: not the username");
        named.push(template);
    }
    // The pages that name the person, among them each kind of page (the dashboard, a
    // recording form, a control's form, a record's page, the year's page).
    for page in [
        "/dashboard",
        "/allocations/new",
        "/forecasts/new",
        "/grants/{grant}/awards/{fy}/payment-schedule",
        "/financial-years/{fy}/close",
        "/returns/new",
        "/returns/{id}",
        "/entries/{id}",
        "/commitments/{id}",
        "/virements/{id}",
        "/imports/{id}",
        "/projects/{code}",
        "/financial-years/{fy}",
    ] {
        assert!(named.iter().any(|n| n == page), "{page} names the person: {named:?}");
    }
});
