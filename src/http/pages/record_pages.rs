//! The pages of single records a form leads to: `GET /entries/{id}`, what
//! `GET /api/v1/entries/{id}` answers, for a person (docs/api.md, "Pages: forms").

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;

use super::forms::{self, Refusal, page_get};
use super::{NoSession, Session, page_response};
use crate::domain::EntryKind;
use crate::domain::Money;
use crate::http::AppState;
use crate::http::auth::Need;
use crate::http::error::AppError;
use crate::model::entries::EntryView;
use crate::model::postings::ReverseCmd;
use crate::model::tokens::Principal;
use crate::storage::entries;

pub fn router() -> OpenApiRouter<AppState> {
    page_router![entry_page]
}

page_get! {
    /// One entry: its date, kind, memo, details (project, supplier, invoice reference …), who
    /// recorded it and when, its postings, and what it reverses or is reversed by.
    ///
    /// Roles: every role, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    get "/entries/{id}" record; missing "No such entry: a page saying so.";
    async fn entry_page(
        State(s): State<AppState>,
        Path(id): Path<String>,
        session: Result<Session, NoSession>,
    ) -> Result<Response, Response> {
        // The id is checked before the session, so a bad id is a bad request however it is sent.
        let id = super::record_id(&id).map_err(IntoResponse::into_response)?;
        let Session(who, token) = session.map_err(IntoResponse::into_response)?;
        let page =
            entry_html_page(&s, &who, &token, id, &[], &Refusal::default()).await.map_err(IntoResponse::into_response)?;
        Ok(page_response(StatusCode::OK, page))
    }
}

/// The entry's page, with the reversal form (`POST /entries/{id}/reverse`) where the
/// person's role may reverse its kind and it stands unreversed; `pairs` and `refusal` are
/// that form's when it came back.
pub(super) async fn entry_html_page(
    s: &AppState,
    who: &Principal,
    token: &str,
    id: i64,
    pairs: &[(String, String)],
    refusal: &Refusal,
) -> Result<String, AppError> {
    let entry = entries::get_entry(&s.store, id).await?;
    let title = format!("Entry {id}");
    let may = EntryKind::parse(&entry.kind).is_some_and(|k| Need::to_reverse(k).allows(who.role));
    let reversible = may && entry.reversed_by.is_none() && entry.reverses.is_none();
    let action = format!("/entries/{id}/reverse");
    let fields = forms::fields_in(
        &serde_json::to_value(<ReverseCmd as utoipa::PartialSchema>::schema()).unwrap_or_default(),
        &[("date", "Date of the reversal"), ("reason", "Reason")],
    );
    let choices = Default::default();
    let body = html! {
        (super::html::masthead(&title, who))
        main {
            (entry_html(&entry))
            @if let Some(c) = entry.commitment_id {
                p { a id="entry-commitment-link" href={ "/commitments/" (c) } { "The commitment's page" } }
            }
            @if reversible {
                section aria-labelledby="h-reverse" class="form-page" {
                    h2 id="h-reverse" { "Reverse this entry" }
                    p class="note" { "The entry stays as recorded; a reversal posts its opposite, dated and with the reason." }
                    (forms::form_html(&forms::FormParts { action: &action, submit: "Reverse this entry", fields: &fields,
                        fixed: &[], confirms: &[], choices: &choices }, token, pairs, refusal))
                }
            } @else {
                // The form is gone (reversed meanwhile, e.g. from another tab): say why all the same.
                (refusal.summary(|_| None, html! { p { "Nothing was changed." } }))
            }
        }
    };
    Ok(super::html::page(&format!("{title} · grant-ledger"), body))
}

/// A detail's value as text: strings as they are, anything else as JSON.
fn detail_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `created_by` → `Created by`.
fn readable(name: &str) -> String {
    super::html::capitalised(&name.replace('_', " "))
}

fn entry_html(e: &EntryView) -> Markup {
    let details: Vec<(&String, &Value)> =
        e.details.as_object().map(|d| d.iter().filter(|(_, v)| !v.is_null() && *v != "").collect()).unwrap_or_default();
    html! {
        dl class="record" id="entry" {
            dt { "Kind" } dd id="entry-kind" { (e.kind) }
            dt { "Date" } dd id="entry-date" { (e.date) }
            dt { "Financial year" } dd id="entry-financial-year" { (e.financial_year) }
            dt { "Grant" } dd id="entry-grant" { (e.grant) }
            @if !e.memo.is_empty() { dt { "Memo" } dd id="entry-memo" { (e.memo) } }
            @for (k, v) in &details {
                dt { (readable(k)) } dd id={ "entry-" (k) } { (detail_text(v)) }
            }
            @if let Some(c) = e.commitment_id {
                dt { "Commitment" } dd id="entry-commitment" { a href={ "/commitments/" (c) } { "Commitment " (c) } }
            }
            @if let Some(r) = &e.source_ref { dt { "Source" } dd id="entry-source-ref" { (r) } }
            dt { "Recorded by" } dd id="entry-created-by" { (e.created_by) }
            dt { "Recorded at" } dd id="entry-created-at" { (e.created_at) }
            @if let Some(r) = e.reverses {
                dt { "Reverses" } dd id="entry-reverses" { a href={ "/entries/" (r) } { "Entry " (r) } }
            }
            @if let Some(r) = e.reversed_by {
                dt { "Reversed by" } dd id="entry-reversed-by" { a href={ "/entries/" (r) } { "Entry " (r) } }
            }
        }
        table id="postings" {
            caption { "Postings (debit positive)" }
            thead { tr { th scope="col" { "Account" } th scope="col" class="num" { "Debit" } th scope="col" class="num" { "Credit" } } }
            tbody {
                @for p in &e.postings {
                    tr {
                        td { (p.account) }
                        td class="num" { @if p.amount.is_positive() { (super::dashboard::pounds(p.amount)) } }
                        td class="num" { @if p.amount < Money::ZERO { (super::dashboard::pounds(p.amount.negated())) } }
                    }
                }
            }
        }
    }
}
