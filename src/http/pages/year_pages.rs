//! The year's controls as pages (docs/controls.md, docs/returns.md): a financial year's page
//! with its quarters and awards; the forms to close and reopen the year, lock and unlock a
//! quarter, and resolve an award's unspent money at year end, each at its record's own
//! address and answering `303` back to the year's page; filing a return (`GET /returns/new`,
//! `POST /returns`) and the filed return's page. Each form is drawn from and read into the
//! API route's own request type (`forms::render_at`), and refuses as the recording forms do.

use std::future::Future;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use super::csrf::{CsrfForm, Refused};
use super::forms::{Look, RecordForm, Refusal, page_get, record_form_routes, render_at};
use super::{NoSession, Session, actor, page_response, percent_encode};
use crate::domain::{FinancialYear, Money};
use crate::http::AppState;
use crate::http::auth::Need;
use crate::http::error::AppError;
use crate::http::input::Query;
use crate::model::Actor;
use crate::model::controls::{CloseYearCmd, ReopenYearCmd, YearEndCmd};
use crate::model::fields::{Fields, FromFields};
use crate::model::page::PAGE_LIMIT_MAX;
use crate::model::quarters::QuarterLockCmd;
use crate::model::reference::AwardRecord;
use crate::model::returns::{FileReturnCmd, FiledReturn};
use crate::reports::filing;
use crate::storage::{StoreError, controls, quarter_locks, reference, returns};

pub fn router() -> OpenApiRouter<AppState> {
    page_router![
        year_page;
        close_form, close_post;
        reopen_form, reopen_post;
        lock_form, lock_post;
        unlock_form, unlock_post;
        year_end_form, year_end_post;
        return_form;
        return_post;
        return_page;
    ]
}

const REASON: &[(&str, &str)] = &[("reason", "Reason")];

impl RecordForm for FileReturnCmd {
    const NAME: &'static str = "returns";
    const TITLE: &'static str = "File a return";
    const NEED: Need = Need::Reporting;
    const FIELDS: &'static [&'static str] = &["kind", "financial_year", "quarter"];
    const OWN_LABELS: &'static [(&'static str, &'static str)] = &[("kind", "Return")];

    async fn record(self, store: &crate::storage::Store, actor: Actor<'_>) -> Result<String, StoreError> {
        let FileReturnCmd { kind, year, quarter } = self;
        let filed = filing::file(store, kind, year, quarter, actor).await?;
        Ok(format!("/returns/{}", filed.id))
    }
}

/// A form at its record's address: its look and where success goes.
pub(super) struct Control {
    pub path: String,
    pub title: String,
    pub labels: &'static [(&'static str, &'static str)],
    pub intro: Markup,
    pub done: String,
}

/// The session, or the answer instead: to sign in and back to `path`.
fn signed_in(who: Result<Session, NoSession>, path: &str) -> Result<Session, Box<Response>> {
    match who {
        Ok(who) => Ok(who),
        Err(NoSession::Redirect(_)) => {
            Err(Box::new(Redirect::to(&format!("/sign-in?next={}", percent_encode(path))).into_response()))
        }
        Err(e) => Err(Box::new(e.into_response())),
    }
}

fn year_of(text: &str) -> Result<FinancialYear, AppError> {
    FinancialYear::parse(text).map_err(|e| AppError::field("fy", e.to_string()))
}

fn quarter_of(text: &str) -> Result<u8, AppError> {
    match text {
        "1" | "2" | "3" | "4" => Ok(text.as_bytes()[0] - b'0'),
        _ => Err(AppError::field("q", "must be a quarter: 1, 2, 3 or 4")),
    }
}

/// The form of `T` for `c`, blank, or again with `pairs` and `refusal`.
async fn show<T: ToSchema>(
    s: &AppState,
    who: &Session,
    c: &Control,
    pairs: &[(String, String)],
    refusal: &Refusal,
) -> Response {
    let look = Look { title: &c.title, action: &c.path, labels: c.labels, intro: c.intro.clone() };
    let status =
        if pairs.is_empty() && refusal.status() == StatusCode::default() { StatusCode::OK } else { refusal.status() };
    match render_at::<T>(s, &who.0, &who.1, &look, pairs, refusal).await {
        Ok(page) => page_response(status, page),
        Err(e) => e.into_response(),
    }
}

/// `GET` of a control's form: signed in, a role that may, then `control(s)` says what it is.
pub(super) async fn form_page<T, C>(
    s: &AppState,
    who: Result<Session, NoSession>,
    path: &str,
    need: Need,
    control: C,
) -> Response
where
    T: ToSchema,
    C: Future<Output = Result<Control, AppError>>,
{
    form_page_filled::<T, _>(s, who, path, need, async { control.await.map(|c| (c, Vec::new())) }).await
}

/// As `form_page`, `control` also giving the pairs the form is filled in with (what is set
/// now, to edit).
pub(super) async fn form_page_filled<T, C>(
    s: &AppState,
    who: Result<Session, NoSession>,
    path: &str,
    need: Need,
    control: C,
) -> Response
where
    T: ToSchema,
    C: Future<Output = Result<(Control, Vec<(String, String)>), AppError>>,
{
    let who = match signed_in(who, path) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    if !need.allows(who.0.role) {
        return AppError::Forbidden.into_response();
    }
    match control.await {
        Ok((c, pairs)) => show::<T>(s, &who, &c, &pairs, &Refusal::default()).await,
        Err(e) => e.into_response(),
    }
}

/// `POST` of a control's form: signed in, its token, a role that may, the fields read into
/// `T` and `run` as the signed-in person; `303` to `done`, or the form again saying why.
pub(super) async fn form_post<T, C, F>(
    s: &AppState,
    who: Result<Session, NoSession>,
    form: Result<CsrfForm, Refused>,
    path: &str,
    need: Need,
    control: C,
    run: F,
) -> Response
where
    T: FromFields + ToSchema,
    C: Future<Output = Result<Control, AppError>>,
    F: AsyncFnOnce(T, String) -> Result<(), StoreError>,
{
    let who = match signed_in(who, path) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let form = match form {
        Ok(CsrfForm(form)) => form,
        Err(refused) => return refused.into_response(),
    };
    if !need.allows(who.0.role) {
        return AppError::Forbidden.into_response();
    }
    let pairs = form.pairs().to_vec();
    let error = match T::from_fields(Fields::text_pairs(pairs.clone())) {
        Err(errors) => AppError::Validation(errors),
        Ok(cmd) => match run(cmd, who.0.name.clone()).await {
            Ok(()) => {
                return match control.await {
                    Ok(c) => Redirect::to(&c.done).into_response(),
                    Err(e) => e.into_response(),
                };
            }
            Err(e) => AppError::Store(e),
        },
    };
    let refusal = match Refusal::of(error).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    match control.await {
        Ok(c) => show::<T>(s, &who, &c, &pairs, &refusal).await,
        Err(e) => e.into_response(),
    }
}

/// The year's state and quarters, above each of its forms.
async fn year_summary(s: &AppState, year: FinancialYear) -> Result<Markup, AppError> {
    let record = reference::get_financial_year(&s.store, year).await?;
    let quarters = quarter_locks::quarter_states(&s.store, year).await?;
    Ok(html! {
        p id="year-state" {
            "Financial year " (record.code) ", " (record.start_date) " to " (record.end_date) ": "
            strong { (record.status.as_str()) } "."
        }
        p id="quarter-states" {
            "Quarters: "
            @for (i, q) in quarters.iter().enumerate() {
                @if i > 0 { ", " }
                "Q" (q.quarter) " " (if q.locked { "locked" } else { "open" })
            }
            "."
        }
        p { a id="to-year" href={ "/financial-years/" (year) } { "Back to " (year) "'s page" } }
    })
}

/// The year's awards, grant by grant.
async fn awards_of(s: &AppState, year: FinancialYear) -> Result<Vec<AwardRecord>, AppError> {
    let code = year.to_string();
    let mut awards = Vec::new();
    for grant in reference::list_grants(&s.store, "", PAGE_LIMIT_MAX).await?.items {
        let page = reference::list_awards(&s.store, &grant.code, "", PAGE_LIMIT_MAX).await?;
        awards.extend(page.items.into_iter().filter(|a| a.financial_year == code));
    }
    Ok(awards)
}

fn pounds(m: Money) -> String {
    super::dashboard::pounds(m)
}

page_get! {
    /// A financial year: whether it is open or closed, its quarters (each with the form to lock
    /// or unlock it), the returns filed for it (each with the form to file one), its awards (each
    /// with its year-end form and, for an approver or admin, its payment schedule's form), and
    /// the form to close or reopen it.
    ///
    /// Roles: every role, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`. The forms it links to are admin's (year end: approver's too;
    /// filing: finance's and approver's too).
    get "/financial-years/{fy}" params(("fy" = crate::domain::FinancialYear, Path)); missing "No such financial year: a page saying so."; bad "Not a financial year: a page saying so.";
    async fn year_page(
        State(s): State<AppState>,
        Session(who, _): Session,
        Path(fy): Path<String>,
    ) -> Result<Response, AppError> {
        let year = year_of(&fy)?;
        let record = reference::get_financial_year(&s.store, year).await?;
        let quarters = quarter_locks::quarter_states(&s.store, year).await?;
        let filed = returns::list(&s.store, None, Some(year), 0, 50).await?.items;
        let awards = awards_of(&s, year).await?;
        let closed = record.status.as_str() == "closed";
        // Linked only for the roles that may set it: the others would meet a refusal.
        let may_schedule = Need::Approver.allows(who.role);
        let title = format!("Financial year {year}");
        let body = html! {
            (super::html::masthead(&title, &who))
            main id="content" tabindex="-1" {
                p id="year-state" {
                    (record.start_date) " to " (record.end_date) ": " strong { (record.status.as_str()) } "."
                }
                section aria-labelledby="h-quarters" {
                    h2 id="h-quarters" { "Quarters" }
                    p class="hint" {
                        "No entry dated in a locked quarter is recorded; a correction goes in an open quarter. "
                        "Quarters lock in order, and unlock from the latest."
                    }
                    table class="quarters" id="quarters" {
                        thead { tr {
                            th scope="col" { "Quarter" } th scope="col" { "State" } th scope="col" { "Last change" }
                            th scope="col" class="noprint" { "Change" } th scope="col" class="noprint" { "Return" }
                        } }
                        tbody {
                            @for q in &quarters {
                                tr id={ "quarter-" (q.quarter) } {
                                    th scope="row" { "Q" (q.quarter) }
                                    td class="state" { (if q.locked { "Locked" } else { "Open" }) }
                                    td { @if let (Some(by), Some(at)) = (&q.changed_by, &q.changed_at) { (at) " by " (by) ": " (q.reason) } }
                                    td class="noprint" {
                                        @if q.locked {
                                            a id={ "unlock-" (q.quarter) } href={ "/financial-years/" (year) "/quarters/" (q.quarter) "/unlock" } { "Unlock Q" (q.quarter) }
                                        } @else {
                                            a id={ "lock-" (q.quarter) } href={ "/financial-years/" (year) "/quarters/" (q.quarter) "/lock" } { "Lock Q" (q.quarter) }
                                        }
                                    }
                                    td class="noprint" {
                                        a id={ "file-" (q.quarter) } href={ "/returns/new?financial_year=" (year) "&quarter=" (q.quarter) } { "File Q" (q.quarter) "'s return" }
                                    }
                                }
                            }
                        }
                    }
                }
                section aria-labelledby="h-returns" {
                    h2 id="h-returns" { "Filed returns" }
                    @if filed.is_empty() {
                        p { "No return has been filed for this year." }
                    } @else {
                        ul id="filed" {
                            @for r in &filed {
                                li { a href={ "/returns/" (r.id) } { "No. " (r.id) ": " (r.kind.as_str()) ", Q" (r.quarter) } ", filed " (r.filed_at) " by " (r.filed_by) }
                            }
                        }
                    }
                }
                section aria-labelledby="h-awards" {
                    h2 id="h-awards" { "Awards and year end" }
                    @if awards.is_empty() {
                        p { "No award for this year." }
                    } @else {
                        table id="awards" {
                            thead { tr {
                                th scope="col" { "Grant" } th scope="col" class="num" { "Award" } th scope="col" class="num" { "Unallocated" }
                                th scope="col" class="num" { "Carried forward or returned" } th scope="col" class="noprint" { "Year end" }
                                @if may_schedule { th scope="col" class="noprint" { "Payment schedule" } }
                            } }
                            tbody {
                                @for a in &awards {
                                    tr {
                                        th scope="row" { (a.grant) }
                                        td class="num" { (pounds(a.amount)) }
                                        td class="num" { (pounds(a.unallocated)) }
                                        td class="num" { (pounds(a.carried_forward_or_returned)) }
                                        td class="noprint" {
                                            a id={ "year-end-" (a.grant) } href={ "/grants/" (a.grant) "/awards/" (year) "/year-end" } { "Year end of " (a.grant) }
                                        }
                                        @if may_schedule {
                                            td class="noprint" {
                                                a id={ "payment-schedule-" (a.grant) } href=(super::schedule_pages::schedule_path(&a.grant, year)) { "Payment schedule of " (a.grant) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                section aria-labelledby="h-close" {
                    h2 id="h-close" { "Closing the year" }
                    @if closed {
                        p { "The year is closed: no entry may be dated in it. " a id="reopen" href={ "/financial-years/" (year) "/reopen" } { "Reopen " (year) } }
                    } @else {
                        p { "Once every award's unspent money is resolved, the year may be closed. " a id="close" href={ "/financial-years/" (year) "/close" } { "Close " (year) } }
                    }
                }
            }
        };
        Ok(page_response(StatusCode::OK, super::html::page(&format!("{title} · grant-ledger"), body)))
    }
}

/// Declares a control's two routes at its record's address once: `form NAME`, its form
/// (`GET`), and `post NAME`, recording it (`POST`), each handler with its doc comment, written
/// above it in the call, and its `#[utoipa::path]`. Both are answered by `answer(state, who,
/// at, form, ARGS)`, `at` the path's parts and `form` the post's (`None` for the form). The
/// call gives the words that differ: who may (`not`: the refusal of another role, at the start
/// of a sentence and within one), what success did (`done`), what may be missing (404) and
/// the refusals of the rule (409, where there are any); `to` names where success goes when it is not the year's
/// page, and `bad` replaces the common 422 where a form says more.
macro_rules! control_routes {
    (@either , $($default:tt)*) => { $($default)* };
    (@either $given:expr, $($default:tt)*) => { $given };
    (
        $(#[doc = $form_doc:tt])*
        form $form:ident;
        $(#[doc = $post_doc:tt])*
        post $post:ident;
        path $path:literal, params($($params:tt)*), at $at:tt;
        type $cmd:ident, body $body:literal;
        not $not:literal, $not_within:literal;
        done $done:literal $(, to $to:literal)?;
        missing $missing:literal;
        $(refused $refused:literal;)?
        $(bad $bad:literal;)?
        answer $answer:ident $(, $arg:expr)*;
    ) => {
        $(#[doc = $form_doc])*
        #[utoipa::path(get, path = $path, tag = "pages", security(()),
            params($($params)*),
            responses((status = 200, description = "The form.", body = String, content_type = "text/html"),
                (status = 303, description = "No live session: to `/sign-in`, then back."),
                (status = 403, description = concat!($not, ": a page saying so.")),
                (status = 404, description = $missing)))]
        async fn $form(State(s): State<AppState>, who: Result<Session, NoSession>, Path(at): Path<$at>) -> Response {
            $answer(s, who, at, None $(, $arg)*).await
        }

        $(#[doc = $post_doc])*
        #[utoipa::path(post, path = $path, tag = "pages", security(()),
            params($($params)*),
            request_body(content = $cmd, content_type = "application/x-www-form-urlencoded", description = $body),
            responses((status = 303, description = concat!($done, ": to ",
                    control_routes!(@either $($to)?, "the year's page `/financial-years/{fy}`"),
                    "; or, without a live session, to `/sign-in`.")),
                (status = 403, description = concat!("No valid `csrf_token`, another origin, or ", $not_within,
                    ": a page saying so; nothing is changed.")),
                (status = 404, description = $missing),
                $((status = 409, description = $refused, body = String, content_type = "text/html"),)?
                (status = 422, description = control_routes!(@either $($bad)?,
                    "A bad field: the form again, with the values kept."), body = String, content_type = "text/html")))]
        async fn $post(
            State(s): State<AppState>,
            who: Result<Session, NoSession>,
            Path(at): Path<$at>,
            form: Result<CsrfForm, Refused>,
        ) -> Response {
            $answer(s, who, at, Some(form) $(, $arg)*).await
        }
    };
}

pub(super) use control_routes;

async fn close_control(s: &AppState, fy: &str, close: bool) -> Result<Control, AppError> {
    let year = year_of(fy)?;
    let word = if close { "close" } else { "reopen" };
    Ok(Control {
        path: format!("/financial-years/{year}/{word}"),
        title: format!("{} financial year {year}", if close { "Close" } else { "Reopen" }),
        labels: REASON,
        intro: year_summary(s, year).await?,
        done: format!("/financial-years/{year}"),
    })
}

/// A form that is a control's (`None`), or the post of one.
pub(super) type Posted = Option<Result<CsrfForm, Refused>>;

/// Closes or reopens a year from its form, or shows the form.
async fn year_state(s: AppState, who: Result<Session, NoSession>, fy: String, form: Posted, close: bool) -> Response {
    let Some(form) = form else {
        let path = format!("/financial-years/{fy}/{}", if close { "close" } else { "reopen" });
        let control = close_control(&s, &fy, close);
        return if close {
            form_page::<CloseYearCmd, _>(&s, who, &path, Need::Admin, control).await
        } else {
            form_page::<ReopenYearCmd, _>(&s, who, &path, Need::Admin, control).await
        };
    };
    let year = match year_of(&fy) {
        Ok(y) => y,
        Err(e) => return e.into_response(),
    };
    let store = s.store.clone();
    let path = format!("/financial-years/{year}/{}", if close { "close" } else { "reopen" });
    let control = close_control(&s, &fy, close);
    if close {
        let run = async |cmd: CloseYearCmd, name: String| {
            controls::close_year(&store, year, &cmd.reason, actor(&name)).await.map(|_| ())
        };
        form_post::<CloseYearCmd, _, _>(&s, who, form, &path, Need::Admin, control, run).await
    } else {
        let run = async |cmd: ReopenYearCmd, name: String| {
            controls::reopen_year(&store, year, &cmd.reason, actor(&name)).await.map(|_| ())
        };
        form_post::<ReopenYearCmd, _, _>(&s, who, form, &path, Need::Admin, control, run).await
    }
}

control_routes! {
    /// The form to close a financial year (`POST /api/v1/financial-years/{fy}/close`'s body).
    ///
    /// Roles: admin, signed in with the session cookie `gl_session`; without a live session,
    /// 303 to `/sign-in`.
    form close_form;
    /// Close a financial year, from the form: `reason` (may be empty) and `csrf_token`.
    ///
    /// Roles: admin, signed in with the session cookie `gl_session`; without a live session,
    /// 303 to `/sign-in`.
    post close_post;
    path "/financial-years/{fy}/close", params(("fy" = crate::domain::FinancialYear, Path)), at String;
    type CloseYearCmd, body "The fields of `CloseBody`, as text, and `csrf_token`.";
    not "Not admin", "not admin";
    done "Closed";
    missing "No such financial year: a page saying so.";
    refused "Something of the year is unresolved, or it is closed: the form again, saying what.";
    answer year_state, true;
}

control_routes! {
    /// The form to reopen a closed financial year (`POST /api/v1/financial-years/{fy}/reopen`'s body).
    ///
    /// Roles: admin, signed in with the session cookie `gl_session`; without a live session,
    /// 303 to `/sign-in`.
    form reopen_form;
    /// Reopen a closed financial year, from the form: `reason` and `csrf_token`.
    ///
    /// Roles: admin, signed in with the session cookie `gl_session`; without a live session,
    /// 303 to `/sign-in`.
    post reopen_post;
    path "/financial-years/{fy}/reopen", params(("fy" = crate::domain::FinancialYear, Path)), at String;
    type ReopenYearCmd, body "The fields of `ReopenBody`, as text, and `csrf_token`.";
    not "Not admin", "not admin";
    done "Reopened";
    missing "No such financial year: a page saying so.";
    refused "The year is open: the form again, saying so.";
    answer year_state, false;
}

async fn quarter_control(s: &AppState, fy: &str, q: &str, lock: bool) -> Result<Control, AppError> {
    let (year, quarter) = (year_of(fy)?, quarter_of(q)?);
    let word = if lock { "lock" } else { "unlock" };
    Ok(Control {
        path: format!("/financial-years/{year}/quarters/{quarter}/{word}"),
        title: format!("{} Q{quarter} of {year}", if lock { "Lock" } else { "Unlock" }),
        labels: REASON,
        intro: year_summary(s, year).await?,
        done: format!("/financial-years/{year}"),
    })
}

/// Locks or unlocks a quarter from its form, or shows the form.
async fn quarter(
    s: AppState,
    who: Result<Session, NoSession>,
    (fy, q): (String, String),
    form: Posted,
    lock: bool,
) -> Response {
    let word = if lock { "lock" } else { "unlock" };
    let Some(form) = form else {
        let path = format!("/financial-years/{fy}/quarters/{q}/{word}");
        return form_page::<QuarterLockCmd, _>(&s, who, &path, Need::Admin, quarter_control(&s, &fy, &q, lock)).await;
    };
    let at = year_of(&fy).and_then(|y| Ok((y, quarter_of(&q)?)));
    let (year, quarter) = match at {
        Ok(at) => at,
        Err(e) => return e.into_response(),
    };
    let store = s.store.clone();
    let run = async |cmd: QuarterLockCmd, name: String| {
        quarter_locks::set_locked(&store, year, quarter, lock, &cmd.reason, actor(&name)).await.map(|_| ())
    };
    let path = format!("/financial-years/{year}/quarters/{quarter}/{word}");
    let control = quarter_control(&s, &fy, &q, lock);
    form_post::<QuarterLockCmd, _, _>(&s, who, form, &path, Need::Admin, control, run).await
}

control_routes! {
    /// The form to lock a quarter (`POST /api/v1/financial-years/{fy}/quarters/{q}/lock`'s body).
    ///
    /// Roles: admin, signed in with the session cookie `gl_session`; without a live session,
    /// 303 to `/sign-in`.
    form lock_form;
    /// Lock a quarter, from the form: `reason` and `csrf_token`.
    ///
    /// Roles: admin, signed in with the session cookie `gl_session`; without a live session,
    /// 303 to `/sign-in`.
    post lock_post;
    path "/financial-years/{fy}/quarters/{q}/lock",
        params(("fy" = crate::domain::FinancialYear, Path), ("q" = u8, Path, minimum = 1, maximum = 4)), at (String, String);
    type QuarterLockCmd, body "The fields of `QuarterLockBody`, as text, and `csrf_token`.";
    not "Not admin", "not admin";
    done "Locked";
    missing "No such financial year: a page saying so.";
    refused "Locked already, or an earlier quarter is open: the form again, naming it.";
    answer quarter, true;
}

control_routes! {
    /// The form to unlock a quarter (`POST /api/v1/financial-years/{fy}/quarters/{q}/unlock`'s body).
    ///
    /// Roles: admin, signed in with the session cookie `gl_session`; without a live session,
    /// 303 to `/sign-in`.
    form unlock_form;
    /// Unlock a quarter, from the form: `reason` and `csrf_token`.
    ///
    /// Roles: admin, signed in with the session cookie `gl_session`; without a live session,
    /// 303 to `/sign-in`.
    post unlock_post;
    path "/financial-years/{fy}/quarters/{q}/unlock",
        params(("fy" = crate::domain::FinancialYear, Path), ("q" = u8, Path, minimum = 1, maximum = 4)), at (String, String);
    type QuarterLockCmd, body "The fields of `QuarterLockBody`, as text, and `csrf_token`.";
    not "Not admin", "not admin";
    done "Unlocked";
    missing "No such financial year: a page saying so.";
    refused "Not locked, or a later quarter is locked: the form again, naming it.";
    answer quarter, false;
}

const YEAR_END_LABELS: &[(&str, &str)] = &[
    ("carry_forward", "Carry forward (£)"),
    ("return_to_funder", "Return to the funder (£)"),
    ("date", "Date"),
    ("reason", "Reason"),
];

async fn year_end_control(s: &AppState, grant: &str, fy: &str) -> Result<Control, AppError> {
    let year = year_of(fy)?;
    if !crate::domain::is_valid_code(grant) {
        return Err(AppError::field("grant", "is not a valid code"));
    }
    let code = year.to_string();
    let award = reference::list_awards(&s.store, grant, "", PAGE_LIMIT_MAX)
        .await?
        .items
        .into_iter()
        .find(|a| a.financial_year == code)
        .ok_or_else(|| AppError::Store(StoreError::NotFound(format!("award of {grant} for {year}"))))?;
    let intro = html! {
        (year_summary(s, year).await?)
        dl class="figures" id="award" {
            dt { "Award" } dd id="award-amount" { (pounds(award.amount)) }
            dt { "Allocated" } dd id="award-allocated" { (pounds(award.allocated)) }
            dt { "Unallocated" } dd id="award-unallocated" { (pounds(award.unallocated)) }
            dt { "Carried forward or returned so far" } dd { (pounds(award.carried_forward_or_returned)) }
        }
        p class="hint" {
            "Carry forward and return to the funder must add up to what the award has neither spent nor committed: "
            "its unallocated money and what its projects have left. What is carried forward goes into "
            (year.next()) "'s award of " (grant) "."
        }
    };
    Ok(Control {
        path: format!("/grants/{grant}/awards/{year}/year-end"),
        title: format!("Year end of {grant} for {year}"),
        labels: YEAR_END_LABELS,
        intro,
        done: format!("/financial-years/{year}"),
    })
}

/// Resolves an award's unspent money from its form, or shows the form.
async fn year_end(
    s: AppState,
    who: Result<Session, NoSession>,
    (grant, fy): (String, String),
    form: Posted,
) -> Response {
    let Some(form) = form else {
        let path = format!("/grants/{grant}/awards/{fy}/year-end");
        return form_page::<YearEndCmd, _>(&s, who, &path, Need::Approver, year_end_control(&s, &grant, &fy)).await;
    };
    let year = match year_of(&fy) {
        Ok(y) => y,
        Err(e) => return e.into_response(),
    };
    let path = format!("/grants/{grant}/awards/{year}/year-end");
    let control = year_end_control(&s, &grant, &fy);
    let store = s.store.clone();
    let run = async |cmd: YearEndCmd, name: String| {
        controls::year_end(&store, YearEndCmd { grant: grant.clone(), year, ..cmd }, actor(&name)).await.map(|_| ())
    };
    form_post::<YearEndCmd, _, _>(&s, who, form, &path, Need::Approver, control, run).await
}

control_routes! {
    /// The form to resolve an award's unspent money at year end
    /// (`POST /api/v1/grants/{grant}/awards/{fy}/year-end`'s body).
    ///
    /// Roles: approver, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    form year_end_form;
    /// Resolve an award's unspent money at year end, from the form: the fields of `YearEndBody`
    /// as text, and `csrf_token`.
    ///
    /// Roles: approver, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post year_end_post;
    path "/grants/{grant}/awards/{fy}/year-end",
        params(("grant" = crate::http::openapi::Code, Path), ("fy" = crate::domain::FinancialYear, Path)), at (String, String);
    type YearEndCmd, body "The fields of `YearEndBody`, as text (empty is not given), and `csrf_token`.";
    not "Neither approver nor admin", "neither approver nor admin";
    done "Resolved";
    missing "No such award: a page saying so.";
    refused "The year is closed: the form again, saying so.";
    bad "A bad field, or a split that does not account for the unspent money: the form again, with the values kept.";
    answer year_end;
}

/// The form to file a return (`POST /api/v1/returns`'s body); `financial_year`, `quarter`
/// and `kind` in the query fill it in.
///
/// Roles: finance, approver, admin, signed in with the session cookie `gl_session`; without
/// a live session, 303 to `/sign-in`.
#[utoipa::path(get, path = "/returns/new", tag = "pages", security(()),
    params(("financial_year" = Option<crate::http::openapi::YearOrEmpty>, Query),
        ("quarter" = Option<crate::http::openapi::TextOrEmpty>, Query),
        ("kind" = Option<crate::http::openapi::TextOrEmpty>, Query)),
    responses((status = 200, description = "The form.", body = String, content_type = "text/html"),
        (status = 303, description = "No live session: to `/sign-in`, then back."),
        (status = 403, description = "The session's role may not file: a page saying so.")))]
async fn return_form(State(s): State<AppState>, who: Result<Session, NoSession>, mut q: Query) -> Response {
    let who = match signed_in(who, "/returns/new") {
        Ok(w) => w,
        Err(r) => return *r,
    };
    if !FileReturnCmd::NEED.allows(who.0.role) {
        return AppError::Forbidden.into_response();
    }
    // Filled in, not checked: the form checks what is sent.
    let pairs: Vec<(String, String)> =
        ["kind", "financial_year", "quarter"].iter().filter_map(|k| q.text(k).map(|v| ((*k).to_owned(), v))).collect();
    if let Err(e) = q.finish() {
        return e.into_response();
    }
    let look = Look {
        title: FileReturnCmd::TITLE,
        action: "/returns",
        labels: &FileReturnCmd::labels(),
        intro: html! {
            p class="hint" {
                "The return is generated at the ledger's position now and stored byte for byte, with its SHA-256. "
                "Lock the quarter first, so no entry dated in it comes after."
            }
        },
    };
    match render_at::<FileReturnCmd>(&s, &who.0, &who.1, &look, &pairs, &Refusal::default()).await {
        Ok(page) => page_response(StatusCode::OK, page),
        Err(e) => e.into_response(),
    }
}

record_form_routes! {
    type FileReturnCmd, may_not "file";
    /// File a return, from the form: the fields of `FileReturnBody` as text, and `csrf_token`.
    ///
    /// Roles: finance, approver, admin, signed in with the session cookie `gl_session`; without
    /// a live session, 303 to `/sign-in`.
    post return_post "/returns";
    body "The fields of `FileReturnCmd`, all as text, and `csrf_token`.";
    done "Filed: to the filed return's page `/returns/{id}`; or, without a live session, to `/sign-in`.";
    missing "No such financial year: the form again, saying so.";
    denied "No valid `csrf_token`, another origin, or a role that may not file: a page saying so; nothing is changed.";
}

page_get! {
    /// A filed return: its kind, year and quarter, who filed it and when, its size, its SHA-256
    /// in full, and the link to download its bytes as filed.
    ///
    /// Roles: every role, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    get "/returns/{id}" record; missing "No such filed return: a page saying so.";
    async fn return_page(
        State(s): State<AppState>,
        Session(who, _): Session,
        Path(id): Path<String>,
    ) -> Result<Response, AppError> {
        let id = super::record_id(&id)?;
        let r = returns::get(&s.store, id).await?;
        let changed = filing::changed(&s.store, &r).await?;
        let title = format!("Filed return {id}");
        let body = html! {
            (super::html::masthead(&title, &who))
            main id="content" tabindex="-1" { (return_html(&r, changed)) }
        };
        Ok(page_response(StatusCode::OK, super::html::page(&format!("{title} · grant-ledger"), body)))
    }
}

fn return_html(r: &FiledReturn, changed: bool) -> Markup {
    html! {
        dl class="record" id="return" {
            dt { "Return" } dd id="return-kind" { (r.kind.as_str()) }
            dt { "Financial year" } dd id="return-financial-year" { a href={ "/financial-years/" (r.financial_year) } { (r.financial_year) } }
            dt { "Quarter" } dd id="return-quarter" { "Q" (r.quarter) }
            dt { "Filed at (UTC)" } dd id="return-filed-at" { (r.filed_at) }
            dt { "Filed by" } dd id="return-filed-by" { (r.filed_by) }
            dt { "File" } dd id="return-file-name" { (r.file_name) " (" (r.bytes) " bytes)" }
            dt { "SHA-256" } dd { code id="return-sha256" { (r.sha256) } }
            dt { "Since filing" } dd id="return-changed" { (if changed { "The ledger has changed a figure of it" } else { "Unchanged" }) }
        }
        p { a id="return-download" href={ "/dashboard/returns/" (r.id) "/file" } download=(r.file_name) { "Download " (r.file_name) } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_return_form_labels_every_field() {
        let schema = serde_json::to_value(<FileReturnCmd as utoipa::PartialSchema>::schema()).unwrap();
        let mut properties: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        let mut labelled: Vec<&str> = FileReturnCmd::FIELDS.to_vec();
        properties.sort();
        labelled.sort();
        assert_eq!(properties, labelled);
    }
}
