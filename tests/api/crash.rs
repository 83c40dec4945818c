//! Crash safety: SIGKILL the real server during a burst of writes, restart it, and the
//! ledger verifies clean with every acknowledged entry present.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{Backend, TestDb};

const ADMIN: &str = "gl_crash_test_admin_secret_of_32_chars_or_more";

/// One HTTP/1.1 request on its own connection; None if the server is gone.
async fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Value)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {ADMIN}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await.ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.ok()?;
    let text = String::from_utf8_lossy(&raw);
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let (_, body) = text.split_once("\r\n\r\n")?;
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_grant-ledger"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", url)
        .env("GRANT_LEDGER_ADMIN_TOKEN", ADMIN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting grant-ledger serve")
}

async fn wait_ready(port: u16) {
    for _ in 0..300 {
        if let Some((200, _)) = http(port, "GET", "/healthz", None).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server on {port} did not become ready");
}

async fn kill_during_burst(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        eprintln!("TEST_DATABASE_URL is not set: skipping the PostgreSQL run");
        return;
    };
    let port = free_port();
    let mut server = start(&db.url, port);
    wait_ready(port).await;
    let (s, _) = http(port, "POST", "/api/v1/projects", Some(&json!({ "code": "P1", "name": "p", "priority": "ASB" })))
        .await
        .unwrap();
    assert_eq!(s, 201);
    let alloc = json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "amount": "61394",
                        "approved_on": "2023-04-01", "approval_ref": "m" });
    assert_eq!(http(port, "POST", "/api/v1/allocations", Some(&alloc)).await.unwrap().0, 201);

    // Eight writers post small spends until the server dies under them.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<i64>();
    let mut writers = Vec::new();
    for w in 0..8 {
        let tx = tx.clone();
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let body = json!({ "grant": "LDF", "project": "P1", "date": "2023-07-01", "supplier": "s",
                                   "description": "burst", "amount": "0.01", "source_ref": format!("w{w}-{i}"),
                                   "invoice_ref": format!("w{w}-{i}") });
                match http(port, "POST", "/api/v1/spend", Some(&body)).await {
                    Some((201, b)) => {
                        let _ = tx.send(b["entry_id"].as_i64().unwrap());
                    }
                    Some((status, b)) => panic!("unexpected {status}: {b}"),
                    None => return,
                }
            }
        }));
    }
    drop(tx);
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 150 {
        acknowledged.push(rx.recv().await.expect("writers stopped early"));
    }
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    for w in writers {
        w.await.unwrap();
    }
    while let Ok(id) = rx.try_recv() {
        acknowledged.push(id);
    }

    let verify =
        Command::new(env!("CARGO_BIN_EXE_grant-ledger")).arg("verify").env("DATABASE_URL", &db.url).output().unwrap();
    assert!(verify.status.success(), "verify after the crash: {}", String::from_utf8_lossy(&verify.stdout));

    let port = free_port();
    let mut server = start(&db.url, port);
    wait_ready(port).await;
    for id in &acknowledged {
        let (status, e) = http(port, "GET", &format!("/api/v1/entries/{id}"), None).await.unwrap();
        assert_eq!(status, 200, "acknowledged entry {id} lost");
        assert_eq!(e["kind"], "spend");
    }
    server.kill().unwrap();
    server.wait().unwrap();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_writes_sqlite() {
    kill_during_burst(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_writes_postgres() {
    kill_during_burst(Backend::Postgres).await;
}
