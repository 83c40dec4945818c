//! The pages in a real browser, as a person uses them: headless Chromium, driven over the
//! DevTools protocol (`cdp`), against the real binary on a loopback port (`ledger`). A
//! person opens the dashboard, is sent to sign in, types the token and presses Enter, reads
//! the figures, meets an error page and finds the way back, and signs out with the button.
//! A form on another site cannot sign anyone in.
//!
//! Without Chromium the tests say so and pass, except under `CI`, where they fail.
//! Screenshots of the pages go to `target/tmp/browser/`.

mod admin_pages;
mod axe;
mod cdp;
mod county;
mod forms;
mod forms_desk;
mod forms_postings;
mod imports;
mod ledger;
mod lists;
mod meeting;
mod quarter;
mod schedule;
mod users;
mod virements;

use cdp::{Browser, Page};
use ledger::{ADMIN_TOKEN, Ledger, chromium_or_skip, screenshot_path, temp_dir};
use serde_json::json;

/// The text of the element that starts at the first match of `start`, up to `end`.
fn between<'a>(dom: &'a str, start: &str, end: &str) -> &'a str {
    let i = dom.find(start).unwrap_or_else(|| panic!("{start} not in the rendered page:\n{dom}"));
    let rest = &dom[i..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

fn has_session(page: &Page, ledger: &Ledger) -> bool {
    page.cookies(&ledger.url("/")).iter().any(|(name, _)| name == "gl_session")
}

/// Opens `path`, is sent to the sign-in form, types the admin token, presses Enter and is
/// brought back to `path`.
fn sign_in_to(page: &Page, ledger: &Ledger, path: &str) {
    page.goto(&ledger.url(path));
    assert!(page.location().starts_with(&ledger.url("/sign-in?next=")), "sent to sign in: {}", page.location());
    assert_eq!(page.text("h1"), "Sign in");
    page.type_into("#token", ADMIN_TOKEN);
    page.navigating("signing in", Page::press_enter);
    assert_eq!(page.location(), ledger.url(path), "{}", page.html());
}

/// A seeded ledger (`Ledger::seed`) and a browser whose page has signed in and is on `path`:
/// where a test of the pages begins. None without Chromium (`chromium_or_skip`). Keep the
/// browser bound until the test ends: dropping it ends the page.
fn seeded_and_signed_in(path: &str) -> Option<(Ledger, Browser, Page)> {
    let chromium = chromium_or_skip()?;
    let ledger = Ledger::start(&[]);
    ledger.seed();
    let browser = Browser::launch(&chromium, temp_dir("profile"));
    let page = browser.new_page();
    sign_in_to(&page, &ledger, path);
    Some((ledger, browser, page))
}

/// Opens the form `/NAME/new` from the dashboard's Record menu, as a person does, and checks
/// it is the form titled `title`.
fn open_from_record_menu(page: &Page, ledger: &Ledger, name: &str, title: &str) {
    page.navigating(&format!("opening the {name} form"), |p| p.click(&format!("#record-{name}")));
    assert_eq!(page.location(), ledger.url(&format!("/{name}/new")));
    assert_eq!(page.text("h1"), title);
}

#[test]
fn a_person_signs_in_reads_the_dashboard_meets_an_error_and_signs_out() {
    let Some(chromium) = chromium_or_skip() else { return };
    let ledger = Ledger::start(&[]);
    ledger.seed();
    let browser = Browser::launch(&chromium, temp_dir("profile"));
    let page = browser.new_page();

    // The dashboard asks for a session first.
    page.goto(&ledger.url("/dashboard?financial_year=2023-24"));
    assert_eq!(page.location(), ledger.url("/sign-in?next=/dashboard%3Ffinancial_year%3D2023-24"));
    assert_eq!(page.text("h1"), "Sign in");
    assert_eq!(page.text("label[for=token]"), "Access token");

    // A wrong token: the form again, saying so, and no session.
    page.type_into("#token", "gl_a_wrong_token_that_is_long_enough_to_be_a_guess");
    page.navigating("signing in with a wrong token", Page::press_enter);
    assert_eq!(page.location(), ledger.url("/sign-in"));
    assert_eq!(page.text("[role=alert]"), "That token is not valid.");
    assert_eq!(page.text("#token-error"), "That token is not valid.");
    assert!(!has_session(&page, &ledger));
    page.screenshot(&screenshot_path("sign-in-wrong-token"));

    // The right token, typed into the same form, and Enter.
    page.type_into("#token", ADMIN_TOKEN);
    page.navigating("signing in", Page::press_enter);
    assert_eq!(page.location(), ledger.url("/dashboard?financial_year=2023-24"));
    assert!(has_session(&page, &ledger));
    assert!(page.cookies(&ledger.url("/sign-in")).iter().all(|(n, _)| n != "gl_sign_in"), "done with");
    let dom = page.html();
    assert_eq!(page.text("h1"), "Budget report 2023-24");
    assert!(page.text(".meta").contains("Signed in as admin (GRANT_LEDGER_ADMIN_TOKEN)"));
    // Headline totals.
    assert_eq!(page.text("#headline-awarded"), "£61,394.00");
    assert_eq!(page.text("#headline-allocated"), "£20,000.00");
    assert_eq!(page.text("#headline-actual"), "£9,000.50");
    assert_eq!(page.text("#headline-unallocated"), "£41,394.00");
    // The variance table, with escaped names, figures, and RAG by word and colour class.
    let table = between(&dom, "<table id=\"variance\"", "</table>");
    let p1 = between(table, "data-project=\"P1\"", "</tr>");
    assert!(p1.contains("Youth &lt;diversion&gt; &amp; sport"), "{p1}");
    for cell in ["£12,000.00", "£3,000.50", "£8,999.50", "25.0%", "<td class=\"rag rag-red\">Red</td>"] {
        assert!(p1.contains(cell), "P1 row lacks {cell}: {p1}");
    }
    let d1 = between(table, "data-project=\"D1\"", "</tr>");
    for cell in ["£8,000.00", "£6,000.00", "£2,000.00", "75.0%", "<td class=\"rag rag-amber\">Amber</td>"] {
        assert!(d1.contains(cell), "D1 row lacks {cell}: {d1}");
    }
    let total = between(table, "<tr id=\"variance-total\">", "</tr>");
    assert!(total.contains("£20,000.00") && total.contains("£9,000.50") && total.contains("45.0%"), "{total}");
    // The charts, drawn as SVG with their figures and a text alternative.
    let bars = between(&dom, "<svg id=\"chart-priorities\"", "</svg>");
    assert!(bars.contains("data-value=\"12000.00\"") && bars.contains("data-value=\"3000.50\""), "{bars}");
    assert!(bars.contains("Anti-Social Behaviour: Budget £12000.00, Actual £3000.50"), "{bars}");
    let quarters = between(&dom, "<svg id=\"chart-quarters\"", "</svg>");
    assert!(quarters.contains("Q1 £0.00; Q2 £3000.50; Q3 £6000.00; Q4 £0.00"), "{quarters}");
    // The browser drew them: each chart has a size on the page.
    for chart in ["#chart-priorities", "#chart-quarters"] {
        let area = page.eval(&format!(
            "(() => {{ const r = document.querySelector({}).getBoundingClientRect(); return r.width * r.height; }})()",
            json!(chart)
        ));
        assert!(area.as_f64().unwrap_or(0.0) > 1000.0, "{chart} is drawn: {area}");
    }
    assert!(page.exists("a[href='/dashboard/variance.csv?financial_year=2023-24']"));
    let size = page.screenshot(&screenshot_path("dashboard"));
    assert!(size > 10_000, "a screenshot of a whole dashboard: {size} bytes");

    // An error page: readable, with the way back, which works.
    page.goto(&ledger.url("/dashboard?financial_year=2023-24&as_at=nonsense"));
    assert_eq!(page.text("h1"), "Something asked for is not right");
    assert!(page.text("main").contains("as_at: must be a date written YYYY-MM-DD."), "{}", page.text("main"));
    page.screenshot(&screenshot_path("error-as-at"));
    page.navigating("back to the dashboard", |p| p.click("#back-dashboard"));
    assert_eq!(page.location(), ledger.url("/dashboard"));
    assert!(page.text("h1").starts_with("Budget report"), "{}", page.text("h1"));
    page.goto(&ledger.url("/no-such-page"));
    assert_eq!(page.text("h1"), "Not found");
    assert!(page.text("main").contains("There is no page or record at this address."));
    assert!(page.exists("a#back-sign-in[href='/sign-in']"));

    // Sign out with the dashboard's button: the session ends.
    page.goto(&ledger.url("/dashboard?financial_year=2023-24"));
    page.navigating("signing out", |p| p.click(".signout button"));
    assert_eq!(page.location(), ledger.url("/sign-in"));
    assert_eq!(page.text("h1"), "Sign in");
    assert!(!has_session(&page, &ledger));
    page.goto(&ledger.url("/dashboard"));
    assert_eq!(page.location(), ledger.url("/sign-in?next=/dashboard"), "signed out");
}

/// A page on another origin of the same host (so the browser sends its cookies with the
/// post) whose form posts the admin token and a guessed form token to the ledger's sign-in.
fn forged_page(ledger: &Ledger) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>Win a prize</title></head><body><h1>Win a prize</h1>\
         <form method=\"post\" action=\"{}\">\
         <input type=\"hidden\" name=\"token\" value=\"{ADMIN_TOKEN}\">\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{}\">\
         <input type=\"hidden\" name=\"next\" value=\"/dashboard\">\
         <button id=\"claim\" type=\"submit\">Claim</button></form></body></html>",
        ledger.url("/sign-in"),
        "0".repeat(64)
    )
}

#[test]
fn a_form_on_another_site_cannot_sign_anyone_in() {
    let Some(chromium) = chromium_or_skip() else { return };
    let ledger = Ledger::start(&[]);
    let browser = Browser::launch(&chromium, temp_dir("profile"));
    let page = browser.new_page();
    // The person has had the sign-in page open, so the browser holds its pre-session
    // cookie, and sends it with a post from another port of the same host.
    page.goto(&ledger.url("/sign-in"));
    assert!(page.cookies(&ledger.url("/sign-in")).iter().any(|(n, _)| n == "gl_sign_in"));

    // A site that sends its own Origin, and one that hides it (`Origin: null`): the first is
    // refused for its origin, the second because it cannot know this browser's form token.
    for (headers, why) in [
        ("", "This form was sent from another site"),
        ("Referrer-Policy: no-referrer\r\n", "This form did not come from this ledger's own page in this browser"),
    ] {
        let port = ledger::other_site(forged_page(&ledger), headers);
        page.goto(&format!("http://127.0.0.1:{port}/"));
        assert_eq!(page.text("h1"), "Win a prize");
        page.navigating("the forged post", |p| p.click("#claim"));
        assert_eq!(page.location(), ledger.url("/sign-in"));
        assert_eq!(page.text("h1"), "This form was not accepted", "{}", page.html());
        assert!(page.text("main").contains(why), "{headers:?}: {}", page.text("main"));
        assert!(page.exists("a#back-sign-in[href='/sign-in']"));
        assert!(!has_session(&page, &ledger), "{headers:?}: no session");
        page.screenshot(&screenshot_path(if headers.is_empty() { "forged-origin" } else { "forged-null-origin" }));
    }
    page.goto(&ledger.url("/dashboard"));
    assert!(page.location().starts_with(&ledger.url("/sign-in")), "still signed out");
}

/// On the demo data as at 2023-12-31 the headline and the spend per quarter agree (the Q4
/// spend of 2024-01-22 is in neither), the officer's forecast and an indicator show, and
/// without a year the page opens on a year with an award.
#[test]
fn as_at_page_agrees_with_itself_on_the_demo_data() {
    let Some(chromium) = chromium_or_skip() else { return };
    let ledger = Ledger::start(&["--demo"]);
    ledger.post(
        "/api/v1/forecasts",
        json!({ "grant": "LDF", "financial_year": "2023-24", "quarter": 3, "project": "DEMO-DA-IDVA",
                "forecast_outturn": "18500", "explanation": "Two cases moved to the county service",
                "progress_rag": "amber", "rag_reason": "Referrals below plan", "made_on": "2023-12-15" }),
    );
    ledger.post(
        "/api/v1/projects/DEMO-DA-IDVA/indicators",
        json!({ "code": "CASES", "name": "Cases supported", "unit": "people", "financial_year": "2023-24",
                "baseline": "0", "target": "40", "quarterly_targets": ["10", "10", "10", "10"] }),
    );
    for (quarter, actual) in [(1, "12"), (2, "9"), (3, "11")] {
        ledger.post(
            "/api/v1/indicator-returns",
            json!({ "project": "DEMO-DA-IDVA", "indicator": "CASES", "financial_year": "2023-24",
                    "quarter": quarter, "actual": actual }),
        );
    }
    let browser = Browser::launch(&chromium, temp_dir("profile"));
    let page = browser.new_page();
    sign_in_to(&page, &ledger, "/dashboard?financial_year=2023-24&as_at=2023-12-31");

    let dom = page.html();
    assert_eq!(page.text("h1"), "Budget report 2023-24");
    // Demo spend to 2023-12-31: 5000 (Q1); 5000 + 6500 (Q2); 1250.50 (Q3). The 3900 of
    // 2024-01-22 is after the date.
    assert_eq!(page.text("#headline-actual"), "£17,750.50");
    let quarters = between(&dom, "<table class=\"chart-data\" id=\"quarters\"", "</table>");
    let total = between(quarters, "<tfoot>", "</tfoot>");
    for cell in ["£5,000.00", "£11,500.00", "£1,250.50", "£0.00", "£17,750.50"] {
        assert!(total.contains(&format!("<td class=\"num\">{cell}</td>")), "quarter total lacks {cell}: {total}");
    }
    let chart = between(&dom, "<svg id=\"chart-quarters\"", "</svg>");
    assert!(chart.contains("Q1 £5000.00; Q2 £11500.00; Q3 £1250.50; Q4 £0.00"), "{chart}");
    // The officer's forecast and the indicator: 10000 spent by DEMO-DA-IDVA over 12 + 9 + 11 cases.
    let forecasts = between(&dom, "<table id=\"forecasts\"", "</table>");
    assert!(forecasts.contains("£18,500.00") && forecasts.contains("£1,500.00"), "{forecasts}");
    assert!(forecasts.contains("Two cases moved to the county service") && forecasts.contains("Amber"), "{forecasts}");
    let indicators = between(&dom, "<table id=\"indicators\"", "</table>");
    for cell in ["Cases supported", "<td class=\"num\">30</td>", "<td class=\"num\">32</td>", "£312.50"] {
        assert!(indicators.contains(cell), "indicators lack {cell}: {indicators}");
    }

    // Without a year: the year holding today if it has an award, else the latest with one.
    // The demo's awards run to 2024-25 and today is later, so it opens on 2024-25: the
    // other branches are tests/api/default_year.rs's, which fix today.
    let expected = "2024-25";
    page.goto(&ledger.url("/dashboard"));
    assert_eq!(page.text("h1"), format!("Budget report {expected}"), "opens on {expected}");
    assert_ne!(page.text("h1"), "Budget report 2025-26", "2025-26 has no award");
}
