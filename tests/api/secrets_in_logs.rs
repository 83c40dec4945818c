//! A password never reaches the server's log: the real binary, logging at its most verbose
//! (`RUST_LOG=trace`, every crate), is sent a wrong password, the right one and a change of
//! password over a real socket, and its whole log is searched for each of them.

use std::io::{Read, Write};

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::backend_test;
use crate::support::TestApp;

/// One request to 127.0.0.1:`port` over a fresh connection: the whole answer.
fn raw(port: u16, request: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// A form post with `cookie`.
fn post(port: u16, path: &str, cookie: &str, form: &str) -> String {
    raw(
        port,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\nCookie: {cookie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    )
}

fn get(port: u16, path: &str, cookie: &str) -> String {
    raw(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"),
    )
}

/// The value `answer` sets cookie `name` to.
fn cookie(answer: &str, name: &str) -> String {
    answer
        .split(&format!("{name}="))
        .nth(1)
        .unwrap_or_else(|| panic!("no {name}: {answer}"))
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

fn form_token(page: &str) -> String {
    let at = page.find("name=\"csrf_token\" value=\"").unwrap_or_else(|| panic!("no form: {page}"));
    page[at + "name=\"csrf_token\" value=\"".len()..].split('"').next().unwrap().to_owned()
}

backend_test!(no_password_reaches_the_log_even_at_trace, |app: TestApp| async move {
    let (wrong, first, second) = ("Wrong-Horse-7-battery", "Correct-Horse-8-battery", "Changed-Staple-9-battery");
    let added = app.post(
        "/api/v1/users",
        Role::Admin,
        json!({ "username": "ada", "display_name": "Ada", "role": "finance", "password": first }),
    );
    assert_eq!(added.await.status, StatusCode::CREATED);

    // Every line the server logs is kept, from start to kill.
    let (mut child, port, log_start, rest) = crate::pages::serve_logging(&app, &[], "trace");
    let port = port.unwrap_or_else(|| panic!("the server did not start: {log_start}"));

    let sign_in = |password: &str| {
        let page = get(port, "/sign-in", "");
        let pre = cookie(&page, "gl_sign_in");
        let form = format!("username=ada&password={password}&csrf_token={}", form_token(&page));
        post(port, "/sign-in", &format!("gl_sign_in={pre}"), &form)
    };
    let refused = sign_in(wrong);
    assert!(refused.starts_with("HTTP/1.1 401") || refused.starts_with("HTTP/1.1 422"), "{refused}");
    assert!(!refused.contains(wrong), "the wrong password is not shown back");
    let signed_in = sign_in(first);
    assert!(signed_in.starts_with("HTTP/1.1 303"), "{signed_in}");
    let session = format!("gl_session={}", cookie(&signed_in, "gl_session"));
    let page = get(port, "/account/password", &session);
    let form = format!(
        "current_password={first}&new_password={second}&confirm_password={second}&csrf_token={}",
        form_token(&page)
    );
    let changed = post(port, "/account/password", &session, &form);
    assert!(changed.starts_with("HTTP/1.1 303") || changed.starts_with("HTTP/1.1 200"), "{changed}");
    assert!(!changed.contains(first) && !changed.contains(second), "no password is shown back: {changed}");

    child.kill().unwrap();
    child.wait().unwrap();
    let log = log_start + &rest.join().unwrap();
    // The log is the verbose one: it shows the requests themselves.
    assert!(log.contains("/account/password") && log.contains("/sign-in"), "{log}");
    for secret in [wrong, first, second] {
        assert!(!log.contains(secret), "{secret} is in the log");
    }
});
