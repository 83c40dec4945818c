//! The HTML pages: sign-in through the form's own token sets a safe session cookie, sign-out
//! ends it, the dashboard shows the report's figures and escapes what it shows, nothing is
//! reachable without a session, and errors are pages.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use grant_ledger::storage::tokens::Role;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::backend_test;
use crate::support::TestApp;

pub(crate) struct Page {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub text: String,
}

impl Page {
    /// The value a `Set-Cookie` of this answer gives cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers.get_all(header::SET_COOKIE).iter().find_map(|v| {
            let first = v.to_str().unwrap().split(';').next().unwrap();
            first.strip_prefix(&format!("{name}=")).map(str::to_owned)
        })
    }

    /// The whole `Set-Cookie` line for cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with(&format!("{name}=")))
    }

    /// The hidden `csrf_token` of the page's (first) form.
    pub fn form_token(&self) -> String {
        let at =
            self.text.find("name=\"csrf_token\" value=\"").unwrap_or_else(|| panic!("no form token: {}", self.text));
        let rest = &self.text[at + "name=\"csrf_token\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    pub fn is_html(&self) -> bool {
        self.headers[header::CONTENT_TYPE] == "text/html; charset=utf-8"
    }
}

/// Sends a request to `router`: `cookie` is a session secret; `extra` headers may add
/// others, a `cookie` header among them.
pub(crate) async fn send_to(
    router: &axum::Router,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
    extra: &[(&str, &str)],
) -> Page {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, format!("gl_session={c}"));
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let req = match form {
        Some(f) => req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::from(f.to_owned())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Page { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
}

pub(crate) async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
    extra: &[(&str, &str)],
) -> Page {
    send_to(&app.router, method, path, cookie, form, extra).await
}

/// A browser that has opened the sign-in page: its pre-session cookie and the form's token.
pub(crate) struct SignInPage {
    pub cookie: String,
    pub token: String,
}

impl SignInPage {
    pub async fn open(router: &axum::Router) -> SignInPage {
        let p = send_to(router, "GET", "/sign-in", None, None, &[]).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.text);
        SignInPage { cookie: p.cookie("gl_sign_in").expect("the pre-session cookie"), token: p.form_token() }
    }

    /// Posts the form with `fields` (urlencoded, the token added), as this browser.
    pub async fn post(&self, router: &axum::Router, fields: &str, extra: &[(&str, &str)]) -> Page {
        let cookie = format!("gl_sign_in={}", self.cookie);
        let mut headers = vec![("cookie", cookie.as_str())];
        headers.extend_from_slice(extra);
        let form = format!("{fields}&csrf_token={}", self.token);
        send_to(router, "POST", "/sign-in", None, Some(&form), &headers).await
    }
}

/// Signs in through the form and returns the session secret from the cookie.
pub(crate) async fn sign_in(app: &TestApp, role: Role) -> String {
    let page = SignInPage::open(&app.router).await;
    let p = page.post(&app.router, &format!("token={}", app.token(role)), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    p.cookie("gl_session").expect("the session cookie")
}

/// The dashboard's form token for a session.
async fn dashboard_token(app: &TestApp, secret: &str) -> String {
    let d = send(app, "GET", "/dashboard?financial_year=2023-24", Some(secret), None, &[]).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    d.form_token()
}

backend_test!(sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_it, |app: TestApp| async move {
    let form = send(&app, "GET", "/sign-in", None, None, &[]).await;
    assert!(form.is_html());
    assert_eq!(form.headers[header::REFERRER_POLICY], "same-origin", "so the browser sends this site's Origin");
    let pre = form.set_cookie("gl_sign_in").unwrap();
    assert!(
        pre.contains("; HttpOnly") && pre.contains("; SameSite=Strict") && pre.contains("; Path=/sign-in"),
        "{pre}"
    );
    let page = SignInPage::open(&app.router).await;
    let p = page.post(&app.router, &format!("token={}", app.token(Role::Funder)), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    assert_eq!(p.headers[header::LOCATION], "/", "on to `/`, which leads to the dashboard");
    let cookie = p.set_cookie("gl_session").unwrap();
    assert!(
        cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict") && cookie.contains("; Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http on loopback: {cookie}");
    assert!(p.set_cookie("gl_sign_in").unwrap().contains("Max-Age=0"), "the pre-session cookie is done with");

    let https =
        page.post(&app.router, &format!("token={}", app.token(Role::Viewer)), &[("x-forwarded-proto", "https")]).await;
    assert!(https.set_cookie("gl_session").unwrap().ends_with("; Secure"), "behind a TLS proxy the cookie is Secure");

    // Wrong or empty token: the form again, saying so, with its token; no cookie.
    let bad = page.post(&app.router, "token=gl_nope", &[]).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.is_html() && bad.cookie("gl_session").is_none());
    assert!(bad.text.contains("<p class=\"error\" role=\"alert\">That token is not valid.</p>"), "{}", bad.text);
    assert!(bad.text.contains("id=\"token-error\""));
    assert_eq!(bad.form_token(), page.token, "the form again, good for this browser");
    let empty = page.post(&app.router, "token=", &[]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.text.contains("Enter your access token."));

    // `next` may only lead to a path of this site.
    let viewer = format!("token={}", app.token(Role::Viewer));
    let next = page.post(&app.router, &format!("{viewer}&next=%2Fdashboard%3Ffinancial_year%3D2023-24"), &[]).await;
    assert_eq!(next.headers[header::LOCATION], "/dashboard?financial_year=2023-24");
    for away in ["https%3A%2F%2Fevil.example%2F", "%2F%2Fevil.example", "%2F%5Cevil.example", "evil"] {
        let p = page.post(&app.router, &format!("{viewer}&next={away}"), &[]).await;
        assert_eq!(p.headers[header::LOCATION], "/", "{away}");
    }
    let p = send(&app, "GET", "/sign-in?next=%2F%2Fevil.example", None, None, &[]).await;
    assert!(p.text.contains("name=\"next\" value=\"/\""), "{}", p.text);

    let secret = sign_in(&app, Role::Funder).await;
    let dash = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&secret), None, &[]).await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(dash.is_html());
    assert!(dash.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("default-src 'none'"));

    // Sign-out is POST only, with the page's token; it deletes the session and clears the cookie.
    let get_out = send(&app, "GET", "/sign-out", Some(&secret), None, &[]).await;
    assert_eq!(get_out.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(get_out.is_html() && get_out.headers.contains_key(header::ALLOW), "{:?}", get_out.headers);
    let token = dash.form_token();
    let out = send(&app, "POST", "/sign-out", Some(&secret), Some(&format!("csrf_token={token}")), &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.text);
    assert_eq!(out.headers[header::LOCATION], "/sign-in");
    assert!(out.set_cookie("gl_session").unwrap().contains("Max-Age=0"));
    let after = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&secret), None, &[]).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the old cookie no longer works");
    assert_eq!(after.headers[header::LOCATION], "/sign-in?next=/dashboard%3Ffinancial_year%3D2023-24");
});

backend_test!(pages_need_a_live_session, |app: TestApp| async move {
    for path in [
        "/dashboard",
        "/dashboard/variance.csv?financial_year=2023-24",
        "/dashboard/commissioner-return.csv?financial_year=2023-24&quarter=1",
    ] {
        let p = send(&app, "GET", path, None, None, &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{path} without a cookie");
        let p = send(&app, "GET", path, Some("gl_forged"), None, &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{path} with a forged cookie");
    }
    // A bearer token is not a session.
    let p = send(&app, "GET", "/dashboard", Some(app.token(Role::Admin)), None, &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    // Revoking the token ends its sessions.
    let made = app.ok("/api/v1/tokens", Role::Admin, json!({ "name": "clerk", "role": "viewer" })).await;
    let page = SignInPage::open(&app.router).await;
    let p = page.post(&app.router, &format!("token={}", made["token"].as_str().unwrap()), &[]).await;
    let secret = p.cookie("gl_session").unwrap();
    assert_eq!(send(&app, "GET", "/dashboard", Some(&secret), None, &[]).await.status, StatusCode::OK);
    let r = app
        .call(
            axum::http::Method::DELETE,
            &format!("/api/v1/tokens/{}", made["id"]),
            Some(app.token(Role::Admin)),
            None,
            &[],
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.status);
    assert_eq!(send(&app, "GET", "/dashboard", Some(&secret), None, &[]).await.status, StatusCode::SEE_OTHER);
    // The stylesheet is served by the binary.
    let css = send(&app, "GET", "/assets/dashboard.css", None, None, &[]).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.text.contains("@media print"));
});

backend_test!(signing_in_clears_out_expired_sessions, |app: TestApp| async move {
    let live = sign_in(&app, Role::Viewer).await;
    let token_id: i64 = sqlx::query_scalar("select min(id) from tokens").fetch_one(app.store.pool()).await.unwrap();
    sqlx::query(
        "insert into sessions (id_hash, token_id, created_at, expires_at, last_seen_at)
         values ('expired-1', $1, '2026-01-01T00:00:00Z', '2026-01-01T12:00:00Z', '2026-01-01T00:00:00Z')",
    )
    .bind(token_id)
    .execute(app.store.pool())
    .await
    .unwrap();
    let expired = "select count(*) from sessions where id_hash = 'expired-1'";
    let count = sqlx::query_scalar::<_, i64>(expired).fetch_one(app.store.pool()).await.unwrap();
    assert_eq!(count, 1);
    sign_in(&app, Role::Finance).await;
    let count = sqlx::query_scalar::<_, i64>(expired).fetch_one(app.store.pool()).await.unwrap();
    assert_eq!(count, 0, "the expired session was cleared out");
    // A live session is untouched.
    assert_eq!(send(&app, "GET", "/dashboard", Some(&live), None, &[]).await.status, StatusCode::OK);
});

backend_test!(dashboard_shows_the_figures_and_escapes_text, |app: TestApp| async move {
    app.ok(
        "/api/v1/projects",
        Role::Approver,
        json!({ "code": "P1", "name": "<script>alert(1)</script> & youth", "priority": "ASB" }),
    )
    .await;
    app.allocate("LDF", "2023-24", "P1", "12000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-08-01", "3000.50")).await;
    let secret = sign_in(&app, Role::Viewer).await;
    let d = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&secret), None, &[]).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    let t = &d.text;
    assert!(!t.contains("<script>"), "project names are escaped");
    assert!(t.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; youth"));
    assert!(t.contains("<dd id=\"headline-awarded\">£61,394.00</dd>"));
    assert!(t.contains("<dd id=\"headline-allocated\">£12,000.00</dd>"));
    assert!(t.contains("<dd id=\"headline-actual\">£3,000.50</dd>"));
    assert!(t.contains("<dd id=\"headline-available\">£8,999.50</dd>"));
    assert!(
        t.contains("<td class=\"rag rag-red\">Red</td>"),
        "25% spent after the year ended is red, by colour class and by word"
    );
    assert!(t.contains("<svg id=\"chart-priorities\"") && t.contains("<svg id=\"chart-quarters\""));
    assert!(t.contains("<desc id=\"chart-quarters-desc\">Q1 £0.00; Q2 £3000.50; Q3 £0.00; Q4 £0.00</desc>"), "{t}");
    assert!(t.contains("href=\"/dashboard/commissioner-return.csv?financial_year=2023-24&amp;quarter=3\""));
    assert!(
        !t.contains("src=\"http") && !t.contains("href=\"http") && !t.contains("<script"),
        "no external asset, no script"
    );

    let csv = send(&app, "GET", "/dashboard/variance.csv?financial_year=2023-24", Some(&secret), None, &[]).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.text.starts_with('\u{feff}'), "downloads from the page carry a BOM for Excel");
    assert!(
        csv.text.contains(
            "LDF,ASB,P1,<script>alert(1)</script> & youth,12000.00,0.00,3000.50,8999.50,8999.50,25.0,3000.50,red"
        ),
        "{}",
        csv.text
    );
    let ret = send(
        &app,
        "GET",
        "/dashboard/commissioner-return.csv?financial_year=2023-24&quarter=2",
        Some(&secret),
        None,
        &[],
    )
    .await;
    assert!(ret.text.lines().last().unwrap().contains(",TOTAL,,,12000.00,0.00,3000.50,3000.50,"), "{}", ret.text);
    let bad = send(&app, "GET", "/dashboard?financial_year=nope", Some(&secret), None, &[]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.is_html(), "{}", bad.text);
});

backend_test!(the_dashboard_shows_locked_quarters_and_filed_returns_marked_when_changed, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "10000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-10-05", "1250.50")).await;
    let q3 = json!({ "kind": "commissioner-return", "financial_year": "2023-24", "quarter": 3 });
    let filed = app.ok("/api/v1/returns", Role::Finance, q3).await;
    let id = filed["id"].as_i64().unwrap();
    for q in [1, 2] {
        let path = format!("/api/v1/financial-years/2023-24/quarters/{q}/lock");
        let lock = app.post(&path, Role::Admin, json!({ "reason": "return sent" })).await;
        assert_eq!(lock.status, StatusCode::OK, "{}", lock.body);
    }
    let cookie = sign_in(&app, Role::Viewer).await;
    let page = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&cookie), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Quarters and filed returns"), "{}", page.text);
    assert!(page.text.contains("<th scope=\"row\">Q2</th><td class=\"lock lock-locked\">Locked</td>"), "{}", page.text);
    assert!(page.text.contains("<th scope=\"row\">Q3</th><td class=\"lock lock-open\">Open</td>"));
    assert!(page.text.contains(&format!("href=\"/dashboard/returns/{id}/file\"")));
    assert!(page.text.contains("<td>Unchanged</td>") && !page.text.contains("Changed since filing"));
    // A back-dated spend in Q3 changes a figure of the filed return: the mark shows it.
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-12-15", "900")).await;
    let page = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&cookie), None, &[]).await;
    assert!(page.text.contains("<td class=\"changed\">Changed since filing</td>"), "{}", page.text);
    // The download is the stored file, byte for byte.
    let file = send(&app, "GET", &format!("/dashboard/returns/{id}/file"), Some(&cookie), None, &[]).await;
    let api = app.get(&format!("/api/v1/returns/{id}/file"), Role::Viewer).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(Some(file.text.as_str()), api.body.as_str());
    assert_eq!(
        file.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"commissioner-return-2023-24-q3.csv\""
    );
    assert_eq!(
        send(&app, "GET", "/dashboard/returns/99/file", Some(&cookie), None, &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&app, "GET", &format!("/dashboard/returns/{id}/file"), None, None, &[]).await.status,
        StatusCode::SEE_OTHER
    );
});

backend_test!(unallocated_money_and_finished_years_are_rated_with_reasons, |app: TestApp| async move {
    let report = |as_at: &'static str| {
        let app = &app;
        async move {
            let r =
                app.get(&format!("/api/v1/reports/variance?financial_year=2023-24&as_at={as_at}"), Role::Viewer).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.body
        }
    };
    // LDF's £61,394 for 2023-24, all of it unallocated: green while Q1 is under way ...
    let r = report("2023-05-01").await;
    assert_eq!(r["totals"]["unallocated_rag"], "green");
    assert!(r["totals"]["unallocated_why"].as_str().unwrap().ends_with("while the first quarter is under way"));
    assert!(r["rag_meaning"].as_str().unwrap().starts_with("Red: overspent"));
    // ... red once the first quarter has ended, on the grant's line and in the totals.
    let r = report("2023-09-30").await;
    assert_eq!(r["totals"]["unallocated_rag"], "red");
    assert_eq!(r["totals"]["unallocated_why"], "£61394.00 (100.0% of the award) unallocated after the first quarter");
    let ldf = r["grants"].as_array().unwrap().iter().find(|g| g["grant"] == "LDF").unwrap();
    assert_eq!(ldf["unallocated_rag"], "red");
    // A finished year: each line is rated on its outturn and says why.
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "10000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-06-01", "8000")).await;
    let r = report("2024-03-31").await;
    let p1 = r["rows"].as_array().unwrap().iter().find(|row| row["project"] == "P1").unwrap();
    assert_eq!(
        (p1["rag"].as_str(), p1["rag_why"].as_str()),
        (Some("amber"), Some("year ended 80.0% spent, £2000.00 unspent"))
    );
    assert!(r["rag_meaning"].as_str().unwrap().starts_with("The year has ended"));
    assert_eq!(r["totals"]["unallocated_rag"], "red", "£51,394 of £61,394 never allocated");
    assert!(
        r["totals"]["unallocated_why"]
            .as_str()
            .unwrap()
            .ends_with("at the year's end: to be returned or carried forward")
    );
    // During the year the same line says how far it is from its profile.
    let r = report("2023-09-30").await;
    let p1 = r["rows"].as_array().unwrap().iter().find(|row| row["project"] == "P1").unwrap();
    assert_eq!(p1["rag_why"], "80.0% spent, 30.0 points ahead of the profile (50%)");
    // The page says what each colour means for that year, and why each line has its colour.
    let cookie = sign_in(&app, Role::Viewer).await;
    let page = send(&app, "GET", "/dashboard?financial_year=2023-24&as_at=2024-03-31", Some(&cookie), None, &[]).await;
    assert!(
        page.text.contains("id=\"rag-meaning\">The year has ended, so each line is rated on its outturn"),
        "{}",
        page.text
    );
    assert!(page.text.contains("<td class=\"why\">year ended 80.0% spent, £2000.00 unspent</td>"), "{}", page.text);
    assert!(page.text.contains("Unallocated money: <span class=\"rag rag-red\">Red</span>"), "{}", page.text);
});

/// `£59,115.20` from the API's `"59115.20"`, as the page prints money.
fn pounds(text: &str) -> String {
    let (sign, digits) = text.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", text));
    let (whole, pence) = digits.split_once('.').unwrap();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}£{grouped}.{pence}")
}

/// The page's row for a grant in the cash position table.
fn cash_row<'a>(page: &'a str, grant: &str) -> &'a str {
    let table = &page[page.find("<table id=\"cash-position\"").expect("the cash position table")..];
    let start = table.find(&format!("<tr data-grant=\"{grant}\">")).unwrap_or_else(|| panic!("no row for {grant}"));
    let row = &table[start..];
    &row[..row.find("</tr>").unwrap()]
}

backend_test!(the_dashboard_shows_the_cash_position_report_as_at_its_date, |app: TestApp| async move {
    let schedule = json!([
        { "due_on": "2023-04-15", "amount": "49115.20" },
        { "due_on": "2024-03-15", "amount": "12278.80", "condition": "subject to evaluation" },
    ]);
    let path = "/api/v1/grants/LDF/awards/2023-24/payment-schedule";
    let r = app.call(axum::http::Method::PUT, path, Some(app.token(Role::Approver)), Some(schedule), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.project("P1", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "50000").await;
    app.ok("/api/v1/spend", Role::Finance, TestApp::spend_body("LDF", "P1", "2023-06-01", "30000")).await;
    let cash = |date: &str, amount: &str, reference: &str| json!({ "grant": "LDF", "financial_year": "2023-24", "date": date, "amount": amount, "reference": reference });
    app.ok("/api/v1/receipts", Role::Finance, cash("2023-04-20", "49115.20", "SCO remittance 1")).await;
    app.ok("/api/v1/receipts", Role::Finance, cash("2024-03-20", "10000.00", "SCO remittance 2")).await;
    app.ok(
        "/api/v1/grants/LDF/awards/2023-24/year-end",
        Role::Approver,
        json!({ "carry_forward": "21394.00", "return_to_funder": "10000.00", "date": "2024-03-25", "reason": "year end" }),
    )
    .await;
    app.ok("/api/v1/repayments", Role::Finance, cash("2024-03-26", "4000.00", "BACS 1")).await;

    let secret = sign_in(&app, Role::Viewer).await;
    let figures = [
        "awarded",
        "scheduled_to_date",
        "received",
        "due_not_received",
        "spent",
        "cash_held",
        "returned",
        "repaid",
        "owed_to_funder",
        "underspend",
    ];
    // Before the receipts, after them, after the year end and repayment, and today.
    for as_at in ["2023-04-16", "2024-03-24", "2024-03-27", ""] {
        let query = if as_at.is_empty() { String::new() } else { format!("&as_at={as_at}") };
        let api = app.get(&format!("/api/v1/reports/cash-position?financial_year=2023-24{query}"), Role::Viewer).await;
        assert_eq!(api.status, StatusCode::OK, "{}", api.body);
        let d = send(&app, "GET", &format!("/dashboard?financial_year=2023-24{query}"), Some(&secret), None, &[]).await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text);
        let shown_at = api.body["as_at"].as_str().unwrap();
        assert!(
            d.text.contains(&format!("The funder's cash per award, 2023-24, as at {shown_at}</caption>")),
            "{as_at}"
        );
        let rows = api.body["awards"].as_array().unwrap();
        assert!(!rows.is_empty(), "{}", api.body);
        let threshold = pounds(api.body["clawback_threshold"].as_str().unwrap());
        for row in rows {
            let grant = row["grant"].as_str().unwrap();
            let cells: String = figures
                .iter()
                .map(|f| format!("<td class=\"num\">{}</td>", pounds(row[*f].as_str().unwrap())))
                .collect();
            let flag = if row["underspend_flag"] == true {
                format!("<td class=\"clawback\">Above the clawback threshold of {threshold}</td>")
            } else {
                format!("<td>Within the clawback threshold of {threshold}</td>")
            };
            let want = format!("<tr data-grant=\"{grant}\"><th scope=\"row\">{grant}</th>{cells}{flag}");
            assert_eq!(cash_row(&d.text, grant), want, "as at {as_at:?}: {row}");
        }
    }
    // The figures by hand, as at 27 March: £6,000 of the £10,000 returned is still owed.
    let d = send(&app, "GET", "/dashboard?financial_year=2023-24&as_at=2024-03-27", Some(&secret), None, &[]).await;
    assert_eq!(
        cash_row(&d.text, "LDF"),
        "<tr data-grant=\"LDF\"><th scope=\"row\">LDF</th><td class=\"num\">£61,394.00</td>\
         <td class=\"num\">£61,394.00</td><td class=\"num\">£59,115.20</td><td class=\"num\">£2,278.80</td>\
         <td class=\"num\">£30,000.00</td><td class=\"num\">£25,115.20</td><td class=\"num\">£10,000.00</td>\
         <td class=\"num\">£4,000.00</td><td class=\"num\">£6,000.00</td><td class=\"num\">£0.00</td>\
         <td>Within the clawback threshold of £15,000.00</td>"
    );
});

backend_test!(the_dashboard_shows_partners_agreements_with_their_evidence_status, |app: TestApp| async move {
    let id = crate::agreements::agreement_history(&app).await;
    // A partner whose name would be markup, with an agreement awaiting evidence.
    app.ok(
        "/api/v1/organisations",
        Role::Approver,
        json!({ "code": "ESC", "name": "<b>Youth & Co</b>", "kind": "vcse" }),
    )
    .await;
    let mut body = crate::agreements::agreement_body();
    body["recipient"] = json!("ESC");
    body["reference"] = json!("GA-2023-02");
    body["amount"] = json!("1000.00");
    body["schedule"] = json!([{ "financial_year": "2023-24", "amount": "1000.00" }]);
    let other = app.ok("/api/v1/commitments", Role::Finance, body).await["commitment_id"].as_i64().unwrap();
    let cookie = sign_in(&app, Role::Viewer).await;
    let page = send(&app, "GET", "/dashboard?financial_year=2024-25", Some(&cookie), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    let row = page
        .text
        .split(&format!("<tr data-agreement=\"{id}\">"))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_else(|| panic!("no row for agreement {id}: {}", page.text));
    // The API's figures, with the page's pound signs and separators.
    let d = app.get(&format!("/api/v1/commitments/{id}"), Role::Viewer).await.body;
    assert_eq!(d["paid"], "11000.00");
    for figure in ["£5,000.00", "£12,000.00", "£11,000.00", "£500.00", "£6,500.00", "£4,000.00", "£1,000.00"] {
        assert!(row.contains(&format!("<td class=\"num\">{figure}</td>")), "{figure} in {row}");
    }
    assert!(row.contains("Safer Streets Trust") && row.contains("2023-10-01 to 2024-09-30"), "{row}");
    assert!(row.contains("<td class=\"evidence evidence-partial\">Partial</td>"), "{row}");
    // 2024-25 holds no part of the second agreement; 2023-24 shows it, escaped, awaiting evidence.
    assert!(!page.text.contains(&format!("data-agreement=\"{other}\"")));
    let page = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&cookie), None, &[]).await;
    assert!(page.text.contains("&lt;b&gt;Youth &amp; Co&lt;/b&gt;"), "{}", page.text);
    assert!(!page.text.contains("<b>Youth"));
    assert!(page.text.contains("<td class=\"evidence evidence-awaited\">Awaited</td>"));
    let page = send(&app, "GET", "/dashboard?financial_year=2022-23", Some(&cookie), None, &[]).await;
    assert!(page.text.contains("id=\"no-agreements\""));

    // The open-data downloads are the API's exports, byte for byte.
    let page = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&cookie), None, &[]).await;
    for (link, api) in [
        ("/dashboard/vcse-grants.csv?financial_year=2023-24", "/api/v1/exports/vcse-grants?financial_year=2023-24"),
        ("/dashboard/360giving?financial_year=2023-24", "/api/v1/exports/360giving?financial_year=2023-24"),
        (
            "/dashboard/360giving?financial_year=2023-24&format=csv",
            "/api/v1/exports/360giving?financial_year=2023-24&format=csv",
        ),
    ] {
        assert!(page.text.contains(&format!("href=\"{}\"", link.replace('&', "&amp;"))), "{link} on the page");
        let file = send(&app, "GET", link, Some(&cookie), None, &[]).await;
        assert_eq!(file.status, StatusCode::OK, "{link}: {}", file.text);
        let exported = app.get(api, Role::Viewer).await;
        let exported = match &exported.body {
            Value::String(text) => text.clone(),
            json => serde_json::to_string_pretty(json).unwrap(),
        };
        if link.contains("format=csv") || link.contains(".csv") {
            assert_eq!(file.text, exported, "{link}");
        } else {
            let ours: Value = serde_json::from_str(&file.text).unwrap();
            assert_eq!(ours, serde_json::from_str::<Value>(&exported).unwrap(), "{link}");
            assert!(file.text.contains("Safer Streets Trust"), "{}", file.text);
        }
        assert_eq!(send(&app, "GET", link, None, None, &[]).await.status, StatusCode::SEE_OTHER);
    }
    let bad =
        send(&app, "GET", "/dashboard/360giving?financial_year=2023-24&format=xml", Some(&cookie), None, &[]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
});

// ---- sign-in from a real browser, and what a forged post gets -------------------------------

/// A refusal of a page's form: 403, a page a person can read, no session, nothing done.
fn assert_refused_form(p: &Page, what: &str) {
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{what}: {}", p.text);
    assert!(p.is_html(), "{what}: a page, not {:?}", p.headers.get(header::CONTENT_TYPE));
    assert!(p.text.contains("<h1>This form was not accepted</h1>"), "{what}: {}", p.text);
    assert!(p.text.contains("href=\"/sign-in\""), "{what}: a way back");
    assert!(p.cookie("gl_session").is_none(), "{what}: no session");
}

backend_test!(the_host_header_no_longer_vouches_for_a_foreign_origin, |app: TestApp| async move {
    // The request names its own Host: it used to be believed, so a page on evil.example
    // (or a rebound name) got a session. The public origin comes from configuration now.
    let page = SignInPage::open(&app.router).await;
    let token = format!("token={}", app.token(Role::Viewer));
    for headers in [
        vec![("host", "evil.example"), ("origin", "http://evil.example")],
        vec![("host", "127.0.0.1:8080"), ("x-forwarded-host", "evil.example"), ("origin", "http://evil.example")],
        vec![("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080.evil.example")],
        vec![("origin", "https://127.0.0.1:8080")],
    ] {
        let p = page.post(&app.router, &token, &headers).await;
        assert_refused_form(&p, &format!("{headers:?}"));
    }
    // The ledger's own origin (the default: the listening address, and its loopback names),
    // or none, or `null` as a browser sends it under `Referrer-Policy: no-referrer`.
    for headers in [
        vec![("origin", "http://127.0.0.1:8080")],
        vec![("origin", "http://localhost:8080")],
        vec![("origin", "null")],
        vec![],
    ] {
        let p = page.post(&app.router, &token, &headers).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{headers:?}: {}", p.text);
        assert!(p.cookie("gl_session").is_some());
    }
});

backend_test!(sign_in_needs_the_form_token_of_this_browser, |app: TestApp| async move {
    let token = format!("token={}", app.token(Role::Viewer));
    let ours = SignInPage::open(&app.router).await;
    let theirs = SignInPage::open(&app.router).await;
    assert_ne!(ours.cookie, theirs.cookie, "each browser has its own pre-session cookie");
    assert_ne!(ours.token, theirs.token);
    let cookie = format!("gl_sign_in={}", ours.cookie);
    let with_cookie = [("cookie", cookie.as_str())];
    // Missing, empty, another browser's, doubled, or with no cookie to bind it to.
    let cases = [
        ("no token", token.clone(), with_cookie.to_vec()),
        ("an empty token", format!("{token}&csrf_token="), with_cookie.to_vec()),
        ("another browser's token", format!("{token}&csrf_token={}", theirs.token), with_cookie.to_vec()),
        ("two tokens", format!("{token}&csrf_token={0}&csrf_token={0}", ours.token), with_cookie.to_vec()),
        ("no cookie", format!("{token}&csrf_token={}", ours.token), vec![]),
        ("null origin and no token", token.clone(), vec![("cookie", cookie.as_str()), ("origin", "null")]),
    ];
    for (what, form, headers) in &cases {
        let p = send(&app, "POST", "/sign-in", None, Some(form), headers).await;
        assert_refused_form(&p, what);
    }
    // A token whose cookie the browser no longer holds (it signed in, and opened the form
    // again) is stale.
    let p = ours.post(&app.router, &token, &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let again = SignInPage::open(&app.router).await;
    let stale = send(
        &app,
        "POST",
        "/sign-in",
        None,
        Some(&format!("{token}&csrf_token={}", ours.token)),
        &[("cookie", &format!("gl_sign_in={}", again.cookie))],
    )
    .await;
    assert_refused_form(&stale, "a stale token");
    // A post refused for its form spends none of the address's failures: wrong tokens
    // without the form's token, many times over, then the right one.
    for i in 0..(grant_ledger::http::throttle::FAILURES_MAX * 2) {
        let p = send(&app, "POST", "/sign-in", None, Some(&format!("token=gl_wrong_{i}")), &with_cookie).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(again.post(&app.router, &token, &[]).await.status, StatusCode::SEE_OTHER);
    // A browser that kept its pre-session cookie gets the same token on the next visit.
    let cookie = format!("gl_sign_in={}", again.cookie);
    let p = send(&app, "GET", "/sign-in", None, None, &[("cookie", &cookie)]).await;
    assert_eq!(p.form_token(), again.token);
    assert!(p.set_cookie("gl_sign_in").is_none());
    // A cookie not of the ledger's making is replaced.
    let p = send(&app, "GET", "/sign-in", None, None, &[("cookie", "gl_sign_in=chosen-by-someone")]).await;
    assert!(p.cookie("gl_sign_in").is_some_and(|c| c != "chosen-by-someone"));
});

backend_test!(signing_in_rotates_the_session_id, |app: TestApp| async move {
    let first = sign_in(&app, Role::Viewer).await;
    assert_eq!(send(&app, "GET", "/dashboard", Some(&first), None, &[]).await.status, StatusCode::OK);
    // Signing in again from the same browser, which sends its session cookie.
    let page = SignInPage::open(&app.router).await;
    let cookies = format!("gl_sign_in={}; gl_session={first}", page.cookie);
    let p = page.post(&app.router, &format!("token={}", app.token(Role::Finance)), &[("cookie", &cookies)]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    let second = p.cookie("gl_session").unwrap();
    assert_ne!(second, first, "a new id");
    assert_eq!(
        send(&app, "GET", "/dashboard", Some(&first), None, &[]).await.status,
        StatusCode::SEE_OTHER,
        "the old id is dead"
    );
    let d = send(&app, "GET", "/dashboard", Some(&second), None, &[]).await;
    assert!(d.text.contains("Signed in as test finance"), "{}", d.text);
    // An id planted in the browser before sign-in never becomes the session.
    let page = SignInPage::open(&app.router).await;
    let planted = "gl_0000000000000000000000000000000000000000000000000000000000000000";
    let cookies = format!("gl_sign_in={}; gl_session={planted}", page.cookie);
    let p = page.post(&app.router, &format!("token={}", app.token(Role::Viewer)), &[("cookie", &cookies)]).await;
    assert_ne!(p.cookie("gl_session").unwrap(), planted);
    assert_eq!(send(&app, "GET", "/dashboard", Some(planted), None, &[]).await.status, StatusCode::SEE_OTHER);
});

backend_test!(sign_out_needs_the_token_of_its_session, |app: TestApp| async move {
    let old = sign_in(&app, Role::Viewer).await;
    let old_token = dashboard_token(&app, &old).await;
    let secret = sign_in(&app, Role::Viewer).await;
    let token = dashboard_token(&app, &secret).await;
    assert_ne!(token, old_token, "a token is its session's");
    let other = sign_in(&app, Role::Funder).await;
    let other_token = dashboard_token(&app, &other).await;
    for (what, form, extra) in [
        ("no token", String::new(), vec![]),
        ("another session's token", format!("csrf_token={other_token}"), vec![]),
        ("an earlier session's token", format!("csrf_token={old_token}"), vec![]),
        ("another origin", format!("csrf_token={token}"), vec![("origin", "http://evil.example")]),
    ] {
        let p = send(&app, "POST", "/sign-out", Some(&secret), Some(&form), &extra).await;
        assert_refused_form(&p, what);
        assert!(p.set_cookie("gl_session").is_none(), "{what}: the cookie is left alone");
        assert_eq!(send(&app, "GET", "/dashboard", Some(&secret), None, &[]).await.status, StatusCode::OK, "{what}");
    }
    // Without a session there is nothing to bind a token to.
    let p = send(&app, "POST", "/sign-out", None, Some(&format!("csrf_token={token}")), &[]).await;
    assert_refused_form(&p, "no session");
    let p = send(&app, "POST", "/sign-out", Some(&secret), Some(&format!("csrf_token={token}")), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(send(&app, "GET", "/dashboard", Some(&secret), None, &[]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(send(&app, "GET", "/dashboard", Some(&other), None, &[]).await.status, StatusCode::OK, "others stay");
});

backend_test!(the_public_url_is_the_only_origin_a_form_may_come_from, |app: TestApp| async move {
    use grant_ledger::http::public_url::PublicUrl;
    let state = grant_ledger::http::AppState::new(app.store.clone())
        .with_public_url(PublicUrl::parse("https://ledger.example.org").unwrap());
    let router = grant_ledger::http::app(state);
    let token = format!("token={}", app.token(Role::Viewer));
    let page = SignInPage::open(&router).await;
    let p = page.post(&router, &token, &[("origin", "https://ledger.example.org"), ("host", "127.0.0.1:8080")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    assert!(p.set_cookie("gl_session").unwrap().ends_with("; Secure"), "an https public URL makes the cookie Secure");
    for origin in ["http://127.0.0.1:8080", "http://ledger.example.org", "https://evil.example"] {
        let p = page.post(&router, &token, &[("origin", origin), ("host", "ledger.example.org")]).await;
        assert_refused_form(&p, origin);
    }
});

/// Starts `grant-ledger serve` on a free port with `args`; returns the child, the port (None
/// if it exited) and its log so far.
fn serve(app: &TestApp, args: &[&str]) -> (std::process::Child, Option<u16>, String) {
    let (child, port, log, _rest) = serve_logging(app, args, "info,sqlx=warn");
    (child, port, log)
}

/// As `serve`, logging at `rust_log` (`RUST_LOG`), and with the thread that reads the rest of
/// the log, which answers that rest once the server has ended.
pub(crate) fn serve_logging(
    app: &TestApp,
    args: &[&str],
    rust_log: &str,
) -> (std::process::Child, Option<u16>, String, std::thread::JoinHandle<String>) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .env("DATABASE_URL", &app.url)
        .env("RUST_LOG", rust_log)
        .env("NO_COLOR", "1")
        .env_remove("GRANT_LEDGER_PUBLIC_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting grant-ledger serve");
    let mut log = String::new();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains("grant-ledger listening") {
            let port = line.split("address=127.0.0.1:").nth(1).and_then(|p| p.split(' ').next()?.parse().ok());
            // The server goes on logging: keep reading, so it never writes to a closed pipe.
            let rest = std::thread::spawn(move || lines.map_while(Result::ok).map(|l| l + "\n").collect());
            return (child, port, log, rest);
        }
    }
    (child, None, log, std::thread::spawn(String::new))
}

/// One request to 127.0.0.1:`port` over a fresh connection: (head, body).
fn raw(port: u16, request: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

backend_test!(serve_takes_its_public_url_from_the_flag_or_the_environment, |app: TestApp| async move {
    let (mut child, port, log) = serve(&app, &["--public-url", "https://ledger.example.org"]);
    let port = port.unwrap_or_else(|| panic!("the server did not start: {log}"));
    assert!(log.contains("public_url=\"https://ledger.example.org\""), "{log}");
    let (head, body) = raw(port, "GET /sign-in HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let cookie = head.split("gl_sign_in=").nth(1).unwrap().split(';').next().unwrap().to_owned();
    assert!(head.contains("; Secure"), "{head}");
    let at = body.find("name=\"csrf_token\" value=\"").unwrap() + "name=\"csrf_token\" value=\"".len();
    let csrf = &body[at..at + 64];
    let post = |origin: &str| {
        let form = format!("token={}&csrf_token={csrf}", app.token(Role::Viewer));
        raw(
            port,
            &format!(
                "POST /sign-in HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {origin}\r\nCookie: gl_sign_in={cookie}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
                form.len()
            ),
        )
        .0
    };
    let refused = post(&format!("http://127.0.0.1:{port}"));
    assert!(refused.starts_with("HTTP/1.1 403"), "the listening address is not the public URL: {refused}");
    let ok = post("https://ledger.example.org");
    assert!(ok.starts_with("HTTP/1.1 303") && ok.contains("gl_session="), "{ok}");
    child.kill().unwrap();
    child.wait().unwrap();

    // The environment, and a URL that is not one, refused at start naming the setting.
    let (mut child, port, log) = serve(&app, &[]);
    assert!(port.is_some() && log.contains("public_url=\"http://127.0.0.1:"), "the default is the listener: {log}");
    child.kill().unwrap();
    child.wait().unwrap();
    let (mut child, port, log) = serve(&app, &["--public-url", "ledger.example.org/ledger"]);
    assert!(port.is_none() && log.contains("--public-url"), "{log}");
    child.wait().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", &app.url)
        .env("GRANT_LEDGER_PUBLIC_URL", "ftp://ledger.example.org")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("https:// or http://"), "{err}");
});

backend_test!(errors_on_pages_are_pages_with_a_way_back, |app: TestApp| async move {
    let secret = sign_in(&app, Role::Viewer).await;
    for (path, status, says) in [
        ("/dashboard?financial_year=2023-24&as_at=nonsense", StatusCode::UNPROCESSABLE_ENTITY, "as_at: must be a date"),
        ("/dashboard?financial_year=2031-32", StatusCode::UNPROCESSABLE_ENTITY, "2031-32 is not a financial year"),
        ("/dashboard?colour=red", StatusCode::UNPROCESSABLE_ENTITY, "colour: "),
        ("/dashboard/returns/99/file", StatusCode::NOT_FOUND, "Not found"),
        ("/dashboard/360giving?financial_year=2023-24&format=xml", StatusCode::UNPROCESSABLE_ENTITY, "format"),
        ("/no-such-page", StatusCode::NOT_FOUND, "There is no page or record at this address."),
        ("/sign-in?next=%2F&surprise=1", StatusCode::UNPROCESSABLE_ENTITY, "surprise"),
    ] {
        let p = send(&app, "GET", path, Some(&secret), None, &[]).await;
        assert_eq!(p.status, status, "{path}: {}", p.text);
        assert!(p.is_html(), "{path}: {:?}", p.headers.get(header::CONTENT_TYPE));
        assert!(p.text.starts_with("<!DOCTYPE html>") && p.text.contains("<h1>"), "{path}");
        assert!(p.text.contains(says), "{path} says {says:?}: {}", p.text);
        assert!(p.text.contains("<a id=\"back-dashboard\" href=\"/dashboard\">"), "{path}: a way back");
        assert!(!p.text.contains("\"code\""), "{path}: no problem+json");
    }
    // Markup in what a person typed is shown as text.
    let p = send(&app, "GET", "/dashboard?%3Cb%3Eyear=1", Some(&secret), None, &[]).await;
    assert!(p.text.contains("&lt;b&gt;year") && !p.text.contains("<b>year"), "{}", p.text);
    // The API and the service keep problem+json.
    for path in ["/api/v1/no-such-route", "/api/v1/reports/variance?financial_year=nope"] {
        let r = app.get(path, Role::Viewer).await;
        assert_eq!(r.headers["content-type"], "application/problem+json", "{path}");
    }
    let p = send(&app, "DELETE", "/healthz", None, None, &[]).await;
    assert_eq!(p.headers[header::CONTENT_TYPE], "application/problem+json");
});

backend_test!(behind_a_trusted_proxy_one_persons_typos_lock_out_only_them, |app: TestApp| async move {
    use grant_ledger::http::throttle::{FAILURES_MAX, TrustedProxies};
    let proxied = |trusted: Vec<&str>| {
        let ranges = trusted.into_iter().map(|r| r.parse().unwrap()).collect();
        grant_ledger::http::app(
            grant_ledger::http::AppState::new(app.store.clone()).with_trusted_proxies(TrustedProxies::new(ranges)),
        )
    };
    // Through `peer`, with `X-Forwarded-For: forwarded`.
    async fn via(router: &axum::Router, peer: &str, forwarded: &str, body: Option<(&SignInPage, &str)>) -> Page {
        let addr: std::net::SocketAddr = format!("{peer}:40000").parse().unwrap();
        let mut req = Request::builder().uri("/sign-in").header("x-forwarded-for", forwarded);
        req = req.extension(axum::extract::ConnectInfo(addr));
        let req = match body {
            Some((page, fields)) => req
                .method("POST")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("gl_sign_in={}", page.cookie))
                .body(Body::from(format!("{fields}&csrf_token={}", page.token))),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        let (status, headers) = (resp.status(), resp.headers().clone());
        let text = String::from_utf8_lossy(&resp.into_body().collect().await.unwrap().to_bytes()).into_owned();
        Page { status, headers, text }
    }
    let good = format!("token={}", app.token(Role::Viewer));
    let router = proxied(vec!["10.0.0.0/8"]);
    let page = SignInPage::open(&router).await;
    for i in 0..FAILURES_MAX {
        let p = via(&router, "10.0.0.1", "203.0.113.5", Some((&page, &format!("token=gl_typo_{i}")))).await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED, "typo {i}");
    }
    let locked = via(&router, "10.0.0.1", "203.0.113.5", Some((&page, &good))).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.is_html() && locked.text.contains("Too many failed sign-ins"), "{}", locked.text);
    assert!(locked.headers.contains_key(header::RETRY_AFTER));
    // Someone else behind the same proxy signs in; a client's own writing left of the
    // proxy's entry changes nothing.
    let other = via(&router, "10.0.0.1", "203.0.113.6", Some((&page, &good))).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER, "{}", other.text);
    let spoofed = via(&router, "10.0.0.1", "198.51.100.1, 203.0.113.5", Some((&page, &good))).await;
    assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS);
    // A peer that is not a trusted proxy is keyed on itself, whatever it writes.
    for i in 0..FAILURES_MAX {
        via(&router, "192.0.2.9", &format!("203.0.113.{}", 100 + i), Some((&page, &format!("token=gl_typo_{i}"))))
            .await;
    }
    assert_eq!(
        via(&router, "192.0.2.9", "203.0.113.200", Some((&page, &good))).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Without trusted proxies the header is ignored: the proxy's typos lock out everyone behind it.
    let router = proxied(vec![]);
    for i in 0..FAILURES_MAX {
        via(&router, "10.0.0.1", "203.0.113.5", Some((&page, &format!("token=gl_typo_{i}")))).await;
    }
    assert_eq!(
        via(&router, "10.0.0.1", "203.0.113.6", Some((&page, &good))).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
});
