//! Virements for a person: the form to propose one (`GET /virements/new`, `POST /virements`),
//! the virement's page (`GET /virements/{id}`) with its approve and reject forms, as the API's
//! four-eyes rule (docs/api.md, "Pages: forms"): above the threshold a virement waits for a
//! second approver, and its proposer may never decide it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use utoipa_axum::router::OpenApiRouter;

use super::csrf::{CsrfForm, Refused};
use super::forms::{RecordForm, page_get, record_form_routes};
use super::{NoSession, Session, page_response};
use crate::domain::VirementStatus;
use crate::http::AppState;
use crate::http::auth::Need;
use crate::http::error::AppError;
use crate::model::Actor;
use crate::model::controls::RejectVirementCmd;
use crate::model::fields::{Fields, FromFields};
use crate::model::postings::{VirementCmd, VirementRecord};
use crate::model::tokens::Principal;
use crate::storage::{Store, StoreError, controls, operations as ops};

impl RecordForm for VirementCmd {
    const NAME: &'static str = "virements";
    const TITLE: &'static str = "Propose a virement";
    const NEED: Need = Need::Approver;
    const FIELDS: &'static [&'static str] =
        &["grant", "financial_year", "from_project", "to_project", "amount", "approved_on", "approval_ref", "reason"];

    /// As `POST /api/v1/virements`: above the threshold it waits for a second approver.
    async fn record(self, store: &Store, actor: Actor<'_>) -> Result<String, StoreError> {
        let r = if self.amount > controls::virement_threshold(store).await? {
            controls::propose_virement(store, self, actor).await?
        } else {
            ops::vire(store, self, actor).await?
        };
        Ok(format!("/virements/{}", r.virement_id))
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    page_router![virement_form; virement_post; virement_page; approve_post; reject_post]
}

record_form_routes! {
    type VirementCmd, may_not "propose a virement";
    /// The form to move budget between two projects of one award (`POST /api/v1/virements`'s body).
    ///
    /// Roles: approver, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    form virement_form "/virements/new";
    /// Propose a virement, from the form: the fields of `VirementBody` as text, and `csrf_token`.
    /// At or below the threshold it posts; above it, it waits for a second approver.
    ///
    /// Roles: approver, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post virement_post "/virements";
    body "The fields of `VirementBody`, all as text (empty is not given), and `csrf_token`.";
    done "Posted, or waiting for a second approver: to the virement's page `/virements/{id}`; or, without a live session, to `/sign-in`.";
    missing "No such grant, award, financial year or project: the form again, saying so.";
    refused "Refused by a ledger rule (`overspend`, `period_closed` …): the form again, with the rule's figures.";
}

page_get! {
    /// One virement: its projects, amount, approval, status, who proposed and who decided it, and
    /// for an approver other than its proposer while it waits, the forms to approve or reject it.
    ///
    /// Roles: every role, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    get "/virements/{id}" record; missing "No such virement: a page saying so.";
    async fn virement_page(
        State(s): State<AppState>,
        Session(who, token): Session,
        Path(id): Path<String>,
    ) -> Result<Response, AppError> {
        let v = controls::get_virement(&s.store, super::record_id(&id)?).await?;
        Ok(page_response(StatusCode::OK, render(&v, &who, &token, None, "")))
    }
}

/// Why a decision came back: the status, the problem, and the reason's own message.
struct Problem {
    status: StatusCode,
    message: String,
    reason_error: Option<String>,
}

impl Problem {
    async fn of(response: Response) -> Problem {
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap_or_default();
        let problem: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let reason_error = problem["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["field"] == "reason")
            .and_then(|e| e["message"].as_str())
            .map(str::to_owned);
        let message = problem["detail"].as_str().unwrap_or("refused").to_owned();
        Problem { status, message, reason_error }
    }
}

/// Who may decide a waiting virement (the four-eyes rule): an approver or admin other than
/// its proposer. A person who may not is told why, not just shown no form.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Decider {
    May,
    /// Proposed it: another approver must decide it.
    Proposer,
    /// A role that decides no virement.
    Role,
}

impl Decider {
    fn of(who: &Principal, v: &VirementRecord) -> Decider {
        if !Need::Approver.allows(who.role) {
            Decider::Role
        } else if who.name == v.proposed_by {
            Decider::Proposer
        } else {
            Decider::May
        }
    }
}

fn render(v: &VirementRecord, who: &Principal, token: &str, problem: Option<&Problem>, reason: &str) -> String {
    let title = format!("Virement {}", v.virement_id);
    let decider = Decider::of(who, v);
    let body = html! {
        (super::html::masthead(&title, who))
        main {
            @if let Some(p) = problem {
                div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                    h2 id="error-summary-title" { "There is a problem" }
                    ul {
                        @if let Some(m) = &p.reason_error { li { a href="#reason" { "Reason: " (m) } } }
                        @else { li { (p.message) } }
                    }
                    p { "Nothing was changed." }
                }
            }
            (record_html(v))
            @if v.status == VirementStatus::Pending && decider == Decider::Proposer {
                p id="no-decision" {
                    "You proposed this virement, so another approver must decide it: "
                    "an approver or admin other than you may approve or reject it."
                }
            }
            @if v.status == VirementStatus::Pending && decider == Decider::Role {
                p id="no-decision" {
                    "Your role (" (who.role.as_str()) ") does not decide virements: an approver or admin other than "
                    "its proposer, " (v.proposed_by) ", must approve or reject it."
                }
            }
            @if v.status == VirementStatus::Pending && decider == Decider::May {
                form method="post" action={ "/virements/" (v.virement_id) "/approve" } id="approve-form" {
                    (super::csrf::hidden_input(token))
                    button type="submit" { "Approve and post" }
                }
                form method="post" action={ "/virements/" (v.virement_id) "/reject" } id="reject-form" novalidate {
                    (super::csrf::hidden_input(token))
                    @let error = problem.and_then(|p| p.reason_error.as_deref());
                    div class={ "field" @if error.is_some() { " field-error" } } {
                        label for="reason" { "Reason for rejecting " span class="required" { "(required)" } }
                        @if let Some(m) = error { p class="error" id="reason-error" { (m) } }
                        textarea id="reason" name="reason" rows="3" required
                            aria-describedby=[error.map(|_| "reason-error")]
                            aria-invalid=[error.map(|_| "true")] { (reason) }
                    }
                    button type="submit" { "Reject" }
                }
            }
        }
    };
    super::html::page(&format!("{title} · grant-ledger"), body)
}

fn record_html(v: &VirementRecord) -> Markup {
    let pounds = super::dashboard::pounds;
    html! {
        dl class="record" id="virement" {
            dt { "Status" } dd id="virement-status" {
                @match v.status {
                    VirementStatus::Pending => "waiting for a second approver",
                    _ => (v.status),
                }
            }
            dt { "Grant" } dd id="virement-grant" { (v.grant) }
            dt { "Financial year" } dd id="virement-financial-year" { (v.financial_year) }
            dt { "From project" } dd id="virement-from-project" { (v.from_project) }
            dt { "To project" } dd id="virement-to-project" { (v.to_project) }
            dt { "Amount" } dd id="virement-amount" { (pounds(v.amount)) }
            dt { "Approved on" } dd id="virement-approved-on" { (v.approved_on) }
            dt { "Approval reference" } dd id="virement-approval-ref" { (v.approval_ref) }
            dt { "Reason" } dd id="virement-reason" { (v.reason) }
            dt { "Proposed by" } dd id="virement-proposed-by" { (v.proposed_by) }
            @if let Some(d) = &v.decided_by { dt { "Decided by" } dd id="virement-decided-by" { (d) } }
            @if let Some(e) = v.entry_id {
                dt { "Entry" } dd id="virement-entry" { a href={ "/entries/" (e) } { "Entry " (e) } }
            }
        }
    }
}

/// The session for a decision; without one, to sign in and back to the virement's page.
fn decider(who: Result<Session, NoSession>, id: &str) -> Result<Session, Box<Response>> {
    match who {
        Ok(s) => Ok(s),
        Err(NoSession::Redirect(_)) => {
            let back = super::percent_encode(&format!("/virements/{id}"));
            Err(Box::new(Redirect::to(&format!("/sign-in?next={back}")).into_response()))
        }
        Err(e) => Err(Box::new(e.into_response())),
    }
}

/// A decision's answer: 303 to the virement's page, or the page again with the problem.
async fn decide(
    s: &AppState,
    who: Result<Session, NoSession>,
    form: Result<CsrfForm, Refused>,
    id: &str,
    reject: bool,
) -> Response {
    let Session(principal, token) = match decider(who, id) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let form = match form {
        Ok(CsrfForm(f)) => f,
        Err(refused) => return refused.into_response(),
    };
    if !Need::Approver.allows(principal.role) {
        return AppError::Forbidden.into_response();
    }
    let id = match super::record_id(id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let actor = super::actor(&principal.name);
    let pairs: Vec<(String, String)> = form.pairs().iter().filter(|(k, _)| k != "csrf_token").cloned().collect();
    let reason = pairs.iter().find(|(k, _)| k == "reason").map(|(_, v)| v.clone()).unwrap_or_default();
    let done = if reject {
        match RejectVirementCmd::from_fields(Fields::text_pairs(pairs)) {
            Ok(cmd) => controls::reject_virement(&s.store, id, &cmd.reason, actor).await.map_err(AppError::Store),
            Err(errors) => Err(AppError::Validation(errors)),
        }
    } else if !pairs.is_empty() {
        Err(AppError::Validation(
            pairs
                .iter()
                .map(|(k, _)| crate::model::fields::FieldError {
                    field: k.clone(),
                    message: "is not a field of this request".into(),
                })
                .collect(),
        ))
    } else {
        controls::approve_virement(&s.store, id, actor).await.map_err(AppError::Store)
    };
    let e = match done {
        Ok(_) => return Redirect::to(&format!("/virements/{id}")).into_response(),
        Err(e) => e,
    };
    // Not the person's to correct on this page (no such virement, busy, a fault): the error page.
    let response = e.into_response();
    if ![StatusCode::UNPROCESSABLE_ENTITY, StatusCode::CONFLICT, StatusCode::FORBIDDEN].contains(&response.status()) {
        return response;
    }
    let problem = Problem::of(response).await;
    let v = match controls::get_virement(&s.store, id).await {
        Ok(v) => v,
        Err(e) => return AppError::Store(e).into_response(),
    };
    page_response(problem.status, render(&v, &principal, &token, Some(&problem), &reason))
}

/// Approve a waiting virement, which posts it; not by its proposer. The body is `csrf_token`.
///
/// Roles: approver, admin, signed in with the session cookie `gl_session`.
#[utoipa::path(post, path = "/virements/{id}/approve", tag = "pages", security(()),
    params(("id" = i64, Path, minimum = 1)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "`csrf_token` only."),
    responses((status = 303, description = "Approved and posted: to `/virements/{id}`; or, without a live session, to `/sign-in`."),
        (status = 403, description = "No valid `csrf_token`, a role that may not approve, or the proposer: a page saying so; nothing is changed.", body = String, content_type = "text/html"),
        (status = 404, description = "No such virement: a page saying so."),
        (status = 409, description = "Not waiting, or refused by a ledger rule: the virement's page, saying so.", body = String, content_type = "text/html")))]
async fn approve_post(
    State(s): State<AppState>,
    who: Result<Session, NoSession>,
    Path(id): Path<String>,
    form: Result<CsrfForm, Refused>,
) -> Response {
    decide(&s, who, form, &id, false).await
}

/// Reject a waiting virement, with a reason; not by its proposer. The body is `RejectVirementCmd`'s
/// fields as text, and `csrf_token`.
///
/// Roles: approver, admin, signed in with the session cookie `gl_session`.
#[utoipa::path(post, path = "/virements/{id}/reject", tag = "pages", security(()),
    params(("id" = i64, Path, minimum = 1)),
    request_body(content = RejectVirementCmd, content_type = "application/x-www-form-urlencoded",
        description = "`reason` as text, and `csrf_token`."),
    responses((status = 303, description = "Rejected: to `/virements/{id}`; or, without a live session, to `/sign-in`."),
        (status = 403, description = "No valid `csrf_token`, a role that may not reject, or the proposer: a page saying so; nothing is changed.", body = String, content_type = "text/html"),
        (status = 404, description = "No such virement: a page saying so."),
        (status = 409, description = "Not waiting: the virement's page, saying so.", body = String, content_type = "text/html"),
        (status = 422, description = "No reason: the virement's page, with the message beside the reason.", body = String, content_type = "text/html")))]
async fn reject_post(
    State(s): State<AppState>,
    who: Result<Session, NoSession>,
    Path(id): Path<String>,
    form: Result<CsrfForm, Refused>,
) -> Response {
    decide(&s, who, form, &id, true).await
}
