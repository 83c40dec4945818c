//! The ledger under test: the real binary on a loopback port with a fresh SQLite ledger,
//! seeded through its REST API as a client would; and a second site, for forged posts.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const ADMIN_TOKEN: &str = "gl_browser_test_admin_token_0123456789";
/// The service's operator, who makes a funder's first funder_admin.
pub const OPERATOR_TOKEN: &str = "gl_browser_test_operator_token_0123456789";

/// Chromium, or `None` when the tests are to be skipped (never under `CI`).
pub fn chromium_or_skip() -> Option<PathBuf> {
    let found = std::env::var_os("CHROMIUM").map(PathBuf::from).or_else(|| {
        let path = std::env::var_os("PATH")?;
        ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let msg = "chromium is not installed (apt-get install -y chromium, or set CHROMIUM=/path): \
                   the real-browser tests of the pages cannot run";
        if std::env::var_os("CI").is_some() {
            panic!("{msg}");
        }
        eprintln!("SKIPPED: {msg}");
    }
    found
}

/// A fresh folder under the system's temporary folder.
pub fn temp_dir(tag: &str) -> PathBuf {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    let dir = std::env::temp_dir().join(format!("gl_browser_{tag}_{}_{}", std::process::id(), hex::encode(bytes)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Where a test's screenshots go: the build's folder for test output.
pub fn screenshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser").join(format!("{name}.png"))
}

/// `grant-ledger serve`, killed (and its folder removed) when dropped.
pub struct Ledger {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Ledger {
    /// Starts the real binary (with `extra` arguments) on a fresh SQLite ledger, on a free
    /// loopback port, and waits until it answers.
    pub fn start(extra: &[&str]) -> Ledger {
        let dir = temp_dir("ledger");
        let url = format!("sqlite://{}", dir.join("ledger.db").display());
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(extra)
            .env("DATABASE_URL", &url)
            .env("GRANT_LEDGER_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("GRANT_LEDGER_OPERATOR_TOKEN", OPERATOR_TOKEN)
            .env_remove("GRANT_LEDGER_PUBLIC_URL")
            .env_remove("GRANT_LEDGER_TRUSTED_PROXIES")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting grant-ledger serve");
        let ledger = Ledger { child, dir, port };
        let start = Instant::now();
        while !(TcpStream::connect(("127.0.0.1", port)).is_ok() && ledger.request("GET", "/healthz", None).0 == 200) {
            assert!(start.elapsed() < Duration::from_secs(30), "the server did not come up on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        ledger
    }

    /// The binary's command line against this ledger's database, with `stdin` fed in:
    /// (succeeded, stdout and stderr).
    pub fn cli(&self, args: &[&str], stdin: &str) -> (bool, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
            .args(args)
            .env("DATABASE_URL", format!("sqlite://{}", self.dir.join("ledger.db").display()))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running grant-ledger");
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    }

    /// `http://127.0.0.1:PORT` and `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// One HTTP/1.1 request as admin over a fresh loopback connection: (status, body).
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
        self.request_as(ADMIN_TOKEN, method, path, body)
    }

    /// One HTTP/1.1 request with the bearer `token`: (status, body).
    pub fn request_as(&self, token: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connecting to the server");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
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

    pub fn post(&self, path: &str, body: Value) {
        let (status, text) = self.request("POST", path, Some(&body));
        assert_eq!(status, 201, "POST {path}: {text}");
    }

    /// A 2023-24 ledger: two projects under two priorities, one spend in Q2 and one in Q3.
    pub fn seed(&self) {
        for (code, name, priority) in [("P1", "Youth <diversion> & sport", "ASB"), ("D1", "Drug outreach", "DRUGS")] {
            self.post("/api/v1/projects", json!({ "code": code, "name": name, "priority": priority }));
        }
        for (project, amount) in [("P1", "12000"), ("D1", "8000")] {
            self.post(
                "/api/v1/allocations",
                json!({ "grant": "LDF", "financial_year": "2023-24", "project": project, "amount": amount,
                        "approved_on": "2023-03-16", "approval_ref": "CSP minute 1" }),
            );
        }
        for (project, date, amount) in [("P1", "2023-08-01", "3000.50"), ("D1", "2023-11-15", "6000")] {
            self.post(
                "/api/v1/spend",
                json!({ "grant": "LDF", "project": project, "date": date, "supplier": "Supplier Ltd",
                        "description": "Delivery", "invoice_ref": "INV-1", "amount": amount }),
            );
        }
    }
}

/// Another site on its own loopback port: every request is answered with `page` (HTML),
/// with the extra `headers`. Returns its port; it serves until the test ends.
pub fn other_site(page: String, headers: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut client in listener.incoming().flatten() {
            client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && client.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n{headers}Content-Length: {}\r\n\
                 Connection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = client.write_all(reply.as_bytes());
        }
    });
    port
}
