//! The funder's cash (docs/cash.md): an award's payment schedule, receipts from the funder,
//! repayments of returned money, and the cash-position report.

use axum::Json;
use axum::extract::Path;
use axum::response::Response;
use chrono::NaiveDate;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::super::auth::Need;
use super::super::error::AppError;
use super::super::input::{Fields, FromFields, Query, RawBody};
use super::super::openapi::{BomQuery, Code, Instant, IsoDate, PartnershipQuery};
use super::{Answer, Caller, Created, created};
use crate::domain::{FinancialYear, is_valid_code};
use crate::model::cash::{CashCmd, CashMove, CashRecord, Instalment, NewInstalment, PaymentSchedule, ScheduleCmd};
use crate::model::formats::DataFormat;
use crate::model::known::Known;
use crate::reports::cash::{self as report, CashPositionReport};
use crate::storage::cash;

/// The most instalments a schedule may hold.
pub const INSTALMENTS_MAX: usize = 120;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_schedule, put_schedule))
        .routes(routes!(receipt))
        .routes(routes!(repayment))
        .routes(routes!(cash_position))
}

/// The award named by a path, `grant` and `fy` checked; the CLI's `schedule` names it so too.
pub(crate) fn award_path(grant: &str, fy: &str) -> Result<FinancialYear, AppError> {
    if !is_valid_code(grant) {
        return Err(AppError::field("grant", "is not a valid code"));
    }
    super::controls::path_year(fy)
}

/// An award's payment schedule: the instalments the funder is to pay, in due date order.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/grants/{grant}/awards/{fy}/payment-schedule", tag = "cash",
    params(("grant" = Code, Path), ("fy" = FinancialYear, Path)),
    responses((status = 200, body = PaymentSchedule), (status = 404, description = "No such award (`not_found`).")))]
async fn get_schedule(c: Caller, Path((grant, fy)): Path<(String, String)>) -> Answer<PaymentSchedule> {
    c.require(Need::ReadReference)?;
    let year = award_path(&grant, &fy)?;
    Ok(Json(PaymentSchedule(cash::payment_schedule(c.store(), &grant, year).await?)))
}

/// Replace an award's payment schedule whole. The instalments may not add up to more than
/// the award (422 naming `schedule`); an empty list clears it. Audited.
///
/// Roles: approver, admin.
#[utoipa::path(put, path = "/api/v1/grants/{grant}/awards/{fy}/payment-schedule", tag = "cash",
    params(("grant" = Code, Path), ("fy" = FinancialYear, Path)),
    request_body(content = ScheduleCmd, description = "A bad field is named `schedule[i].field`, from 0."),
    responses((status = 200, body = PaymentSchedule), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such award (`not_found`).")))]
async fn put_schedule(c: Caller, Path((grant, fy)): Path<(String, String)>, body: RawBody) -> Answer<PaymentSchedule> {
    c.require(Need::Approver)?;
    let year = award_path(&grant, &fy)?;
    let schedule = schedule_body(&body)?;
    Ok(Json(PaymentSchedule(cash::set_payment_schedule(c.store(), &grant, year, schedule, c.actor()).await?)))
}

/// A schedule's instalments, each bad field named `schedule[i].field`; the CLI's `schedule
/// set` parses through it too, so both refuse the same.
pub(crate) fn schedule_body(body: &RawBody) -> Result<Vec<Instalment>, AppError> {
    let mut items = Fields::parse_list(body, "schedule", INSTALMENTS_MAX)?;
    let schedule: Vec<NewInstalment> = items.iter_mut().map(NewInstalment::read).collect();
    Fields::finish_list("schedule", items)?;
    Ok(ScheduleCmd(schedule).into())
}

/// A receipt's or repayment's body; the CLI's `receipt` and `repayment` parse through it too.
pub(crate) fn cash_cmd(body: &RawBody) -> Result<CashCmd, AppError> {
    body.cmd()
}

/// The one body of both cash handlers: finance or admin records the move.
async fn record(c: Caller, body: &RawBody, mv: CashMove) -> Created<CashRecord> {
    c.require(Need::Finance)?;
    let cmd = cash_cmd(body)?;
    created(cash::record(c.store(), mv, cmd, c.actor()).await?)
}

/// Record money received from the funder against an award: one entry, cash → received.
/// What the funder has paid may not exceed the award (422 naming `amount`).
///
/// Roles: finance, admin.
#[utoipa::path(post, path = "/api/v1/receipts", tag = "cash", request_body = CashCmd,
    responses((status = 201, body = CashRecord), (status = 403, description = "Neither finance nor admin."),
        (status = 409, description = "The year is closed or the quarter locked (`period_closed`), or refused by a ledger rule (`conflict`)."),
        (status = 422, description = "A bad field; a grant or award that does not exist (`grant`, `financial_year`); more received than awarded (`amount`).")))]
async fn receipt(c: Caller, body: RawBody) -> Created<CashRecord> {
    record(c, &body, CashMove::Receipt).await
}

/// Record returned money paid back to the funder: one entry, owed → cash. Not more than is
/// owed (422 naming `amount`), nor dated before the year end that raised it (409, `as_at`).
///
/// Roles: finance, admin.
#[utoipa::path(post, path = "/api/v1/repayments", tag = "cash", request_body = CashCmd,
    responses((status = 201, body = CashRecord), (status = 403, description = "Neither finance nor admin."),
        (status = 409, description = "The year is closed or the quarter locked (`period_closed`), or refused by a ledger rule (`conflict`); `as_at` names an earlier date it would break."),
        (status = 422, description = "A bad field; a grant or award that does not exist (`grant`, `financial_year`); more than is owed (`amount`).")))]
async fn repayment(c: Caller, body: RawBody) -> Created<CashRecord> {
    record(c, &body, CashMove::Repayment).await
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct CashPositionQuery {
    financial_year: FinancialYear,
    /// Figures as at the end of this date, and instalments due on or before it; default today.
    #[param(value_type = Option<IsoDate>)]
    as_at: Option<NaiveDate>,
    /// Figures as the ledger stood at this instant: entries recorded after it are left out.
    #[param(value_type = Option<Instant>)]
    as_known_at: Known,
    /// JSON when not given.
    #[param(inline)]
    format: Option<DataFormat>,
}

impl CashPositionQuery {
    fn read(q: &mut Query) -> Self {
        CashPositionQuery {
            financial_year: q.required_year("financial_year"),
            as_at: q.date("as_at"),
            as_known_at: q.known(),
            format: q.text("format").and_then(|t| DataFormat::given(Some(&t)).map_err(|e| q.refuse("format", e)).ok()),
        }
    }
}

/// The cash position of a year's awards: awarded, scheduled to date, received, due but not
/// received, spent, cash held, returned, repaid, owed to the funder, and a flag where the
/// unallocated underspend is above the clawback threshold (setting `clawback_threshold`).
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/reports/cash-position", tag = "cash", params(CashPositionQuery, BomQuery, PartnershipQuery),
    responses((status = 200, description = "The report as JSON, or as CSV with `format=csv`.", content(
            (CashPositionReport = "application/json"),
            (String = "text/csv"))),
        (status = 404, description = "A partnership whose ledger is not held here, or none the caller may see (`not_found`).")))]
async fn cash_position(c: Caller, mut q: Query) -> Result<Response, AppError> {
    c.require(Need::ReadReference)?;
    let p = CashPositionQuery::read(&mut q);
    let bom = BomQuery::read(&mut q).bom;
    let partnership = q.code("partnership");
    q.finish()?;
    super::reports::whose(&c, partnership.as_deref()).await?;
    let (year, csv) = (p.financial_year, p.format == Some(DataFormat::Csv));
    let bom = super::reports::bom_only_with_csv(bom, csv)?;
    let r = report::run(c.store(), year, p.as_at, &p.as_known_at, super::reports::today()).await?;
    let csv = csv.then_some(bom);
    Ok(super::reports::json_or_csv(r, csv, &report::CSV_HEADER, report::csv_rows, &format!("cash-position-{year}.csv")))
}
