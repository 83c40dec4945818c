//! The HTML pages: sign-in sets a safe session cookie, sign-out ends it, the dashboard shows
//! the report's figures and escapes what it shows, and nothing is reachable without a session.

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

pub(crate) async fn send(
    app: &TestApp,
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
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Page { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
}

/// Signs in and returns the session secret from the cookie.
pub(crate) async fn sign_in(app: &TestApp, role: Role) -> String {
    let p = send(app, "POST", "/sign-in", None, Some(&format!("token={}", app.token(role))), &[]).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    let cookie = p.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    cookie.split(';').next().unwrap().strip_prefix("gl_session=").unwrap().to_owned()
}

backend_test!(sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_it, |app: TestApp| async move {
    let p = send(&app, "POST", "/sign-in", None, Some(&format!("token={}", app.token(Role::Funder))), &[]).await;
    assert_eq!(p.status, StatusCode::OK);
    let cookie = p.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict") && cookie.contains("; Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http on loopback: {cookie}");
    assert!(p.text.contains("<meta http-equiv=\"refresh\" content=\"0; url=/dashboard\">"));

    let https = send(
        &app,
        "POST",
        "/sign-in",
        None,
        Some(&format!("token={}", app.token(Role::Viewer))),
        &[("x-forwarded-proto", "https")],
    )
    .await;
    assert!(
        https.headers[header::SET_COOKIE].to_str().unwrap().ends_with("; Secure"),
        "behind a TLS proxy the cookie is Secure"
    );

    // Wrong or empty token: no cookie.
    let bad = send(&app, "POST", "/sign-in", None, Some("token=gl_nope"), &[]).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.headers.get(header::SET_COOKIE).is_none());
    assert!(bad.text.contains("That token is not valid."));
    let empty = send(&app, "POST", "/sign-in", None, Some("token="), &[]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);

    // `next` may only lead to a dashboard path of this site.
    let next = send(
        &app,
        "POST",
        "/sign-in",
        None,
        Some(&format!("token={}&next=%2Fdashboard%3Ffinancial_year%3D2023-24", app.token(Role::Viewer))),
        &[],
    )
    .await;
    assert!(next.text.contains("url=/dashboard?financial_year=2023-24\""), "{}", next.text);
    let away = send(
        &app,
        "POST",
        "/sign-in",
        None,
        Some(&format!("token={}&next=https%3A%2F%2Fevil.example%2F", app.token(Role::Viewer))),
        &[],
    )
    .await;
    assert!(away.text.contains("url=/dashboard\""), "{}", away.text);

    let secret = sign_in(&app, Role::Funder).await;
    let dash = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&secret), None, &[]).await;
    assert_eq!(dash.status, StatusCode::OK);
    assert_eq!(dash.headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(dash.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("default-src 'none'"));

    // Sign-out is POST only, deletes the session and clears the cookie.
    let get_out = send(&app, "GET", "/sign-out", Some(&secret), None, &[]).await;
    assert_eq!(get_out.status, StatusCode::METHOD_NOT_ALLOWED);
    let out = send(&app, "POST", "/sign-out", Some(&secret), None, &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
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
    let p =
        send(&app, "POST", "/sign-in", None, Some(&format!("token={}", made["token"].as_str().unwrap())), &[]).await;
    let secret =
        p.headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap()["gl_session=".len()..].to_owned();
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
        "insert into sessions (id_hash, token_id, created_at, expires_at)
         values ('expired-1', $1, '2026-01-01T00:00:00Z', '2026-01-01T12:00:00Z')",
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
