//! The desk's project, receipt and forecast forms in a real browser: a project recorded
//! from the dashboard's Record menu, refused first for a code already taken, read on its page
//! and closed there; a receipt from the funder read on its entry's page; a forecast refused
//! without the reason its rating needs, then recorded.

use super::axe::assert_accessible;
use super::cdp::Page;
use super::forms_postings::{set, value};

fn submit(page: &Page, action: &str, what: &str) {
    page.navigating(what, |p| p.click(&format!("form[action='{action}'] button[type=submit]")));
}

#[test]
fn a_person_records_a_project_a_receipt_and_a_forecast() {
    let Some((ledger, _browser, page)) = super::seeded_and_signed_in("/dashboard?financial_year=2023-24") else {
        return;
    };

    // A project, from the Record menu: a code already taken is refused, the values kept.
    super::open_from_record_menu(&page, &ledger, "projects", "Record a project");
    assert_accessible(&page, "the project form");
    for (field, text) in
        [("#code", "P1"), ("#name", "Street <pastors>"), ("#priority", "ASB"), ("#lead_organisation", "Churches")]
    {
        page.type_into(field, text);
    }
    submit(&page, "/projects", "sending a taken code");
    assert!(page.text("[role=alert]").contains("There is a problem"), "{}", page.html());
    assert_eq!(value(&page, "#name"), "Street <pastors>", "kept");
    assert_accessible(&page, "the project form refused for a taken code");
    set(&page, "#code", "P7");
    submit(&page, "/projects", "sending the project");
    assert_eq!(page.location(), ledger.url("/projects/P7"), "{}", page.html());
    assert_eq!(page.text("#project-name"), "Street <pastors>");
    assert_eq!(page.text("#project-status"), "active");
    assert_accessible(&page, "the project's page");

    // Closed from its page.
    page.navigating("opening the status form", |p| p.click("#project-status-change"));
    assert_eq!(page.location(), ledger.url("/projects/P7/status"));
    assert_accessible(&page, "the project's status form");
    set(&page, "#status", "closed");
    submit(&page, "/projects/P7/status", "closing the project");
    assert_eq!(page.location(), ledger.url("/projects/P7"));
    assert_eq!(page.text("#project-status"), "closed");

    // A receipt from the funder, read on its entry's page.
    page.goto(&ledger.url("/receipts/new"));
    assert_eq!(page.text("h1"), "Record a receipt from the funder");
    assert_accessible(&page, "the receipt form");
    for (field, text) in
        [("#grant", "LDF"), ("#financial_year", "2023-24"), ("#amount", "25000"), ("#reference", "REM 2023/1")]
    {
        page.type_into(field, text);
    }
    set(&page, "#date", "2023-05-02");
    submit(&page, "/receipts", "sending the receipt");
    assert!(page.location().starts_with(&ledger.url("/entries/")), "to the entry: {}", page.html());
    assert_eq!(page.text("#entry-kind"), "receipt");

    // A forecast: an amber rating needs its reason.
    page.goto(&ledger.url("/forecasts/new"));
    assert_eq!(page.text("h1"), "Record a forecast");
    assert_accessible(&page, "the forecast form");
    for (field, text) in [
        ("#grant", "LDF"),
        ("#financial_year", "2023-24"),
        ("#quarter", "2"),
        ("#project", "P1"),
        ("#forecast_outturn", "11000"),
        ("#explanation", "Summer scheme started late"),
    ] {
        page.type_into(field, text);
    }
    set(&page, "#progress_rag", "amber");
    set(&page, "#made_on", "2023-08-15");
    submit(&page, "/forecasts", "sending the forecast without its reason");
    assert!(page.text("#rag_reason-error").len() > 5, "{}", page.html());
    assert_eq!(value(&page, "#forecast_outturn"), "11000", "kept");
    assert_accessible(&page, "the forecast form refused");
    page.type_into("#rag_reason", "Behind profile after Q2");
    submit(&page, "/forecasts", "sending the forecast");
    assert_eq!(page.location(), ledger.url("/dashboard?financial_year=2023-24"), "{}", page.html());
}
