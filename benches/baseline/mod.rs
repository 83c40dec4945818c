//! The tools a bench compares the ledger with (hledger, the sqlite3 shell), run as separate
//! processes and measured the same way: wall-clock time and peak resident memory.

use std::process::Command;

/// What a baseline tool took: its output, wall-clock time, and peak resident memory in MiB
/// (from GNU time's `%M`, when `/usr/bin/time` is installed).
pub struct ToolRun {
    pub output: std::process::Output,
    pub elapsed: std::time::Duration,
    peak_mib: Option<f64>,
}

impl ToolRun {
    /// "123.4 MiB", or "unknown" without GNU time.
    pub fn peak(&self) -> String {
        self.peak_mib.map(|m| format!("{m:.1} MiB")).unwrap_or_else(|| "unknown".into())
    }
}

/// Runs a baseline tool (hledger, sqlite3), timing it and, through GNU time, taking its peak
/// memory. Err when the tool cannot be started.
pub fn run_tool(program: &str, args: &[std::ffi::OsString]) -> std::io::Result<ToolRun> {
    let gnu_time = std::path::Path::new("/usr/bin/time").exists();
    let mut command = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "gl-bench-peak-kb %M", program]);
        c
    } else {
        Command::new(program)
    };
    let started = std::time::Instant::now();
    let mut output = command.args(args).output()?;
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let peak_mib = stderr
        .lines()
        .find_map(|l| l.strip_prefix("gl-bench-peak-kb "))
        .and_then(|kb| kb.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0);
    if gnu_time {
        // GNU time runs the tool even when it is missing, and says so with status 127.
        if output.status.code() == Some(127) {
            return Err(std::io::Error::new(std::io::ErrorKind::NotFound, format!("{program} is not installed")));
        }
        let own: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("gl-bench-peak-kb ")).collect();
        output.stderr = own.join("\n").into_bytes();
    }
    Ok(ToolRun { output, elapsed, peak_mib })
}
