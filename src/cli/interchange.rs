//! The `import` and `export` subcommands of the interchange (docs/interchange.md), over `csv`.
//! `src/cli/mod.rs` only hooks them in.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use crate::csv::journal::Format;
use crate::csv::mapping::{Mapping, Preset};
use crate::model::import::{Engine, ImportOptions, ImportReport};
use crate::model::known::Known;
use crate::storage::Store;

#[derive(Subcommand, Debug)]
pub enum Import {
    /// Import spend lines from a CSV file, all or nothing. Negative amounts are refunds.
    Spend {
        /// The CSV file (UTF-8; a byte-order mark is fine).
        file: PathBuf,
        /// `generic`, `transparency`, or the path of a TOML mapping file.
        #[arg(long, default_value = "generic")]
        mapping: String,
        /// Check every line and report what a real run would do; post nothing.
        #[arg(long)]
        dry_run: bool,
        /// The grant of lines whose column or mapping rule names none.
        #[arg(long)]
        grant: Option<String>,
        /// Recorded as `created_by` on every entry.
        #[arg(long, default_value = "import (cli)")]
        created_by: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum Export {
    /// The whole ledger as an hledger or beancount journal.
    Journal {
        /// hledger or beancount.
        #[arg(long, value_parser = Format::WORDS)]
        format: String,
        /// The figures as the ledger stood at this instant (RFC 3339, e.g. 2024-01-10T09:30:00Z):
        /// entries recorded after it are left out.
        #[arg(long)]
        as_known_at: Option<String>,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Spend over £500 as the Transparency Code CSV, for dates from..=to.
    Transparency {
        /// The first date of spend to include (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// The last date of spend to include (YYYY-MM-DD).
        #[arg(long)]
        to: String,
        /// The figures as the ledger stood at this instant (RFC 3339, e.g. 2024-01-10T09:30:00Z):
        /// entries recorded after it are left out.
        #[arg(long)]
        as_known_at: Option<String>,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

/// Reads `--mapping`: a preset's name, or a TOML file.
pub fn load_mapping(name: &str, grant: Option<String>) -> anyhow::Result<Mapping> {
    let m = match Mapping::preset(name) {
        Some(m) => m,
        None => {
            let text = std::fs::read_to_string(name).with_context(|| {
                format!("--mapping {name}: not {} or a readable TOML file", Preset::WORDS.join(", "))
            })?;
            Mapping::from_toml(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?
        }
    };
    Ok(m.with_default_grant(grant))
}

pub async fn run_import(store: &Store, cmd: Import) -> anyhow::Result<i32> {
    let Import::Spend { file, mapping, dry_run, grant, created_by } = cmd;
    let mapping = load_mapping(&mapping, grant)?;
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    // A progress bar only on a terminal; scripts and logs get just the summary.
    let bar = if std::io::stderr().is_terminal() {
        let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
        let bar = indicatif::ProgressBar::new(lines.saturating_sub(1));
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} lines checked ({per_sec})")
                .expect("a valid template"),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let opts = ImportOptions { dry_run, created_by: &created_by, idem: None, engine: Engine::Bulk };
    let progress = |n: usize| bar.set_position(n as u64);
    let report = crate::csv::import_spend(store, &bytes, &mapping, opts, &progress).await?;
    bar.finish_and_clear();
    print_report(&report);
    Ok(if report.rejected > 0 { 1 } else { 0 })
}

fn print_report(r: &ImportReport) {
    for e in &r.errors {
        eprintln!("line {}: {}: {} ({})", e.line, e.field, e.message, e.code);
    }
    if r.errors.len() < r.rejected {
        eprintln!("… {} more rejected line(s) not listed", r.rejected - r.errors.len());
    }
    for d in &r.duplicate_lines {
        let repeats = match (d.duplicate_of, d.duplicate_of_line) {
            (Some(entry), _) => format!("entry {entry}"),
            (None, Some(line)) => format!("line {line}"),
            (None, None) => "an earlier record".to_owned(),
        };
        eprintln!("line {}: skipped: a duplicate by {} of {repeats}", d.line, d.by);
    }
    if r.duplicate_lines.len() < r.duplicates {
        eprintln!("… {} more duplicate line(s) not listed", r.duplicates - r.duplicate_lines.len());
    }
    for w in &r.warnings {
        eprintln!(
            "line {}: warning: project {} overspent by {} (available {}, requested {})",
            w.line, w.flag.project, w.flag.shortfall, w.flag.available, w.flag.requested
        );
    }
    let outcome = match (r.posted, r.dry_run, r.rejected) {
        (true, _, _) => "posted",
        (false, true, 0) => "dry run: nothing posted; a real run would post the accepted lines",
        (false, true, _) => "dry run: nothing posted; a real run would be refused",
        (false, false, _) => "refused: nothing posted",
    };
    println!("{} accepted, {} duplicates, {} rejected: {outcome}", r.accepted, r.duplicates, r.rejected);
}

pub async fn run_export(store: &Store, cmd: Export) -> anyhow::Result<i32> {
    let (text, output) = match cmd {
        Export::Journal { format, as_known_at, output } => {
            let format = Format::parse(&format).expect("clap allows only hledger and beancount");
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            (crate::csv::export_journal(store, format, &known).await?, output)
        }
        Export::Transparency { from, to, as_known_at, output } => {
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            let date = |s: &str, name: &str| {
                crate::domain::parse_date(s)
                    .ok_or_else(|| anyhow::anyhow!("--{name} must be a date written YYYY-MM-DD"))
            };
            let (from, to) = (date(&from, "from")?, date(&to, "to")?);
            anyhow::ensure!(from <= to, "--from must not be after --to");
            (crate::csv::export_transparency(store, from, to, &known).await?, output)
        }
    };
    match output {
        Some(path) => std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(0)
}
