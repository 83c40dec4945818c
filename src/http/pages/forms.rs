//! The recording forms: one page per recording, each drawn from and parsed into the
//! operation's one request type, so a form and the API cannot disagree (docs/api.md, "Pages:
//! forms").
//!
//! `GET /NAME/new` draws the form from `T`'s schema: one field per property, in the order of
//! `T::labels()`, its input kind from the property's value schema (`model::wire`), `required`
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
//!    (the API collection, `"virements"`), `TITLE`, `NEED` (the API route's `Need`), `FIELDS`
//!    (every property of the schema, in the order shown, with its label; the test
//!    `every_form_labels_every_field_it_shows` holds you to it) and `record` (the storage
//!    operation the API route calls, returning the path of the record's page).
//! 2. Its two routes, declared once with `record_form_routes!` (the allocation's call shows
//!    how: the handlers' doc comments, the two paths and the words that differ), registered
//!    in `router`.
//! 3. A link to `/NAME/new` where a person would look for it (`record_links`).
//! 4. Tests beside `tests/api/forms.rs`'s: a good post, a bad one, a rule refusal.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde_json::Value;
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use super::csrf::{CsrfForm, Refused};
use super::{NoSession, Session, actor, page_response, percent_encode};
use crate::http::AppState;
use crate::http::auth::Need;
use crate::http::error::AppError;
use crate::model::Actor;
use crate::model::fields::{FieldError, Fields, FromFields};
use crate::model::page::PAGE_LIMIT_MAX;
use crate::model::postings::AllocationCmd;
use crate::model::tokens::Principal;
use crate::model::wire;
use crate::storage::{Store, StoreError, operations as ops, reference};

/// Declares a recording form's two routes once: `form NAME "/X/new"`, the form
/// (`new_page::<T>`), and `post NAME "/X"`, recording it (`post::<T>`), each handler with its
/// doc comment, written above it in the call, and its `#[utoipa::path]`. The answers every
/// form has are written here; the call gives only the words that differ: what a role that may
/// not is refused (`may_not`), the body's description, where success goes (`done`), what may
/// be missing (404) and the ledger rules that refuse (409, where there are any). `denied` (403)
/// and `bad` (422) replace the common words where a form says more; `via F` records through
/// `F(&state, who, form)` in place of `post::<T>` (a form that chooses between request
/// types). Without `form`, only the post is declared (a form page with its own query).
macro_rules! record_form_routes {
    (@either , $($default:tt)*) => { $($default)* };
    (@either $given:expr, $($default:tt)*) => { $given };
    (
        type $($cmd:ident)::+, may_not $may:literal;
        $(#[doc = $form_doc:tt])*
        form $form:ident $new:literal;
        $($post:tt)*
    ) => {
        $(#[doc = $form_doc])*
        #[utoipa::path(get, path = $new, tag = "pages", security(()),
            responses((status = 200, description = "The form.", body = String, content_type = "text/html"),
                (status = 303, description = "No live session: to `/sign-in`, then back."),
                (status = 403, description = concat!("The session's role may not ", $may, ": a page saying so."))))]
        async fn $form(
            ::axum::extract::State(s): ::axum::extract::State<$crate::http::AppState>,
            who: Result<$crate::http::pages::Session, $crate::http::pages::NoSession>,
        ) -> ::axum::response::Response {
            $crate::http::pages::forms::new_page::<$($cmd)::+>(&s, who).await
        }

        record_form_routes! { type $($cmd)::+, may_not $may; $($post)* }
    };
    (
        type $($cmd:ident)::+, may_not $may:literal;
        $(#[doc = $post_doc:tt])*
        post $post:ident $at:literal;
        body $body:literal;
        done $done:literal;
        missing $missing:literal;
        $(refused $refused:literal;)?
        $(denied $denied:literal;)?
        $(bad $bad:literal;)?
        $(via $via:path;)?
    ) => {
        $(#[doc = $post_doc])*
        #[utoipa::path(post, path = $at, tag = "pages", security(()),
            request_body(content = $($cmd)::+, content_type = "application/x-www-form-urlencoded", description = $body),
            responses((status = 303, description = $done),
                (status = 403, description = record_form_routes!(@either $($denied)?, concat!(
                    "No valid `csrf_token` for this session, posted from another origin, or a role that may not ",
                    $may, ": a page saying so; nothing is changed."))),
                (status = 404, description = $missing, body = String, content_type = "text/html"),
                $((status = 409, description = $refused, body = String, content_type = "text/html"),)?
                (status = 422, description = record_form_routes!(@either $($bad)?,
                    "A bad field: the form again, with the values kept and each problem beside its field."),
                    body = String, content_type = "text/html")))]
        async fn $post(
            ::axum::extract::State(s): ::axum::extract::State<$crate::http::AppState>,
            who: Result<$crate::http::pages::Session, $crate::http::pages::NoSession>,
            form: Result<$crate::http::pages::csrf::CsrfForm, $crate::http::pages::csrf::Refused>,
        ) -> ::axum::response::Response {
            record_form_routes!(@either $($via)?, $crate::http::pages::forms::post::<$($cmd)::+>)(&s, who, form).await
        }
    };
}
pub(crate) use record_form_routes;

/// A page behind a session at `GET path`: its docs, the standard responses (200 the page, 303
/// to sign in) and the 404 and 422 it names; `record` is a page of one record by its id.
macro_rules! page_get {
    (
        $(#[doc = $doc:tt])*
        get $path:literal record; missing $missing:literal;
        $f:item
    ) => {
        page_get! {
            $(#[doc = $doc])*
            get $path params(("id" = i64, Path, minimum = 1));
            missing $missing;
            bad "An id that is not a positive whole number: a page saying so.";
            $f
        }
    };
    (
        $(#[doc = $doc:tt])*
        get $path:literal params($($params:tt)*); missing $missing:literal; bad $bad:literal;
        $f:item
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(get, path = $path, tag = "pages", security(()),
            params($($params)*),
            responses((status = 200, description = "The page.", body = String, content_type = "text/html"),
                (status = 303, description = "No live session: to `/sign-in`, then back."),
                (status = 404, description = $missing),
                (status = 422, description = $bad)))]
        $f
    };
}
pub(crate) use page_get;

/// An action on one record by its id, posted from a form on the record's page, at `POST path`:
/// its docs, the request type its fields are read as, and what each response means.
macro_rules! page_post {
    (
        $(#[doc = $doc:tt])*
        post $path:literal record; body $($cmd:ident)::+, $body:literal;
        done $done:literal; denied $denied:literal; missing $missing:literal;
        refused $refused:literal; bad $bad:literal;
        $f:item
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(post, path = $path, tag = "pages", security(()),
            params(("id" = i64, Path, minimum = 1)),
            request_body(content = $($cmd)::+, content_type = "application/x-www-form-urlencoded", description = $body),
            responses((status = 303, description = $done),
                (status = 403, description = $denied),
                (status = 404, description = $missing),
                (status = 409, description = $refused, body = String, content_type = "text/html"),
                (status = 422, description = $bad, body = String, content_type = "text/html")))]
        $f
    };
}
pub(crate) use page_post;

/// A request type that has a recording form.
/// The label of each field the forms show, said once: a field is worded alike on every form
/// unless the form says otherwise (`RecordForm::OWN_LABELS`).
pub const FIELD_LABELS: &[(&str, &str)] = &[
    ("grant", "Grant"),
    ("financial_year", "Financial year"),
    ("date", "Date the money moved"),
    ("due_on", "Due on"),
    ("amount", "Amount (£)"),
    ("condition", "Condition"),
    ("reference", "Remittance or payment reference"),
    ("quarter", "Quarter (1 to 4)"),
    ("project", "Project"),
    ("forecast_outturn", "Forecast outturn for the year (£)"),
    ("explanation", "Why it differs from budget"),
    ("progress_rag", "Progress rating (RAG)"),
    ("rag_reason", "Why that rating"),
    ("made_on", "Made on"),
    ("indicator", "Indicator"),
    ("actual", "What the quarter achieved"),
    ("evidence_ref", "Where the evidence is kept"),
    ("note", "Note"),
    ("approved_on", "Approved on"),
    ("approval_ref", "Approval reference"),
    ("memo", "Memo"),
    ("supplier", "Supplier"),
    ("invoice_ref", "Invoice reference"),
    ("description", "Description"),
    ("vat", "VAT (£)"),
    ("vat_recoverable", "The VAT is recoverable"),
    ("commitment_id", "Commitment it draws on"),
    ("source_ref", "Source system reference"),
    ("reason", "Reason"),
    ("spend_entry_id", "Spend entry it returns money of"),
    ("duplicate_of_entry_ok", DUPLICATE_LABEL),
    ("kind", "Kind"),
    ("recipient", "Delivery partner"),
    ("purpose", "Purpose"),
    ("start_date", "Start date"),
    ("end_date", "End date"),
    ("schedule", "Part"),
    ("code", "Code"),
    ("name", "Name"),
    ("priority", "Plan priority"),
    ("lead_organisation", "Lead organisation"),
    ("status", "Status"),
    ("from_project", "From project"),
    ("to_project", "To project"),
    ("partnership", "Partnership"),
    ("from_partnership", "From partnership"),
    ("to_partnership", "To partnership"),
];

pub trait RecordForm: FromFields + ToSchema + Send + 'static {
    /// The API collection: the form is `GET /NAME/new`, posting to `POST /NAME`.
    const NAME: &'static str;
    /// The page's heading, e.g. "Record an allocation".
    const TITLE: &'static str;
    /// The role the API route needs.
    const NEED: Need;
    /// Every field the form shows, in order; each is labelled from `FIELD_LABELS`.
    const FIELDS: &'static [&'static str];
    /// Where this form words a field's label its own way ("Invoice date" for `date`).
    const OWN_LABELS: &'static [(&'static str, &'static str)] = &[];

    /// Fields sent with a fixed value, as hidden inputs (a commitment's `kind`).
    const FIXED: &'static [(&'static str, &'static str)] = &[];
    /// What a blank form starts with, where the API's default is not the input's blank
    /// (`vat_recoverable` ticked).
    const DEFAULTS: &'static [(&'static str, &'static str)] = &[];
    /// Checkboxes of the page only, not fields of `T`: each confirms what a rule asked about,
    /// with its label and the problem code that asks for it.
    const CONFIRMS: &'static [(&'static str, &'static str, &'static str)] = &[];

    /// Each of `FIELDS` with its label: the form's own wording, else the ledger's.
    fn labels() -> Vec<(&'static str, &'static str)> {
        Self::FIELDS
            .iter()
            .map(|f| {
                let label = Self::OWN_LABELS.iter().chain(FIELD_LABELS).find(|(n, _)| n == f).map_or(*f, |(_, l)| *l);
                (*f, label)
            })
            .collect()
    }

    /// Reads the form's fields as the API reads its body. `today` is the ledger's
    /// (`AppState::today`, which tests fix), for a form whose rules are about today: none
    /// reads the clock's.
    fn from_form(f: Fields, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let _ = today;
        Self::from_fields(f)
    }

    /// Records it as `actor`, answering the path of the record's page.
    fn record(self, store: &Store, actor: Actor<'_>) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// As `record`, told which of `CONFIRMS` the person ticked; it may stop to ask.
    fn record_confirmed(
        self,
        store: &Store,
        actor: Actor<'_>,
        _confirmed: Vec<String>,
    ) -> impl Future<Output = Result<String, Stop>> + Send {
        async move { self.record(store, actor).await.map_err(Stop::Store) }
    }

    /// Shown above the form (e.g. links to a record's other kinds of form).
    fn intro() -> Markup {
        html! {}
    }
}

/// Why `record_confirmed` recorded nothing: a store's refusal, or a question for the person.
pub enum Stop {
    Store(StoreError),
    Ask(Refusal),
}

impl RecordForm for AllocationCmd {
    const NAME: &'static str = "allocations";
    const TITLE: &'static str = "Record an allocation";
    const NEED: Need = Need::Approver;
    const FIELDS: &'static [&'static str] =
        &["grant", "financial_year", "project", "amount", "approved_on", "approval_ref", "memo"];

    async fn record(self, store: &Store, actor: Actor<'_>) -> Result<String, StoreError> {
        let r = ops::allocate(store, self, actor).await?;
        Ok(format!("/entries/{}", r.entry_id))
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    page_router![allocation_form; allocation_post]
}

/// The links to every recording form, for the dashboard.
pub fn record_links() -> Markup {
    html! {
        nav class="noprint record-menu" aria-label="Record" {
            "Record: "
            a id="record-allocations" href="/allocations/new" { "an allocation" }
            " · " a id="record-commitments" href="/commitments/new" { "a commitment" }
            " · " a id="record-spend" href="/spend/new" { "spend" }
            " · " a id="record-refunds" href="/refunds/new" { "a refund" }
            " · " a id="record-virements" href="/virements/new" { "a virement" }
            " · " a id="record-projects" href="/projects/new" { "a project" }
            " · " a id="record-receipts" href="/receipts/new" { "a receipt" }
            " · " a id="record-repayments" href="/repayments/new" { "a repayment" }
            " · " a id="record-forecasts" href="/forecasts/new" { "a forecast" }
            " · " a id="record-indicator-returns" href="/indicator-returns/new" { "an indicator return" }
            " · " a id="record-imports" href="/imports/new" { "an import of the finance system's file" }
        }
    }
}

record_form_routes! {
    type AllocationCmd, may_not "allocate";
    /// The form to allocate award money to a project (`POST /api/v1/allocations`'s body).
    ///
    /// Roles: approver, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    form allocation_form "/allocations/new";
    /// Allocate award money to a project, from the form: the fields of `AllocationBody` as text,
    /// and `csrf_token`.
    ///
    /// Roles: approver, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post allocation_post "/allocations";
    body "The fields of `AllocationBody`, all as text (empty is not given), and `csrf_token`.";
    done "Allocated: to the entry's page `/entries/{id}`.";
    missing "No such grant, award, financial year or project: the form again, saying so.";
    refused "Refused by a ledger rule (`over_allocation`, `period_closed` …): the form again, with the rule's figures.";
    denied "No live session, no valid `csrf_token` for this session, posted from another origin, or a role that may not allocate: a page saying so; nothing is changed.";
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
    match render::<T>(s, &principal, &token, &[], &Refusal::default()).await {
        Ok(page) => page_response(StatusCode::OK, page),
        Err(e) => e.into_response(),
    }
}

/// `POST /NAME`.
/// The session is looked at first: without one there is no token to check, and the post is
/// refused (403), as a redirect would drop what was typed.
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
    let confirms: Vec<&str> = T::CONFIRMS.iter().map(|(n, _, _)| *n).collect();
    let (fields, confirmed) = for_reading(&pairs, &confirms);
    let refusal = match T::from_form(Fields::text_pairs(fields), s.today()) {
        Err(errors) => Refusal::of(AppError::Validation(errors)).await,
        Ok(cmd) => match cmd.record_confirmed(&s.store, actor(&principal.name), confirmed).await {
            Ok(path) => return Redirect::to(&path).into_response(),
            Err(Stop::Store(e)) => Refusal::of(AppError::Store(e)).await,
            Err(Stop::Ask(r)) => Ok(r),
        },
    };
    // Not the person's to correct (busy, a fault): the error page.
    let refusal = match refusal {
        Ok(r) => r,
        Err(page) => return page,
    };
    let mut refusal = refusal;
    refusal.describe_duplicate(&s.store).await;
    if T::FIELDS.contains(&"date") {
        refusal.period_closed_beside("date");
    }
    let status = refusal.status;
    match render::<T>(s, &principal, &token, &pairs, &refusal).await {
        Ok(page) => page_response(status, page),
        Err(e) => e.into_response(),
    }
}

/// The name of the hidden input that says a checkbox was on the form: a box left unticked
/// sends nothing, which the API would read as its default, so it is read as `false`.
pub const SHOWN_CHECKBOX: &str = "shown_checkbox";

/// A form's pairs as the request type reads them, and the page's confirmations ticked: each
/// checkbox shown and left unticked is `false`, and the confirmations are taken out.
pub fn for_reading(pairs: &[(String, String)], confirms: &[&str]) -> (Vec<(String, String)>, Vec<String>) {
    let mut fields = Vec::new();
    let mut confirmed = Vec::new();
    for (k, v) in pairs {
        if k == SHOWN_CHECKBOX {
            if !confirms.contains(&v.as_str()) && !pairs.iter().any(|(n, _)| n == v) {
                fields.push((v.clone(), "false".to_owned()));
            }
        } else if confirms.contains(&k.as_str()) {
            if !v.is_empty() && v != "false" {
                confirmed.push(k.clone());
            }
        } else {
            fields.push((k.clone(), v.clone()));
        }
    }
    (fields, confirmed)
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
    /// A question for the person (409): `code` names it (a confirmation of `CONFIRMS` shows
    /// with it), `message` says it, `extra` holds its figures as a problem's members would.
    pub fn ask(code: &str, message: String, extra: serde_json::Map<String, Value>) -> Refusal {
        Refusal {
            status: StatusCode::CONFLICT,
            general: vec![message],
            extra,
            code: code.to_owned(),
            ..Refusal::default()
        }
    }

    /// A duplicate's refusal names the entry it repeats; the person is shown that entry's
    /// date, supplier, invoice reference and amount to judge it by.
    async fn describe_duplicate(&mut self, store: &Store) {
        let Some(id) =
            (self.code == "duplicate").then(|| self.extra.get("duplicate_of").and_then(Value::as_i64)).flatten()
        else {
            return;
        };
        let Ok(e) = crate::storage::entries::get_entry(store, id).await else { return };
        let detail = |k: &str| e.details.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let amount: crate::domain::Money = e
            .postings
            .iter()
            .map(|p| p.amount)
            .filter(|a| a.is_positive())
            .fold(crate::domain::Money::ZERO, |t, a| t.checked_add(a).unwrap_or(t));
        for (k, v) in [
            ("duplicate_date", e.date.clone()),
            ("duplicate_supplier", detail("supplier")),
            ("duplicate_invoice_ref", { detail("invoice_ref") + &detail("reference") }),
            ("duplicate_amount", amount.to_string()),
        ] {
            self.extra.insert(k.into(), v.into());
        }
    }

    /// A locked quarter or a closed year (`period_closed`) refuses the entry's date: the
    /// API's answer names no field, so its message is said beside `field`, the form's date.
    fn period_closed_beside(&mut self, field: &str) {
        if self.code == "period_closed" && self.fields.is_empty() && !self.general.is_empty() {
            self.fields.insert(field.to_owned(), std::mem::take(&mut self.general));
        }
    }

    /// Reads the API's own answer to `error`, so the form says what the API says; that
    /// answer itself (an error page) when it is not a refusal a person corrects on the form
    /// (busy, a fault).
    pub async fn of(error: AppError) -> Result<Refusal, Response> {
        Refusal::of_among(error, &[StatusCode::UNPROCESSABLE_ENTITY, StatusCode::CONFLICT, StatusCode::NOT_FOUND]).await
    }

    /// As `of`, for a form where only answers of the statuses `among` are refusals.
    pub async fn of_among(error: AppError, among: &[StatusCode]) -> Result<Refusal, Response> {
        let response = error.into_response();
        let status = response.status();
        if !among.contains(&status) {
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

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// A refusal of one field, with its message.
    pub fn field(status: StatusCode, field: &str, message: impl Into<String>) -> Refusal {
        Refusal { status, fields: BTreeMap::from([(field.to_owned(), vec![message.into()])]), ..Refusal::default() }
    }

    /// A refusal naming no field.
    pub fn general(status: StatusCode, message: String) -> Refusal {
        Refusal { status, general: vec![message], ..Refusal::default() }
    }

    /// Whether anything was refused; the default refuses nothing.
    pub fn failed(&self) -> bool {
        self.status != StatusCode::default()
    }

    /// A field's messages, as one line.
    pub fn error_of(&self, field: &str) -> Option<String> {
        self.fields.get(field).map(|m| m.join("; "))
    }

    /// The error summary above a form: each field's messages, linked to the field when
    /// `label_of` names its label, then the problems that name no field, then `after`.
    pub fn summary(&self, label_of: impl Fn(&str) -> Option<String>, after: Markup) -> Markup {
        html! {
            @if self.failed() {
                div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                    h2 id="error-summary-title" { "There is a problem" }
                    ul {
                        @for (field, messages) in &self.fields {
                            @for m in messages {
                                li {
                                    @if let Some(label) = label_of(field) {
                                        a href={ "#" (field) } { (label) ": " (m) }
                                    } @else {
                                        (field) ": " (m)
                                    }
                                }
                            }
                        }
                        @for m in &self.general { li { (m) } }
                    }
                    (after)
                }
            }
        }
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
    /// An array of objects: rows of these fields, named `NAME[i].FIELD`, at most this many.
    Rows(Vec<Field>, usize),
}

/// Rows a blank list shows: more than most agreements' years. A person needing more sends
/// the form with these filled and gets as many again plus one.
const ROWS_SHOWN: usize = 4;

/// The schema of an array's items, where it is a named one.
fn item_schema(property: &Value) -> Option<Value> {
    let items = property.get("items")?;
    match ref_name(items).as_deref() {
        Some("AgreementPartBody") => {
            serde_json::to_value(<crate::model::agreements::AgreementPart as PartialSchema>::schema()).ok()
        }
        Some("InstalmentBody") => {
            serde_json::to_value(<crate::model::cash::NewInstalment as PartialSchema>::schema()).ok()
        }
        Some(_) => None,
        None => Some(items.clone()),
    }
}

/// One field of a form, from its property in the request type's schema.
#[derive(Debug, PartialEq, Eq)]
pub struct Field {
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
    if types.iter().any(|t| t == "array")
        && let Some(items) = item_schema(property)
    {
        let max = property.get("maxItems").and_then(Value::as_u64).unwrap_or(ROWS_SHOWN as u64) as usize;
        // A row's fields in the order and words the ledger gives them (the schema's are alphabetical).
        return Kind::Rows(fields_in(&items, FIELD_LABELS), max);
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

/// The fields of `T`'s form: those of `T::labels()` first, in its order, then any other.
fn fields_of<T: RecordForm>() -> Vec<Field> {
    fields_with::<T>(&T::labels())
        .into_iter()
        .filter(|f| !T::FIXED.iter().any(|(n, _)| *n == f.name))
        .chain(T::CONFIRMS.iter().map(|(name, label, _)| Field {
            name: (*name).to_owned(),
            label: (*label).to_owned(),
            required: false,
            hint: None,
            kind: Kind::Flag,
        }))
        .collect()
}

/// The fields of a form of request type `T`, labelled by `labels`. A word set the schema
/// names by reference (e.g. `ReturnKind`) is offered as its words, as an inline one is.
pub fn fields_with<T: ToSchema>(labels: &[(&str, &str)]) -> Vec<Field> {
    let schema = serde_json::to_value(<T as PartialSchema>::schema()).unwrap_or_default();
    let mut named = Vec::new();
    T::schemas(&mut named);
    let named: BTreeMap<String, Value> =
        named.into_iter().filter_map(|(name, s)| Some((name, serde_json::to_value(s).ok()?))).collect();
    let properties = schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut fields = fields_in(&schema, labels);
    for f in &mut fields {
        let words = properties.get(&f.name).and_then(ref_name).and_then(|r| named.get(&r));
        if let Some(words) = words.filter(|w| w.get("enum").is_some()) {
            f.kind = kind_of(words);
        }
    }
    fields
}

/// Offers field `name` as a choice of `words` (a word set the schema names by reference).
pub fn with_words(fields: &mut [Field], name: &str, words: Vec<String>) {
    if let Some(f) = fields.iter_mut().find(|f| f.name == name) {
        f.kind = Kind::Words(words);
    }
}

/// The fields of an object schema, those of `labels` first, in its order, then any other.
pub fn fields_in(schema: &Value, labels: &[(&str, &str)]) -> Vec<Field> {
    let properties = schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let required: Vec<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut names: Vec<String> =
        labels.iter().map(|(n, _)| (*n).to_owned()).filter(|n| properties.contains_key(n)).collect();
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
                label: labels
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
        "priority" => reference::list_priorities(store, "", PAGE_LIMIT_MAX)
            .await?
            .items
            .into_iter()
            .map(|p| (p.code, p.name))
            .collect(),
        "partnership" | "from_partnership" | "to_partnership" => {
            crate::storage::partnerships::list(store).await?.into_iter().map(|p| (p.code, p.name)).collect()
        }
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
    who: &Principal,
    token: &str,
    pairs: &[(String, String)],
    refusal: &Refusal,
) -> Result<String, AppError> {
    let fields = fields_of::<T>();
    let choices = choices_of(s, &fields).await?;
    let defaults: Vec<(String, String)> = T::DEFAULTS.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let pairs = if pairs.is_empty() { &defaults[..] } else { pairs };
    let action = format!("/{}", T::NAME);
    let confirms: Vec<(&str, &str)> = T::CONFIRMS.iter().map(|(n, _, code)| (*n, *code)).collect();
    let body = html! {
        (super::html::masthead(T::TITLE, who))
        main class="form-page" {
            (T::intro())
            (form_html(&FormParts { action: &action, submit: T::TITLE, fields: &fields, fixed: T::FIXED, confirms: &confirms, choices: &choices }, token, pairs, refusal))
        }
    };
    Ok(super::html::page(&format!("{} · grant-ledger", T::TITLE), body))
}

/// What a form's page shows besides its fields: its heading and button, where it posts, its
/// labels, and what is said above it.
pub struct Look<'a> {
    pub title: &'a str,
    pub action: &'a str,
    pub labels: &'a [(&'a str, &'a str)],
    pub intro: Markup,
}

/// A form of request type `T` as `look` has it, blank or again with `pairs` kept and
/// `refusal` shown: the recording forms' page, for forms whose address names their record.
pub async fn render_at<T: ToSchema>(
    s: &AppState,
    who: &Principal,
    token: &str,
    look: &Look<'_>,
    pairs: &[(String, String)],
    refusal: &Refusal,
) -> Result<String, AppError> {
    let fields = fields_with::<T>(look.labels);
    let choices = choices_of(s, &fields).await?;
    let parts = FormParts {
        action: look.action,
        submit: look.title,
        fields: &fields,
        fixed: &[],
        confirms: &[],
        choices: &choices,
    };
    let body = html! {
        (super::html::masthead(look.title, who))
        main class="form-page" {
            (look.intro)
            (form_html(&parts, token, pairs, refusal))
        }
    };
    Ok(super::html::page(&format!("{} · grant-ledger", look.title), body))
}

/// The choices of every field (and row field) that names reference data.
pub async fn choices_of(s: &AppState, fields: &[Field]) -> Result<BTreeMap<String, Vec<(String, String)>>, AppError> {
    let mut choices = BTreeMap::new();
    for f in fields {
        let leaves: Vec<&Field> = match &f.kind {
            Kind::Rows(row, _) => row.iter().collect(),
            _ => vec![f],
        };
        for leaf in leaves {
            if choices.contains_key(&leaf.name) {
                continue;
            }
            let c = choices_for(s, &leaf.name).await?;
            if !c.is_empty() {
                choices.insert(leaf.name.clone(), c);
            }
        }
    }
    Ok(choices)
}

/// What a form is drawn from, besides the values and the refusal.
pub struct FormParts<'a> {
    pub action: &'a str,
    pub submit: &'a str,
    pub fields: &'a [Field],
    pub fixed: &'a [(&'a str, &'a str)],
    /// Page-only confirmations: (name, the problem code that shows it).
    pub confirms: &'a [(&'a str, &'a str)],
    pub choices: &'a BTreeMap<String, Vec<(String, String)>>,
}

/// Every input a field shows: (name, label), a list's rows each.
fn shown_names(fields: &[Field], pairs: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in fields {
        out.push((f.name.clone(), f.label.clone()));
        if let Kind::Rows(row, max) = &f.kind {
            for i in 0..rows_shown(&f.name, *max, pairs) {
                for leaf in row {
                    out.push((
                        format!("{}[{i}].{}", f.name, leaf.name),
                        format!("{} {}: {}", f.label, i + 1, leaf.label),
                    ));
                }
            }
        }
    }
    out
}

/// Rows of list `name` shown: those given and one more, at least `ROWS_SHOWN`, at most `max`.
fn rows_shown(name: &str, max: usize, pairs: &[(String, String)]) -> usize {
    let prefix = format!("{name}[");
    let given = pairs
        .iter()
        .filter_map(|(k, _)| k.strip_prefix(&prefix)?.split_once(']')?.0.parse::<usize>().ok())
        .map(|i| i + 2)
        .max()
        .unwrap_or(0);
    given.max(ROWS_SHOWN).min(max)
}

/// The error summary and the form: every field with its value and message.
pub fn form_html(parts: &FormParts<'_>, token: &str, pairs: &[(String, String)], refusal: &Refusal) -> Markup {
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let shown = shown_names(parts.fields, pairs);
    let label_of = |name: &str| shown.iter().find(|(n, _)| n == name).map(|(_, l)| l.clone());
    html! {
        (refusal.summary(label_of, html! {
            (rule_figures(refusal))
            p { "Nothing was recorded. Correct the form and send it again." }
        }))
        form method="post" action=(parts.action) novalidate {
            (super::csrf::hidden_input(token))
            @for (name, v) in parts.fixed { input type="hidden" name=(name) value=(v); }
            @for f in parts.fields.iter().filter(|f| shows(f, refusal, value(&f.name), parts.confirms)) {
                @if let Kind::Rows(row, max) = &f.kind {
                    (rows_html(f, row, rows_shown(&f.name, *max, pairs), &value, refusal, parts.choices))
                } @else {
                    @if f.kind == Kind::Flag { input type="hidden" name=(SHOWN_CHECKBOX) value=(f.name); }
                    (field_html(f, value(&f.name), refusal.fields.get(&f.name), parts.choices.get(&f.name)))
                }
            }
            button type="submit" { (parts.submit) }
        }
    }
}

/// A list's rows (an agreement's yearly parts): each row's fields named `NAME[i].FIELD`.
fn rows_html<'v>(
    f: &Field,
    row: &[Field],
    count: usize,
    value: &impl Fn(&str) -> &'v str,
    refusal: &Refusal,
    choices: &BTreeMap<String, Vec<(String, String)>>,
) -> Markup {
    let error_id = format!("{}-error", f.name);
    let errors = refusal.fields.get(&f.name);
    html! {
        fieldset id=(f.name) class={ "rows" @if errors.is_some() { " field-error" } }
            aria-describedby=[errors.map(|_| error_id.as_str())] {
            legend { (f.label) @if f.required { " " span class="required" { "(required)" } } }
            @if let Some(h) = &f.hint { p class="hint" { (h) } }
            @if let Some(es) = errors { p class="error" id=(error_id) { (es.join("; ")) } }
            @for i in 0..count {
                div class="row" {
                    @for leaf in row {
                        @let name = format!("{}[{i}].{}", f.name, leaf.name);
                        @let cell = Field {
                            name: name.clone(),
                            label: format!("{} {}: {}", f.label, i + 1, leaf.label),
                            required: false,
                            hint: None,
                            kind: Kind::Line,
                        };
                        @let cell = Field { kind: if leaf.kind == Kind::Money { Kind::Money } else { cell.kind }, ..cell };
                        (field_html(&cell, value(&name), refusal.fields.get(&name), choices.get(&leaf.name)))
                    }
                }
            }
        }
    }
}

/// Fields that confirm what a rule refused, each with the problem code that asks for it:
/// shown only with that refusal, or when the person has ticked it.
const CONFIRMATIONS: &[(&str, &str)] = &[("duplicate_of_entry_ok", "duplicate")];

/// The label of `duplicate_of_entry_ok`, wherever a form shows it.
pub const DUPLICATE_LABEL: &str = "This is a genuine second invoice: record it";

fn shows(f: &Field, refusal: &Refusal, value: &str, confirms: &[(&str, &str)]) -> bool {
    match CONFIRMATIONS.iter().chain(confirms).find(|(name, _)| *name == f.name) {
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
            "overspend" | "overspend_warning" => {
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
                    @if let Some(date) = r.extra_text("duplicate_date") {
                        dl class="figures" id="duplicate-entry" {
                            dt { "Date" } dd id="duplicate-date" { (date) }
                            dt { "Supplier" } dd id="duplicate-supplier" { (r.extra_text("duplicate_supplier").unwrap_or_default()) }
                            dt { "Reference" } dd id="duplicate-invoice-ref" { (r.extra_text("duplicate_invoice_ref").unwrap_or_default()) }
                            dt { "Amount" } dd id="duplicate-amount" { (money("duplicate_amount")) }
                        }
                    }
                    p { "If this is a genuine second invoice, tick “" (DUPLICATE_LABEL) "” below and send it again." }
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
        let labelled: Vec<&str> = T::FIELDS.to_vec();
        let unlabelled: Vec<_> = properties.iter().filter(|p| !labelled.contains(&p.as_str())).collect();
        let stale: Vec<_> = labelled.iter().filter(|l| !properties.iter().any(|p| p == *l)).collect();
        if unlabelled.is_empty() && stale.is_empty() {
            Ok(())
        } else {
            Err(format!("{}: unlabelled {unlabelled:?}, not fields {stale:?}", T::NAME))
        }
    }

    /// `FIELDS` sets the order a person reads the fields in: every field is in it.
    #[test]
    fn every_form_labels_every_field_it_shows() {
        labelled::<AllocationCmd>().unwrap();
        labelled::<ops::SpendCmd>().unwrap();
        labelled::<ops::RefundCmd>().unwrap();
        labelled::<ops::PurchaseOrderCmd>().unwrap();
        labelled::<ops::GrantAgreementCmd>().unwrap();
        labelled::<crate::model::postings::VirementCmd>().unwrap();
        labelled::<crate::model::reference::NewProject>().unwrap();
        labelled::<super::super::desk_forms::Cash<false>>().unwrap();
        labelled::<super::super::desk_forms::Cash<true>>().unwrap();
        labelled::<crate::model::monitoring::ForecastCmd>().unwrap();
        labelled::<crate::model::monitoring::IndicatorReturnCmd>().unwrap();
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

    /// The API's own answer to a spend in a locked quarter, read as the form reads it: its
    /// message goes beside the date; a refusal that names its field, or another rule's, stays.
    #[tokio::test]
    async fn a_locked_quarter_is_said_beside_the_date() {
        let year = crate::domain::year::FinancialYear::parse("2023-24").unwrap();
        let locked = || AppError::Store(StoreError::QuarterLocked { year, quarter: 1 });
        let mut r = Refusal::of(locked()).await.ok().unwrap();
        assert_eq!((r.code.as_str(), r.error_of("date")), ("period_closed", None));
        r.period_closed_beside("date");
        assert!(r.error_of("date").is_some_and(|m| m.contains("2023-24 Q1 is locked")), "{:?}", r.fields);
        assert!(r.general.is_empty() && r.status() == StatusCode::CONFLICT);
        let mut named = Refusal::field(StatusCode::CONFLICT, "amount", "too much");
        named.code = "period_closed".into();
        named.period_closed_beside("date");
        assert_eq!(named.error_of("date"), None);
        let mut other = Refusal::general(StatusCode::CONFLICT, "another rule".into());
        other.period_closed_beside("date");
        assert_eq!((other.error_of("date"), other.general.len()), (None, 1));
    }
}
