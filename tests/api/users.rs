//! People who sign in: added, listed, disabled and reset through the API and the command
//! line; signing in with a password through the page form; the per-account throttle; idle
//! expiry; a disabled user's session ending at once; and a password never in any answer.

use std::io::Write;
use std::time::Duration;

use axum::http::{Method, StatusCode, header};
use grant_ledger::http::{AppState, app as router_of};
use grant_ledger::storage::tokens::Role;
use serde_json::json;
use sqlx::Row;

use crate::backend_test;
use crate::pages::{SignInPage, send_to};
use crate::support::TestApp;

const PASSWORD: &str = "a long passphrase 1";

async fn add(app: &TestApp, username: &str, display: &str, role: &str, password: &str) -> crate::support::Reply {
    let body = json!({ "username": username, "display_name": display, "role": role, "password": password });
    app.call(Method::POST, "/api/v1/users", Some(app.token(Role::Admin)), Some(body), &[]).await
}

/// Runs the binary with `stdin` fed in.
fn cli_with_stdin(app: &TestApp, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
        .args(args)
        .env("DATABASE_URL", &app.url)
        .env("RUST_LOG", "debug")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running grant-ledger");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Signs in with a username and password through the form; the answer.
pub(crate) async fn sign_in_as(router: &axum::Router, username: &str, password: &str) -> crate::pages::Page {
    let page = SignInPage::open(router).await;
    page.post(router, &format!("username={username}&password={}", password.replace(' ', "+")), &[]).await
}

backend_test!(users_are_added_listed_and_disabled_through_the_api_and_the_cli, |app: TestApp| async move {
    let r = add(&app, "Alice", "Alice Jones", "finance", PASSWORD).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["username"], "alice", "stored case-folded");
    assert!(!r.body.to_string().contains(PASSWORD) && !r.body.to_string().contains("argon2"), "{}", r.body);

    let dup = add(&app, "ALICE", "Another", "viewer", "another long passphrase").await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", dup.body);
    assert_eq!(dup.body["errors"][0]["field"], "username", "{}", dup.body);
    for weak in ["short", "zzzzzzzzzzzzzzzz", "bobbybobbybobby"] {
        let r = add(&app, "bobbybobbybobby", "Bob", "viewer", weak).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{weak}: {}", r.body);
        assert_eq!(r.body["errors"][0]["field"], "password", "{}", r.body);
        assert!(!r.body.to_string().contains(weak), "the refusal does not echo the password: {}", r.body);
    }
    let viewer = app.call(Method::POST, "/api/v1/users", Some(app.token(Role::Viewer)), Some(json!({})), &[]).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);

    let (ok, out) = cli_with_stdin(
        &app,
        &["user", "add", "carol", "--role", "admin", "--display-name", "Carol Smith", "--password-stdin"],
        "carol's long passphrase\n",
    );
    assert!(ok, "{out}");
    assert!(!out.contains("carol's long passphrase"), "the CLI never echoes the password: {out}");
    let (ok, out) = cli_with_stdin(&app, &["user", "add", "dave", "--role", "viewer", "--password-stdin"], "dave\n");
    assert!(!ok && out.contains("password"), "{out}");

    let list = app.get("/api/v1/users", Role::Admin).await;
    let names: Vec<&str> =
        list.body["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["alice", "carol"]);
    let (ok, out, _) = app.cli(&["user", "list"]);
    assert!(ok && out.contains("alice") && out.contains("Carol Smith"), "{out}");

    let r = app.call(Method::POST, "/api/v1/users/Alice/disable", Some(app.token(Role::Admin)), None, &[]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let again = app.call(Method::POST, "/api/v1/users/alice/disable", Some(app.token(Role::Admin)), None, &[]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let (ok, _, out) = app.cli(&["user", "disable", "carol"]);
    assert!(ok, "{out}");
    let list = app.get("/api/v1/users", Role::Admin).await;
    assert!(list.body["items"].as_array().unwrap().iter().all(|u| u["disabled_at"].is_string()), "{}", list.body);
    app.assert_verified().await;
});

backend_test!(a_user_signs_in_with_a_password_and_their_session_names_them, |app: TestApp| async move {
    add(&app, "alice", "Alice Jones", "viewer", PASSWORD).await;
    let p = sign_in_as(&app.router, "Alice", PASSWORD).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    let secret = p.cookie("gl_session").expect("a session");
    let dash = send_to(&app.router, "GET", "/dashboard?financial_year=2023-24", Some(&secret), None, &[]).await;
    assert_eq!(dash.status, StatusCode::OK, "{}", dash.text);
    assert!(dash.text.contains("Signed in as Alice Jones."), "the display name");
    assert!(dash.text.contains("href=\"/account/password\"") && !dash.text.contains("href=\"/admin/users\""));
    // The sign-in is in the audit trail under the username.
    let actor: String = sqlx::query("select actor from audit_log where entity = 'session' order by id desc")
        .fetch_one(app.store.pool())
        .await
        .unwrap()
        .get("actor");
    assert_eq!(actor, "alice");

    // A wrong password: the form again, generic, the username kept and the password not.
    let bad = sign_in_as(&app.router, "alice", "not the passphrase").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.text.contains("That username and password do not match an account."), "{}", bad.text);
    assert!(bad.text.contains("value=\"alice\""), "the username is kept");
    assert!(!bad.text.contains("not the passphrase"), "the password is not");
    let nobody = sign_in_as(&app.router, "nobody", "not the passphrase").await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
    let alert = |t: &str| t[t.find("role=\"alert\"").unwrap()..].split('<').next().unwrap().to_owned();
    assert_eq!(alert(&bad.text), alert(&nobody.text), "an unknown username is refused in the same words");
    let viewer_page = send_to(&app.router, "GET", "/admin/users", Some(&secret), None, &[]).await;
    assert_eq!(viewer_page.status, StatusCode::FORBIDDEN, "a viewer gets the 403 page");
    assert!(viewer_page.is_html());

    // Disabled: the session stops at once.
    app.call(Method::POST, "/api/v1/users/alice/disable", Some(app.token(Role::Admin)), None, &[]).await;
    let dash = send_to(&app.router, "GET", "/dashboard", Some(&secret), None, &[]).await;
    assert_eq!(dash.status, StatusCode::SEE_OTHER, "to sign-in");
    assert!(dash.headers[header::LOCATION].to_str().unwrap().starts_with("/sign-in"));
    assert_eq!(sign_in_as(&app.router, "alice", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    app.assert_verified().await;
});

backend_test!(a_reset_ends_sessions_and_the_new_password_signs_in, |app: TestApp| async move {
    add(&app, "erin", "Erin", "admin", PASSWORD).await;
    let secret = sign_in_as(&app.router, "erin", PASSWORD).await.cookie("gl_session").unwrap();
    let dash = send_to(&app.router, "GET", "/dashboard?financial_year=2023-24", Some(&secret), None, &[]).await;
    assert!(dash.text.contains("href=\"/admin/users\""), "an admin is shown the users page");
    let (ok, out) =
        cli_with_stdin(&app, &["user", "reset-password", "erin", "--password-stdin"], "a brand new passphrase\n");
    assert!(ok && !out.contains("brand new"), "{out}");
    let dash = send_to(&app.router, "GET", "/dashboard", Some(&secret), None, &[]).await;
    assert_eq!(dash.status, StatusCode::SEE_OTHER, "the reset ended the session");
    assert_eq!(sign_in_as(&app.router, "erin", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in_as(&app.router, "erin", "a brand new passphrase").await.status, StatusCode::SEE_OTHER);
    app.assert_verified().await;
});

backend_test!(an_idle_session_ends, |app: TestApp| async move {
    add(&app, "frank", "Frank", "viewer", PASSWORD).await;
    let secret = sign_in_as(&app.router, "frank", PASSWORD).await.cookie("gl_session").unwrap();
    let idle = router_of(AppState { session_idle: Duration::ZERO, ..AppState::new(app.store.clone()) });
    let page = send_to(&idle, "GET", "/dashboard", Some(&secret), None, &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "idle past the limit");
    let page = send_to(&app.router, "GET", "/dashboard?financial_year=2023-24", Some(&secret), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "within the default limit");
});

backend_test!(an_account_is_throttled_from_any_address, |app: TestApp| async move {
    use grant_ledger::http::throttle::FAILURES_MAX;
    add(&app, "gina", "Gina", "viewer", PASSWORD).await;
    let page = SignInPage::open(&app.router).await;
    // Each failure from its own address, so only the account's count can stop the next.
    async fn from(app: &TestApp, page: &SignInPage, ip: &str, fields: &str) -> StatusCode {
        use axum::body::Body;
        use tower::ServiceExt;
        let addr: std::net::SocketAddr = format!("{ip}:40000").parse().unwrap();
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/sign-in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("gl_sign_in={}", page.cookie))
            .extension(axum::extract::ConnectInfo(addr))
            .body(Body::from(format!("{fields}&csrf_token={}", page.token)))
            .unwrap();
        app.router.clone().oneshot(req).await.unwrap().status()
    }
    for i in 0..FAILURES_MAX {
        let s = from(&app, &page, &format!("203.0.113.{i}"), "username=GINA&password=wrong+guess+here").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "guess {i}");
    }
    let right = format!("username=gina&password={}", PASSWORD.replace(' ', "+"));
    assert_eq!(from(&app, &page, "198.51.100.1", &right).await, StatusCode::TOO_MANY_REQUESTS, "a fresh address too");
    // An unknown username is throttled the same way, so a refusal says nothing of who exists.
    for i in 0..FAILURES_MAX {
        from(&app, &page, &format!("192.0.2.{i}"), "username=nobody&password=wrong+guess+here").await;
    }
    let s = from(&app, &page, "198.51.100.2", "username=nobody&password=wrong+guess+here").await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // Another account from the same addresses is untouched.
    add(&app, "hal", "Hal", "viewer", PASSWORD).await;
    let hal = format!("username=hal&password={}", PASSWORD.replace(' ', "+"));
    assert_eq!(from(&app, &page, "198.51.100.3", &hal).await, StatusCode::SEE_OTHER);
});

backend_test!(pages_change_a_password_and_manage_users, |app: TestApp| async move {
    add(&app, "jo", "Jo Admin", "admin", PASSWORD).await;
    let secret = sign_in_as(&app.router, "jo", PASSWORD).await.cookie("gl_session").unwrap();
    let form = send_to(&app.router, "GET", "/account/password", Some(&secret), None, &[]).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    let token = form.form_token();
    let post = |path: &'static str, fields: String| {
        let router = app.router.clone();
        let secret = secret.clone();
        let token = token.clone();
        async move {
            send_to(&router, "POST", path, Some(&secret), Some(&format!("{fields}&csrf_token={token}")), &[]).await
        }
    };
    // Wrong current password, and two that differ: the form again, no password in it.
    let wrong = post(
        "/account/password",
        "current_password=nope+nope+nope&new_password=next+long+passphrase&confirm_password=next+long+passphrase"
            .into(),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.text);
    assert!(wrong.text.contains("current_password") && !wrong.text.contains("next long passphrase"), "{}", wrong.text);
    let differ = post(
        "/account/password",
        format!(
            "current_password={}&new_password=next+long+passphrase&confirm_password=other+long+passphrase",
            PASSWORD.replace(' ', "+")
        ),
    )
    .await;
    assert_eq!(differ.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = post(
        "/account/password",
        format!(
            "current_password={}&new_password=next+long+passphrase&confirm_password=next+long+passphrase",
            PASSWORD.replace(' ', "+")
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text);
    assert_eq!(sign_in_as(&app.router, "jo", "next long passphrase").await.status, StatusCode::SEE_OTHER);
    // The session that changed it goes on.
    let users = send_to(&app.router, "GET", "/admin/users", Some(&secret), None, &[]).await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.text);
    let added =
        post("/admin/users", "username=kim&display_name=Kim+Lee&role=viewer&password=kim%27s+long+passphrase".into())
            .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    let weak = post("/admin/users", "username=lou&display_name=Lou&role=viewer&password=shortpw".into()).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.text.contains("password: ") && !weak.text.contains("shortpw") && weak.text.contains("value=\"lou\""),
        "{}",
        weak.text
    );
    let reset = post("/admin/users/kim/reset-password", "password=kim%27s+new+passphrase".into()).await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER, "{}", reset.text);
    assert_eq!(sign_in_as(&app.router, "kim", "kim's new passphrase").await.status, StatusCode::SEE_OTHER);
    let disabled = post("/admin/users/kim/disable", String::new()).await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER, "{}", disabled.text);
    assert_eq!(sign_in_as(&app.router, "kim", "kim's new passphrase").await.status, StatusCode::UNAUTHORIZED);
    // The audit trail names the person who made each change.
    let actors: Vec<String> = sqlx::query("select actor from audit_log where entity = 'user' and entity_key = (select cast(id as text) from users where username = 'kim') order by id")
        .fetch_all(app.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("actor"))
        .collect();
    assert_eq!(actors, ["jo", "jo", "jo"]);
    app.assert_verified().await;
});

backend_test!(an_allocation_through_the_form_is_recorded_as_the_user, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    add(&app, "mia", "Mia Approver", "approver", PASSWORD).await;
    let secret = sign_in_as(&app.router, "mia", PASSWORD).await.cookie("gl_session").expect("a session");
    let form = send_to(&app.router, "GET", "/allocations/new", Some(&secret), None, &[]).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    let body = format!(
        "grant=LDF&financial_year=2023-24&project=P1&amount=700.00&approved_on=2023-06-01\
         &approval_ref=CSP+minute+3&memo=&csrf_token={}",
        form.form_token()
    );
    let p = send_to(&app.router, "POST", "/allocations", Some(&secret), Some(&body), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    let location = p.headers[header::LOCATION].to_str().unwrap().to_owned();
    let id: i64 = location.strip_prefix("/entries/").and_then(|i| i.parse().ok()).expect(&location);
    let entry = app.get(&format!("/api/v1/entries/{id}"), Role::Viewer).await;
    assert_eq!(entry.body["created_by"], "mia", "the username, not the display name: {}", entry.body);
    assert_eq!(entry.body["kind"], "allocation");
    let page = send_to(&app.router, "GET", &location, Some(&secret), None, &[]).await;
    assert!(page.text.contains("<dd id=\"entry-created-by\">mia</dd>"), "{}", page.text);
    // The audit trail names her for the session the allocation was made in, through the API.
    let audit = app.get("/api/v1/audit?entity=session", Role::Admin).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    let actors: Vec<&str> =
        audit.body["items"].as_array().unwrap().iter().filter_map(|r| r["actor"].as_str()).collect();
    assert!(actors.contains(&"mia"), "{}", audit.body);
    assert!(!audit.body.to_string().contains(PASSWORD), "no password in the audit trail");
    app.assert_verified().await;
});
