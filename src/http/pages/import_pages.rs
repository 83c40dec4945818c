//! Imports for the finance officer (docs/interchange.md, "Imports with an id"): the upload
//! form (`GET /imports/new`: the file and its layout), the dry run kept under an id
//! (`POST /imports`, then the import's page, line by line: accepted, duplicate, refused, with
//! the reason), confirming it (`POST /imports/{id}/confirm`), the import's page with the
//! entries it made (`GET /imports/{id}`), and reversing them all with a reason
//! (`POST /imports/{id}/reverse`). Each does what its API route does, through the same calls.

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use utoipa_axum::router::OpenApiRouter;

use super::csrf::{self, CsrfForm, Refused};
use super::forms::{Refusal, page_post};
use super::{NoSession, Session, page_response};
use crate::csv::mapping::Preset;
use crate::csv::{self as interchange, Ran};
use crate::http::AppState;
use crate::http::auth::Need;
use crate::http::error::AppError;
use crate::http::routes::imports::mapping_of;
use crate::model::fields::{Fields, FromFields};
use crate::model::imports::{ImportRecord, LineOutcome, Outcome, ReverseImportCmd};
use crate::storage::imports as kept;

pub fn router() -> OpenApiRouter<AppState> {
    page_router![import_form; import_post; import_page; import_confirm_post; import_reverse_post]
}

/// The error summary of an import's form, its fields labelled by `labels`, and what was not done.
fn summary(problem: &Refusal, labels: &[(&str, &str)], nothing: &str) -> Markup {
    let label = |f: &str| labels.iter().find(|(n, _)| *n == f).map(|(_, l)| (*l).to_owned());
    problem.summary(label, html! { p { (nothing) } })
}

/// The API's own answer to `error`, read as an import's form shows it; the error page itself
/// when it is nothing the person corrects on the form (busy, a fault, not found).
async fn refusal_of(error: AppError) -> Result<Refusal, Response> {
    Refusal::of_among(error, &[StatusCode::UNPROCESSABLE_ENTITY, StatusCode::CONFLICT]).await
}

/// Refuses a role that may not record imports.
fn finance(who: &Session) -> Result<(), AppError> {
    if Need::Finance.allows(who.0.role) { Ok(()) } else { Err(AppError::Forbidden) }
}

/// The upload form: the finance system's CSV file and the layout to read it by.
///
/// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
/// session, 303 to `/sign-in`.
#[utoipa::path(get, path = "/imports/new", tag = "pages", security(()),
    responses((status = 200, description = "The form.", body = String, content_type = "text/html"),
        (status = 303, description = "No live session: to `/sign-in`, then back."),
        (status = 403, description = "The session's role may not import: a page saying so.")))]
async fn import_form(who: Session) -> Result<Response, AppError> {
    finance(&who)?;
    Ok(page_response(StatusCode::OK, upload_page(&who, "", &Refusal::default())))
}

fn upload_page(who: &Session, mapping: &str, problem: &Refusal) -> String {
    let labels = [("file", "File"), ("mapping", "Layout")];
    let file_error = problem.error_of("file");
    let mapping_error = problem.error_of("mapping");
    let body = html! {
        (super::html::masthead("Import spend", &who.0))
        main id="content" {
            (summary(problem, &labels, "Nothing was kept. Choose the file and send it again."))
            p { "The file is checked line by line and nothing is recorded: you see what it would do, then confirm it." }
            form method="post" action="/imports" enctype="multipart/form-data" novalidate {
                (csrf::hidden_input(&who.1))
                div class={ "field" @if file_error.is_some() { " field-error" } } {
                    label for="file" { "File " span class="required" { "(required)" } }
                    p class="hint" id="file-hint" { "The finance system's CSV export, saved as CSV UTF-8." }
                    @if let Some(m) = &file_error { p class="error" id="file-error" { (m) } }
                    input type="file" id="file" name="file" accept=".csv,text/csv" required
                        aria-describedby={ "file-hint" @if file_error.is_some() { " file-error" } }
                        aria-invalid=[file_error.as_ref().map(|_| "true")];
                }
                div class={ "field" @if mapping_error.is_some() { " field-error" } } {
                    label for="mapping" { "Layout" }
                    @if let Some(m) = &mapping_error { p class="error" id="mapping-error" { (m) } }
                    select id="mapping" name="mapping"
                        aria-describedby=[mapping_error.as_ref().map(|_| "mapping-error")]
                        aria-invalid=[mapping_error.as_ref().map(|_| "true")] {
                        @for p in Preset::ALL {
                            option value=(p.as_str()) selected[mapping == p.as_str()] { (layout_name(p)) }
                        }
                    }
                }
                button type="submit" { "Check the file" }
            }
        }
    };
    super::html::page("Import spend · grant-ledger", body)
}

/// A layout as the select names it.
fn layout_name(p: Preset) -> &'static str {
    match p {
        Preset::Generic => "The ledger's own columns (generic)",
        Preset::Transparency => "Transparency Code spend over £500 (transparency)",
    }
}

/// The most a page's upload may read: the API's body limit.
const UPLOAD_BYTES_MAX: usize = crate::http::BODY_BYTES_MAX;

/// Dry-run an uploaded file and keep it under a new import id, from the form: `file`, the
/// CSV; `mapping`, its layout; and `csrf_token`. Nothing is recorded; the import's page shows
/// each line as accepted, duplicate or refused, with the reason.
///
/// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
/// session, 403.
#[utoipa::path(post, path = "/imports", tag = "pages", security(()),
    request_body(content = String, content_type = "multipart/form-data",
        description = "`file` (the CSV), `mapping` (`generic` or `transparency`; default `generic`) and `csrf_token`."),
    responses((status = 303, description = "Kept: to the import's page `/imports/{id}`, its dry run line by line."),
        (status = 403, description = "No valid `csrf_token` for this session, posted from another origin, no live session, or a role that may not import: a page saying so; nothing is kept."),
        (status = 422, description = "No file, one that cannot be read line by line (encoding, header), or no such layout: the form again, each problem beside its field; nothing is kept.", body = String, content_type = "text/html")))]
async fn import_post(
    State(s): State<AppState>,
    who: Result<Session, NoSession>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let who = match who {
        Ok(who) => who,
        Err(e) => return e.into_response(),
    };
    let upload = match multipart {
        Ok(m) => read_upload(m).await,
        Err(_) => Upload::default(),
    };
    if let Err(refused) = csrf::verify(&headers, &s.public_url, csrf::Bound::Session, upload.token.as_deref()) {
        return refused.into_response();
    }
    if let Err(e) = finance(&who) {
        return e.into_response();
    }
    let mapping = upload.mapping.clone().unwrap_or_default();
    let problem = match (&upload.file, mapping_of(Some(&mapping))) {
        (_, Err(e)) => Refusal::field(StatusCode::UNPROCESSABLE_ENTITY, "mapping", e),
        (Err(e), _) => Refusal::field(StatusCode::UNPROCESSABLE_ENTITY, "file", e.clone()),
        (Ok(bytes), Ok(preset)) => {
            let actor = super::actor(&who.0.name);
            match interchange::dry_run_kept(&s.store, bytes, preset, actor).await {
                Ok(Ran::Kept(record)) => return Redirect::to(&format!("/imports/{}", record.id)).into_response(),
                Ok(Ran::Refused(outcome)) => {
                    let why = outcome.lines.iter().map(|l| format!("line {}: {}", l.line, l.reason));
                    Refusal::field(StatusCode::UNPROCESSABLE_ENTITY, "file", why.collect::<Vec<_>>().join("; "))
                }
                Err(e) => match refusal_of(AppError::Store(e)).await {
                    Ok(p) => p,
                    Err(page) => return page,
                },
            }
        }
    };
    page_response(problem.status(), upload_page(&who, &mapping, &problem))
}

/// What a multipart upload carried: each field once, the file's bytes or why there are none.
struct Upload {
    token: Option<String>,
    mapping: Option<String>,
    file: Result<Vec<u8>, String>,
}

impl Default for Upload {
    fn default() -> Self {
        Upload { token: None, mapping: None, file: Err("choose the CSV file to import".to_owned()) }
    }
}

async fn read_upload(mut m: Multipart) -> Upload {
    let mut u = Upload::default();
    let mut tokens = 0;
    loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                u.file = Err(format!("could not be read: {}", e.body_text()));
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            csrf::FIELD => {
                tokens += 1;
                u.token = field.text().await.ok();
            }
            "mapping" => u.mapping = field.text().await.ok(),
            "file" => {
                u.file = match field.bytes().await {
                    Ok(b) if b.is_empty() => Err("is empty: choose the CSV file to import".to_owned()),
                    Ok(b) if b.len() > UPLOAD_BYTES_MAX => Err("is larger than allowed".to_owned()),
                    Ok(b) => Ok(b.to_vec()),
                    Err(e) => Err(format!("could not be read: {}", e.body_text())),
                }
            }
            _ => {}
        }
    }
    // Two tokens are no token, as on every other form.
    if tokens > 1 {
        u.token = None;
    }
    u
}

fn path_id(text: &str) -> Result<i64, AppError> {
    text.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(|| AppError::field("id", "must be a positive whole number"))
}

/// An import: its dry run (or, once confirmed, its run) line by line, and, for finance, the
/// form to confirm it; once confirmed, the entries it made and the form to reverse them all.
///
/// Roles: every role but funder, signed in with the session cookie `gl_session`; without a
/// live session, 303 to `/sign-in`.
#[utoipa::path(get, path = "/imports/{id}", tag = "pages", security(()),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = "No live session: to `/sign-in`, then back."),
        (status = 403, description = "A funder: a page saying so."),
        (status = 404, description = "No such import: a page saying so."),
        (status = 422, description = "An id that is not a positive whole number: a page saying so.")))]
async fn import_page(State(s): State<AppState>, who: Session, Path(id): Path<String>) -> Result<Response, AppError> {
    if !Need::ReadAudit.allows(who.0.role) {
        return Err(AppError::Forbidden);
    }
    let record = kept::get(&s.store, path_id(&id)?).await?;
    Ok(page_response(StatusCode::OK, render(&who, &record, None, &Refusal::default(), &[])))
}

/// Confirm an import from its page (`csrf_token` only): its entries are recorded, as
/// `POST /api/v1/imports/{id}/confirm` does.
///
/// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
/// session, 403.
#[utoipa::path(post, path = "/imports/{id}/confirm", tag = "pages", security(()),
    params(("id" = i64, Path, minimum = 1)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "`csrf_token` only."),
    responses((status = 303, description = "Recorded: to the import's page, with its entries."),
        (status = 403, description = "No valid `csrf_token` for this session, posted from another origin, or a role that may not import: a page saying so; nothing is recorded."),
        (status = 404, description = "No such import: a page saying so."),
        (status = 409, description = "Confirmed already: the import's page, saying so.", body = String, content_type = "text/html"),
        (status = 422, description = "A line is refused now: the import's page with the new outcome line by line; nothing was recorded.", body = String, content_type = "text/html")))]
async fn import_confirm_post(
    State(s): State<AppState>,
    who: Session,
    Path(id): Path<String>,
    form: Result<CsrfForm, Refused>,
) -> Result<Response, AppError> {
    if let Err(refused) = form {
        return Ok(refused.into_response());
    }
    finance(&who)?;
    let id = path_id(&id)?;
    let (problem, now) = match interchange::confirm_kept(&s.store, id, &who.0.name).await {
        Ok(Ran::Kept(_)) => return Ok(Redirect::to(&format!("/imports/{id}")).into_response()),
        Ok(Ran::Refused(outcome)) => {
            let message = format!(
                "{} line(s) are refused now, so nothing was recorded: the ledger has moved since the dry run. \
                 The lines below are what confirming found.",
                outcome.rejected
            );
            let p = Refusal::general(StatusCode::UNPROCESSABLE_ENTITY, message);
            (p, Some(outcome))
        }
        Err(e) => match refusal_of(AppError::Store(e)).await {
            Ok(p) => (p, None),
            Err(page) => return Ok(page),
        },
    };
    let record = kept::get(&s.store, id).await?;
    Ok(page_response(problem.status(), render(&who, &record, now.as_ref(), &problem, &[])))
}

page_post! {
    /// Reverse every entry of an import from its page: `reason`, `date` (optional: each entry's
    /// own when empty) and `csrf_token`, as `POST /api/v1/imports/{id}/reverse` takes them.
    ///
    /// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 403.
    post "/imports/{id}/reverse" record; body ReverseImportCmd, "The fields of `ReverseImportBody`, as text (empty is not given), and `csrf_token`.";
    done "Reversed: to the import's page, each entry with its reversal.";
    denied "No valid `csrf_token` for this session, posted from another origin, or a role that may not import: a page saying so; nothing is reversed.";
    missing "No such import: a page saying so.";
    refused "Not confirmed, reversed already, or an entry of it reversed already or drawn on: the page again, naming the entry; nothing is reversed.";
    bad "A bad field: the page again, the problem beside its field.";
    async fn import_reverse_post(
        State(s): State<AppState>,
        who: Session,
        Path(id): Path<String>,
        form: Result<CsrfForm, Refused>,
    ) -> Result<Response, AppError> {
        let form = match form {
            Ok(CsrfForm(form)) => form,
            Err(refused) => return Ok(refused.into_response()),
        };
        finance(&who)?;
        let import_id = path_id(&id)?;
        let pairs: Vec<(String, String)> = form.pairs().iter().filter(|(_, v)| !v.is_empty()).cloned().collect();
        let result = match ReverseImportCmd::from_fields(Fields::text_pairs(pairs)) {
            Err(errors) => Err(AppError::Validation(errors)),
            Ok(cmd) => {
                let cmd = ReverseImportCmd { import_id, ..cmd };
                kept::reverse(&s.store, cmd, super::actor(&who.0.name)).await.map_err(AppError::Store)
            }
        };
        let problem = match result {
            Ok(_) => return Ok(Redirect::to(&format!("/imports/{import_id}")).into_response()),
            Err(e) => match refusal_of(e).await {
                Ok(p) => p,
                Err(page) => return Ok(page),
            },
        };
        let record = kept::get(&s.store, import_id).await?;
        Ok(page_response(problem.status(), render(&who, &record, None, &problem, form.pairs())))
    }
}

/// The import's page. `now`, a confirm's new outcome, is shown in place of the stored one.
fn render(
    who: &Session,
    r: &ImportRecord,
    now: Option<&Outcome>,
    problem: &Refusal,
    pairs: &[(String, String)],
) -> String {
    let title = format!("Import {}", r.id);
    let outcome = now.unwrap_or(&r.outcome);
    let may_record = Need::Finance.allows(who.0.role);
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let reason_error = problem.error_of("reason");
    let date_error = problem.error_of("date");
    let pounds = super::dashboard::pounds;
    let status = match (&r.confirmed_at, &r.reversed_at) {
        (_, Some(_)) => "reversed",
        (Some(_), None) => "confirmed: its entries are recorded",
        (None, None) => "dry run: nothing is recorded until it is confirmed",
    };
    let body = html! {
        (super::html::masthead(&title, &who.0))
        main id="content" {
            (summary(problem, &[("reason", "Reason"), ("date", "Date")], "Nothing was changed."))
            dl class="record" id="import" {
                dt { "Status" } dd id="import-status" { (status) }
                dt { "Layout" } dd id="import-mapping" { (r.mapping) }
                dt { "Checked by" } dd { (r.created_by) " at " (r.created_at) }
                @if let (Some(by), Some(at)) = (&r.confirmed_by, &r.confirmed_at) {
                    dt { "Confirmed by" } dd id="import-confirmed" { (by) " at " (at) }
                }
                @if let (Some(by), Some(at)) = (&r.reversed_by, &r.reversed_at) {
                    dt { "Reversed by" } dd id="import-reversed" { (by) " at " (at) ": " (r.reverse_reason.as_deref().unwrap_or("")) }
                }
                dt { "Lines" } dd id="import-counts" {
                    (outcome.accepted) " accepted, " (outcome.duplicates) " duplicate, " (outcome.rejected) " refused"
                }
            }
            h2 id="lines-title" { @if now.is_some() { "What confirming found, line by line" } @else { "Line by line" } }
            table id="lines" aria-labelledby="lines-title" {
                thead { tr { th scope="col" { "Line" } th scope="col" { "Outcome" } th scope="col" { "Field" } th scope="col" { "Reason" } } }
                tbody {
                    @for l in &outcome.lines {
                        tr class={ "line-" (l.outcome) } {
                            td { (l.line) }
                            td { (outcome_word(l.outcome)) }
                            td { (l.field.as_deref().unwrap_or("")) }
                            td { (l.reason) }
                        }
                    }
                }
            }
            @if may_record && r.confirmed_at.is_none() {
                @if outcome.rejected == 0 {
                    form method="post" action={ "/imports/" (r.id) "/confirm" } id="confirm-form" {
                        (csrf::hidden_input(&who.1))
                        p { "Confirming checks every line again against the ledger as it is now and records the accepted lines in one go." }
                        button type="submit" { "Confirm and record" }
                    }
                } @else {
                    p id="cannot-confirm" { "A line is refused, so this import cannot be confirmed. Correct the file and upload it again." }
                }
            }
            @if r.confirmed_at.is_some() {
                h2 id="entries-title" { "Entries it made" }
                table id="entries" aria-labelledby="entries-title" {
                    thead { tr { th scope="col" { "Entry" } th scope="col" { "Kind" } th scope="col" { "Date" } th scope="col" { "Project" } th scope="col" { "Supplier" } th scope="col" { "Spent" } th scope="col" { "Reversed by" } } }
                    tbody {
                        @for e in &r.entries {
                            tr {
                                td { a href={ "/entries/" (e.entry_id) } { (e.entry_id) } }
                                td { (e.kind) }
                                td { (e.date) }
                                td { (e.project.as_deref().unwrap_or("")) }
                                td { (e.supplier.as_deref().unwrap_or("")) }
                                td class="num" { (pounds(e.spent)) }
                                td { @if let Some(by) = e.reversed_by { a href={ "/entries/" (by) } { (by) } } }
                            }
                        }
                    }
                }
                @if may_record && r.reversed_at.is_none() {
                    form method="post" action={ "/imports/" (r.id) "/reverse" } id="reverse-form" novalidate {
                        (csrf::hidden_input(&who.1))
                        h2 { "Reverse this import" }
                        p { "Every entry above is reversed at once, or none is." }
                        div class={ "field" @if reason_error.is_some() { " field-error" } } {
                            label for="reason" { "Reason " span class="required" { "(required)" } }
                            @if let Some(m) = &reason_error { p class="error" id="reason-error" { (m) } }
                            textarea id="reason" name="reason" rows="3" required
                                aria-describedby=[reason_error.as_ref().map(|_| "reason-error")]
                                aria-invalid=[reason_error.as_ref().map(|_| "true")] { (value("reason")) }
                        }
                        div class={ "field" @if date_error.is_some() { " field-error" } } {
                            label for="date" { "Date" }
                            p class="hint" id="date-hint" { "Leave empty to reverse each entry on its own date." }
                            @if let Some(m) = &date_error { p class="error" id="date-error" { (m) } }
                            input type="date" id="date" name="date" value=(value("date"))
                                aria-describedby={ "date-hint" @if date_error.is_some() { " date-error" } }
                                aria-invalid=[date_error.as_ref().map(|_| "true")];
                        }
                        button type="submit" { "Reverse this import" }
                    }
                }
            }
        }
    };
    super::html::page(&format!("{title} · grant-ledger"), body)
}

fn outcome_word(o: LineOutcome) -> &'static str {
    match o {
        LineOutcome::Accepted => "Accepted",
        LineOutcome::Duplicate => "Duplicate",
        LineOutcome::Refused => "Refused",
    }
}
