//! How the benches that time what a person waits for (`reports`, `pages`) take a figure:
//! one warm-up, then the median, p95 and minimum of `runs` runs, printed on one line, with
//! the process's processor time per run (every thread's, the database's included): on a
//! shared machine the wall times move with the load, the work done much less.

use std::time::{Duration, Instant};

pub struct Stats {
    pub median: Duration,
    pub p95: Duration,
    pub min: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Stats { median: at(0.5), p95: at(0.95), min: samples[0] }
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub async fn time<F, Fut>(label: &str, runs: usize, mut f: F) -> Stats
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let _warm = f().await;
    let mut samples = Vec::with_capacity(runs);
    let mut size = 0;
    let cpu_before = cpu_time();
    for _ in 0..runs {
        let t = Instant::now();
        size = f().await;
        samples.push(t.elapsed());
    }
    let cpu = cpu_time().zip(cpu_before).map(|(after, before)| (after - before) / runs as u32);
    let s = stats(samples);
    println!(
        "{label:<56} runs {runs:>3}  median {:>11}  p95 {:>11}  min {:>11}  cpu {:>11}  ({size} bytes)",
        ms(s.median),
        ms(s.p95),
        ms(s.min),
        cpu.map_or_else(|| "?".to_owned(), ms)
    );
    s
}

/// This process's user and system time so far, from /proc/self/stat (Linux), in the
/// kernel's clock ticks of 10 ms: a total over many runs, not one run's.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let ticks: u64 = fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}
