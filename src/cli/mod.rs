//! The command line: one binary, several subcommands over the same database. This file holds
//! the commands, opens the ledger (only `serve` and `init` create one) and hands it to the
//! command group's file; no command group names this file, and none forms a cycle with
//! another (`module_cycles`).

pub mod agreements;
pub mod body;
pub mod controls;
pub mod export;
pub mod funder;
pub mod interchange;
pub mod partnerships;
pub mod record;
pub mod report;
pub mod returns;
pub mod serve;
pub mod tokens;
pub mod users;
pub mod verify;

pub use export::{ExportCommand, commissioner_return_csv, monitoring_return_bytes};
pub use report::{Format, ReportCommand, report_text};
pub use serve::{ADMIN_TOKEN_LEN_MIN, admin_token_from_env};

use clap::{Parser, Subcommand};

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

    /// The partnership whose ledger a command acts on. This service holds one partnership's
    /// ledger, the home partnership's: naming another is refused before the command runs.
    #[arg(long, value_name = "CODE", global = true)]
    pub partnership: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a ledger: migrate the database (a SQLite file is created), load the Tamworth
    /// fixtures and print the first admin token. Refuses a ledger that already holds data.
    Init,
    /// Start the REST API. An empty database is migrated and loaded with the Tamworth fixtures.
    Serve(serve::ServeArgs),
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
    /// Manage the people who sign in to the pages.
    User {
        #[command(subcommand)]
        action: users::UserAction,
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
    /// The service's funders: add, list (as the operator).
    Funder {
        #[command(subcommand)]
        action: partnerships::FunderAction,
    },
    /// The service's partnerships: add, list, and adopt this ledger as the home partnership's.
    Partnership {
        #[command(subcommand)]
        action: partnerships::PartnershipAction,
    },
    /// The recording commands (`allocate` …), their flags generated from the API's request
    /// types (src/cli/record.rs).
    #[command(flatten)]
    Record(record::Recording),
}

/// Opens the database, creating a SQLite file if there is none, migrating it and loading
/// the fixtures if it is empty: what `serve` and `init` do, and nothing else.
pub async fn open(url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    if reference::is_empty(&store).await? {
        crate::fixtures::load_reference(&store).await?;
        tracing::info!("loaded the Tamworth fixtures into an empty ledger");
        crate::storage::partnerships::ensure_home(&store).await?;
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

/// Runs one subcommand; the process's exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    // Checked before the ledger is opened, so a bad secret or chain key leaves it untouched.
    let creates = matches!(cli.command, Command::Serve(_) | Command::Init);
    let env_secret = if creates { serve::admin_token_from_env()? } else { None };
    let operator_secret = if creates { serve::operator_token_from_env()? } else { None };
    crate::storage::chain_key::from_env().map_err(|e| anyhow::anyhow!(e))?;
    let store = match cli.command {
        Command::Init => init(&cli.database_url).await?,
        Command::Serve(_) => open(&cli.database_url).await?,
        _ => open_existing(&cli.database_url).await?,
    };
    if let Err(e) = partnerships::check_named(&store, cli.partnership.as_deref()).await {
        store.close().await;
        return Err(e);
    }
    if let Some(secret) = &operator_secret {
        serve::bootstrap_operator(&store, secret).await?;
    }
    let code = match command(&store, cli.command, env_secret.as_deref()).await {
        Ok(code) => code,
        // Bad fields, each named by its flag: exit 2, as the recording commands (docs/cli.md).
        Err(e) => match e.downcast::<body::BadFields>() {
            Ok(bad) => {
                for line in bad.0 {
                    eprintln!("{line}");
                }
                2
            }
            Err(e) => return Err(e),
        },
    };
    store.close().await;
    Ok(code)
}

/// Runs one subcommand over its ledger.
async fn command(store: &Store, command: Command, env_secret: Option<&str>) -> anyhow::Result<i32> {
    Ok(match command {
        Command::Init => {
            serve::bootstrap_admin(store, env_secret).await?;
            0
        }
        Command::Serve(args) => {
            serve::run(store, args, env_secret).await?;
            0
        }
        Command::Token { action } => tokens::run(store, action).await?,
        Command::User { action } => users::run(store, action).await?,
        Command::Report { report } => {
            print!("{}", report::report_text(store, report).await?);
            0
        }
        Command::Export { export } => export::run(store, export).await?,
        Command::Import { what } => interchange::run_import(store, what).await?,
        Command::Verify { against, seal } => verify::run(store, against.as_deref(), seal).await?,
        Command::Virement { action } => controls::virement(store, action).await.map(|_| 0)?,
        Command::Year { action } => controls::year_action(store, action).await.map(|_| 0)?,
        Command::Quarter { action } => controls::quarter_action(store, action).await.map(|_| 0)?,
        Command::Schedule { action } => funder::schedule(store, action).await.map(|_| 0)?,
        Command::Receipt(args) => {
            funder::record(store, crate::model::cash::CashMove::Receipt, args).await.map(|_| 0)?
        }
        Command::Repayment(args) => {
            funder::record(store, crate::model::cash::CashMove::Repayment, args).await.map(|_| 0)?
        }
        Command::Organisation { action } => funder::organisation(store, action).await.map(|_| 0)?,
        Command::Audit(args) => controls::audit_list(store, args).await.map(|_| 0)?,
        Command::Return { action } => returns::run(store, action).await?,
        Command::Agreement { action } => agreements::run(store, action).await.map(|_| 0)?,
        Command::Funder { action } => partnerships::funder(store, action).await?,
        Command::Partnership { action } => partnerships::partnership(store, action).await?,
        Command::Record(rec) => record::run(store, rec).await?,
    })
}
