//! Projects for a person: the form to record one (`GET /projects/new`, `POST /projects`, the
//! body of `POST /api/v1/projects`), and the project's page (`GET /projects/{code}`): what it
//! is, its figures in the year the dashboard opens on, the way to its entries, and the form to
//! change its status (`/projects/{code}/status`, the `status` of `PATCH /api/v1/projects/{code}`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use utoipa_axum::router::OpenApiRouter;

use super::csrf::{CsrfForm, Refused};
use super::dashboard::pounds;
use super::forms::{RecordForm, page_get, record_form_routes};
use super::year_pages::{Control, Posted, control_routes, form_page, form_post};
use super::{NoSession, Session, page_response};
use crate::domain::ProjectStatus;
use crate::http::AppState;
use crate::http::auth::Need;
use crate::http::error::AppError;
use crate::http::input::Query;
use crate::model::Actor;
use crate::model::reference::{NewProject, ProjectPatch};
use crate::reports::run;
use crate::storage::{Store, StoreError, reference};

impl RecordForm for NewProject {
    const NAME: &'static str = "projects";
    const TITLE: &'static str = "Record a project";
    const NEED: Need = Need::Approver;
    const FIELDS: &'static [&'static str] = &["code", "name", "priority", "lead_organisation", "description", "status"];

    async fn record(self, store: &Store, actor: Actor<'_>) -> Result<String, StoreError> {
        let p = reference::create_project(store, self.into(), actor).await?;
        Ok(format!("/projects/{}", p.code))
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    page_router![project_form; project_post; project_page; status_form, status_post]
}

record_form_routes! {
    type NewProject, may_not "record a project";
    /// The form to record a project under a plan priority (`POST /api/v1/projects`'s body).
    ///
    /// Roles: approver, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    form project_form "/projects/new";
    /// Record a project, from the form: the fields of `ProjectBody` as text, and `csrf_token`.
    ///
    /// Roles: approver, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post project_post "/projects";
    body "The fields of `ProjectBody`, all as text (empty is not given), and `csrf_token`.";
    done "Recorded: to the project's page `/projects/{code}`; or, without a live session, to `/sign-in`.";
    missing "No such priority: the form again, saying so.";
    refused "The code is taken (`conflict`): the form again, saying so.";
}

/// A project code in a page's address, checked as the API checks one.
fn code_of(text: &str) -> Result<String, AppError> {
    if crate::domain::is_valid_code(text) {
        Ok(text.to_owned())
    } else {
        Err(AppError::field("code", "is not a valid code"))
    }
}

page_get! {
    /// One project: its name, priority, lead organisation, status and description; its budget,
    /// commitments, spend and what is available, grant by grant, in `financial_year` (default:
    /// the year the dashboard opens on); a link to its entries; and, for an approver, the way to
    /// change its status.
    ///
    /// Roles: every role, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    get "/projects/{code}" params(("code" = crate::http::openapi::Code, Path),
        ("financial_year" = Option<crate::http::openapi::YearOrEmpty>, Query)); missing "No such project or financial year: a page saying so."; bad "Not a code, or not a financial year: a page saying so.";
    async fn project_page(
        State(s): State<AppState>,
        Session(who, _): Session,
        Path(code): Path<String>,
        mut q: Query,
    ) -> Result<Response, AppError> {
        let code = code_of(&code)?;
        let year = q.year("financial_year");
        q.finish()?;
        let p = reference::get_project(&s.store, &code).await?;
        let year = match year {
            Some(y) => y,
            None => super::default_year(&s).await?,
        };
        let report = run::variance(&s.store, year, None, &crate::model::known::Known::Now, None, s.today()).await?;
        let rows: Vec<_> = report.rows.iter().filter(|r| r.project == code).collect();
        let title = format!("Project {code}");
        let body = html! {
            (super::html::masthead(&title, &who))
            main id="content" tabindex="-1" {
                dl class="record" id="project" {
                    dt { "Name" } dd id="project-name" { (p.name) }
                    dt { "Plan priority" } dd id="project-priority" { (p.priority) }
                    dt { "Lead organisation" } dd id="project-lead" { (p.lead_organisation) }
                    dt { "Status" } dd id="project-status" { (p.status) }
                    @if !p.description.is_empty() { dt { "Description" } dd id="project-description" { (p.description) } }
                }
                p class="noprint" {
                    a id="project-entries" href={ "/entries?project=" (super::percent_encode(&code)) } { "Its entries" }
                    @if Need::Approver.allows(who.role) {
                        " · " a id="project-status-change" href={ "/projects/" (code) "/status" } { "Change its status" }
                    }
                }
                section aria-labelledby="h-figures" {
                    h2 id="h-figures" { "In " (year) }
                    @if rows.is_empty() {
                        p id="no-figures" { "Nothing allocated to it in " (year) "." }
                    } @else {
                        table id="figures" class="figures" {
                            thead { tr {
                                th scope="col" { "Grant" } th scope="col" class="num" { "Budget" } th scope="col" class="num" { "Committed" }
                                th scope="col" class="num" { "Spent" } th scope="col" class="num" { "Available" }
                            } }
                            tbody {
                                @for r in &rows {
                                    tr {
                                        th scope="row" { (r.grant) }
                                        td class="num" { (pounds(r.figures.budget)) }
                                        td class="num" { (pounds(r.figures.committed)) }
                                        td class="num" { (pounds(r.figures.actual)) }
                                        td class="num" { (pounds(r.figures.available)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        };
        Ok(page_response(StatusCode::OK, super::html::page(&format!("{title} · grant-ledger"), body)))
    }
}

/// The form changing a project's status: only its `status`.
const STATUS_LABELS: &[(&str, &str)] = &[("status", "Status")];

async fn status_control(s: &AppState, code: &str) -> Result<Control, AppError> {
    let code = code_of(code)?;
    let p = reference::get_project(&s.store, &code).await?;
    Ok(Control {
        path: format!("/projects/{code}/status"),
        title: format!("Change the status of project {code}"),
        labels: STATUS_LABELS,
        intro: html! {
            p id="project-state" { (p.name) ": " strong { (p.status) } "." }
            p class="hint" { "A closed project takes no new allocation, commitment or spend." }
        },
        done: format!("/projects/{code}"),
    })
}

/// Changes a project's status from its form, or shows the form.
async fn status(s: AppState, who: Result<Session, NoSession>, code: String, form: Posted) -> Response {
    let path = format!("/projects/{code}/status");
    let Some(form) = form else {
        return form_page::<StatusCmd, _>(&s, who, &path, Need::Approver, status_control(&s, &code)).await;
    };
    let store = s.store.clone();
    let run = async |cmd: StatusCmd, name: String| {
        let patch = ProjectPatch { status: Some(cmd.status), ..ProjectPatch::default() };
        reference::update_project(&store, &code, patch, &name).await.map(|_| ())
    };
    form_post::<StatusCmd, _, _>(&s, who, form, &path, Need::Approver, status_control(&s, &code), run).await
}

/// A project's new status, the one field of `ProjectPatchBody` its form changes.
#[derive(utoipa::ToSchema)]
#[schema(as = ProjectStatusBody)]
pub struct StatusCmd {
    pub status: ProjectStatus,
}

impl crate::model::fields::FromFields for StatusCmd {
    fn read(f: &mut crate::model::fields::Fields) -> Self {
        StatusCmd { status: f.word("status", &ProjectStatus::ALL, None) }
    }
}

control_routes! {
    /// The form to change a project's status (`PATCH /api/v1/projects/{code}`'s `status`).
    ///
    /// Roles: approver, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    form status_form;
    /// Change a project's status, from the form: `status` and `csrf_token`.
    ///
    /// Roles: approver, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post status_post;
    path "/projects/{code}/status", params(("code" = crate::http::openapi::Code, Path)), at String;
    type StatusCmd, body "`status` (`active` or `closed`) as text, and `csrf_token`.";
    not "Neither approver nor admin", "neither approver nor admin";
    done "Changed", to "the project's page `/projects/{code}`";
    missing "No such project: a page saying so.";
    refused "The change clashes with the project's postings: the form again, saying so.";
    answer status;
}
