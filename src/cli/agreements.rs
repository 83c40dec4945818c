//! Command-line grant agreements (docs/agreements.md): the year's agreements with what each
//! has paid, evidenced and still holds; one commitment seen whole; a partner's evidence, and
//! its reversal when recorded in error.
//! Each acts as the person behind `--token`, under the same role rules as the API.

use clap::Subcommand;

use super::controls::{As, print, signed_in, year};
use crate::domain::{EvidenceStatus, Money, parse_date};
use crate::http::auth::Need;
use crate::model::Actor;
use crate::model::agreements::{EvidenceCmd, EvidenceReverseCmd};
use crate::reports::agreements::{AgreementLine, columns as agreement_columns};
use crate::reports::columns;
use crate::reports::csv_out::Cell;
use crate::reports::table;
use crate::storage::Store;
use crate::storage::operations as ops;

#[derive(Subcommand, Debug)]
pub enum AgreementAction {
    /// The grant agreements with a part in a financial year: partner, period, this year's
    /// part, paid, clawed back, evidenced, unevidenced, outstanding and evidence status.
    List {
        /// The financial year, e.g. 2023-24.
        #[arg(long)]
        financial_year: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: As,
    },
    /// One commitment whole, as JSON: its parts, payments, clawbacks and evidence, each
    /// reversed piece of evidence with its reversal and reason.
    Show {
        /// The commitment's id.
        id: i64,
        #[command(flatten)]
        who: As,
    },
    /// Record a partner's evidence of spend against a grant agreement (finance).
    Evidence {
        /// The agreement's commitment id.
        id: i64,
        /// When the evidence was received (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// What it accounts for, in pounds; 0.00 with status none.
        #[arg(long)]
        amount: String,
        /// satisfactory, partial or none.
        #[arg(long)]
        status: EvidenceStatus,
        /// What the evidence was, e.g. "Q3 monitoring form and receipts".
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        who: As,
    },
    /// Reverse a partner's evidence recorded in error (finance): it stays, and no longer
    /// counts.
    ReverseEvidence {
        /// The agreement's commitment id.
        id: i64,
        /// The evidence's id, as `agreement show` lists it.
        evidence_id: i64,
        /// When the error was corrected (YYYY-MM-DD); not before the evidence's date.
        #[arg(long)]
        date: String,
        /// Why the evidence was recorded in error.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        who: As,
    },
}

pub async fn run(store: &Store, action: AgreementAction) -> anyhow::Result<()> {
    match action {
        AgreementAction::List { financial_year, json, who } => {
            signed_in(store, &who, Need::ReadLedger).await?;
            let fy = year(&financial_year)?;
            let agreements = ops::agreements_of_year(store, fy).await?;
            if json {
                print(&agreements);
            } else {
                let columns = agreement_columns();
                let rows: Vec<Vec<Cell>> = agreements
                    .iter()
                    .map(|agreement| columns::cells(&columns, &AgreementLine { agreement, year: fy }))
                    .collect();
                print!("{}", table::render(&columns::names(&columns), &rows));
            }
        }
        AgreementAction::Show { id, who } => {
            signed_in(store, &who, Need::ReadLedger).await?;
            print(&ops::commitment_detail(store, id).await?);
        }
        AgreementAction::Evidence { id, date, amount, status, note, who } => {
            let p = signed_in(store, &who, Need::Finance).await?;
            let cmd = EvidenceCmd {
                commitment_id: id,
                date: parse_date(&date).ok_or_else(|| anyhow::anyhow!("--date {date:?} is not a date (YYYY-MM-DD)"))?,
                amount_evidenced: Money::parse(&amount).map_err(|e| anyhow::anyhow!("--amount {amount:?}: {e}"))?,
                status,
                note,
            };
            print(&ops::record_evidence(store, cmd, Actor { name: &p.name, idem: None }).await?);
        }
        AgreementAction::ReverseEvidence { id, evidence_id, date, reason, who } => {
            let p = signed_in(store, &who, Need::Finance).await?;
            let cmd = EvidenceReverseCmd {
                commitment_id: id,
                evidence_id,
                date: parse_date(&date).ok_or_else(|| anyhow::anyhow!("--date {date:?} is not a date (YYYY-MM-DD)"))?,
                reason,
            };
            print(&ops::reverse_evidence(store, cmd, Actor { name: &p.name, idem: None }).await?);
        }
    }
    Ok(())
}
