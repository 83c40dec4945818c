//! The command line: one binary, several subcommands over the same database.

pub mod agreements;
pub mod controls;
pub mod funder;
pub mod interchange;
pub mod returns;
pub mod tokens;

use clap::{Parser, Subcommand};

use crate::http::{self, AppState};
use crate::model::known::Known;
use crate::storage::{Store, presence, reference};

#[derive(Parser, Debug)]
#[command(
    name = "grant-ledger",
    version,
    about = "Budgetary double-entry ledger for community safety partnership grants"
)]
pub struct Cli {
    /// Where the ledger lives. SQLite is the embedded default; use postgres://… for a
    /// county- or nation-wide service.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://grant-ledger.db", global = true)]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a ledger: migrate the database (a SQLite file is created), load the Tamworth
    /// fixtures and print the first admin token. Refuses a ledger that already holds data.
    Init,
    /// Start the REST API. An empty database is migrated and loaded with the Tamworth fixtures.
    Serve {
        /// Address to listen on. Loopback by default: put a TLS proxy in front to expose it.
        #[arg(long, env = "GRANT_LEDGER_BIND", default_value = http::DEFAULT_BIND)]
        bind: String,
        /// The address people reach the ledger at, e.g. https://ledger.example.org: the only
        /// origin the pages take a form from. Default: http:// and the listening address.
        #[arg(long, env = "GRANT_LEDGER_PUBLIC_URL", value_parser = http::public_url::PublicUrl::parse)]
        public_url: Option<http::public_url::PublicUrl>,
        /// A proxy whose X-Forwarded-For names the client for the throttle of failed
        /// sign-ins: an address or a CIDR range; repeat it, or give a comma-separated list.
        #[arg(
            long = "trusted-proxy",
            value_name = "ADDR",
            env = "GRANT_LEDGER_TRUSTED_PROXIES",
            value_delimiter = ','
        )]
        trusted_proxies: Vec<http::throttle::IpRange>,
        /// Also load illustrative projects, allocations, commitments and spend (labelled as such).
        #[arg(long)]
        demo: bool,
        /// A virement above this amount (pounds, e.g. "5000") waits for a second approver.
        /// Stored as a setting, so it holds until changed; the default is 5000.00.
        #[arg(long, env = "GRANT_LEDGER_VIREMENT_APPROVAL_THRESHOLD")]
        virement_approval_threshold: Option<String>,
        /// RAG amber threshold, percentage points outside the spend profile; stored in the ledger.
        #[arg(long, env = "GRANT_LEDGER_RAG_AMBER_PCT")]
        rag_amber_pct: Option<String>,
        /// RAG red threshold, percentage points outside the spend profile; stored in the ledger.
        #[arg(long, env = "GRANT_LEDGER_RAG_RED_PCT")]
        rag_red_pct: Option<String>,
    },
    /// Print a budget report.
    Report {
        #[command(subcommand)]
        report: ReportCommand,
    },
    /// Write an export to standard output.
    Export {
        #[command(subcommand)]
        export: ExportCommand,
    },
    /// Manage bearer tokens.
    Token {
        #[command(subcommand)]
        action: tokens::TokenAction,
    },
    /// Check every rule, that every balance equals the sum of its postings, and every hash
    /// chain. Keyed links are checked with GRANT_LEDGER_CHAIN_KEY; without it, verify says
    /// they were not checked.
    Verify {
        /// Also prove the ledger still holds the chain heads this file vouched for (a
        /// journal export). Fails, naming the award, when it does not.
        #[arg(long, value_name = "FILE")]
        against: Option<std::path::PathBuf>,
        /// After a clean verify with the chain key, seal every chain head with it: how a
        /// ledger written before the key was set comes under it.
        #[arg(long)]
        seal: bool,
    },
    /// Four-eyes virements: list, approve, reject.
    Virement {
        #[command(subcommand)]
        action: controls::VirementAction,
    },
    /// Financial years: close, reopen, and year end of an award.
    Year {
        #[command(subcommand)]
        action: controls::YearAction,
    },
    /// Locked quarters: lock, unlock, list. No entry is dated in a locked quarter.
    Quarter {
        #[command(subcommand)]
        action: controls::QuarterAction,
    },
    /// An award's payment schedule: show it, or set it whole.
    Schedule {
        #[command(subcommand)]
        action: funder::ScheduleAction,
    },
    /// Record money received from the funder against an award.
    Receipt(funder::CashArgs),
    /// Record returned money paid back to the funder.
    Repayment(funder::CashArgs),
    /// Organisations (delivery partners): list, add, update.
    Organisation {
        #[command(subcommand)]
        action: funder::OrganisationAction,
    },
    /// The audit trail of reference data.
    Audit(controls::AuditArgs),
    /// Filed returns: file one, list them, show one (or its stored file), and what changed since.
    Return {
        #[command(subcommand)]
        action: returns::ReturnAction,
    },
    /// Grant agreements with delivery partners: list a year's, show one, record evidence or
    /// reverse evidence recorded in error.
    Agreement {
        #[command(subcommand)]
        action: agreements::AgreementAction,
    },
    /// Import spend from a finance-system CSV export.
    Import {
        #[command(subcommand)]
        what: interchange::Import,
    },
}

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
        #[arg(long, default_value = "json", value_parser = ["json", "csv"])]
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

/// The demo's illustrative projects and spend go only into a ledger that holds nothing of
/// its own: entries are never deleted, so mixed into real records they would stay for good.
async fn refuse_demo_over_records(store: &Store) -> anyhow::Result<()> {
    let (projects, entries) = reference::own_records(store).await?;
    anyhow::ensure!(
        projects == 0 && entries == 0,
        "--demo refused: this ledger already holds {projects} project(s) and {entries} entry(ies) of its own. \
         The illustrative demo data would mix with them, and entries can never be deleted. \
         Run the demo on an empty database instead, e.g. --database-url sqlite://demo.db"
    );
    Ok(())
}

/// Opens the database, creating a SQLite file if there is none, migrating it and loading
/// the fixtures if it is empty: what `serve` and `init` do, and nothing else.
pub async fn open(url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    if reference::is_empty(&store).await? {
        crate::fixtures::load_reference(&store).await?;
        tracing::info!("loaded the Tamworth fixtures into an empty ledger");
    }
    Ok(store)
}

/// Opens a ledger that exists, applying any newer migrations; refuses, naming where it
/// looked, when there is none there, and creates nothing.
pub async fn open_existing(url: &str) -> anyhow::Result<Store> {
    if !presence::holds_ledger(url).await? {
        anyhow::bail!(
            "no ledger at {}: nothing was created there. Point --database-url (or DATABASE_URL) at your ledger, \
             or create one with `grant-ledger init`",
            presence::place(url)
        );
    }
    let store = Store::connect(url).await?;
    store.migrate().await?;
    Ok(store)
}

/// `init`: a new ledger with the fixtures. A ledger already holding data is refused and left
/// as it was; one whose tables exist but hold nothing (a first start cut short) is completed.
async fn init(url: &str) -> anyhow::Result<Store> {
    if presence::holds_ledger(url).await? {
        let store = Store::connect(url).await?;
        let empty = reference::is_empty(&store).await;
        store.close().await;
        if !empty? {
            anyhow::bail!(
                "{} already holds a ledger: init creates a new one and changed nothing there",
                presence::place(url)
            );
        }
    }
    let store = open(url).await?;
    println!("Created a ledger at {}, with the Tamworth fixtures.", presence::place(url));
    Ok(store)
}

pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    // Checked before the ledger is opened, so a bad secret or chain key leaves it untouched.
    let creates = matches!(cli.command, Command::Serve { .. } | Command::Init);
    let env_secret = if creates { admin_token_from_env()? } else { None };
    crate::storage::chain_key::from_env().map_err(|e| anyhow::anyhow!(e))?;
    let store = match cli.command {
        Command::Init => init(&cli.database_url).await?,
        Command::Serve { .. } => open(&cli.database_url).await?,
        _ => open_existing(&cli.database_url).await?,
    };
    let code = match cli.command {
        Command::Init => {
            bootstrap_admin(&store, env_secret.as_deref()).await?;
            0
        }
        Command::Serve {
            bind,
            public_url,
            trusted_proxies,
            demo,
            virement_approval_threshold,
            rag_amber_pct,
            rag_red_pct,
        } => {
            if let Some(t) = virement_approval_threshold {
                let amount = crate::domain::Money::parse(&t)
                    .map_err(|e| anyhow::anyhow!("--virement-approval-threshold {t:?}: {e}"))?;
                crate::storage::controls::set_virement_threshold(&store, amount, "configuration").await?;
            }
            store_rag_rule(&store, rag_amber_pct, rag_red_pct).await?;
            if demo && reference::setting(&store, "demo_loaded").await?.is_none() {
                refuse_demo_over_records(&store).await?;
                crate::fixtures::load_demo(&store).await?;
                let mut db_tx = store.begin().await?;
                reference::set_setting_in(&mut db_tx, "demo_loaded", "true", "configuration").await?;
                db_tx.commit().await?;
                tracing::info!("loaded the illustrative demo data");
            }
            bootstrap_admin(&store, env_secret.as_deref()).await?;
            let state =
                AppState::new(store.clone()).with_trusted_proxies(http::throttle::TrustedProxies::new(trusted_proxies));
            http::serve(state, &bind, public_url).await?;
            0
        }
        Command::Token { action } => tokens::run(&store, action).await?,
        Command::Report { report } => {
            print!("{}", report_text(&store, report).await?);
            0
        }
        Command::Export { export: ExportCommand::CommissionerReturn { financial_year, quarter, bom, as_known_at } } => {
            use std::io::Write;
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            std::io::stdout()
                .write_all(&commissioner_return_csv(&store, &financial_year, quarter, bom, &known).await?)?;
            0
        }
        Command::Export {
            export: ExportCommand::MonitoringReturn { financial_year, quarter, format, bom, as_known_at },
        } => {
            use std::io::Write;
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            let bytes = monitoring_return_bytes(&store, &financial_year, quarter, &format, bom, &known).await?;
            std::io::stdout().write_all(&bytes)?;
            0
        }
        Command::Export { export: ExportCommand::VcseGrants { financial_year, as_known_at } } => {
            use std::io::Write;
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            let year = parse_year(&financial_year)?;
            std::io::stdout().write_all(&crate::reports::open_data::vcse_grants(&store, year, &known).await?)?;
            0
        }
        Command::Export { export: ExportCommand::Giving360 { financial_year, format, as_known_at } } => {
            use std::io::Write;
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            let year = parse_year(&financial_year)?;
            let format = crate::reports::open_data::GivingFormat::parse(&format)
                .ok_or_else(|| anyhow::anyhow!("--format must be json or csv"))?;
            std::io::stdout().write_all(&crate::reports::open_data::giving(&store, year, &known, format).await?)?;
            0
        }
        Command::Import { what } => interchange::run_import(&store, what).await?,
        Command::Export { export: ExportCommand::Interchange(what) } => interchange::run_export(&store, what).await?,
        Command::Verify { against, seal } => verify(&store, against.as_deref(), seal).await?,
        Command::Virement { action } => controls::virement(&store, action).await.map(|_| 0)?,
        Command::Year { action } => controls::year_action(&store, action).await.map(|_| 0)?,
        Command::Quarter { action } => controls::quarter_action(&store, action).await.map(|_| 0)?,
        Command::Schedule { action } => funder::schedule(&store, action).await.map(|_| 0)?,
        Command::Receipt(args) => {
            funder::record(&store, crate::model::cash::CashMove::Receipt, args).await.map(|_| 0)?
        }
        Command::Repayment(args) => {
            funder::record(&store, crate::model::cash::CashMove::Repayment, args).await.map(|_| 0)?
        }
        Command::Organisation { action } => funder::organisation(&store, action).await.map(|_| 0)?,
        Command::Audit(args) => controls::audit_list(&store, args).await.map(|_| 0)?,
        Command::Return { action } => returns::run(&store, action).await?,
        Command::Agreement { action } => agreements::run(&store, action).await.map(|_| 0)?,
    };
    store.close().await;
    Ok(code)
}

/// `grant-ledger verify [--against FILE] [--seal]`: the exit code is 0 only when nothing
/// is wrong; what could not be checked is said on standard error either way.
async fn verify(store: &Store, against: Option<&std::path::Path>, seal: bool) -> anyhow::Result<i32> {
    use crate::storage::{anchors, chain_key, sealing, verify};
    let key = chain_key::installed();
    if seal {
        let key = key.ok_or_else(|| anyhow::anyhow!("--seal needs the chain key in {}", chain_key::ENV))?;
        let problems = sealing::seal(store, key).await?;
        for p in &problems {
            println!("{p}");
        }
        if !problems.is_empty() {
            eprintln!("{} problem(s) found: nothing was sealed", problems.len());
            return Ok(1);
        }
        println!("every chain head is sealed with the chain key");
        return Ok(0);
    }
    let mut report = match against {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("--against {}: {e}", path.display()))?;
            let vouched = crate::domain::anchor::parse(&text)
                .map_err(|e| anyhow::anyhow!("--against {}: {e}", path.display()))?;
            if vouched.is_empty() {
                anyhow::bail!("--against {}: the file carries no chain heads", path.display());
            }
            anchors::check_against(store, &vouched, key).await?
        }
        None => verify::report(store, key).await?,
    };
    // Every filed return still matches its bytes, its audit record and the ledger at its position.
    report.problems.extend(crate::reports::filing::verify(store).await?);
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    if report.problems.is_empty() {
        let what = match against {
            Some(path) => format!(", and it still holds every chain head {} vouched for", path.display()),
            None => String::new(),
        };
        println!("ledger verified: every entry balances, every balance equals its postings, every rule holds{what}");
        Ok(0)
    } else {
        for p in &report.problems {
            println!("{p}");
        }
        eprintln!("{} problem(s) found", report.problems.len());
        Ok(1)
    }
}

/// The shortest `GRANT_LEDGER_ADMIN_TOKEN` accepted: a shorter secret can be guessed.
pub const ADMIN_TOKEN_LEN_MIN: usize = 32;

/// `GRANT_LEDGER_ADMIN_TOKEN`, if set and not blank; an error saying why when it is too short.
pub fn admin_token_from_env() -> anyhow::Result<Option<String>> {
    let Ok(secret) = std::env::var("GRANT_LEDGER_ADMIN_TOKEN") else { return Ok(None) };
    let secret = secret.trim();
    if secret.is_empty() {
        return Ok(None);
    }
    let len = secret.chars().count();
    if len < ADMIN_TOKEN_LEN_MIN {
        anyhow::bail!(
            "GRANT_LEDGER_ADMIN_TOKEN has {len} character(s); it must have at least {ADMIN_TOKEN_LEN_MIN}, \
             because a short admin token can be guessed. Generate one with `openssl rand -hex 32`."
        );
    }
    Ok(Some(secret.to_owned()))
}

/// `GRANT_LEDGER_ADMIN_TOKEN` becomes a valid admin token, unless that secret was revoked;
/// otherwise a fresh ledger with no token gets one generated and printed once.
async fn bootstrap_admin(store: &Store, env_secret: Option<&str>) -> anyhow::Result<()> {
    use crate::storage::tokens;
    match env_secret {
        Some(secret) => {
            let name = "admin (GRANT_LEDGER_ADMIN_TOKEN)";
            let ensured = tokens::ensure_secret(store, name, tokens::Role::Admin, secret, "configuration").await?;
            if ensured == tokens::Ensured::Revoked {
                tracing::warn!(
                    "GRANT_LEDGER_ADMIN_TOKEN names a revoked token: it stays revoked and grants nothing; \
                     unset it or set a new secret"
                );
            }
        }
        None if tokens::count(store).await? == 0 => {
            let created =
                tokens::create(store, "admin (generated at first start)", tokens::Role::Admin, "configuration").await?;
            println!("Admin token (shown only this once; keep it safe): {}", created.token);
        }
        None => {}
    }
    Ok(())
}

fn parse_year(text: &str) -> anyhow::Result<crate::domain::FinancialYear> {
    crate::domain::FinancialYear::parse(text).map_err(|e| anyhow::anyhow!("--financial-year {e}"))
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

/// `--as-at`: a date, or absent for now.
fn as_at_arg(arg: Option<&str>) -> anyhow::Result<Option<chrono::NaiveDate>> {
    arg.map(|d| crate::domain::parse_date(d).ok_or_else(|| anyhow::anyhow!("--as-at must be YYYY-MM-DD"))).transpose()
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
                        table::render(&variance::TABLE_HEADER, &variance::table_rows(&r))
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
            use crate::reports::csv_out::Cell::{Number, Text};
            let known = Known::from_arg(as_known_at.as_deref()).map_err(anyhow::Error::msg)?;
            let r = run::multi_year(store, &grant, &known).await?;
            let header =
                ["financial_year", "awarded", "allocated", "committed", "actual", "unspent", "cumulative_unspent"];
            let rows: Vec<Vec<csv_out::Cell>> = r
                .years
                .iter()
                .map(|y| {
                    let f = &y.figures;
                    let mut row = vec![Text(y.financial_year.clone())];
                    row.extend(
                        [f.awarded, f.allocated, f.committed, f.actual, f.unspent, y.cumulative.unspent]
                            .map(|m| Number(m.to_string())),
                    );
                    row
                })
                .collect();
            match format {
                Format::Json => serde_json::to_string_pretty(&r)? + "\n",
                Format::Csv => String::from_utf8(csv_out::write(&header, &rows, false))?,
                Format::Table => format!("Grant {grant} across its award years.\n\n{}", table::render(&header, &rows)),
            }
        }
    };
    Ok(text)
}

/// Stores RAG thresholds given to `serve`, after checking them; absent ones keep what is stored.
async fn store_rag_rule(store: &Store, amber: Option<String>, red: Option<String>) -> anyhow::Result<()> {
    if amber.is_none() && red.is_none() {
        return Ok(());
    }
    let current = crate::storage::reports::rag_rule(store).await?;
    let amber = amber.unwrap_or_else(|| current.amber_pct.to_string());
    let red = red.unwrap_or_else(|| current.red_pct.to_string());
    let rule = crate::domain::rag::RagRule::parse(&amber, &red).map_err(|e| anyhow::anyhow!("RAG thresholds: {e}"))?;
    crate::storage::reports::set_rag_rule(store, rule, "configuration").await?;
    tracing::info!(amber = %rule.amber_pct, red = %rule.red_pct, "RAG thresholds stored");
    Ok(())
}
