//! The OpenAPI 3.1 document, built from one table of routes. The same table drives the
//! role-matrix test, and a test checks every routed path is in it, so the document cannot
//! quietly fall behind the router.

use serde_json::{Map, Value, json};

use super::auth::Need;

/// How a field is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Text,
    Code,
    Money,
    Date,
    Year,
    Id,
}

/// One route, as documented.
#[derive(Debug)]
pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// None for the public routes.
    pub need: Option<Need>,
    /// Body fields: name, type, required.
    pub body: &'static [(&'static str, Ty, bool)],
    pub query: &'static [&'static str],
    pub ok: u16,
}

use Ty::*;

const PAGE: &[&str] = &["limit", "cursor"];

pub const ROUTES: &[RouteDoc] = &[
    RouteDoc { method: "GET", path: "/healthz", summary: "Liveness", need: None, body: &[], query: &[], ok: 200 },
    RouteDoc {
        method: "GET",
        path: "/openapi.json",
        summary: "This document",
        need: None,
        body: &[],
        query: &[],
        ok: 200,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/financial-years",
        summary: "List financial years",
        need: Some(Need::ReadReference),
        body: &[],
        query: PAGE,
        ok: 200,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/financial-years",
        summary: "Set up a financial year",
        need: Some(Need::Admin),
        body: &[("code", Year, true)],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/financial-years/{fy}/close",
        summary: "Close a financial year",
        need: Some(Need::Admin),
        body: &[],
        query: &[],
        ok: 200,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/funders",
        summary: "List funders",
        need: Some(Need::ReadReference),
        body: &[],
        query: PAGE,
        ok: 200,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/funders",
        summary: "Create a funder",
        need: Some(Need::Admin),
        body: &[("code", Code, true), ("name", Text, true)],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/priorities",
        summary: "List priorities",
        need: Some(Need::ReadReference),
        body: &[],
        query: PAGE,
        ok: 200,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/priorities",
        summary: "Create a priority",
        need: Some(Need::Approver),
        body: &[("code", Code, true), ("name", Text, true), ("description", Text, false)],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/grants",
        summary: "List grants",
        need: Some(Need::ReadReference),
        body: &[],
        query: PAGE,
        ok: 200,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/grants",
        summary: "Create a grant",
        need: Some(Need::Approver),
        body: &[
            ("code", Code, true),
            ("name", Text, true),
            ("funder", Code, true),
            ("restricted_to_priority", Code, false),
            ("on_overspend", Text, false),
        ],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/grants/{grant}/awards",
        summary: "List a grant's awards with allocated and unallocated",
        need: Some(Need::ReadReference),
        body: &[],
        query: PAGE,
        ok: 200,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/grants/{grant}/awards",
        summary: "Record an award",
        need: Some(Need::Approver),
        body: &[
            ("financial_year", Year, true),
            ("amount", Money, true),
            ("awarded_on", Date, true),
            ("reference", Text, false),
        ],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/projects",
        summary: "List projects",
        need: Some(Need::ReadReference),
        body: &[],
        query: PAGE,
        ok: 200,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/projects",
        summary: "Create a project",
        need: Some(Need::Approver),
        body: &[
            ("code", Code, true),
            ("name", Text, true),
            ("priority", Code, true),
            ("lead_organisation", Text, false),
            ("description", Text, false),
            ("status", Text, false),
        ],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/projects/{code}",
        summary: "Get a project",
        need: Some(Need::ReadReference),
        body: &[],
        query: &[],
        ok: 200,
    },
    RouteDoc {
        method: "PATCH",
        path: "/api/v1/projects/{code}",
        summary: "Change a project",
        need: Some(Need::Approver),
        body: &[
            ("name", Text, false),
            ("priority", Code, false),
            ("lead_organisation", Text, false),
            ("description", Text, false),
            ("status", Text, false),
        ],
        query: &[],
        ok: 200,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/allocations",
        summary: "Allocate award money to a project",
        need: Some(Need::Approver),
        body: &[
            ("grant", Code, true),
            ("financial_year", Year, true),
            ("project", Code, true),
            ("amount", Money, true),
            ("approved_on", Date, true),
            ("approval_ref", Text, true),
            ("memo", Text, false),
        ],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/virements",
        summary: "Move budget between projects of one award",
        need: Some(Need::Approver),
        body: &[
            ("grant", Code, true),
            ("financial_year", Year, true),
            ("from_project", Code, true),
            ("to_project", Code, true),
            ("amount", Money, true),
            ("approved_on", Date, true),
            ("approval_ref", Text, true),
            ("reason", Text, true),
        ],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/commitments",
        summary: "Record a commitment",
        need: Some(Need::Finance),
        body: &[
            ("grant", Code, true),
            ("financial_year", Year, true),
            ("project", Code, true),
            ("supplier", Text, true),
            ("reference", Text, false),
            ("amount", Money, true),
            ("date", Date, true),
            ("memo", Text, false),
        ],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/commitments",
        summary: "List commitments with what is outstanding",
        need: Some(Need::ReadLedger),
        body: &[],
        query: &["project", "open", "limit", "cursor"],
        ok: 200,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/commitments/{id}/release",
        summary: "Release unused commitment",
        need: Some(Need::Finance),
        body: &[("date", Date, true), ("amount", Money, true), ("reason", Text, true)],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/spend",
        summary: "Record spend",
        need: Some(Need::Finance),
        body: &[
            ("grant", Code, true),
            ("project", Code, true),
            ("date", Date, true),
            ("supplier", Text, true),
            ("description", Text, true),
            ("invoice_ref", Text, false),
            ("amount", Money, true),
            ("commitment_id", Id, false),
            ("source_ref", Text, false),
        ],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/refunds",
        summary: "Record a refund or credit note",
        need: Some(Need::Finance),
        body: &[
            ("grant", Code, true),
            ("project", Code, true),
            ("date", Date, true),
            ("amount", Money, true),
            ("reference", Text, false),
            ("reason", Text, true),
        ],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/entries/{id}/reverse",
        summary: "Reverse an entry (role follows the entry's kind)",
        need: Some(Need::Finance),
        body: &[("date", Date, true), ("reason", Text, true)],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/entries",
        summary: "List entries with postings",
        need: Some(Need::ReadLedger),
        body: &[],
        query: &["financial_year", "grant", "project", "kind", "from", "to", "limit", "cursor"],
        ok: 200,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/entries/{id}",
        summary: "Get an entry",
        need: Some(Need::ReadLedger),
        body: &[],
        query: &[],
        ok: 200,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/accounts",
        summary: "List account balances",
        need: Some(Need::ReadLedger),
        body: &[],
        query: &["grant", "financial_year", "project", "limit", "cursor"],
        ok: 200,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/tokens",
        summary: "List tokens (no secrets)",
        need: Some(Need::Admin),
        body: &[],
        query: PAGE,
        ok: 200,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/tokens",
        summary: "Create a token; the secret is shown once",
        need: Some(Need::Admin),
        body: &[("name", Text, true), ("role", Text, true)],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "DELETE",
        path: "/api/v1/tokens/{id}",
        summary: "Revoke a token",
        need: Some(Need::Admin),
        body: &[],
        query: &[],
        ok: 204,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/spend-profiles",
        summary: "List projects' quarterly spend plans (percent of budget per quarter)",
        need: Some(Need::ReadReference),
        body: &[],
        query: &["financial_year", "grant"],
        ok: 200,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/spend-profiles",
        summary: "Set a project's quarterly spend plan for an award; q1..q4 sum to 100",
        need: Some(Need::Approver),
        body: &[
            ("grant", Code, true),
            ("financial_year", Year, true),
            ("project", Code, true),
            ("q1", Text, true),
            ("q2", Text, true),
            ("q3", Text, true),
            ("q4", Text, true),
        ],
        query: &[],
        ok: 201,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/reports/variance",
        summary: "Variance report per project and grant, with subtotals; JSON or CSV",
        need: Some(Need::ReadReference),
        body: &[],
        query: &["financial_year", "as_at", "grant", "format"],
        ok: 200,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/reports/quarterly",
        summary: "Actual spend per quarter per project, priority and grant; JSON or CSV",
        need: Some(Need::ReadReference),
        body: &[],
        query: &["financial_year", "grant", "format"],
        ok: 200,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/reports/multi-year",
        summary: "One grant across its award years, with cumulative figures",
        need: Some(Need::ReadReference),
        body: &[],
        query: &["grant"],
        ok: 200,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/exports/commissioner-return",
        summary: "The Commissioner's return for a quarter, as CSV",
        need: Some(Need::ReadReference),
        body: &[],
        query: &["financial_year", "quarter", "bom"],
        ok: 200,
    },
    RouteDoc {
        method: "POST",
        path: "/api/v1/imports/spend",
        summary: "Import spend from a CSV body (text/csv), all or nothing",
        need: Some(Need::Finance),
        body: &[],
        query: &["dry_run", "mapping", "grant"],
        ok: 200,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/exports/journal",
        summary: "The whole ledger as an hledger or beancount journal",
        need: Some(Need::ReadReference),
        body: &[],
        query: &["format"],
        ok: 200,
    },
    RouteDoc {
        method: "GET",
        path: "/api/v1/exports/transparency",
        summary: "Spend over £500 as the Transparency Code CSV",
        need: Some(Need::ReadReference),
        body: &[],
        query: &["from", "to"],
        ok: 200,
    },
];

/// The HTML pages for the partnership group: cookie sessions, not bearer tokens, so they
/// are documented here but not driven by the bearer-token role matrix.
pub const PAGES: &[(&str, &str, &str)] = &[
    ("GET", "/", "Redirects to the dashboard"),
    ("GET", "/sign-in", "The sign-in form"),
    ("POST", "/sign-in", "Sign in with a token (form field token); sets the session cookie"),
    ("POST", "/sign-out", "Sign out: deletes the session and clears the cookie"),
    ("GET", "/dashboard", "The dashboard for a financial year (session cookie)"),
    ("GET", "/dashboard/variance.csv", "The variance report as CSV (session cookie)"),
    ("GET", "/dashboard/commissioner-return.csv", "The Commissioner's return as CSV (session cookie)"),
    ("GET", "/assets/dashboard.css", "The dashboard's stylesheet"),
];

fn schema(ty: Ty) -> Value {
    match ty {
        Text => json!({ "type": "string" }),
        Code => json!({ "type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$" }),
        Money => {
            json!({ "type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,2})?$", "description": "pounds as a decimal string, at most 1000000000" })
        }
        Date => json!({ "type": "string", "format": "date" }),
        Year => json!({ "type": "string", "pattern": "^[0-9]{4}[-/][0-9]{2}$", "examples": ["2023-24"] }),
        Id => json!({ "type": "integer", "minimum": 1 }),
    }
}

fn problem_ref() -> Value {
    json!({ "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } })
}

/// Builds the document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for r in ROUTES {
        let mut op = Map::new();
        op.insert("summary".into(), r.summary.into());
        op.insert("operationId".into(), format!("{} {}", r.method.to_lowercase(), r.path).into());
        let mut params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        params.extend(
            r.query
                .iter()
                .map(|q| json!({ "name": q, "in": "query", "required": false, "schema": { "type": "string" } })),
        );
        if r.method == "POST" && r.need.is_some() {
            params.push(json!({ "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string", "maxLength": 255 } }));
        }
        if !params.is_empty() {
            op.insert("parameters".into(), params.into());
        }
        if !r.body.is_empty() {
            let props: Map<String, Value> = r.body.iter().map(|(n, t, _)| ((*n).to_owned(), schema(*t))).collect();
            let required: Vec<&str> = r.body.iter().filter(|(_, _, req)| *req).map(|(n, _, _)| *n).collect();
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "additionalProperties": false, "properties": props, "required": required } } } }),
            );
        }
        if r.path == "/api/v1/imports/spend" {
            // The one body that is not JSON: the CSV file itself.
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "text/csv": { "schema": { "type": "string" } } } }),
            );
        }
        let mut responses = Map::new();
        responses.insert(
            r.ok.to_string(),
            json!({ "description": "success", "content": { "application/json": { "schema": { "type": "object" } } } }),
        );
        if r.ok == 204 {
            responses.insert(r.ok.to_string(), json!({ "description": "done" }));
        }
        if r.need.is_some() {
            for (status, what) in [
                ("401", "no token, or an unknown one"),
                ("403", "the role may not do this"),
                ("422", "a field is invalid"),
            ] {
                responses.insert(status.into(), json!({ "description": what, "content": problem_ref() }));
            }
            op.insert("security".into(), json!([{ "bearer": [] }]));
        }
        if r.method != "GET" && r.need.is_some() {
            responses
                .insert("409".into(), json!({ "description": "refused by a ledger rule", "content": problem_ref() }));
            responses.insert("404".into(), json!({ "description": "not found", "content": problem_ref() }));
        }
        op.insert("responses".into(), responses.into());
        let item = paths.entry(r.path.to_owned()).or_insert_with(|| Value::Object(Map::new()));
        item.as_object_mut().expect("path items are objects").insert(r.method.to_lowercase(), op.into());
    }
    for (method, path, summary) in PAGES {
        let op = json!({ "summary": summary, "tags": ["pages"], "operationId": format!("{} {path}", method.to_lowercase()),
                         "responses": { "200": { "description": "an HTML page, CSV or stylesheet" },
                                        "303": { "description": "a redirect (to sign in, or after signing in or out)" } } });
        let item = paths.entry((*path).to_owned()).or_insert_with(|| Value::Object(Map::new()));
        item.as_object_mut().expect("path items are objects").insert(method.to_lowercase(), op);
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "grant-ledger", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Budgetary double-entry ledger for community safety partnership grants." },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": { "Problem": { "type": "object", "required": ["type", "title", "status", "detail", "code", "errors"],
                "properties": {
                    "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
                    "detail": { "type": "string" },
                    "code": { "type": "string", "enum": ["validation_failed", "unauthorized", "forbidden", "not_found", "conflict",
                        "over_allocation", "overspend", "restricted_fund", "period_closed", "already_reversed", "idempotency_conflict",
                        "rate_limited", "busy", "method_not_allowed", "internal"] },
                    "errors": { "type": "array", "items": { "type": "object", "properties": {
                        "field": { "type": "string" }, "message": { "type": "string" } } } } } } }
        }
    })
}
