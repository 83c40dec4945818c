//! `cargo bench --bench import`: imports a 100,000-line generic CSV into a fresh SQLite
//! ledger in one db_tx and prints lines per second, then times a plain
//! `sqlite3 DB ".import --csv FILE table"` of the same file for comparison. Also times the
//! per-line engine (`spend_in` for each line) on 10,000 lines, to show what bulk buys.
//!
//! It prints where and when it ran, and the peak resident memory of each phase. The figures
//! are wall-clock; nothing asserts on them. `BENCH_BULK_ONLY=1`
//! skips the per-line engine, for repeated runs of the bulk figure.
//! `BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres` also runs the bulk import
//! into a fresh PostgreSQL database created beside that one, and drops it after.

use std::time::Instant;

use grant_ledger::csv::mapping::Mapping;
use grant_ledger::model::import::{Engine, ImportOptions};
use grant_ledger::storage::Store;

const LINES: usize = 100_000;
const PER_LINE_LINES: usize = 10_000;
mod baseline;
mod common;
mod harness;

use common::{PROJECTS, Rng};

fn csv_file(lines: usize, seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut out = String::from("date,grant,project,supplier,description,invoice_ref,amount,source_ref\n");
    for i in 0..lines {
        let date = format!("2023-{:02}-{:02}", 4 + rng.below(9), 1 + rng.below(28));
        let project = rng.below(PROJECTS as u64);
        let pence = 100 + rng.below(50_000);
        out.push_str(&format!(
            "{date},BENCH,B{project},Supplier {},Invoice line {i},INV-{i},{}.{:02},BENCH-{seed}-{i}\n",
            rng.below(500),
            pence / 100,
            pence % 100
        ));
    }
    out
}

fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}", path.display())
}

async fn timed_import(store: &Store, bytes: &[u8], engine: Engine) -> (f64, usize) {
    let started = Instant::now();
    let opts = ImportOptions { dry_run: false, created_by: "bench", idem: None, engine };
    let report = grant_ledger::csv::import_spend(store, bytes, &Mapping::generic(), opts, &|_| {}).await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert!(report.posted && report.rejected == 0, "the bench file must import cleanly: {:?}", report.errors.first());
    (seconds, report.accepted)
}

/// Imports `text` with the bulk engine, prints the figure under `label`, then runs `verify`.
async fn bulk_import_and_verify(store: &Store, text: &str, label: &str) {
    let (seconds, accepted) = timed_import(store, text.as_bytes(), Engine::Bulk).await;
    println!(
        "{label} {accepted} lines in {seconds:.3} s = {:.0} lines/s (parse, check, write, commit)",
        accepted as f64 / seconds
    );
    let problems = grant_ledger::storage::verify::verify(store).await.unwrap();
    assert!(problems.is_empty(), "verify after the bulk import: {problems:?}");
    println!("verify after the bulk import: clean");
}

/// What SQLite itself takes to insert the same 100,000 entries and 200,000 postings into
/// the ledger's schema (its indexes, foreign keys and the same pragmas), in the sqlite3
/// shell with no Rust in the way: a floor for any import that keeps every row. `floor.db`
/// is a second ledger set up exactly as `bulk.db` was before its import, so the rows and
/// their ids are the same.
fn schema_floor(dir: &std::path::Path) {
    let script = format!(
        "pragma foreign_keys = on; pragma cache_size = -65536; pragma synchronous = full;
        attach '{}' as src;
        begin;
        insert into balances select * from src.balances where account not in (select account from balances);
        insert into entries select * from src.entries where source_ref like 'BENCH-%';
        insert into postings select p.* from src.postings p join src.entries e on e.id = p.entry_id
          where e.source_ref like 'BENCH-%';
        commit;",
        dir.join("bulk.db").display()
    );
    match baseline::run_tool("sqlite3", &[dir.join("floor.db").into(), script.into()]) {
        Ok(r) if r.output.status.success() => println!(
            "sqlite3 shell, same rows into the ledger schema: {LINES} entries + postings in {:.3} s = {:.0} lines/s, peak memory {}",
            r.elapsed.as_secs_f64(),
            LINES as f64 / r.elapsed.as_secs_f64(),
            r.peak()
        ),
        Ok(r) => println!("sqlite3 schema floor failed: {}", String::from_utf8_lossy(&r.output.stderr)),
        Err(e) => println!("sqlite3 is not installed ({e}); no schema floor figure"),
    }
}

/// The same bulk import into a throwaway PostgreSQL database, when `BENCH_POSTGRES_URL` is set.
async fn postgres_import(text: &str) {
    let Some(pg) = harness::Throwaway::create("import").await else { return };
    let store = common::allocated_ledger(&pg.url).await;
    harness::phase_memory("PostgreSQL, set-up");
    bulk_import_and_verify(&store, text, "import (bulk engine, PostgreSQL):").await;
    harness::phase_memory("PostgreSQL, bulk import and verify");
    store.close().await;
    pg.drop_now().await;
}

fn main() {
    let dir = std::env::temp_dir().join(format!("grant-ledger-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("spend.csv");
    let text = csv_file(LINES, 42);
    std::fs::write(&file, &text).unwrap();
    harness::print_context("import", &dir);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();

    rt.block_on(async {
        let started = Instant::now();
        let parsed = grant_ledger::csv::import::parse(text.as_bytes(), &Mapping::generic());
        let parse_seconds = started.elapsed().as_secs_f64();
        assert!(parsed.errors.is_empty());
        drop(parsed);
        println!(
            "parse only:            {LINES} lines in {parse_seconds:.3} s = {:.0} lines/s",
            LINES as f64 / parse_seconds
        );
        harness::phase_memory("generating and parsing the file");

        common::allocated_ledger(&sqlite_url(&dir.join("floor.db"))).await.close().await;
        let store = common::allocated_ledger(&sqlite_url(&dir.join("bulk.db"))).await;
        harness::phase_memory("SQLite, set-up");
        bulk_import_and_verify(&store, &text, "import (bulk engine):").await;
        harness::phase_memory("SQLite, bulk import and verify");
        store.close().await;
        postgres_import(&text).await;
        if std::env::var_os("BENCH_BULK_ONLY").is_some() {
            return;
        }

        let store = common::allocated_ledger(&sqlite_url(&dir.join("per-line.db"))).await;
        let small = csv_file(PER_LINE_LINES, 7);
        let (seconds, accepted) = timed_import(&store, small.as_bytes(), Engine::PerLine).await;
        println!(
            "import (per-line engine): {accepted} lines in {seconds:.3} s = {:.0} lines/s",
            accepted as f64 / seconds
        );
        harness::phase_memory("SQLite, per-line import");
        store.close().await;
    });

    schema_floor(&dir);

    let db = dir.join("plain.db");
    match baseline::run_tool("sqlite3", &[db.into(), format!(".import --csv {} spend_lines", file.display()).into()]) {
        Ok(r) if r.output.status.success() => println!(
            "sqlite3 .import --csv: {LINES} lines in {:.3} s = {:.0} lines/s (plain table, no checks), peak memory {}",
            r.elapsed.as_secs_f64(),
            LINES as f64 / r.elapsed.as_secs_f64(),
            r.peak()
        ),
        Ok(r) => println!("sqlite3 .import failed: {}", String::from_utf8_lossy(&r.output.stderr)),
        Err(e) => println!("sqlite3 is not installed ({e}); no comparison figure"),
    }
    println!("load average at the end: {}", harness::load_average());
    if std::env::var_os("BENCH_KEEP").is_none() {
        std::fs::remove_dir_all(&dir).ok();
    }
}
