//! `grant-ledger return file|list|show|changes`: filed returns from the command line, under
//! the same role rules as the API.

use std::io::Write;

use clap::Subcommand;

use super::body::{Body, stored};
use super::controls::{As, print, signed_in, year};
use crate::domain::status::ReturnKind;
use crate::http::auth::Need;
use crate::model::Actor;
use crate::model::page::PAGE_LIMIT_MAX;
use crate::model::returns::FileReturnCmd;
use crate::reports::filing;
use crate::storage::{Store, returns};

#[derive(Subcommand, Debug)]
pub enum ReturnAction {
    /// File a return (finance, approver, admin): generate it now and store it byte for byte.
    /// As `POST /api/v1/returns`: its flags are that body's fields.
    File {
        #[command(flatten)]
        body: Body<FileReturnCmd>,
        #[command(flatten)]
        who: As,
    },
    /// List filed returns, newest first.
    List {
        /// Only this kind: commissioner-return or monitoring-return.
        #[arg(long)]
        kind: Option<ReturnKind>,
        /// Only this financial year, e.g. 2023-24.
        #[arg(long)]
        financial_year: Option<String>,
        #[command(flatten)]
        who: As,
    },
    /// Show a filed return's record, with its position as anchor lines (save them to a
    /// file for `verify --against`); `--file` writes the stored bytes instead.
    Show {
        /// The return's id, as `return list` shows it.
        id: i64,
        /// Write the stored file, byte for byte, to standard output.
        #[arg(long)]
        file: bool,
        #[command(flatten)]
        who: As,
    },
    /// What changed since a return was filed: later entries in its period, and each line's
    /// figures as filed and now.
    Changes {
        /// The return's id, as `return list` shows it.
        id: i64,
        #[command(flatten)]
        who: As,
    },
}

/// Runs a `return` subcommand; the exit status is 0, or 3 when `changes` finds the return
/// no longer matches the ledger (so a script can tell).
pub async fn run(store: &Store, action: ReturnAction) -> anyhow::Result<i32> {
    match action {
        ReturnAction::File { body, who } => {
            let p = signed_in(store, &who, Need::Reporting).await?;
            let FileReturnCmd { kind, year, quarter } = body.read()?;
            let actor = Actor { name: &p.name, idem: None };
            print(&filing::file(store, kind, year, quarter, actor).await.map_err(stored::<FileReturnCmd>)?);
        }
        ReturnAction::List { kind, financial_year, who } => {
            signed_in(store, &who, Need::ReadReference).await?;
            let y = financial_year.as_deref().map(year).transpose()?;
            let mut after = 0;
            loop {
                let page = returns::list(store, kind, y, after, PAGE_LIMIT_MAX).await?;
                for r in &page.items {
                    println!(
                        "{:>5}  {}  {} Q{}  filed {} by {}  sha256 {}",
                        r.id, r.kind, r.financial_year, r.quarter, r.filed_at, r.filed_by, r.sha256
                    );
                }
                match (page.next_cursor, page.items.last()) {
                    (Some(_), Some(last)) => after = last.id,
                    _ => break,
                }
            }
        }
        ReturnAction::Show { id, file, who } => {
            signed_in(store, &who, Need::ReadReference).await?;
            if file {
                let (_, _, body) = returns::file(store, id).await?;
                std::io::stdout().write_all(&body)?;
            } else {
                let r = returns::get(store, id).await?;
                // The record, then its position as bare anchor lines, which `verify --against`
                // reads from the saved output (inside JSON they would be quoted).
                let mut shown = serde_json::to_value(&r)?;
                if let Some(o) = shown.as_object_mut() {
                    o.remove("position");
                }
                print(&shown);
                println!("# the ledger position it was filed at:");
                for line in &r.position {
                    println!("{line}");
                }
            }
        }
        ReturnAction::Changes { id, who } => {
            signed_in(store, &who, Need::ReadLedger).await?;
            let c = filing::changes(store, id).await?;
            print(&c);
            if c.changed {
                return Ok(3);
            }
        }
    }
    Ok(0)
}
