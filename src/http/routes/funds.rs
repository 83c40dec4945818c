//! The funder's funds, shares, reallocations, payments and reconciliation (docs/api.md,
//! "Funds" and "Reconciliation"). Each acts for the caller's own funder: a funder's
//! principal is bound to it. Writes are the funder_admin's; the funder reads.

use axum::Json;
use axum::extract::Path;
use axum::response::Response;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::super::auth::Need;
use super::super::error::AppError;
use super::super::input::{Fields, FromFields, Query, RawBody};
use super::super::openapi::{BomQuery, Code};
use super::reports::{bom, bom_only_with_csv, json_or_csv};
use super::{Answer, Caller, Created, created};
use crate::domain::{FinancialYear, is_valid_code};
use crate::model::formats::DataFormat;
use crate::model::funds::{
    FundCmd, FundRecord, PaymentCmd, PaymentRecord, ReallocationCmd, ReallocationRecord, ShareItem,
};
use crate::reports::reconciliation::{self, Reconciliation};
use crate::storage::{funder_payments, funds};

/// The most shares one fund's list may hold: more partnerships than any funder funds.
pub const SHARES_MAX: usize = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_fund))
        .routes(routes!(get_fund))
        .routes(routes!(put_shares))
        .routes(routes!(reallocate))
        .routes(routes!(record_payment))
        .routes(routes!(reconciliation))
}

/// The caller's funder, once its role is checked: a funder's principal is bound to one.
fn funder(c: &Caller) -> Result<String, AppError> {
    c.auth.0.funder.clone().ok_or(AppError::Forbidden)
}

/// The funder whose reports the caller reads: its own, or for the home partnership's admin
/// (who reads the funder's reports over its partnership, as the overview) the home's funder.
async fn reading_funder(c: &Caller) -> Result<String, AppError> {
    match &c.auth.0.funder {
        Some(f) => Ok(f.clone()),
        None => funds::home_funder(c.store()).await?.ok_or(AppError::Forbidden),
    }
}

/// The fund named by a path: `grant` and `fy` checked.
pub(crate) fn fund_path(grant: &str, fy: &str) -> Result<FinancialYear, AppError> {
    if !is_valid_code(grant) {
        return Err(AppError::field("grant", "is not a valid code"));
    }
    FinancialYear::parse(fy).map_err(|e| AppError::field("fy", e.to_string()))
}

/// A fund's shares, each bad field named `shares[i].field` (from 0); the CLI parses
/// through it too, so both refuse the same.
pub(crate) fn shares_body(body: &RawBody) -> Result<Vec<ShareItem>, AppError> {
    let mut items = Fields::parse_list(body, "shares", SHARES_MAX)?;
    let shares: Vec<ShareItem> = items.iter_mut().map(ShareItem::read).collect();
    Fields::finish_list("shares", items)?;
    Ok(shares)
}

/// Declare the funder's fund of one of its grants for a year: what the partnerships'
/// shares add up to, with the funder's over-programming allowance. Audited.
///
/// Roles: funder_admin.
#[utoipa::path(post, path = "/api/v1/funder/funds", tag = "funder", request_body = FundCmd,
    responses((status = 201, body = FundRecord), (status = 403, description = "Not funder_admin."),
        (status = 409, description = "A fund of the grant for the year is already declared (`conflict`)."),
        (status = 422, description = "A bad field; a grant that is not the funder's (`grant`).")))]
async fn create_fund(c: Caller, body: RawBody) -> Created<FundRecord> {
    c.require(Need::FunderAdmin)?;
    let funder = funder(&c)?;
    let cmd: FundCmd = body.cmd()?;
    created(funds::create_fund(c.store(), &funder, cmd, c.actor()).await?)
}

/// A fund of the funder's, with its shares, their total and how far they go over it.
///
/// The admin is the home partnership's, reading its own funder's.
///
/// Roles: funder, funder_admin, admin.
#[utoipa::path(get, path = "/api/v1/funder/funds/{grant}/{fy}", tag = "funder",
    params(("grant" = Code, Path), ("fy" = FinancialYear, Path)),
    responses((status = 200, body = FundRecord), (status = 403, description = "Neither a funder's role nor admin."),
        (status = 404, description = "The funder has no such fund (`not_found`).")))]
async fn get_fund(c: Caller, Path((grant, fy)): Path<(String, String)>) -> Answer<FundRecord> {
    c.require(Need::FunderReports)?;
    let funder = reading_funder(&c).await?;
    let year = fund_path(&grant, &fy)?;
    Ok(Json(funds::get_fund(c.store(), &funder, &grant, year).await?))
}

/// Set the fund's shares whole: each partnership once, registered and funded by the funder,
/// none negative, together within the fund and the funder's over-programming allowance (422,
/// `shares[i].partnership`, `shares[i].amount` or `shares`); a partnership left out has none.
/// The home partnership's share becomes its award of the grant for the year, in the same
/// `db_tx`: a share below what its ledger has allocated is refused (409 `over_allocation`,
/// naming the partnership), as is a change in a closed year or locked quarter (409
/// `period_closed`). Audited.
///
/// Roles: funder_admin.
#[utoipa::path(put, path = "/api/v1/funder/funds/{grant}/{fy}/shares", tag = "funder",
    params(("grant" = Code, Path), ("fy" = FinancialYear, Path)),
    request_body(content = Vec<ShareItem>, description = "A bad field is named `shares[i].field`, from 0."),
    responses((status = 200, body = FundRecord), (status = 403, description = "Not funder_admin."),
        (status = 404, description = "The funder has no such fund (`not_found`)."),
        (status = 409, description = "The home partnership's award would go below what is allocated from it (`over_allocation`), or its year is closed or the quarter locked (`period_closed`); `partnership` names it.")))]
async fn put_shares(c: Caller, Path((grant, fy)): Path<(String, String)>, body: RawBody) -> Answer<FundRecord> {
    c.require(Need::FunderAdmin)?;
    let funder = funder(&c)?;
    let year = fund_path(&grant, &fy)?;
    let shares = shares_body(&body)?;
    let today = c.state.today();
    Ok(Json(funds::set_shares(c.store(), &funder, (&grant, year), shares, today, c.actor()).await?))
}

/// Move money from one partnership's share of a fund to another's, dated in the fund's year;
/// the fund's total is unchanged. Where a side is the home partnership its award changes
/// too, by a `reallocation` entry carrying the reason. Refused (409, `partnership` naming
/// the side) where it would take an award below what is allocated from it as at any date
/// from `date` on (`over_allocation`, `as_at`), or in a closed year or locked quarter
/// (`period_closed`). Audited on both sides.
///
/// Roles: funder_admin.
#[utoipa::path(post, path = "/api/v1/funder/reallocations", tag = "funder", request_body = ReallocationCmd,
    responses((status = 201, body = ReallocationRecord), (status = 403, description = "Not funder_admin."),
        (status = 409, description = "`over_allocation` or `period_closed`, naming the partnership (`partnership`)."),
        (status = 422, description = "A bad field; an unknown or unfunded partnership, the same partnership on both sides (`to_partnership`), a date outside the year (`date`), no such fund (`grant`).")))]
async fn reallocate(c: Caller, body: RawBody) -> Created<ReallocationRecord> {
    c.require(Need::FunderAdmin)?;
    let funder = funder(&c)?;
    let cmd: ReallocationCmd = body.cmd()?;
    created(funds::reallocate(c.store(), &funder, cmd, c.actor()).await?)
}

/// Record a payment the funder made to a partnership it funds, against one of its grants
/// and a year. A reference is recorded once per partnership (409 `conflict`). Audited.
///
/// Roles: funder_admin.
#[utoipa::path(post, path = "/api/v1/funder/payments", tag = "funder", request_body = PaymentCmd,
    responses((status = 201, body = PaymentRecord), (status = 403, description = "Not funder_admin."),
        (status = 404, description = "A partnership the funder does not fund (`not_found`)."),
        (status = 409, description = "The reference is already recorded for the partnership (`conflict`)."),
        (status = 422, description = "A bad field; a grant that is not the funder's (`grant`).")))]
async fn record_payment(c: Caller, body: RawBody) -> Created<PaymentRecord> {
    c.require(Need::FunderAdmin)?;
    let funder = funder(&c)?;
    let cmd: PaymentCmd = body.cmd()?;
    created(funder_payments::record_payment(c.store(), &funder, cmd, c.actor()).await?)
}

/// The parameters of the reconciliation.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct ReconciliationQuery {
    financial_year: FinancialYear,
    /// `json` (the default) or `csv` (the rows).
    #[param(inline, value_type = Option<DataFormat>)]
    format: Option<String>,
}

/// What the funder paid each partnership against what its ledger received, per partnership
/// and grant of the year (`matched`, `paid_not_received`, `received_not_paid`, `differs`);
/// each payment with no receipt of its amount; and payments to partnerships whose ledger is
/// not in this service (`not_held`).
///
/// The admin is the home partnership's, reading its own funder's.
///
/// Roles: funder, funder_admin, admin.
#[utoipa::path(get, path = "/api/v1/funder/reconciliation", tag = "funder", params(ReconciliationQuery, BomQuery),
    responses((status = 200, description = "The reconciliation as JSON, or its rows as CSV (`format=csv`).", content(
            (Reconciliation = "application/json"), (String = "text/csv"))),
        (status = 403, description = "Neither a funder's role nor admin."),
        (status = 422, description = "A bad `financial_year`, `format` or `bom` (`validation_failed`).")))]
async fn reconciliation(c: Caller, mut q: Query) -> Result<Response, AppError> {
    c.require(Need::FunderReports)?;
    let funder = reading_funder(&c).await?;
    let ReconciliationQuery { financial_year: year, format } =
        ReconciliationQuery { financial_year: q.required_year("financial_year"), format: q.text("format") };
    let bom = bom(&mut q);
    q.finish()?;
    let format = DataFormat::given(format.as_deref()).map_err(|e| AppError::field("format", e))?;
    let bom = bom_only_with_csv(bom, format == DataFormat::Csv)?;
    let report = reconciliation::run(c.store(), &funder, year).await?;
    let csv = (format == DataFormat::Csv).then_some(bom);
    let name = format!("reconciliation-{year}.csv");
    Ok(json_or_csv(report, csv, &reconciliation::CSV_HEADER, reconciliation::csv_rows, &name))
}
