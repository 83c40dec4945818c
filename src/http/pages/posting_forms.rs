//! The forms that record money going out and coming back: spend (with VAT, a duplicate
//! confirmed, a warn-grant overspend confirmed), refunds and clawbacks, commitments (a
//! purchase order or a grant agreement with its yearly parts); the commitment's page with its
//! release and evidence forms; and the reversal form of an entry's page (docs/api.md, "Pages:
//! forms"). Each parses into the API's own request type through `forms`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde_json::Value;
use utoipa::PartialSchema;
use utoipa_axum::router::OpenApiRouter;

use super::csrf::{CsrfForm, Refused};
use super::dashboard::pounds;
use super::forms::{self, FormParts, RecordForm, Refusal, Stop, page_get, page_post, record_form_routes};
use super::{NoSession, Session, page_response};
use crate::domain::EvidenceStatus;
use crate::http::AppState;
use crate::http::auth::Need;
use crate::http::error::AppError;
use crate::model::Actor;
use crate::model::agreements::{CommitmentDetail, EvidenceCmd};
use crate::model::fields::{Fields, FromFields};
use crate::model::tokens::Principal;
use crate::storage::{Store, StoreError, operations as ops};

/// The page-only confirmation of a warn-grant overspend.
const OVERSPEND_OK: &str = "overspend_ok";

impl RecordForm for ops::SpendCmd {
    const NAME: &'static str = "spend";
    const TITLE: &'static str = "Record spend";
    const NEED: Need = Need::Finance;
    const FIELDS: &'static [&'static str] = &[
        "grant",
        "project",
        "date",
        "supplier",
        "invoice_ref",
        "description",
        "amount",
        "vat",
        "vat_recoverable",
        "commitment_id",
        "source_ref",
        "duplicate_of_entry_ok",
    ];
    const OWN_LABELS: &'static [(&'static str, &'static str)] =
        &[("date", "Invoice date"), ("amount", "Amount, net of VAT (£)")];
    const DEFAULTS: &'static [(&'static str, &'static str)] = &[("vat_recoverable", "on")];
    const CONFIRMS: &'static [(&'static str, &'static str, &'static str)] = &[(
        OVERSPEND_OK,
        "Record it although it overspends the project: the grant allows it, flagged",
        "overspend_warning",
    )];

    async fn record(self, store: &Store, actor: Actor<'_>) -> Result<String, StoreError> {
        let r = ops::spend(store, self, actor).await?;
        Ok(format!("/entries/{}", r.entry_id))
    }

    /// A grant that warns rather than stops records an overspend flagged; the form asks first.
    async fn record_confirmed(self, store: &Store, actor: Actor<'_>, confirmed: Vec<String>) -> Result<String, Stop> {
        if confirmed.iter().any(|c| c == OVERSPEND_OK) {
            return self.record(store, actor).await.map_err(Stop::Store);
        }
        match ops::spend_unless_flagged(store, self, actor).await.map_err(Stop::Store)? {
            Ok(r) => Ok(format!("/entries/{}", r.entry_id)),
            Err(flags) => {
                let f = &flags[0];
                let mut extra = serde_json::Map::new();
                extra.insert("project".into(), f.project.clone().into());
                extra.insert("available".into(), f.available.to_string().into());
                extra.insert("requested".into(), f.requested.to_string().into());
                extra.insert("shortfall".into(), f.shortfall.to_string().into());
                if let Some(d) = f.as_at {
                    extra.insert("as_at".into(), d.to_string().into());
                }
                let message = format!(
                    "This overspends project {} by {}. Its grant records an overspend flagged rather than refusing it: \
                     tick the box below to record it.",
                    f.project,
                    pounds(f.shortfall)
                );
                Err(Stop::Ask(Refusal::ask("overspend_warning", message, extra)))
            }
        }
    }
}

impl RecordForm for ops::RefundCmd {
    const NAME: &'static str = "refunds";
    const TITLE: &'static str = "Record a refund";
    const NEED: Need = Need::Finance;
    const FIELDS: &'static [&'static str] = &[
        "grant",
        "project",
        "date",
        "reference",
        "amount",
        "vat",
        "vat_recoverable",
        "reason",
        "spend_entry_id",
        "commitment_id",
        "duplicate_of_entry_ok",
    ];
    const OWN_LABELS: &'static [(&'static str, &'static str)] = &[
        ("date", "Date"),
        ("reference", "Reference (credit note)"),
        ("amount", "Amount, net of VAT (£)"),
        ("commitment_id", "Grant agreement it claws back under"),
        ("duplicate_of_entry_ok", "This is a genuine second credit note: record it"),
    ];
    const DEFAULTS: &'static [(&'static str, &'static str)] = &[("vat_recoverable", "on")];

    async fn record(self, store: &Store, actor: Actor<'_>) -> Result<String, StoreError> {
        let r = ops::refund(store, self, actor).await?;
        Ok(format!("/entries/{}", r.entry_id))
    }
}

/// The links between a commitment's two forms.
fn commitment_kinds(current: &str) -> Markup {
    html! {
        nav class="kinds" aria-label="Kind of commitment" {
            "Kind: "
            @if current == "purchase_order" { strong { "a purchase order" } } @else {
                a id="kind-purchase-order" href="/commitments/new" { "a purchase order" }
            }
            " · "
            @if current == "grant_agreement" { strong { "a grant agreement" } } @else {
                a id="kind-grant-agreement" href="/commitments/new?kind=grant_agreement" { "a grant agreement" }
            }
        }
    }
}

impl RecordForm for ops::PurchaseOrderCmd {
    const NAME: &'static str = "commitments";
    const TITLE: &'static str = "Record a purchase order";
    const NEED: Need = Need::Finance;
    const FIELDS: &'static [&'static str] =
        &["grant", "financial_year", "project", "supplier", "reference", "amount", "date", "memo", "kind"];
    const OWN_LABELS: &'static [(&'static str, &'static str)] =
        &[("reference", "Order reference"), ("date", "Date placed")];
    const FIXED: &'static [(&'static str, &'static str)] = &[("kind", "purchase_order")];

    async fn record(self, store: &Store, actor: Actor<'_>) -> Result<String, StoreError> {
        let r = ops::commit(store, ops::CommitmentRequest::PurchaseOrder(self).into(), actor).await?;
        Ok(format!("/commitments/{}", r.commitment_id))
    }

    fn intro() -> Markup {
        commitment_kinds("purchase_order")
    }
}

impl RecordForm for ops::GrantAgreementCmd {
    const NAME: &'static str = "commitments";
    const TITLE: &'static str = "Record a grant agreement";
    const NEED: Need = Need::Finance;
    const FIELDS: &'static [&'static str] = &[
        "recipient",
        "purpose",
        "grant",
        "project",
        "financial_year",
        "amount",
        "date",
        "start_date",
        "end_date",
        "schedule",
        "supplier",
        "reference",
        "memo",
        "kind",
    ];
    const OWN_LABELS: &'static [(&'static str, &'static str)] = &[
        ("financial_year", "Financial year of the first part"),
        ("amount", "Whole amount (£)"),
        ("date", "Date awarded"),
        ("supplier", "Supplier name"),
        ("reference", "Agreement reference"),
    ];
    const FIXED: &'static [(&'static str, &'static str)] = &[("kind", "grant_agreement")];

    async fn record(self, store: &Store, actor: Actor<'_>) -> Result<String, StoreError> {
        let r = ops::commit(store, ops::CommitmentRequest::GrantAgreement(self).into(), actor).await?;
        Ok(format!("/commitments/{}", r.commitment_id))
    }

    fn intro() -> Markup {
        commitment_kinds("grant_agreement")
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    page_router![
        spend_form;
        spend_post;
        refund_form;
        refund_post;
        commitment_form;
        commitment_post;
        commitment_page;
        release_post;
        evidence_post;
        reverse_post;
    ]
}

record_form_routes! {
    type ops::SpendCmd, may_not "record spend";
    /// The form to record spend (`POST /api/v1/spend`'s body), with its VAT.
    ///
    /// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    form spend_form "/spend/new";
    /// Record spend from the form: the fields of `SpendBody` as text, `csrf_token`, and
    /// `overspend_ok` (the page's own: record an overspend a warn grant flags).
    ///
    /// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post spend_post "/spend";
    body "The fields of `SpendBody`, all as text (empty is not given; a checkbox on the form and left unticked is false), `csrf_token`, and `overspend_ok`.";
    done "Recorded: to the entry's page `/entries/{id}`; or, without a live session, to `/sign-in`.";
    missing "No such grant, award, financial year or project: the form again, saying so.";
    refused "Refused by a ledger rule (`overspend` with what is available, `duplicate` with the entry it repeats and a box to confirm a second invoice, `period_closed` …), or an overspend a warn grant would flag (`overspend_warning`), with a box to confirm it: the form again.";
}

record_form_routes! {
    type ops::RefundCmd, may_not "record refunds";
    /// The form to record a refund or credit note, or a clawback under a grant agreement
    /// (`POST /api/v1/refunds`'s body).
    ///
    /// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    form refund_form "/refunds/new";
    /// Record a refund from the form: the fields of `RefundBody` as text, and `csrf_token`.
    ///
    /// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post refund_post "/refunds";
    body "The fields of `RefundBody`, all as text (empty is not given; a checkbox on the form and left unticked is false), and `csrf_token`.";
    done "Recorded: to the entry's page `/entries/{id}`; or, without a live session, to `/sign-in`.";
    missing "No such grant, award, project, spend or commitment: the form again, saying so.";
    refused "Refused by a ledger rule (`duplicate` with the entry it repeats, `period_closed`, `conflict` …): the form again.";
}

/// True when a query or a form's pairs choose a grant agreement.
fn chooses_agreement<'a>(mut pairs: impl Iterator<Item = (&'a str, &'a str)>) -> bool {
    pairs.any(|(k, v)| k == "kind" && v == "grant_agreement")
}

/// The form to record a commitment: a purchase order, or with `?kind=grant_agreement` a grant
/// agreement with its yearly parts (`POST /api/v1/commitments`'s body).
///
/// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
/// session, 303 to `/sign-in`.
#[utoipa::path(get, path = "/commitments/new", tag = "pages", security(()),
    params(("kind" = Option<String>, Query, description = "`grant_agreement` for an agreement's form; else a purchase order's.")),
    responses((status = 200, description = "The form.", body = String, content_type = "text/html"),
        (status = 303, description = "No live session: to `/sign-in`, then back."),
        (status = 403, description = "The session's role may not commit: a page saying so.")))]
async fn commitment_form(
    State(s): State<AppState>,
    who: Result<Session, NoSession>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = q.unwrap_or_default();
    if chooses_agreement(q.split('&').filter_map(|kv| kv.split_once('='))) {
        forms::new_page::<ops::GrantAgreementCmd>(&s, who).await
    } else {
        forms::new_page::<ops::PurchaseOrderCmd>(&s, who).await
    }
}

record_form_routes! {
    type ops::CommitmentRequest, may_not "commit";
    /// Record a commitment from the form: the fields of `PurchaseOrderBody` or
    /// `GrantAgreementBody` (chosen by `kind`) as text, an agreement's parts as
    /// `schedule[i].financial_year` and `schedule[i].amount`, and `csrf_token`.
    ///
    /// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post commitment_post "/commitments";
    body "The fields of `CommitmentBody`, all as text (empty is not given); a schedule's parts as `schedule[i].financial_year` and `schedule[i].amount` from 0, a row left blank not given; and `csrf_token`.";
    done "Committed: to the commitment's page `/commitments/{id}`; or, without a live session, to `/sign-in`.";
    missing "No such grant, award, financial year, project or organisation: the form again, saying so.";
    refused "Refused by a ledger rule (`overspend` with what is available, `period_closed` …): the form again.";
    bad "A bad field (a schedule not adding up names `schedule`, a bad part `schedule[i].FIELD`): the form again, with the values kept and each problem beside its field.";
    via post_commitment;
}

/// A commitment's post, read as the kind it chooses.
async fn post_commitment(s: &AppState, who: Result<Session, NoSession>, form: Result<CsrfForm, Refused>) -> Response {
    let agreement =
        form.as_ref().is_ok_and(|f| chooses_agreement(f.0.pairs().iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    if agreement {
        forms::post::<ops::GrantAgreementCmd>(s, who, form).await
    } else {
        forms::post::<ops::PurchaseOrderCmd>(s, who, form).await
    }
}

/// Which of a commitment page's forms came back, with its values and refusal.
enum Returned<'a> {
    None,
    Release(&'a [(String, String)], &'a Refusal),
    Evidence(&'a [(String, String)], &'a Refusal),
}

const RELEASE_LABELS: &[(&str, &str)] = &[("date", "Date"), ("amount", "Amount released (£)"), ("reason", "Reason")];
const EVIDENCE_LABELS: &[(&str, &str)] = &[
    ("date", "Date received"),
    ("amount_evidenced", "Amount evidenced (£)"),
    ("status", "Evidence status"),
    ("note", "Note"),
];

fn schema_of<T: PartialSchema>() -> Value {
    serde_json::to_value(T::schema()).unwrap_or_default()
}

/// The commitment's page: its details, parts, payments drawn on it and evidence, and the forms
/// the person's role may use.
async fn commitment_html(
    s: &AppState,
    who: &Principal,
    token: &str,
    id: i64,
    returned: Returned<'_>,
) -> Result<String, AppError> {
    let c = ops::commitment_detail(&s.store, id).await?;
    let title = format!("Commitment {id}");
    let may = Need::Finance.allows(who.role);
    let empty = Refusal::default();
    let (release, evidence) = match returned {
        Returned::None => ((&[][..], &empty), (&[][..], &empty)),
        Returned::Release(p, r) => ((p, r), (&[][..], &empty)),
        Returned::Evidence(p, r) => ((&[][..], &empty), (p, r)),
    };
    let release_fields = forms::fields_in(&schema_of::<ops::ReleaseCmd>(), RELEASE_LABELS);
    let mut evidence_fields = forms::fields_in(&schema_of::<EvidenceCmd>(), EVIDENCE_LABELS);
    forms::with_words(&mut evidence_fields, "status", EvidenceStatus::ALL.iter().map(|w| w.to_string()).collect());
    let choices = Default::default();
    let release_action = format!("/commitments/{id}/release");
    let evidence_action = format!("/commitments/{id}/evidence");
    let agreement = c.recipient.is_some();
    let body = html! {
        (super::html::masthead(&title, who))
        main {
            (details_html(&c))
            @if may {
                section aria-labelledby="h-release" class="form-page" {
                    h2 id="h-release" { "Release what it will not spend" }
                    (forms::form_html(&FormParts { action: &release_action, submit: "Release", fields: &release_fields,
                        fixed: &[], confirms: &[], choices: &choices }, token, release.0, release.1))
                }
                @if agreement {
                    section aria-labelledby="h-evidence-form" class="form-page" {
                        h2 id="h-evidence-form" { "Record the partner's evidence" }
                        (forms::form_html(&FormParts { action: &evidence_action, submit: "Record evidence", fields: &evidence_fields,
                            fixed: &[], confirms: &[], choices: &choices }, token, evidence.0, evidence.1))
                    }
                }
            }
        }
    };
    Ok(super::html::page(&format!("{title} · grant-ledger"), body))
}

fn details_html(c: &CommitmentDetail) -> Markup {
    html! {
        dl class="record" id="commitment" {
            dt { "Kind" } dd id="commitment-kind" { (c.kind) }
            dt { "Grant" } dd id="commitment-grant" { (c.grant) }
            dt { "Financial year" } dd id="commitment-financial-year" { (c.financial_year) }
            dt { "Project" } dd id="commitment-project" { (c.project) }
            dt { "Supplier" } dd id="commitment-supplier" { (c.supplier) }
            @if !c.reference.is_empty() { dt { "Reference" } dd id="commitment-reference" { (c.reference) } }
            dt { "Date" } dd id="commitment-date" { (c.date) }
            @if !c.memo.is_empty() { dt { "Memo" } dd id="commitment-memo" { (c.memo) } }
            @if let Some(r) = &c.recipient {
                dt { "Delivery partner" } dd id="commitment-recipient" { (r) @if let Some(n) = &c.recipient_name { " — " (n) } }
            }
            @if let (Some(a), Some(b)) = (c.start_date, c.end_date) { dt { "Period" } dd id="commitment-period" { (a) " to " (b) } }
            @if let Some(p) = &c.purpose { dt { "Purpose" } dd id="commitment-purpose" { (p) } }
            dt { "Amount" } dd id="commitment-amount" { (pounds(c.amount)) }
            dt { "Paid" } dd id="commitment-paid" { (pounds(c.paid)) }
            dt { "Outstanding" } dd id="commitment-outstanding" { (pounds(c.outstanding)) }
            @if c.recipient.is_some() {
                dt { "Clawed back" } dd id="commitment-clawed-back" { (pounds(c.clawed_back)) }
                dt { "Evidenced" } dd id="commitment-evidenced" { (pounds(c.evidenced)) }
                dt { "Unevidenced" } dd id="commitment-unevidenced" { (pounds(c.unevidenced)) }
            }
        }
        table id="parts" {
            caption { "Parts by financial year" }
            thead { tr { th scope="col" { "Financial year" } th scope="col" class="num" { "Amount" } th scope="col" { "Status" } th scope="col" class="num" { "Outstanding" } } }
            tbody {
                @for p in &c.schedule {
                    tr {
                        td { (p.financial_year) }
                        td class="num" { (pounds(p.amount)) }
                        td { @if let Some(e) = p.entry_id { a href={ "/entries/" (e) } { (p.status) } } @else { (p.status) } }
                        td class="num" { (pounds(p.outstanding)) }
                    }
                }
            }
        }
        table id="payments" {
            caption { "Spend and refunds drawn on it" }
            thead { tr { th scope="col" { "Entry" } th scope="col" { "Kind" } th scope="col" { "Date" } th scope="col" { "Reference" } th scope="col" class="num" { "Amount" } } }
            tbody {
                @for p in &c.payments {
                    tr {
                        td { a href={ "/entries/" (p.entry_id) } { (p.entry_id) } @if p.reversed_by.is_some() { " (reversed)" } }
                        td { (p.kind) }
                        td { (p.date) }
                        td { (p.reference) }
                        td class="num" { (pounds(p.amount)) }
                    }
                }
            }
        }
        @if c.recipient.is_some() {
            table id="evidence" {
                caption { "The partner's evidence" }
                thead { tr { th scope="col" { "Date" } th scope="col" { "Status" } th scope="col" class="num" { "Amount" } th scope="col" { "Note" } th scope="col" { "Recorded by" } } }
                tbody {
                    @for e in &c.evidence {
                        tr {
                            td { (e.date) }
                            td { (e.status) @if let Some(r) = &e.reversal { " (reversed " (r.date) ": " (r.reason) ")" } }
                            td class="num" { (pounds(e.amount_evidenced)) }
                            td { (e.note) }
                            td { (e.created_by) }
                        }
                    }
                }
            }
        }
    }
}

page_get! {
    /// One commitment: its details, its parts by year, the spend and refunds drawn on it and a
    /// partner's evidence; with the forms to release what it will not spend and, for a grant
    /// agreement, to record the partner's evidence.
    ///
    /// Roles: every role, signed in with the session cookie `gl_session` (the forms for finance
    /// and admin); without a live session, 303 to `/sign-in`.
    get "/commitments/{id}" record; missing "No such commitment: a page saying so.";
    async fn commitment_page(
        State(s): State<AppState>,
        Session(who, token): Session,
        Path(id): Path<String>,
    ) -> Result<Response, AppError> {
        let id = super::record_id(&id)?;
        Ok(page_response(StatusCode::OK, commitment_html(&s, &who, &token, id, Returned::None).await?))
    }
}

/// An action form on a record's page (`POST /X/{id}/ACTION`): the id (a bad one refused
/// first), a session (else to sign in and back to `page_of(id)`), a valid token, the role
/// `need` says, the fields read into `T`, and `run` as the signed-in person; 303 to the
/// record's page, or that page again (`again`) with the form's values and refusal.
async fn act<T: FromFields>(
    id: &str,
    page_of: impl Fn(i64) -> String,
    (who, form): (Result<Session, NoSession>, Result<CsrfForm, Refused>),
    need: impl AsyncFnOnce(i64) -> Result<Need, StoreError>,
    run: impl AsyncFnOnce(T, i64, Actor<'_>) -> Result<(), StoreError>,
    again: impl AsyncFnOnce(&Principal, &str, i64, &[(String, String)], &Refusal) -> Result<String, AppError>,
) -> Response {
    let id = match super::record_id(id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let page = page_of(id);
    let Session(who, token) = match who {
        Ok(w) => w,
        Err(NoSession::Redirect(_)) => {
            return Redirect::to(&format!("/sign-in?next={}", super::percent_encode(&page))).into_response();
        }
        Err(e) => return e.into_response(),
    };
    let pairs = match form {
        Ok(CsrfForm(f)) => f.pairs().to_vec(),
        Err(refused) => return refused.into_response(),
    };
    match need(id).await {
        Ok(need) if need.allows(who.role) => {}
        Ok(_) => return AppError::Forbidden.into_response(),
        Err(e) => return AppError::Store(e).into_response(),
    }
    let (fields, _) = forms::for_reading(&pairs, &[]);
    let outcome = match T::from_fields(Fields::text_pairs(fields)) {
        Err(errors) => Err(AppError::Validation(errors)),
        Ok(cmd) => run(cmd, id, super::actor(&who.name)).await.map_err(AppError::Store),
    };
    let error = match outcome {
        Ok(()) => return Redirect::to(&page).into_response(),
        Err(e) => e,
    };
    let refusal = match Refusal::of(error).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    match again(&who, &token, id, &pairs, &refusal).await {
        Ok(html) => page_response(refusal.status(), html),
        Err(e) => e.into_response(),
    }
}

fn commitment_path(id: i64) -> String {
    format!("/commitments/{id}")
}

page_post! {
    /// Release what a commitment will not spend, from the form on its page: the fields of
    /// `ReleaseBody` as text, and `csrf_token`.
    ///
    /// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post "/commitments/{id}/release" record; body ops::ReleaseCmd, "The fields of `ReleaseBody`, all as text (empty is not given), and `csrf_token`.";
    done "Released: to the commitment's page; or, without a live session, to `/sign-in`.";
    denied "No valid `csrf_token`, another origin, or a role that may not release: a page saying so; nothing is changed.";
    missing "No such commitment: a page saying so.";
    refused "More than is outstanding, or the year is closed: the commitment's page, the form with its values and the problem.";
    bad "A bad field: the commitment's page, each problem beside its field.";
    async fn release_post(
        State(s): State<AppState>,
        who: Result<Session, NoSession>,
        Path(id): Path<String>,
        form: Result<CsrfForm, Refused>,
    ) -> Response {
        let run = async |cmd: ops::ReleaseCmd, id, actor: Actor<'_>| {
            ops::release(&s.store, ops::ReleaseCmd { commitment_id: id, ..cmd }, actor).await.map(|_| ())
        };
        let again = async |who: &Principal, token: &str, id, pairs: &[(String, String)], r: &Refusal| {
            commitment_html(&s, who, token, id, Returned::Release(pairs, r)).await
        };
        act(&id, commitment_path, (who, form), async |_| Ok(Need::Finance), run, again).await
    }
}

page_post! {
    /// Record a partner's evidence of spend, from the form on a grant agreement's page: the
    /// fields of `EvidenceBody` as text, and `csrf_token`.
    ///
    /// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post "/commitments/{id}/evidence" record; body EvidenceCmd, "The fields of `EvidenceBody`, all as text (empty is not given), and `csrf_token`.";
    done "Recorded: to the commitment's page; or, without a live session, to `/sign-in`.";
    denied "No valid `csrf_token`, another origin, or a role that may not record evidence: a page saying so; nothing is changed.";
    missing "No such commitment: a page saying so.";
    refused "Refused by a rule: the commitment's page, the form with its values and the problem.";
    bad "A bad field, more than was paid, or a purchase order: the commitment's page, each problem beside its field.";
    async fn evidence_post(
        State(s): State<AppState>,
        who: Result<Session, NoSession>,
        Path(id): Path<String>,
        form: Result<CsrfForm, Refused>,
    ) -> Response {
        let run = async |cmd: EvidenceCmd, id, actor: Actor<'_>| {
            ops::record_evidence(&s.store, EvidenceCmd { commitment_id: id, ..cmd }, actor).await.map(|_| ())
        };
        let again = async |who: &Principal, token: &str, id, pairs: &[(String, String)], r: &Refusal| {
            commitment_html(&s, who, token, id, Returned::Evidence(pairs, r)).await
        };
        act(&id, commitment_path, (who, form), async |_| Ok(Need::Finance), run, again).await
    }
}

page_post! {
    /// Reverse an entry, from the form on its page: `date` and `reason` (`ReverseBody`) as
    /// text, and `csrf_token`.
    ///
    /// Roles: the role that records the entry's kind (as `POST /api/v1/entries/{id}/reverse`),
    /// signed in with the session cookie `gl_session`; without a live session, 303 to `/sign-in`.
    post "/entries/{id}/reverse" record; body ops::ReverseCmd, "The fields of `ReverseBody`, all as text (empty is not given), and `csrf_token`.";
    done "Reversed: to the entry's page, which names its reversal; or, without a live session, to `/sign-in`.";
    denied "No valid `csrf_token`, another origin, or a role that may not reverse this kind: a page saying so; nothing is changed.";
    missing "No such entry: a page saying so.";
    refused "Reversed before, or refused by a ledger rule: the entry's page, the form with its values and the problem.";
    bad "A bad field: the entry's page, each problem beside its field.";
    async fn reverse_post(
        State(s): State<AppState>,
        who: Result<Session, NoSession>,
        Path(id): Path<String>,
        form: Result<CsrfForm, Refused>,
    ) -> Response {
        let need = async |id| Ok(Need::to_reverse(ops::entry_kind(&s.store, id).await?));
        let run = async |cmd: ops::ReverseCmd, id, actor: Actor<'_>| {
            ops::reverse(&s.store, ops::ReverseCmd { entry_id: id, ..cmd }, actor).await.map(|_| ())
        };
        let again = async |who: &Principal, token: &str, id, pairs: &[(String, String)], r: &Refusal| {
            super::record_pages::entry_html_page(&s, who, token, id, pairs, r).await
        };
        act(&id, |id| format!("/entries/{id}"), (who, form), need, run, again).await
    }
}
