//! The OpenAPI 3.1 document, generated from the handlers. Every route is registered through
//! `utoipa_axum::routes!`, which takes the method, path, parameters, body and responses from
//! the handler's `#[utoipa::path]`, so a route cannot be served without its documentation.
//! Here: the document's frame, the hand-written schemas of the value types (money, years,
//! codes, text; closed sets of words have theirs from `domain::words`), and `Conventions`, which adds what every route shares (auth, throttle,
//! bad-field and busy answers, the Problem body of every error).

use std::borrow::Cow;

use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, Required, ResponseBuilder, Schema};
use utoipa::{IntoParams, Modify, OpenApi, PartialSchema, ToSchema};

use super::error::{FieldError, Problem};
use crate::domain::{FinancialYear, Money, ProgressRag, Quantity};
pub use crate::model::wire::*;

/// The document's frame; the paths come from the routers (`super::api_router`). The value
/// types are named in components here too: parameters refer to them but do not register them.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "grant-ledger",
        description = "Budgetary double-entry ledger for community safety partnership grants. \
                       The conventions (signs, idempotency, errors, roles, pagination) are in docs/api.md.",
    ),
    components(schemas(Problem, FieldError, Money, Quantity, ProgressRag, FinancialYear, Amount, AmountOrZero, Code, Text, TextOrEmpty, Prose, ProseOrEmpty, IsoDate, Instant, YearOrEmpty, DateOrEmpty)),
    tags(
        (name = "reference", description = "Financial years, funders, priorities, grants, awards, projects"),
        (name = "postings", description = "Each creates one balanced entry"),
        (name = "ledger", description = "Entries, accounts, commitments"),
        (name = "controls", description = "Four-eyes virements, year end, closing years, audit, settings"),
        (name = "reports", description = "Reports and exports; JSON or CSV"),
        (name = "cash", description = "The funder's cash: payment schedules, receipts, repayments, cash position"),
        (name = "funder", description = "The funder's reports over the partnerships it funds: the overview, filed returns and lateness"),
        (name = "returns", description = "Filed returns: what was sent, byte for byte, and what changed since"),
        (name = "monitoring", description = "Officers' forecasts, indicators and their returns, the monitoring return"),
        (name = "tokens", description = "Bearer tokens (admin)"),
        (name = "users", description = "People who sign in to the pages (admin)"),
        (name = "pages", description = "HTML pages and CSV downloads for the partnership group (session cookie)"),
        (name = "service", description = "Health and this document"),
        (name = "operator", description = "The service's funders and partnerships, their first admins, and its health (operator)"),
    )
)]
pub struct ApiDoc;

/// The whole document, as the server answers it at `/openapi.json`. Its one server is `/`,
/// relative to wherever the document was read from, so a client generated from it reaches
/// the ledger that served it, behind any proxy.
pub fn document() -> serde_json::Value {
    let mut doc = super::api_router().split_for_parts().1;
    doc.servers = Some(vec![utoipa::openapi::server::Server::new("/")]);
    Conventions.modify(&mut doc);
    Links.modify(&mut doc);
    let mut json = serde_json::to_value(&doc).expect("the document serialises");
    spell_link_fields(&mut json);
    json
}

/// utoipa 5 writes a link's `operationId` as `operation_id` (its field name), which no
/// reader of OpenAPI knows: each link is respelled as the specification has it.
fn spell_link_fields(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else { return };
    let responses = paths.values_mut().filter_map(|item| item.as_object_mut()).flat_map(|item| item.values_mut());
    for op in responses {
        let Some(answers) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else { continue };
        for answer in answers.values_mut() {
            let Some(links) = answer.get_mut("links").and_then(|l| l.as_object_mut()) else { continue };
            for link in links.values_mut().filter_map(|l| l.as_object_mut()) {
                if let Some(id) = link.remove("operation_id") {
                    link.insert("operationId".into(), id);
                }
            }
        }
    }
}

/// `?limit=&cursor=` of every list, as `Query::page` reads them.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows per page (default 50).
    #[param(minimum = 1, maximum = 500, value_type = Option<i64>)]
    pub limit: i64,
    /// `next_cursor` of the previous page, unchanged: a cursor this list did not give out is
    /// refused (422 naming `cursor`).
    #[param(rename = "cursor", value_type = Option<String>, pattern = "^(?:[0-7][0-9a-fA-F])+\\.[0-9a-f]{16}$")]
    pub after: String,
}

impl PageQuery {
    /// The cursor as a numeric id, for lists keyed by id (`decode_cursor` checked its form).
    pub fn after_id(&self) -> i64 {
        self.after.parse().unwrap_or(0)
    }
}

/// `?bom=` of every CSV download.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BomQuery {
    /// `true`: start the CSV with a UTF-8 byte-order mark, which Excel needs to read UTF-8.
    /// Default `false`. Only with the CSV form: a JSON answer refuses `bom=true`.
    #[param(value_type = Option<bool>)]
    pub bom: bool,
}

/// `?partnership=` of the reports: whose ledger the report is of (`routes::reports::whose`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartnershipQuery {
    /// The partnership whose report it is, by code; default the caller's own. Only the home
    /// partnership's ledger is held in this service: a funder's user naming another
    /// partnership it funds is answered 404 saying its ledger is not held here, and a code
    /// the caller may not see is 404 as if there were none.
    #[param(value_type = Option<Code>)]
    pub partnership: Option<String>,
}

impl BomQuery {
    pub fn read(q: &mut super::input::Query) -> Self {
        BomQuery { bom: q.bool("bom").unwrap_or(false) }
    }
}

/// Declares the page of a list as its own named schema, `{items: [$ref item], next_cursor}`,
/// so the item is named once in components and every list refers to it.
macro_rules! page_schema {
    ($page:ident, $item:ty) => {
        #[doc = concat!("A page of `", stringify!($item), "`, and the cursor for the next.")]
        pub struct $page;
        impl PartialSchema for $page {
            fn schema() -> RefOr<Schema> {
                page_of(&<$item as ToSchema>::name())
            }
        }
        impl ToSchema for $page {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($page))
            }
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                schemas.push((<$item as ToSchema>::name().into_owned(), <$item as PartialSchema>::schema()));
                <$item as ToSchema>::schemas(schemas);
            }
        }
    };
}

fn page_of(item: &str) -> RefOr<Schema> {
    let cursor = ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some("The cursor of the next page (`?cursor=`); null on the last page."));
    ObjectBuilder::new()
        .description(Some("A page of a list, and the cursor for the next (`docs/api.md`, pagination)."))
        .property(
            "items",
            utoipa::openapi::schema::ArrayBuilder::new().items(utoipa::openapi::Ref::from_schema_name(item)),
        )
        .required("items")
        .property("next_cursor", cursor)
        .into()
}

page_schema!(EntryPage, crate::model::entries::EntryView);
page_schema!(AccountPage, crate::model::entries::AccountBalance);
page_schema!(CommitmentPage, crate::model::postings::CommitmentRecord);
page_schema!(VirementPage, crate::model::postings::VirementRecord);
page_schema!(AuditPage, crate::model::audit::AuditRecord);
page_schema!(TokenPage, crate::model::tokens::TokenInfo);
page_schema!(ReturnPage, crate::model::returns::FiledReturn);
page_schema!(FinancialYearPage, crate::model::reference::FinancialYearRecord);
page_schema!(FunderPage, crate::model::reference::Funder);
page_schema!(PriorityPage, crate::model::reference::Priority);
page_schema!(GrantPage, crate::model::reference::Grant);
page_schema!(AwardPage, crate::model::reference::AwardRecord);
page_schema!(ProjectPage, crate::model::reference::Project);
page_schema!(OrganisationPage, crate::model::reference::Organisation);
page_schema!(SpendProfilePage, crate::model::reports::SpendProfile);
page_schema!(ForecastPage, crate::model::monitoring::ForecastRecord);
page_schema!(IndicatorPage, crate::model::monitoring::IndicatorRecord);
page_schema!(PartnershipPage, crate::model::partnerships::Partnership);

/// What every route shares, added to each operation rather than repeated in each attribute:
/// - `/api/v1` routes take a bearer token: 401 without a valid one, and 429 once the address
///   has failed authentication too often;
/// - a route with parameters or a body answers 422 naming a bad field; with a body, 413 for
///   one too large;
/// - a write may answer 503 `busy` (nothing written; `Retry-After`);
/// - every error answer carries the Problem body, but a page's, which is a page (HTML).
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            let ops = [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("patch", &mut item.patch),
                ("put", &mut item.put),
                ("delete", &mut item.delete),
            ];
            for (method, op) in ops {
                if let Some(op) = op {
                    shared_answers(path, method, op);
                }
            }
        }
    }
}

fn problem() -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Problem")))).build()
}

fn html() -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(String::schema())).build()
}

fn shared_answers(path: &str, method: &str, op: &mut utoipa::openapi::path::Operation) {
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| ResponseBuilder::new().description(description).into());
    };
    if path.starts_with("/api/v1/") {
        add("401", "No token, or an unknown or revoked one (`unauthorized`).");
        add("429", "Too many failed authentications from this address (`rate_limited`); wait `Retry-After` seconds.");
    }
    let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty()) || path.contains('{');
    if has_params || op.request_body.is_some() {
        add(
            "422",
            "A field, parameter or path segment is missing, malformed or out of range (`validation_failed`, naming each).",
        );
    }
    if op.request_body.is_some() {
        add("413", "The body is larger than 16 MiB (`validation_failed`, naming `body`).");
    }
    if method == "post" && path.starts_with("/api/v1/") {
        add("409", "The `Idempotency-Key` was used before with a different request (`idempotency_conflict`).");
    }
    if method != "get" && path.starts_with("/api/v1/") {
        add(
            "503",
            "The write waited past its bound for a lock (`busy`); nothing was written; retry after `Retry-After`.",
        );
    }
    if method == "post" && path.starts_with("/api/v1/") {
        let key = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some("Replays the first answer to the same request under this key (docs/api.md)."))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[!-~]{1,255}$"))))
            .build();
        op.parameters.get_or_insert_with(Vec::new).push(key);
    }
    if path.starts_with("/api/v1/") {
        op.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    }
    // A page's errors are pages (`pages::errors`); the API's and the service's are problems.
    let page = super::pages::errors::is_page_path(path);
    for (status, response) in op.responses.responses.iter_mut() {
        if let (true, RefOr::T(r)) = (status.as_str() >= "400", response)
            && r.content.is_empty()
        {
            let (kind, content) = if page { ("text/html", html()) } else { ("application/problem+json", problem()) };
            r.content.insert(kind.into(), content);
        }
    }
}

/// A link's path parameters: each with where its value comes from, a field of the answer
/// (`$response.body#/code`) or a parameter of the request (`$request.path.grant`).
type Fill = &'static [(&'static str, &'static str)];

/// From a creating operation's answer to the operations that take what it created: each
/// `(operationId of the creator, link name, operationId of the user, its parameters)`. A
/// client (and schemathesis's stateful phase) follows them instead of guessing which field
/// fills which parameter.
const LINKS: &[(&str, &str, &str, Fill)] = &[
    ("create_year", "Quarters", "list_quarters", &[("fy", "$response.body#/code")]),
    ("create_year", "Close", "close_year", &[("fy", "$response.body#/code")]),
    ("create_year", "Reopen", "reopen_year", &[("fy", "$response.body#/code")]),
    ("create_grant", "Awards", "list_awards", &[("grant", "$response.body#/code")]),
    ("create_grant", "CreateAward", "create_award", &[("grant", "$response.body#/code")]),
    ("create_award", "PaymentSchedule", "get_schedule", AWARD),
    ("create_award", "SetPaymentSchedule", "put_schedule", AWARD),
    ("create_award", "YearEnd", "year_end", AWARD),
    ("create_project", "Project", "get_project", &[("code", "$response.body#/code")]),
    ("add_user", "Disable", "disable_user", &[("username", "$response.body#/username")]),
    ("create_project", "PatchProject", "patch_project", &[("code", "$response.body#/code")]),
    ("create_project", "Indicators", "list_indicators", &[("code", "$response.body#/code")]),
    ("create_project", "CreateIndicator", "create_indicator", &[("code", "$response.body#/code")]),
    ("create_organisation", "Organisation", "get_organisation", &[("code", "$response.body#/code")]),
    ("create_organisation", "PatchOrganisation", "patch_organisation", &[("code", "$response.body#/code")]),
    ("commit", "Commitment", "get_commitment", COMMITMENT),
    ("commit", "Release", "release", COMMITMENT),
    ("commit", "Part", "commit_part", COMMITMENT),
    ("commit", "Evidence", "evidence", COMMITMENT),
    (
        "evidence",
        "ReverseEvidence",
        "reverse_evidence",
        &[("id", "$response.body#/commitment_id"), ("evidence_id", "$response.body#/id")],
    ),
    ("vire", "Virement", "get_virement", VIREMENT),
    ("vire", "Approve", "approve", VIREMENT),
    ("vire", "Reject", "reject", VIREMENT),
    ("record_forecast", "Withdraw", "withdraw_forecast", &[("id", "$response.body#/id")]),
    ("record_indicator_return", "Withdraw", "withdraw_indicator_return", &[("id", "$response.body#/id")]),
    ("file_return", "Return", "get_return", &[("id", "$response.body#/id")]),
    ("file_return", "Changes", "return_changes", &[("id", "$response.body#/id")]),
    ("file_return", "File", "return_file", &[("id", "$response.body#/id")]),
    ("create_import", "Import", "get_import", &[("id", "$response.body#/id")]),
    ("create_import", "Confirm", "confirm_import", &[("id", "$response.body#/id")]),
    ("create_import", "Reverse", "reverse_import", &[("id", "$response.body#/id")]),
    ("create_funder", "Admins", "create_funder_admin", &[("code", "$response.body#/code")]),
    ("create_partnership", "Admins", "create_partnership_admin", &[("code", "$response.body#/code")]),
];
// No link from a token's creation to its revocation: a creation replayed under its
// `Idempotency-Key` after the token was revoked names that token again, whose revocation is
// then 404, and schemathesis 4.32.5 reports that as a record "just created" and missing,
// whatever the operation's checks say.
const AWARD: Fill = &[("grant", "$request.path.grant"), ("fy", "$response.body#/financial_year")];
const COMMITMENT: Fill = &[("id", "$response.body#/commitment_id")];
const VIREMENT: Fill = &[("id", "$response.body#/virement_id")];

/// Operations whose answer names the entry they posted (`entry_id`): each links to that
/// entry and to its reversal.
const POSTING: &[&str] = &[
    "allocate",
    "commit",
    "commit_part",
    "release",
    "spend",
    "refund",
    "reverse",
    "create_award",
    "year_end",
    "receipt",
    "repayment",
    "vire",
    "approve",
];

/// Only a 201 has posted its entry: a virement awaiting approval (202) has none yet.
const ENTRY_LINKS: &[(&str, &str, Fill)] = &[
    ("Entry", "get_entry", &[("id", "$response.body#/entry_id")]),
    ("ReverseEntry", "reverse", &[("id", "$response.body#/entry_id")]),
];

fn is_entry_link(name: &str) -> bool {
    ENTRY_LINKS.iter().any(|(n, ..)| *n == name)
}

/// Adds `LINKS`, and the entry links of `POSTING`, to the 2xx answers of their operations.
struct Links;

impl Modify for Links {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let mut wanted: Vec<(&str, &str, &str, Fill)> = LINKS.to_vec();
        for from in POSTING {
            wanted.extend(ENTRY_LINKS.iter().map(|(name, to, params)| (*from, *name, *to, *params)));
        }
        for item in doc.paths.paths.values_mut() {
            for op in
                [&mut item.get, &mut item.post, &mut item.patch, &mut item.put, &mut item.delete].into_iter().flatten()
            {
                let id = op.operation_id.clone().unwrap_or_default();
                for (status, response) in op.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else { continue };
                    if !status.starts_with('2') {
                        continue;
                    }
                    let entry_posted = status == "201";
                    let links =
                        wanted.iter().filter(|(from, name, ..)| *from == id && (entry_posted || !is_entry_link(name)));
                    for (_, name, to, params) in links {
                        let mut link = utoipa::openapi::link::LinkBuilder::new().operation_id(*to);
                        for (param, value) in *params {
                            link = link.parameter(*param, *value);
                        }
                        response.links.insert((*name).to_owned(), link.build().into());
                    }
                }
            }
        }
    }
}
