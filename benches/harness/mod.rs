//! What every bench does around its figures: it says where and when it ran, so a figure can
//! be quoted with its context; it reports the peak resident memory of each phase; and it
//! makes (and drops) a throwaway PostgreSQL database when `BENCH_POSTGRES_URL` is set.

use std::process::Command;

/// The load average, as `/proc/loadavg` gives it: other work on the machine skews every
/// figure, so each one is printed beside it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.trim().to_owned()).unwrap_or_else(|_| "unknown".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn memory_total() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")))
        .unwrap_or_else(|| "unknown".into())
}

/// The last line of a command's output, or "unknown" when it cannot run.
fn last_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .last()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Prints, at the start of a bench, when and where it runs: the date (UTC), the commit, the
/// cores, CPU model, memory, the disk holding `dir` (where SQLite writes) and the load.
pub fn print_context(bench: &str, dir: &std::path::Path) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let dir = dir.display().to_string();
    let build = if cfg!(debug_assertions) { "DEBUG build: not a figure to quote" } else { "release build" };
    println!("== cargo bench --bench {bench}, {build}");
    println!("   started   {}", chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC"));
    println!("   commit    {}", last_line("git", &["rev-parse", "--short", "HEAD"]));
    println!("   machine   {cores} cores, {}, {} memory", cpu_model(), memory_total());
    println!("   disk      {} (device, type, size, used, free, use%, mount)", last_line("df", &["-hT", &dir]));
    println!("   load      {} (1, 5, 15 min; running/total; last pid)", load_average());
}

/// Peak resident memory (VmHWM) of this process since it started or since the last
/// [`reset_peak`], in MiB.
pub fn peak_resident_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Resets VmHWM to the current resident size (Linux 4.0 and later), so the next
/// [`phase_memory`] measures one phase only. False when the kernel refuses.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Prints the peak resident memory of the phase just ended, then starts the next phase's.
/// The figure is this process only: the ledger's code and SQLite, which runs inside it; a
/// PostgreSQL server's memory is its own and is not counted.
pub fn phase_memory(phase: &str) {
    let peak = mib(peak_resident_mib());
    let since = if PHASED.load(std::sync::atomic::Ordering::Relaxed) { "this phase" } else { "since start" };
    println!("   peak resident memory, {phase}: {peak} ({since})");
    PHASED.store(reset_peak(), std::sync::atomic::Ordering::Relaxed);
}

static PHASED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A fresh PostgreSQL database beside `BENCH_POSTGRES_URL`'s, named for the bench and this
/// process, dropped by [`Throwaway::drop_now`].
pub struct Throwaway {
    admin: sqlx::PgConnection,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl Throwaway {
    /// None when `BENCH_POSTGRES_URL` is unset.
    pub async fn create(bench: &str) -> Option<Throwaway> {
        use sqlx::Connection;
        let admin_url = std::env::var("BENCH_POSTGRES_URL").ok()?;
        let name = format!("grant_ledger_{bench}_bench_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("connecting to BENCH_POSTGRES_URL");
        sqlx::query(&format!("create database {name}")).execute(&mut admin).await.expect("create database");
        let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin_url);
        let url = format!("{base}/{name}");
        let setting = async |admin: &mut sqlx::PgConnection, name: &str| -> String {
            let row = sqlx::query("select current_setting($1) as v").bind(name).fetch_one(admin).await.unwrap();
            sqlx::Row::get(&row, "v")
        };
        println!(
            "   PostgreSQL {} (fsync {}, synchronous_commit {}, shared_buffers {}), throwaway database {name}, dropped at the end",
            setting(&mut admin, "server_version").await,
            setting(&mut admin, "fsync").await,
            setting(&mut admin, "synchronous_commit").await,
            setting(&mut admin, "shared_buffers").await
        );
        Some(Throwaway { admin, name, url })
    }

    pub async fn drop_now(mut self) {
        sqlx::query(&format!("drop database {} with (force)", self.name))
            .execute(&mut self.admin)
            .await
            .expect("drop database");
    }
}

/// A PostgreSQL database beside `BENCH_POSTGRES_URL`'s named for the bench, kept between
/// runs (created when missing): its URL, or None when `BENCH_POSTGRES_URL` is unset.
#[allow(dead_code)] // Only the benches that keep their ledger call it.
pub async fn kept_postgres(bench: &str) -> Option<String> {
    use sqlx::Connection;
    let admin_url = std::env::var("BENCH_POSTGRES_URL").ok()?;
    let name = format!("grant_ledger_{bench}_bench_kept");
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("connecting to BENCH_POSTGRES_URL");
    let exists: bool = sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .expect("pg_database");
    if !exists {
        sqlx::query(&format!("create database {name}")).execute(&mut admin).await.expect("create database");
    }
    println!("   PostgreSQL database {name}, kept for the next run");
    let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin_url);
    Some(format!("{base}/{name}"))
}

/// "123.4 MiB", or "unknown".
pub fn mib(peak: Option<f64>) -> String {
    peak.map(|m| format!("{m:.1} MiB")).unwrap_or_else(|| "unknown".into())
}
