//! The lists people search (docs/desk.md, "Finding things"): entries, commitments,
//! virements, filed returns and the audit trail. Each is a page with its filters as a form
//! sent by GET, its rows a page at a time with a link to the next, the whole list's count
//! (and for entries and commitments its total), and a CSV link carrying the same filters
//! (`format=csv`: every row the filters find, `reports::lists`). The filters are read by the
//! API's own request types (`routes::ledger::EntryFilterQuery` …), so a page and the API
//! cannot disagree about what a filter means. Session required; every role reads, the audit
//! trail as its route allows.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::super::AppState;
use super::super::auth::Need;
use super::super::error::AppError;
use super::super::input::{PageParams, Query};
use super::super::routes::reports::csv_response;
use super::super::routes::{controls, ledger, returns};
use super::dashboard::pounds;
use super::{Session, page_response};
use crate::domain::status::ReturnKind;
use crate::domain::{AccountKind, EntryKind, Money, VirementStatus};
use crate::model::lists::VirementFilter;
use crate::model::lists::{EntrySort, ListFormat, Standing};
use crate::model::page::{List, PAGE_LIMIT_MAX};
use crate::model::postings::VirementRecord;
use crate::model::tokens::Principal;
use crate::reports::lists as csv_lists;
use crate::storage::{audit, entries, operations};

pub fn router() -> OpenApiRouter<AppState> {
    page_router![entries_page; commitments_page; virements_page; returns_page; audit_page]
}

/// Declares a list page's route once: `page NAME "/PATH", FILTERS, need NEED => BODY`, its
/// doc comment written above it in the call. The handler carries the `#[utoipa::path]` every
/// list has (the API query type's filters and `ListQuery`; the page, or its CSV), with a 403
/// where `forbidden` says who may not read it; it refuses a role `NEED` does not allow, then
/// answers with `BODY(state, person, query)`.
macro_rules! list_page {
    (
        $(#[doc = $doc:tt])*
        page $name:ident $path:literal, $($filters:ident)::+, need $need:ident $(, forbidden $forbidden:literal)?
            => $body:ident;
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(get, path = $path, tag = "pages", security(()), params($($filters)::+, ListQuery),
            responses((status = 200, description = "The page, or with `format=csv` the rows as CSV.", content(
                    (String = "text/html"), (String = "text/csv"))),
                (status = 303, description = "No live session: to `/sign-in`, then back."),
                $((status = 403, description = $forbidden),)?
                (status = 422, description = "A bad filter: a page naming it.")))]
        async fn $name(State(s): State<AppState>, Session(who, _): Session, q: Query) -> Result<Response, AppError> {
            if !Need::$need.allows(who.role) {
                return Err(AppError::Forbidden);
            }
            $body(s, who, q).await
        }
    };
}

/// The header every list page shares: where the person is, and the way to the others.
pub fn nav() -> Markup {
    html! {
        nav class="noprint lists" aria-label="Lists" {
            a href="/dashboard" { "Dashboard" } " · "
            a href="/entries" { "Entries" } " · "
            a href="/commitments" { "Commitments" } " · "
            a href="/virements" { "Virements" } " · "
            a href="/returns" { "Filed returns" } " · "
            a href="/audit" { "Audit trail" }
        }
    }
}

/// A query string of the pairs given with a value, each percent-encoded.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    let encode = |t: &str| super::encoded(t, b"");
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `path` with the filters, and `extra` after them.
fn link(path: &str, pairs: &[(&str, String)], extra: &[(&str, String)]) -> String {
    let all: Vec<(&str, String)> = pairs.iter().chain(extra).cloned().collect();
    let q = query_string(&all);
    if q.is_empty() { path.to_owned() } else { format!("{path}?{q}") }
}

/// The form a list page answers in, and its page.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `html` (the default): the page; `csv`: every row the filters find, as a download.
    #[param(inline)]
    format: Option<ListFormat>,
    /// Rows per page (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    limit: i64,
    /// The next page's cursor, as the page's own "Next page" link carries it; read as the
    /// key of the row the page starts after.
    #[param(rename = "cursor", value_type = Option<String>)]
    after: String,
}

impl ListQuery {
    /// The form and page of `list`, its cursors scoped to `scope` (`model::page::cursor_in`).
    fn read(q: &mut Query, list: List, scope: &str) -> ListQuery {
        let format = q.word("format", ListFormat::parse, &ListFormat::WORDS);
        let PageParams { after, limit } = q.page_in(list, scope);
        ListQuery { format, limit, after }
    }

    fn csv(&self) -> bool {
        self.format == Some(ListFormat::Csv)
    }

    /// The cursor's key as an id, for lists keyed by id.
    fn after_id(&self) -> i64 {
        self.after.parse().unwrap_or(0)
    }
}

/// One filter of a list, said once: its name in the query, its label, its value, and how
/// it is entered; the form shows it, and the page's links carry it.
struct Filter<'a> {
    name: &'a str,
    label: &'a str,
    value: String,
    input: Input<'a>,
}

/// How a filter is entered: an input of this type, or a choice of words with an empty "any"
/// choice first (or none, when `any` is None).
enum Input<'a> {
    Text(&'a str),
    Words(&'a [&'a str], Option<&'a str>),
}

/// A text filter, its value kept; `kind` is the input's type.
fn text_input<'a>(name: &'a str, label: &'a str, value: &str, kind: &'a str) -> Filter<'a> {
    Filter { name, label, value: value.to_owned(), input: Input::Text(kind) }
}

/// A filter chosen from `words`.
fn select<'a>(name: &'a str, label: &'a str, words: &'a [&'a str], chosen: &str, any: Option<&'a str>) -> Filter<'a> {
    Filter { name, label, value: chosen.to_owned(), input: Input::Words(words, any) }
}

fn filter_html(f: &Filter) -> Markup {
    let (name, value) = (f.name, f.value.as_str());
    html! {
        span class="filter" {
            label for=(name) { (f.label) }
            @match f.input {
                Input::Text(kind) => { input id=(name) name=(name) type=(kind) value=(value); }
                Input::Words(words, any) => {
                    select id=(name) name=(name) {
                        @if let Some(any) = any { option value="" selected[value.is_empty()] { (any) } }
                        @for w in words { option value=(w) selected[*w == value] { (w) } }
                    }
                }
            }
        }
    }
}

/// The frame of a list page: nav, heading, filters, summary, download, rows, next page.
struct ListPage<'a> {
    title: &'a str,
    /// The list's address, where its filters are sent.
    action: &'a str,
    /// The filters, in the form and carried by the page's links to the download and the next page.
    filters: &'a [Filter<'a>],
    summary: Markup,
    table: Markup,
    /// The next page's cursor, if there is one.
    next: Option<String>,
}

fn render(p: ListPage) -> Response {
    let pairs: Vec<(&str, String)> = p.filters.iter().map(|f| (f.name, f.value.clone())).collect();
    let csv = link(p.action, &pairs, &[("format", "csv".to_owned())]);
    let next = p.next.map(|c| link(p.action, &pairs, &[("cursor", c)]));
    let body = html! {
        header class="masthead" {
            (nav())
            h1 { (p.title) }
            form class="noprint controls filters" method="get" action=(p.action) role="search" {
                @for f in p.filters { (filter_html(f)) }
                button type="submit" { "Search" }
            }
        }
        main {
            (p.summary)
            p class="noprint" { a id="csv-link" href=(csv) { "Download these rows (CSV)" } }
            (p.table)
            @if let Some(next) = &next { p class="noprint" { a id="next-page" rel="next" href=(next) { "Next page" } } }
        }
    };
    page_response(StatusCode::OK, super::html::page(&format!("{} · grant-ledger", p.title), body))
}

/// A project's code, linking to its page.
fn project_link(code: &str) -> Markup {
    html! { a href={ "/projects/" (super::percent_encode(code)) } { (code) } }
}

fn opt_text<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

list_page! {
    /// Entries, searched by supplier, invoice reference, project, grant, kind, dates, amount and
    /// memo text; by date unless `sort=id`.
    ///
    /// Roles: every role, signed in with the session cookie; without one, 303 to `/sign-in`.
    page entries_page "/entries", ledger::EntryFilterQuery, need ReadLedger => entries;
}

async fn entries(s: AppState, _who: Principal, mut q: Query) -> Result<Response, AppError> {
    // The page lists by date unless asked otherwise; the API keeps its order by id.
    let f = ledger::EntryFilterQuery::read(&mut q).filter(EntrySort::Date);
    let page = match f.sort {
        EntrySort::Id => ListQuery::read(&mut q, List::Entries, ""),
        EntrySort::Date => ListQuery::read(&mut q, List::EntriesByDate, &f.scope()),
    };
    let csv = page.csv();
    q.finish()?;
    if csv {
        let rows = csv_lists::entries(&s.store, &f).await?;
        return Ok(csv_response(csv_lists::csv(&csv_lists::ENTRY_COLUMNS, &rows, false), "entries.csv"));
    }
    let found = entries::search_entries(&s.store, &f, &page.after, page.limit).await?;
    let total = entries::total_entries(&s.store, &f).await?;
    let amount_head = match f.account {
        Some(kind) => format!("Net to {kind}"),
        None => "Amount".to_owned(),
    };
    let filters = [
        text_input("supplier", "Supplier", &opt_text(&f.supplier), "search"),
        text_input("invoice_ref", "Invoice ref", &opt_text(&f.invoice_ref), "text"),
        text_input("q", "Memo contains", &opt_text(&f.q), "search"),
        text_input("grant", "Grant", &opt_text(&f.grant), "text"),
        text_input("project", "Project", &opt_text(&f.project), "text"),
        text_input("financial_year", "Year", &opt_text(&f.year), "text"),
        select("kind", "Kind", &EntryKind::WORDS, &opt_text(&f.kind), Some("any")),
        select("account", "Posting to", &AccountKind::WORDS, &opt_text(&f.account), Some("any account")),
        text_input("from", "From", &opt_text(&f.from), "date"),
        text_input("to", "To", &opt_text(&f.to), "date"),
        text_input("min", "Amount from", &opt_text(&f.min), "text"),
        text_input("max", "to", &opt_text(&f.max), "text"),
        select("sort", "Order", &["date", "id"], f.sort.as_str(), None),
    ];
    let summary = html! {
        p id="list-total" data-count=(total.count) data-total=(total.amount) {
            (total.count) " " (if total.count == 1 { "entry" } else { "entries" })
            ", " (amount_head.to_lowercase()) " " (pounds(total.amount)) "."
        }
    };
    let table = html! {
        table id="entries" class="figures" {
            caption { "Entries found" }
            thead { tr {
                th scope="col" { "Date" } th scope="col" { "Entry" } th scope="col" { "Kind" }
                th scope="col" { "Grant" } th scope="col" { "Project" } th scope="col" { "Supplier" }
                th scope="col" { "Invoice ref" } th scope="col" { "Memo" } th scope="col" class="num" { (amount_head) }
            } }
            tbody {
                @for l in &found.items {
                    tr data-id=(l.entry.id) {
                        td { (l.entry.date) }
                        td { a href={ "/entries/" (l.entry.id) } { (l.entry.id) } }
                        td { (l.entry.kind) }
                        td { (l.entry.grant) }
                        td { @if let Some(p) = &l.project { (project_link(p)) } }
                        td class="supplier" { (opt_text(&l.supplier)) }
                        td { (opt_text(&l.invoice_ref)) }
                        td { (l.entry.memo) }
                        td class="num amount" data-amount=(l.amount) { (pounds(l.amount)) }
                    }
                }
            }
        }
    };
    let next = found.next_cursor;
    Ok(render(ListPage { title: "Entries", action: "/entries", filters: &filters, summary, table, next }))
}

list_page! {
    /// Commitments, open or all, by grant, year, project, supplier and date.
    ///
    /// Roles: every role, signed in with the session cookie; without one, 303 to `/sign-in`.
    page commitments_page "/commitments", ledger::CommitmentQuery, need ReadLedger => commitments;
}

async fn commitments(s: AppState, _who: Principal, mut q: Query) -> Result<Response, AppError> {
    let f = ledger::CommitmentQuery::read(&mut q).filter();
    let page = ListQuery::read(&mut q, List::Commitments, "");
    let csv = page.csv();
    q.finish()?;
    let status = if f.open_only { Standing::Open } else { Standing::All };
    let every = csv_lists::commitments(&s.store, &f).await?;
    if csv {
        return Ok(csv_response(csv_lists::csv(&csv_lists::COMMITMENT_COLUMNS, &every, false), "commitments.csv"));
    }
    let found = operations::search_commitments(&s.store, &f, page.after_id(), page.limit).await?;
    let outstanding = Money::from_pence(every.iter().map(|c| c.outstanding.pence()).sum());
    let filters = [
        select("status", "Which", &Standing::WORDS, status.as_str(), None),
        text_input("supplier", "Supplier", &opt_text(&f.supplier), "search"),
        text_input("grant", "Grant", &opt_text(&f.grant), "text"),
        text_input("project", "Project", &opt_text(&f.project), "text"),
        text_input("financial_year", "Year", &opt_text(&f.financial_year), "text"),
        text_input("from", "From", &opt_text(&f.from), "date"),
        text_input("to", "To", &opt_text(&f.to), "date"),
    ];
    let summary = html! {
        p id="list-total" data-count=(every.len()) data-total=(outstanding) {
            (every.len()) " " (if every.len() == 1 { "commitment" } else { "commitments" })
            ", outstanding " (pounds(outstanding)) "."
        }
    };
    let table = html! {
        table id="commitments" class="figures" {
            caption { "Commitments found" }
            thead { tr {
                th scope="col" { "Date" } th scope="col" { "Commitment" } th scope="col" { "Kind" }
                th scope="col" { "Grant" } th scope="col" { "Year" } th scope="col" { "Project" }
                th scope="col" { "Supplier" } th scope="col" { "Reference" }
                th scope="col" class="num" { "Amount" } th scope="col" class="num" { "Outstanding" }
            } }
            tbody {
                @for c in &found.items {
                    tr data-id=(c.commitment_id) {
                        td { (c.date) }
                        td { (c.commitment_id) " " a href={ "/entries/" (c.entry_id) } { "entry " (c.entry_id) } }
                        td { (c.kind) } td { (c.grant) } td { (c.financial_year) } td { (project_link(&c.project)) }
                        td class="supplier" { (c.supplier) } td { (c.reference) }
                        td class="num" { (pounds(c.amount)) }
                        td class="num amount" data-amount=(c.outstanding) { (pounds(c.outstanding)) }
                    }
                }
            }
        }
    };
    let next = found.next_cursor;
    Ok(render(ListPage { title: "Commitments", action: "/commitments", filters: &filters, summary, table, next }))
}

list_page! {
    /// Virements by status, year, grant, project and decision date.
    ///
    /// Above them, an approver sees those waiting for their decision: pending, and not their
    /// own proposals.
    ///
    /// Roles: every role, signed in with the session cookie; without one, 303 to `/sign-in`.
    page virements_page "/virements", controls::VirementQuery, need ReadLedger => virements;
}

/// The virements waiting for `who` to decide: pending, and proposed by someone else, when
/// `who` may approve (the four-eyes rule); none otherwise.
async fn waiting_for(s: &AppState, who: &Principal) -> Result<Vec<VirementRecord>, AppError> {
    if !Need::Approver.allows(who.role) {
        return Ok(Vec::new());
    }
    let pending = VirementFilter { status: Some(VirementStatus::Pending), ..VirementFilter::default() };
    let mut waiting = Vec::new();
    let mut after = 0;
    loop {
        let page = crate::storage::controls::search_virements(&s.store, &pending, after, PAGE_LIMIT_MAX).await?;
        after = page.items.last().map_or(after, |v| v.virement_id);
        waiting.extend(page.items.into_iter().filter(|v| v.proposed_by != who.name));
        if page.next_cursor.is_none() {
            return Ok(waiting);
        }
    }
}

async fn virements(s: AppState, who: Principal, mut q: Query) -> Result<Response, AppError> {
    let f = controls::VirementQuery::read(&mut q).filter();
    let page = ListQuery::read(&mut q, List::Virements, "");
    let csv = page.csv();
    q.finish()?;
    if csv {
        let rows = csv_lists::virements(&s.store, &f).await?;
        return Ok(csv_response(csv_lists::csv(&csv_lists::VIREMENT_COLUMNS, &rows, false), "virements.csv"));
    }
    let found = crate::storage::controls::search_virements(&s.store, &f, page.after_id(), page.limit).await?;
    let waiting = waiting_for(&s, &who).await?;
    let summary = html! {
        @if !waiting.is_empty() {
            section aria-labelledby="h-waiting" class="noprint" {
                h2 id="h-waiting" { "Waiting for your decision" }
                ul id="waiting" {
                    @for v in &waiting {
                        li {
                            a href={ "/virements/" (v.virement_id) } { "Virement " (v.virement_id) }
                            ": " (pounds(v.amount)) " of " (v.grant) " " (v.financial_year) " from " (v.from_project)
                            " to " (v.to_project) ", proposed by " (v.proposed_by)
                        }
                    }
                }
            }
        }
    };
    let filters = [
        select("status", "Status", &VirementStatus::WORDS, &opt_text(&f.status), Some("any")),
        text_input("grant", "Grant", &opt_text(&f.grant), "text"),
        text_input("project", "Project", &opt_text(&f.project), "text"),
        text_input("financial_year", "Year", &opt_text(&f.financial_year), "text"),
        text_input("from", "Decided from", &opt_text(&f.from), "date"),
        text_input("to", "To", &opt_text(&f.to), "date"),
    ];
    let table = html! {
        table id="virements" class="figures" {
            caption { "Virements found" }
            thead { tr {
                th scope="col" { "Decided" } th scope="col" { "Virement" } th scope="col" { "Status" }
                th scope="col" { "Grant" } th scope="col" { "Year" } th scope="col" { "From" } th scope="col" { "To" }
                th scope="col" class="num" { "Amount" } th scope="col" { "Reason" } th scope="col" { "Proposed by" }
            } }
            tbody {
                @for v in &found.items {
                    tr data-id=(v.virement_id) {
                        td { (v.approved_on) }
                        td {
                            (v.virement_id)
                            @if let Some(e) = v.entry_id { " " a href={ "/entries/" (e) } { "entry " (e) } }
                        }
                        td { (v.status) } td { (v.grant) } td { (v.financial_year) }
                        td { (v.from_project) } td { (v.to_project) }
                        td class="num" { (pounds(v.amount)) } td { (v.reason) } td { (v.proposed_by) }
                    }
                }
            }
        }
    };
    let next = found.next_cursor;
    Ok(render(ListPage { title: "Virements", action: "/virements", filters: &filters, summary, table, next }))
}

list_page! {
    /// Filed returns by kind, year and the date filed, newest first.
    ///
    /// Roles: every role, signed in with the session cookie; without one, 303 to `/sign-in`.
    page returns_page "/returns", returns::ReturnsQuery, need ReadLedger => returns;
}

async fn returns(s: AppState, _who: Principal, mut q: Query) -> Result<Response, AppError> {
    let f = returns::ReturnsQuery::read(&mut q).filter();
    let page = ListQuery::read(&mut q, List::Returns, "");
    let csv = page.csv();
    q.finish()?;
    if csv {
        let rows = csv_lists::returns(&s.store, &f).await?;
        return Ok(csv_response(csv_lists::csv(&csv_lists::RETURN_COLUMNS, &rows, false), "returns.csv"));
    }
    let found = crate::storage::returns::search(&s.store, &f, page.after_id(), page.limit).await?;
    let filters = [
        select("kind", "Kind", &ReturnKind::WORDS, &opt_text(&f.kind), Some("any")),
        text_input("financial_year", "Year", &opt_text(&f.financial_year), "text"),
        text_input("from", "Filed from", &opt_text(&f.from), "date"),
        text_input("to", "To", &opt_text(&f.to), "date"),
    ];
    let table = html! {
        table id="returns" class="figures" {
            caption { "Filed returns found, newest first" }
            thead { tr {
                th scope="col" { "Filed" } th scope="col" { "Return" } th scope="col" { "Kind" }
                th scope="col" { "Year" } th scope="col" { "Quarter" } th scope="col" { "Filed by" }
            } }
            tbody {
                @for r in &found.items {
                    tr data-id=(r.id) {
                        td { a href={ "/returns/" (r.id) } { (r.filed_at) } }
                        td { a href={ "/dashboard/returns/" (r.id) "/file" } { (r.file_name) } }
                        td { (r.kind) } td { (r.financial_year) } td { "Q" (r.quarter) } td { (r.filed_by) }
                    }
                }
            }
        }
    };
    let next = found.next_cursor;
    Ok(render(ListPage {
        title: "Filed returns",
        action: "/returns",
        filters: &filters,
        summary: html! {},
        table,
        next,
    }))
}

list_page! {
    /// The audit trail by entity, key, actor, action and date, newest first.
    ///
    /// Roles: every role but funder; token and sign-in records for admin only.
    page audit_page "/audit", controls::AuditQuery, need ReadAudit, forbidden "A funder, or token or session records asked for by another role." => audit;
}

async fn audit(s: AppState, who: Principal, mut q: Query) -> Result<Response, AppError> {
    let f = controls::AuditQuery::read(&mut q).filter(Need::Admin.allows(who.role));
    let page = ListQuery::read(&mut q, List::Audit, "");
    let csv = page.csv();
    q.finish()?;
    if f.entity.is_some_and(crate::domain::audit::AuditEntity::admin_only) && !f.with_tokens {
        return Err(AppError::Forbidden);
    }
    if csv {
        let rows = csv_lists::audit(&s.store, &f).await?;
        return Ok(csv_response(csv_lists::csv(&csv_lists::AUDIT_COLUMNS, &rows, false), "audit.csv"));
    }
    let found = audit::list(&s.store, &f, page.after_id(), page.limit).await?;
    let filters = [
        text_input("entity", "Entity", &opt_text(&f.entity), "text"),
        text_input("key", "Key", &opt_text(&f.key), "text"),
        text_input("actor", "Who", &opt_text(&f.actor), "text"),
        text_input("action", "Action", &opt_text(&f.action), "text"),
        text_input("from", "From", &opt_text(&f.from), "date"),
        text_input("to", "To", &opt_text(&f.to), "date"),
    ];
    let table = html! {
        table id="audit" class="figures" {
            caption { "Audit records found, newest first" }
            thead { tr {
                th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" }
                th scope="col" { "Entity" } th scope="col" { "Key" } th scope="col" { "Reason" }
            } }
            tbody {
                @for a in &found.items {
                    tr data-id=(a.id) {
                        td { (a.at) } td { (a.actor) } td { (a.action) } td { (a.entity) } td { (a.key) } td { (a.reason) }
                    }
                }
            }
        }
    };
    let next = found.next_cursor;
    Ok(render(ListPage { title: "Audit trail", action: "/audit", filters: &filters, summary: html! {}, table, next }))
}
