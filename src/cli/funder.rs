//! `grant-ledger schedule|receipt|repayment|organisation`: the funder's cash (docs/cash.md)
//! and organisations from the command line, acting as `--token` under the same role rules as
//! the API. The flags of a receipt, a repayment and an organisation are its request type's
//! (`super::body`); a schedule's instalments go through the route's own parser; each is
//! recorded by the route's storage function, so a value the API refuses is refused here too,
//! and nothing is written. `funder fund|pay|reconciliation`: a funder's funds, shares,
//! reallocations, payments and reconciliation, as its principal, for its own funder.

use clap::{Args, Subcommand};
use serde_json::Value;

use super::body::{self, BadFields, Body};
use super::controls::{As, print, signed_in};
use crate::domain::is_valid_code;
use crate::http::auth::Need;
use crate::http::error::AppError;
use crate::http::input::RawBody;
use crate::http::routes::cash as cash_routes;
use crate::http::routes::funds as fund_routes;
use crate::model::Actor;
use crate::model::cash::{CashCmd, CashMove, NewInstalment};
use crate::model::formats::DataFormat;
use crate::model::funds::{FundCmd, PaymentCmd, ReallocationCmd};
use crate::model::page::PAGE_LIMIT_MAX;
use crate::model::reference::{NewOrganisation, OrganisationPatch};
use crate::storage::{Store, StoreError, cash, funder_payments, funds, reference};

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
        #[arg(long = "instalment", value_name = "DUE_ON:AMOUNT[:CONDITION]", required_unless_present = "clear",
            help = instalment_help())]
        instalments: Vec<String>,
        /// Clear the schedule: an award with no instalments.
        #[arg(long, conflicts_with = "instalments")]
        clear: bool,
        #[command(flatten)]
        who: As,
    },
}

/// A receipt or a repayment: the body of `POST /api/v1/receipts` (and `/repayments`) as flags.
#[derive(Args, Debug)]
pub struct CashArgs {
    #[command(flatten)]
    pub body: Body<CashCmd>,
    #[command(flatten)]
    pub who: As,
}

#[derive(Subcommand, Debug)]
pub enum OrganisationAction {
    /// List organisations, by code.
    List {
        #[command(flatten)]
        who: As,
    },
    /// Add an organisation (approver, admin); audited. As `POST /api/v1/organisations`: its
    /// flags are that body's fields.
    Add {
        #[command(flatten)]
        body: Body<NewOrganisation>,
        #[command(flatten)]
        who: As,
    },
    /// Change an organisation (approver, admin); its code cannot change; an identifier given
    /// as "" is cleared. Audited. As `PATCH /api/v1/organisations/{code}`.
    Update {
        /// The organisation's code, as `organisation list` shows it.
        #[arg(long)]
        code: String,
        #[command(flatten)]
        body: Body<OrganisationPatch>,
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

/// A refusal of a schedule in the CLI's words: every bad field named by its flag (exit 2).
fn refused(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(errors) => {
            BadFields(errors.iter().map(|e| format!("{}: {}", flag(&e.field), e.message)).collect()).into()
        }
        AppError::Store(e) => stored(e),
        other => anyhow::anyhow!(other),
    }
}

/// A storage refusal of a schedule, a field it names given as its flag.
fn stored(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Invalid { field, message } => BadFields(vec![format!("{}: {message}", flag(&field))]).into(),
        other => anyhow::anyhow!(other),
    }
}

/// The instalments as the route's JSON body, so the route's parser checks them.
fn raw(value: Value) -> RawBody {
    RawBody(value.to_string().into_bytes().into())
}

/// The parts of `--instalment`'s value, in order: fields of an instalment of the route's body.
const INSTALMENT_PARTS: [&str; 3] = ["due_on", "amount", "condition"];

/// The help of `--instalment`: each part with the help of its field.
fn instalment_help() -> String {
    let flags = body::flags::<NewInstalment>();
    let parts: Vec<String> = INSTALMENT_PARTS
        .iter()
        .filter_map(|part| flags.iter().find(|f| f.field == *part))
        .map(|f| format!("{}: {}", f.field.to_uppercase(), f.help))
        .collect();
    format!(
        "One instalment, DUE_ON:AMOUNT or DUE_ON:AMOUNT:CONDITION, e.g. \"2024-01-31:12278.80:subject to \
         evaluation\"; repeat for each. {}",
        parts.join(" ")
    )
}

/// `DUE_ON:AMOUNT[:CONDITION]` as a schedule item; the condition may hold colons.
fn instalment(i: usize, text: &str) -> anyhow::Result<Value> {
    let parts: Vec<&str> = text.splitn(INSTALMENT_PARTS.len(), ':').collect();
    if parts.len() < 2 {
        let why =
            format!("{}: {text:?} must be DUE_ON:AMOUNT or DUE_ON:AMOUNT:CONDITION", flag(&format!("schedule[{i}]")));
        return Err(BadFields(vec![why]).into());
    }
    let item = INSTALMENT_PARTS.iter().zip(parts).map(|(field, part)| (field.to_string(), Value::String(part.into())));
    Ok(Value::Object(item.collect()))
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
            if !clear && instalments.is_empty() {
                return Err(BadFields(vec!["--instalment: give at least one, or --clear".into()]).into());
            }
            let items = instalments.iter().enumerate().map(|(i, t)| instalment(i, t)).collect::<Result<Vec<_>, _>>()?;
            let schedule = cash_routes::schedule_body(&raw(Value::Array(items))).map_err(refused)?;
            let actor = Actor { name: &p.name, idem: None };
            print(&cash::set_payment_schedule(store, &award.grant, year, schedule, actor).await.map_err(stored)?);
        }
    }
    Ok(())
}

/// `receipt` and `repayment`: one entry each, printed with the award's figures after it.
pub async fn record(store: &Store, what: CashMove, args: CashArgs) -> anyhow::Result<()> {
    let p = signed_in(store, &args.who, Need::Finance).await?;
    let cmd = args.body.read()?;
    let done = cash::record(store, what, cmd, Actor { name: &p.name, idem: None }).await;
    print(&done.map_err(body::stored::<CashCmd>)?);
    Ok(())
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
        OrganisationAction::Add { body, who } => {
            let p = signed_in(store, &who, Need::Approver).await?;
            let o = body.read()?.into();
            let done = reference::create_organisation(store, o, Actor { name: &p.name, idem: None }).await;
            print(&done.map_err(body::stored::<NewOrganisation>)?);
        }
        OrganisationAction::Update { code, body, who } => {
            let p = signed_in(store, &who, Need::Approver).await?;
            anyhow::ensure!(is_valid_code(&code), "--code: {code:?} is not a valid code");
            // An update that changes nothing would still write an audit record.
            if body.is_empty() {
                let named: Vec<String> =
                    body::flags::<OrganisationPatch>().iter().map(|f| format!("--{}", f.long)).collect();
                anyhow::bail!("organisation update: give a field to change: {}", named.join(", "));
            }
            let patch = body.read()?;
            let done = reference::update_organisation(store, &code, patch, &p.name).await;
            print(&done.map_err(body::stored::<OrganisationPatch>)?);
        }
    }
    Ok(())
}

/// `funder fund …`: a funder's funds and the partnerships' shares, acting as a
/// `funder_admin`'s `--token` for its own funder (reading, a `funder`'s too). The flags of a
/// fund and a reallocation are their request types'; the shares go through the route's own
/// parser, and each is recorded by the route's storage function.
#[derive(Subcommand, Debug)]
pub enum FundAction {
    /// Declare the funder's fund of one of its grants for a year (funder_admin); audited. As
    /// `POST /api/v1/funder/funds`.
    Add {
        #[command(flatten)]
        body: Body<FundCmd>,
        #[command(flatten)]
        who: As,
    },
    /// A fund with its shares, their total and how far they go over it.
    Show {
        #[command(flatten)]
        fund: WhichAward,
        #[command(flatten)]
        who: As,
    },
    /// Set a fund's shares whole (funder_admin): a partnership left out has none. The home
    /// partnership's share becomes its award. As `PUT /api/v1/funder/funds/{grant}/{fy}/shares`.
    Shares {
        #[command(flatten)]
        fund: WhichAward,
        /// One share, PARTNERSHIP:AMOUNT, e.g. "TAM:61394"; repeat for each.
        #[arg(long = "share", value_name = "PARTNERSHIP:AMOUNT", required = true)]
        shares: Vec<String>,
        #[command(flatten)]
        who: As,
    },
    /// Move money from one partnership's share to another's (funder_admin); audited on both
    /// sides. As `POST /api/v1/funder/reallocations`.
    Reallocate {
        #[command(flatten)]
        body: Body<ReallocationCmd>,
        #[command(flatten)]
        who: As,
    },
}

/// `funder pay`: the body of `POST /api/v1/funder/payments` as flags.
#[derive(Args, Debug)]
pub struct PayArgs {
    /// The partnership paid, by code (one the funder funds).
    pub partnership: String,
    #[command(flatten)]
    pub body: Body<PaymentCmd>,
    #[command(flatten)]
    pub who: As,
}

/// `funder reconciliation`: what the funder paid against what was received, for a year.
#[derive(Args, Debug)]
pub struct ReconciliationArgs {
    /// e.g. 2022-23.
    #[arg(long)]
    pub financial_year: String,
    /// `json` (the default) or `csv` (the rows).
    #[arg(long, default_value = "json")]
    pub format: String,
    #[command(flatten)]
    pub who: As,
}

/// The funder a funder's principal belongs to, once its role may do `need`.
async fn funders(store: &Store, who: &As, need: Need) -> anyhow::Result<(String, String)> {
    let p = signed_in(store, who, need).await?;
    // The home partnership's admin reads its funder's reports, as the API answers it.
    let home = if need == Need::FunderReports { funds::home_funder(store).await? } else { None };
    let funder = p.funder.clone().or(home);
    let funder = funder.ok_or_else(|| anyhow::anyhow!("the {} role acts for no funder", p.role.as_str()))?;
    Ok((funder, p.name))
}

/// `PARTNERSHIP:AMOUNT` as a share of the route's body.
fn share_item(i: usize, text: &str) -> anyhow::Result<Value> {
    let Some((partnership, amount)) = text.split_once(':') else {
        return Err(BadFields(vec![format!("--share {}: {text:?} must be PARTNERSHIP:AMOUNT", i + 1)]).into());
    };
    Ok(serde_json::json!({ "partnership": partnership, "amount": amount }))
}

/// A refusal of a fund's shares or path in the CLI's words: `shares[1].amount` is
/// `--share 2 (amount)`.
fn share_refused(e: AppError) -> anyhow::Error {
    let flag = |field: &str| match field.strip_prefix("shares[").and_then(|r| r.split_once(']')) {
        Some((i, part)) => match (i.parse::<usize>(), part.trim_start_matches('.')) {
            (Ok(i), "") => format!("--share {}", i + 1),
            (Ok(i), part) => format!("--share {} ({part})", i + 1),
            _ => format!("--{}", field.replace('_', "-")),
        },
        None if field == "shares" => "--share".to_owned(),
        None if field == "fy" => "--financial-year".to_owned(),
        None => format!("--{}", field.replace('_', "-")),
    };
    match e {
        AppError::Validation(errors) => {
            BadFields(errors.iter().map(|e| format!("{}: {}", flag(&e.field), e.message)).collect()).into()
        }
        AppError::Store(StoreError::Invalid { field, message }) => {
            BadFields(vec![format!("{}: {message}", flag(&field))]).into()
        }
        AppError::Store(e) => anyhow::anyhow!(e),
        other => anyhow::anyhow!(other),
    }
}

pub async fn fund(store: &Store, action: FundAction) -> anyhow::Result<()> {
    match action {
        FundAction::Add { body, who } => {
            let (funder, name) = funders(store, &who, Need::FunderAdmin).await?;
            let cmd = body.read()?;
            let done = funds::create_fund(store, &funder, cmd, Actor { name: &name, idem: None }).await;
            print(&done.map_err(body::stored::<FundCmd>)?);
        }
        FundAction::Show { fund, who } => {
            let (funder, _) = funders(store, &who, Need::FunderReports).await?;
            let year = fund_routes::fund_path(&fund.grant, &fund.financial_year).map_err(share_refused)?;
            print(&funds::get_fund(store, &funder, &fund.grant, year).await?);
        }
        FundAction::Shares { fund, shares, who } => {
            let (funder, name) = funders(store, &who, Need::FunderAdmin).await?;
            let year = fund_routes::fund_path(&fund.grant, &fund.financial_year).map_err(share_refused)?;
            let items = shares.iter().enumerate().map(|(i, t)| share_item(i, t)).collect::<Result<Vec<_>, _>>()?;
            let items = fund_routes::shares_body(&raw(Value::Array(items))).map_err(share_refused)?;
            let today = crate::http::routes::reports::today();
            let actor = Actor { name: &name, idem: None };
            let done = funds::set_shares(store, &funder, (&fund.grant, year), items, today, actor).await;
            print(&done.map_err(|e| share_refused(AppError::Store(e)))?);
        }
        FundAction::Reallocate { body, who } => {
            let (funder, name) = funders(store, &who, Need::FunderAdmin).await?;
            let cmd = body.read()?;
            let done = funds::reallocate(store, &funder, cmd, Actor { name: &name, idem: None }).await;
            print(&done.map_err(body::stored::<ReallocationCmd>)?);
        }
    }
    Ok(())
}

/// `funder pay`: a payment the funder made to a partnership it funds.
pub async fn pay(store: &Store, args: PayArgs) -> anyhow::Result<()> {
    let (funder, name) = funders(store, &args.who, Need::FunderAdmin).await?;
    let cmd = args.body.with("partnership", args.partnership).read()?;
    let done = funder_payments::record_payment(store, &funder, cmd, Actor { name: &name, idem: None }).await;
    print(&done.map_err(body::stored::<PaymentCmd>)?);
    Ok(())
}

/// `funder reconciliation`: the JSON of `GET /api/v1/funder/reconciliation`, or its CSV.
pub async fn reconciliation(store: &Store, args: ReconciliationArgs) -> anyhow::Result<()> {
    let (funder, _) = funders(store, &args.who, Need::FunderReports).await?;
    let year = super::controls::year(&args.financial_year)?;
    let format = DataFormat::given(Some(&args.format)).map_err(|e| BadFields(vec![format!("--format: {e}")]))?;
    let r = crate::reports::reconciliation::run(store, &funder, year).await?;
    match format {
        DataFormat::Json => print(&r),
        DataFormat::Csv => {
            let rows = crate::reports::reconciliation::csv_rows(&r);
            let csv = crate::reports::csv_out::write(&crate::reports::reconciliation::CSV_HEADER, &rows, false);
            print!("{}", String::from_utf8(csv)?);
        }
    }
    Ok(())
}
