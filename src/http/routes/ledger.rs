//! Reading the ledger: entries, accounts and commitments.

use axum::Json;
use chrono::NaiveDate;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::super::auth::Need;
use super::super::input::Query;
use super::super::openapi::{AmountOrZero, Code, IsoDate, PageQuery, Text};
use super::{Answer, Caller};
use crate::domain::{AccountKind, EntryKind, FinancialYear, Money};
use crate::model::agreements::CommitmentDetail;
use crate::model::entries::{AccountBalance, EntryFilter, EntryView};
use crate::model::lists::{CommitmentFilter, EntrySort, Standing};
use crate::model::page::{List, Page};
use crate::model::postings::CommitmentRecord;
use crate::storage::entries;
use crate::storage::operations as ops;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_entries))
        .routes(routes!(get_entry))
        .routes(routes!(get_commitment))
        .routes(routes!(list_accounts))
}

/// The filters of the entries list: `GET /api/v1/entries` and the page `/entries` read them.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EntryFilterQuery {
    financial_year: Option<FinancialYear>,
    #[param(value_type = Option<Code>)]
    grant: Option<String>,
    #[param(value_type = Option<Code>)]
    project: Option<String>,
    #[param(inline)]
    kind: Option<EntryKind>,
    #[param(value_type = Option<IsoDate>)]
    from: Option<NaiveDate>,
    #[param(value_type = Option<IsoDate>)]
    to: Option<NaiveDate>,
    /// Case-insensitive, anywhere in the entry's supplier.
    #[param(value_type = Option<Text>)]
    supplier: Option<String>,
    /// The invoice reference exactly.
    #[param(value_type = Option<Text>)]
    invoice_ref: Option<String>,
    /// Case-insensitive, anywhere in the memo (a spend's memo is its description); `%` and
    /// `_` are matched as themselves.
    #[param(value_type = Option<Text>)]
    q: Option<String>,
    /// The least amount: the entry's total (the sum of its debits), or with `account` its
    /// net posting to those accounts.
    #[param(value_type = Option<AmountOrZero>)]
    min: Option<Money>,
    /// The most amount, as `min`.
    #[param(value_type = Option<AmountOrZero>)]
    max: Option<Money>,
    /// Only entries posting to an account of this kind (of the `grant`, `project` and
    /// `financial_year` asked for); each one's amount is then its net posting to them, in
    /// the account's normal direction, so the list's total is their figure.
    #[param(inline)]
    account: Option<AccountKind>,
    /// `id` (as recorded; the API's default) or `date` (entry date, then id; the page's
    /// default). A cursor is good only for the order and filters it was given under.
    #[param(inline)]
    sort: Option<EntrySort>,
}

impl EntryFilterQuery {
    pub(crate) fn read(q: &mut Query) -> Self {
        EntryFilterQuery {
            financial_year: q.year("financial_year"),
            grant: q.code("grant"),
            project: q.code("project"),
            kind: q.word("kind", EntryKind::parse, &EntryKind::WORDS),
            from: q.date("from"),
            to: q.date("to"),
            supplier: q.text("supplier"),
            invoice_ref: q.text("invoice_ref"),
            q: q.text("q"),
            min: q.money("min"),
            max: q.money("max"),
            account: q.word("account", AccountKind::parse, &AccountKind::WORDS),
            sort: q.word("sort", EntrySort::parse, &EntrySort::WORDS),
        }
    }

    /// The filter, in order `sort`, or `default` when none was asked for.
    pub(crate) fn filter(self, default: EntrySort) -> EntryFilter {
        EntryFilter {
            year: self.financial_year,
            grant: self.grant,
            project: self.project,
            kind: self.kind,
            from: self.from,
            to: self.to,
            supplier: self.supplier,
            invoice_ref: self.invoice_ref,
            q: self.q,
            min: self.min,
            max: self.max,
            account: self.account,
            sort: self.sort.unwrap_or(default),
        }
    }
}

/// The page of a filtered list of entries: its cursor is of the list in the filter's order.
pub(crate) fn entry_page(q: &mut Query, f: &EntryFilter) -> super::super::input::PageParams {
    match f.sort {
        EntrySort::Id => q.page(List::Entries),
        EntrySort::Date => q.page_in(List::EntriesByDate, &f.scope()),
    }
}

/// List entries with their postings, newest last.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/entries", tag = "ledger", params(EntryFilterQuery, PageQuery),
    responses((status = 200, body = super::super::openapi::EntryPage)))]
async fn list_entries(c: Caller, mut q: Query) -> Answer<Page<EntryView>> {
    c.require(Need::ReadLedger)?;
    let filter = EntryFilterQuery::read(&mut q).filter(EntrySort::Id);
    let page = entry_page(&mut q, &filter);
    q.finish()?;
    Ok(Json(entries::list_entries(c.store(), &filter, &page.after, page.limit).await?))
}

record_route! {
    /// Get an entry with its postings.
    ///
    /// Roles: every role.
    get_entry: "/api/v1/entries/{id}", "ledger", ReadLedger, id => entries::get_entry => EntryView,
        (status = 404, description = "No such entry (`not_found`).")
}

/// The filters of `GET /accounts`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct AccountQuery {
    #[param(value_type = Option<Code>)]
    grant: Option<String>,
    financial_year: Option<FinancialYear>,
    #[param(value_type = Option<Code>)]
    project: Option<String>,
}

impl AccountQuery {
    fn read(q: &mut Query) -> Self {
        AccountQuery { grant: q.code("grant"), financial_year: q.year("financial_year"), project: q.code("project") }
    }
}

/// List account balances, e.g. `spent:LDF:2023-24:P1`; signed, debit positive.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "ledger", params(AccountQuery, PageQuery),
    responses((status = 200, body = super::super::openapi::AccountPage)))]
async fn list_accounts(c: Caller, mut q: Query) -> Answer<Page<AccountBalance>> {
    c.require(Need::ReadLedger)?;
    let AccountQuery { grant, financial_year: year, project } = AccountQuery::read(&mut q);
    let page = q.page(List::Accounts);
    q.finish()?;
    let listed =
        entries::list_accounts(c.store(), grant.as_deref(), year, project.as_deref(), &page.after, page.limit).await?;
    Ok(Json(listed))
}

/// The filters of the commitments list: `GET /api/v1/commitments` and the page
/// `/commitments` read them.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CommitmentQuery {
    #[param(value_type = Option<Code>)]
    project: Option<String>,
    /// Only commitments with something outstanding (as `status=open`).
    #[param(value_type = Option<bool>)]
    open: bool,
    /// `open` (something outstanding) or `all` (the default).
    #[param(inline)]
    status: Option<Standing>,
    #[param(value_type = Option<Code>)]
    grant: Option<String>,
    financial_year: Option<FinancialYear>,
    /// Case-insensitive, anywhere in the supplier (a grant agreement's partner's name).
    #[param(value_type = Option<Text>)]
    supplier: Option<String>,
    /// Inclusive, on the commitment's date.
    #[param(value_type = Option<IsoDate>)]
    from: Option<NaiveDate>,
    #[param(value_type = Option<IsoDate>)]
    to: Option<NaiveDate>,
}

impl CommitmentQuery {
    pub(crate) fn read(q: &mut Query) -> Self {
        CommitmentQuery {
            project: q.code("project"),
            open: q.bool("open").unwrap_or(false),
            status: q.word("status", Standing::parse, &Standing::WORDS),
            grant: q.code("grant"),
            financial_year: q.year("financial_year"),
            supplier: q.text("supplier"),
            from: q.date("from"),
            to: q.date("to"),
        }
    }

    pub(crate) fn filter(self) -> CommitmentFilter {
        let CommitmentQuery { project, open, status, grant, financial_year, supplier, from, to } = self;
        CommitmentFilter {
            open_only: open || status == Some(Standing::Open),
            grant,
            financial_year,
            project,
            supplier,
            from,
            to,
        }
    }
}

filtered_list! {
    /// List commitments with what is outstanding.
    ///
    /// Roles: every role.
    pub list_commitments: "/api/v1/commitments", "ledger", ReadLedger,
        CommitmentQuery, Commitments => ops::search_commitments => CommitmentRecord, CommitmentPage
}

record_route! {
    /// Get one commitment whole: a purchase order, or a grant agreement with its yearly parts,
    /// its payments and clawbacks, the partner's evidence, and what is paid, evidenced and
    /// outstanding.
    ///
    /// Roles: every role.
    get_commitment: "/api/v1/commitments/{id}", "ledger", ReadLedger, id => ops::commitment_detail => CommitmentDetail,
        (status = 404, description = "No such commitment (`not_found`).")
}
