//! Parsing request bodies and query strings into domain types, collecting an error for
//! every bad field so the caller learns all of them at once.

use std::collections::{BTreeSet, HashMap};

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::error::{AppError, FieldError};
use crate::domain::{FinancialYear, Money, Quantity, control_character, is_valid_code, parse_date};
use crate::model::page::{List, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, decode_cursor};

/// The longest text field accepted, in characters: names, memos, references.
pub const TEXT_LEN_MAX: usize = 2_000;

/// Fields of free prose, which may hold tabs and line breaks. Every other text (codes,
/// names, references, query parameters, path segments) is one line with no control character.
pub const FREE_TEXT_FIELDS: [&str; 6] = ["memo", "reason", "description", "note", "explanation", "rag_reason"];

/// A request body, read but not yet parsed, so the role check can run first.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(b) => Ok(RawBody(b)),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::TooLarge),
            Err(e) => Err(AppError::field("body", e.body_text())),
        }
    }
}

/// A body parsed as JSON, refused (naming each such field) where a key repeats in an object:
/// the value kept would be the last, which is not what a reader of the body sees first.
fn json_body(body: &RawBody, root: &str) -> Result<Value, AppError> {
    let value: Value =
        serde_json::from_slice(&body.0).map_err(|e| AppError::field("body", format!("is not valid JSON: {e}")))?;
    let repeated = super::repeated_keys::repeated_keys(&body.0, root);
    if !repeated.is_empty() {
        return Err(AppError::Validation(
            repeated
                .into_iter()
                .map(|field| FieldError { field, message: "is given more than once; give each field once".into() })
                .collect(),
        ));
    }
    Ok(value)
}

/// Fields of a JSON object body, consumed one by one. Unknown fields are refused: a
/// misspelt optional field must not be silently ignored.
pub struct Fields {
    map: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl Fields {
    pub fn parse(body: &RawBody) -> Result<Fields, AppError> {
        let value = json_body(body, "")?;
        match value {
            Value::Object(map) => Ok(Fields { map, errors: Vec::new() }),
            _ => Err(AppError::field("body", "must be a JSON object")),
        }
    }

    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError { field: field.to_owned(), message: message.into() });
    }

    /// A body that is a JSON array of objects (at most `max`), each read as its own `Fields`;
    /// `finish_list` ends them, naming each bad field `{list}[i].{field}` (from 0).
    pub fn parse_list(body: &RawBody, list: &str, max: usize) -> Result<Vec<Fields>, AppError> {
        let value = json_body(body, list)?;
        let Value::Array(items) = value else { return Err(AppError::field("body", "must be a JSON array")) };
        if items.len() > max {
            return Err(AppError::field(list, format!("must have at most {max} items")));
        }
        let mut out = Vec::with_capacity(items.len());
        let mut errors = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Value::Object(map) => out.push(Fields { map, errors: Vec::new() }),
                _ => errors.push(FieldError { field: format!("{list}[{i}]"), message: "must be a JSON object".into() }),
            }
        }
        if errors.is_empty() { Ok(out) } else { Err(AppError::Validation(errors)) }
    }

    /// Ends the items of `parse_list`, as `finish` ends one.
    pub fn finish_list(list: &str, items: Vec<Fields>) -> Result<(), AppError> {
        let mut errors = Vec::new();
        for (i, f) in items.into_iter().enumerate() {
            if let Err(AppError::Validation(found)) = f.finish() {
                errors.extend(
                    found
                        .into_iter()
                        .map(|e| FieldError { field: format!("{list}[{i}].{}", e.field), message: e.message }),
                );
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(AppError::Validation(errors)) }
    }

    /// A field that is an array of objects (at most `max`), each read as its own `Fields`;
    /// `None` when absent or null. `end_items` folds their errors in as `{name}[i].{field}`.
    pub fn items(&mut self, name: &str, max: usize) -> Option<Vec<Fields>> {
        match self.map.remove(name) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) if items.len() > max => {
                self.error(name, format!("must have at most {max} items"));
                Some(Vec::new())
            }
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Value::Object(map) => out.push(Fields { map, errors: Vec::new() }),
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
            if let Err(AppError::Validation(found)) = item.finish() {
                for e in found {
                    self.error(&format!("{name}[{i}].{}", e.field), e.message);
                }
            }
        }
    }

    /// Refuses `name` if it was given at all (with any value, null included).
    pub fn forbid(&mut self, name: &str, message: &str) {
        if self.map.remove(name).is_some() {
            self.error(name, message);
        }
    }

    /// Refuses a field the caller checked itself, naming it.
    pub fn refuse(&mut self, field: &str, message: impl Into<String>) {
        self.error(field, message);
    }

    /// A string field; `None` when absent or null.
    fn raw_str(&mut self, name: &str) -> Option<String> {
        match self.map.remove(name) {
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

    pub fn opt_code(&mut self, name: &str) -> Option<String> {
        let s = self.raw_str(name)?;
        if !is_valid_code(&s) {
            self.error(name, "must be 1–32 letters, digits, '-' or '_', starting with a letter or digit");
        }
        Some(s)
    }

    /// A positive amount of money, given as a decimal string.
    pub fn money(&mut self, name: &str) -> Money {
        match self.map.remove(name) {
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
        match self.map.get(name) {
            None | Some(Value::Null) => {
                self.map.remove(name);
                None
            }
            Some(_) => Some(self.money_or_zero(name)),
        }
    }

    /// An optional JSON boolean (`true` or `false`, not a string).
    pub fn opt_flag(&mut self, name: &str) -> Option<bool> {
        match self.map.remove(name) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(b),
            Some(_) => {
                self.error(name, "must be true or false");
                None
            }
        }
    }

    /// An amount that may be zero or absent (then zero), e.g. the returned part of a year end.
    pub fn money_or_zero(&mut self, name: &str) -> Money {
        match self.map.remove(name) {
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
        match self.map.remove(name) {
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
        if self.map.get(name).is_none_or(Value::is_null) {
            self.map.remove(name);
            self.missing(name);
            return Money::ZERO;
        }
        self.money_or_zero(name)
    }

    /// A quarter of a financial year: a JSON whole number from 1 to 4 (docs/api.md).
    pub fn quarter(&mut self, name: &str) -> u8 {
        match self.map.remove(name) {
            None | Some(Value::Null) => {
                self.missing(name);
                0
            }
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
        let value = self.map.remove(name);
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
        match self.map.remove(name) {
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
        let value = match self.map.remove(name) {
            None | Some(Value::Null) => {
                self.missing(name);
                return 0;
            }
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(_) => None,
        };
        match value {
            Some(v) if v <= 100 => v as u8,
            _ => {
                self.error(name, "must be a whole percentage from 0 to 100");
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

    /// True when the field was given at all (for PATCH).
    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// True when the field was given with a value (for PATCH). `null` is refused, naming the
    /// field: it would read as neither "leave it" nor a value.
    pub fn has_value(&mut self, name: &str) -> bool {
        if self.map.get(name).is_some_and(Value::is_null) {
            self.map.remove(name);
            self.error(name, "must not be null; leave the field out to keep it");
            return false;
        }
        self.map.contains_key(name)
    }

    /// Ends parsing: any bad field, or any field not consumed, fails the request.
    pub fn finish(mut self) -> Result<(), AppError> {
        let unknown: BTreeSet<String> = self.map.keys().cloned().collect();
        for name in unknown {
            self.error(&name, "is not a field of this request");
        }
        if self.errors.is_empty() { Ok(()) } else { Err(AppError::Validation(self.errors)) }
    }
}

/// A query string as named parameters, with the same one-error-per-field reporting.
pub struct Query {
    params: HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(params) =
            axum::extract::Query::<HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map_err(|e| AppError::field("query", e.body_text()))?;
        // Query parameters are filters and cursors: never free text.
        let mut errors: Vec<FieldError> = params
            .iter()
            .filter_map(|(name, value)| {
                let message =
                    control_character(name, false).or_else(|| control_character(value, false)).or_else(|| {
                        (value.chars().count() > TEXT_LEN_MAX)
                            .then(|| format!("must be at most {TEXT_LEN_MAX} characters"))
                    })?;
                Some(FieldError { field: name.clone(), message })
            })
            .collect();
        // An empty API filter would read as no filter and silently widen the answer. (An
        // HTML form sends its empty fields, so the pages read empty as absent.)
        if parts.uri.path().starts_with("/api/") {
            errors.extend(params.iter().filter(|(_, v)| v.is_empty()).map(|(name, _)| FieldError {
                field: name.clone(),
                message: "must not be empty; leave the parameter out instead".into(),
            }));
        }
        if !errors.is_empty() {
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            return Err(AppError::Validation(errors));
        }
        Ok(Query { params, errors: Vec::new() })
    }
}

/// Refuses a path parameter holding a control character, naming the parameter, before any
/// handler reads it: e.g. `/api/v1/projects/P%00` must not reach the database.
pub async fn refuse_control_in_path(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (mut parts, body) = req.into_parts();
    if let Ok(params) = axum::extract::RawPathParams::from_request_parts(&mut parts, &()).await {
        let errors: Vec<FieldError> = params
            .iter()
            .filter_map(|(name, value)| {
                Some(FieldError { field: name.to_owned(), message: control_character(value, false)? })
            })
            .collect();
        if !errors.is_empty() {
            return AppError::Validation(errors).into_response();
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Where a list page starts and how long it is.
pub struct PageParams {
    pub after: String,
    pub limit: i64,
}

impl PageParams {
    /// The cursor as a numeric id, for lists keyed by id (`decode_cursor` checked its form).
    pub fn after_id(&self) -> i64 {
        self.after.parse().unwrap_or(0)
    }
}

impl Query {
    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError { field: field.to_owned(), message: message.into() });
    }

    pub fn text(&mut self, name: &str) -> Option<String> {
        self.params.remove(name).filter(|s| !s.is_empty())
    }

    pub fn code(&mut self, name: &str) -> Option<String> {
        let s = self.text(name)?;
        if !is_valid_code(&s) {
            self.error(name, "is not a valid code");
        }
        Some(s)
    }

    pub fn year(&mut self, name: &str) -> Option<FinancialYear> {
        let s = self.text(name)?;
        FinancialYear::parse(&s).map_err(|e| self.error(name, e.to_string())).ok()
    }

    pub fn required_year(&mut self, name: &str) -> FinancialYear {
        match self.year(name) {
            Some(y) => y,
            None => {
                if !self.errors.iter().any(|e| e.field == name) {
                    self.error(name, "is required");
                }
                FinancialYear::of(NaiveDate::MIN)
            }
        }
    }

    pub fn date(&mut self, name: &str) -> Option<NaiveDate> {
        let s = self.text(name)?;
        parse_date(&s).or_else(|| {
            self.error(name, "must be a date written YYYY-MM-DD");
            None
        })
    }

    /// An RFC 3339 instant with its offset, e.g. `as_known_at=2024-01-10T09:30:00Z`.
    pub fn instant(&mut self, name: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        let s = self.text(name)?;
        crate::model::known::parse_instant(&s).or_else(|| {
            self.error(name, "must be an RFC 3339 instant with its offset, e.g. 2024-01-10T09:30:00Z");
            None
        })
    }

    /// `as_known_at`, which every report and export takes: the figures as the ledger stood
    /// at that instant.
    pub fn known(&mut self) -> crate::model::known::Known {
        self.instant("as_known_at").map_or(crate::model::known::Known::Now, crate::model::known::Known::At)
    }

    pub fn bool(&mut self, name: &str) -> Option<bool> {
        match self.text(name)?.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                self.error(name, "must be true or false");
                None
            }
        }
    }

    /// `limit` and `cursor` of a page of `list`: a cursor it did not give out is refused.
    pub fn page(&mut self, list: List) -> PageParams {
        let limit = match self.text("limit") {
            None => PAGE_LIMIT_DEFAULT,
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (1..=PAGE_LIMIT_MAX).contains(&n) => n,
                _ => {
                    self.error("limit", format!("must be a whole number from 1 to {PAGE_LIMIT_MAX}"));
                    PAGE_LIMIT_DEFAULT
                }
            },
        };
        let after = match self.text("cursor") {
            None => String::new(),
            Some(c) => decode_cursor(list, &c).unwrap_or_else(|| {
                self.error("cursor", "is not a cursor this list gave out: pass back a next_cursor unchanged");
                String::new()
            }),
        };
        PageParams { after, limit }
    }

    /// Ends parsing: unknown parameters are refused, so a misspelt filter is not ignored.
    pub fn finish(mut self) -> Result<(), AppError> {
        let mut unknown: Vec<String> = self.params.keys().cloned().collect();
        unknown.sort();
        for name in unknown {
            self.error(&name, "is not a parameter of this request");
        }
        if self.errors.is_empty() { Ok(()) } else { Err(AppError::Validation(self.errors)) }
    }
}
