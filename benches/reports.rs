//! `cargo bench --bench reports`: generates one financial year with 1,000 projects and
//! 1,000,000 postings in a fresh SQLite ledger, bulk-inserted in one db_tx with the entry
//! hash chain computed as `post_in` computes it, checks it with `verify`, then times the
//! reports (median and p95 of N runs). With `BENCH_POSTGRES_URL` set it does the same in a
//! throwaway PostgreSQL database beside that one. Last, it runs the same data through
//! `hledger bal --budget`. It prints where and when it ran, and the peak resident memory of
//! each phase.
//!
//! Scale with `GL_BENCH_PROJECTS` and `GL_BENCH_POSTINGS`; runs with `GL_BENCH_RUNS`.
//! This generator writes SQL itself because it is a measuring tool, not the product: the
//! product's only SQL stays in `storage`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use grant_ledger::domain::chain::{EntryContent, PostingContent, entry_hash_v1};
use grant_ledger::domain::{FinancialYear, Money};
use grant_ledger::model::known::Known;
use grant_ledger::reports::run;
use grant_ledger::storage::entry_columns::{self, EntryColumns};
use grant_ledger::storage::{DbTx, Store};
use sqlx::Row;

mod baseline;
mod harness;

const GRANT: &str = "BENCH";
const PRIORITIES: [&str; 7] = ["ASB", "COHESION", "DOMESTIC-ABUSE", "DRUGS", "VEHICLE", "VIOLENCE", "VULNERABLE"];
const CREATED_AT: &str = "2023-04-01T09:00:00Z";

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A small deterministic generator (xorshift64*), so every run builds the same ledger.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct GenEntry {
    kind: &'static str,
    date: NaiveDate,
    details: String,
    postings: [(String, i64); 2],
}

fn project_code(i: usize) -> String {
    format!("P{i:04}")
}

/// Allocations first (dated the first day), then spends in date order.
fn generate(year: FinancialYear, projects: usize, postings: usize) -> (Vec<GenEntry>, BTreeMap<String, i64>) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let spends_per_project = (postings / 2).saturating_sub(projects) / projects;
    let fy = year.to_string();
    let days = (year.end() - year.start()).num_days() as u64 + 1;
    let mut spends = Vec::with_capacity(spends_per_project * projects);
    let mut allocations = Vec::with_capacity(projects);
    let mut balances: BTreeMap<String, i64> = BTreeMap::new();
    for i in 0..projects {
        let p = project_code(i);
        let (available, spent) = (format!("available:{GRANT}:{fy}:{p}"), format!("spent:{GRANT}:{fy}:{p}"));
        let mut total = 0i64;
        for k in 0..spends_per_project {
            let pence = 100 + rng.below(20_000) as i64;
            total += pence;
            let date = year.start() + chrono::Duration::days(rng.below(days) as i64);
            spends.push(GenEntry {
                kind: "spend",
                date,
                details: format!(
                    "{{\"supplier\":\"Bench Ltd\",\"description\":\"bench\",\"invoice_ref\":\"B-{i}-{k}\",\"amount\":\"{}\"}}",
                    Money::from_pence(pence)
                ),
                postings: [(available.clone(), pence), (spent.clone(), -pence)],
            });
        }
        // Budgets from 100% to ~330% of the year's spend, so percentages and RAG vary.
        let budget = total * 100 / (30 + rng.below(71) as i64);
        allocations.push(GenEntry {
            kind: "allocation",
            date: year.start(),
            details: format!(
                "{{\"approved_on\":\"2023-03-16\",\"approval_ref\":\"bench\",\"amount\":\"{}\"}}",
                Money::from_pence(budget)
            ),
            postings: [(format!("unallocated:{GRANT}:{fy}"), budget), (available.clone(), -budget)],
        });
        *balances.entry(available).or_default() += total - budget;
        *balances.entry(spent).or_default() -= total;
        *balances.entry(format!("unallocated:{GRANT}:{fy}")).or_default() += budget;
    }
    spends.sort_by_key(|e| e.date);
    allocations.extend(spends);
    (allocations, balances)
}

async fn insert_entries(db_tx: &mut DbTx, year: FinancialYear, entries: &[GenEntry]) -> anyhow::Result<()> {
    let fy = year.to_string();
    let row =
        sqlx::query("select cast(coalesce(max(id), 0) as bigint) as m from entries").fetch_one(&mut **db_tx).await?;
    let first_id: i64 = row.get::<i64, _>("m") + 1;
    let mut head: String = sqlx::query("select head_hash from awards where grant_code = $1 and financial_year = $2")
        .bind(GRANT)
        .bind(&fy)
        .fetch_one(&mut **db_tx)
        .await?
        .get("head_hash");
    const ENTRY_ROWS: usize = 400;
    for (chunk_no, chunk) in entries.chunks(ENTRY_ROWS).enumerate() {
        // The typed columns too, as `post_in` writes them, so `verify` finds them agreeing.
        let mut sql = format!(
            "insert into entries (id, kind, entry_date, financial_year, grant_code, memo, details, created_by, created_at, prev_hash, hash, {}) values ",
            entry_columns::NAMES.join(", ")
        );
        let mut psql = String::from("insert into postings (entry_id, line, account, amount_pence, entry_date) values ");
        let mut hashes = Vec::with_capacity(chunk.len());
        for (i, e) in chunk.iter().enumerate() {
            let date = e.date.to_string();
            let content = EntryContent {
                id: first_id + (chunk_no * ENTRY_ROWS + i) as i64,
                kind: e.kind,
                date: &date,
                financial_year: &fy,
                grant: GRANT,
                memo: "",
                details: &e.details,
                created_by: "bench",
                created_at: CREATED_AT,
                reverses: None,
                commitment_id: None,
                source_ref: None,
                postings: e
                    .postings
                    .iter()
                    .enumerate()
                    .map(|(i, (account, pence))| PostingContent {
                        line: i as i64 + 1,
                        account: account.clone(),
                        amount_pence: *pence,
                        entry_date: date.clone(),
                    })
                    .collect(),
            };
            // Rows inserted here take the column's default, hash version 1.
            let hash = entry_hash_v1(&head, &content);
            hashes.push((head.clone(), hash.clone()));
            head = hash;
            const PER_ROW: usize = 11 + entry_columns::NAMES.len();
            let b = i * PER_ROW;
            let marks: Vec<String> = (1..=PER_ROW).map(|k| format!("${}", b + k)).collect();
            let _ = write!(sql, "{}({})", if i == 0 { "" } else { "," }, marks.join(","));
            for line in 0..2 {
                let pb = (i * 2 + line) * 5;
                let _ = write!(
                    psql,
                    "{}(${},${},${},${},${})",
                    if i == 0 && line == 0 { "" } else { "," },
                    pb + 1,
                    pb + 2,
                    pb + 3,
                    pb + 4,
                    pb + 5
                );
            }
        }
        let columns: Vec<EntryColumns> = chunk
            .iter()
            .map(|e| EntryColumns::of(&serde_json::from_str(&e.details).expect("the generator writes JSON")))
            .collect();
        let mut q = sqlx::query(&sql);
        let mut pq = sqlx::query(&psql);
        for (i, (e, (prev, hash))) in chunk.iter().zip(&hashes).enumerate() {
            let id = first_id + (chunk_no * ENTRY_ROWS + i) as i64;
            let date = e.date.to_string();
            q = q
                .bind(id)
                .bind(e.kind)
                .bind(date.clone())
                .bind(fy.clone())
                .bind(GRANT)
                .bind("")
                .bind(e.details.clone())
                .bind("bench")
                .bind(CREATED_AT)
                .bind(prev.clone())
                .bind(hash.clone());
            q = columns[i].bind(q);
            for (line, (account, pence)) in e.postings.iter().enumerate() {
                pq = pq.bind(id).bind(line as i64 + 1).bind(account.clone()).bind(*pence).bind(date.clone());
            }
        }
        q.execute(&mut **db_tx).await?;
        pq.execute(&mut **db_tx).await?;
    }
    sqlx::query("update awards set head_hash = $3 where grant_code = $1 and financial_year = $2")
        .bind(GRANT)
        .bind(&fy)
        .bind(&head)
        .execute(&mut **db_tx)
        .await?;
    Ok(())
}

/// Sends one request to the app; reference data goes through the REST API (API.md), so the
/// bench does not depend on storage signatures.
async fn api(router: &axum::Router, token: &str, path: &str, body: serde_json::Value) -> anyhow::Result<()> {
    use tower::ServiceExt;
    let req = axum::http::Request::post(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))?;
    let resp = router.clone().oneshot(req).await?;
    let status = resp.status();
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await?.to_bytes();
    anyhow::ensure!(status.as_u16() == 201, "POST {path}: {status} {}", String::from_utf8_lossy(&bytes));
    Ok(())
}

async fn build_ledger(
    store: &Store,
    year: FinancialYear,
    projects: usize,
    (entries, balances): &(Vec<GenEntry>, BTreeMap<String, i64>),
) -> anyhow::Result<()> {
    use grant_ledger::storage::tokens::{self, Role};
    let token = tokens::create(store, "bench", Role::Admin, "bench").await?.token;
    let router = grant_ledger::http::app(grant_ledger::http::AppState::new(store.clone()));
    let awarded: i64 = balances.iter().filter(|(a, _)| a.starts_with("unallocated:")).map(|(_, b)| *b).sum();
    api(
        &router,
        &token,
        "/api/v1/grants",
        serde_json::json!({ "code": GRANT, "name": "Bench grant", "funder": "SCO", "on_overspend": "stop" }),
    )
    .await?;
    api(
        &router,
        &token,
        &format!("/api/v1/grants/{GRANT}/awards"),
        serde_json::json!({ "financial_year": year.to_string(), "amount": Money::from_pence(awarded + 100_000_000).to_string(),
                            "awarded_on": year.start().to_string(), "reference": "bench" }),
    )
    .await?;
    for i in 0..projects {
        api(
            &router,
            &token,
            "/api/v1/projects",
            serde_json::json!({ "code": project_code(i), "name": format!("Bench project {i}"),
                                "priority": PRIORITIES[i % PRIORITIES.len()], "lead_organisation": "Bench lead" }),
        )
        .await?;
    }
    let mut db_tx = store.begin().await?;
    let fy = year.to_string();
    for (account, balance) in balances {
        if account.starts_with("unallocated:") {
            sqlx::query("update balances set balance_pence = balance_pence + $2 where account = $1")
                .bind(account)
                .bind(balance)
                .execute(&mut *db_tx)
                .await?;
            continue;
        }
        let mut parts = account.split(':');
        let kind = parts.next().unwrap_or_default();
        let project = account.rsplit(':').next().unwrap_or_default();
        sqlx::query(
            "insert into balances (account, kind, grant_code, financial_year, project_code, balance_pence) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(account)
        .bind(kind)
        .bind(GRANT)
        .bind(&fy)
        .bind(project)
        .bind(balance)
        .execute(&mut *db_tx)
        .await?;
    }
    insert_entries(&mut db_tx, year, entries).await?;
    db_tx.commit().await?;
    Ok(())
}

struct Stats {
    median: Duration,
    p95: Duration,
    min: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Stats { median: at(0.5), p95: at(0.95), min: samples[0] }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn time<F, Fut>(label: &str, runs: usize, mut f: F) -> Stats
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let _warm = f().await;
    let mut samples = Vec::with_capacity(runs);
    let mut size = 0;
    for _ in 0..runs {
        let t = Instant::now();
        size = f().await;
        samples.push(t.elapsed());
    }
    let s = stats(samples);
    println!(
        "{label:<56} runs {runs:>3}  median {:>11}  p95 {:>11}  min {:>11}  ({size} bytes of JSON/CSV)",
        ms(s.median),
        ms(s.p95),
        ms(s.min)
    );
    s
}

/// The same ledger as an hledger journal: the allocations as a yearly budget (periodic
/// transaction), every spend as a transaction on the project's expense account.
fn write_journal(path: &std::path::Path, year: FinancialYear, entries: &[GenEntry]) -> anyhow::Result<()> {
    let mut out = String::with_capacity(entries.len() * 90);
    let _ = writeln!(out, "; generated by cargo bench --bench reports\n\n~ every 1st April from {}", year.start());
    for e in entries.iter().filter(|e| e.kind == "allocation") {
        let project = e.postings[1].0.rsplit(':').next().unwrap_or_default();
        let _ = writeln!(out, "    expenses:{GRANT}:{project}    {}", Money::from_pence(e.postings[0].1));
    }
    let _ = writeln!(out, "    income:{GRANT}\n");
    for e in entries.iter().filter(|e| e.kind == "spend") {
        let project = e.postings[1].0.rsplit(':').next().unwrap_or_default();
        let _ = writeln!(
            out,
            "{} spend\n    expenses:{GRANT}:{project}    {}\n    assets:bank\n",
            e.date,
            Money::from_pence(e.postings[0].1)
        );
    }
    std::fs::write(path, out)?;
    Ok(())
}

fn time_hledger(journal: &std::path::Path, end: &str) -> Option<Duration> {
    let args: Vec<std::ffi::OsString> = ["-f".into(), journal.into()]
        .into_iter()
        .chain(["bal", "--budget", "-b", "2023-04-01", "-e", end, "expenses"].map(Into::into))
        .collect();
    let run = baseline::run_tool("hledger", &args).ok()?;
    if !run.output.status.success() {
        println!("hledger failed: {}", String::from_utf8_lossy(&run.output.stderr));
        return None;
    }
    let text = String::from_utf8_lossy(&run.output.stdout);
    println!(
        "hledger bal --budget -e {end}: {} lines of output; last: {}; peak memory {}",
        text.lines().count(),
        text.lines().last().unwrap_or("").trim(),
        run.peak()
    );
    Some(run.elapsed)
}

/// The figures the hledger comparison is set against.
struct Headline {
    current: Stats,
    at: Stats,
    at_end: Stats,
}

/// Builds the ledger at `url` from `generated`, verifies it, and times the reports.
async fn measure(
    url: &str,
    backend: &str,
    year: FinancialYear,
    projects: usize,
    generated: &(Vec<GenEntry>, BTreeMap<String, i64>),
    runs: usize,
) -> anyhow::Result<Headline> {
    println!("-- {backend} (load average {})", harness::load_average());
    let store = grant_ledger::cli::open(url).await?;
    let t = Instant::now();
    build_ledger(&store, year, projects, generated).await?;
    let counted: i64 =
        sqlx::query("select cast(count(*) as bigint) as n from postings").fetch_one(store.pool()).await?.get("n");
    println!(
        "generated {} entries, {counted} postings in the ledger, in {:.1} s",
        generated.0.len(),
        t.elapsed().as_secs_f64()
    );
    harness::phase_memory(&format!("{backend}, writing the ledger"));
    let t = Instant::now();
    let problems = grant_ledger::storage::verify::verify(&store).await?;
    println!(
        "verify: {} in {:.1} s",
        if problems.is_empty() {
            "ledger verified, no problems".to_owned()
        } else {
            format!("{} problems: {:?}", problems.len(), &problems[..problems.len().min(5)])
        },
        t.elapsed().as_secs_f64()
    );
    harness::phase_memory(&format!("{backend}, verify"));
    // Analyse as a long-running server would have; the planner uses the statistics.
    sqlx::query("analyze").execute(store.pool()).await?;
    println!("load average before the reports: {}", harness::load_average());

    let today = NaiveDate::from_ymd_opt(2024, 1, 15).expect("a date");
    let as_at = NaiveDate::from_ymd_opt(2023, 12, 31).expect("a date");
    let current = time("variance, current (balances), to JSON", runs, || async {
        let r = run::variance(&store, year, None, &Known::Now, None, today).await.expect("variance");
        serde_json::to_vec(&r).expect("json").len()
    })
    .await;
    let at = time("variance, as at 2023-12-31 (postings), to JSON", runs.min(10), || async {
        let r = run::variance(&store, year, Some(as_at), &Known::Now, None, today).await.expect("variance as at");
        serde_json::to_vec(&r).expect("json").len()
    })
    .await;
    // The worst case: the day before the midpoint sums the first half of the year's postings.
    let mid = NaiveDate::from_ymd_opt(2023, 9, 29).expect("a date");
    let at_mid = time("variance, as at 2023-09-29 (half the postings), to JSON", runs.min(10), || async {
        let r = run::variance(&store, year, Some(mid), &Known::Now, None, today).await.expect("variance as at");
        serde_json::to_vec(&r).expect("json").len()
    })
    .await;
    let at_end = time("variance, as at 2024-03-31 (all postings), to JSON", runs.min(10), || async {
        let r = run::variance(&store, year, Some(year.end()), &Known::Now, None, today).await.expect("variance as at");
        serde_json::to_vec(&r).expect("json").len()
    })
    .await;
    time("quarterly spend, to JSON", runs.min(10), || async {
        let r = run::quarterly(&store, year, None, None, &Known::Now).await.expect("quarterly");
        serde_json::to_vec(&r).expect("json").len()
    })
    .await;
    time("Commissioner's return Q3, to CSV", runs.min(10), || async {
        let rows = run::commissioner_return(&store, year, 3, &Known::Now).await.expect("return");
        grant_ledger::reports::csv_out::write(&grant_ledger::reports::commissioner::CSV_HEADER, &rows, false).len()
    })
    .await;
    println!(
        "targets ({backend}): current variance median {} (target < 50 ms: {}); slowest as-at median {} (target < 1 s: {})",
        ms(current.median),
        if current.median < Duration::from_millis(50) { "met" } else { "NOT met" },
        ms(at.median.max(at_mid.median)),
        if at.median.max(at_mid.median) < Duration::from_secs(1) { "met" } else { "NOT met" }
    );
    harness::phase_memory(&format!("{backend}, reports"));
    println!("load average now: {}", harness::load_average());
    store.close().await;
    Ok(Headline { current, at, at_end })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; anything else (e.g. a filter) is ignored.
    let projects = env_num("GL_BENCH_PROJECTS", 1_000);
    let postings = env_num("GL_BENCH_POSTINGS", 1_000_000);
    let runs = env_num("GL_BENCH_RUNS", 30);
    let year = FinancialYear::parse("2023-24").expect("a year");
    let dir = std::env::temp_dir().join(format!("gl_bench_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("bench.db");
    harness::print_context("reports", &dir);
    println!("grant-ledger reports bench: {projects} projects, {postings} generated postings");

    let generated = generate(year, projects, postings);
    harness::phase_memory("generating the entries in memory");
    let Headline { current, at, at_end } =
        measure(&format!("sqlite://{}", db.display()), "SQLite", year, projects, &generated, runs).await?;
    if let Some(pg) = harness::Throwaway::create("reports").await {
        measure(&pg.url, "PostgreSQL", year, projects, &generated, runs).await?;
        pg.drop_now().await;
    }
    let entries = &generated.0;

    let journal = dir.join("bench.journal");
    write_journal(&journal, year, entries)?;
    println!("hledger journal: {} ({} MB)", journal.display(), std::fs::metadata(&journal)?.len() / 1_000_000);
    match Command::new("hledger").arg("--version").output() {
        Ok(v) if v.status.success() => {
            println!("{}", String::from_utf8_lossy(&v.stdout).trim());
            if let Some(h) = time_hledger(&journal, "2024-04-01") {
                println!(
                    "hledger bal --budget, whole year: {} (one run); ratio to the SQLite current variance median: {:.0}x; to its as-at (year end) median: {:.1}x; load average {}",
                    ms(h),
                    h.as_secs_f64() / current.median.as_secs_f64(),
                    h.as_secs_f64() / at_end.median.as_secs_f64(),
                    harness::load_average()
                );
            }
            if let Some(h) = time_hledger(&journal, "2024-01-01") {
                println!(
                    "hledger bal --budget, to 2023-12-31: {} (one run); ratio to the SQLite as-at 2023-12-31 median: {:.1}x; load average {}",
                    ms(h),
                    h.as_secs_f64() / at.median.as_secs_f64(),
                    harness::load_average()
                );
            }
        }
        _ => println!("hledger is not installed (apt-get install -y hledger): comparison skipped"),
    }
    if std::env::var_os("GL_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("kept {}", dir.display());
    }
    Ok(())
}
