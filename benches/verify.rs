//! `cargo bench --bench verify`: builds one ledger (200 projects, 10,000 commitments, a
//! spend against every third of them, and 40,000 imported spends: about 54,000 entries)
//! in SQLite and, when `BENCH_POSTGRES_URL` is set, in a fresh PostgreSQL database made
//! beside that one and dropped after; then times `verify` on each (best of three), beside
//! the floor of reading every entry and posting once with nothing checked.
//!
//! It prints where and when it ran, and the peak resident memory of each backend's build and
//! verify. The figures are wall-clock; nothing asserts on them. The README's "Measured
//! speed" gives measured figures with their context.
//! `BENCH_VERIFY_COMMITMENTS` and `BENCH_VERIFY_SPENDS` change the sizes.

use std::time::Instant;

use grant_ledger::csv::mapping::Mapping;
use grant_ledger::domain::{Money, parse_date};
use grant_ledger::model::import::{Engine, ImportOptions};
use grant_ledger::storage::Store;
use grant_ledger::storage::operations as ops;

mod common;
mod harness;

use common::{BENCH, PROJECTS, Rng, year};

fn size(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn ledger(url: &str, commitments: usize, spends: usize) -> Store {
    let store = common::allocated_ledger(url).await;
    let mut rng = Rng(42);
    let started = Instant::now();
    for i in 0..commitments {
        let project = format!("B{}", i % PROJECTS);
        let date = parse_date(&format!("2023-{:02}-{:02}", 4 + rng.below(9), 1 + rng.below(28))).unwrap();
        let cmd = ops::CommitmentCmd {
            agreement: None,
            grant: "BENCH".into(),
            year: year(),
            project: project.clone(),
            supplier: format!("Supplier {}", rng.below(500)),
            reference: format!("PO-{i}"),
            amount: Money::from_pence(10_000 + rng.below(100_000) as i64),
            date,
            memo: String::new(),
        };
        let c = ops::commit(&store, cmd, BENCH).await.unwrap();
        if i % 3 == 0 {
            let cmd = ops::SpendCmd {
                grant: "BENCH".into(),
                project,
                date,
                supplier: c.supplier.clone(),
                description: "against the order".into(),
                invoice_ref: format!("INV-C{i}"),
                amount: Money::from_pence(c.amount.pence() / 2),
                commitment_id: Some(c.commitment_id),
                source_ref: None,
                vat: None,
                vat_recoverable: true,
                duplicate_ok: false,
            };
            ops::spend(&store, cmd, BENCH).await.unwrap();
        }
    }
    println!("  built {commitments} commitments in {:.1} s", started.elapsed().as_secs_f64());
    let mut csv = String::from("date,grant,project,supplier,description,invoice_ref,amount,source_ref\n");
    for i in 0..spends {
        let pence = 100 + rng.below(5_000);
        csv.push_str(&format!(
            "2023-{:02}-{:02},BENCH,B{},Supplier {},Line {i},INV-{i},{}.{:02},VB-{i}\n",
            4 + rng.below(9),
            1 + rng.below(28),
            rng.below(PROJECTS as u64),
            rng.below(500),
            pence / 100,
            pence % 100
        ));
    }
    let opts = ImportOptions { dry_run: false, created_by: "bench", idem: None, engine: Engine::Bulk };
    let report =
        grant_ledger::csv::import_spend(&store, csv.as_bytes(), &Mapping::generic(), opts, &|_| {}).await.unwrap();
    assert!(report.posted && report.rejected == 0, "the bench file must import cleanly: {:?}", report.errors.first());
    store
}

/// Best of three runs of `verify`, which must find nothing.
async fn time_verify(store: &Store, label: &str) {
    let entries: i64 = sqlx::Row::get(
        &sqlx::query("select cast(count(*) as bigint) as n from entries").fetch_one(store.pool()).await.unwrap(),
        "n",
    );
    let mut best = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let problems = grant_ledger::storage::verify::verify(store).await.unwrap();
        best = best.min(started.elapsed().as_secs_f64());
        assert!(problems.is_empty(), "verify of the bench ledger: {:?}", problems.first());
    }
    println!(
        "verify ({label}): {entries} entries in {best:.3} s (best of 3; load average {})",
        harness::load_average()
    );
    let mut floor = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        read_everything(store).await;
        floor = floor.min(started.elapsed().as_secs_f64());
    }
    println!(
        "floor ({label}): reading every entry and posting once, no checks: {floor:.3} s (best of 3); verify takes {:.1}x",
        best / floor
    );
}

/// The baseline for `verify`: every entry's stored fields and every posting fetched once, as
/// a plain reader of the same database would, with nothing checked or hashed.
async fn read_everything(store: &Store) -> usize {
    let entries = sqlx::query(
        "select id, kind, entry_date, financial_year, grant_code, memo, details, created_by, created_at,
                reverses, commitment_id, source_ref, prev_hash, hash from entries",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let postings = sqlx::query("select entry_id, line, account, amount_pence, entry_date from postings")
        .fetch_all(store.pool())
        .await
        .unwrap();
    entries.len() + postings.len()
}

fn main() {
    let commitments = size("BENCH_VERIFY_COMMITMENTS", 10_000);
    let spends = size("BENCH_VERIFY_SPENDS", 40_000);
    let dir = std::env::temp_dir().join(format!("grant-ledger-verify-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    harness::print_context("verify", &dir);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = ledger(&format!("sqlite://{}", dir.join("verify.db").display()), commitments, spends).await;
        harness::phase_memory("SQLite, building the ledger");
        time_verify(&store, "SQLite").await;
        harness::phase_memory("SQLite, verify");
        store.close().await;
        if let Some(pg) = harness::Throwaway::create("verify").await {
            let store = ledger(&pg.url, commitments, spends).await;
            harness::phase_memory("PostgreSQL, building the ledger");
            time_verify(&store, "PostgreSQL").await;
            harness::phase_memory("PostgreSQL, verify");
            store.close().await;
            pg.drop_now().await;
        }
    });
    std::fs::remove_dir_all(&dir).ok();
}
