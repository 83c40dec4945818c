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
    use crate::reports::{csv_out, quarterly, run, table, variance};
    let today = chrono::Utc::now().date_naive();
    let text = match report {
        ReportCommand::Variance { financial_year, as_at, as_known_at, grant, format } => {
            let year = parse_year(&financial_year)?;
            let as_at = as_at_arg(as_at.as_deref())?;
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            let r = run::variance(store, year, as_at, &known, grant.as_deref(), today).await?;
            match format {
                Format::Json => serde_json::to_string_pretty(&r)? + "\n",
                Format::Csv => {
                    String::from_utf8(csv_out::write(&variance::CSV_HEADER, &variance::csv_rows(&r), false))?
                }
                Format::Table => {
                    let when =
                        r.as_at.clone().map(|d| format!("as at {d}")).unwrap_or_else(|| format!("current on {today}"));
                    format!(
                        "Variance report {year}, {when}. Awarded {}, unallocated {}.\n\n{}",
                        r.totals.awarded,
                        r.totals.unallocated,
                        table::render(&variance::table_header(), &variance::table_rows(&r))
                    )
                }
            }
        }
        ReportCommand::Quarterly { financial_year, as_at, as_known_at, format } => {
            let year = parse_year(&financial_year)?;
            let as_at = as_at_arg(as_at.as_deref())?;
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            let r = run::quarterly(store, year, None, as_at, &known).await?;
            match format {
                Format::Json => serde_json::to_string_pretty(&r)? + "\n",
                Format::Csv => {
                    String::from_utf8(csv_out::write(&quarterly::CSV_HEADER, &quarterly::csv_rows(&r), false))?
                }
                Format::Table => table::render(&quarterly::CSV_HEADER, &quarterly::csv_rows(&r)),
            }
        }
        ReportCommand::CashPosition { financial_year, as_at, as_known_at, format } => {
            use crate::reports::cash;
            let year = parse_year(&financial_year)?;
            let as_at = as_at_arg(as_at.as_deref())?;
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            let r = cash::run(store, year, as_at, &known, today).await?;
            match format {
                Format::Json => serde_json::to_string_pretty(&r)? + "\n",
                Format::Csv => String::from_utf8(csv_out::write(&cash::CSV_HEADER, &cash::csv_rows(&r), false))?,
                Format::Table => format!(
                    "Cash position {year} as at {}; clawback threshold {}.\n\n{}",
                    r.as_at,
                    r.clawback_threshold,
                    table::render(&cash::CSV_HEADER, &cash::csv_rows(&r))
                ),
            }
        }
        ReportCommand::MultiYear { grant, as_known_at, format } => {
            use crate::reports::multi_year;
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            let r = run::multi_year(store, &grant, &known).await?;
            let rows = multi_year::csv_rows(&r);
            match format {
                Format::Json => serde_json::to_string_pretty(&r)? + "\n",
                Format::Csv => String::from_utf8(csv_out::write(&multi_year::CSV_HEADER, &rows, false))?,
                Format::Table => {
                    format!(
                        "Grant {grant} across its award years.\n\n{}",
                        table::render(&multi_year::CSV_HEADER, &rows)
                    )
                }
            }
        }
    };
    Ok(text)
}

/// `--financial-year`, parsed, or an error naming the flag.
pub(super) fn parse_year(text: &str) -> anyhow::Result<crate::domain::FinancialYear> {
    crate::domain::FinancialYear::parse(text).map_err(|e| anyhow::anyhow!("--financial-year {e}"))
}

/// `--as-at`: a date, or absent for now.
fn as_at_arg(arg: Option<&str>) -> anyhow::Result<Option<chrono::NaiveDate>> {
    arg.map(|d| crate::domain::parse_date(d).ok_or_else(|| anyhow::anyhow!("--as-at must be YYYY-MM-DD"))).transpose()
}
