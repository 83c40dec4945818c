//! Command-line grant agreements (docs/agreements.md): the year's agreements with what each
//! has paid, evidenced and still holds; one commitment seen whole; a partner's evidence, and
//! its reversal when recorded in error.
//! Each acts as the person behind `--token`, under the same role rules as the API.

use clap::Subcommand;

use super::body::{Body, stored};
use super::controls::{As, print, signed_in, year};
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
    /// Record a partner's evidence of spend against a grant agreement (finance), as
    /// `POST /api/v1/commitments/{id}/evidence`: its flags are that body's fields.
    Evidence {
        /// The agreement's commitment id.
        id: i64,
        #[command(flatten)]
        body: Body<EvidenceCmd>,
        #[command(flatten)]
        who: As,
    },
    /// Reverse a partner's evidence recorded in error (finance): it stays, and no longer
    /// counts. As `POST /api/v1/commitments/{id}/evidence/{evidence_id}/reverse`.
    ReverseEvidence {
        /// The agreement's commitment id.
        id: i64,
        /// The evidence's id, as `agreement show` lists it.
        evidence_id: i64,
        #[command(flatten)]
        body: Body<EvidenceReverseCmd>,
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
        AgreementAction::Evidence { id, body, who } => {
            let p = signed_in(store, &who, Need::Finance).await?;
            let cmd = EvidenceCmd { commitment_id: id, ..body.read()? };
            let done = ops::record_evidence(store, cmd, Actor { name: &p.name, idem: None }).await;
            print(&done.map_err(stored::<EvidenceCmd>)?);
        }
        AgreementAction::ReverseEvidence { id, evidence_id, body, who } => {
            let p = signed_in(store, &who, Need::Finance).await?;
            let cmd = EvidenceReverseCmd { commitment_id: id, evidence_id, ..body.read()? };
            let done = ops::reverse_evidence(store, cmd, Actor { name: &p.name, idem: None }).await;
            print(&done.map_err(stored::<EvidenceReverseCmd>)?);
        }
    }
    Ok(())
}
