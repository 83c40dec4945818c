//! The allocation form in a real browser: from the dashboard's link, typed into, sent, on to
//! the entry's page; then refused by the ledger's rule and for bad fields, with the figures
//! and each message beside its field, and the values kept.

use serde_json::json;

use super::cdp::Page;
use super::forms_postings::value;
use super::ledger::screenshot_path;

/// Empties the field matching `selector`, then types `text` into it.
fn retype(page: &Page, selector: &str, text: &str) {
    page.eval(&format!("document.querySelector({}).value = ''", json!(selector)));
    page.type_into(selector, text);
}

#[test]
fn a_person_records_an_allocation_from_the_dashboard_and_reads_the_refusals() {
    let Some((ledger, _browser, page)) = super::seeded_and_signed_in("/dashboard?financial_year=2023-24") else {
        return;
    };

    super::open_from_record_menu(&page, &ledger, "allocations", "Record an allocation");
    assert!(page.text("label[for=grant]").starts_with("Grant"), "{}", page.text("label[for=grant]"));
    for (field, text) in [
        ("#grant", "LDF"),
        ("#financial_year", "2023-24"),
        ("#project", "P1"),
        ("#amount", "250.00"),
        ("#approval_ref", "CSP minute 9"),
        ("#memo", "Summer <scheme> & more"),
    ] {
        page.type_into(field, text);
    }
    // A date field takes its value from the browser's date picker, not from typed text.
    page.eval("document.querySelector('#approved_on').value = '2023-06-01'");
    page.screenshot(&screenshot_path("allocation-form"));
    page.navigating("sending the allocation", |p| p.click("form[action='/allocations'] button[type=submit]"));
    let location = page.location();
    assert!(location.starts_with(&ledger.url("/entries/")), "to the entry: {location}\n{}", page.html());
    let id = location.rsplit('/').next().unwrap();
    assert_eq!(page.text("h1"), format!("Entry {id}"));
    assert_eq!(page.text("#entry-kind"), "allocation");
    assert_eq!(page.text("#entry-project"), "P1");
    assert_eq!(page.text("#entry-approval_ref"), "CSP minute 9");
    assert_eq!(page.text("#entry-memo"), "Summer <scheme> & more");
    assert_eq!(page.text("#entry-created-by"), "admin (GRANT_LEDGER_ADMIN_TOKEN)");
    assert!(page.text("#postings").contains("available:LDF:2023-24:P1"), "{}", page.text("#postings"));
    assert!(page.text("#postings").contains("£250.00"), "{}", page.text("#postings"));
    page.screenshot(&screenshot_path("entry"));

    // More than is unallocated (61,394 awarded; 12,000 + 8,000 + 250 allocated).
    page.goto(&ledger.url("/allocations/new"));
    for (field, text) in [
        ("#grant", "LDF"),
        ("#financial_year", "2023-24"),
        ("#project", "D1"),
        ("#amount", "50000"),
        ("#approval_ref", "CSP minute 10"),
    ] {
        page.type_into(field, text);
    }
    page.eval("document.querySelector('#approved_on').value = '2023-06-02'");
    page.navigating("sending an over-allocation", |p| p.click("form[action='/allocations'] button[type=submit]"));
    assert_eq!(page.location(), ledger.url("/allocations"));
    assert!(page.text("[role=alert]").contains("There is a problem"), "{}", page.text("[role=alert]"));
    assert_eq!(page.text("#figure-unallocated"), "£41,144.00");
    assert_eq!(page.text("#figure-requested"), "£50,000.00");
    assert_eq!(value(&page, "#amount"), "50000", "kept");
    assert_eq!(value(&page, "#approved_on"), "2023-06-02", "kept");
    page.screenshot(&screenshot_path("allocation-over"));

    // Bad fields: each message beside its field, and the summary links to it.
    retype(&page, "#amount", "12.345");
    page.eval("document.querySelector('#approval_ref').value = ''");
    page.navigating("sending bad fields", |p| p.click("form[action='/allocations'] button[type=submit]"));
    assert!(!page.text("#amount-error").is_empty());
    assert_eq!(page.text("#approval_ref-error"), "is required");
    let described = page.eval("document.querySelector('#amount').getAttribute('aria-describedby')");
    assert!(described.as_str().unwrap_or_default().split(' ').any(|i| i == "amount-error"), "{described}");
    assert!(page.exists("[role=alert] a[href='#amount']") && page.exists("[role=alert] a[href='#approval_ref']"));
    assert_eq!(value(&page, "#project"), "D1", "kept");
    page.screenshot(&screenshot_path("allocation-bad-fields"));

    // Corrected, it records.
    retype(&page, "#amount", "1000");
    page.type_into("#approval_ref", "CSP minute 10");
    page.navigating("sending the corrected form", |p| p.click("form[action='/allocations'] button[type=submit]"));
    assert!(page.location().starts_with(&ledger.url("/entries/")), "{}", page.html());
    assert_eq!(page.text("#entry-project"), "D1");
}
