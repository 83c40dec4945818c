//! Errors on the pages are pages: a person reads what went wrong and finds a way back, never
//! the API's problem+json. Handlers and extractors answer `AppError` as the API does; the
//! layer `problems_as_pages` turns each such answer on a page route into an HTML page with
//! the same status, the same message and the same `Retry-After` or `Allow`. Routes under
//! `/api/`, `/openapi.json`, `/healthz` and `/docs` keep their answers.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::html::page as frame;

/// True for a path a person reaches with a browser: everything but the API and the service.
pub fn is_page_path(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path == "/api"
        || path == "/openapi.json"
        || path == "/healthz"
        || path == "/docs"
        || path.starts_with("/docs/"))
}

/// An error page: `heading` and `lines` as text, followed by the way back.
pub fn page(status: StatusCode, heading: &str, lines: &[String]) -> Response {
    let body = html! {
        main class="narrow" id="content" tabindex="-1" {
            h1 { (heading) }
            @for line in lines { p { (line) } }
            p class="back" {
                a id="back-dashboard" href="/dashboard" { "Back to the dashboard" }
                " · "
                a id="back-sign-in" href="/sign-in" { "Sign in" }
            }
        }
    };
    super::page_response(status, frame(&format!("{heading} · grant-ledger"), body))
}

/// The parts of a problem a page shows.
#[derive(Deserialize, Default)]
struct Problem {
    #[serde(default)]
    detail: String,
    #[serde(default)]
    errors: Vec<FieldProblem>,
}

#[derive(Deserialize)]
struct FieldProblem {
    field: String,
    message: String,
}

/// What a person is told for each status, before the problem's own words.
fn heading(status: StatusCode) -> (&'static str, Option<&'static str>) {
    match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            ("Something asked for is not right", Some("Nothing was changed. Correct it and try again."))
        }
        StatusCode::UNAUTHORIZED => {
            ("Not signed in", Some("Sign in with your username and password, or your access token."))
        }
        StatusCode::FORBIDDEN => (
            "Not allowed",
            Some(
                "Your role may not do this, your session has ended (sign in again), or the form did not come from this ledger. Nothing was changed.",
            ),
        ),
        StatusCode::NOT_FOUND => ("Not found", Some("There is no page or record at this address.")),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("Not a page to open this way", Some("Use the page's own links and buttons."))
        }
        StatusCode::CONFLICT => ("Refused by a rule of the ledger", Some("Nothing was changed.")),
        StatusCode::PAYLOAD_TOO_LARGE => ("Too large", Some("Nothing was changed.")),
        StatusCode::TOO_MANY_REQUESTS => (
            "Too many failed sign-ins",
            Some("Sign-in from this address is paused for a while; nothing you type is checked until then."),
        ),
        StatusCode::SERVICE_UNAVAILABLE => ("The ledger is busy", Some("Nothing was changed. Try again in a moment.")),
        s if s.is_server_error() => ("Something went wrong", Some("It has been logged. Nothing was changed.")),
        _ => ("This could not be done", None),
    }
}

/// Renders a problem+json answer to a page route as a page; every other answer passes.
pub async fn problems_as_pages(req: Request, next: Next) -> Response {
    let page_route = is_page_path(req.uri().path());
    let response = next.run(req).await;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !page_route || !is_problem {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Problems are small: a field list at most.
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let problem: Problem = serde_json::from_slice(&bytes).unwrap_or_default();
    let (title, advice) = heading(parts.status);
    let mut lines: Vec<String> = Vec::new();
    if problem.errors.is_empty() {
        // A route that matched nothing says "route not found": the heading says it better.
        if !problem.detail.is_empty() && problem.detail != "route not found" {
            lines.push(sentence(&problem.detail));
        }
    } else {
        // The field keeps its name as the form and the address spell it.
        lines.extend(problem.errors.iter().map(|e| full_stop(format!("{}: {}", e.field, e.message))));
    }
    lines.extend(advice.map(str::to_owned));
    let mut page = page(parts.status, title, &lines);
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(v) = parts.headers.get(&name) {
            page.headers_mut().insert(name, v.clone());
        }
    }
    page
}

/// The message with a capital and a full stop, as a line of the page.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let first: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    full_stop(first + chars.as_str())
}

fn full_stop(mut text: String) -> String {
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_everything_but_the_api_and_the_service() {
        for page in ["/", "/sign-in", "/dashboard", "/dashboard/variance.csv", "/nonsense", "/apiary"] {
            assert!(is_page_path(page), "{page}");
        }
        for api in ["/api/v1/funders", "/api/v2/x", "/api", "/openapi.json", "/healthz", "/docs", "/docs/index.html"] {
            assert!(!is_page_path(api), "{api}");
        }
    }

    #[test]
    fn messages_read_as_sentences() {
        assert_eq!(sentence("financial year 2031-32 not found"), "Financial year 2031-32 not found.");
        assert_eq!(sentence("Done."), "Done.");
    }
}
