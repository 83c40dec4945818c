//! The cash and monitoring forms of the finance officer's desk (docs/desk.md): a receipt from
//! the funder and a repayment to it (`/receipts/new`, `/repayments/new`: the body of
//! `POST /api/v1/receipts` and `/repayments`, docs/cash.md), an officer's forecast
//! (`/forecasts/new`) and an indicator's quarterly return (`/indicator-returns/new`). Each
//! records through the storage operation its API route calls.

use std::borrow::Cow;

use chrono::NaiveDate;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use super::forms::{RecordForm, record_form_routes};
use crate::http::AppState;
use crate::http::auth::Need;
use crate::model::Actor;
use crate::model::cash::{CashCmd, CashMove};
use crate::model::fields::{FieldError, Fields, FromFields};
use crate::model::monitoring::{ForecastCmd, IndicatorReturnCmd};
use crate::storage::{Store, StoreError, cash, monitoring};

/// A receipt's (`Cash<false>`) or a repayment's (`Cash<true>`) form: `CashCmd`, the one body
/// of both API routes, its schema and fields as they are.
pub struct Cash<const REPAYMENT: bool>(CashCmd);

type Receipt = Cash<false>;
type Repayment = Cash<true>;

impl<const REPAYMENT: bool> FromFields for Cash<REPAYMENT> {
    fn read(f: &mut Fields) -> Self {
        Cash(CashCmd::read(f))
    }
}

impl<const REPAYMENT: bool> PartialSchema for Cash<REPAYMENT> {
    fn schema() -> RefOr<Schema> {
        CashCmd::schema()
    }
}

impl<const REPAYMENT: bool> ToSchema for Cash<REPAYMENT> {
    fn name() -> Cow<'static, str> {
        CashCmd::name()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        CashCmd::schemas(schemas)
    }
}

impl<const REPAYMENT: bool> RecordForm for Cash<REPAYMENT> {
    const NAME: &'static str = if REPAYMENT { "repayments" } else { "receipts" };
    const TITLE: &'static str =
        if REPAYMENT { "Record a repayment to the funder" } else { "Record a receipt from the funder" };
    const NEED: Need = Need::Finance;
    const FIELDS: &'static [&'static str] = &["grant", "financial_year", "date", "amount", "reference"];
    const OWN_LABELS: &'static [(&'static str, &'static str)] = &[("financial_year", "Financial year of the award")];

    async fn record(self, store: &Store, actor: Actor<'_>) -> Result<String, StoreError> {
        let mv = if REPAYMENT { CashMove::Repayment } else { CashMove::Receipt };
        let r = cash::record(store, mv, self.0, actor).await?;
        Ok(format!("/entries/{}", r.entry_id))
    }
}

impl RecordForm for ForecastCmd {
    const NAME: &'static str = "forecasts";
    const TITLE: &'static str = "Record a forecast";
    const NEED: Need = Need::Reporting;
    const FIELDS: &'static [&'static str] = &[
        "grant",
        "financial_year",
        "quarter",
        "project",
        "forecast_outturn",
        "explanation",
        "progress_rag",
        "rag_reason",
        "made_on",
    ];
    const OWN_LABELS: &'static [(&'static str, &'static str)] = &[("quarter", "Quarter it is made in (1 to 4)")];

    /// `made_on` is checked against, or defaults from, the ledger's today.
    fn from_form(mut f: Fields, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let cmd = ForecastCmd::read_on(&mut f, today);
        f.finish()?;
        Ok(cmd)
    }

    /// The dashboard of its year shows it, in the variance table's "Officer forecast".
    async fn record(self, store: &Store, actor: Actor<'_>) -> Result<String, StoreError> {
        let year = self.year;
        monitoring::record_forecast(store, self, actor).await?;
        Ok(format!("/dashboard?financial_year={year}"))
    }
}

impl RecordForm for IndicatorReturnCmd {
    const NAME: &'static str = "indicator-returns";
    const TITLE: &'static str = "Record an indicator return";
    const NEED: Need = Need::Reporting;
    const FIELDS: &'static [&'static str] =
        &["project", "indicator", "financial_year", "quarter", "actual", "evidence_ref", "note"];
    const OWN_LABELS: &'static [(&'static str, &'static str)] = &[("quarter", "Quarter (1 to 4)")];

    async fn record(self, store: &Store, actor: Actor<'_>) -> Result<String, StoreError> {
        let project = self.project.clone();
        monitoring::record_indicator_return(store, self, actor).await?;
        Ok(format!("/projects/{project}"))
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    page_router![
        receipt_form;
        receipt_post;
        repayment_form;
        repayment_post;
        forecast_form;
        forecast_post;
        indicator_return_form;
        indicator_return_post;
    ]
}

record_form_routes! {
    type Receipt, may_not "record a receipt";
    /// The form to record money received from the funder against an award
    /// (`POST /api/v1/receipts`'s body).
    ///
    /// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    form receipt_form "/receipts/new";
    /// Record a receipt from the form: the fields of `CashBody` as text, and `csrf_token`.
    ///
    /// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post receipt_post "/receipts";
    body "The fields of `CashBody`, all as text (empty is not given), and `csrf_token`.";
    done "Recorded: to the entry's page `/entries/{id}`; or, without a live session, to `/sign-in`.";
    missing "No such grant: the form again, saying so.";
    refused "The year is closed or the quarter locked (`period_closed`), or refused by a ledger rule: the form again.";
}

record_form_routes! {
    type Repayment, may_not "record a repayment";
    /// The form to record returned money paid back to the funder
    /// (`POST /api/v1/repayments`'s body).
    ///
    /// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    form repayment_form "/repayments/new";
    /// Record a repayment from the form: the fields of `CashBody` as text, and `csrf_token`.
    ///
    /// Roles: finance, admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post repayment_post "/repayments";
    body "The fields of `CashBody`, all as text (empty is not given), and `csrf_token`.";
    done "Recorded: to the entry's page `/entries/{id}`; or, without a live session, to `/sign-in`.";
    missing "No such grant: the form again, saying so.";
    refused "The year is closed or the quarter locked (`period_closed`), or dated before the year end that raised it (`as_at`): the form again.";
}

record_form_routes! {
    type ForecastCmd, may_not "record a forecast";
    /// The form to record an officer's forecast of a project's year-end outturn on one award,
    /// with why it differs from budget and a progress rating (`POST /api/v1/forecasts`'s body).
    ///
    /// Roles: finance, approver, admin, signed in with the session cookie `gl_session`;
    /// without a live session, 303 to `/sign-in`.
    form forecast_form "/forecasts/new";
    /// Record a forecast from the form: the fields of `ForecastBody` as text, and `csrf_token`.
    ///
    /// Roles: finance, approver, admin, signed in with the session cookie `gl_session`;
    /// without a live session, 303 to `/sign-in`.
    post forecast_post "/forecasts";
    body "The fields of `ForecastBody`, all as text (empty is not given), and `csrf_token`.";
    done "Recorded: to the dashboard of its year, `/dashboard?financial_year=YYYY-YY`; or, without a live session, to `/sign-in`.";
    missing "No such grant: the form again, saying so.";
    refused "The financial year is closed (`period_closed`): the form again.";
}

record_form_routes! {
    type IndicatorReturnCmd, may_not "record an indicator return";
    /// The form to record one quarter's actual of a project's indicator
    /// (`POST /api/v1/indicator-returns`'s body).
    ///
    /// Roles: finance, approver, admin, signed in with the session cookie `gl_session`;
    /// without a live session, 303 to `/sign-in`.
    form indicator_return_form "/indicator-returns/new";
    /// Record an indicator return from the form: the fields of `IndicatorReturnBody` as text,
    /// and `csrf_token`.
    ///
    /// Roles: finance, approver, admin, signed in with the session cookie `gl_session`;
    /// without a live session, 303 to `/sign-in`.
    post indicator_return_post "/indicator-returns";
    body "The fields of `IndicatorReturnBody`, all as text (empty is not given), and `csrf_token`.";
    done "Recorded: to the project's page `/projects/{code}`; or, without a live session, to `/sign-in`.";
    missing "No such project or indicator: the form again, saying so.";
}
