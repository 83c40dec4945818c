//! Reading a request into its one request type, collecting an error for every bad field so
//! the caller learns all of them at once. The same reader serves a JSON body, an HTML form
//! and the CLI's flags: a form's and the CLI's values are all text, so `Fields::text_pairs`
//! reads numbers and flags from their written form and an empty value as not given.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::{FinancialYear, Money, Quantity, control_character, is_valid_code, parse_date};

/// A field that was missing, malformed or out of range.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = FieldProblem)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// A request type (`FromFields`): the struct the contract documents (it derives `ToSchema` or `IntoParams`)
/// and what `read` fills from the caller's fields. `tests` in this module hold each one's
/// documented fields to the fields it reads.
pub trait FromFields: Sized {
    fn read(f: &mut Fields) -> Self;

    /// Reads a whole request: every bad field, and every field it does not know, refused at once.
    fn from_fields(mut f: Fields) -> Result<Self, Vec<FieldError>> {
        let out = Self::read(&mut f);
        f.finish()?;
        Ok(out)
    }
}

/// The longest text field accepted, in characters: names, memos, references.
pub const TEXT_LEN_MAX: usize = 2_000;

/// Fields of free prose, which may hold tabs and line breaks. Every other text (codes,
/// names, references, query parameters, path segments) is one line with no control character.
pub const FREE_TEXT_FIELDS: [&str; 6] = ["memo", "reason", "description", "note", "explanation", "rag_reason"];

/// A body parsed as JSON, refused (naming each such field) where a key repeats in an object:
/// the value kept would be the last, which is not what a reader of the body sees first.
fn json_body(body: &[u8], root: &str) -> Result<Value, Vec<FieldError>> {
    let value: Value = serde_json::from_slice(body).map_err(|e| refused("body", format!("is not valid JSON: {e}")))?;
    let repeated = super::repeated_keys::repeated_keys(body, root);
    if !repeated.is_empty() {
        return Err(repeated
            .into_iter()
            .map(|field| FieldError { field, message: "is given more than once; give each field once".into() })
            .collect());
    }
    Ok(value)
}

/// Fields of a JSON object body, consumed one by one. Unknown fields are refused: a
/// misspelt optional field must not be silently ignored.
pub struct Fields {
    map: Map<String, Value>,
    errors: Vec<FieldError>,
    /// Every value is text (an HTML form, the CLI's flags): numbers and flags are read from
    /// their written form, and an empty value is a field not given.
    text: bool,
    read: BTreeSet<String>,
}

/// The highest row index a form's `list[i].field` may name, plus one: more rows than any
/// list a request takes, and a bound on what one name can make the reader build.
pub const ITEM_INDEX_MAX: usize = 100;

/// `schedule[2].amount` → `("schedule", 2, "amount")`.
fn item_name(name: &str) -> Option<(&str, usize, &str)> {
    let (list, rest) = name.split_once('[')?;
    let (index, field) = rest.split_once("].")?;
    let plain = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !plain(list)
        || !plain(field)
        || index.is_empty()
        || index.len() > 6
        || !index.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some((list, index.parse().ok()?, field))
}

/// A refusal naming one field.
pub fn refused(field: &str, message: impl Into<String>) -> Vec<FieldError> {
    vec![FieldError { field: field.to_owned(), message: message.into() }]
}

impl Fields {
    pub fn parse(body: &[u8]) -> Result<Fields, Vec<FieldError>> {
        let value = json_body(body, "")?;
        match value {
            Value::Object(map) => Ok(Fields { map, errors: Vec::new(), text: false, read: BTreeSet::new() }),
            _ => Err(refused("body", "must be a JSON object")),
        }
    }

    /// Takes a field's value, noting that the request reads it.
    fn take(&mut self, name: &str) -> Option<Value> {
        self.note(name);
        self.map.remove(name)
    }

    fn peek(&mut self, name: &str) -> Option<&Value> {
        self.note(name);
        self.map.get(name)
    }

    fn note(&mut self, name: &str) {
        if !self.read.contains(name) {
            self.read.insert(name.to_owned());
        }
    }

    /// Every field name the request has asked for: `tests` holds it to the documented ones.
    pub fn names_read(&self) -> &BTreeSet<String> {
        &self.read
    }

    /// Fields that are all text, as an HTML form or the CLI gives them. An empty value is a
    /// field not given; a name given twice is refused, as in a JSON body.
    /// A name `list[i].field` is field `field` of the `i`th object (from 0) of the array
    /// `list`, as a JSON body would give it, so `items` reads a form's rows unchanged. A row
    /// with every value empty is not given: trailing ones are dropped, and one between given
    /// rows stays as an empty object, refused for what it lacks.
    pub fn text_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Fields {
        let mut map = Map::new();
        let mut errors = Vec::new();
        let mut seen = BTreeSet::new();
        let mut lists: std::collections::BTreeMap<String, Vec<Map<String, Value>>> = Default::default();
        for (name, value) in pairs {
            if !seen.insert(name.clone()) {
                if !errors.iter().any(|e: &FieldError| e.field == name) {
                    errors.push(FieldError {
                        field: name,
                        message: "is given more than once; give each field once".into(),
                    });
                }
                continue;
            }
            if let Some((list, i, field)) = item_name(&name) {
                if i >= ITEM_INDEX_MAX {
                    errors.push(FieldError {
                        field: name.clone(),
                        message: format!("names an item past the {ITEM_INDEX_MAX}th"),
                    });
                } else if !value.is_empty() {
                    let rows = lists.entry(list.to_owned()).or_default();
                    if rows.len() <= i {
                        rows.resize_with(i + 1, Map::new);
                    }
                    rows[i].insert(field.to_owned(), Value::String(value));
                }
                continue;
            }
            if !value.is_empty() {
                map.insert(name, Value::String(value));
            }
        }
        for (list, rows) in lists {
            if map.contains_key(&list) {
                errors
                    .push(FieldError { field: list, message: "is given both whole and as rows; give it once".into() });
            } else {
                map.insert(list, Value::Array(rows.into_iter().map(Value::Object).collect()));
            }
        }
        Fields { map, errors, text: true, read: BTreeSet::new() }
    }

    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError { field: field.to_owned(), message: message.into() });
    }

    /// A body that is a JSON array of objects (at most `max`), each read as its own `Fields`;
    /// `finish_list` ends them, naming each bad field `{list}[i].{field}` (from 0).
    pub fn parse_list(body: &[u8], list: &str, max: usize) -> Result<Vec<Fields>, Vec<FieldError>> {
        let value = json_body(body, list)?;
        let Value::Array(items) = value else { return Err(refused("body", "must be a JSON array")) };
        if items.len() > max {
            return Err(refused(list, format!("must have at most {max} items")));
        }
        let mut out = Vec::with_capacity(items.len());
        let mut errors = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Value::Object(map) => out.push(Fields { map, errors: Vec::new(), text: false, read: BTreeSet::new() }),
                _ => errors.push(FieldError { field: format!("{list}[{i}]"), message: "must be a JSON object".into() }),
            }
        }
        if errors.is_empty() { Ok(out) } else { Err(errors) }
    }

    /// Ends the items of `parse_list`, as `finish` ends one.
    pub fn finish_list(list: &str, items: Vec<Fields>) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        for (i, f) in items.into_iter().enumerate() {
            if let Err(found) = f.finish() {
                errors.extend(
                    found
                        .into_iter()
                        .map(|e| FieldError { field: format!("{list}[{i}].{}", e.field), message: e.message }),
                );
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// A field that is an array of objects (at most `max`), each read as its own `Fields`;
    /// `None` when absent or null. `end_items` folds their errors in as `{name}[i].{field}`.
    pub fn items(&mut self, name: &str, max: usize) -> Option<Vec<Fields>> {
        match self.take(name) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) if items.len() > max => {
                self.error(name, format!("must have at most {max} items"));
                Some(Vec::new())
            }
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Value::Object(map) => {
                            out.push(Fields { map, errors: Vec::new(), text: self.text, read: BTreeSet::new() })
                        }
                        _ => self.error(&format!("{name}[{i}]"), "must be a JSON object"),
                    }
                }
                Some(out)
            }
            Some(_) => {
                self.error(name, "must be an array of objects");
                Some(Vec::new())
            }
        }
    }

    /// Ends the items of `items`, keeping each bad field's error under `{name}[i]`.
    pub fn end_items(&mut self, name: &str, items: Vec<Fields>) {
        for (i, item) in items.into_iter().enumerate() {
            if let Err(found) = item.finish() {
                for e in found {
                    self.error(&format!("{name}[{i}].{}", e.field), e.message);
                }
            }
        }
    }

    /// Refuses `name` if it was given at all (with any value, null included).
    pub fn forbid(&mut self, name: &str, message: &str) {
        if self.take(name).is_some() {
            self.error(name, message);
        }
    }

    /// Refuses a field the caller checked itself, naming it.
    pub fn refuse(&mut self, field: &str, message: impl Into<String>) {
        self.error(field, message);
    }

    /// A string field; `None` when absent or null.
    fn raw_str(&mut self, name: &str) -> Option<String> {
        match self.take(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.chars().count() > TEXT_LEN_MAX => {
                self.error(name, format!("must be at most {TEXT_LEN_MAX} characters"));
                None
            }
            Some(Value::String(s)) => match control_character(&s, FREE_TEXT_FIELDS.contains(&name)) {
                Some(message) => {
                    self.error(name, message);
                    None
                }
                None => Some(s),
            },
            Some(_) => {
                self.error(name, "must be a string");
                None
            }
        }
    }

    /// A required, non-blank string.
    pub fn text(&mut self, name: &str) -> String {
        match self.raw_str(name) {
            Some(s) if !s.trim().is_empty() => s,
            Some(_) => {
                self.error(name, "must not be blank");
                String::new()
            }
            None => {
                self.missing(name);
                String::new()
            }
        }
    }

    fn missing(&mut self, name: &str) {
        if !self.errors.iter().any(|e| e.field == name) {
            self.error(name, "is required");
        }
    }

    /// An optional string, empty when absent.
    pub fn text_or_empty(&mut self, name: &str) -> String {
        self.raw_str(name).unwrap_or_default()
    }

    pub fn opt_text(&mut self, name: &str) -> Option<String> {
        self.raw_str(name).filter(|s| !s.is_empty())
    }

    /// A code: letters, digits, `-` and `_`.
    pub fn code(&mut self, name: &str) -> String {
        let s = self.text(name);
        if !s.is_empty() && !is_valid_code(&s) {
            self.error(name, "must be 1–32 letters, digits, '-' or '_', starting with a letter or digit");
        }
        s
    }

    /// An ONS area code, e.g. `E07000199`.
    pub fn area_code(&mut self, name: &str) -> String {
        let s = self.text(name);
        if !s.is_empty() && !crate::domain::org::is_area_code(&s) {
            self.error(name, "must be an ONS area code: a letter (E, W, S, N or K) and eight digits, e.g. E07000199");
        }
        s
    }

    pub fn opt_code(&mut self, name: &str) -> Option<String> {
        let s = self.raw_str(name)?;
        if !is_valid_code(&s) {
            self.error(name, "must be 1–32 letters, digits, '-' or '_', starting with a letter or digit");
        }
        Some(s)
    }

    /// A positive amount of money, given as a decimal string.
    pub fn money(&mut self, name: &str) -> Money {
        match self.take(name) {
            None | Some(Value::Null) => {
                self.missing(name);
                Money::ZERO
            }
            Some(Value::String(s)) => Money::parse_positive(&s).unwrap_or_else(|e| {
                self.error(name, e.to_string());
                Money::ZERO
            }),
            Some(Value::Number(_)) => {
                self.error(name, "must be a decimal string like \"1500.00\", not a JSON number");
                Money::ZERO
            }
            Some(_) => {
                self.error(name, "must be a decimal string like \"1500.00\"");
                Money::ZERO
            }
        }
    }

    /// An optional amount, zero or more: `None` when absent or null.
    pub fn opt_money(&mut self, name: &str) -> Option<Money> {
        match self.peek(name) {
            None | Some(Value::Null) => {
                self.take(name);
                None
            }
            Some(_) => Some(self.money_or_zero(name)),
        }
    }

    /// An optional JSON boolean (`true` or `false`, not a string).
    pub fn opt_flag(&mut self, name: &str) -> Option<bool> {
        match self.take(name) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(b),
            // A checkbox sends `on` when ticked and nothing when not.
            Some(Value::String(s)) if self.text && matches!(s.as_str(), "true" | "on" | "yes") => Some(true),
            Some(Value::String(s)) if self.text && matches!(s.as_str(), "false" | "off" | "no") => Some(false),
            Some(_) => {
                self.error(name, "must be true or false");
                None
            }
        }
    }

    /// An amount that may be zero or absent (then zero), e.g. the returned part of a year end.
    pub fn money_or_zero(&mut self, name: &str) -> Money {
        match self.take(name) {
            Some(Value::String(s)) => Money::parse(&s).unwrap_or_else(|e| {
                self.error(name, e.to_string());
                Money::ZERO
            }),
            None | Some(Value::Null) => Money::ZERO,
            Some(_) => {
                self.error(name, "must be a decimal string like \"1500.00\"");
                Money::ZERO
            }
        }
    }

    pub fn date(&mut self, name: &str) -> NaiveDate {
        let s = self.text(name);
        if s.is_empty() {
            return NaiveDate::MIN;
        }
        parse_date(&s).unwrap_or_else(|| {
            self.error(name, "must be a date written YYYY-MM-DD");
            NaiveDate::MIN
        })
    }

    pub fn year(&mut self, name: &str) -> FinancialYear {
        let s = self.text(name);
        if s.is_empty() {
            return FinancialYear::of(NaiveDate::MIN);
        }
        FinancialYear::parse(&s).unwrap_or_else(|e| {
            self.error(name, e.to_string());
            FinancialYear::of(NaiveDate::MIN)
        })
    }

    /// One of a fixed set of words.
    pub fn one_of(&mut self, name: &str, allowed: &[&str], default: Option<&str>) -> String {
        let s = match (self.raw_str(name), default) {
            (Some(s), _) => s,
            (None, Some(d)) => return d.to_owned(),
            (None, None) => {
                self.missing(name);
                return String::new();
            }
        };
        if !allowed.contains(&s.as_str()) {
            self.error(name, format!("must be one of: {}", allowed.join(", ")));
        }
        s
    }

    /// One of a closed set of words (a status, a rule), typed. When refused the error is
    /// recorded and the default (or the first word) stands in; the request is refused anyway.
    pub fn word<T: Copy + std::fmt::Display>(&mut self, name: &str, all: &[T], default: Option<T>) -> T {
        let words: Vec<String> = all.iter().map(T::to_string).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let default_word = default.map(|d| d.to_string());
        let given = self.one_of(name, &words, default_word.as_deref());
        all.iter().copied().find(|w| w.to_string() == given).or(default).unwrap_or(all[0])
    }

    pub fn opt_id(&mut self, name: &str) -> Option<i64> {
        match self.take(name) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_i64().is_some_and(|i| i > 0) => n.as_i64(),
            Some(Value::String(s)) if s.parse::<i64>().is_ok_and(|i| i > 0) => s.parse().ok(),
            Some(_) => {
                self.error(name, "must be a positive whole number");
                None
            }
        }
    }

    /// An amount that may be zero, but must be given.
    pub fn money_zero_ok(&mut self, name: &str) -> Money {
        if self.peek(name).is_none_or(Value::is_null) {
            self.take(name);
            self.missing(name);
            return Money::ZERO;
        }
        self.money_or_zero(name)
    }

    /// A quarter of a financial year: a JSON whole number from 1 to 4 (docs/api.md).
    pub fn quarter(&mut self, name: &str) -> u8 {
        match self.take(name) {
            None | Some(Value::Null) => {
                self.missing(name);
                0
            }
            Some(Value::String(s)) if self.text => match s.trim().parse::<u8>() {
                Ok(q) if (1..=4).contains(&q) => q,
                _ => {
                    self.error(name, "must be a number from 1 to 4");
                    0
                }
            },
            // JSON Schema's `integer` takes `3.0` as well as `3`, and so does the parser.
            Some(Value::Number(n)) => {
                match n.as_u64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as u64)) {
                    Some(q) if (1..=4).contains(&q) => q as u8,
                    _ => {
                        self.error(name, "must be a number from 1 to 4");
                        0
                    }
                }
            }
            Some(_) => {
                self.error(name, "must be a number from 1 to 4");
                0
            }
        }
    }

    /// A quantity (not money): a decimal string, by `Quantity::parse`.
    pub fn quantity(&mut self, name: &str) -> Quantity {
        let value = self.take(name);
        self.quantity_of(name, value)
    }

    fn quantity_of(&mut self, name: &str, value: Option<Value>) -> Quantity {
        match value {
            None | Some(Value::Null) => {
                self.missing(name);
                Quantity::ZERO
            }
            Some(Value::String(s)) => Quantity::parse(&s).unwrap_or_else(|e| {
                self.error(name, e.to_string());
                Quantity::ZERO
            }),
            Some(Value::Number(_)) => {
                self.error(name, "must be a decimal string like \"12.5\", not a JSON number");
                Quantity::ZERO
            }
            Some(_) => {
                self.error(name, "must be a decimal string like \"12.5\"");
                Quantity::ZERO
            }
        }
    }

    /// Exactly four quantities, Q1 to Q4; a bad one is named `name[i]`.
    pub fn quarter_quantities(&mut self, name: &str) -> [Quantity; 4] {
        let mut out = [Quantity::ZERO; 4];
        match self.take(name) {
            None | Some(Value::Null) => self.missing(name),
            Some(Value::Array(items)) if items.len() == 4 => {
                for (i, item) in items.into_iter().enumerate() {
                    out[i] = self.quantity_of(&format!("{name}[{i}]"), Some(item));
                }
            }
            Some(_) => self.error(name, "must be an array of four decimal strings, Q1 to Q4"),
        }
        out
    }

    /// A whole percentage, 0 to 100, given as a JSON number or a string.
    pub fn percent(&mut self, name: &str) -> u8 {
        self.whole(name, 100, "must be a whole percentage from 0 to 100") as u8
    }

    /// A whole number from 0 to `max`, given as a JSON number or a string (a setting's days).
    pub fn whole_up_to(&mut self, name: &str, max: u16) -> u16 {
        self.whole(name, max, &format!("must be a whole number from 0 to {max}"))
    }

    /// A whole number from 0 to `max`, given as a JSON number or a string; refused with
    /// `message` otherwise.
    fn whole(&mut self, name: &str, max: u16, message: &str) -> u16 {
        let value = match self.take(name) {
            None | Some(Value::Null) => {
                self.missing(name);
                return 0;
            }
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(_) => None,
        };
        match value.and_then(|v| u16::try_from(v).ok()).filter(|v| *v <= max) {
            Some(v) => v,
            None => {
                self.error(name, message);
                0
            }
        }
    }

    /// An optional identifier of a fixed shape, `""` when absent or empty. `shape` answers the
    /// value as stored (e.g. a postcode in capitals), or `None` when it is not the shape,
    /// which is then refused naming the field and `what` it should be.
    pub fn shaped(&mut self, name: &str, shape: impl Fn(&str) -> Option<String>, what: &str) -> String {
        let s = self.text_or_empty(name);
        if s.is_empty() {
            return s;
        }
        shape(&s).unwrap_or_else(|| {
            self.error(name, format!("must be {what}, or empty"));
            String::new()
        })
    }

    /// True when no field at all was given: a form's row left blank.
    pub fn is_blank(&self) -> bool {
        self.map.is_empty()
    }

    /// True when the field was given at all (for PATCH).
    pub fn has(&mut self, name: &str) -> bool {
        self.peek(name).is_some()
    }

    /// True when the field was given with a value (for PATCH). `null` is refused, naming the
    /// field: it would read as neither "leave it" nor a value.
    pub fn has_value(&mut self, name: &str) -> bool {
        if self.peek(name).is_some_and(Value::is_null) {
            self.take(name);
            self.error(name, "must not be null; leave the field out to keep it");
            return false;
        }
        self.peek(name).is_some()
    }

    /// Ends parsing: any bad field, or any field not consumed, fails the request.
    pub fn finish(mut self) -> Result<(), Vec<FieldError>> {
        let unknown: BTreeSet<String> = self.map.keys().cloned().collect();
        for name in unknown {
            self.error(&name, "is not a field of this request");
        }
        if self.errors.is_empty() { Ok(()) } else { Err(self.errors) }
    }
}

/// Holds a request type's documented fields to the fields it reads: what its schema calls
/// required is exactly what an empty request is refused for, and every documented field,
/// and no other, is read. `Err` says where they part.
pub fn agrees<T: FromFields>(schema: &utoipa::openapi::RefOr<utoipa::openapi::Schema>) -> Result<(), String> {
    agrees_in_forms::<T>(&[(schema.clone(), serde_json::json!({}))])
}

/// As `agrees`, for a request of several forms (an untagged `oneOf`) chosen by some fields'
/// values: each form is its schema and the fields that choose it. Given only those, a
/// request is refused for what the form requires less them; each form's fields are read
/// when it is chosen; and no field outside every form is read.
pub fn agrees_in_forms<T: FromFields>(
    forms: &[(utoipa::openapi::RefOr<utoipa::openapi::Schema>, Value)],
) -> Result<(), String> {
    use utoipa::openapi::{RefOr, Schema};
    let mut all_documented = BTreeSet::new();
    let mut all_read = BTreeSet::new();
    for (schema, choosing) in forms {
        let RefOr::T(Schema::Object(object)) = schema else { return Err("its schema is not an object".into()) };
        let Value::Object(chosen) = choosing else { return Err("a form is chosen by an object".into()) };
        let documented: BTreeSet<String> = object.properties.keys().cloned().collect();
        let required: BTreeSet<String> =
            object.required.iter().filter(|name| !chosen.contains_key(*name)).cloned().collect();

        let mut empty = Fields::parse(choosing.to_string().as_bytes()).expect("an object parses");
        T::read(&mut empty);
        all_read.extend(empty.names_read().iter().cloned());
        // A form may say why it requires a field ("is required for a grant agreement").
        let missing: BTreeSet<String> = empty
            .finish()
            .err()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.message.starts_with("is required"))
            .map(|e| e.field)
            .collect();
        if missing != required {
            return Err(format!("an empty request is refused for {missing:?}, but the schema requires {required:?}"));
        }
        for name in &documented {
            let mut body = chosen.clone();
            body.insert(name.clone(), serde_json::json!({ "not": "a value" }));
            let mut f = Fields::parse(Value::Object(body).to_string().as_bytes()).expect("an object parses");
            T::read(&mut f);
            all_read.extend(f.names_read().iter().cloned());
            let errors = f.finish().err().unwrap_or_default();
            if errors.iter().any(|e| &e.field == name && e.message == "is not a field of this request") {
                return Err(format!("`{name}` is documented but not read"));
            }
        }
        all_documented.extend(documented);
    }
    let undocumented: Vec<&String> = all_read.difference(&all_documented).collect();
    if !undocumented.is_empty() {
        return Err(format!("{undocumented:?} are read but not documented"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::agreements::AgreementPart;

    fn pairs(p: &[(&str, &str)]) -> Fields {
        Fields::text_pairs(p.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    fn parts(f: &mut Fields) -> Option<Vec<AgreementPart>> {
        let mut items = f.items("schedule", 10)?;
        let parts = items.iter_mut().map(AgreementPart::read).collect();
        f.end_items("schedule", items);
        Some(parts)
    }

    #[test]
    fn a_forms_rows_read_as_the_array_a_json_body_gives() {
        let mut f = pairs(&[
            ("schedule[1].amount", "250.00"),
            ("schedule[0].financial_year", "2023-24"),
            ("schedule[0].amount", "1000"),
            ("schedule[1].financial_year", "2024-25"),
            ("schedule[2].financial_year", ""),
            ("schedule[2].amount", ""),
        ]);
        let got = parts(&mut f).expect("given");
        f.finish().unwrap();
        assert_eq!(got.len(), 2, "the blank last row is not given");
        assert_eq!(got[0].financial_year.to_string(), "2023-24");
        assert_eq!(got[0].amount.to_string(), "1000.00");
        assert_eq!(got[1].financial_year.to_string(), "2024-25");
        assert_eq!(got[1].amount.to_string(), "250.00");

        // Every row blank: not given at all.
        let mut f = pairs(&[("schedule[0].financial_year", ""), ("schedule[0].amount", "")]);
        assert!(parts(&mut f).is_none());
        f.finish().unwrap();
    }

    #[test]
    fn a_bad_row_is_named_by_its_index_and_field() {
        // A blank row between two given is refused for what it lacks; a bad value is named.
        let mut f = pairs(&[
            ("schedule[0].financial_year", "2023-24"),
            ("schedule[0].amount", "-1"),
            ("schedule[2].financial_year", "2025-26"),
            ("schedule[2].amount", "5"),
            ("schedule[2].colour", "red"),
        ]);
        parts(&mut f);
        let mut fields: Vec<String> = f.finish().unwrap_err().into_iter().map(|e| e.field).collect();
        fields.sort();
        assert_eq!(
            fields,
            ["schedule[0].amount", "schedule[1].amount", "schedule[1].financial_year", "schedule[2].colour"]
        );
    }

    #[test]
    fn a_row_name_past_the_bound_or_beside_the_whole_list_is_refused() {
        let f = pairs(&[("schedule[100].amount", "5")]);
        let e = f.finish().unwrap_err();
        assert_eq!(e[0].field, "schedule[100].amount");
        let mut f = pairs(&[("schedule", "x"), ("schedule[0].amount", "5")]);
        f.items("schedule", 10);
        let e = f.finish().unwrap_err();
        assert!(e.iter().any(|e| e.field == "schedule" && e.message.contains("both")), "{e:?}");
        // Names that only look like rows stay plain fields, refused as unknown.
        for name in ["schedule[].amount", "[0].amount", "schedule[x].amount", "schedule[0]."] {
            let e = pairs(&[(name, "5")]).finish().unwrap_err();
            assert_eq!(e[0].field, name);
            assert_eq!(e[0].message, "is not a field of this request");
        }
    }

    #[test]
    fn a_rows_flags_are_read_as_a_forms_text() {
        let mut f = pairs(&[("rows[0].ok", "on")]);
        let mut items = f.items("rows", 10).unwrap();
        assert_eq!(items[0].opt_flag("ok"), Some(true));
        f.end_items("rows", items);
        f.finish().unwrap();
    }
}
