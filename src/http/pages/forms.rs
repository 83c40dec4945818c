//! The recording forms: one page per recording, each drawn from and parsed into the
//! operation's one request type, so a form and the API cannot disagree (docs/api.md, "Pages:
//! forms").
//!
//! `GET /NAME/new` draws the form from `T`'s schema: one field per property, in the order of
//! `T::LABELS`, its input kind from the property's value schema (`model::wire`), `required`
//! where the schema requires it, the value schema's description as hint text, and choices from
//! the ledger where the field names reference data (`choices_for`). `POST /NAME` checks the
//! session's `csrf_token` (`csrf::CsrfForm`), the role (`T::NEED`, as the API route), reads the
//! pairs with `Fields::text_pairs` into `T::from_fields`, and records with `T::record` as the
//! signed-in person. Success is 303 to the record's page; a refusal is the form again with the
//! values kept, an error summary (`role="alert"`) linking to each field, each field's message
//! beside it (`id="FIELD-error"`, named by the input's `aria-describedby`), and a ledger rule's
//! figures (what is unallocated or available, the entry a duplicate repeats).
//!
//! Adding a form (e.g. virements, request type `VirementCmd`):
//! 1. `impl RecordForm for VirementCmd` here (or beside the type's other HTTP code): `NAME`
//!    (the API collection, `"virements"`), `TITLE`, `NEED` (the API route's `Need`), `LABELS`
//!    (every property of the schema, in the order shown, with its label; the test
//!    `every_form_labels_every_field_it_shows` holds you to it) and `record` (the storage
//!    operation the API route calls, returning the path of the record's page).
//! 2. Two handlers in this file, each a line, with their `#[utoipa::path]` (copy the
//!    allocation's pair and change the path, the type and the words), registered in `routes`.
//! 3. A link to `/NAME/new` where a person would look for it (`record_links`).
//! 4. Tests beside `tests/api/forms.rs`'s: a good post, a bad one, a rule refusal.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde_json::Value;
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::csrf::{CsrfForm, Refused};
use super::{NoSession, Session, page_response, percent_encode};
use crate::http::AppState;
use crate::http::auth::Need;
use crate::http::error::AppError;
use crate::model::Actor;
use crate::model::fields::{FieldError, Fields, FromFields};
use crate::model::page::PAGE_LIMIT_MAX;
use crate::model::postings::AllocationCmd;
use crate::model::wire;
use crate::storage::{Store, StoreError, operations as ops, reference};

/// A request type that has a recording form.
pub trait RecordForm: FromFields + ToSchema + Send + 'static {
    /// The API collection: the form is `GET /NAME/new`, posting to `POST /NAME`.
    const NAME: &'static str;
    /// The page's heading, e.g. "Record an allocation".
    const TITLE: &'static str;
    /// The role the API route needs.
    const NEED: Need;
    /// Every field the form shows, in order, with its label.
    const LABELS: &'static [(&'static str, &'static str)];

    /// Records it as `actor`, answering the path of the record's page.
    fn record(self, store: &Store, actor: Actor<'_>) -> impl Future<Output = Result<String, StoreError>> + Send;
}

impl RecordForm for AllocationCmd {
    const NAME: &'static str = "allocations";
    const TITLE: &'static str = "Record an allocation";
    const NEED: Need = Need::Approver;
    const LABELS: &'static [(&'static str, &'static str)] = &[
        ("grant", "Grant"),
        ("financial_year", "Financial year"),
        ("project", "Project"),
        ("amount", "Amount (£)"),
        ("approved_on", "Approved on"),
        ("approval_ref", "Approval reference"),
        ("memo", "Memo"),
    ];

    async fn record(self, store: &Store, actor: Actor<'_>) -> Result<String, StoreError> {
        let r = ops::allocate(store, self, actor).await?;
        Ok(format!("/entries/{}", r.entry_id))
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(allocation_form)).routes(routes!(allocation_post))
}

/// The links to every recording form, for the dashboard.
pub fn record_links() -> Markup {
    html! {
        nav class="noprint record-menu" aria-label="Record" {
            "Record: "
            a id="record-allocations" href="/allocations/new" { "an allocation" }
        }
    }
}

/// The form to allocate award money to a project (`POST /api/v1/allocations`'s body).
///
/// Roles: approver, admin, signed in with the session cookie `gl_session`; without a live
/// session, 303 to `/sign-in`.
#[utoipa::path(get, path = "/allocations/new", tag = "pages", security(()),
    responses((status = 200, description = "The form.", body = String, content_type = "text/html"),
        (status = 303, description = "No live session: to `/sign-in`, then back."),
        (status = 403, description = "The session's role may not allocate: a page saying so.")))]
async fn allocation_form(State(s): State<AppState>, who: Result<Session, NoSession>) -> Response {
    new_page::<AllocationCmd>(&s, who).await
}

/// Allocate award money to a project, from the form: the fields of `AllocationBody` as text,
/// and `csrf_token`.
///
/// Roles: approver, admin, signed in with the session cookie `gl_session`; without a live
/// session, 303 to `/sign-in`.
#[utoipa::path(post, path = "/allocations", tag = "pages", security(()),
    request_body(content = AllocationCmd, content_type = "application/x-www-form-urlencoded",
        description = "The fields of `AllocationBody`, all as text (empty is not given), and `csrf_token`."),
    responses((status = 303, description = "Allocated: to the entry's page `/entries/{id}`; or, without a live session, to `/sign-in`."),
        (status = 403, description = "No valid `csrf_token` for this session, posted from another origin, or a role that may not allocate: a page saying so; nothing is changed."),
        (status = 404, description = "No such grant, award, financial year or project: the form again, saying so.", body = String, content_type = "text/html"),
        (status = 409, description = "Refused by a ledger rule (`over_allocation`, `period_closed` …): the form again, with the rule's figures.", body = String, content_type = "text/html"),
        (status = 422, description = "A bad field: the form again, with the values kept and each problem beside its field.", body = String, content_type = "text/html")))]
async fn allocation_post(
    State(s): State<AppState>,
    who: Result<Session, NoSession>,
    form: Result<CsrfForm, Refused>,
) -> Response {
    post::<AllocationCmd>(&s, who, form).await
}

/// A missing session goes to sign-in and back to the form (never to the POST's address).
fn signed_in<T: RecordForm>(who: Result<Session, NoSession>) -> Result<Session, Box<Response>> {
    match who {
        Ok(who) => Ok(who),
        Err(NoSession::Redirect(_)) => {
            let back = percent_encode(&format!("/{}/new", T::NAME));
            Err(Box::new(Redirect::to(&format!("/sign-in?next={back}")).into_response()))
        }
        Err(e) => Err(Box::new(e.into_response())),
    }
}

/// `GET /NAME/new`.
pub async fn new_page<T: RecordForm>(s: &AppState, who: Result<Session, NoSession>) -> Response {
    let Session(principal, token) = match signed_in::<T>(who) {
        Ok(who) => who,
        Err(r) => return *r,
    };
    if !T::NEED.allows(principal.role) {
        return AppError::Forbidden.into_response();
    }
    match render::<T>(s, &principal.name, &token, &[], &Refusal::default()).await {
        Ok(page) => page_response(StatusCode::OK, page),
        Err(e) => e.into_response(),
    }
}

/// `POST /NAME`.
/// The session is looked at first: without one there is no token to check, and the person
/// is sent to sign in.
pub async fn post<T: RecordForm>(
    s: &AppState,
    who: Result<Session, NoSession>,
    form: Result<CsrfForm, Refused>,
) -> Response {
    let Session(principal, token) = match signed_in::<T>(who) {
        Ok(who) => who,
        Err(r) => return *r,
    };
    let form = match form {
        Ok(CsrfForm(form)) => form,
        Err(refused) => return refused.into_response(),
    };
    if !T::NEED.allows(principal.role) {
        return AppError::Forbidden.into_response();
    }
    let pairs = form.pairs().to_vec();
    let refusal = match T::from_fields(Fields::text_pairs(pairs.clone())) {
        Err(errors) => Refusal::of(AppError::Validation(errors)).await,
        Ok(cmd) => match cmd.record(&s.store, Actor { name: &principal.name, idem: None }).await {
            Ok(path) => return Redirect::to(&path).into_response(),
            Err(e) => Refusal::of(AppError::Store(e)).await,
        },
    };
    // Not the person's to correct (busy, a fault): the error page.
    let refusal = match refusal {
        Ok(r) => r,
        Err(page) => return page,
    };
    let status = refusal.status;
    match render::<T>(s, &principal.name, &token, &pairs, &refusal).await {
        Ok(page) => page_response(status, page),
        Err(e) => e.into_response(),
    }
}

/// Why a form came back: the answer's status, each field's messages, the problems that name
/// no field of the form, and a ledger rule's figures.
#[derive(Default)]
pub struct Refusal {
    status: StatusCode,
    fields: BTreeMap<String, Vec<String>>,
    general: Vec<String>,
    /// The problem's extra members (`unallocated`, `available`, `duplicate_of` …).
    extra: serde_json::Map<String, Value>,
    code: String,
}

impl Refusal {
    /// Reads the API's own answer to `error`, so the form says what the API says; that
    /// answer itself (an error page) when it is not a refusal a person corrects on the form
    /// (busy, a fault).
    async fn of(error: AppError) -> Result<Refusal, Response> {
        let response = error.into_response();
        let status = response.status();
        if ![StatusCode::UNPROCESSABLE_ENTITY, StatusCode::CONFLICT, StatusCode::NOT_FOUND].contains(&status) {
            return Err(response);
        }
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap_or_default();
        let mut problem = match serde_json::from_slice(&bytes) {
            Ok(Value::Object(p)) => p,
            _ => serde_json::Map::new(),
        };
        let mut r = Refusal { status, ..Refusal::default() };
        let errors: Vec<FieldError> = problem
            .remove("errors")
            .and_then(|e| e.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| {
                Some(FieldError { field: e["field"].as_str()?.to_owned(), message: e["message"].as_str()?.to_owned() })
            })
            .collect();
        for e in errors {
            r.fields.entry(e.field).or_default().push(e.message);
        }
        if r.fields.is_empty() {
            r.general.push(problem.get("detail").and_then(Value::as_str).unwrap_or("refused").to_owned());
        }
        r.code = problem.get("code").and_then(Value::as_str).unwrap_or_default().to_owned();
        for k in ["type", "title", "status", "detail", "code"] {
            problem.remove(k);
        }
        r.extra = problem;
        Ok(r)
    }

    fn extra_text(&self, name: &str) -> Option<&str> {
        self.extra.get(name).and_then(Value::as_str)
    }
}

/// How a field is entered.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Line,
    Money,
    Date,
    Prose,
    Flag,
    Words(Vec<String>),
}

/// One field of a form, from its property in the request type's schema.
#[derive(Debug)]
struct Field {
    name: String,
    label: String,
    required: bool,
    hint: Option<String>,
    kind: Kind,
}

/// The value schema a property names (`$ref`, perhaps inside `oneOf`/`allOf` for an optional one).
fn ref_name(property: &Value) -> Option<String> {
    if let Some(r) = property.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().map(str::to_owned);
    }
    ["oneOf", "allOf", "anyOf"]
        .iter()
        .filter_map(|k| property.get(*k).and_then(Value::as_array))
        .flatten()
        .find_map(ref_name)
}

/// The description of a value schema of `model::wire`, as the field's hint.
fn value_description(name: &str) -> Option<String> {
    let schema = match name {
        "Amount" => wire::Amount::schema(),
        "AmountOrZero" => wire::AmountOrZero::schema(),
        "Code" => wire::Code::schema(),
        "Text" => wire::Text::schema(),
        "TextOrEmpty" => wire::TextOrEmpty::schema(),
        "Prose" => wire::Prose::schema(),
        "ProseOrEmpty" => wire::ProseOrEmpty::schema(),
        "Date" => wire::IsoDate::schema(),
        "DateOrEmpty" => wire::DateOrEmpty::schema(),
        "FinancialYear" => crate::domain::FinancialYear::schema(),
        "YearOrEmpty" => wire::YearOrEmpty::schema(),
        "OrgId" => wire::OrgId::schema(),
        "Quantity" => crate::domain::Quantity::schema(),
        _ => return None,
    };
    serde_json::to_value(schema).ok()?.get("description").and_then(Value::as_str).map(str::to_owned)
}

fn kind_of(property: &Value) -> Kind {
    let words = |v: &Value| -> Option<Vec<String>> {
        let e = v.get("enum")?.as_array()?;
        Some(e.iter().filter_map(Value::as_str).map(str::to_owned).collect())
    };
    if let Some(w) = words(property) {
        return Kind::Words(w);
    }
    let types = match property.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    if types.iter().any(|t| t == "boolean") {
        return Kind::Flag;
    }
    match ref_name(property).as_deref() {
        Some("Amount" | "AmountOrZero" | "Money") => Kind::Money,
        Some("Date" | "DateOrEmpty") => Kind::Date,
        Some("Prose" | "ProseOrEmpty") => Kind::Prose,
        _ if property.get("format").and_then(Value::as_str) == Some("date") => Kind::Date,
        _ => Kind::Line,
    }
}

/// `approval_ref` → `Approval ref`.
fn readable(name: &str) -> String {
    super::html::capitalised(&name.replace('_', " "))
}

/// The fields of `T`'s form: those of `T::LABELS` first, in its order, then any other.
fn fields_of<T: RecordForm>() -> Vec<Field> {
    let schema = serde_json::to_value(<T as PartialSchema>::schema()).unwrap_or_default();
    let properties = schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let required: Vec<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut names: Vec<String> =
        T::LABELS.iter().map(|(n, _)| (*n).to_owned()).filter(|n| properties.contains_key(n)).collect();
    names.extend(properties.keys().filter(|k| !names.contains(k)).cloned().collect::<Vec<_>>());
    names
        .into_iter()
        .map(|name| {
            let property = &properties[&name];
            let hint = property
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| ref_name(property).and_then(|r| value_description(&r)));
            Field {
                label: T::LABELS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or_else(|| readable(&name), |(_, l)| (*l).to_owned()),
                required: required.contains(&name.as_str()),
                hint,
                kind: kind_of(property),
                name,
            }
        })
        .collect()
}

/// The reference data a field names, offered as choices: (value, what it is).
async fn choices_for(s: &AppState, field: &str) -> Result<Vec<(String, String)>, AppError> {
    let store = &s.store;
    Ok(match field {
        "grant" => reference::list_grants(store, "", PAGE_LIMIT_MAX)
            .await?
            .items
            .into_iter()
            .map(|g| (g.code, g.name))
            .collect(),
        "project" | "from_project" | "to_project" => reference::list_projects(store, "", PAGE_LIMIT_MAX)
            .await?
            .items
            .into_iter()
            .map(|p| (p.code, p.name))
            .collect(),
        "financial_year" => reference::list_financial_years(store, "", PAGE_LIMIT_MAX)
            .await?
            .items
            .into_iter()
            .map(|y| (y.code.clone(), format!("{} to {}", y.start_date, y.end_date)))
            .collect(),
        "recipient" | "organisation" => reference::list_organisations(store, "", PAGE_LIMIT_MAX)
            .await?
            .items
            .into_iter()
            .map(|o| (o.code, o.name))
            .collect(),
        _ => Vec::new(),
    })
}

/// The form, blank or again with `pairs` kept and `refusal` shown.
async fn render<T: RecordForm>(
    s: &AppState,
    signed_in_as: &str,
    token: &str,
    pairs: &[(String, String)],
    refusal: &Refusal,
) -> Result<String, AppError> {
    let fields = fields_of::<T>();
    let mut choices = BTreeMap::new();
    for f in &fields {
        let c = choices_for(s, &f.name).await?;
        if !c.is_empty() {
            choices.insert(f.name.clone(), c);
        }
    }
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let shown: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    let label_of =
        |name: &str| fields.iter().find(|f| f.name == name).map_or_else(|| readable(name), |f| f.label.clone());
    let failed = refusal.status != StatusCode::default();
    let body = html! {
        (super::html::masthead(T::TITLE, signed_in_as))
        main class="form-page" {
            @if failed {
                div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                    h2 id="error-summary-title" { "There is a problem" }
                    ul {
                        @for (field, messages) in &refusal.fields {
                            @for m in messages {
                                li {
                                    @if shown.contains(&field.as_str()) {
                                        a href={ "#" (field) } { (label_of(field)) ": " (m) }
                                    } @else {
                                        (field) ": " (m)
                                    }
                                }
                            }
                        }
                        @for m in &refusal.general { li { (m) } }
                    }
                    (rule_figures(refusal))
                    p { "Nothing was recorded. Correct the form and send it again." }
                }
            }
            form method="post" action={ "/" (T::NAME) } novalidate {
                (super::csrf::hidden_input(token))
                @for f in fields.iter().filter(|f| shows(f, refusal, value(&f.name))) {
                    (field_html(f, value(&f.name), refusal.fields.get(&f.name), choices.get(&f.name)))
                }
                button type="submit" { (T::TITLE) }
            }
        }
    };
    Ok(super::html::page(&format!("{} · grant-ledger", T::TITLE), body))
}

/// Fields that confirm what a rule refused, each with the problem code that asks for it:
/// shown only with that refusal, or when the person has ticked it.
const CONFIRMATIONS: &[(&str, &str)] = &[("duplicate_of_entry_ok", "duplicate")];

fn shows(f: &Field, refusal: &Refusal, value: &str) -> bool {
    match CONFIRMATIONS.iter().find(|(name, _)| *name == f.name) {
        Some((_, code)) => refusal.code == *code || !value.is_empty(),
        None => true,
    }
}

/// A ledger rule's figures, from the API's problem members.
fn rule_figures(r: &Refusal) -> Markup {
    let money = |name: &str| {
        r.extra_text(name)
            .and_then(|t| crate::domain::Money::parse_signed(t).ok())
            .map(super::dashboard::pounds)
            .unwrap_or_default()
    };
    html! {
        @match r.code.as_str() {
            "over_allocation" => {
                dl class="figures" id="rule-figures" {
                    dt { "Unallocated" } dd id="figure-unallocated" { (money("unallocated")) }
                    dt { "Asked for" } dd id="figure-requested" { (money("requested")) }
                }
            }
            "overspend" => {
                dl class="figures" id="rule-figures" {
                    dt { "Available to " (r.extra_text("project").unwrap_or("the project")) }
                    dd id="figure-available" { (money("available")) }
                    dt { "Asked for" } dd id="figure-requested" { (money("requested")) }
                    dt { "Short by" } dd id="figure-shortfall" { (money("shortfall")) }
                }
            }
            "duplicate" => {
                @if let Some(id) = r.extra.get("duplicate_of").and_then(Value::as_i64) {
                    p { "It repeats " a id="duplicate-of" href={ "/entries/" (id) } { "entry " (id) } "." }
                }
            }
            _ => {
                @if let Some(date) = r.extra_text("as_at") { p { "It would break the ledger as at " (date) "." } }
                @if let (Some(y), Some(q)) = (r.extra_text("financial_year"), r.extra.get("quarter")) {
                    p { "Quarter " (q) " of " (y) " is locked." }
                }
            }
        }
    }
}

fn field_html(f: &Field, value: &str, errors: Option<&Vec<String>>, choices: Option<&Vec<(String, String)>>) -> Markup {
    let name = f.name.as_str();
    let error_id = format!("{name}-error");
    let hint_id = format!("{name}-hint");
    let mut described = Vec::new();
    if errors.is_some() {
        described.push(error_id.clone());
    }
    if f.hint.is_some() {
        described.push(hint_id.clone());
    }
    let described = (!described.is_empty()).then(|| described.join(" "));
    let invalid = errors.map(|_| "true");
    let list = choices.map(|_| format!("{name}-choices"));
    html! {
        div class={ "field" @if errors.is_some() { " field-error" } } {
            @if f.kind == Kind::Flag {
                input id=(name) name=(name) type="checkbox" checked[value == "on" || value == "true"]
                    aria-describedby=[described.as_deref()] aria-invalid=[invalid];
                label for=(name) { (f.label) }
            } @else {
                label for=(name) {
                    (f.label)
                    @if f.required { " " span class="required" { "(required)" } } @else { " " span class="optional" { "(optional)" } }
                }
            }
            @if let Some(h) = &f.hint { p class="hint" id=(hint_id) { (h) } }
            @if let Some(es) = errors { p class="error" id=(error_id) { (es.join("; ")) } }
            @match &f.kind {
                Kind::Flag => {}
                Kind::Prose => {
                    textarea id=(name) name=(name) rows="3" required[f.required]
                        aria-describedby=[described.as_deref()] aria-invalid=[invalid] { (value) }
                }
                Kind::Words(words) => {
                    select id=(name) name=(name) required[f.required]
                        aria-describedby=[described.as_deref()] aria-invalid=[invalid] {
                        @if !f.required { option value="" selected[value.is_empty()] { "—" } }
                        @for w in words { option value=(w) selected[value == w] { (w) } }
                        @if !value.is_empty() && !words.iter().any(|w| w == value) {
                            option value=(value) selected { (value) }
                        }
                    }
                }
                kind => {
                    input id=(name) name=(name) value=(value)
                        type=(if *kind == Kind::Date { "date" } else { "text" })
                        inputmode=[(*kind == Kind::Money).then_some("decimal")]
                        list=[list.as_deref()]
                        required[f.required] autocomplete="off"
                        aria-describedby=[described.as_deref()] aria-invalid=[invalid];
                }
            }
            @if let (Some(list), Some(cs)) = (&list, choices) {
                datalist id=(list) {
                    @for (code, what) in cs { option value=(code) { (code) " — " (what) } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labelled<T: RecordForm>() -> Result<(), String> {
        let schema = serde_json::to_value(<T as PartialSchema>::schema()).unwrap();
        let properties: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        let labelled: Vec<&str> = T::LABELS.iter().map(|(n, _)| *n).collect();
        let unlabelled: Vec<_> = properties.iter().filter(|p| !labelled.contains(&p.as_str())).collect();
        let stale: Vec<_> = labelled.iter().filter(|l| !properties.iter().any(|p| p == *l)).collect();
        if unlabelled.is_empty() && stale.is_empty() {
            Ok(())
        } else {
            Err(format!("{}: unlabelled {unlabelled:?}, not fields {stale:?}", T::NAME))
        }
    }

    /// `LABELS` sets the order a person reads the fields in: every field is in it.
    #[test]
    fn every_form_labels_every_field_it_shows() {
        labelled::<AllocationCmd>().unwrap();
    }

    #[test]
    fn the_allocation_form_reads_its_kinds_from_the_schema() {
        let fields = fields_of::<AllocationCmd>();
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["grant", "financial_year", "project", "amount", "approved_on", "approval_ref", "memo"]);
        let by = |n: &str| fields.iter().find(|f| f.name == n).unwrap();
        assert_eq!(by("amount").kind, Kind::Money);
        assert_eq!(by("approved_on").kind, Kind::Date);
        assert_eq!(by("memo").kind, Kind::Prose);
        assert_eq!(by("grant").kind, Kind::Line);
        assert!(by("grant").required && by("amount").required && !by("memo").required);
        assert!(by("grant").hint.as_deref().is_some_and(|h| h.starts_with("A code")), "{:?}", by("grant").hint);
        assert_eq!(by("approval_ref").label, "Approval reference");
    }

    #[test]
    fn a_field_shows_its_error_beside_it_and_keeps_its_value_escaped() {
        let f = Field {
            name: "memo".into(),
            label: "Memo".into(),
            required: false,
            hint: Some("Free.".into()),
            kind: Kind::Line,
        };
        let errors = vec!["is bad".to_owned()];
        let html = field_html(&f, "<script>x</script>\"", Some(&errors), None).into_string();
        assert!(html.contains(r#"<p class="error" id="memo-error">is bad</p>"#), "{html}");
        assert!(html.contains(r#"aria-describedby="memo-error memo-hint""#), "{html}");
        assert!(html.contains(r#"aria-invalid="true""#), "{html}");
        assert!(html.contains(r#"value="&lt;script&gt;x&lt;/script&gt;&quot;""#), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        let words = Field { kind: Kind::Words(vec!["red".into(), "green".into()]), ..f };
        let html = field_html(&words, "green", None, None).into_string();
        assert!(html.contains(r#"<option value="green" selected>green</option>"#), "{html}");
    }
}
