//! The command line: one binary, several subcommands over the same database.

use clap::{Parser, Subcommand};

use crate::http::{self, AppState};
use crate::storage::{Store, reference, tokens};

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
    /// Start the REST API. An empty database is migrated and loaded with the Tamworth fixtures.
    Serve {
        /// Address to listen on. Loopback by default: put a TLS proxy in front to expose it.
        #[arg(long, env = "GRANT_LEDGER_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Also load illustrative projects, allocations, commitments and spend (labelled as such).
        #[arg(long)]
        demo: bool,
    },
    /// Manage bearer tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Check every rule and that every balance equals the sum of its postings.
    Verify,
    /// Import spend from a finance-system CSV export.
    Import {
        #[command(subcommand)]
        what: crate::csv::cli::Import,
    },
    /// Export the ledger: journals for hledger or beancount, the Transparency Code CSV.
    Export {
        #[command(subcommand)]
        what: crate::csv::cli::Export,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenAction {
    /// Create a token and print its secret, once.
    Create {
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: String,
    },
}

/// Opens the database, migrating it and loading the fixtures if it is empty.
pub async fn open(url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    if reference::is_empty(&store).await? {
        crate::fixtures::load_reference(&store).await?;
        tracing::info!("loaded the Tamworth fixtures into an empty ledger");
    }
    Ok(store)
}

pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let store = open(&cli.database_url).await?;
    let code = match cli.command {
        Command::Serve { bind, demo } => {
            if demo && reference::setting(&store, "demo_loaded").await?.is_none() {
                crate::fixtures::load_demo(&store).await?;
                let mut db_tx = store.begin().await?;
                reference::set_setting_in(&mut db_tx, "demo_loaded", "true").await?;
                db_tx.commit().await?;
                tracing::info!("loaded the illustrative demo data");
            }
            bootstrap_admin(&store).await?;
            http::serve(AppState { store: store.clone() }, &bind).await?;
            0
        }
        Command::Token { action: TokenAction::Create { role, name } } => {
            let role = tokens::Role::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("--role must be one of admin, viewer, funder, finance, approver"))?;
            let created = tokens::create(&store, &name, role).await?;
            println!("{}", created.token);
            eprintln!(
                "token {} for {} ({}) created; the secret above is shown only this once",
                created.id,
                name,
                role.as_str()
            );
            0
        }
        Command::Import { what } => crate::csv::cli::run_import(&store, what).await?,
        Command::Export { what } => crate::csv::cli::run_export(&store, what).await?,
        Command::Verify => {
            let problems = crate::storage::verify::verify(&store).await?;
            if problems.is_empty() {
                println!("ledger verified: every entry balances, every balance equals its postings, every rule holds");
                0
            } else {
                for p in &problems {
                    println!("{p}");
                }
                eprintln!("{} problem(s) found", problems.len());
                1
            }
        }
    };
    store.close().await;
    Ok(code)
}

/// `GRANT_LEDGER_ADMIN_TOKEN` becomes a valid admin token; otherwise a fresh ledger with no
/// token gets one generated and printed once.
async fn bootstrap_admin(store: &Store) -> anyhow::Result<()> {
    match std::env::var("GRANT_LEDGER_ADMIN_TOKEN") {
        Ok(secret) if !secret.trim().is_empty() => {
            tokens::ensure_secret(store, "admin (GRANT_LEDGER_ADMIN_TOKEN)", tokens::Role::Admin, secret.trim())
                .await?;
        }
        _ if tokens::count(store).await? == 0 => {
            let created = tokens::create(store, "admin (generated at first start)", tokens::Role::Admin).await?;
            println!("Admin token (shown only this once; keep it safe): {}", created.token);
        }
        _ => {}
    }
    Ok(())
}
