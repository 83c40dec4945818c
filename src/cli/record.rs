//! `grant-ledger allocate|…`: the recording operations from the command line, for scripts.
//! Each command's flags are generated at run time from its request type's schema (the
//! struct the API documents and parses), so a flag cannot differ from a field of the API's
//! body: no flag is written here by hand but the caller's identity. The values go through
//! the request type's own reader (`FromFields`, from text as a form gives them) and the
//! storage operation the API route calls, under the same role rule (`http::auth::Need`).
//! Exit status: 0 recorded, 1 refused for another reason, 2 bad fields, 3 a ledger rule.

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::{Map, Value};

use super::body::{self, Flag, as_flag, flags_in, json, schema_of};
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

/// The flags of a recording command, one per property of its request type, in the schema's
/// order.
pub fn flags(op: Op) -> Vec<Flag> {
    let (schema, components) = op.schema();
    flags_in(&schema, &components)
}

/// The clap command of one recording: a flag per property, and the identity flags.
pub fn command(op: Op) -> Command {
    let mut cmd = Command::new(op.name()).about(op.about());
    if let Some(help) = op.id_help() {
        // Checked as the route checks its path, so a bad id is a bad field (exit 2).
        cmd = cmd.arg(Arg::new(ID).required(true).allow_hyphen_values(true).help(help));
    }
    for flag in flags(op) {
        cmd = cmd.arg(body::arg(&flag));
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
        let pairs = body::pairs(&flags(op), sub);
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
        // The API's one gate: the operator, or a funder not funding this ledger, reaches nothing.
        Ok(Some(principal)) => match crate::http::auth::ledger_refusal(&principal) {
            Some(refused) => Err(refusal(refused).await),
            None => Ok(Auth(principal)),
        },
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
