//! Parsing request bodies and query strings into domain types, collecting an error for
//! every bad field so the caller learns all of them at once.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use chrono::NaiveDate;

use super::error::{AppError, FieldError};
use crate::domain::{FinancialYear, control_character, is_valid_code, parse_date};
pub use crate::model::fields::{FREE_TEXT_FIELDS, Fields, FromFields, TEXT_LEN_MAX};
use crate::model::page::{List, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, decode_cursor_in};

/// A request body, read but not yet parsed, so the role check can run first.
pub struct RawBody(pub Bytes);

/// A body reads as its bytes, so `Fields::parse(&body)` takes it as it is.
impl std::ops::Deref for RawBody {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl RawBody {
    /// The body parsed as the request type `C`, each bad field named.
    pub fn cmd<C: FromFields>(&self) -> Result<C, AppError> {
        Ok(C::from_fields(Fields::parse(self)?)?)
    }
}

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

/// Where a list page starts and how long it is: the parameters the document shows.
pub type PageParams = super::openapi::PageQuery;

impl Query {
    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError { field: field.to_owned(), message: message.into() });
    }

    /// Refuses a parameter the caller checked itself, naming it.
    pub fn refuse(&mut self, field: &str, message: impl Into<String>) {
        self.error(field, message);
    }

    /// A quarter, 1 to 4; `None` when not given.
    pub fn quarter(&mut self, name: &str) -> Option<u8> {
        let s = self.text(name)?;
        match s.parse::<u8>() {
            Ok(q) if (1..=4).contains(&q) => Some(q),
            _ => {
                self.error(name, "must be 1, 2, 3 or 4");
                Some(0)
            }
        }
    }

    /// A quarter that must be given.
    pub fn required_quarter(&mut self, name: &str) -> u8 {
        self.quarter(name).unwrap_or_else(|| {
            self.error(name, "is required");
            0
        })
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

    /// A date that must be given.
    pub fn required_date(&mut self, name: &str) -> NaiveDate {
        match self.date(name) {
            Some(d) => d,
            None => {
                if !self.errors.iter().any(|e| e.field == name) {
                    self.error(name, "is required");
                }
                NaiveDate::MIN
            }
        }
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

    /// One of a closed set of words (`word_set!`), e.g. `AuditEntity::parse` and its `WORDS`.
    pub fn word<W>(&mut self, name: &str, parse: fn(&str) -> Option<W>, words: &[&str]) -> Option<W> {
        let s = self.text(name)?;
        parse(&s).or_else(|| {
            self.error(name, format!("must be one of: {}", words.join(", ")));
            None
        })
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

    /// An amount of money, zero or more, as a decimal string (`min=100.00`).
    pub fn money(&mut self, name: &str) -> Option<crate::domain::Money> {
        let s = self.text(name)?;
        crate::domain::Money::parse(&s).map_err(|e| self.error(name, e.to_string())).ok()
    }

    /// `limit` and `cursor` of a page of `list`: a cursor it did not give out is refused.
    pub fn page(&mut self, list: List) -> PageParams {
        self.page_in(list, "")
    }

    /// `page` of a list whose cursors are scoped (`model::page::cursor_in`).
    pub fn page_in(&mut self, list: List, scope: &str) -> PageParams {
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
            Some(c) => decode_cursor_in(list, scope, &c).unwrap_or_else(|| {
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
