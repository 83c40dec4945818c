//! Command-line controls: four-eyes virements, year end, closing and reopening years, locked
//! quarters, and the audit trail. Each acts as the person behind `--token`, under the same role rules as the API.

use clap::{Args, Subcommand};

use super::body::{Body, stored};
use crate::domain::{AuditEntity, FinancialYear, VirementStatus};
use crate::http::auth::Need;
use crate::model::Actor;
use crate::model::audit::AuditFilter;
use crate::model::controls::{CloseYearCmd, RejectVirementCmd, ReopenYearCmd, YearEndCmd};
use crate::model::page::PAGE_LIMIT_MAX;
use crate::model::quarters::QuarterLockCmd;
use crate::model::tokens::Principal;
use crate::storage::{Store, audit, controls, quarter_locks, tokens};

/// Who is acting: a token, as on the API.
#[derive(Args, Debug)]
pub struct As {
    /// The acting person's token (or GRANT_LEDGER_TOKEN).
    #[arg(long, env = "GRANT_LEDGER_TOKEN", hide_env_values = true)]
    pub token: String,
}

#[derive(Subcommand, Debug)]
pub enum VirementAction {
    /// List virements, pending ones by default.
    List {
        /// pending, approved, rejected or posted.
        #[arg(long, default_value_t = VirementStatus::Pending)]
        status: VirementStatus,
        #[command(flatten)]
        who: As,
    },
    /// Post a pending virement as its second approver.
    Approve {
        /// The virement's id, as `virement list` shows it.
        id: i64,
        #[command(flatten)]
        who: As,
    },
    /// Reject a pending virement as its second approver. As
    /// `POST /api/v1/virements/{id}/reject`: its flags are that body's fields.
    Reject {
        /// The virement's id, as `virement list` shows it.
        id: i64,
        #[command(flatten)]
        body: Body<RejectVirementCmd>,
        #[command(flatten)]
        who: As,
    },
}

#[derive(Subcommand, Debug)]
pub enum YearAction {
    /// Close a financial year (admin): refused while anything of it is unresolved. As
    /// `POST /api/v1/financial-years/{fy}/close`: its flags are that body's fields.
    Close {
        /// The financial year, e.g. 2023-24.
        year: String,
        #[command(flatten)]
        body: Body<CloseYearCmd>,
        #[command(flatten)]
        who: As,
    },
    /// Reopen a closed financial year (admin), with a reason. As
    /// `POST /api/v1/financial-years/{fy}/reopen`.
    Reopen {
        /// The financial year, e.g. 2023-24.
        year: String,
        #[command(flatten)]
        body: Body<ReopenYearCmd>,
        #[command(flatten)]
        who: As,
    },
    /// Resolve an award's unspent money: carry forward into the next year and/or return it.
    /// As `POST /api/v1/grants/{grant}/awards/{fy}/year-end`.
    End {
        /// The grant's code, e.g. LDF.
        grant: String,
        /// The award's financial year, e.g. 2023-24.
        year: String,
        #[command(flatten)]
        body: Body<YearEndCmd>,
        #[command(flatten)]
        who: As,
    },
}

/// Which quarter: `--financial-year 2023-24 --quarter 3`.
#[derive(Args, Debug)]
pub struct WhichQuarter {
    /// The financial year, e.g. 2023-24.
    #[arg(long)]
    pub financial_year: String,
    /// The quarter, 1 to 4 (1 is April to June).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=4))]
    pub quarter: u8,
}

/// A quarter to lock or unlock, and why: the body of
/// `POST /api/v1/financial-years/{fy}/quarters/{q}/lock` (and `/unlock`).
#[derive(Args, Debug)]
pub struct QuarterChange {
    #[command(flatten)]
    which: WhichQuarter,
    #[command(flatten)]
    body: Body<QuarterLockCmd>,
    #[command(flatten)]
    who: As,
}

#[derive(Subcommand, Debug)]
pub enum QuarterAction {
    /// Lock a quarter (admin): no entry dated in it is recorded after.
    Lock(QuarterChange),
    /// Unlock a locked quarter (admin), with a reason.
    Unlock(QuarterChange),
    /// List a year's four quarters and which are locked.
    List {
        /// The financial year, e.g. 2023-24.
        #[arg(long)]
        financial_year: String,
        #[command(flatten)]
        who: As,
    },
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Only changes to this kind of record: one of the audited entities (funder, priority,
    /// grant, award, project, token, financial_year, quarter, setting, ...).
    #[arg(long)]
    pub entity: Option<AuditEntity>,
    /// Only changes to the record with this code, id or grant/year.
    #[arg(long)]
    pub key: Option<String>,
    /// How many changes to show, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
    #[command(flatten)]
    pub who: As,
}

pub(crate) async fn signed_in(store: &Store, who: &As, need: Need) -> anyhow::Result<Principal> {
    let p =
        tokens::authenticate(store, &who.token).await?.ok_or_else(|| anyhow::anyhow!("unknown or revoked token"))?;
    // The API's one gate first: the operator, or a funder not funding this ledger, reaches nothing.
    if let Some(refused) = crate::http::auth::ledger_refusal(&p) {
        anyhow::bail!("{refused}");
    }
    anyhow::ensure!(need.allows(p.role), "the {} role may not do this", p.role.as_str());
    Ok(p)
}

pub(crate) fn year(text: &str) -> anyhow::Result<FinancialYear> {
    FinancialYear::parse(text).map_err(|e| anyhow::anyhow!("financial year {text:?}: {e}"))
}

pub(crate) fn print(value: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(value).expect("records serialize"));
}

pub async fn virement(store: &Store, action: VirementAction) -> anyhow::Result<()> {
    match action {
        VirementAction::List { status, who } => {
            signed_in(store, &who, Need::ReadLedger).await?;
            print(&controls::list_virements(store, Some(status), None, 0, PAGE_LIMIT_MAX).await?.items);
        }
        VirementAction::Approve { id, who } => {
            let p = signed_in(store, &who, Need::Approver).await?;
            print(&controls::approve_virement(store, id, Actor { name: &p.name, idem: None }).await?);
        }
        VirementAction::Reject { id, body, who } => {
            let p = signed_in(store, &who, Need::Approver).await?;
            let RejectVirementCmd { reason } = body.read()?;
            print(&controls::reject_virement(store, id, &reason, Actor { name: &p.name, idem: None }).await?);
        }
    }
    Ok(())
}

pub async fn year_action(store: &Store, action: YearAction) -> anyhow::Result<()> {
    match action {
        YearAction::Close { year: y, body, who } => {
            let p = signed_in(store, &who, Need::Admin).await?;
            let y = year(&y)?;
            let CloseYearCmd { reason } = body.read()?;
            print(&controls::close_year(store, y, &reason, Actor { name: &p.name, idem: None }).await?);
        }
        YearAction::Reopen { year: y, body, who } => {
            let p = signed_in(store, &who, Need::Admin).await?;
            let y = year(&y)?;
            let ReopenYearCmd { reason } = body.read()?;
            print(&controls::reopen_year(store, y, &reason, Actor { name: &p.name, idem: None }).await?);
        }
        YearAction::End { grant, year: y, body, who } => {
            let p = signed_in(store, &who, Need::Approver).await?;
            let cmd = YearEndCmd { grant, year: year(&y)?, ..body.read()? };
            let done = controls::year_end(store, cmd, Actor { name: &p.name, idem: None }).await;
            print(&done.map_err(stored::<YearEndCmd>)?);
        }
    }
    Ok(())
}

async fn change_quarter(store: &Store, c: QuarterChange, lock: bool) -> anyhow::Result<()> {
    let p = signed_in(store, &c.who, Need::Admin).await?;
    let actor = Actor { name: &p.name, idem: None };
    let year = year(&c.which.financial_year)?;
    let QuarterLockCmd { reason } = c.body.read()?;
    print(&quarter_locks::set_locked(store, year, c.which.quarter, lock, &reason, actor).await?);
    Ok(())
}

pub async fn quarter_action(store: &Store, action: QuarterAction) -> anyhow::Result<()> {
    match action {
        QuarterAction::Lock(c) => change_quarter(store, c, true).await?,
        QuarterAction::Unlock(c) => change_quarter(store, c, false).await?,
        QuarterAction::List { financial_year, who } => {
            signed_in(store, &who, Need::ReadReference).await?;
            print(&quarter_locks::quarter_states(store, year(&financial_year)?).await?);
        }
    }
    Ok(())
}

pub async fn audit_list(store: &Store, args: AuditArgs) -> anyhow::Result<()> {
    let who = signed_in(store, &args.who, Need::ReadAudit).await?;
    // As in the API: only admin reads the records of tokens and sign-ins.
    let with_tokens = Need::Admin.allows(who.role);
    anyhow::ensure!(
        with_tokens || !args.entity.is_some_and(AuditEntity::admin_only),
        "only admin may read the records of tokens and sign-ins"
    );
    let filter = AuditFilter { entity: args.entity, key: args.key, with_tokens, ..Default::default() };
    print(&audit::list(store, &filter, 0, args.limit.clamp(1, PAGE_LIMIT_MAX)).await?.items);
    Ok(())
}
