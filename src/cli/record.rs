//! `grant-ledger allocate|…`: the recording operations from the command line, for scripts.
//! Each command's flags are generated at run time from its request type's schema (the
//! struct the API documents and parses), so a flag cannot differ from a field of the API's
//! body: no flag is written here by hand but the caller's identity. The values go through
//! the request type's own reader (`FromFields`, from text as a form gives them) and the
//! storage operation the API route calls, under the same role rule (`http::auth::Need`).
//! Exit status: 0 recorded, 1 refused for another reason, 2 bad fields, 3 a ledger rule.

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::{Map, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::http::auth::{Auth, Need};
use crate::http::error::AppError;
use crate::model::fields::{Fields, FromFields};
use crate::model::reference::NewProject;
use crate::storage::{Store, controls, operations as ops, reference, tokens, users};

/// The flags of identity, which no request type has: they say who records.
const TOKEN: &str = "token";
const USER: &str = "user";
const PASSWORD_STDIN: &str = "password-stdin";
/// Where `--user`'s password is read from when not from standard input.
const PASSWORD_ENV: &str = "GRANT_LEDGER_PASSWORD";

/// Each recording command: its name, the API route it records as, the request type whose
/// schema gives its flags, what it does, and the help of the id its route's path takes (or
/// `None`). The body is the route's: the role rule of `http::auth::Need`, then `$cmd()`
/// reads the request type from the flags, then the storage operation the route calls;
/// `$auth` is the caller, `$id` the path's id.
macro_rules! recordings {
    ($($op:ident $name:literal $path:literal $ty:ty, $about:literal, $id_help:expr,
        |$store:ident, $auth:ident, $id:ident, $cmd:ident| $run:block)*) => {
        /// A recording command.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Op {
            $($op,)*
        }

        impl Op {
            pub const ALL: &'static [Op] = &[$(Op::$op,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Op::$op => $name,)*
                }
            }

            /// The API route it records through as well (`POST`), whose body is the same type.
            pub fn path(self) -> &'static str {
                match self {
                    $(Op::$op => $path,)*
                }
            }

            fn about(self) -> &'static str {
                match self {
                    $(Op::$op => $about,)*
                }
            }

            /// The help of the id in the route's path, which the command takes as its argument.
            fn id_help(self) -> Option<&'static str> {
                match self {
                    $(Op::$op => $id_help,)*
                }
            }

            /// The request type's schema, as JSON, and the schemas it refers to by name.
            pub fn schema(self) -> (Value, Map<String, Value>) {
                match self {
                    $(Op::$op => schema_of::<$ty>(),)*
                }
            }

            /// What the route does: the role, the fields, the record (as the API's 201 body).
            #[allow(unused_variables)]
            async fn perform(self, store: &Store, auth: &Auth, id: i64, f: Fields) -> Result<Value, AppError> {
                match self {
                    $(Op::$op => {
                        let ($store, $auth, $id) = (store, auth, id);
                        let $cmd = move || <$ty>::from_fields(f);
                        Ok(json($run))
                    })*
                }
            }
        }
    };
}

recordings! {
    Allocate "allocate" "/api/v1/allocations" ops::AllocationCmd,
        "Allocate award money to a project (approver, admin)", None,
        |store, auth, _id, cmd| {
            auth.require(Need::Approver)?;
            ops::allocate(store, cmd()?, auth.actor(&None)).await?
        }
    Project "project" "/api/v1/projects" NewProject,
        "Create a project (approver, admin)", None,
        |store, auth, _id, cmd| {
            auth.require(Need::Approver)?;
            reference::create_project(store, cmd()?.into(), auth.actor(&None)).await?
        }
    Vire "vire" "/api/v1/virements" ops::VirementCmd,
        "Move budget between two projects of one award (approver, admin); above the approval threshold it waits for a second approver", None,
        |store, auth, _id, cmd| {
            auth.require(Need::Approver)?;
            let cmd = cmd()?;
            if cmd.amount > controls::virement_threshold(store).await? {
                controls::propose_virement(store, cmd, auth.actor(&None)).await?
            } else {
                ops::vire(store, cmd, auth.actor(&None)).await?
            }
        }
    Commit "commit" "/api/v1/commitments" ops::PurchaseOrderCmd,
        "Record a commitment: a purchase order (finance, admin)", None,
        |store, auth, _id, cmd| {
            auth.require(Need::Finance)?;
            ops::commit(store, ops::CommitmentRequest::PurchaseOrder(cmd()?).into(), auth.actor(&None)).await?
        }
    Release "release" "/api/v1/commitments/{id}/release" ops::ReleaseCmd,
        "Release what a commitment will not spend (finance, admin)", Some("The commitment's id"),
        |store, auth, id, cmd| {
            auth.require(Need::Finance)?;
            ops::release(store, ops::ReleaseCmd { commitment_id: id, ..cmd()? }, auth.actor(&None)).await?
        }
    Spend "spend" "/api/v1/spend" ops::SpendCmd,
        "Record spend (finance, admin)", None,
        |store, auth, _id, cmd| {
            auth.require(Need::Finance)?;
            ops::spend(store, cmd()?, auth.actor(&None)).await?
        }
    Refund "refund" "/api/v1/refunds" ops::RefundCmd,
        "Record a refund or credit note (finance, admin)", None,
        |store, auth, _id, cmd| {
            auth.require(Need::Finance)?;
            ops::refund(store, cmd()?, auth.actor(&None)).await?
        }
    Reverse "reverse" "/api/v1/entries/{id}/reverse" ops::ReverseCmd,
        "Reverse an entry (the role that records its kind: approver for allocations and virements, finance for commitments, releases, spend and refunds; admin any)",
        Some("The entry's id"),
        |store, auth, id, cmd| {
            // Anyone who may record some kind of entry may ask; the entry's kind decides.
            if !(Need::Finance.allows(auth.0.role) || Need::Approver.allows(auth.0.role)) {
                return Err(AppError::Forbidden);
            }
            auth.require(Need::to_reverse(ops::entry_kind(store, id).await?))?;
            ops::reverse(store, ops::ReverseCmd { entry_id: id, ..cmd()? }, auth.actor(&None)).await?
        }
}

fn json(record: impl serde::Serialize) -> Value {
    serde_json::to_value(record).expect("records serialise")
}

fn schema_of<T: PartialSchema + ToSchema>() -> (Value, Map<String, Value>) {
    let mut refs: Vec<(String, RefOr<Schema>)> = Vec::new();
    T::schemas(&mut refs);
    let components = refs.into_iter().map(|(name, s)| (name, json(s))).collect();
    (json(T::schema()), components)
}

/// One property of a request type, as a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The wire name, as the API's body has it: `financial_year`.
    pub field: String,
    /// `financial-year`, written `--financial-year`.
    pub long: String,
    pub help: String,
    pub required: bool,
    /// A boolean property: a flag without a value.
    pub switch: bool,
}

/// The flags of a recording command, one per property of its request type, in the schema's
/// order.
pub fn flags(op: Op) -> Vec<Flag> {
    let (schema, components) = op.schema();
    let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let Some(properties) = schema["properties"].as_object() else { return Vec::new() };
    properties
        .iter()
        .map(|(field, property)| {
            let required = required.contains(&field.as_str());
            let kind = value_kind(property, &components);
            let described = property["description"].as_str().map(str::trim).filter(|d| !d.is_empty());
            let mut help = match described {
                Some(d) => format!("{} ({kind}).", d.trim_end_matches('.')),
                None => format!("{}: {kind}.", readable(field)),
            };
            if required {
                help.push_str(" [required]");
            }
            Flag { field: field.clone(), long: field.replace('_', "-"), help, required, switch: kind == SWITCH }
        })
        .collect()
}

const SWITCH: &str = "true when given alone, or =false";

/// `financial_year` as "Financial year".
fn readable(field: &str) -> String {
    let words = field.replace('_', " ");
    let mut chars = words.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// What a property's value is, in words: "a code", "an amount like 1500.00".
fn value_kind(property: &Value, components: &Map<String, Value>) -> String {
    // A property may be the schema itself, a reference, or either wrapped for `null` or a
    // description (`oneOf`, `allOf`, `anyOf`): the one part that is not `null` says.
    let parts: Vec<&Value> = ["oneOf", "allOf", "anyOf"]
        .iter()
        .filter_map(|k| property[*k].as_array())
        .flatten()
        .filter(|p| p["type"] != "null")
        .collect();
    if let [one] = parts.as_slice() {
        return value_kind(one, components);
    }
    if let Some(name) = property["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        if let Some(words) = known_kind(name) {
            return words.into();
        }
        return match components.get(name) {
            Some(schema) => value_kind(schema, components),
            None => format!("a {name}"),
        };
    }
    let types: Vec<&str> = match &property["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect(),
        _ => Vec::new(),
    };
    if let Some(words) = property["enum"].as_array() {
        let words: Vec<&str> = words.iter().filter_map(Value::as_str).collect();
        return format!("one of {}", words.join(", "));
    }
    match types.as_slice() {
        ["boolean"] => SWITCH.into(),
        ["integer"] => "a whole number".into(),
        _ => match property["description"].as_str() {
            Some(d) => lower_first(d.trim_end_matches('.')),
            None => "text".into(),
        },
    }
}

/// The value types of `model::wire` and `domain`, by their schema's name, in a few words.
fn known_kind(schema_name: &str) -> Option<&'static str> {
    Some(match schema_name {
        "Code" => "a code",
        "Amount" => "an amount like 1500.00",
        "AmountOrZero" => "an amount, zero or more, like 0.00",
        "Money" => "an amount like 1500.00",
        "Date" => "a date YYYY-MM-DD",
        "DateOrEmpty" => "a date YYYY-MM-DD, or empty",
        "FinancialYear" => "a financial year like 2023-24",
        "YearOrEmpty" => "a financial year like 2023-24, or empty",
        "Instant" => "an instant like 2024-01-10T09:30:00Z",
        "Text" => "one line of text",
        "TextOrEmpty" => "one line of text, may be empty",
        "Prose" => "free text",
        "ProseOrEmpty" => "free text, may be empty",
        _ => return None,
    })
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

/// The clap command of one recording: a flag per property, and the identity flags.
pub fn command(op: Op) -> Command {
    let mut cmd = Command::new(op.name()).about(op.about());
    if let Some(help) = op.id_help() {
        // Checked as the route checks its path, so a bad id is a bad field (exit 2).
        cmd = cmd.arg(Arg::new(ID).required(true).allow_hyphen_values(true).help(help));
    }
    for flag in flags(op) {
        // `id` is the wire name, so the value is found under it again.
        let arg = Arg::new(fixed(&flag.field)).long(fixed(&flag.long)).help(fixed(&flag.help));
        let arg = if flag.switch {
            // `--vat-recoverable` alone is true; `=false` is there for a default of true. The
            // words are the reader's, which refuses any other.
            arg.action(ArgAction::Set)
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("true")
                .value_name("true|false")
        } else {
            // Required fields are checked by the request type's reader, with every other bad
            // field, not by clap one at a time.
            arg.action(ArgAction::Set).value_name(fixed(&flag.field.to_uppercase())).allow_hyphen_values(true)
        };
        cmd = cmd.arg(arg);
    }
    cmd.arg(
        Arg::new(TOKEN)
            .long(TOKEN)
            .env("GRANT_LEDGER_TOKEN")
            .hide_env_values(true)
            .value_name("TOKEN")
            .help("Act as this bearer token of the ledger (or GRANT_LEDGER_TOKEN); its role must allow the recording"),
    )
    .arg(Arg::new(USER).long(USER).value_name("USERNAME").help(
        "Act as this user of the ledger, as signed in to the pages, instead of a token; the password from \
         GRANT_LEDGER_PASSWORD or --password-stdin",
    ))
    .arg(
        Arg::new(PASSWORD_STDIN)
            .long(PASSWORD_STDIN)
            .action(ArgAction::SetTrue)
            .requires(USER)
            .help("Read --user's password from the first line of standard input"),
    )
}

/// Clap (without its `string` feature) takes names and help as `&'static str`; the command
/// is built once a run, so what it keeps is kept for the process.
fn fixed(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}

/// A recording command as parsed: which, its fields as text pairs, and who acts.
#[derive(Debug, Clone)]
pub struct Recording {
    pub op: Op,
    pub pairs: Vec<(String, String)>,
    /// The id the route's path takes, as given.
    id: Option<String>,
    token: Option<String>,
    /// The token was given on the command line, not only in the environment.
    token_given: bool,
    user: Option<String>,
    password_stdin: bool,
}

/// The positional argument of a route's path id.
const ID: &str = "ID";

impl Recording {
    /// The path's id, refused as the API refuses it; 0 where the route takes none.
    fn id(&self) -> Result<i64, AppError> {
        match (self.op.id_help(), &self.id) {
            (None, _) => Ok(0),
            (Some(_), Some(text)) if text.parse::<i64>().is_ok_and(|i| i > 0) => Ok(text.parse().unwrap_or(0)),
            (Some(_), _) => Err(AppError::field(ID, "must be a positive whole number")),
        }
    }
}

impl clap::FromArgMatches for Recording {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let Some((name, sub)) = matches.subcommand() else {
            return Err(clap::Error::new(clap::error::ErrorKind::MissingSubcommand));
        };
        let op = Op::ALL
            .iter()
            .copied()
            .find(|op| op.name() == name)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidSubcommand))?;
        let mut pairs = Vec::new();
        for flag in flags(op) {
            if let Some(value) = sub.get_one::<String>(&flag.field) {
                pairs.push((flag.field.clone(), value.clone()));
            }
        }
        let id = op.id_help().and_then(|_| sub.get_one::<String>(ID).cloned());
        Ok(Recording {
            op,
            pairs,
            id,
            token: sub.get_one::<String>(TOKEN).cloned(),
            token_given: sub.value_source(TOKEN) == Some(clap::parser::ValueSource::CommandLine),
            user: sub.get_one::<String>(USER).cloned(),
            password_stdin: sub.get_flag(PASSWORD_STDIN),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Subcommand for Recording {
    fn augment_subcommands(cmd: Command) -> Command {
        Op::ALL.iter().fold(cmd, |cmd, op| cmd.subcommand(command(*op)))
    }

    fn augment_subcommands_for_update(cmd: Command) -> Command {
        Self::augment_subcommands(cmd)
    }

    fn has_subcommand(name: &str) -> bool {
        Op::ALL.iter().any(|op| op.name() == name)
    }
}

/// Why a recording was not made, as the exit status and the lines for stderr.
struct Refusal {
    status: i32,
    lines: Vec<String>,
}

/// Runs a recording: the record as JSON on stdout, or each reason on stderr; the exit status.
pub async fn run(store: &Store, rec: Recording) -> anyhow::Result<i32> {
    match record(store, &rec).await {
        Ok(record) => {
            println!("{}", serde_json::to_string_pretty(&record)?);
            Ok(0)
        }
        Err(refusal) => {
            for line in refusal.lines {
                eprintln!("{line}");
            }
            Ok(refusal.status)
        }
    }
}

async fn record(store: &Store, rec: &Recording) -> Result<Value, Refusal> {
    let auth = signed_in(store, rec).await?;
    let done = match rec.id() {
        Ok(id) => rec.op.perform(store, &auth, id, Fields::text_pairs(rec.pairs.clone())).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(record) => Ok(record),
        Err(e) => {
            let mut refused = refusal(e).await;
            if refused.status == 2 {
                let flags = flags(rec.op);
                refused.lines = refused.lines.iter().map(|line| as_flag(line, &flags)).collect();
            }
            Err(refused)
        }
    }
}

/// `approved_on: …` as `--approved-on: …`: a bad field named as the flag that gave it
/// (`schedule[0].amount` as `--schedule[0].amount`).
fn as_flag(line: &str, flags: &[Flag]) -> String {
    let field = line.split(": ").next().unwrap_or("");
    let head = field.split(['[', '.']).next().unwrap_or("");
    match flags.iter().find(|f| f.field == head) {
        Some(flag) => format!("--{}{}", flag.long, &line[head.len()..]),
        None => line.to_owned(),
    }
}

/// The caller named by `--user` (with its password) or `--token`, or a refusal naming the
/// flag. A token in the environment gives way to a `--user` on the command line.
async fn signed_in(store: &Store, rec: &Recording) -> Result<Auth, Refusal> {
    let other = |line: String| Refusal { status: 1, lines: vec![line] };
    let (found, unknown) = match (&rec.user, rec.token.as_deref().filter(|t| !t.trim().is_empty())) {
        (Some(_), Some(_)) if rec.token_given => {
            return Err(other("--user: give --user or --token, not both".into()));
        }
        (Some(user), _) => {
            let password = password(rec).map_err(other)?;
            (users::verify(store, user, &password).await, "--user: no such live user, or not that password")
        }
        (None, Some(secret)) => (
            tokens::authenticate(store, secret.trim()).await,
            "--token: is not a token of this ledger, or it was revoked",
        ),
        (None, None) => {
            return Err(other(format!(
                "--token: is required (or GRANT_LEDGER_TOKEN), or --user: say who records `{}`",
                rec.op.name()
            )));
        }
    };
    match found {
        Ok(Some(principal)) => Ok(Auth(principal)),
        Ok(None) => Err(other(unknown.into())),
        Err(e) => Err(refusal(AppError::Store(e)).await),
    }
}

/// `--user`'s password: standard input's first line with `--password-stdin`, else
/// GRANT_LEDGER_PASSWORD. Never a flag's value, which the shell's history and the process
/// list would show.
fn password(rec: &Recording) -> Result<String, String> {
    if rec.password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|e| format!("--password-stdin: {e}"))?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_owned());
    }
    std::env::var(PASSWORD_ENV)
        .map_err(|_| format!("--user: needs its password, from {PASSWORD_ENV} or --password-stdin"))
}

/// An error as the API would answer it, read back from its problem body: bad fields (exit 2)
/// as `field: message` lines, a ledger rule (exit 3) naming its code, anything else exit 1.
async fn refusal(error: AppError) -> Refusal {
    use axum::response::IntoResponse;
    let response = error.into_response();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
    let problem: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let code = problem["code"].as_str().unwrap_or("internal_error");
    let detail = problem["detail"].as_str().unwrap_or("internal error");
    let errors: Vec<String> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| format!("{}: {}", e["field"].as_str().unwrap_or(""), e["message"].as_str().unwrap_or("")))
        .collect();
    if !errors.is_empty() {
        return Refusal { status: 2, lines: errors };
    }
    let line = format!("{code}: {detail}");
    match status.as_u16() {
        // A ledger rule refused it: 409, or 422 without a field (`restricted_fund`).
        409 | 422 => Refusal { status: 3, lines: vec![line] },
        _ => Refusal { status: 1, lines: vec![line] },
    }
}
