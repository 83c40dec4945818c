//! `cargo bench --bench pages`: the ledger of `--bench reports` (one financial year, 1,000
//! projects, 1,000,000 postings, `common/million.rs`), then the server's rendering of the
//! pages a person waits for, timed in the app in process (request in, whole body out, no
//! network): the dashboard (current, and as at a date inside a quarter), the entries list
//! (first page, one project's, and one project's spend as the dashboard drills to it), the
//! commitments list, the financial year's page, a form page, a project's page, an entry's
//! page and the virements, filed returns and audit lists, each as a signed-in person's
//! session asks for it. Beside them, in the same run, the JSON variance report
//! route the dashboard is built on, as the baseline. It prints each median against the
//! target of 50 ms. With `BENCH_POSTGRES_URL` set it does the same in a throwaway
//! PostgreSQL database.
//!
//! Scale with `GL_BENCH_PROJECTS` and `GL_BENCH_POSTINGS`; runs with `GL_BENCH_RUNS`.
//! `GL_BENCH_REUSE=DIR` keeps the ledgers (SQLite in `DIR/bench.db`, PostgreSQL in database
//! `grant_ledger_pages_bench_kept`) and reads them again on the next run instead of writing
//! them anew; opening one migrates it, so a kept ledger also times a new migration's
//! backfill at full size. Delete DIR (and drop the database) after changing the scale.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, header};
use grant_ledger::domain::FinancialYear;
use grant_ledger::storage::tokens::{self, Role};
use http_body_util::BodyExt;
use tower::ServiceExt;

mod harness;
#[path = "common/million.rs"]
mod million;
#[path = "common/timing.rs"]
mod timing;

use million::{Scale, build_ledger, generate, project_code};
use timing::{Stats, ms, time};

/// What a page is to render within, server time, median (the target).
const TARGET: Duration = Duration::from_millis(50);

/// A date halfway through the year's third quarter: an as-at page that reads postings too.
fn mid_quarter(year: FinancialYear) -> chrono::NaiveDate {
    year.quarter_start(3).expect("quarter 3") + chrono::Duration::days(45)
}

/// One GET through the app with these headers: the status and the whole body.
async fn get(router: &axum::Router, path: &str, headers: &[(header::HeaderName, String)]) -> (u16, Vec<u8>) {
    let mut req = Request::get(path);
    for (name, value) in headers {
        req = req.header(name, value);
    }
    let resp = router.clone().oneshot(req.body(Body::empty()).expect("a request")).await.expect("an answer");
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.expect("the body").to_bytes().to_vec();
    (status, bytes)
}

/// The value a `Set-Cookie` of `resp` gives cookie `name`.
fn cookie(resp: &axum::http::Response<Body>, name: &str) -> Option<String> {
    resp.headers().get_all(header::SET_COOKIE).iter().find_map(|v| {
        let first = v.to_str().ok()?.split(';').next()?;
        first.strip_prefix(&format!("{name}=")).map(str::to_owned)
    })
}

/// Signs in as a person does, through the sign-in page's own form with an admin token, and
/// returns the session cookie's value.
async fn sign_in(router: &axum::Router, token: &str) -> anyhow::Result<String> {
    let form = router.clone().oneshot(Request::get("/sign-in").body(Body::empty())?).await?;
    let pre = cookie(&form, "gl_sign_in").ok_or_else(|| anyhow::anyhow!("no pre-session cookie"))?;
    let html = String::from_utf8(form.into_body().collect().await?.to_bytes().to_vec())?;
    let marker = "name=\"csrf_token\" value=\"";
    let at = html.find(marker).ok_or_else(|| anyhow::anyhow!("no form token on /sign-in"))? + marker.len();
    let csrf = &html[at..at + html[at..].find('"').unwrap_or(0)];
    let req = Request::post("/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("gl_sign_in={pre}"))
        .body(Body::from(format!("token={token}&csrf_token={csrf}&next=%2Fdashboard")))?;
    let signed = router.clone().oneshot(req).await?;
    anyhow::ensure!(signed.status().as_u16() == 303, "signing in answered {}", signed.status());
    cookie(&signed, "gl_session").ok_or_else(|| anyhow::anyhow!("no session cookie"))
}

/// Each read the dashboard makes (`http::pages::dashboard_page`), timed alone, so a slow
/// page says which part of it is slow. The dates are the page's own: the bench's year is
/// long past, so its figures are as at today and "since last quarter" is as at the year's end.
async fn dashboard_reads(store: &grant_ledger::storage::Store, year: FinancialYear, runs: usize) -> anyhow::Result<()> {
    use grant_ledger::model::known::Known;
    use grant_ledger::reports::{cash, filing, run};
    use grant_ledger::storage::{monitoring, operations, quarter_locks, reference, reports, returns};
    let today = chrono::Utc::now().date_naive();
    let now = &Known::Now;
    let previous = (1..=4).rev().filter_map(|q| year.quarter_end(q)).find(|end| *end < today);
    println!("the dashboard's reads, each alone:");
    macro_rules! read {
        ($label:expr, $e:expr) => {
            time($label, runs, || async {
                std::hint::black_box($e.await.expect($label));
                1
            })
            .await
        };
    }
    read!("  financial years", reference::list_financial_years(store, "", grant_ledger::model::page::PAGE_LIMIT_MAX));
    read!("  variance, current", run::variance(store, year, None, now, None, today));
    read!("  quarterly spend", run::quarterly(store, year, None, None, now));
    read!("  labels", reports::labels(store));
    read!("  indicators", monitoring::indicators(store, None, Some(year), now));
    read!("  quarter locks", quarter_locks::quarter_states(store, year));
    let filed = returns::list(store, None, Some(year), 0, 50).await?;
    read!("  filed returns (50)", returns::list(store, None, Some(year), 0, 50));
    read!("  filed returns changed?", async {
        for record in &filed.items {
            filing::changed(store, record).await?;
        }
        anyhow::Ok(())
    });
    read!("  cash position as at today", cash::run(store, year, None, now, today));
    read!("  agreements of the year", operations::agreements_of_year(store, year));
    if let Some(end) = previous {
        read!("  variance as at the previous quarter end", run::variance(store, year, Some(end), now, None, today));
    }
    read!("  variance as at mid-quarter", run::variance(store, year, Some(mid_quarter(year)), now, None, today));
    read!("  quarterly spend as at mid-quarter", run::quarterly(store, year, None, Some(mid_quarter(year)), now));
    Ok(())
}

/// `GL_BENCH_HTML=DIR`: the dashboard's HTML (meeting's columns, every column, as at
/// mid-quarter) saved into `dir`, to check a change of its rendering leaves it as it was.
async fn save_dashboards(
    router: &axum::Router,
    as_page: &[(header::HeaderName, String)],
    year: FinancialYear,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let (fy, mid) = (year.to_string(), mid_quarter(year));
    for (file, path) in [
        ("dashboard.html", format!("/dashboard?financial_year={fy}")),
        ("dashboard-all.html", format!("/dashboard?financial_year={fy}&columns=all")),
        ("dashboard-mid.html", format!("/dashboard?financial_year={fy}&as_at={mid}&columns=all")),
    ] {
        let (status, body) = get(router, &path, as_page).await;
        anyhow::ensure!(status == 200, "GET {path}: {status}");
        std::fs::write(dir.join(file), body)?;
    }
    println!("saved the dashboard's HTML in {}", dir.display());
    Ok(())
}

/// The demo ledger's dashboards (`fixtures::load_demo`, in a new SQLite file in `dir`) for
/// each of its years, saved under `html/demo`.
async fn save_demo(dir: &std::path::Path, html: &std::path::Path) -> anyhow::Result<()> {
    let db = dir.join("demo.db");
    let _ = std::fs::remove_file(&db);
    let store = grant_ledger::cli::open(&format!("sqlite://{}", db.display())).await?;
    grant_ledger::fixtures::load_demo(&store).await?;
    let router = grant_ledger::http::app(grant_ledger::http::AppState::new(store.clone()));
    let token = tokens::create(&store, "pages bench", Role::Admin, "bench").await?.token;
    let as_page = [(header::COOKIE, format!("gl_session={}", sign_in(&router, &token).await?))];
    let years =
        grant_ledger::storage::reference::list_financial_years(&store, "", grant_ledger::model::page::PAGE_LIMIT_MAX)
            .await?;
    for y in years.items {
        let year = FinancialYear::parse(&y.code).map_err(|e| anyhow::anyhow!("{e}"))?;
        save_dashboards(&router, &as_page, year, &html.join("demo").join(year.to_string())).await?;
    }
    store.close().await;
    let _ = std::fs::remove_file(&db);
    Ok(())
}

/// Builds the ledger at `url`, signs in, and times each page and the baseline.
async fn measure(
    url: &str,
    backend: &str,
    year: FinancialYear,
    projects: usize,
    generated: &(Vec<million::GenEntry>, std::collections::BTreeMap<String, i64>),
    runs: usize,
) -> anyhow::Result<()> {
    println!("-- {backend} (load average {})", harness::load_average());
    let t = Instant::now();
    let store = grant_ledger::cli::open(url).await?;
    println!("opened (and migrated) in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let kept: i64 = sqlx::query_scalar("select cast(count(*) as bigint) from entries where grant_code = $1")
        .bind(million::GRANT)
        .fetch_one(store.pool())
        .await?;
    if kept > 0 {
        println!("reusing the kept ledger of {kept} entries");
    } else {
        build_ledger(&store, year, projects, generated).await?;
        println!("generated {} entries in {:.1} s", generated.0.len(), t.elapsed().as_secs_f64());
    }
    harness::phase_memory(&format!("{backend}, writing the ledger"));
    // Analyse as a long-running server would have; the planner uses the statistics. On
    // PostgreSQL autovacuum would also have cleared the row versions the triggers' upserts
    // of the kept sums leave behind (a million for `quarter_balances` after the bulk
    // insert); the test server runs with it off, so the bench vacuums as it would have.
    let tidy = if backend == "PostgreSQL" { "vacuum analyze" } else { "analyze" };
    sqlx::query(tidy).execute(store.pool()).await?;
    let router = grant_ledger::http::app(grant_ledger::http::AppState::new(store.clone()));
    let token = tokens::create(&store, "pages bench", Role::Admin, "bench").await?.token;
    let session = sign_in(&router, &token).await?;
    let as_page = [(header::COOKIE, format!("gl_session={session}"))];
    let as_api = [(header::AUTHORIZATION, format!("Bearer {token}"))];
    println!("signed in through /sign-in; load average before the pages: {}", harness::load_average());

    let fy = year.to_string();
    let one_project = project_code(projects / 2);
    let baseline_path = format!("/api/v1/reports/variance?financial_year={fy}");
    let pages = [
        ("dashboard", format!("/dashboard?financial_year={fy}")),
        ("entries, first page by date", "/entries".to_owned()),
        ("entries, one project", format!("/entries?project={one_project}")),
        ("entries, drilled (spent)", format!("/entries?financial_year={fy}&account=spent&project={one_project}")),
        ("commitments (open)", "/commitments".to_owned()),
        ("financial year", format!("/financial-years/{fy}")),
        ("form: record spend", "/spend/new".to_owned()),
        ("dashboard as at mid-quarter", format!("/dashboard?financial_year={fy}&as_at={}", mid_quarter(year))),
        ("project", format!("/projects/{one_project}")),
        ("entry", format!("/entries/{}", generated.0.len() / 2)),
        ("virements", "/virements".to_owned()),
        ("filed returns", "/returns".to_owned()),
        ("audit trail", "/audit".to_owned()),
    ];
    let timed = |label: String, path: String, headers: &'static str| {
        let (router, as_page, as_api) = (&router, &as_page, &as_api);
        async move {
            let headers: &[(header::HeaderName, String)] = if headers == "page" { as_page } else { as_api };
            time(&label, runs, || async {
                let (status, body) = get(router, &path, headers).await;
                assert_eq!(status, 200, "GET {path}: {}", String::from_utf8_lossy(&body));
                body.len()
            })
            .await
        }
    };
    if let Some(dir) = std::env::var_os("GL_BENCH_HTML") {
        save_dashboards(&router, &as_page, year, &std::path::Path::new(&dir).join(backend)).await?;
    }
    let baseline = timed(format!("baseline: GET {baseline_path} (JSON)"), baseline_path.clone(), "api").await;
    let mut results: Vec<(&str, String, Stats)> = Vec::new();
    // `GL_BENCH_PAGES=dashboard` times only the pages whose name starts so.
    let only = std::env::var("GL_BENCH_PAGES").unwrap_or_default();
    for (name, path) in pages.into_iter().filter(|(name, _)| name.starts_with(only.as_str())) {
        let stats = timed(format!("{name}: GET {path}"), path.clone(), "page").await;
        results.push((name, path, stats));
    }
    // `GL_BENCH_READS=0` leaves out the reads timed alone (e.g. to profile the pages only).
    if std::env::var("GL_BENCH_READS").as_deref() != Ok("0") {
        dashboard_reads(&store, year, runs).await?;
    }
    // The baseline again, after the pages, so a change of load during the run shows.
    let again = timed(format!("baseline again: GET {baseline_path} (JSON)"), baseline_path, "api").await;
    println!("summary ({backend}): server time, median, against the target of {}:", ms(TARGET));
    for (name, path, s) in &results {
        println!(
            "  {name:<30} {:>11}  {:>5.1}x the baseline  {}  ({path})",
            ms(s.median),
            s.median.as_secs_f64() / baseline.median.as_secs_f64(),
            if s.median < TARGET { "met" } else { "NOT met" }
        );
    }
    println!("  baseline (JSON variance) {} before the pages, {} after", ms(baseline.median), ms(again.median));
    harness::phase_memory(&format!("{backend}, pages"));
    println!("load average now: {}", harness::load_average());
    store.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; anything else (e.g. a filter) is ignored.
    let Scale { projects, postings, runs, year } = Scale::from_env();
    let reuse = std::env::var_os("GL_BENCH_REUSE").map(std::path::PathBuf::from);
    let dir =
        reuse.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("gl_bench_pages_{}", std::process::id())));
    std::fs::create_dir_all(&dir)?;
    harness::print_context("pages", &dir);
    println!("grant-ledger pages bench: {projects} projects, {postings} generated postings");
    if let Some(html) = std::env::var_os("GL_BENCH_HTML") {
        save_demo(&dir, std::path::Path::new(&html)).await?;
    }
    let generated = generate(year, projects, postings);
    harness::phase_memory("generating the entries in memory");
    let db = dir.join("bench.db");
    measure(&format!("sqlite://{}", db.display()), "SQLite", year, projects, &generated, runs).await?;
    if reuse.is_some() {
        if let Some(url) = harness::kept_postgres("pages").await {
            measure(&url, "PostgreSQL", year, projects, &generated, runs).await?;
        }
    } else if let Some(pg) = harness::Throwaway::create("pages").await {
        measure(&pg.url, "PostgreSQL", year, projects, &generated, runs).await?;
        pg.drop_now().await;
    }
    if reuse.is_some() {
        println!("kept {} for the next run", dir.display());
    } else if std::env::var_os("GL_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("kept {}", dir.display());
    }
    Ok(())
}
