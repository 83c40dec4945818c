//! The ledger of `cargo bench --bench reports`, which `--bench pages` reads too: one
//! financial year of grant BENCH with `projects` projects and about `postings` postings,
//! generated deterministically and bulk-inserted in one db_tx with the entry hash chain
//! computed as `post_in` computes it; reference data goes through the REST API.
//! It writes SQL itself because it is a measuring tool, not the product: the product's only
//! SQL stays in `storage`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use grant_ledger::domain::chain::{EntryContent, PostingContent, entry_hash_v1};
use grant_ledger::domain::{FinancialYear, Money};
use grant_ledger::storage::entry_columns::{self, EntryColumns};
use grant_ledger::storage::{DbTx, Store};
use sqlx::Row;

pub const GRANT: &str = "BENCH";

/// The size of the ledger and how often each figure is taken: `GL_BENCH_PROJECTS` (1,000),
/// `GL_BENCH_POSTINGS` (1,000,000), `GL_BENCH_RUNS` (30); in financial year 2023-24.
pub struct Scale {
    pub projects: usize,
    pub postings: usize,
    pub runs: usize,
    pub year: FinancialYear,
}

impl Scale {
    pub fn from_env() -> Scale {
        let num = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
        Scale {
            projects: num("GL_BENCH_PROJECTS", 1_000),
            postings: num("GL_BENCH_POSTINGS", 1_000_000),
            runs: num("GL_BENCH_RUNS", 30),
            year: FinancialYear::parse("2023-24").expect("a year"),
        }
    }
}
const PRIORITIES: [&str; 7] = ["ASB", "COHESION", "DOMESTIC-ABUSE", "DRUGS", "VEHICLE", "VIOLENCE", "VULNERABLE"];
const CREATED_AT: &str = "2023-04-01T09:00:00Z";

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

pub struct GenEntry {
    pub kind: &'static str,
    pub date: NaiveDate,
    pub details: String,
    pub postings: [(String, i64); 2],
}

pub fn project_code(i: usize) -> String {
    format!("P{i:04}")
}

/// Allocations first (dated the first day), then spends in date order.
pub fn generate(year: FinancialYear, projects: usize, postings: usize) -> (Vec<GenEntry>, BTreeMap<String, i64>) {
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
            .map(|e| {
                let details = serde_json::from_str(&e.details).expect("the generator writes JSON");
                EntryColumns::of(&details, e.postings.iter().map(|(_, pence)| *pence))
            })
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

pub async fn build_ledger(
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
