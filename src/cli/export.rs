//! `grant-ledger export`: the Commissioner's return, the monitoring return and the open-data
//! files (VCSE grants, 360Giving) written to standard output; the journals and the
//! Transparency Code CSV come from `interchange`.

use std::io::Write;

use clap::Subcommand;

use super::interchange;
use super::report::parse_year;
use crate::model::known::Known;
use crate::storage::Store;

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// The Commissioner's return for one quarter, as CSV.
    CommissionerReturn {
        /// The financial year, e.g. 2023-24.
        #[arg(long)]
        financial_year: String,
        /// The quarter, 1 (Apr–Jun) to 4 (Jan–Mar).
        #[arg(long)]
        quarter: u8,
        /// Start with a UTF-8 byte-order mark, for Excel.
        #[arg(long)]
        bom: bool,
        /// The figures as the ledger stood at this instant (RFC 3339, e.g. 2024-01-10T09:30:00Z):
        /// entries recorded after it are left out.
        #[arg(long)]
        as_known_at: Option<String>,
    },
    /// The monitoring return for one quarter, as CSV or an XLSX workbook.
    MonitoringReturn {
        /// The financial year, e.g. 2023-24.
        #[arg(long)]
        financial_year: String,
        /// The quarter, 1 (Apr–Jun) to 4 (Jan–Mar).
        #[arg(long)]
        quarter: u8,
        /// `csv` (the default) or `xlsx`.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Start a CSV with a UTF-8 byte-order mark, for Excel.
        #[arg(long)]
        bom: bool,
        /// The figures as the ledger stood at this instant (RFC 3339): entries, forecasts,
        /// indicators and returns recorded after it are left out.
        #[arg(long)]
        as_known_at: Option<String>,
    },
    /// Grants to VCSE organisations awarded in a year, as the Transparency Code CSV
    /// (docs/open-data.md). Needs the setting funding_org_name.
    VcseGrants {
        /// The financial year the grants were awarded in, e.g. 2023-24.
        #[arg(long)]
        financial_year: String,
        /// As the ledger stood at this instant (RFC 3339): an agreement whose first
        /// commitment entry was recorded after it is left out.
        #[arg(long)]
        as_known_at: Option<String>,
    },
    /// Grant agreements awarded in a year in the 360Giving Data Standard (docs/open-data.md).
    /// Needs the settings giving_prefix, funding_org_id, funding_org_name, area_code,
    /// area_name and data_source; a year with no grants to publish is refused.
    #[command(name = "360giving")]
    Giving360 {
        /// The financial year the grants were awarded in, e.g. 2023-24.
        #[arg(long)]
        financial_year: String,
        /// `json` (the default) or `csv`.
        #[arg(long, default_value = "json", value_parser = crate::model::formats::DataFormat::WORDS)]
        format: String,
        /// As the ledger stood at this instant (RFC 3339): an agreement whose first
        /// commitment entry was recorded after it is left out.
        #[arg(long)]
        as_known_at: Option<String>,
    },
    /// Journals for hledger or beancount, and the Transparency Code CSV.
    #[command(flatten)]
    Interchange(interchange::Export),
}

/// Writes the export asked for to standard output; the exit code.
pub async fn run(store: &Store, export: ExportCommand) -> anyhow::Result<i32> {
    use crate::reports::open_data;
    let bytes = match export {
        ExportCommand::CommissionerReturn { financial_year, quarter, bom, as_known_at } => {
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            commissioner_return_csv(store, &financial_year, quarter, bom, &known).await?
        }
        ExportCommand::MonitoringReturn { financial_year, quarter, format, bom, as_known_at } => {
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            monitoring_return_bytes(store, &financial_year, quarter, &format, bom, &known).await?
        }
        ExportCommand::VcseGrants { financial_year, as_known_at } => {
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            let year = parse_year(&financial_year)?;
            open_data::vcse_grants(store, year, &known).await?
        }
        ExportCommand::Giving360 { financial_year, format, as_known_at } => {
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            let year = parse_year(&financial_year)?;
            let format = open_data::GivingFormat::parse(&format)
                .ok_or_else(|| anyhow::anyhow!("--format must be json or csv"))?;
            open_data::giving(store, year, &known, format).await?
        }
        ExportCommand::Interchange(what) => return interchange::run_export(store, what).await,
    };
    std::io::stdout().write_all(&bytes)?;
    Ok(0)
}

/// `export commissioner-return`: the bytes written to standard output.
pub async fn commissioner_return_csv(
    store: &Store,
    financial_year: &str,
    quarter: u8,
    bom: bool,
    known: &Known,
) -> anyhow::Result<Vec<u8>> {
    use crate::reports::{commissioner, csv_out};
    let year = parse_year(financial_year)?;
    anyhow::ensure!((1..=4).contains(&quarter), "--quarter must be 1, 2, 3 or 4");
    let rows = crate::reports::run::commissioner_return(store, year, quarter, known).await?;
    Ok(csv_out::write(&commissioner::CSV_HEADER, &rows, bom))
}

/// `export monitoring-return`: the bytes written to standard output, CSV or XLSX.
pub async fn monitoring_return_bytes(
    store: &Store,
    financial_year: &str,
    quarter: u8,
    format: &str,
    bom: bool,
    known: &Known,
) -> anyhow::Result<Vec<u8>> {
    use crate::reports::monitoring;
    let year = parse_year(financial_year)?;
    anyhow::ensure!((1..=4).contains(&quarter), "--quarter must be 1, 2, 3 or 4");
    anyhow::ensure!(format == "csv" || format == "xlsx", "--format must be csv or xlsx");
    let r = crate::reports::run::monitoring_return(store, year, quarter, known).await?;
    if format == "xlsx" {
        return monitoring::xlsx(&r).map_err(|e| anyhow::anyhow!("writing the workbook: {e}"));
    }
    Ok(monitoring::csv(&r, bom))
}
