//! `cargo bench --bench write`: the write path, one recording at a time as people make them.
//! On a fresh SQLite ledger (200 projects with allocations, as the other benches build) and,
//! when `BENCH_POSTGRES_URL` is set, on a throwaway PostgreSQL database beside that one, it
//! records `BENCH_WRITE_N` (default 1,000) of each, one after another, each in its own db_tx:
//! - allocations, commitments (purchase orders), spends, and spends that draw on those
//!   commitments, through the storage operations the API handlers call;
//! - spends through the HTTP app itself (JSON body, bearer token, routing, checks, audit),
//!   in process: no socket;
//! - the floor: a plain one-row INSERT into a bare two-column table on the same database and
//!   pool, one db_tx each, which is what a commit alone costs there.
//!
//! It prints entries/second over the run and the per-entry median and p95 latency, the peak
//! resident memory of each backend's phase, and then runs `verify`, which must find nothing.
//! The figures are wall-clock; nothing asserts on them. The README's "Measured speed" gives
//! measured figures with their context.

use std::time::{Duration, Instant};

use grant_ledger::domain::{Money, parse_date};
use grant_ledger::storage::operations as ops;
use grant_ledger::storage::tokens::{self, Role};

mod common;
mod harness;

use common::{BENCH, PROJECTS, Rng, year};

/// Times `n` calls of `f(i)`, one after another, and prints the rate and latencies.
async fn timed(label: &str, n: usize, mut f: impl AsyncFnMut(usize)) -> f64 {
    let mut samples = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        f(i).await;
        samples.push(t.elapsed());
    }
    let total = started.elapsed().as_secs_f64();
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let rate = n as f64 / total;
    println!(
        "{label:<48} {n:>6} in {total:>7.3} s = {rate:>7.0}/s  median {:>7.3} ms  p95 {:>7.3} ms  max {:>8.3} ms",
        ms(at(0.5)),
        ms(at(0.95)),
        ms(at(1.0))
    );
    rate
}

fn date(rng: &mut Rng) -> chrono::NaiveDate {
    parse_date(&format!("2023-{:02}-{:02}", 4 + rng.below(9), 1 + rng.below(28))).unwrap()
}

async fn post(router: &axum::Router, token: &str, body: String) {
    use tower::ServiceExt;
    let req = axum::http::Request::post("/api/v1/spend")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    assert_eq!(status.as_u16(), 201, "POST /api/v1/spend: {}", String::from_utf8_lossy(&bytes));
}

async fn write_path(url: &str, backend: &str, n: usize) {
    println!("-- {backend} (load average {})", harness::load_average());
    let store = common::allocated_ledger(url).await;
    harness::phase_memory(&format!("{backend}, set-up"));
    let mut rng = Rng(42);
    let allocations = timed("allocation (storage operation)", n, async |i| {
        let cmd = ops::AllocationCmd {
            grant: "BENCH".into(),
            year: year(),
            project: format!("B{}", i % PROJECTS),
            amount: Money::from_pence(1_000 + i as i64),
            approved_on: parse_date("2023-04-03").unwrap(),
            approval_ref: format!("bench-{i}"),
            memo: String::new(),
        };
        ops::allocate(&store, cmd, BENCH).await.unwrap();
    })
    .await;
    let mut orders = Vec::with_capacity(n);
    let commitments = timed("commitment (storage operation)", n, async |i| {
        let cmd = ops::CommitmentCmd {
            agreement: None,
            grant: "BENCH".into(),
            year: year(),
            project: format!("B{}", i % PROJECTS),
            supplier: format!("Supplier {}", rng.below(500)),
            reference: format!("PO-{i}"),
            amount: Money::from_pence(10_000 + rng.below(100_000) as i64),
            date: date(&mut rng),
            memo: String::new(),
        };
        orders.push(ops::commit(&store, cmd, BENCH).await.unwrap());
    })
    .await;
    let spend = |i: usize, rng: &mut Rng| ops::SpendCmd {
        grant: "BENCH".into(),
        project: format!("B{}", i % PROJECTS),
        date: date(rng),
        supplier: format!("Supplier {}", rng.below(500)),
        description: "bench".into(),
        invoice_ref: format!("INV-{i}"),
        amount: Money::from_pence(100 + rng.below(5_000) as i64),
        commitment_id: None,
        source_ref: None,
        vat: None,
        vat_recoverable: true,
        duplicate_ok: false,
    };
    let spends = timed("spend (storage operation)", n, async |i| {
        ops::spend(&store, spend(i, &mut rng), BENCH).await.unwrap();
    })
    .await;
    let against = timed("spend against a commitment (storage operation)", n, async |i| {
        let order = &orders[i];
        let cmd = ops::SpendCmd {
            project: format!("B{}", i % PROJECTS),
            date: parse_date(&order.date).unwrap(),
            supplier: order.supplier.clone(),
            invoice_ref: format!("INV-PO-{i}"),
            amount: Money::from_pence(order.amount.pence() / 2),
            commitment_id: Some(order.commitment_id),
            ..spend(i, &mut Rng(7))
        };
        ops::spend(&store, cmd, BENCH).await.unwrap();
    })
    .await;
    let token = tokens::create(&store, "bench", Role::Admin, "bench").await.unwrap().token;
    let router = grant_ledger::http::app(grant_ledger::http::AppState::new(store.clone()));
    let http = timed("spend (POST /api/v1/spend, in process)", n, async |i| {
        let body = serde_json::json!({
            "grant": "BENCH", "project": format!("B{}", i % PROJECTS), "date": date(&mut rng).to_string(),
            "supplier": format!("Supplier {}", rng.below(500)), "description": "bench",
            "invoice_ref": format!("INV-HTTP-{i}"), "amount": Money::from_pence(100 + rng.below(5_000) as i64).to_string(),
        })
        .to_string();
        post(&router, &token, body).await;
    })
    .await;
    sqlx::query("create table bench_write_floor (id bigint primary key, note text not null)")
        .execute(store.pool())
        .await
        .unwrap();
    let floor = timed("floor: one-row INSERT into a bare table", n, async |i| {
        let mut db_tx = store.pool().begin().await.unwrap();
        sqlx::query("insert into bench_write_floor (id, note) values ($1, $2)")
            .bind(i as i64)
            .bind(format!("row {i}"))
            .execute(&mut *db_tx)
            .await
            .unwrap();
        db_tx.commit().await.unwrap();
    })
    .await;
    sqlx::query("drop table bench_write_floor").execute(store.pool()).await.unwrap();
    println!(
        "   the floor's rate over each: allocation {:.1}x, commitment {:.1}x, spend {:.1}x, spend against a commitment {:.1}x, HTTP spend {:.1}x",
        floor / allocations,
        floor / commitments,
        floor / spends,
        floor / against,
        floor / http
    );
    harness::phase_memory(&format!("{backend}, recordings"));
    let started = Instant::now();
    let problems = grant_ledger::storage::verify::verify(&store).await.unwrap();
    assert!(problems.is_empty(), "verify after the write bench: {:?}", problems.first());
    println!(
        "   verify: clean in {:.2} s; load average now {}",
        started.elapsed().as_secs_f64(),
        harness::load_average()
    );
    store.close().await;
}

fn main() {
    let n = std::env::var("BENCH_WRITE_N").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    let dir = std::env::temp_dir().join(format!("grant-ledger-write-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    harness::print_context("write", &dir);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        write_path(&format!("sqlite://{}", dir.join("write.db").display()), "SQLite", n).await;
        if let Some(pg) = harness::Throwaway::create("write").await {
            write_path(&pg.url, "PostgreSQL", n).await;
            pg.drop_now().await;
        }
    });
    std::fs::remove_dir_all(&dir).ok();
}
