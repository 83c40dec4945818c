//! The funder's page of a year: the partnerships it funds side by side, as the funder's
//! overview (`reports::overview`, `GET /api/v1/funder/overview`) has them: each fund with
//! every partnership's share, each partnership's award against its spend, and the totals,
//! every chart with its figures in a table beside it. And the funder_admin's two forms: a
//! reallocation between partnerships and a payment to one, each read into the API route's
//! own request type and refused as the recording forms are (`forms::post`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::dashboard::{head, pounds};
use super::forms::{RecordForm, page_get, record_form_routes};
use super::{Session, page_response, svg};
use crate::domain::FinancialYear;
use crate::http::AppState;
use crate::http::auth::Need;
use crate::http::error::AppError;
use crate::http::input::Query;
use crate::model::Actor;
use crate::model::formats::SheetFormat;
use crate::model::funds::{FundRecord, PaymentCmd, ReallocationCmd};
use crate::reports::overview::{self, FunderOverview, FunderReturns, OverviewRow};
use crate::reports::reconciliation::{self, Reconciliation, ReconciliationStatus};
use crate::storage::{Store, StoreError, funder_payments, funds};

pub fn router() -> OpenApiRouter<AppState> {
    page_router![funder_page; overview_download; reallocation_form; reallocation_post; payment_form; payment_post]
}

/// The parameters of the overview's download.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct OverviewDownloadQuery {
    financial_year: FinancialYear,
    /// `csv` (the default, with a byte-order mark for Excel) or `xlsx`.
    #[param(inline)]
    format: Option<SheetFormat>,
}

impl OverviewDownloadQuery {
    fn read(q: &mut Query) -> Self {
        OverviewDownloadQuery {
            financial_year: q.required_year("financial_year"),
            format: crate::http::routes::monitoring::sheet_format(q),
        }
    }
}

/// The funder's overview of a year as CSV (with a byte-order mark, for Excel) or an XLSX
/// workbook (sheets Overview and Totals), as `GET /api/v1/funder/overview` gives them.
///
/// Roles: funder, funder_admin and admin, signed in with the session cookie `gl_session`;
/// without a live session, 303 to `/sign-in`; any other role is shown the 403 page.
#[utoipa::path(get, path = "/dashboard/funder-overview", tag = "pages", security(()), params(OverviewDownloadQuery),
    responses((status = 200, description = "The overview.", content(
            (String = "text/csv"), (crate::http::openapi::Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 303, description = "No live session: to `/sign-in`, then back."),
        (status = 403, description = "A role that is not the funder's or admin: a page saying so."),
        (status = 422, description = "A bad or unknown `financial_year`, or a bad `format`: a page saying so.")))]
async fn overview_download(
    State(s): State<AppState>,
    Session(who, _): Session,
    mut q: Query,
) -> Result<Response, AppError> {
    if !Need::FunderReports.allows(who.role) {
        return Err(AppError::Forbidden);
    }
    let OverviewDownloadQuery { financial_year: year, format } = OverviewDownloadQuery::read(&mut q);
    q.finish()?;
    let report = overview::run(&s.store, year, s.today()).await?;
    if format == Some(SheetFormat::Xlsx) {
        return crate::http::routes::funder::overview_xlsx(&report);
    }
    let body = crate::reports::csv_out::write(&overview::CSV_HEADER, &overview::csv_rows(&report), true);
    Ok(crate::http::routes::reports::csv_response(body, &format!("funder-overview-{year}.csv")))
}

/// The funder whose money a form moves: the home partnership's. A funder's person reaches
/// the pages only as that funder's (`Principal::ledger_access`), so it is theirs.
async fn the_funder(store: &Store) -> Result<String, StoreError> {
    funds::home_funder(store).await?.ok_or_else(|| StoreError::NotFound("the home partnership's funder".into()))
}

impl RecordForm for ReallocationCmd {
    const NAME: &'static str = "funder/reallocations";
    const TITLE: &'static str = "Reallocate between partnerships";
    const NEED: Need = Need::FunderAdmin;
    const FIELDS: &'static [&'static str] =
        &["grant", "financial_year", "from_partnership", "to_partnership", "amount", "date", "reason"];
    const OWN_LABELS: &'static [(&'static str, &'static str)] = &[("date", "Date it takes effect")];

    async fn record(self, store: &Store, actor: Actor<'_>) -> Result<String, StoreError> {
        let funder = the_funder(store).await?;
        let done = funds::reallocate(store, &funder, self, actor).await?;
        Ok(format!("/funder/{}", done.financial_year))
    }
}

impl RecordForm for PaymentCmd {
    const NAME: &'static str = "funder/payments";
    const TITLE: &'static str = "Record a payment to a partnership";
    const NEED: Need = Need::FunderAdmin;
    const FIELDS: &'static [&'static str] = &["partnership", "grant", "financial_year", "date", "amount", "reference"];
    const OWN_LABELS: &'static [(&'static str, &'static str)] = &[("date", "Date paid")];

    async fn record(self, store: &Store, actor: Actor<'_>) -> Result<String, StoreError> {
        let funder = the_funder(store).await?;
        let year = self.year;
        funder_payments::record_payment(store, &funder, self, actor).await?;
        Ok(format!("/funder/{year}"))
    }
}

record_form_routes! {
    type ReallocationCmd, may_not "reallocate";
    /// The form to move money from one partnership's share of a fund to another's
    /// (`POST /api/v1/funder/reallocations`'s body).
    ///
    /// Roles: funder_admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    form reallocation_form "/funder/reallocations/new";
    /// Reallocate from the form: the fields of `ReallocationBody` as text, and `csrf_token`.
    ///
    /// Roles: funder_admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post reallocation_post "/funder/reallocations";
    body "The fields of `ReallocationBody`, all as text (empty is not given), and `csrf_token`.";
    done "Reallocated: to the funder's page of the year `/funder/{fy}`.";
    missing "No such fund: the form again, saying so.";
    refused "Refused by a ledger rule (`over_allocation` naming the partnership, `period_closed`): the form again, with the rule's figures.";
    denied "No live session, no valid `csrf_token` for this session, posted from another origin, or a role that may not reallocate: a page saying so; nothing is changed.";
}

record_form_routes! {
    type PaymentCmd, may_not "record a funder's payment";
    /// The form to record a payment the funder made to a partnership
    /// (`POST /api/v1/funder/payments`'s body).
    ///
    /// Roles: funder_admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    form payment_form "/funder/payments/new";
    /// Record the payment from the form: the fields of `FunderPaymentBody` as text, and
    /// `csrf_token`.
    ///
    /// Roles: funder_admin, signed in with the session cookie `gl_session`; without a live
    /// session, 303 to `/sign-in`.
    post payment_post "/funder/payments";
    body "The fields of `FunderPaymentBody`, all as text (empty is not given), and `csrf_token`.";
    done "Recorded: to the funder's page of the year `/funder/{fy}`.";
    missing "A partnership the funder does not fund: the form again, saying so.";
    refused "The reference is already recorded for the partnership (`conflict`): the form again, saying so.";
    denied "No live session, no valid `csrf_token` for this session, posted from another origin, or a role that may not record a funder's payment: a page saying so; nothing is changed.";
}

page_get! {
    /// The funder's view of a financial year: each fund with every partnership's share, each
    /// partnership's award against what it has spent (the partnerships whose ledgers this
    /// service holds), and the fund's totals; the same figures as `GET /api/v1/funder/overview`,
    /// which gives them as JSON, CSV and XLSX.
    ///
    /// Roles: funder, funder_admin and admin, signed in with the session cookie `gl_session`;
    /// without a live session, 303 to `/sign-in`; any other role is shown the 403 page.
    get "/funder/{fy}" params(("fy" = crate::domain::FinancialYear, Path)); missing "No such financial year: a page saying so."; bad "Not a financial year, or one the ledger does not hold: a page saying so.";
    async fn funder_page(
        State(s): State<AppState>,
        Session(who, _): Session,
        Path(fy): Path<String>,
    ) -> Result<Response, AppError> {
        if !Need::FunderReports.allows(who.role) {
            return Err(AppError::Forbidden);
        }
        let year = FinancialYear::parse(&fy).map_err(|e| AppError::field("fy", e.to_string()))?;
        let report = overview::run(&s.store, year, s.today()).await?;
        let filed = overview::returns(&s.store, year, None).await?;
        let paid = reconciliation::run(&s.store, &the_funder(&s.store).await?, year).await?;
        // The shares name partnerships by code; the registry gives their names.
        let names: Vec<(String, String)> =
            crate::storage::partnerships::list(&s.store).await?.into_iter().map(|p| (p.code, p.name)).collect();
        let title = format!("The partnerships funded, {year}");
        let body = html! {
            (super::html::masthead(&title, &who))
            main id="content" tabindex="-1" {
                @if Need::FunderAdmin.allows(who.role) {
                    nav class="noprint record-menu" aria-label="Record" {
                        "Record: "
                        a id="record-reallocation" href="/funder/reallocations/new" { "a reallocation between partnerships" }
                        " · " a id="record-payment" href="/funder/payments/new" { "a payment to a partnership" }
                    }
                }
                p id="funder-as-at" {
                    "Figures as at " (report.as_at) ". A quarter's return is due "
                    (report.return_due_days) " days after the quarter ends."
                }
                p class="noprint" id="funder-downloads" {
                    "Download the overview: "
                    a id="overview-csv" href={ "/dashboard/funder-overview?financial_year=" (year) } { "CSV" }
                    " · "
                    a id="overview-xlsx" href={ "/dashboard/funder-overview?financial_year=" (year) "&format=xlsx" } { "Excel workbook" }
                }
                @for fund in &report.funds { (fund_section(fund, &names)) }
                @if report.funds.is_empty() { p id="no-funds" { "No fund is declared for " (year) "." } }
                (partnerships_section(&report))
                (totals_section(&report))
                (returns_section(&filed, &names))
                (reconciliation_section(&paid, &names))
            }
        };
        Ok(page_response(StatusCode::OK, super::html::page(&title, body)))
    }
}

fn name_of<'a>(names: &'a [(String, String)], code: &'a str) -> &'a str {
    names.iter().find(|(c, _)| c == code).map_or(code, |(_, n)| n.as_str())
}

/// A partnership's name as a chart labels it: without the words every one of them shares,
/// so the label fits beside its bar (the table gives the name whole).
fn short(name: &str) -> String {
    name.replace(" Community Safety Partnership", "")
}

/// A fund: its amount, ceiling and shares, drawn as bars and given as a table.
fn fund_section(fund: &FundRecord, names: &[(String, String)]) -> Markup {
    let id = format!("fund-{}", fund.grant);
    let groups: Vec<svg::Group> = fund
        .shares
        .iter()
        .map(|s| svg::Group { label: short(name_of(names, &s.partnership)), values: vec![s.amount.pence()] })
        .collect();
    html! {
        section aria-labelledby={ "h-" (id) } {
            h2 id={ "h-" (id) } { "Fund: " (fund.grant) " " (fund.financial_year) ", " (pounds(fund.amount)) }
            p id={ (id) "-totals" } {
                "Shares total " (pounds(fund.shares_total)) "; the ceiling is " (pounds(fund.ceiling))
                " (" (fund.over_programming_percent) "% over-programming allowed); over the fund by "
                (pounds(fund.over_by)) "."
            }
            @if !groups.is_empty() {
                figure {
                    (svg::horizontal_bars(&format!("{id}-chart"), &format!("Each partnership's share of {}", fund.grant),
                        &[("Share", "actual")], &groups))
                    figcaption { "Each partnership's share. The same figures as a table:" }
                }
            }
            table class="chart-data" id={ (id) "-shares" } {
                caption { "Shares of " (fund.grant) " " (fund.financial_year) }
                thead { tr { (head("Partnership", false)) (head("Share", true)) } }
                tbody {
                    @for s in &fund.shares {
                        tr { th scope="row" { (name_of(names, &s.partnership)) } td class="num" { (pounds(s.amount)) } }
                    }
                }
            }
        }
    }
}

/// One row per partnership and grant: award against spend as bars, then every figure.
fn partnerships_section(report: &FunderOverview) -> Markup {
    let label = |r: &OverviewRow| format!("{} {}", short(&r.partnership_name), r.grant);
    let groups: Vec<svg::Group> = report
        .rows
        .iter()
        .map(|r| svg::Group { label: label(r), values: vec![r.budget.awarded.pence(), r.budget.spent.pence()] })
        .collect();
    html! {
        section aria-labelledby="h-partnerships" {
            h2 id="h-partnerships" { "Partnerships side by side" }
            p class="hint" {
                "The partnerships whose ledgers this service holds, one row per grant. "
                "A partnership funded but not held here shows its share above, not its spend."
            }
            @if !groups.is_empty() {
                figure {
                    (svg::horizontal_bars("partnerships-chart", "Awarded against spent, by partnership and grant",
                        &[("Awarded", "budget"), ("Spent", "actual")], &groups))
                    figcaption { "Awarded against spent. Every figure as a table:" }
                }
            }
            // Scrolls sideways on a narrow screen, and takes the keyboard's focus to do so.
            div class="scroll" tabindex="0" role="region" aria-label="Each partnership's figures" {
                table id="overview" {
                    caption { "Each partnership's award, spend, forecast, cash and returns" }
                    thead { tr {
                        (head("Partnership", false)) (head("Grant", false)) (head("Awarded", true))
                        (head("Allocated", true)) (head("Unallocated", true)) (head("Committed", true))
                        (head("Spent", true)) (head("Officer forecast", true)) (head("Forecast underspend", true))
                        (head("RAG", false)) (head("Received", true)) (head("Owed to the funder", true))
                        (head("Last return filed", false)) (head("Returns overdue", true))
                    } }
                    tbody {
                        @for r in &report.rows {
                            tr {
                                th scope="row" { (r.partnership_name) }
                                td { (r.grant) }
                                td class="num" { (pounds(r.budget.awarded)) }
                                td class="num" { (pounds(r.budget.allocated)) }
                                td class="num" { (pounds(r.budget.unallocated)) }
                                td class="num" { (pounds(r.budget.committed)) }
                                td class="num" { (pounds(r.budget.spent)) }
                                td class="num" { (pounds(r.budget.officer_forecast)) }
                                td class="num" { (pounds(r.budget.forecast_underspend)) }
                                td class={ "rag rag-" (r.rag.as_str()) } { (r.rag.as_str()) ": " (r.rag_why) }
                                td class="num" { (pounds(r.paid.received)) }
                                td class="num" { (pounds(r.paid.owed_to_funder)) }
                                td { (r.last_return_filed_at.as_deref().unwrap_or("none")) }
                                td class="num" { (r.returns_overdue) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Every partnership's returns filed for the year, each against its due date.
fn returns_section(filed: &FunderReturns, names: &[(String, String)]) -> Markup {
    html! {
        section aria-labelledby="h-returns" {
            h2 id="h-returns" { "Returns filed" }
            @if filed.items.is_empty() {
                p id="no-returns" { "No return is filed for " (filed.financial_year) " yet." }
            } @else {
                table id="funder-returns" {
                    caption { "Returns filed, each due " (filed.return_due_days) " days after its quarter" }
                    thead { tr {
                        (head("Partnership", false)) (head("Return", false)) (head("Quarter", true))
                        (head("Filed", false)) (head("Due", false)) (head("On time", false))
                    } }
                    tbody {
                        @for r in &filed.items {
                            tr {
                                th scope="row" { (name_of(names, &r.partnership)) }
                                td { a href={ "/returns/" (r.id) } { (r.kind.as_str()) } }
                                td class="num" { (r.quarter) }
                                td { (r.filed_at) }
                                td { @if let Some(d) = r.due_on { (d) } }
                                td { @if r.late { strong { "Late" } } @else { "On time" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// How a reconciliation row stands, in words.
fn said(status: ReconciliationStatus) -> &'static str {
    match status {
        ReconciliationStatus::Matched => "Matched",
        ReconciliationStatus::PaidNotReceived => "Paid, not yet received",
        ReconciliationStatus::ReceivedNotPaid => "Received, no payment recorded",
        ReconciliationStatus::Differs => "The amounts differ",
    }
}

/// What the funder paid each partnership against what its ledger received; the payments no
/// receipt answers; and payments to partnerships whose ledgers are not held here.
fn reconciliation_section(r: &Reconciliation, names: &[(String, String)]) -> Markup {
    html! {
        section aria-labelledby="h-reconciliation" {
            h2 id="h-reconciliation" { "Payments against receipts" }
            @if r.rows.is_empty() && r.not_held.is_empty() {
                p id="no-payments" { "No payment is recorded and no receipt is held for " (r.financial_year) "." }
            }
            @if !r.rows.is_empty() {
                table id="reconciliation" {
                    caption { "What the funder paid against what each ledger received" }
                    thead { tr {
                        (head("Partnership", false)) (head("Grant", false)) (head("Paid", true))
                        (head("Received", true)) (head("Difference", true)) (head("Standing", false))
                    } }
                    tbody {
                        @for row in &r.rows {
                            tr data-status=(row.status.as_str()) {
                                th scope="row" { (name_of(names, &row.partnership)) }
                                td { (row.grant) }
                                td class="num" { (pounds(row.paid)) }
                                td class="num" { (pounds(row.received)) }
                                td class="num" { (pounds(row.difference)) }
                                td { (said(row.status)) }
                            }
                        }
                    }
                }
            }
            @if !r.unmatched_payments.is_empty() {
                table id="unmatched-payments" {
                    caption { "Payments no receipt of the same amount answers" }
                    thead { tr {
                        (head("Partnership", false)) (head("Grant", false)) (head("Date", false))
                        (head("Amount", true)) (head("Reference", false))
                    } }
                    tbody {
                        @for p in &r.unmatched_payments {
                            tr {
                                th scope="row" { (name_of(names, &p.partnership)) }
                                td { (p.grant) } td { (p.date) } td class="num" { (pounds(p.amount)) } td { (p.reference) }
                            }
                        }
                    }
                }
            }
            @if !r.not_held.is_empty() {
                table id="payments-not-held" {
                    caption { "Paid to partnerships whose ledgers are not held here" }
                    thead { tr { (head("Partnership", false)) (head("Grant", false)) (head("Paid", true)) } }
                    tbody {
                        @for n in &r.not_held {
                            tr {
                                th scope="row" { (name_of(names, &n.partnership)) }
                                td { (n.grant) } td class="num" { (pounds(n.paid)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Each grant's figures summed over the partnerships.
fn totals_section(report: &FunderOverview) -> Markup {
    html! {
        section aria-labelledby="h-totals" {
            h2 id="h-totals" { "Totals" }
            table id="overview-totals" {
                caption { "Each grant summed over the partnerships" }
                thead { tr {
                    (head("Grant", false)) (head("Partnerships", true)) (head("Awarded", true))
                    (head("Allocated", true)) (head("Committed", true)) (head("Spent", true))
                    (head("Received", true)) (head("Owed to the funder", true)) (head("Returns overdue", true))
                } }
                tbody {
                    @for t in &report.totals {
                        tr {
                            th scope="row" { (t.grant) }
                            td class="num" { (t.partnerships) }
                            td class="num" { (pounds(t.budget.awarded)) }
                            td class="num" { (pounds(t.budget.allocated)) }
                            td class="num" { (pounds(t.budget.committed)) }
                            td class="num" { (pounds(t.budget.spent)) }
                            td class="num" { (pounds(t.paid.received)) }
                            td class="num" { (pounds(t.paid.owed_to_funder)) }
                            td class="num" { (t.returns_overdue) }
                        }
                    }
                }
            }
        }
    }
}
