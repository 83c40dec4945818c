//! An award's payment schedule as a page (docs/cash.md, docs/desk.md): the instalments the
//! funder is to pay, shown and set whole at `/grants/{grant}/awards/{fy}/payment-schedule`.
//! The form is `PUT /api/v1/grants/{grant}/awards/{fy}/payment-schedule`'s body as rows,
//! `schedule[i].due_on`, `schedule[i].amount` and `schedule[i].condition`, each read by the
//! API's own item reader into its one command (`ScheduleCmd`) and set by the storage operation
//! the API route calls, so the form and the API refuse alike and name a bad field alike.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use utoipa_axum::router::OpenApiRouter;

use super::csrf::{CsrfForm, Refused};
use super::dashboard::pounds;
use super::year_pages::{Control, Posted, control_routes, form_page_filled, form_post};
use super::{NoSession, Session, actor};
use crate::domain::FinancialYear;
use crate::http::AppState;
use crate::http::auth::Need;
use crate::http::error::AppError;
use crate::http::routes::cash::{INSTALMENTS_MAX, award_path};
use crate::model::cash::{Instalment, NewInstalment, ScheduleCmd};
use crate::model::fields::{Fields, FromFields};
use crate::model::page::PAGE_LIMIT_MAX;
use crate::storage::{StoreError, cash, reference};

pub fn router() -> OpenApiRouter<AppState> {
    page_router![schedule_form, schedule_post]
}

/// The payment schedule's form: `ScheduleCmd`, the PUT route's body, as rows of a form.
#[derive(utoipa::ToSchema)]
#[schema(as = PaymentScheduleFormBody)]
pub struct ScheduleForm {
    /// The instalments, one a row: a row left blank is left out, and none given clears the
    /// schedule.
    // At most 100: a form names no row past `fields::ITEM_INDEX_MAX`.
    #[schema(value_type = Vec<NewInstalment>, max_items = 100, required = false)]
    pub schedule: ScheduleCmd,
}

impl FromFields for ScheduleForm {
    fn read(f: &mut Fields) -> Self {
        let mut items = f.items("schedule", INSTALMENTS_MAX).unwrap_or_default();
        // A blank row keeps its place, so each refusal names the row the person sees.
        let schedule = items.iter_mut().filter(|row| !row.is_blank()).map(NewInstalment::read).collect();
        f.end_items("schedule", items);
        ScheduleForm { schedule: ScheduleCmd(schedule) }
    }
}

/// The rows a schedule fills the form with, so a person edits what is set.
fn rows_of(schedule: &[Instalment]) -> Vec<(String, String)> {
    schedule
        .iter()
        .enumerate()
        .flat_map(|(i, inst)| {
            [
                (format!("schedule[{i}].due_on"), inst.due_on.to_string()),
                (format!("schedule[{i}].amount"), inst.amount.to_string()),
                (format!("schedule[{i}].condition"), inst.condition.clone()),
            ]
        })
        .collect()
}

/// The label of the form's list; its rows' fields are labelled as the ledger labels them
/// (`forms::FIELD_LABELS`).
const LABELS: &[(&str, &str)] = &[("schedule", "Instalment")];

/// The award, its schedule as set now, and what the form does.
async fn schedule_control(s: &AppState, grant: &str, fy: &str) -> Result<(Control, Vec<Instalment>), AppError> {
    let year = award_path(grant, fy)?;
    // 404 for an award that does not exist, as the API answers.
    let schedule = cash::payment_schedule(&s.store, grant, year).await?;
    let code = year.to_string();
    let award = reference::list_awards(&s.store, grant, "", PAGE_LIMIT_MAX)
        .await?
        .items
        .into_iter()
        .find(|a| a.financial_year == code)
        .ok_or_else(|| AppError::Store(StoreError::NotFound(format!("award {grant} {year}"))))?;
    let path = schedule_path(grant, year);
    let intro = html! {
        dl class="figures" id="award" {
            dt { "Award" } dd id="award-amount" { (pounds(award.amount)) }
        }
        @if schedule.is_empty() {
            p id="no-schedule" { "No payment schedule is set for " (grant) " " (year) "." }
        } @else {
            table id="schedule-now" {
                caption { "The payment schedule as set" }
                thead { tr {
                    th scope="col" { "Due on" } th scope="col" class="num" { "Amount" } th scope="col" { "Condition" }
                } }
                tbody {
                    @for inst in &schedule {
                        tr {
                            td { (inst.due_on) }
                            td class="num" { (pounds(inst.amount)) }
                            td { (inst.condition) }
                        }
                    }
                }
            }
        }
        p class="hint" {
            "Sending the form replaces the schedule whole. The instalments may add up to no more than the award; "
            "a row left blank is left out, and a form with no row given clears the schedule. "
            "The dashboard's cash position counts the instalments due by its date."
        }
        p { a id="to-cash" href={ "/dashboard?financial_year=" (year) "#h-cash" } { "The cash position of " (year) } }
    };
    let control = Control {
        title: format!("Set the payment schedule of {grant} for {year}"),
        labels: LABELS,
        intro,
        done: path.clone(),
        path,
    };
    Ok((control, schedule))
}

pub(super) fn schedule_path(grant: &str, year: FinancialYear) -> String {
    format!("/grants/{grant}/awards/{year}/payment-schedule")
}

/// Shows an award's payment schedule with its form filled in, or sets it from the form.
async fn schedule(
    s: AppState,
    who: Result<Session, NoSession>,
    (grant, fy): (String, String),
    form: Posted,
) -> Response {
    let path = format!("/grants/{grant}/awards/{fy}/payment-schedule");
    let Some(form) = form else {
        let filled = async { schedule_control(&s, &grant, &fy).await.map(|(c, now)| (c, rows_of(&now))) };
        return form_page_filled::<ScheduleForm, _>(&s, who, &path, Need::Approver, filled).await;
    };
    let year = match award_path(&grant, &fy) {
        Ok(y) => y,
        Err(e) => return e.into_response(),
    };
    let store = s.store.clone();
    let run = async |cmd: ScheduleForm, name: String| {
        cash::set_payment_schedule(&store, &grant, year, cmd.schedule.into(), actor(&name)).await.map(|_| ())
    };
    let control = async { schedule_control(&s, &grant, &fy).await.map(|(c, _)| c) };
    form_post::<ScheduleForm, _, _>(&s, who, form, &path, Need::Approver, control, run).await
}

control_routes! {
    /// An award's payment schedule, with the form to set it whole
    /// (`PUT /api/v1/grants/{grant}/awards/{fy}/payment-schedule`'s body as rows), filled in
    /// with the instalments set now and blank rows to add.
    ///
    /// Roles: approver, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    form schedule_form;
    /// Set an award's payment schedule whole, from the form: its instalments as rows
    /// `schedule[i].due_on`, `schedule[i].amount` and `schedule[i].condition` (from 0), and
    /// `csrf_token`. Audited as the PUT route is.
    ///
    /// Roles: approver, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post schedule_post;
    path "/grants/{grant}/awards/{fy}/payment-schedule",
        params(("grant" = crate::http::openapi::Code, Path), ("fy" = crate::domain::FinancialYear, Path)), at (String, String);
    type ScheduleForm, body "The instalments as text, `schedule[i].due_on`, `schedule[i].amount` and `schedule[i].condition` from 0 (a row left blank is not given; none clears the schedule), and `csrf_token`.";
    not "Neither approver nor admin", "neither approver nor admin";
    done "Set", to "the schedule's page, `/grants/{grant}/awards/{fy}/payment-schedule`";
    missing "No such award: a page saying so.";
    bad "A bad instalment (named `schedule[i].FIELD` beside its row), or instalments adding up to more than the award (`schedule`): the form again, with the values kept.";
    answer schedule;
}
