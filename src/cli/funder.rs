//! `grant-ledger schedule|receipt|repayment|organisation`: the funder's cash (docs/cash.md)
//! and organisations from the command line, acting as `--token` under the same role rules as
//! the API. The flags are parsed by the routes' own body parsers and recorded by the same
//! storage functions, so a value the API refuses is refused here too, and nothing is written.

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use super::controls::{As, print, signed_in};
use crate::domain::is_valid_code;
use crate::http::auth::Need;
use crate::http::error::AppError;
use crate::http::input::RawBody;
use crate::http::routes::{cash as cash_routes, reference as reference_routes};
use crate::model::Actor;
use crate::model::cash::CashMove;
use crate::model::page::PAGE_LIMIT_MAX;
use crate::storage::{Store, StoreError, cash, reference};

/// Which award: `--grant LDF --financial-year 2023-24`.
#[derive(Args, Debug)]
pub struct WhichAward {
    /// The grant's code, e.g. LDF.
    #[arg(long)]
    pub grant: String,
    /// The award's financial year, e.g. 2023-24.
    #[arg(long)]
    pub financial_year: String,
}

#[derive(Subcommand, Debug)]
pub enum ScheduleAction {
    /// An award's payment schedule, in due date order.
    Show {
        #[command(flatten)]
        award: WhichAward,
        #[command(flatten)]
        who: As,
    },
    /// Replace an award's payment schedule whole (approver, admin); audited. The instalments
    /// may not add up to more than the award.
    Set {
        #[command(flatten)]
        award: WhichAward,
        /// One instalment, DUE_ON:AMOUNT or DUE_ON:AMOUNT:CONDITION, e.g.
        /// "2024-01-31:12278.80:subject to evaluation"; repeat for each.
        #[arg(long = "instalment", value_name = "DUE_ON:AMOUNT[:CONDITION]", required_unless_present = "clear")]
        instalments: Vec<String>,
        /// Clear the schedule: an award with no instalments.
        #[arg(long, conflicts_with = "instalments")]
        clear: bool,
        #[command(flatten)]
        who: As,
    },
}

/// A receipt or a repayment: `--grant --financial-year --date --amount --reference`.
#[derive(Args, Debug)]
pub struct CashArgs {
    #[command(flatten)]
    pub award: WhichAward,
    /// The date the money moved (YYYY-MM-DD): a receipt from a year before the award's year
    /// to its end, a repayment from its start to two years after; in an open year and quarter.
    #[arg(long)]
    pub date: String,
    /// Pounds, e.g. 49115.20.
    #[arg(long)]
    pub amount: String,
    /// The funder's remittance or the council's payment reference.
    #[arg(long)]
    pub reference: String,
    #[command(flatten)]
    pub who: As,
}

/// An organisation's identifiers; for `update`, `""` clears one.
#[derive(Args, Debug)]
pub struct Identifiers {
    /// A charity number: 1234567, 1234567-1, SC012345 or NIC100002.
    #[arg(long)]
    pub charity_number: Option<String>,
    /// A Companies House number of 8 characters: 01234567 or SC123456.
    #[arg(long)]
    pub company_number: Option<String>,
    /// An org-id.guide identifier, e.g. GB-CHC-1234567.
    #[arg(long)]
    pub org_id: Option<String>,
    /// A UK postcode, e.g. "B79 7BZ"; stored the Royal Mail way.
    #[arg(long)]
    pub postcode: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum OrganisationAction {
    /// List organisations, by code.
    List {
        #[command(flatten)]
        who: As,
    },
    /// Add an organisation (approver, admin); audited.
    Add {
        /// Its code: letters, digits, '-' or '_'.
        #[arg(long)]
        code: String,
        /// Its name, e.g. "Tamworth Youth Trust".
        #[arg(long)]
        name: String,
        /// vcse, public or private.
        #[arg(long)]
        kind: String,
        #[command(flatten)]
        ids: Identifiers,
        #[command(flatten)]
        who: As,
    },
    /// Change an organisation (approver, admin); its code cannot change. Audited.
    Update {
        /// The organisation's code, as `organisation list` shows it.
        #[arg(long)]
        code: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// vcse, public or private.
        #[arg(long)]
        kind: Option<String>,
        #[command(flatten)]
        ids: Identifiers,
        #[command(flatten)]
        who: As,
    },
}

/// The flag a request field came from: `financial_year` is `--financial-year`, `fy` (the
/// API's path name) too, and `schedule[1].amount` is `--instalment 2 (amount)`.
fn flag(field: &str) -> String {
    if field == "fy" {
        return "--financial-year".to_owned();
    }
    if let Some(rest) = field.strip_prefix("schedule[")
        && let Some((i, part)) = rest.split_once(']')
        && let Ok(i) = i.parse::<usize>()
    {
        return match part.trim_start_matches('.') {
            "" => format!("--instalment {}", i + 1),
            part => format!("--instalment {} ({part})", i + 1),
        };
    }
    if field == "schedule" {
        return "--instalment".to_owned();
    }
    format!("--{}", field.replace('_', "-"))
}

/// A refusal in the CLI's words: every bad field named by its flag.
fn refused(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(errors) => {
            let named: Vec<String> = errors.iter().map(|e| format!("{}: {}", flag(&e.field), e.message)).collect();
            anyhow::anyhow!("{}", named.join("; "))
        }
        AppError::Store(e) => stored(e),
        other => anyhow::anyhow!(other),
    }
}

/// A storage refusal, a field it names given as its flag.
fn stored(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Invalid { field, message } => anyhow::anyhow!("{}: {message}", flag(&field)),
        other => anyhow::anyhow!(other),
    }
}

/// The flags as the route's JSON body, so the route's parser checks them.
fn body(value: Value) -> RawBody {
    RawBody(value.to_string().into_bytes().into())
}

/// `DUE_ON:AMOUNT[:CONDITION]` as a schedule item; the condition may hold colons.
fn instalment(i: usize, text: &str) -> anyhow::Result<Value> {
    let mut parts = text.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(due_on), Some(amount), condition) => {
            Ok(json!({ "due_on": due_on, "amount": amount, "condition": condition.unwrap_or("") }))
        }
        _ => anyhow::bail!(
            "{}: {text:?} must be DUE_ON:AMOUNT or DUE_ON:AMOUNT:CONDITION",
            flag(&format!("schedule[{i}]"))
        ),
    }
}

pub async fn schedule(store: &Store, action: ScheduleAction) -> anyhow::Result<()> {
    match action {
        ScheduleAction::Show { award, who } => {
            signed_in(store, &who, Need::ReadReference).await?;
            let year = cash_routes::award_path(&award.grant, &award.financial_year).map_err(refused)?;
            print(&cash::payment_schedule(store, &award.grant, year).await.map_err(stored)?);
        }
        ScheduleAction::Set { award, instalments, clear, who } => {
            let p = signed_in(store, &who, Need::Approver).await?;
            let year = cash_routes::award_path(&award.grant, &award.financial_year).map_err(refused)?;
            anyhow::ensure!(clear || !instalments.is_empty(), "--instalment: give at least one, or --clear");
            let items = instalments.iter().enumerate().map(|(i, t)| instalment(i, t)).collect::<Result<Vec<_>, _>>()?;
            let schedule = cash_routes::schedule_body(&body(Value::Array(items))).map_err(refused)?;
            let actor = Actor { name: &p.name, idem: None };
            print(&cash::set_payment_schedule(store, &award.grant, year, schedule, actor).await.map_err(stored)?);
        }
    }
    Ok(())
}

/// `receipt` and `repayment`: one entry each, printed with the award's figures after it.
pub async fn record(store: &Store, what: CashMove, args: CashArgs) -> anyhow::Result<()> {
    let p = signed_in(store, &args.who, Need::Finance).await?;
    let cmd = cash_routes::cash_cmd(&body(json!({
        "grant": args.award.grant,
        "financial_year": args.award.financial_year,
        "date": args.date,
        "amount": args.amount,
        "reference": args.reference,
    })))
    .map_err(refused)?;
    print(&cash::record(store, what, cmd, Actor { name: &p.name, idem: None }).await.map_err(stored)?);
    Ok(())
}

/// The identifiers given, as body fields.
fn identifiers(ids: Identifiers, fields: &mut Map<String, Value>) {
    let Identifiers { charity_number, company_number, org_id, postcode } = ids;
    for (name, value) in [
        ("charity_number", charity_number),
        ("company_number", company_number),
        ("org_id", org_id),
        ("postcode", postcode),
    ] {
        if let Some(v) = value {
            fields.insert(name.to_owned(), Value::String(v));
        }
    }
}

pub async fn organisation(store: &Store, action: OrganisationAction) -> anyhow::Result<()> {
    match action {
        OrganisationAction::List { who } => {
            signed_in(store, &who, Need::ReadReference).await?;
            let mut all = Vec::new();
            let mut after = String::new();
            loop {
                let page = reference::list_organisations(store, &after, PAGE_LIMIT_MAX).await?;
                let next = page.next_cursor.is_some();
                all.extend(page.items);
                match (next, all.last()) {
                    (true, Some(last)) => after = last.code.clone(),
                    _ => break,
                }
            }
            print(&all);
        }
        OrganisationAction::Add { code, name, kind, ids, who } => {
            let p = signed_in(store, &who, Need::Approver).await?;
            let mut fields = Map::new();
            fields.insert("code".into(), Value::String(code));
            fields.insert("name".into(), Value::String(name));
            fields.insert("kind".into(), Value::String(kind));
            identifiers(ids, &mut fields);
            let o = reference_routes::organisation_body(&body(Value::Object(fields))).map_err(refused)?;
            print(
                &reference::create_organisation(store, o, Actor { name: &p.name, idem: None }).await.map_err(stored)?,
            );
        }
        OrganisationAction::Update { code, name, kind, ids, who } => {
            let p = signed_in(store, &who, Need::Approver).await?;
            anyhow::ensure!(is_valid_code(&code), "--code: {code:?} is not a valid code");
            let mut fields = Map::new();
            if let Some(name) = name {
                fields.insert("name".into(), Value::String(name));
            }
            if let Some(kind) = kind {
                fields.insert("kind".into(), Value::String(kind));
            }
            identifiers(ids, &mut fields);
            // An update that changes nothing would still write an audit record.
            anyhow::ensure!(
                !fields.is_empty(),
                "organisation update: give a field to change: --name, --kind, --charity-number, --company-number, \
                 --org-id or --postcode"
            );
            let patch = reference_routes::organisation_patch_body(&body(Value::Object(fields))).map_err(refused)?;
            print(&reference::update_organisation(store, &code, patch, &p.name).await.map_err(stored)?);
        }
    }
    Ok(())
}
