//! `grant-ledger report`: the budget reports, printed as a table, CSV or JSON.

use clap::Subcommand;

use crate::model::known::Known;
use crate::storage::Store;

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// The variance report per project and grant, with subtotals and totals.
    Variance {
        /// The financial year, e.g. 2023-24.
        #[arg(long)]
        financial_year: String,
        /// The report as it stood at the end of this date (YYYY-MM-DD).
        #[arg(long)]
        as_at: Option<String>,
        /// The figures as the ledger stood at this instant (RFC 3339, e.g. 2024-01-10T09:30:00Z):
        /// entries recorded after it are left out.
        #[arg(long)]
        as_known_at: Option<String>,
        /// One grant only.
        #[arg(long)]
        grant: Option<String>,
        /// How to print it: table (for a terminal), csv or json.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Actual spend per quarter per project and grant.
    Quarterly {
        /// The financial year, e.g. 2023-24.
        #[arg(long)]
        financial_year: String,
        /// Spend dated up to the end of this date (YYYY-MM-DD); default all.
        #[arg(long)]
        as_at: Option<String>,
        /// The figures as the ledger stood at this instant (RFC 3339, e.g. 2024-01-10T09:30:00Z):
        /// entries recorded after it are left out.
        #[arg(long)]
        as_known_at: Option<String>,
        /// How to print it: table (for a terminal), csv or json.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The funder's cash per award: awarded, scheduled, received, spent, cash held, owed back.
    CashPosition {
        /// The financial year, e.g. 2023-24.
        #[arg(long)]
        financial_year: String,
        /// Figures as at the end of this date, and instalments due by it (YYYY-MM-DD); default today.
        #[arg(long)]
        as_at: Option<String>,
        /// The figures as the ledger stood at this instant (RFC 3339, e.g. 2024-01-10T09:30:00Z):
        /// entries recorded after it are left out.
        #[arg(long)]
        as_known_at: Option<String>,
        /// How to print it: table (for a terminal), csv or json.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The funder's overview (docs/reports.md): per partnership and grant, the award, what is
    /// allocated, committed and spent, forecast and RAG, paid and owed, and returns overdue.
    FunderOverview {
        /// The financial year, e.g. 2023-24.
        #[arg(long)]
        financial_year: String,
        /// How to print it: table (for a terminal), csv or json.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One grant across its award years, with cumulative figures.
    MultiYear {
        /// The grant's code, e.g. LDF.
        #[arg(long)]
        grant: String,
        /// The figures as the ledger stood at this instant (RFC 3339, e.g. 2024-01-10T09:30:00Z):
        /// entries recorded after it are left out.
        #[arg(long)]
        as_known_at: Option<String>,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Renders a report subcommand as a table, CSV or JSON.
pub async fn report_text(store: &Store, report: ReportCommand) -> anyhow::Result<String> {
    use crate::reports::{cash, multi_year, overview, quarterly, run, table, variance};
    let today = chrono::Utc::now().date_naive();
    match report {
        ReportCommand::Variance { financial_year, as_at, as_known_at, grant, format } => {
            let (year, as_at, known) = scope(&financial_year, as_at, as_known_at)?;
            let r = run::variance(store, year, as_at, &known, grant.as_deref(), today).await?;
            render(&r, format, &variance::CSV_HEADER, &variance::csv_rows(&r), || {
                let when =
                    r.as_at.clone().map(|d| format!("as at {d}")).unwrap_or_else(|| format!("current on {today}"));
                format!(
                    "Variance report {year}, {when}. Awarded {}, unallocated {}.\n\n{}",
                    r.totals.awarded,
                    r.totals.unallocated,
                    table::render(&variance::table_header(), &variance::table_rows(&r))
                )
            })
        }
        ReportCommand::Quarterly { financial_year, as_at, as_known_at, format } => {
            let (year, as_at, known) = scope(&financial_year, as_at, as_known_at)?;
            let r = run::quarterly(store, year, None, as_at, &known).await?;
            let rows = quarterly::csv_rows(&r);
            render(&r, format, &quarterly::CSV_HEADER, &rows, || table::render(&quarterly::CSV_HEADER, &rows))
        }
        ReportCommand::CashPosition { financial_year, as_at, as_known_at, format } => {
            let (year, as_at, known) = scope(&financial_year, as_at, as_known_at)?;
            let r = cash::run(store, year, as_at, &known, today).await?;
            let rows = cash::csv_rows(&r);
            render(&r, format, &cash::CSV_HEADER, &rows, || {
                format!(
                    "Cash position {year} as at {}; clawback threshold {}.\n\n{}",
                    r.as_at,
                    r.clawback_threshold,
                    table::render(&cash::CSV_HEADER, &rows)
                )
            })
        }
        ReportCommand::FunderOverview { financial_year, format } => {
            let r = overview::run(store, parse_year(&financial_year)?, today).await?;
            let rows = overview::csv_rows(&r);
            render(&r, format, &overview::CSV_HEADER, &rows, || table::render(&overview::CSV_HEADER, &rows))
        }
        ReportCommand::MultiYear { grant, as_known_at, format } => {
            let known = known_arg(as_known_at)?;
            let r = run::multi_year(store, &grant, &known).await?;
            let rows = multi_year::csv_rows(&r);
            render(&r, format, &multi_year::CSV_HEADER, &rows, || {
                format!("Grant {grant} across its award years.\n\n{}", table::render(&multi_year::CSV_HEADER, &rows))
            })
        }
    }
}

/// A report in `format`: its JSON, the CSV of its `header` and `rows`, or its `table`.
fn render<R: serde::Serialize>(
    r: &R,
    format: Format,
    header: &[&str],
    rows: &[Vec<crate::reports::csv_out::Cell>],
    table: impl FnOnce() -> String,
) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(r)? + "\n",
        Format::Csv => String::from_utf8(crate::reports::csv_out::write(header, rows, false))?,
        Format::Table => table(),
    })
}

/// `--financial-year`, `--as-at` and `--as-known-at`: what a year's report is of.
fn scope(
    financial_year: &str,
    as_at: Option<String>,
    as_known_at: Option<String>,
) -> anyhow::Result<(crate::domain::FinancialYear, Option<chrono::NaiveDate>, Known)> {
    Ok((parse_year(financial_year)?, as_at_arg(as_at.as_deref())?, known_arg(as_known_at)?))
}

/// `--as-known-at`: an instant, or absent for now.
fn known_arg(arg: Option<String>) -> anyhow::Result<Known> {
    Known::from_arg(arg.as_deref()).map_err(anyhow::Error::msg)
}

/// `--financial-year`, parsed, or an error naming the flag.
pub(super) fn parse_year(text: &str) -> anyhow::Result<crate::domain::FinancialYear> {
    crate::domain::FinancialYear::parse(text).map_err(|e| anyhow::anyhow!("--financial-year {e}"))
}

/// `--as-at`: a date, or absent for now.
fn as_at_arg(arg: Option<&str>) -> anyhow::Result<Option<chrono::NaiveDate>> {
    arg.map(|d| crate::domain::parse_date(d).ok_or_else(|| anyhow::anyhow!("--as-at must be YYYY-MM-DD"))).transpose()
}
