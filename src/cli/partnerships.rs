//! `grant-ledger funder` and `grant-ledger partnership`: the service's registry from the
//! command line, which acts as the operator (docs/cli.md). Whoever runs it holds the
//! database itself; each change is in the audit trail as coming from the command line.

use clap::Subcommand;

use super::body::Body;
use crate::model::Actor;
use crate::model::page::PAGE_LIMIT_MAX;
use crate::model::partnerships::NewPartnership;
use crate::model::reference::NewFunder;
use crate::storage::{Store, partnerships, reference};

#[derive(Subcommand, Debug)]
pub enum FunderAction {
    /// Add a funder, as `POST /api/v1/funders`: its flags are that body's fields.
    Add {
        #[command(flatten)]
        body: Body<NewFunder>,
    },
    /// List every funder the service knows.
    List,
    /// A funder's funds and shares: add, show, shares, reallocate (`cli::funder`).
    Fund {
        #[command(subcommand)]
        action: super::funder::FundAction,
    },
    /// Record a payment the funder made to a partnership (`cli::funder`).
    Pay(super::funder::PayArgs),
    /// What the funder paid against what was received, for a year (`cli::funder`).
    Reconciliation(super::funder::ReconciliationArgs),
}

#[derive(Subcommand, Debug)]
pub enum PartnershipAction {
    /// Register a partnership, as `POST /api/v1/partnerships`. Its ledger is not held by
    /// this service until partnerships are sealed from each other.
    Add {
        #[command(flatten)]
        body: Body<NewPartnership>,
    },
    /// List every partnership; `*` marks the home partnership, whose ledger this is.
    List,
    /// Name the home partnership (its code, name, funder and area) while the service holds
    /// no other: how a single ledger is adopted under a code of its own.
    Adopt {
        #[command(flatten)]
        body: Body<NewPartnership>,
    },
}

pub async fn funder(store: &Store, action: FunderAction) -> anyhow::Result<i32> {
    match action {
        FunderAction::Add { body } => {
            let f = body.read()?.into();
            let actor = Actor { name: "command line (funder add)", idem: None };
            let made = reference::create_funder(store, f, actor).await?;
            eprintln!("funder {} ({}) added", made.code, made.name);
        }
        FunderAction::List => {
            let mut after = String::new();
            loop {
                let page = reference::list_funders(store, &after, PAGE_LIMIT_MAX).await?;
                for f in &page.items {
                    println!("{}\t{}", f.code, f.name);
                    after.clone_from(&f.code);
                }
                if page.next_cursor.is_none() {
                    break;
                }
            }
        }
        FunderAction::Fund { action } => super::funder::fund(store, action).await?,
        FunderAction::Pay(args) => super::funder::pay(store, args).await?,
        FunderAction::Reconciliation(args) => super::funder::reconciliation(store, args).await?,
    }
    Ok(0)
}

pub async fn partnership(store: &Store, action: PartnershipAction) -> anyhow::Result<i32> {
    match action {
        PartnershipAction::Add { body } => {
            let p = body.read()?;
            let actor = Actor { name: "command line (partnership add)", idem: None };
            let made = partnerships::create(store, &p, actor).await?;
            eprintln!("partnership {} ({}) added, funded by {}", made.code, made.name, made.funder);
        }
        PartnershipAction::List => {
            for p in partnerships::list(store).await? {
                let home = if p.home.0 { "*" } else { " " };
                println!("{home} {}\t{}\t{}\t{}", p.code, p.funder, p.area_code, p.name);
            }
        }
        PartnershipAction::Adopt { body } => {
            let p = body.read()?;
            let adopted = partnerships::adopt(store, &p, "command line (partnership adopt)").await?;
            eprintln!("this ledger is partnership {} ({}), funded by {}", adopted.code, adopted.name, adopted.funder);
        }
    }
    Ok(0)
}

/// `--partnership CODE`: the service holds one partnership's ledger, so a command naming
/// another is refused before it runs.
pub async fn check_named(store: &Store, named: Option<&str>) -> anyhow::Result<()> {
    let Some(named) = named else { return Ok(()) };
    let home = partnerships::home(store).await?;
    match home {
        Some(h) if h.code == named => Ok(()),
        Some(h) => anyhow::bail!(
            "--partnership {named}: this service holds the ledger of one partnership, {}, not {named}",
            h.code
        ),
        None => anyhow::bail!("--partnership {named}: this ledger has no partnership yet (see `partnership adopt`)"),
    }
}
