//! The dashboard in a real browser: starts the real binary on a loopback port with a fresh
//! SQLite ledger, signs in through the HTML form in headless Chromium, and checks the
//! rendered DOM (`--dump-dom`) holds the variance table and both charts with the right
//! figures.
//!
//! The ledger is seeded through the server's REST API, as a client would.
//! Chromium cannot be given a cookie on its command line, and the server refuses a sign-in
//! posted from another origin (a local file is origin "null"). So a small front on its own
//! port serves a page that posts the sign-in form and passes every other connection through
//! to the server untouched: the form is posted from the same origin, as from the ledger's own
//! sign-in page, and the server's answer refreshes to the dashboard.
//! Without Chromium the test says so and fails when `CI` is set, and is skipped otherwise.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "gl_browser_test_admin_token_0123456789";

fn find_chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// Kills the child when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 request over a fresh loopback connection: (status, body).
fn request(port: u16, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connecting to the server");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

fn post(port: u16, path: &str, body: Value) {
    let (status, text) = request(port, "POST", path, Some(ADMIN_TOKEN), Some(&body));
    assert_eq!(status, 201, "POST {path}: {text}");
}

/// A 2023-24 ledger, recorded through the REST API of the running server: two projects
/// under two priorities, one spend in Q2 and one in Q3.
fn seed(port: u16) {
    for (code, name, priority) in [("P1", "Youth <diversion> & sport", "ASB"), ("D1", "Drug outreach", "DRUGS")] {
        post(port, "/api/v1/projects", json!({ "code": code, "name": name, "priority": priority }));
    }
    for (project, amount) in [("P1", "12000"), ("D1", "8000")] {
        post(
            port,
            "/api/v1/allocations",
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": project, "amount": amount,
                    "approved_on": "2023-03-16", "approval_ref": "CSP minute 1" }),
        );
    }
    for (project, date, amount) in [("P1", "2023-08-01", "3000.50"), ("D1", "2023-11-15", "6000")] {
        post(
            port,
            "/api/v1/spend",
            json!({ "grant": "LDF", "project": project, "date": date, "supplier": "Supplier Ltd",
                    "description": "Delivery", "invoice_ref": "INV-1", "amount": amount }),
        );
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn healthy(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok() && request(port, "GET", "/healthz", None, None).0 == 200
}

fn run_with_timeout(mut cmd: Command, limit: Duration) -> (bool, String, String) {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("starting chromium");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let ok = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.success();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (ok, out.join().unwrap(), err.join().unwrap())
}

/// The text of the element that starts at the first match of `start`, up to `end`.
fn between<'a>(dom: &'a str, start: &str, end: &str) -> &'a str {
    let i = dom.find(start).unwrap_or_else(|| panic!("{start} not in the rendered page:\n{dom}"));
    let rest = &dom[i..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

fn temp_dir() -> PathBuf {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    let dir = std::env::temp_dir().join(format!("gl_browser_{}_{}", std::process::id(), hex::encode(bytes)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The page the front serves at `/start`: it posts the sign-in form at once, going on to
/// `next` (a dashboard path; `&` written `&amp;` in the attribute).
fn sign_in_page(next: &str) -> String {
    format!(
        "<!DOCTYPE html><html><body><form id=\"f\" method=\"post\" action=\"/sign-in\">\
         <input name=\"token\" value=\"{ADMIN_TOKEN}\"><input name=\"next\" value=\"{}\">\
         </form><script>document.getElementById('f').submit()</script></body></html>",
        next.replace('&', "&amp;")
    )
}

/// Starts the front: `GET /start` is answered with `sign_in_page`; any other connection is
/// piped to the server on `server_port` byte for byte. Returns the front's port.
fn start_front(server_port: u16, next: &str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let next = next.to_owned();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let next = next.clone();
            std::thread::spawn(move || front_connection(client, server_port, &next));
        }
    });
    port
}

fn front_connection(mut client: TcpStream, server_port: u16, next: &str) {
    client.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut first = [0u8; 11];
    let seen = client.peek(&mut first).unwrap_or(0);
    if first[..seen].starts_with(b"GET /start ") {
        let mut head = [0u8; 8192];
        let _ = client.read(&mut head);
        let page = sign_in_page(next);
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        );
        let _ = client.write_all(reply.as_bytes());
        return;
    }
    let Ok(server) = TcpStream::connect(("127.0.0.1", server_port)) else { return };
    let (mut to_server, mut from_server) = (server.try_clone().unwrap(), server);
    let mut back = client.try_clone().unwrap();
    let upstream = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client, &mut to_server);
        let _ = to_server.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut from_server, &mut back);
    let _ = back.shutdown(std::net::Shutdown::Write);
    let _ = upstream.join();
}

fn dump_dashboard(chromium: &Path, dir: &Path, port: u16, next: &str) -> String {
    let front = start_front(port, next);
    let profile = dir.join(format!("profile-{}", hex::encode(next)));
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        // Virtual time lets the form post and the refresh finish before the DOM is dumped.
        "--virtual-time-budget=15000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg("--dump-dom")
    .arg(format!("http://127.0.0.1:{front}/start"));
    let (ok, dom, err) = run_with_timeout(cmd, Duration::from_secs(120));
    assert!(ok, "chromium failed or timed out; stderr:\n{err}");
    dom
}

/// Chromium, or `None` when the test is to be skipped (never under `CI`).
fn chromium_or_skip() -> Option<PathBuf> {
    let found = find_chromium();
    if found.is_none() {
        let msg = "chromium is not installed (apt-get install -y chromium, or set CHROMIUM=/path): \
                   the real-browser test of the dashboard cannot run";
        if std::env::var_os("CI").is_some() {
            panic!("{msg}");
        }
        eprintln!("SKIPPED: {msg}");
    }
    found
}

/// Starts `grant-ledger serve` (with `extra` arguments) on a fresh SQLite ledger in `dir`.
fn start_server(dir: &Path, extra: &[&str]) -> (Killed, u16) {
    let url = format!("sqlite://{}", dir.join("ledger.db").display());
    let port = free_port();
    let server = Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args(extra)
        .env("DATABASE_URL", &url)
        .env("GRANT_LEDGER_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting grant-ledger serve");
    let server = Killed(server);
    let start = Instant::now();
    while !healthy(port) {
        assert!(start.elapsed() < Duration::from_secs(30), "the server did not come up on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, port)
}

#[test]
fn dashboard_renders_in_headless_chromium() {
    let Some(chromium) = chromium_or_skip() else { return };
    let dir = temp_dir();
    let (_server, port) = start_server(&dir, &[]);
    seed(port);

    let dom = dump_dashboard(&chromium, &dir, port, "/dashboard?financial_year=2023-24");

    assert!(dom.contains("<h1>Budget report 2023-24</h1>"), "signed in and on the dashboard:\n{dom}");
    assert!(dom.contains("Signed in as admin (GRANT_LEDGER_ADMIN_TOKEN)"));
    // Headline totals.
    assert!(dom.contains("<dd id=\"headline-awarded\">£61,394.00</dd>"), "{dom}");
    assert!(dom.contains("<dd id=\"headline-allocated\">£20,000.00</dd>"));
    assert!(dom.contains("<dd id=\"headline-actual\">£9,000.50</dd>"));
    assert!(dom.contains("<dd id=\"headline-unallocated\">£41,394.00</dd>"));
    // The variance table, with escaped names, figures, and RAG by word and colour class.
    let table = between(&dom, "<table id=\"variance\"", "</table>");
    let p1 = between(table, "data-project=\"P1\"", "</tr>");
    assert!(p1.contains("Youth &lt;diversion&gt; &amp; sport"), "{p1}");
    for cell in ["£12,000.00", "£3,000.50", "£8,999.50", "25.0%", "<td class=\"rag rag-red\">Red</td>"] {
        assert!(p1.contains(cell), "P1 row lacks {cell}: {p1}");
    }
    let d1 = between(table, "data-project=\"D1\"", "</tr>");
    for cell in ["£8,000.00", "£6,000.00", "£2,000.00", "75.0%", "<td class=\"rag rag-amber\">Amber</td>"] {
        assert!(d1.contains(cell), "D1 row lacks {cell}: {d1}");
    }
    let total = between(table, "<tr id=\"variance-total\">", "</tr>");
    assert!(total.contains("£20,000.00") && total.contains("£9,000.50") && total.contains("45.0%"), "{total}");
    // The charts, drawn as SVG with their figures and a text alternative.
    let bars = between(&dom, "<svg id=\"chart-priorities\"", "</svg>");
    assert!(bars.contains("data-value=\"12000.00\"") && bars.contains("data-value=\"3000.50\""), "{bars}");
    assert!(bars.contains("Anti-Social Behaviour: Budget £12000.00, Actual £3000.50"), "{bars}");
    let quarters = between(&dom, "<svg id=\"chart-quarters\"", "</svg>");
    assert!(quarters.contains("Q1 £0.00; Q2 £3000.50; Q3 £6000.00; Q4 £0.00"), "{quarters}");
    assert!(dom.contains("href=\"/dashboard/variance.csv?financial_year=2023-24\""));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The reproduction on the demo data: as at 2023-12-31 the headline and the spend
/// per quarter agree (the Q4 spend of 2024-01-22 is in neither), the officer's forecast and
/// an indicator show, and without a year the page opens on a year with an award.
#[test]
fn as_at_page_agrees_with_itself_on_the_demo_data() {
    let Some(chromium) = chromium_or_skip() else { return };
    let dir = temp_dir();
    let (_server, port) = start_server(&dir, &["--demo"]);
    post(
        port,
        "/api/v1/forecasts",
        json!({ "grant": "LDF", "financial_year": "2023-24", "quarter": 3, "project": "DEMO-DA-IDVA",
                "forecast_outturn": "18500", "explanation": "Two cases moved to the county service",
                "progress_rag": "amber", "rag_reason": "Referrals below plan", "made_on": "2023-12-15" }),
    );
    post(
        port,
        "/api/v1/projects/DEMO-DA-IDVA/indicators",
        json!({ "code": "CASES", "name": "Cases supported", "unit": "people", "financial_year": "2023-24",
                "baseline": "0", "target": "40", "quarterly_targets": ["10", "10", "10", "10"] }),
    );
    for (quarter, actual) in [(1, "12"), (2, "9"), (3, "11")] {
        post(
            port,
            "/api/v1/indicator-returns",
            json!({ "project": "DEMO-DA-IDVA", "indicator": "CASES", "financial_year": "2023-24",
                    "quarter": quarter, "actual": actual }),
        );
    }

    let dom = dump_dashboard(&chromium, &dir, port, "/dashboard?financial_year=2023-24&as_at=2023-12-31");
    assert!(dom.contains("<h1>Budget report 2023-24</h1>"), "{dom}");
    // Demo spend to 2023-12-31: 5000 (Q1); 5000 + 6500 (Q2); 1250.50 (Q3). The 3900 of
    // 2024-01-22 is after the date.
    assert!(dom.contains("<dd id=\"headline-actual\">£17,750.50</dd>"), "{dom}");
    let quarters = between(&dom, "<table class=\"chart-data\" id=\"quarters\"", "</table>");
    let total = between(quarters, "<tfoot>", "</tfoot>");
    for cell in ["£5,000.00", "£11,500.00", "£1,250.50", "£0.00", "£17,750.50"] {
        assert!(total.contains(&format!("<td class=\"num\">{cell}</td>")), "quarter total lacks {cell}: {total}");
    }
    let chart = between(&dom, "<svg id=\"chart-quarters\"", "</svg>");
    assert!(chart.contains("Q1 £5000.00; Q2 £11500.00; Q3 £1250.50; Q4 £0.00"), "{chart}");
    // The officer's forecast and the indicator: 10000 spent by DEMO-DA-IDVA over 12 + 9 + 11 cases.
    let forecasts = between(&dom, "<table id=\"forecasts\"", "</table>");
    assert!(forecasts.contains("£18,500.00") && forecasts.contains("£1,500.00"), "{forecasts}");
    assert!(forecasts.contains("Two cases moved to the county service") && forecasts.contains("Amber"), "{forecasts}");
    let indicators = between(&dom, "<table id=\"indicators\"", "</table>");
    for cell in ["Cases supported", "<td class=\"num\">30</td>", "<td class=\"num\">32</td>", "£312.50"] {
        assert!(indicators.contains(cell), "indicators lack {cell}: {indicators}");
    }

    // Without a year: the year holding today if it has an award, else the latest with one.
    let (status, body) = request(port, "GET", "/api/v1/grants/LDF/awards", Some(ADMIN_TOKEN), None);
    assert_eq!(status, 200, "{body}");
    let mut years: Vec<String> = Vec::new();
    for grant in ["LDF", "ASB-EI"] {
        let (_, body) = request(port, "GET", &format!("/api/v1/grants/{grant}/awards"), Some(ADMIN_TOKEN), None);
        let v: Value = serde_json::from_str(&body).unwrap();
        years.extend(v["items"].as_array().unwrap().iter().map(|a| a["financial_year"].as_str().unwrap().to_owned()));
    }
    years.sort();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let this = grant_ledger::domain::FinancialYear::of(chrono::DateTime::from_timestamp(now, 0).unwrap().date_naive())
        .to_string();
    let expected = if years.contains(&this) { this } else { years.last().unwrap().clone() };
    let dom = dump_dashboard(&chromium, &dir, port, "/dashboard");
    assert!(dom.contains(&format!("<h1>Budget report {expected}</h1>")), "opens on {expected}:\n{dom}");
    assert!(!dom.contains("<h1>Budget report 2025-26</h1>"), "2025-26 has no award");
    let _ = std::fs::remove_dir_all(&dir);
}
