//! A request type's fields as a command's flags. Every command that sends what the API takes
//! as a body makes its flags here from the request type's schema (the struct the API
//! documents and parses), a flag per property, and reads the values through the type's own
//! `FromFields`, from text as a form gives them: a flag cannot differ from a field of the
//! API's body, and the CLI refuses what the API refuses, every bad field at once, each named
//! by its flag.

use std::marker::PhantomData;

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use serde_json::{Map, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::status::ReturnKind;
use crate::http::error::AppError;
use crate::model::agreements::{EvidenceCmd, EvidenceReverseCmd};
use crate::model::cash::{CashCmd, NewInstalment};
use crate::model::controls::{CloseYearCmd, RejectVirementCmd, ReopenYearCmd, YearEndCmd};
use crate::model::fields::{FieldError, Fields, FromFields};
use crate::model::partnerships::NewPartnership;
use crate::model::quarters::QuarterLockCmd;
use crate::model::reference::{NewFunder, NewOrganisation, OrganisationPatch};
use crate::model::returns::FileReturnCmd;
use crate::model::tokens::TokenCmd;
use crate::model::users::NewUserCmd;
use crate::storage::StoreError;

/// A request type a command takes as flags, and what the command line does differently.
pub trait Request: FromFields + PartialSchema + ToSchema {
    /// Fields the command takes another way (an argument, a password from standard input),
    /// so they have no flag.
    const ELSEWHERE: &'static [&'static str] = &[];
    /// An earlier spelling of a flag, still accepted: (field, the old flag without `--`).
    const ALIASES: &'static [(&'static str, &'static str)] = &[];
    /// A value the command line gives a field whose flag is left out: (field, value).
    const DEFAULTS: &'static [(&'static str, &'static str)] = &[];
    /// A field the command fills itself when its flag is left out: (field, with what).
    const FILLED: &'static [(&'static str, &'static str)] = &[];
    /// A change (PATCH) whose fields are all text, where `""` clears a field as in the API's
    /// body: the values are read as that body (JSON strings), so an empty one is given.
    /// Otherwise they are read as a form's text, where an empty value is a field not given.
    const EMPTY_CLEARS: bool = false;
}

impl Request for EvidenceCmd {
    const ALIASES: &'static [(&'static str, &'static str)] = &[("amount_evidenced", "amount")];
}
impl Request for EvidenceReverseCmd {}
impl Request for FileReturnCmd {
    const DEFAULTS: &'static [(&'static str, &'static str)] = &[("kind", ReturnKind::CommissionerReturn.as_str())];
}
impl Request for TokenCmd {}
impl Request for NewFunder {}
impl Request for NewPartnership {}
impl Request for CashCmd {}
impl Request for crate::model::funds::FundCmd {}
impl Request for crate::model::funds::ReallocationCmd {}
impl Request for crate::model::funds::PaymentCmd {
    // `--partnership` is the global flag naming the ledger acted on: the partnership paid is
    // the command's argument.
    const ELSEWHERE: &'static [&'static str] = &["partnership"];
}
impl Request for NewInstalment {}
impl Request for NewOrganisation {}
impl Request for OrganisationPatch {
    const EMPTY_CLEARS: bool = true;
}
impl Request for RejectVirementCmd {}
impl Request for CloseYearCmd {}
impl Request for ReopenYearCmd {}
impl Request for QuarterLockCmd {}
impl Request for YearEndCmd {
    const ALIASES: &'static [(&'static str, &'static str)] = &[("return_to_funder", "return")];
}
impl Request for NewUserCmd {
    // The username is the command's argument; the password is never a flag's value, which
    // the shell's history and the process list would show.
    const ELSEWHERE: &'static [&'static str] = &["username", "password"];
    const FILLED: &'static [(&'static str, &'static str)] = &[("display_name", "the username")];
}

/// A type's schema, as JSON, and the schemas it refers to by name.
pub fn schema_of<T: PartialSchema + ToSchema>() -> (Value, Map<String, Value>) {
    let mut refs: Vec<(String, RefOr<Schema>)> = Vec::new();
    T::schemas(&mut refs);
    let components = refs.into_iter().map(|(name, s)| (name, json(s))).collect();
    (json(T::schema()), components)
}

pub fn json(record: impl serde::Serialize) -> Value {
    serde_json::to_value(record).expect("records serialise")
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
    /// An earlier spelling still accepted, without `--`.
    pub alias: Option<&'static str>,
    /// The value given when the flag is left out.
    pub default: Option<&'static str>,
}

/// The flags of a schema, one per property, in the schema's order.
pub fn flags_in(schema: &Value, components: &Map<String, Value>) -> Vec<Flag> {
    let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let Some(properties) = schema["properties"].as_object() else { return Vec::new() };
    properties
        .iter()
        .map(|(field, property)| {
            let required = required.contains(&field.as_str());
            let kind = value_kind(property, components);
            let described = description(property);
            let mut help = match described {
                Some(d) => format!("{} ({kind}).", d.trim_end_matches('.')),
                None => format!("{}: {kind}.", readable(field)),
            };
            if required {
                help.push_str(" [required]");
            }
            Flag {
                field: field.clone(),
                long: field.replace('_', "-"),
                help,
                required,
                switch: kind == SWITCH,
                alias: None,
                default: None,
            }
        })
        .collect()
}

/// The flags of a request type as a command takes them: those it takes another way left
/// out, with the command line's aliases and defaults; a field with a default or filled by
/// the command is not required of the command line.
pub fn flags<T: Request>() -> Vec<Flag> {
    let (schema, components) = schema_of::<T>();
    let looked_up =
        |list: &[(&str, &'static str)], field: &str| list.iter().find(|(f, _)| *f == field).map(|(_, v)| *v);
    flags_in(&schema, &components)
        .into_iter()
        .filter(|flag| !T::ELSEWHERE.contains(&flag.field.as_str()))
        .map(|mut flag| {
            flag.alias = looked_up(T::ALIASES, &flag.field);
            flag.default = looked_up(T::DEFAULTS, &flag.field);
            let filled = looked_up(T::FILLED, &flag.field);
            if flag.required && (flag.default.is_some() || filled.is_some()) {
                flag.required = false;
                flag.help = flag.help.trim_end_matches(" [required]").to_owned();
            }
            if let Some(with) = filled {
                flag.help.push_str(&format!(" [default: {with}]"));
            }
            flag
        })
        .collect()
}

const SWITCH: &str = "true when given alone, or =false";

/// A property's description, or that of the one part that is not `null` where it is
/// wrapped (`oneOf: [null, {$ref, description}]`, as an optional field is).
fn description(property: &Value) -> Option<&str> {
    let own = property["description"].as_str().map(str::trim).filter(|d| !d.is_empty());
    own.or_else(|| match non_null_parts(property).as_slice() {
        [one] => description(one),
        _ => None,
    })
}

/// The parts of a `oneOf`, `allOf` or `anyOf` that are not `null`.
fn non_null_parts(property: &Value) -> Vec<&Value> {
    ["oneOf", "allOf", "anyOf"]
        .iter()
        .filter_map(|k| property[*k].as_array())
        .flatten()
        .filter(|p| p["type"] != "null")
        .collect()
}

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
    if let [one] = non_null_parts(property).as_slice() {
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
        ["integer"] => match (property["minimum"].as_i64(), property["maximum"].as_i64()) {
            (Some(low), Some(high)) => format!("a whole number from {low} to {high}"),
            _ => "a whole number".into(),
        },
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

/// The id a flag's value is found under: apart from any argument a command declares itself.
fn id_of(field: &str) -> String {
    format!("body.{field}")
}

/// The clap argument of one flag.
pub fn arg(flag: &Flag) -> Arg {
    let mut arg = Arg::new(fixed(&id_of(&flag.field))).long(fixed(&flag.long)).help(fixed(&flag.help));
    if let Some(alias) = flag.alias {
        arg = arg.visible_alias(alias);
    }
    if let Some(value) = flag.default {
        arg = arg.default_value(value);
    }
    if flag.switch {
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
    }
}

/// The flags' values given, as the reader's text pairs.
pub fn pairs(flags: &[Flag], matches: &ArgMatches) -> Vec<(String, String)> {
    flags
        .iter()
        .filter_map(|flag| matches.get_one::<String>(&id_of(&flag.field)).map(|v| (flag.field.clone(), v.clone())))
        .collect()
}

/// Clap (without its `string` feature) takes names and help as `&'static str`; a command is
/// built once a run, so what it keeps is kept for the process.
fn fixed(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}

/// A request type's fields as given on the command line, read when the command runs (after
/// the caller's role is checked, as the API checks it first).
pub struct Body<T> {
    pairs: Vec<(String, String)>,
    request: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Body<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A field's value may be a secret (a password): only the names given.
        f.debug_list().entries(self.pairs.iter().map(|(name, _)| name)).finish()
    }
}

impl<T: Request> Body<T> {
    /// Adds a field the command takes another way.
    pub fn with(mut self, field: &str, value: String) -> Self {
        self.pairs.push((field.to_owned(), value));
        self
    }

    /// Whether the command line gave any field.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Whether the command line gave this field.
    pub fn has(&self, field: &str) -> bool {
        self.pairs.iter().any(|(name, _)| name == field)
    }

    /// The request, read by its own reader; every bad field named by its flag.
    pub fn read(self) -> Result<T, BadFields> {
        let fields = if T::EMPTY_CLEARS {
            let body: Map<String, Value> = self.pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            Fields::parse(json(body).to_string().as_bytes()).map_err(named::<T>)?
        } else {
            Fields::text_pairs(self.pairs)
        };
        T::from_fields(fields).map_err(named::<T>)
    }
}

impl<T: Request> FromArgMatches for Body<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Body { pairs: pairs(&flags::<T>(), matches), request: PhantomData })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl<T: Request> Args for Body<T> {
    fn augment_args(cmd: Command) -> Command {
        flags::<T>().iter().fold(cmd, |cmd, flag| cmd.arg(arg(flag)))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

/// Bad fields, each a `--flag: message` line: the command exits 2, as the recording commands
/// do (docs/cli.md).
#[derive(Debug)]
pub struct BadFields(pub Vec<String>);

impl std::fmt::Display for BadFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for BadFields {}

/// `approved_on: …` as `--approved-on: …`: a bad field named as the flag that gave it
/// (`schedule[0].amount` as `--schedule[0].amount`); a field with no flag as it is.
pub fn as_flag(line: &str, flags: &[Flag]) -> String {
    let field = line.split(": ").next().unwrap_or("");
    let head = field.split(['[', '.']).next().unwrap_or("");
    match flags.iter().find(|f| f.field == head) {
        Some(flag) => format!("--{}{}", flag.long, &line[head.len()..]),
        None => line.to_owned(),
    }
}

/// Field errors of a request type, named by its flags.
pub fn named<T: Request>(errors: Vec<FieldError>) -> BadFields {
    let flags = flags::<T>();
    BadFields(errors.iter().map(|e| as_flag(&format!("{}: {}", e.field, e.message), &flags)).collect())
}

/// A refusal of a request of type `T` in the command line's words: a bad field (one the
/// reader or storage names) as its flag, exit 2; anything else as it was.
pub fn refused<T: Request>(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(errors) => named::<T>(errors).into(),
        AppError::Store(e) => stored::<T>(e),
        other => anyhow::anyhow!(other),
    }
}

/// A storage refusal of a request of type `T`, a field it names given as its flag.
pub fn stored<T: Request>(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Invalid { field, message } => named::<T>(vec![FieldError { field, message }]).into(),
        other => anyhow::anyhow!(other),
    }
}
